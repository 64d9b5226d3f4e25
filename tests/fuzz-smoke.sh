#!/bin/sh
# tests/fuzz-smoke.sh - build the libFuzzer harnesses (fuzz/build.sh), replay
# every file of the seed corpus (fuzz/corpus/, which keeps the reproducers of
# past findings), then fuzz each harness for a fixed number of runs from a
# fixed seed; any crash, leak, sanitizer report or failed property fails the
# test.  Seed and run count are fixed so that the test gives the same answer
# on every machine: exploring is for the long runs (doc/fuzzing.md).
#
# Environment: FUZZ_SMOKE_RUNS (runs per harness, default 50000),
# FUZZ_SMOKE_SEED (default 1), FUZZ_SMOKE_SECONDS (a time cap per harness,
# default 300, only against hangs), FUZZ_BUILD
# (default: $TOP_BUILDDIR/fuzz-build as "make fuzz" uses, else a directory
# under TMPDIR), TOP_SRCDIR (default: this script's tree), CC (default
# clang).  Exit 77 (skip) when clang/libFuzzer is not available.  Ends with
# "N passed, M failed".
set -u
HERE=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
SECS=${FUZZ_SMOKE_SECONDS:-300}
RUNS=${FUZZ_SMOKE_RUNS:-50000}
SEED=${FUZZ_SMOKE_SEED:-1}
if [ -n "${TOP_BUILDDIR:-}" ]; then
    BUILD=${FUZZ_BUILD:-$TOP_BUILDDIR/fuzz-build}
else
    BUILD=${FUZZ_BUILD:-${TMPDIR:-/tmp}/vmstream-fuzz-smoke}
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vmstream-fuzz-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PASSED=0
FAILED=0

sh "$HERE/fuzz/build.sh" "$HERE" "$BUILD" > "$WORK/build.log" 2>&1
rc=$?
if [ $rc -eq 77 ]; then
    cat "$WORK/build.log"
    echo "# skip: no clang with libFuzzer"
    exit 77
fi
if [ $rc -ne 0 ]; then
    cat "$WORK/build.log"
    echo "0 passed, 1 failed"
    exit 1
fi

for h in stream vmdesc armcpu check convert vmstate; do
    VMSTREAM_SRCDIR=$HERE sh "$HERE/fuzz/run.sh" "$BUILD" "$WORK" "$h" \
        -seed="$SEED" -runs="$RUNS" -max_total_time="$SECS"
    rc=$?
    log="$WORK/$h.log"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    if [ $rc -eq 0 ] && [ -n "$execs" ] &&
       ! grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|==FUZZ==' "$log" &&
       [ -z "$(ls -A "$WORK/art-$h")" ]; then
        PASSED=$((PASSED + 1))
        echo "ok - fuzz_$h: corpus replayed, $execs runs from seed $SEED, no finding"
    else
        FAILED=$((FAILED + 1))
        echo "not ok - fuzz_$h (exit $rc)"
        grep -E -A 30 'ERROR|runtime error|==FUZZ==' "$log" | head -60
        for a in "$WORK/art-$h"/*; do
            [ -f "$a" ] || continue
            mkdir -p "$BUILD/findings"
            cp "$a" "$BUILD/findings/"
            echo "# reproducer kept: $BUILD/findings/$(basename "$a")"
        done
    fi
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
