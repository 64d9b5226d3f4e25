#!/bin/bash
# tests/integration/check-verdicts.sh - does `vmstream check --dest-stream`
# predict what real QEMU 7.2 does with a stream?
#
# For every case: a destination stream is taken from the destination command
# line (paused VM, `migrate exec:cat > FILE`), `vmstream check STREAM
# --dest-stream DEST` gives its verdict (exit 0 loads, 3 loads-with-loss,
# 1 fails) and qemu_load loads STREAM into that very command line.  They must
# agree: QEMU "fails" <=> check exit 1, QEMU "loads" <=> check exit 0 or 3.
# Each case also names what it is built to show (QEMU's word, a fixed
# string of QEMU's stderr and check's exact exit code), so a case that stops
# exercising its rule fails too.
#
# Cases: real-v22 streams into other CPU models and settings (plus
# same-model controls), then streams tampered by tests/integration/tamper
# ($TAMPER) and `vmstream convert --drop`: inserted, dropped and swapped
# registers, a wrong cpreg_vmstate_array_len, section versions, fixed and
# writable register values, a 32-bit register with upper bits, values of
# partially writable registers (formats/tcg-write-masks.tsv, some with
# -M virt,secure=on,virtualization=on streams saved here); and the v23
# value-index tampers, which no stock QEMU can load (check alone, and
# convert --to v22 must refuse them).  Known disagreements (registers whose
# value QEMU fixes although check does not know it) run as XFAIL cases: they
# do not fail the test while check still gets them wrong, and fail it
# ("XPASS") once check agrees with QEMU, so that they become ordinary cases.
#
# Exit 0 if every case passed; the last line is "N passed, M failed".
# Environment: VMSTREAM, TAMPER, VECTORS, QEMU_AARCH64, QEMU_ARM (cases
# with qemu-system-arm are skipped without it), QEMU_TIMEOUT, QEMU_KEEP=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
: "${VECTORS:=$here/../vectors}"
VECTORS=$(cd "$VECTORS" && pwd) || { echo "no VECTORS dir"; echo "0 passed, 1 failed"; exit 1; }
: "${VMSTREAM:=$PWD/vmstream}"
: "${TAMPER:=$PWD/tests/integration/tamper}"
: "${QEMU_AARCH64:=qemu-system-aarch64}"
: "${QEMU_ARM:=qemu-system-arm}"
export VECTORS QEMU_AARCH64
# shellcheck source=tests/integration/qemu.sh
. "$here/qemu.sh"

missing=""
for t in "$QEMU_AARCH64" socat zstd setsid "$VMSTREAM" "$TAMPER"; do
    command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
    echo "missing tools:$missing (install tests/integration/PACKAGES, build vmstream and tamper)"
    echo "0 passed, 1 failed"
    exit 1
fi
have_arm=""
command -v "$QEMU_ARM" >/dev/null 2>&1 && have_arm=1
qemu_init || { echo "qemu_init failed"; echo "0 passed, 1 failed"; exit 1; }
echo "# $("$QEMU_AARCH64" --version | head -n1)"
T0=$(_qemu_now_ms)

pass=0 fail=0 skip=0 xfail=0
ok()      { pass=$((pass + 1)); printf 'PASS %s\n' "$*"; }
bad()     { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }
skipped() { skip=$((skip + 1)); printf 'SKIP %s\n' "$*"; }
TABLE=()

W=$QEMU_WORKDIR/cv
mkdir -p "$W"

# unz DIR NAME -> $W/NAME.mig from DIR/NAME.mig.zst (cached); sets U
unz() {
    U=$W/$(basename "$1")-$2.mig
    [ -f "$U" ] || zstd -dqf "$1/$2.mig.zst" -o "$U"
}

