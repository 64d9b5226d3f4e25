#!/bin/bash
# bench/run.sh [-r REPEAT] [-d BENCH_DIR] [STREAM] - vmstream benchmark on a
# big stream.  Builds nothing: it runs $VMSTREAM as it finds it, and prints
# whatever it could measure when vmstream (or python3, or the analyze
# script) is missing.  See bench/README.md.
#
# Environment:
#   VMSTREAM     the binary (default: ../vmstream next to this directory)
#   BENCH_DIR    work dir (default: bench/out, git-ignored); the big stream
#                is BENCH_DIR/big.mig unless STREAM is given, the 64-vCPU
#                stream BENCH_DIR/smp64.mig, the analyze script
#                BENCH_DIR/tools/analyze-migration.py
#   BENCH_REPEAT runs per measurement (3); best and median are reported
#   BENCH_NO_MAKE=1  do not generate missing streams / fetch the script
#   ANALYZE      path of a (patched) analyze-migration.py to use instead

set -u
here=$(cd "$(dirname "$0")" && pwd)
REPEAT=${BENCH_REPEAT:-3}
BENCH_DIR=${BENCH_DIR:-$here/out}
while [ $# -gt 0 ]; do
    case $1 in
    -r) REPEAT=$2; shift 2 ;;
    -d) BENCH_DIR=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) break ;;
    esac
done
mkdir -p "$BENCH_DIR"
BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
BIG=${1:-$BENCH_DIR/big.mig}
SMP64=$BENCH_DIR/smp64.mig
VMSTREAM=${VMSTREAM:-$here/../vmstream}
ANALYZE=${ANALYZE:-$BENCH_DIR/tools/analyze-migration.py}
GTIME=/usr/bin/time
RES=$BENCH_DIR/results.tsv
say() { printf '%s\n' "$*" >&2; }

# --- inputs -----------------------------------------------------------------
if [ ! -f "$BIG" ] && [ -z "${BENCH_NO_MAKE:-}" ]; then
    say "run.sh: $BIG missing; generating it with bench/make-big-stream.sh"
    "$here/make-big-stream.sh" "$BIG" || say "run.sh: could not generate $BIG"
fi
if [ ! -f "$SMP64" ] && [ -z "${BENCH_NO_MAKE:-}" ]; then
    "$here/make-big-stream.sh" -64 "$SMP64" >/dev/null 2>&1 ||
        say "run.sh: could not generate $SMP64 (latency part skipped)"
fi
if [ ! -f "$ANALYZE" ] && [ -z "${BENCH_NO_MAKE:-}" ] && command -v python3 >/dev/null 2>&1; then
    say "run.sh: fetching analyze-migration.py (bench/get-analyze.sh)"
    "$here/get-analyze.sh" "$(dirname "$ANALYZE")" >/dev/null 2>"$BENCH_DIR/get-analyze.log" ||
        say "run.sh: get-analyze.sh failed (see $BENCH_DIR/get-analyze.log)"
fi
[ -f "$BIG" ] || { say "run.sh: no stream $BIG"; exit 1; }

have_vms="" have_py="" have_an="" have_gtime=""
[ -x "$VMSTREAM" ] && have_vms=1
command -v python3 >/dev/null 2>&1 && have_py=1
[ -n "$have_py" ] && [ -f "$ANALYZE" ] && have_an=1
[ -x "$GTIME" ] && "$GTIME" -f %M true >/dev/null 2>&1 && have_gtime=1

q() { printf '%q' "$1"; }
size=$(stat -c %s "$BIG")
vms=$(q "$VMSTREAM") big=$(q "$BIG") an=$(q "$ANALYZE") rssf=$BENCH_DIR/.rss
# T: prefix that records the peak RSS (KiB) of the process it wraps
if [ -n "$have_gtime" ]; then T="$GTIME -f %M -o $(q "$rssf")"; else T=""; fi

