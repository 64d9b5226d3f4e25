#!/bin/bash
# bench/forensics.sh [-r REPEAT] [STREAM] - throughput and peak RSS of
# `vmstream extract` and `vmstream core` on a big stream, against `cp` of
# the same file.  Default STREAM: bench/out/big.mig (bench/make-big-stream.sh:
# 1 GiB of random RAM held by -machine memory-backend=mem, so the RAM block
# is named "mem"; core gets --map mem=0x40000000).
#
# Prints one line per run and a summary: wall and CPU (user+sys) seconds,
# peak RSS, and throughput ratios cp/extract and cp/core (wall and CPU).
# Output goes to a temporary directory next to STREAM, removed at the end.
# Environment: VMSTREAM (default ../vmstream; use a plain -O2 build).
set -u
here=$(cd "$(dirname "$0")" && pwd)
REPEAT=3
while [ $# -gt 0 ]; do
    case $1 in
    -r) REPEAT=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) break ;;
    esac
done
BIG=${1:-$here/out/big.mig}
VMSTREAM=${VMSTREAM:-$here/../vmstream}
[ -f "$BIG" ] || { echo "no stream $BIG (bench/make-big-stream.sh makes one)" >&2; exit 1; }
T=$(mktemp -d "$(dirname "$BIG")/forensics.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
cat "$BIG" >/dev/null        # warm the page cache

# run KEY CMD...: one timed run -> "KEY wall cpu rss_kib"
run() {
    local key=$1 out
    shift
    out=$(/usr/bin/time -f '%e %U %S %M' "$@" 2>&1 >/dev/null | tail -n1)
    set -- $out
    printf "%s %s %s %s\n" "$key" "$1" "$(awk -v u="$2" -v s="$3" "BEGIN { print u + s }")" "$4"
}
for i in $(seq 1 "$REPEAT"); do
    rm -rf "$T/x" "$T/copy" "$T/core"
    run cp cp "$BIG" "$T/copy"
    rm -f "$T/copy"
    run cp_sync sh -c "cp '$BIG' '$T/copy' && sync '$T/copy'"
    rm -f "$T/copy"
    run extract "$VMSTREAM" extract "$BIG" "$T/x"
    rm -rf "$T/x"
    run core "$VMSTREAM" core --map mem=0x40000000 "$BIG" "$T/core"
    rm -f "$T/core"
done | tee "$T/runs"
echo "# best of $REPEAT (wall s, cpu s, peak RSS KiB); uptime: $(uptime | sed 's/.*load/load/')"
for k in cp cp_sync extract core; do
    awk -v k="$k" '$1 == k { if (!n || $2 < w) w = $2; if (!n || $3 < c) c = $3; if ($4 > r) r = $4; n++ }
        END { printf "%-8s %6.2f %6.2f %7d\n", k, w, c, r }' "$T/runs"
done | tee "$T/best"
awk '{ w[$1] = $2; c[$1] = $3 }
    END { printf "ratio cp/extract: wall %.2f cpu %.2f; cp/core: wall %.2f cpu %.2f; cp_sync/extract wall %.2f\n",
          w["cp"] / w["extract"], c["cp"] / c["extract"], w["cp"] / w["core"], c["cp"] / c["core"],
          w["cp_sync"] / w["extract"] }' "$T/best"
