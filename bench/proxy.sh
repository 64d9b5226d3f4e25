#!/bin/bash
# bench/proxy.sh [-r REPEAT] [-d BENCH_DIR] - `vmstream proxy` throughput
# and memory (bench/README.md, "proxy").  Builds nothing but bench/netpipe.c;
# measures whatever $VMSTREAM is (use a plain -O2 build, not the sanitizer
# build of `make check`).
#
# 1. A 1 GiB stream over loopback TCP: `netpipe send` (sendfile of
#    BENCH_DIR/big.mig, made by make-big-stream.sh if missing) to `netpipe
#    recv`, directly, through socat (its default 8 KiB buffer, and -b 1 MiB)
#    and through `vmstream proxy --to v23` / `--to v22`: best and median
#    receive time of REPEAT runs, MB/s, peak RSS of the forwarder.
# 2. A running guest with 1 GiB of RAM (guest.elf, RAM backed by a file of
#    random bytes so that every page travels), multifd with 4 channels,
#    max-bandwidth 1 TiB/s: the source's total-time and downtime, directly
#    and through one `vmstream proxy --to v22` hop, and the proxy's peak
#    RSS.
#
# Environment: VMSTREAM (default ../vmstream), BENCH_DIR (bench/out),
# BENCH_REPEAT (3), QEMU_AARCH64, BENCH_NO_GUEST=1 (skip part 2).

set -u
here=$(cd "$(dirname "$0")" && pwd)
REPEAT=${BENCH_REPEAT:-3}
BENCH_DIR=${BENCH_DIR:-$here/out}
while [ $# -gt 0 ]; do
    case $1 in
    -r) REPEAT=$2; shift 2 ;;
    -d) BENCH_DIR=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) break ;;
    esac
done
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
BIG=$BENCH_DIR/big.mig
VMSTREAM=${VMSTREAM:-$here/../vmstream}
GTIME=/usr/bin/time
RES=$BENCH_DIR/proxy-results.tsv
say() { printf '%s\n' "$*" >&2; }
now_ns() { date +%s%N; }

for t in "$VMSTREAM" socat cc "$GTIME"; do
    command -v "$t" >/dev/null 2>&1 || { say "proxy.sh: $t missing"; exit 1; }
done
if [ ! -f "$BIG" ]; then
    say "proxy.sh: $BIG missing; generating it with bench/make-big-stream.sh"
    "$here/make-big-stream.sh" "$BIG" || { say "proxy.sh: could not generate $BIG"; exit 1; }
fi
NP=$BENCH_DIR/netpipe
cc -O2 -o "$NP" "$here/netpipe.c" || exit 1
W=$(mktemp -d "${TMPDIR:-/tmp}/vms-bench-proxy.XXXXXX")
trap 'rm -rf "$W"' EXIT
SIZE=$(stat -c %s "$BIG")
printf 'key\tbest_ms\tmedian_ms\tbytes\tpeak_rss_kib\tcpu_s\n' >"$RES"
cat "$BIG" >/dev/null    # page cache

# wait_line FILE PATTERN: until FILE has a line matching PATTERN (60 s)
wait_line() {
    local i
    for i in $(seq 1 3000); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.02
    done
    return 1
}

# wait_listen PORT: until a TCP socket listens on PORT (60 s)
wait_listen() {
    local i hex
    hex=$(printf '%04X' "$1")
    for i in $(seq 1 3000); do
        grep -q ": [0-9A-F]*:$hex 00000000:0000 0A" /proc/net/tcp && return 0
        sleep 0.02
    done
    return 1
}

# one_run MODE -> "MS RSS CPU" (receive time of the whole stream; peak RSS
# and user+system CPU seconds of the forwarder)
one_run() {
    local mode=$1 rp fp="" p f ms rss=- cpu=-
    "$NP" recv 0 >"$W/recv" &
    rp=$!
    wait_line "$W/recv" '^port ' || { say "netpipe recv did not start"; return 1; }
    p=$(sed -n 's/^port //p' "$W/recv")
    case $mode in
    direct) f=$p ;;
    socat|socat-1m)
        f=$("$NP" port)
        local b=()
        [ "$mode" = socat-1m ] && b=(-b 1048576)
        "$GTIME" -f '%M %U %S' -o "$W/rss" socat "${b[@]}" "TCP-LISTEN:$f,reuseaddr" \
            "TCP:127.0.0.1:$p" &
        fp=$!
        # socat serves one connection: no probing it, look for its listener
        wait_listen "$f" || { say "socat did not listen on $f"; return 1; }
        ;;
    proxy-v23|proxy-v22)
        : >"$W/perr"
        "$GTIME" -f '%M %U %S' -o "$W/rss" "$VMSTREAM" proxy -q --to "${mode#proxy-}" \
            tcp:127.0.0.1:0 "tcp:127.0.0.1:$p" 2>"$W/perr" &
        fp=$!
        wait_line "$W/perr" 'listening on' || { say "proxy did not listen: $(cat "$W/perr")"; return 1; }
        f=$(sed -n 's/.*listening on tcp:127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$W/perr")
        ;;
    esac
    "$NP" send "$f" "$BIG" || return 1
    [ -n "$fp" ] && { wait "$fp" || { say "$mode failed: $(cat "$W/perr" 2>/dev/null)"; return 1; }; }
    wait "$rp"
    ms=$(sed -n 's/^bytes [0-9]* ms //p' "$W/recv")
    if [ -n "$fp" ]; then
        read -r rss u sy < <(tail -n1 "$W/rss")
        cpu=$(awk -v u="$u" -v s="$sy" 'BEGIN {print u + s}')
    fi
    echo "$ms $rss $cpu"
}

