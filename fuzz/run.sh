#!/bin/sh
# fuzz/run.sh BUILD WORK HARNESS [libFuzzer options...]
#
# Run one harness built by fuzz/build.sh into BUILD with the settings used
# for the long runs (doc/fuzzing.md): the seed corpus of fuzz/corpus/ is
# read, new inputs go to WORK/corpus-HARNESS, crashes to WORK/art-HARNESS/,
# the log to WORK/HARNESS.log.  Extra arguments go to libFuzzer, e.g.
#   fuzz/run.sh fuzz-build /tmp/fz stream -runs=10000000
set -eu
if [ $# -lt 3 ]; then
    echo "usage: $0 BUILD WORK HARNESS [libFuzzer options...]" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$1 WORK=$2 H=$3
shift 3
mkdir -p "$WORK/corpus-$H" "$WORK/art-$H"
seeds="$HERE/corpus/$H"
case $H in
check | convert) seeds="$seeds $HERE/corpus/stream" ;;
esac
case $H in
armcpu) max_len=2048 ;;
*) max_len=8192 ;;
esac
# Short allocation stacks: json-c allocates a lot, and full stacks halve
# the speed; a leak report still names the library frame.
ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=10:detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
# shellcheck disable=SC2086
exec "$BUILD/fuzz_$H" "$WORK/corpus-$H" $seeds \
    -dict="$HERE/vmstream.dict" -max_len=$max_len -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$WORK/art-$H/" "$@" > "$WORK/$H.log" 2>&1