# --- measuring ---------------------------------------------------------------
declare -A BEST MED RSS STAT
# measure KEY SIZE CMD - run CMD (eval'd in this shell) REPEAT times
measure() {
    local key=$1 bytes=$2 cmd=$3 i t0 t1 rc r=() rss=""
    for i in $(seq 1 "$REPEAT"); do
        rm -f "$rssf"
        t0=$(date +%s%N)
        eval "$cmd" 2>"$BENCH_DIR/$key.stderr"
        rc=$?
        t1=$(date +%s%N)
        if [ $rc -ne 0 ]; then
            STAT[$key]="failed (exit $rc): $(tail -n1 "$BENCH_DIR/$key.stderr")"
            return 1
        fi
        r+=($((t1 - t0)))
        [ -s "$rssf" ] && rss=$(tail -n1 "$rssf")
    done
    mapfile -t r < <(printf '%s\n' "${r[@]}" | sort -n)
    BEST[$key]=${r[0]}
    MED[$key]=${r[$(((${#r[@]} - 1) / 2))]}
    RSS[$key]=$rss
    STAT[$key]=ok
    printf '%s\t%s\t%s\t%s\t%s\n' "$key" "${BEST[$key]}" "${MED[$key]}" "$bytes" "$rss" >>"$RES"
}
secs() { awk -v n="$1" 'BEGIN { printf "%.3f", n / 1e9 }'; }
mbps() { awk -v b="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.0f", b / 1e6 / (n / 1e9); else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

printf 'key\tbest_ns\tmedian_ns\tbytes\tpeak_rss_kib\n' >"$RES"
say "run.sh: warming the page cache ($size bytes)"
cat "$BIG" >/dev/null

keys=() labels=()
add() { keys+=("$1"); labels+=("$2"); }   # KEY LABEL (report order)
skip() { STAT[$1]="skipped: $2"; }

add cat_file "cat big > /dev/null"
measure cat_file "$size" "$T cat $big > /dev/null"

add vms_info "vmstream info big"
if [ -n "$have_vms" ]; then measure vms_info "$size" "$T $vms info $big > /dev/null"
else skip vms_info "no $VMSTREAM"; fi

add vms_info_hash "vmstream info --hash-ram big (reads every page)"
if [ -n "$have_vms" ]; then measure vms_info_hash "$size" "$T $vms info --hash-ram $big > /dev/null"
else skip vms_info_hash "no $VMSTREAM"; fi

add vms_info_pipe "cat big | vmstream info -"
if [ -n "$have_vms" ]; then measure vms_info_pipe "$size" "cat $big | $T $vms info - > /dev/null"
else skip vms_info_pipe "no $VMSTREAM"; fi

add analyze "analyze-migration.py -f big (-d state)"
if [ -n "$have_an" ]; then measure analyze "$size" "$T python3 $an -f $big > /dev/null"
elif [ -z "$have_py" ]; then skip analyze "no python3"
else skip analyze "no $ANALYZE (bench/get-analyze.sh)"; fi

add pipe_cat "cat big | cat > /dev/null"
measure pipe_cat "$size" "cat $big | $T cat > /dev/null"

add pipe_vms "cat big | vmstream convert --to v23 - - > /dev/null"
if [ -n "$have_vms" ]; then measure pipe_vms "$size" "cat $big | $T $vms convert --to v23 - - > /dev/null"
else skip pipe_vms "no $VMSTREAM"; fi

if [ -f "$SMP64" ]; then
    s64=$(q "$SMP64") size64=$(stat -c %s "$SMP64")
    cat "$SMP64" >/dev/null
    add cat_64 "64 vCPUs: cat smp64 | cat > /dev/null"
    measure cat_64 "$size64" "cat $s64 | $T cat > /dev/null"
    add pipe_64 "64 vCPUs: cat smp64 | vmstream convert --to v23 - -"
    if [ -n "$have_vms" ]; then measure pipe_64 "$size64" "cat $s64 | $T $vms convert --to v23 - - > /dev/null"
    else skip pipe_64 "no $VMSTREAM"; fi
fi

# --- report --------------------------------------------------------------------
echo "vmstream benchmark: $(basename "$BIG") $size bytes, $REPEAT runs each, $(nproc) cores, page cache warm"
if [ -n "$have_vms" ]; then
    echo "vmstream: $VMSTREAM ($("$VMSTREAM" --version 2>/dev/null | head -n1))"
else
    echo "vmstream: $VMSTREAM (missing)"
fi
printf '%-58s %9s %9s %8s %10s\n' "what" "best s" "median s" "MB/s" "peak RSS"
for i in "${!keys[@]}"; do
    k=${keys[$i]}
    if [ "${STAT[$k]:-}" = ok ]; then
        b=$size
        case $k in *_64) b=$size64 ;; esac
        rss=${RSS[$k]:-}
        printf '%-58s %9s %9s %8s %10s\n' "${labels[$i]}" "$(secs "${BEST[$k]}")" \
            "$(secs "${MED[$k]}")" "$(mbps "$b" "${BEST[$k]}")" \
            "${rss:+$(awk -v k="$rss" 'BEGIN { printf "%.1f MiB", k / 1024 }')}"
    else
        printf '%-58s %s\n' "${labels[$i]}" "${STAT[$k]:-not run}"
    fi
done
echo "ratios (best times):"
r() {   # LABEL KEY_A KEY_B -> A / B
    if [ "${STAT[$2]:-}" = ok ] && [ "${STAT[$3]:-}" = ok ]; then
        printf '  %-52s %s\n' "$1" "$(ratio "${BEST[$2]}" "${BEST[$3]}")"
    else
        printf '  %-52s %s\n' "$1" "n/a"
    fi
}
r "vmstream info / cat file" vms_info cat_file
r "analyze-migration.py / vmstream info" analyze vms_info
r "analyze-migration.py / vmstream info --hash-ram" analyze vms_info_hash
r "analyze-migration.py / cat big | vmstream info -" analyze vms_info_pipe
r "analyze-migration.py / cat file" analyze cat_file
r "pipe: vmstream convert / cat (slowdown)" pipe_vms pipe_cat
r "64 vCPUs pipe: vmstream convert / cat" pipe_64 cat_64
if [ "${STAT[pipe_64]:-}" = ok ] && [ "${STAT[cat_64]:-}" = ok ]; then
    printf '  %-52s %s ms\n' "64 vCPUs: added time (convert - cat)" \
        "$(awk -v a="${BEST[pipe_64]}" -v b="${BEST[cat_64]}" 'BEGIN { printf "%.2f", (a - b) / 1e6 }')"
fi
if [ -f "$SMP64" ] && [ -n "$have_vms" ] && command -v cc > /dev/null; then
    # Time from the last input byte to the last output byte (bench/latency.c).
    cc -O2 -o "$BENCH_DIR/latency" "$(dirname "$0")/latency.c"
    for cmd in cat "$VMSTREAM convert --to v23 - -"; do
        # 21 runs: one scheduling hiccup on a small VM is a millisecond
        # shellcheck disable=SC2086
        stats=$(for _ in $(seq 21); do
                    "$BENCH_DIR/latency" "$SMP64" $cmd |
                        sed 's/.*latency \([0-9.]*\) ms.*/\1/'
                done | sort -n | awk '{ a[NR] = $1 }
                    END { printf "best %s ms, median %s ms", a[1], a[11] }')
        printf '  %-52s %s
' "64 vCPUs: last byte in -> last byte out, ${cmd%% *}" "$stats"
    done
fi
echo "raw numbers: $RES"
