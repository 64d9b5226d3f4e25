#!/bin/bash
# tests/integration/selftest-qemu.sh - check tests/integration/qemu.sh
# against real QEMU 7.2 with the real vectors in tests/vectors/.
#
# Exit 0 if every test passed, 1 otherwise; the last line is
# "N passed, M failed".  Each QEMU run's wall time is printed.
#
# Environment: VECTORS (default: ../vectors next to this file),
# QEMU_AARCH64 (qemu-system-aarch64), QEMU_ARM (qemu-system-arm),
# QEMU_TIMEOUT (20), QEMU_KEEP=1 to keep the temp dir, QEMU_VERBOSE=1.
# Needs the Debian packages in tests/integration/PACKAGES.

here=$(cd "$(dirname "$0")" && pwd)
: "${VECTORS:=$here/../vectors}"
VECTORS=$(cd "$VECTORS" && pwd) || { echo "no VECTORS dir"; echo "0 passed, 1 failed"; exit 1; }
export VECTORS
: "${QEMU_AARCH64:=qemu-system-aarch64}"
: "${QEMU_ARM:=qemu-system-arm}"
export QEMU_AARCH64
# shellcheck source=tests/integration/qemu.sh
. "$here/qemu.sh"
qemu_init || { echo "qemu_init failed"; echo "0 passed, 1 failed"; exit 1; }

pass=0 fail=0 skip=0
ok()   { pass=$((pass + 1)); printf 'PASS %s\n' "$*"; }
bad()  { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }
skipped() { skip=$((skip + 1)); printf 'SKIP %s\n' "$*"; }

missing=""
for t in "$QEMU_AARCH64" socat zstd setsid; do
    command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
    echo "missing tools:$missing (install tests/integration/PACKAGES)"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "# $("$QEMU_AARCH64" --version | head -n1)"

V22=$VECTORS/real-v22
V23=$VECTORS/real-v23
T=$QEMU_WORKDIR/vectors
mkdir -p "$T"
# unz DIR NAME -> path of the decompressed NAME.mig (from NAME.mig.zst)
unz() {
    local out
    out=$T/$(basename "$1")-$2.mig
    [ -f "$out" ] || zstd -dqf "$1/$2.mig.zst" -o "$out" || return 1
    printf '%s\n' "$out"
}

# paused-stream command line of MANIFEST.md (without -qmp/-incoming)
paused_args() {   # CPU SMP
    printf '%s\n' -M virt-7.2 -cpu "$1" -smp "$2" -m 32M -nographic -S \
        -display none -monitor none -serial none
}

# expect_load WANT PATTERN DESCRIPTION LOAD_ARGS...
#   run qemu_load LOAD_ARGS, check the word and (if PATTERN is not empty)
#   that QEMU's stderr contains PATTERN (fixed string)
expect_load() {
    local want=$1 pat=$2 desc=$3 got
    shift 3
    got=$(qemu_load -e "$QEMU_WORKDIR/last.stderr" "$@")
    local ms
    ms=$(tail -n1 "$QEMU_WORKDIR/timings" | cut -d' ' -f1)
    if [ "$got" != "$want" ]; then
        bad "$desc: got '$got', want '$want' (${ms} ms)"
        sed 's/^/    stderr: /' "$QEMU_WORKDIR/last.stderr"
        return
    fi
    if [ -n "$pat" ] && ! grep -qF -- "$pat" "$QEMU_WORKDIR/last.stderr"; then
        bad "$desc: '$want' but stderr lacks '$pat' (${ms} ms)"
        sed 's/^/    stderr: /' "$QEMU_WORKDIR/last.stderr"
        return
    fi
    ok "$desc: $got${pat:+ (\"$pat\")} (${ms} ms)"
}

# 1. a stream loads into its own command line
if s=$(unz "$V22" aa64-virt72-cortex-a57-2cpu); then
    mapfile -t args < <(paused_args cortex-a57 2)
    expect_load loads "" "v22 cortex-a57-2cpu -> cortex-a57" "$s" -- "${args[@]}"
else bad "decompress aa64-virt72-cortex-a57-2cpu"; fi

# 2. max (304 cpregs) into a cortex-a57 destination (258)
if s=$(unz "$V22" aa64-virt72-max-2cpu); then
    mapfile -t args < <(paused_args cortex-a57 2)
    expect_load fails "Invalid value 304 expecting positive value <= 258" \
        "v22 max-2cpu -> cortex-a57" "$s" -- "${args[@]}"
else bad "decompress aa64-virt72-max-2cpu"; fi

# 3. cortex-a57 into max: list is a subset, but ID register values differ
if s=$(unz "$V22" aa64-virt72-cortex-a57-2cpu); then
    mapfile -t args < <(paused_args max 2)
    expect_load fails "Operation not permitted" \
        "v22 cortex-a57-2cpu -> max" "$s" -- "${args[@]}"
fi

# 4. a v23 stream into stock QEMU 7.2
if s=$(unz "$V23" aa64-virt72-cortex-a57-2cpu); then
    mapfile -t args < <(paused_args cortex-a57 2)
    expect_load fails "unsupported version 23" \
        "v23 cortex-a57-2cpu -> stock cortex-a57" "$s" -- "${args[@]}"
else bad "decompress real-v23 aa64-virt72-cortex-a57-2cpu"; fi

# 5. live migration of the test guest, stock -> stock through `cat`
qemu_live_migrate -f cat >/dev/null
if [ "$QEMU_MIG_RESULT" = continues ]; then
    ok "live migration through cat: $QEMU_MIG_REASON ($QEMU_MIG_MS ms, downtime ${QEMU_MIG_DOWNTIME_MS} ms)"
else
    bad "live migration through cat: got '$QEMU_MIG_RESULT': $QEMU_MIG_REASON ($QEMU_MIG_MS ms)"
    sed 's/^/    dst stderr: /' "$QEMU_MIG_DST_STDERR"
fi

# 6. the same with the pipe filter killed mid-stream
qemu_live_migrate -K -f cat >/dev/null
if [ "$QEMU_MIG_RESULT" = refused ]; then
    ok "filter killed mid-stream: $QEMU_MIG_REASON ($QEMU_MIG_MS ms)"
else
    bad "filter killed mid-stream: got '$QEMU_MIG_RESULT': $QEMU_MIG_REASON ($QEMU_MIG_MS ms)"
fi

# 7. compress stream: needs the capability on the destination (-c)
if s=$(unz "$V22" aa64-virt72-cortex-a57-1cpu-compress); then
    mapfile -t args < <(paused_args cortex-a57 1)
    expect_load loads "" "v22 compress stream with -c compress" -c compress "$s" -- "${args[@]}"
    expect_load fails "Received an unexpected compressed page" \
        "v22 compress stream without the capability" "$s" -- "${args[@]}"
else bad "decompress aa64-virt72-cortex-a57-1cpu-compress"; fi

# 8. 32-bit Arm stream with qemu-system-arm (-b)
if command -v "$QEMU_ARM" >/dev/null 2>&1; then
    if s=$(unz "$V22" arm-virt72-cortex-a15-2cpu); then
        mapfile -t args < <(paused_args cortex-a15 2)
        expect_load loads "" "v22 arm cortex-a15-2cpu with $QEMU_ARM" -b "$QEMU_ARM" "$s" -- "${args[@]}"
    fi
else
    skipped "no $QEMU_ARM"
fi

echo "# timings (ms result what):"
sed 's/^/#   /' "$QEMU_WORKDIR/timings"
echo "# total QEMU wall time: $(awk '{s += $1} END {print s + 0}' "$QEMU_WORKDIR/timings") ms"
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