# stats of numbers on stdin: "best median"
best_median() { sort -g | awk '{a[NR] = $1} END {print a[1], a[int((NR + 1) / 2)]}'; }

declare -A BEST MED RSS CPU
say "== 1. a $SIZE-byte stream over loopback TCP ($REPEAT runs each)"
for mode in direct socat socat-1m proxy-v23 proxy-v22; do
    : >"$W/times"
    : >"$W/cpus"
    rss=-
    for _ in $(seq 1 "$REPEAT"); do
        r=$(one_run "$mode") || { say "$mode: run failed"; continue; }
        read -r t rss c <<<"$r"
        echo "$t" >>"$W/times"
        echo "$c" >>"$W/cpus"
    done
    read -r b m < <(best_median <"$W/times")
    read -r cb cm < <(best_median <"$W/cpus")
    BEST[$mode]=$b MED[$mode]=$m RSS[$mode]=$rss CPU[$mode]=$cm
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$b" "$m" "$SIZE" "$rss" "$cm" >>"$RES"
    say "$(printf '%-10s best %8.1f ms  median %8.1f ms  %6.0f MB/s  peak RSS %s KiB  CPU %s s (median)' \
        "$mode" "$b" "$m" "$(awk -v s="$SIZE" -v t="$b" 'BEGIN {print s / t / 1000}')" "$rss" "$cm")"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
say "throughput ratio proxy --to v23 : socat (8 KiB) = $(ratio "${BEST[socat]}" "${BEST[proxy-v23]}"), : socat -b 1M = $(ratio "${BEST[socat-1m]}" "${BEST[proxy-v23]}") (best times; > 1 = the proxy is faster)"
say "throughput ratio proxy --to v23 : direct = $(ratio "${BEST[direct]}" "${BEST[proxy-v23]}"); medians: socat 1M $(ratio "${MED[socat-1m]}" "${MED[proxy-v23]}"), direct $(ratio "${MED[direct]}" "${MED[proxy-v23]}")"
say "CPU seconds of the forwarder (medians; less is better, and steadier than wall time on a busy machine): socat ${CPU[socat]}, socat -b 1M ${CPU[socat-1m]}, proxy --to v23 ${CPU[proxy-v23]}, --to v22 ${CPU[proxy-v22]}"

[ -n "${BENCH_NO_GUEST:-}" ] && exit 0

# ---------------------------------------------------------------------------
say "== 2. a running 1 GiB guest, multifd 4 channels ($REPEAT runs each)"
# shellcheck source=tests/integration/qemu.sh
. "$here/../tests/integration/qemu.sh"
# shellcheck source=tests/integration/qemu-net.sh
. "$here/../tests/integration/qemu-net.sh"
QEMU_TIMEOUT=120
qemu_init || exit 1
RND=$BENCH_DIR/ram-1g.rnd
if [ ! -f "$RND" ] || [ "$(stat -c %s "$RND")" -ne 1073741824 ]; then
    say "writing 1 GiB of random data to $RND"
    head -c 1073741824 /dev/urandom >"$RND" || exit 1
fi
# the proxy runs under GNU time for its peak RSS
cat >"$W/vms-rss" <<EOF
#!/bin/sh
exec $GTIME -f %M -a -o "$W/guest-rss" "$VMSTREAM" "\$@"
EOF
chmod +x "$W/vms-rss"
REAL_VMSTREAM=$VMSTREAM
GUEST=(-m 1G -x multifd -p '{"multifd-channels": 4}' -w 1099511627776
    -a -object -a "memory-backend-file,id=mem,size=1G,mem-path=$RND,share=off"
    -a -machine -a memory-backend=mem
    -A -object -A memory-backend-ram,id=mem,size=1G -A -machine -A memory-backend=mem)
for mode in direct proxy; do
    : >"$W/times"
    : >"$W/down"
    : >"$W/guest-rss"
    hop=()
    [ "$mode" = proxy ] && hop=(-P '--to v22')
    for _ in $(seq 1 "$REPEAT"); do
        VMSTREAM=$W/vms-rss qemu_net_migrate -T tcp "${GUEST[@]}" "${hop[@]}" >/dev/null
        if [ "$QEMU_NET_RESULT" != continues ]; then
            say "$mode: $QEMU_NET_RESULT: $QEMU_NET_REASON"
            continue
        fi
        echo "$QEMU_NET_TOTAL_MS" >>"$W/times"
        echo "$QEMU_NET_DOWNTIME_MS" >>"$W/down"
    done
    read -r b m < <(best_median <"$W/times")
    read -r db dm < <(best_median <"$W/down")
    rss=-
    [ "$mode" = proxy ] && rss=$(sort -n "$W/guest-rss" | tail -n1)
    printf 'guest-%s\t%s\t%s\t%s\t%s\t-\n' "$mode" "$b" "$m" 1073741824 "$rss" >>"$RES"
    say "$(printf '%-7s total-time best %6s ms median %6s ms; downtime median %s ms; proxy peak RSS %s KiB' \
        "$mode" "$b" "$m" "$dm" "$rss")"
    eval "G_$mode=$m"
done
VMSTREAM=$REAL_VMSTREAM
say "migration time through the proxy / direct (medians) = $(ratio "$G_proxy" "$G_direct")"
say "raw numbers: $RES"