# paused destination command line for CPU (a -cpu value, optionally with
# machine options after a '+': "max+secure=on,virtualization=on") and SMP
dest_args() {
    local cpu=${1%%+*} mo=""
    [ "$cpu" = "$1" ] || mo=,${1#*+}
    printf '%s\n' -M "virt-7.2$mo" -cpu "$cpu" -smp "${2:-2}" -m 32M -nographic \
        -S -serial none
}

# dest_stream BIN CPU [SMP] -> DEST = a stream saved by that paused command
# line (made once, cached); returns 1 if QEMU could not save it
declare -A DESTS=()
dest_stream() {
    local bin=$1 cpu=$2 smp=${3:-2} key name st r
    local -a a
    key="$(basename "$bin") $cpu $smp"
    DEST=${DESTS[$key]:-}
    [ -n "$DEST" ] && return 0
    name=dest${#DESTS[@]}
    DEST=$W/$name.mig
    mapfile -t a < <(dest_args "$cpu" "$smp")
    r=0
    qemu_start "$name" "$bin" "${a[@]}" || r=$?
    if [ $r -eq 2 ]; then   # harness error (e.g. QMP connect race): once more
        r=0
        qemu_start "$name" "$bin" "${a[@]}" || r=$?
    fi
    if [ $r -eq 0 ]; then
        qemu_qmp "$name" migrate \
            "{\"uri\": \"$(_qemu_json_str "exec:cat > '$DEST'")\"}" >/dev/null || r=1
    fi
    st=failed
    [ $r -eq 0 ] && st=$(qemu_wait_migration "$name" "$QEMU_TIMEOUT")
    qemu_stop "$name"
    if [ "$st" != completed ] || [ ! -s "$DEST" ]; then
        echo "# could not save a destination stream for $key (migration '$st')"
        sed 's/^/#   stderr: /' "$(qemu_stderr "$name")"
        return 1
    fi
    DESTS[$key]=$DEST
    return 0
}

# first finding of check's output that decides the verdict
check_reason() {
    local f
    f=$(grep -m1 '^fatal' "$1" || grep -m1 '^warning' "$1" || grep -m1 '^verdict' "$1")
    printf '%s' "${f:0:150}"
}

# vcase NAME STREAM BIN CPU SMP WANT_QEMU WANT_CHECK PATTERN [KNOWN]
#   load STREAM into the paused BIN -cpu CPU -smp SMP destination and run
#   check against that destination's own stream.  PASS when QEMU and check
#   agree and both are what the case was built for (PATTERN: fixed string
#   expected in QEMU's stderr, "" for none).  With KNOWN (why check is
#   wrong), the case documents a known disagreement: XFAIL while QEMU and
#   check still give WANT_QEMU / WANT_CHECK, FAIL ("XPASS") once they agree.
vcase() {
    local name=$1 s=$2 bin=$3 cpu=$4 smp=$5 wq=$6 wc=$7 pat=$8 known=${9:-}
    local -a a
    local q c agree why ms
    if [ ! -s "$s" ]; then
        bad "$name: no input stream (tamper/convert failed)"
        TABLE+=("$name|-|-|-|no input")
        return
    fi
    if ! dest_stream "$bin" "$cpu" "$smp"; then
        bad "$name: no destination stream for -cpu $cpu"
        TABLE+=("$name|error|-|-|no destination stream")
        return
    fi
    mapfile -t a < <(dest_args "$cpu" "$smp")
    for _ in 1 2; do
        q=$(qemu_load -b "$bin" -e "$W/err" "$s" -- "${a[@]}")
        [ "$q" != error ] && break
        echo "# $name: harness error, retrying"
    done
    ms=$(tail -n1 "$QEMU_WORKDIR/timings" | cut -d' ' -f1)
    c=0
    "$VMSTREAM" check --dest-stream "$DEST" "$s" >"$W/check.out" 2>&1 || c=$?
    agree=no
    if { [ "$q" = fails ] && [ $c -eq 1 ]; } ||
        { [ "$q" = loads ] && { [ $c -eq 0 ] || [ $c -eq 3 ]; }; }; then
        agree=yes
    fi
    TABLE+=("$name|$q|$c|$agree${known:+ (known)}|$(grep -v '^$' "$W/err" | tail -n1 | sed 's/^qemu-system-[a-z0-9]*: //' | cut -c1-70)")
    why=""
    if [ -n "$known" ]; then
        [ "$agree" = no ] || why="$why; XPASS: QEMU and check now agree, make it an ordinary case"
    else
        [ "$agree" = yes ] || why="$why; QEMU and check DISAGREE"
    fi
    [ "$q" = "$wq" ] || why="$why; QEMU $q, case built for $wq"
    [ "$c" = "$wc" ] || why="$why; check exit $c, expected $wc"
    if [ -n "$pat" ] && ! grep -qF -- "$pat" "$W/err"; then
        why="$why; QEMU stderr lacks '$pat'"
    fi
    if [ -z "$why" ] && [ -n "$known" ]; then
        xfail=$((xfail + 1))
        printf 'XFAIL %s: QEMU %s (%s ms), check exit %s - known: %s\n' "$name" "$q" "$ms" "$c" "$known"
    elif [ -z "$why" ]; then
        ok "$name: QEMU $q (${ms} ms), check exit $c: $(check_reason "$W/check.out")"
    else
        bad "$name: QEMU $q (${ms} ms), check exit $c${why}"
        sed 's/^/    qemu: /' "$W/err"
        grep -v '^info' "$W/check.out" | head -n 8 | sed 's/^/    check: /'
    fi
}

# tamper IN OUT OP ARGS... (failure leaves no OUT: the case then fails)
tamper() {
    local in=$1 out=$2
    shift 2
    rm -f "$out"
    "$TAMPER" "$in" "$out" "$@" || { rm -f "$out"; echo "# tamper $* failed"; }
}

A=$QEMU_AARCH64 R=$QEMU_ARM
V22=$VECTORS/real-v22
V23=$VECTORS/real-v23
unz "$V22" aa64-virt72-cortex-a53-2cpu; A53=$U
unz "$V22" aa64-virt72-cortex-a57-2cpu; A57=$U
unz "$V22" aa64-virt72-cortex-a72-2cpu; A72=$U
unz "$V22" aa64-virt72-max-2cpu; MAX=$U
unz "$V22" arm-virt72-cortex-a15-2cpu; A15=$U

# register ids (KVM-style, as in the cpreg list)
TPIDR_EL0=0x603000000013de82
MAIR_EL1=0x603000000013c510
CTR_EL0=0x603000000013d801
ID_AA64ISAR0_EL1=0x603000000013c030
ID_AA64PFR0_EL1=0x603000000013c020   # not in 7.2's list: an "unknown" id
S3_7_C15_C15_7=0x603000000013ffff    # above every list's last id
TPIDRURW=0x40200000200f6802          # AArch32 32-bit register (NS)
ACTLR_AA32=0x40200000200f0801         # ACTLR, AArch32 view (NS)
VBAR_EL1=0x603000000013c600
VBAR_S=0x40200000000f6000             # AArch32 VBAR, secure bank
MIDR_AA32=0x40200000200f0000          # MIDR (v7 list)

echo "## 1. real streams into other CPU models and settings"
vcase "a57 -> a57 (control)"          "$A57" "$A" cortex-a57 2 loads 0 ""
vcase "max -> max (control)"          "$MAX" "$A" max 2 loads 0 ""
vcase "a72 -> a72 (control)"          "$A72" "$A" cortex-a72 2 loads 0 ""
vcase "a53 -> a57"                    "$A53" "$A" cortex-a57 2 fails 1 "Operation not permitted"
vcase "a57 -> max"                    "$A57" "$A" max 2 fails 1 "Operation not permitted"
vcase "max -> a57"                    "$MAX" "$A" cortex-a57 2 fails 1 "Invalid value 304 expecting positive value <= 258"
vcase "a57 -> a72"                    "$A57" "$A" cortex-a72 2 fails 1 "Operation not permitted"
vcase "a72 -> a57"                    "$A72" "$A" cortex-a57 2 fails 1 "Operation not permitted"
vcase "a53 -> a72"                    "$A53" "$A" cortex-a72 2 fails 1 "Operation not permitted"
vcase "a57 -> a57,pmu=off"            "$A57" "$A" cortex-a57,pmu=off 2 fails 1 "Operation not permitted"
vcase "max -> max,sve=off"            "$MAX" "$A" max,sve=off 2 fails 1 "Invalid value 304 expecting positive value <= 293"
vcase "max -> max,sve-max-vq=2"       "$MAX" "$A" max,sve-max-vq=2 2 loads 0 ""
if [ -n "$have_arm" ]; then
    vcase "a15 -> a15 (control, arm)"     "$A15" "$R" cortex-a15 2 loads 0 ""
    vcase "a15 -> a7 (arm)"               "$A15" "$R" cortex-a7 2 fails 1 "Invalid value 197 expecting positive value <= 193"
    vcase "a15 -> a15,pmu=off (arm)"      "$A15" "$R" cortex-a15,pmu=off 2 fails 1 "Operation not permitted"
    # the other direction: a cortex-a7 source stream, saved here
    if dest_stream "$R" cortex-a7 2; then
        vcase "a7 -> a15 (arm)"           "$DEST" "$R" cortex-a15 2 fails 1 "Operation not permitted"
    else
        bad "a7 -> a15 (arm): could not save a cortex-a7 stream"
    fi
else
    skipped "32-bit cases: no $QEMU_ARM"
fi

echo "## 2. tampered a57 / max / a15 streams"
TW=$W/tampered
mkdir -p "$TW"
# N+1: QEMU's length check (POSITIVE_LE) stops these before the merge
tamper "$A57" "$TW/a57-insert-mid.mig" insert-mid $ID_AA64PFR0_EL1
vcase "a57 + unknown id mid-list -> a57"      "$TW/a57-insert-mid.mig" "$A" cortex-a57 2 fails 1 "Invalid value 259 expecting positive value <= 258"
tamper "$A57" "$TW/a57-insert-end.mig" insert-end $S3_7_C15_C15_7
vcase "a57 + unknown id at end -> a57"        "$TW/a57-insert-end.mig" "$A" cortex-a57 2 fails 1 "Invalid value 259 expecting positive value <= 258"
vcase "a57 + unknown id at end -> max"        "$TW/a57-insert-end.mig" "$A" max 2 fails 1 "Operation not permitted"
tamper "$A57" "$TW/a57-len-plus-one.mig" len-plus-one
vcase "a57 array_len N+1 -> a57"              "$TW/a57-len-plus-one.mig" "$A" cortex-a57 2 fails 1 "Invalid value 259 expecting positive value <= 258"
vcase "a57 array_len N+1 -> max (misparse)"   "$TW/a57-len-plus-one.mig" "$A" max 2 fails 1 ""
# one register dropped first (N-1), so that the length check passes and
# the merge rules decide
"$VMSTREAM" convert --to v22 --drop TPIDR_EL0 "$A57" "$TW/a57-drop.mig" >/dev/null 2>"$W/conv.err" ||
    { cat "$W/conv.err"; rm -f "$TW/a57-drop.mig"; }
vcase "a57 - TPIDR_EL0 -> a57 (missing reg)"  "$TW/a57-drop.mig" "$A" cortex-a57 2 loads 3 ""
tamper "$TW/a57-drop.mig" "$TW/a57-drop-insert-mid.mig" insert-mid $ID_AA64PFR0_EL1
vcase "a57 - TPIDR_EL0 + unknown mid -> a57"  "$TW/a57-drop-insert-mid.mig" "$A" cortex-a57 2 fails 1 "Operation not permitted"
tamper "$TW/a57-drop.mig" "$TW/a57-drop-insert-end.mig" insert-end $S3_7_C15_C15_7
vcase "a57 - TPIDR_EL0 + unknown end -> a57 (dropped silently)" "$TW/a57-drop-insert-end.mig" "$A" cortex-a57 2 loads 3 ""
tamper "$TW/a57-drop.mig" "$TW/a57-drop-len-plus-one.mig" len-plus-one
vcase "a57 - TPIDR_EL0, array_len N+1 -> a57 (misparse)" "$TW/a57-drop-len-plus-one.mig" "$A" cortex-a57 2 fails 1 ""
"$VMSTREAM" convert --to v22 --drop TPIDR_EL0 "$MAX" "$TW/max-drop.mig" >/dev/null 2>"$W/conv.err" ||
    { cat "$W/conv.err"; rm -f "$TW/max-drop.mig"; }
tamper "$TW/max-drop.mig" "$TW/max-drop-insert-end.mig" insert-end $S3_7_C15_C15_7
vcase "max - TPIDR_EL0 + unknown end -> max (dropped silently)" "$TW/max-drop-insert-end.mig" "$A" max 2 loads 3 ""
tamper "$TW/max-drop.mig" "$TW/max-drop-insert-mid.mig" insert-mid $ID_AA64PFR0_EL1
vcase "max - TPIDR_EL0 + unknown mid -> max"  "$TW/max-drop-insert-mid.mig" "$A" max 2 fails 1 "Operation not permitted"
# order of the list
tamper "$A57" "$TW/a57-swap-mid.mig" swap 100
vcase "a57 ids 100/101 swapped -> a57"        "$TW/a57-swap-mid.mig" "$A" cortex-a57 2 fails 1 "Operation not permitted"
tamper "$A57" "$TW/a57-swap-end.mig" swap -2
# The skipped entry is written 0 and holds 0 in the stream too: nothing
# changes (check-missing.sh proves the values after loading).
vcase "a57 last two ids swapped -> a57"       "$TW/a57-swap-end.mig" "$A" cortex-a57 2 loads 0 ""
tamper "$MAX" "$TW/max-swap-mid.mig" swap 150
vcase "max ids 150/151 swapped -> max"        "$TW/max-swap-mid.mig" "$A" max 2 fails 1 "Operation not permitted"
# section version
tamper "$A57" "$TW/a57-v21.mig" set-version 21
vcase "a57 section version 21 -> a57"         "$TW/a57-v21.mig" "$A" cortex-a57 2 fails 1 "incoming version_id 21 is too old"
tamper "$A57" "$TW/a57-v23.mig" set-version 23
vcase "a57 section version 23 -> a57"         "$TW/a57-v23.mig" "$A" cortex-a57 2 fails 1 "unsupported version 23 for 'cpu' v22"
# values
tamper "$A57" "$TW/a57-isar0.mig" set-value $ID_AA64ISAR0_EL1 0x11121
vcase "a57 ID_AA64ISAR0_EL1 changed -> a57"   "$TW/a57-isar0.mig" "$A" cortex-a57 2 fails 1 "Operation not permitted"
tamper "$A57" "$TW/a57-ctr.mig" set-value $CTR_EL0 0x8444c005
vcase "a57 CTR_EL0 changed -> a57"            "$TW/a57-ctr.mig" "$A" cortex-a57 2 fails 1 "Operation not permitted"
# Only the AArch64 entry changes: its AArch32 views (TPIDRURW; PRRR and
# NMRR, the halves of MAIR_EL1) keep the old value in the stream but read
# the new one after loading, since QEMU writes the AArch64 entry last
# (formats/tcg-aliases.tsv): loads, with a change (exit 3).
tamper "$A57" "$TW/a57-tpidr.mig" set-value $TPIDR_EL0 0x123456789abcdef0
vcase "a57 TPIDR_EL0 changed -> a57"          "$TW/a57-tpidr.mig" "$A" cortex-a57 2 loads 3 ""
tamper "$A57" "$TW/a57-mair.mig" set-value $MAIR_EL1 0x44ff04
vcase "a57 MAIR_EL1 changed -> a57"           "$TW/a57-mair.mig" "$A" cortex-a57 2 loads 3 ""
tamper "$MAX" "$TW/max-tpidr.mig" set-value $TPIDR_EL0 0x123456789abcdef0
vcase "max TPIDR_EL0 changed -> max"          "$TW/max-tpidr.mig" "$A" max 2 loads 3 ""
tamper "$MAX" "$TW/max-isar0.mig" set-value $ID_AA64ISAR0_EL1 0
vcase "max ID_AA64ISAR0_EL1 = 0 -> max"       "$TW/max-isar0.mig" "$A" max 2 fails 1 "Operation not permitted"
tamper "$A57" "$TW/a57-tpidrurw-hi.mig" set-value $TPIDRURW 0x100000000
vcase "a57 32-bit TPIDRURW with upper bits -> a57" "$TW/a57-tpidrurw-hi.mig" "$A" cortex-a57 2 fails 1 "Operation not permitted"
if [ -n "$have_arm" ]; then
    tamper "$A15" "$TW/a15-tpidrurw-hi.mig" set-value $TPIDRURW 0x100000000
    vcase "a15 32-bit TPIDRURW with upper bits -> a15 (arm)" "$TW/a15-tpidrurw-hi.mig" "$R" cortex-a15 2 fails 1 "Operation not permitted"
    tamper "$A15" "$TW/a15-swap-end.mig" swap -2
    vcase "a15 last two ids swapped -> a15 (arm)" "$TW/a15-swap-end.mig" "$R" cortex-a15 2 loads 0 ""
fi

echo "## 3. v23 streams and value-index tampers (stock QEMU has no v23)"
unz "$V23" aa64-virt72-cortex-a57-2cpu; A57V23=$U
vcase "v23 a57 -> stock a57"                  "$A57V23" "$A" cortex-a57 2 fails 1 "unsupported version 23 for 'cpu' v22"
for op in vidx-out-of-range vidx-decrease vidx-slots-too-large vidx-zero-slots; do
    out=$TW/a57v23-$op.mig
    tamper "$A57V23" "$out" $op
    if [ ! -s "$out" ]; then
        bad "v23 a57 $op: tamper failed"
        TABLE+=("v23 a57 $op|-|-|-|tamper failed")
        continue
    fi
    c=0
    "$VMSTREAM" check "$out" >"$W/check.out" 2>&1 || c=$?
    k=0
    rm -f "$TW/conv-$op.mig"
    "$VMSTREAM" convert --to v22 "$out" "$TW/conv-$op.mig" >/dev/null 2>"$W/conv.err" || k=$?
    TABLE+=("v23 a57 $op (check, no dest)|n/a|$c|-|convert --to v22 exit $k")
    if [ $c -eq 1 ] && [ $k -eq 1 ] && [ ! -e "$TW/conv-$op.mig" ]; then
        ok "v23 a57 $op: check exit 1 ($(check_reason "$W/check.out")); convert --to v22 refuses: $(head -c 150 "$W/conv.err")"
    else
        bad "v23 a57 $op: check exit $c (want 1), convert exit $k (want 1, no output file)"
        sed 's/^/    check: /' "$W/check.out" | head -n 8
        sed 's/^/    convert: /' "$W/conv.err"
    fi
done
# the untampered v23 stream is consistent
c=0
"$VMSTREAM" check "$A57V23" >"$W/check.out" 2>&1 || c=$?
TABLE+=("v23 a57, untampered (check, no dest)|n/a|$c|-|")
if [ $c -eq 0 ]; then ok "v23 a57 untampered: check exit 0"; else bad "v23 a57 untampered: check exit $c"; cat "$W/check.out"; fi


echo "## 4. registers constant for some CPUs only"
# L2CTLR / L2CTLR_EL1 read (smp - 1) << 24 and ignore writes: fixed by -smp
vcase "a57 (2 vCPUs) -> a57 -smp 4"           "$A57" "$A" cortex-a57 4 fails 1 \
    "error while loading state for instance 0x0 of device 'cpu'"
# ARM_CP_CONST on v8 CPUs, although another QEMU definition of the same id
# (XSCALE_AUXCR) is writable
tamper "$A57" "$TW/a57-actlr.mig" set-value $ACTLR_AA32 1
vcase "a57 AArch32 ACTLR = 1 -> a57"          "$TW/a57-actlr.mig" "$A" cortex-a57 2 fails 1 \
    "Operation not permitted"
if [ -n "$have_arm" ]; then
    # v7 MIDR has raw_writefn = raw_write: a raw write of another value
    # reads back and QEMU takes it
    tamper "$A15" "$TW/a15-midr.mig" set-value $MIDR_AA32 0x414fc0f1
    vcase "a15 MIDR changed -> a15 (arm)"     "$TW/a15-midr.mig" "$R" cortex-a15 2 loads 0 ""
fi

# vbar_write() drops bits [4:0] (formats/tcg-write-masks.tsv): a value
# with them set does not read back; an aligned one loads
tamper "$A57" "$TW/a57-vbar.mig" set-value $VBAR_EL1 0x1
vcase "a57 VBAR_EL1 = 0x1 (RES0 bits) -> a57" "$TW/a57-vbar.mig" "$A" cortex-a57 2 fails 1 \
    "Operation not permitted"
tamper "$A57" "$TW/a57-vbar-ok.mig" set-value $VBAR_EL1 0x40000800
vcase "a57 VBAR_EL1 = 0x40000800 -> a57"      "$TW/a57-vbar-ok.mig" "$A" cortex-a57 2 loads 0 ""
if [ -n "$have_arm" ]; then
    tamper "$A15" "$TW/a15-vbar.mig" set-value $VBAR_S 0x10
    vcase "a15 VBAR_S = 0x10 (RES0 bits) -> a15 (arm)" "$TW/a15-vbar.mig" "$R" cortex-a15 2 fails 1 \
        "Operation not permitted"
    tamper "$A15" "$TW/a15-vbar-ok.mig" set-value $VBAR_S 0x8000
    # VBAR_S is written through VBAR, then VBAR_EL1 (0) is written last:
    # VBAR_S reads 0 after loading (check-missing.sh proves it).
    vcase "a15 VBAR_S = 0x8000 -> a15 (arm)"  "$TW/a15-vbar-ok.mig" "$R" cortex-a15 2 loads 3 ""
fi

echo "## 5. partially writable registers (formats/tcg-write-masks.tsv)"
# csselr_write() keeps bits [3:0], osdlr_write() bit 0 (FEAT_DoubleLock)
CSSELR_EL1=0x603000000013d000
OSDLR_EL1=0x603000000013809c
DBGOSDLR=0x40200000200e0984
CSSELR_S=0x40200000000f0010
tamper "$A57" "$TW/a57-csselr.mig" set-value $CSSELR_EL1 0x10
vcase "a57 CSSELR_EL1 = 0x10 -> a57"          "$TW/a57-csselr.mig" "$A" cortex-a57 2 fails 1 "Operation not permitted"
tamper "$A57" "$TW/a57-osdlr.mig" set-value $OSDLR_EL1 0x2
vcase "a57 OSDLR_EL1 = 0x2 -> a57"            "$TW/a57-osdlr.mig" "$A" cortex-a57 2 fails 1 "Operation not permitted"
tamper "$A57" "$TW/a57-dbgosdlr.mig" set-value $DBGOSDLR 0x80000000
vcase "a57 DBGOSDLR = 0x80000000 -> a57"      "$TW/a57-dbgosdlr.mig" "$A" cortex-a57 2 fails 1 "Operation not permitted"
tamper "$A57" "$TW/a57-csselr-ok.1.mig" set-value $CSSELR_EL1 0xf &&
    tamper "$TW/a57-csselr-ok.1.mig" "$TW/a57-csselr-ok.2.mig" set-value $OSDLR_EL1 0x1 &&
    tamper "$TW/a57-csselr-ok.2.mig" "$TW/a57-csselr-ok.mig" set-value $DBGOSDLR 0x1
vcase "a57 CSSELR_EL1 = 0xf, (DBG)OSDLR = 0x1 -> a57" "$TW/a57-csselr-ok.mig" "$A" cortex-a57 2 loads 0 ""
if [ -n "$have_arm" ]; then
    tamper "$A15" "$TW/a15-csselr.mig" set-value $CSSELR_S 0x80000000
    vcase "a15 CSSELR_S = 0x80000000 -> a15 (arm)" "$TW/a15-csselr.mig" "$R" cortex-a15 2 fails 1 "Operation not permitted"
fi
# vbar_write() on the EL2/EL3 vector base registers, present with
# virtualization=on / secure=on only: streams saved here
MAXSV="max+secure=on,virtualization=on"
if dest_stream "$A" "$MAXSV" 1; then
    MAXSV_SRC=$DEST
    for r in VBAR_EL2=0x603000000013e600=0x1 VBAR_EL3=0x603000000013f600=0x10 \
        HVBAR=0x40200000200f6020=0x10 MVBAR=0x40200000200f6001=0x1; do
        IFS='=' read -r rn rid rv <<<"$r"
        tamper "$MAXSV_SRC" "$TW/maxsv-$rn.mig" set-value "$rid" "$rv"
        vcase "max,secure,virt $rn = $rv -> same" "$TW/maxsv-$rn.mig" "$A" "$MAXSV" 1 fails 1 "Operation not permitted"
    done
    tamper "$MAXSV_SRC" "$TW/maxsv-ok.1.mig" set-value 0x603000000013e600 0x40000800 &&
        tamper "$TW/maxsv-ok.1.mig" "$TW/maxsv-ok.2.mig" set-value 0x603000000013f600 0xffffffffffffffe0 &&
        tamper "$TW/maxsv-ok.2.mig" "$TW/maxsv-ok.3.mig" set-value 0x40200000200f6020 0x40000800 &&
        tamper "$TW/maxsv-ok.3.mig" "$TW/maxsv-ok.mig" set-value 0x40200000200f6001 0xffffffe0
    vcase "max,secure,virt aligned VBAR_EL2/EL3, HVBAR, MVBAR -> same" "$TW/maxsv-ok.mig" "$A" "$MAXSV" 1 loads 0 ""
else
    bad "max,secure=on,virtualization=on: could not save a stream"
fi

echo "## 6. known disagreements"
echo "# none (partially writable registers: formats/tcg-write-masks.tsv)"

echo "# verdict table (check exit: 0 loads, 3 loads-with-loss, 1 fails)"
printf '#   %-58s %-6s %-5s %-5s %s\n' case QEMU check agree "QEMU's last stderr line"
for row in "${TABLE[@]}"; do
    IFS='|' read -r n q c a e <<<"$row"
    printf '#   %-58s %-6s %-5s %-5s %s\n' "$n" "$q" "$c" "$a" "$e"
done
echo "# QEMU runs: $(wc -l <"$QEMU_WORKDIR/timings"), QEMU wall time $(awk '{s += $1} END {print s + 0}' "$QEMU_WORKDIR/timings") ms, total $(($(_qemu_now_ms) - T0)) ms"
suffix=""
[ "$xfail" -gt 0 ] && suffix="$suffix, $xfail known disagreements (XFAIL)"
[ "$skip" -gt 0 ] && suffix="$suffix, $skip skipped"
echo "$pass passed, $fail failed$suffix"
[ "$fail" -eq 0 ]
