#!/bin/bash
# bench/make-big-stream.sh [OPTIONS] OUT - write a big migration stream
# with stock QEMU (never committed; regenerate it where you benchmark).
#
# Default: 1 GiB guest RAM entirely filled with random (non-zero, so every
# page travels as a full 4 KiB PAGE record) data, -M virt-7.2 -cpu
# cortex-a57 -smp 2, VM never started (-S):
#
#   head -c 1G /dev/urandom > RND
#   qemu-system-aarch64 -M virt-7.2 -cpu cortex-a57 -smp 2 -m 1G \
#     -object memory-backend-file,id=mem,size=1G,mem-path=RND,share=off \
#     -machine memory-backend=mem -S -nographic -display none \
#     -monitor none -serial none -qmp unix:SOCK,server=on,wait=off
#   QMP: qmp_capabilities; migrate-set-parameters {"max-bandwidth": 1 TiB/s};
#        migrate {"uri": "exec:cat > OUT"}; poll query-migrate
#
# The result is ~1.08 GB (1 GiB of pages + 8-byte record headers + device
# state + vmdesc).
#
# Options:
#   -s SMP     vCPUs (2).  More than 8 needs GICv3: gic-version=3 is added
#              to -M automatically.
#   -m MEM     guest RAM, QEMU syntax (1G)
#   -r SIZE    how much of RAM is random data, in MiB ("all" = whole RAM,
#              the default; 0 = plain RAM, mostly zero pages)
#   -c CPU     -cpu (cortex-a57)
#   -b BIN     QEMU binary ($QEMU_AARCH64 or qemu-system-aarch64)
#   -t SECS    migration timeout (600)
#   -64        shorthand for the latency stream: -s 64 -m 256M -r 0
#              (64 cpu sections, little RAM)
#
# Needs: QEMU (Debian qemu-system-arm), socat, coreutils, util-linux; uses
# tests/integration/qemu.sh for QMP.

set -u
here=$(cd "$(dirname "$0")" && pwd)
smp=2 mem=1G rnd=all cpu=cortex-a57 timeout=600
bin=${QEMU_AARCH64:-qemu-system-aarch64}
while [ $# -gt 1 ]; do
    case $1 in
    -s) smp=$2; shift 2 ;;
    -m) mem=$2; shift 2 ;;
    -r) rnd=$2; shift 2 ;;
    -c) cpu=$2; shift 2 ;;
    -b) bin=$2; shift 2 ;;
    -t) timeout=$2; shift 2 ;;
    -64) smp=64 mem=256M rnd=0; shift ;;
    --) shift; break ;;
    *) break ;;
    esac
done
out=${1:?usage: make-big-stream.sh [-s SMP] [-m MEM] [-r MiB|all] [-c CPU] [-b BIN] [-64] OUT}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
case $out in *\'*|*\\*|*\"*) echo "no quotes in OUT please" >&2; exit 2 ;; esac

# shellcheck source=tests/integration/qemu.sh
. "$here/../tests/integration/qemu.sh"
QEMU_TIMEOUT=$timeout
qemu_init || exit 2
say() { printf 'make-big-stream: %s\n' "$*" >&2; }
now() { date +%s%N; }

# RAM size in MiB from QEMU syntax (1G, 256M, 512)
case $mem in
*[Gg]) mem_mib=$((${mem%[Gg]} * 1024)) ;;
*[Mm]) mem_mib=${mem%[Mm]} ;;
*) mem_mib=$mem ;;
esac
[ "$rnd" = all ] && rnd=$mem_mib

machine=virt-7.2
[ "$smp" -gt 8 ] && machine=$machine,gic-version=3
args=(-M "$machine" -cpu "$cpu" -smp "$smp" -m "$mem" -S -nographic -serial none)
if [ "$rnd" -gt 0 ]; then
    rf=$(dirname "$out")/.big-stream-ram.$$
    say "writing $rnd MiB of random data to $rf"
    t0=$(now)
    # the backing file must be as big as RAM; the rest stays zero
    head -c "$((rnd * 1024 * 1024))" /dev/urandom >"$rf" || exit 1
    truncate -s "$((mem_mib * 1024 * 1024))" "$rf"
    say "  $(( ($(now) - t0) / 1000000 )) ms"
    trap 'qemu_cleanup; rm -f "$rf"' EXIT
    args+=(-object "memory-backend-file,id=mem,size=${mem_mib}M,mem-path=$rf,share=off"
        -machine memory-backend=mem)
fi

say "starting $bin ${args[*]}"
qemu_start big "$bin" "${args[@]}" || {
    say "QEMU did not start:"; cat "$(qemu_stderr big)" >&2; exit 1; }
qemu_qmp big migrate-set-parameters '{"max-bandwidth": 1099511627776}' >/dev/null ||
    { say "migrate-set-parameters failed"; exit 1; }
rm -f "$out"
t0=$(now)
qemu_qmp big migrate "{\"uri\": \"exec:cat > '$out'\"}" >/dev/null ||
    { say "migrate refused"; exit 1; }
st=$(qemu_wait_migration big "$timeout")
ms=$(( ($(now) - t0) / 1000000 ))
q=$(cat "$QEMU_WORKDIR/big/last-query-migrate" 2>/dev/null)
qemu_stop big
if [ "$st" != completed ]; then
    say "migration $st"; cat "$(qemu_stderr big)" >&2; exit 1
fi
size=$(stat -c %s "$out")
say "wrote $out: $size bytes in $ms ms (QEMU: $(printf '%s' "$q" | grep -o '"total-time": [0-9]*'), $(printf '%s' "$q" | grep -o '"downtime": [0-9]*'))"
# the QEMU command line, for the record (a destination needs the same RAM
# layout: same -m, and for -r > 0 a memory-backend-file of the same size)
{
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $("$bin" --version | head -n1)"
    printf '%q ' "$bin" "${args[@]}"; echo
    echo "size $size"
} >"$out.cmdline"
exit 0
