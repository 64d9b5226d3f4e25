#!/bin/bash
# tests/integration/check-missing.sh - registers missing from a stream, and
# register lists out of order or with duplicates: what a real QEMU 7.2 TCG
# destination does with them, against `vmstream check`.
#
# For every case, a real paused stream (tests/vectors/real-v22, saved by the
# very command line the destination runs) is tampered by
# tests/integration/tamper ($TAMPER) and
#   QEMU:     the tampered stream is loaded into a fresh -incoming
#             destination (paused, never `cont`); when it loads, the VM is
#             saved again (qemu_load -o) and the re-saved registers are
#             compared with the tampered stream's, vCPU by vCPU:
#               changed = registers whose re-saved value differs from the
#                         tampered stream's (its first copy of the id), or
#                         that the tampered stream lacks
#               lost    = the tampered stream's registers that the
#                         re-saved stream lacks
#             minus the noise of a plain load + re-save, NOISE_IDS below
#             (measured: none; the control cases prove it on every run);
#   vmstream: `vmstream check --dest-stream ORIGINAL --json TAMPERED`.
# They must agree: QEMU refuses <=> verdict "fails"; when QEMU loads, the
# (vCPU, id) pairs of the findings with "effect": "changed" are QEMU's
# changed set, each "value_after" that is not null is the re-saved value,
# and those with "effect": "lost" are QEMU's lost set.  A finding without
# an "effect" key counts as effect null.
#
# Each case also states what it is built to show: QEMU's word and, for
# loads, register values of vCPU 0 after loading (NAME=VALUE; -NAME: absent
# from the re-saved stream).  If QEMU stops doing that, the case fails as
# well, so a case cannot silently stop exercising its rule.
#
# Exit 0 if every case passed; the last line is "N passed, M failed".
# Environment: VMSTREAM, TAMPER, VECTORS, QEMU_AARCH64, QEMU_ARM (needed:
# the 32-bit cases are part of the test), QEMU_TIMEOUT, QEMU_KEEP=1.
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
for t in "$QEMU_AARCH64" "$QEMU_ARM" socat zstd setsid jq comm "$VMSTREAM" "$TAMPER"; do
    command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
    echo "missing tools:$missing (install tests/integration/PACKAGES, build vmstream and tamper)"
    echo "0 passed, 1 failed"
    exit 1
fi
qemu_init || { echo "qemu_init failed"; echo "0 passed, 1 failed"; exit 1; }
echo "# $("$QEMU_AARCH64" --version | head -n1)"
T0=$(_qemu_now_ms)

# Registers that change on a plain load + re-save of an untampered paused
# stream (vCPU-independent ids).  Measured with QEMU 7.2.22 on the a57, max
# and a15 vectors here and on run-aa64-virt72-cortex-a57-2cpu-1s (saved from
# a running guest, loaded paused): none.  The control cases fail if that
# changes.
NOISE_IDS=()

pass=0 fail=0
ok()  { pass=$((pass + 1)); printf 'PASS %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }
TABLE=()

W=$QEMU_WORKDIR/cm
mkdir -p "$W"

# unz NAME -> $W/NAME.mig from real-v22/NAME.mig.zst (cached); sets U
unz() {
    U=$W/$1.mig
    [ -f "$U" ] || zstd -dqf "$VECTORS/real-v22/$1.mig.zst" -o "$U"
}
unz aa64-virt72-cortex-a57-2cpu; A57=$U
unz aa64-virt72-max-2cpu; MAX=$U
unz arm-virt72-cortex-a15-2cpu; A15=$U

# cpregs STREAM -> "vcpu id value name" per register, values normalised
# (0x, lower case, no leading zeros), first copy of an id per vCPU only
cpregs() {
    "$VMSTREAM" regs --json "$1" |
        jq -r '.[] | .vcpu as $c | .registers[] | select(.group == "cpreg")
               | "\($c) \(.id) \(.value) \(.name)"' |
        awk '{ v = tolower($3); sub(/^0x0*/, "", v); if (v == "") v = "0"
               k = $1 " " tolower($2)
               if (!(k in seen)) { seen[k] = 1; print k, "0x" v, $4 } }'
}

# normalise "0x..." or null
normv() { awk '{ v = tolower($0); if (v == "null") { print v; next }
                 sub(/^0x0*/, "", v); if (v == "") v = "0"; print "0x" v }'; }

# setdiff A B NAMES: the "vcpu id" lines of A that B lacks, as
# "vcpu:NAME" (names from the file NAMES: "vcpu id value name" lines)
setdiff() {
    comm -23 <(printf '%s\n' "$1" | sed '/^$/d' | sort -u) \
        <(printf '%s\n' "$2" | sed '/^$/d' | sort -u) |
        while read -r v i; do
            n=$(awk -v k="$v $i" '$1 " " $2 == k { print $4; exit }' "$3")
            printf '%s:%s ' "$v" "${n:-$i}"
        done | sed 's/ $//'
}

# tamper_chain IN OUT "OP ARGS; OP ARGS; ..." (no steps: a copy)
tamper_chain() {
    local in=$1 out=$2 steps=$3 cur step i=0
    local -a a
    rm -f "$out"
    cur=$in
    IFS=';' read -r -a a <<<"$steps"
    for step in "${a[@]}"; do
        # shellcheck disable=SC2086  # OP ARGS are words
        set -- $step
        [ $# -gt 0 ] || continue
        i=$((i + 1))
        "$TAMPER" "$cur" "$out.$i" "$@" || { echo "# tamper $step failed"; return 1; }
        cur=$out.$i
    done
    cp "$cur" "$out"
}

# mcase NAME BASE BIN CPU SMP "TAMPER STEPS" WANT_QEMU "FACTS"
mcase() {
    local name=$1 base=$2 bin=$3 cpu=$4 smp=$5 steps=$6 wq=$7 facts=$8
    local t=$W/t.mig re=$W/re.mig q c why f fname fval got verdict
    local qsum csum agree ms
    local -a dargs=(-M virt-7.2 -cpu "$cpu" -smp "$smp" -m 32M -nographic -S -serial none)
    if ! tamper_chain "$base" "$t" "$steps"; then
        bad "$name: could not build the tampered stream"
        TABLE+=("$name|-|-|-|no|tamper failed")
        return
    fi
    for _ in 1 2; do
        qemu_load -b "$bin" -o "$re" -e "$W/err" "$t" -- "${dargs[@]}" >/dev/null
        [ "$QEMU_RESULT" != error ] && break
        echo "# $name: harness error ($QEMU_REASON), retrying"
    done
    q=$QEMU_RESULT ms=$QEMU_MS
    why=""
    # --- QEMU's changed and lost sets
    : >"$W/q.changed"; : >"$W/q.lost"
    if [ "$q" = loads ]; then
        cpregs "$t" >"$W/t.regs"
        cpregs "$re" >"$W/r.regs"
        awk 'NR == FNR { t[$1 " " $2] = $3; next }
             { k = $1 " " $2; if (!(k in t) || t[k] != $3) print k, $3, $4 }' \
            "$W/t.regs" "$W/r.regs" >"$W/q.changed.all"
        awk 'NR == FNR { r[$1 " " $2] = 1; next }
             { k = $1 " " $2; if (!(k in r)) print k, $3, $4 }' \
            "$W/r.regs" "$W/t.regs" >"$W/q.lost.all"
        if [ ${#NOISE_IDS[@]} -gt 0 ]; then
            grep -v -i -F -f <(printf ' %s \n' "${NOISE_IDS[@]}") "$W/q.changed.all" >"$W/q.changed" || true
        else
            cp "$W/q.changed.all" "$W/q.changed"
        fi
        cp "$W/q.lost.all" "$W/q.lost"
        # what the case is built to show
        for f in $facts; do
            case $f in
            -*)
                fname=${f#-}
                if grep -q "^0 [^ ]* [^ ]* $fname\$" "$W/r.regs"; then
                    why="$why; QEMU kept $fname (case built to lose it)"
                fi ;;
            *=*)
                fname=${f%%=*} fval=$(printf '%s\n' "${f#*=}" | normv)
                got=$(awk -v n="$fname" '$1 == 0 && $4 == n { print $3; exit }' "$W/r.regs")
                [ "$got" = "$fval" ] ||
                    why="$why; QEMU's $fname after loading is ${got:-absent}, case built for $fval"
                ;;
            esac
        done
    elif [ "$q" = error ]; then
        why="$why; harness error: $QEMU_REASON"
    fi
    [ "$q" = "$wq" ] || why="$why; QEMU $q, case built for $wq"
    # --- vmstream check
    c=0
    "$VMSTREAM" check --dest-stream "$base" --json "$t" >"$W/check.json" 2>"$W/check.err" || c=$?
    verdict=$(jq -r '.verdict // "none"' "$W/check.json" 2>/dev/null || echo invalid-json)
    jq -r '.findings[]? | select(.effect == "changed")
           | "\(.vcpu) \(.id | ascii_downcase) \(.value_after // "null")"' \
        "$W/check.json" 2>/dev/null | sort -u >"$W/c.changed.raw"
    while read -r cv ci cval; do
        printf '%s %s %s\n' "$cv" "$ci" "$(printf '%s\n' "$cval" | normv)"
    done <"$W/c.changed.raw" >"$W/c.changed"
    jq -r '.findings[]? | select(.effect == "lost") | "\(.vcpu) \(.id | ascii_downcase)"' \
        "$W/check.json" 2>/dev/null | sort -u >"$W/c.lost"
    # --- compare
    agree=yes
    if [ "$q" = fails ]; then
        [ "$verdict" = fails ] || { agree=no; why="$why; QEMU refuses, check says '$verdict'"; }
    elif [ "$q" = loads ]; then
        if [ "$verdict" = fails ] || [ "$c" -eq 1 ] || [ "$c" -eq 2 ]; then
            agree=no; why="$why; QEMU loads, check says '$verdict' (exit $c)"
        fi
        local qc cc ql cl
        qc=$(cut -d' ' -f1,2 "$W/q.changed" | sort -u)
        cc=$(cut -d' ' -f1,2 "$W/c.changed" | sort -u)
        if [ "$qc" != "$cc" ]; then
            agree=no
            why="$why; changed only per QEMU: {$(setdiff "$qc" "$cc" "$W/q.changed")}, only per check: {$(setdiff "$cc" "$qc" "$W/t.regs")}"
        fi
        # value_after, where check gives one, is the re-saved value
        while read -r cv ci cval; do
            [ "$cval" = null ] && continue
            got=$(awk -v k="$cv $ci" '$1 " " $2 == k { print $3; exit }' "$W/r.regs")
            [ "$got" = "$cval" ] || { agree=no; why="$why; vCPU $cv $ci: check says value_after $cval, QEMU ${got:-absent}"; }
        done <"$W/c.changed"
        ql=$(cut -d' ' -f1,2 "$W/q.lost" | sort -u)
        cl=$(sort -u "$W/c.lost")
        if [ "$ql" != "$cl" ]; then
            agree=no
            why="$why; lost only per QEMU: {$(setdiff "$ql" "$cl" "$W/q.lost")}, only per check: {$(setdiff "$cl" "$ql" "$W/t.regs")}"
        fi
    else
        agree=no
    fi
    # summaries for the table: vCPU 0, NAME=VALUE
    qsum=$(awk '$1 == 0 { printf "%s%s=%s", s, $4, $3; s = " " }' "$W/q.changed")
    [ -s "$W/q.lost" ] && qsum="$qsum${qsum:+ }lost:$(awk '$1 == 0 { printf "%s%s", s, $4; s = "," }' "$W/q.lost")"
    [ "$q" = fails ] && qsum=$(grep -v '^$' "$W/err" | tail -n1 | sed 's/^qemu-system-[a-z0-9]*: //; s/load of migration failed: //' | cut -c1-40)
    csum=$(awk '$1 == 0 { printf "%s%s", s, $2; if ($3 != "null") printf "=%s", $3; s = " " }' "$W/c.changed")
    TABLE+=("$name|$q|${qsum:--}|$verdict|$agree|${csum:--}")
    if [ -z "$why" ]; then
        ok "$name: QEMU $q (${ms} ms)${qsum:+ [$qsum]}, check '$verdict'"
    else
        bad "$name: QEMU $q (${ms} ms), check '$verdict'$why"
        if [ "$q" != loads ]; then sed 's/^/    qemu: /' "$W/err" | tail -n 3; fi
        jq -c '.findings[]? | {vcpu, register, id, severity, effect, value_after, message}' \
            "$W/check.json" 2>/dev/null | head -n 6 | sed 's/^/    check: /'
        sed 's/^/    check stderr: /' "$W/check.err" | head -n 3
    fi
}

A=$QEMU_AARCH64 R=$QEMU_ARM
CTX="set-value CONTEXTIDR_S 0x1234; set-value CONTEXTIDR 0x1234; set-value CONTEXTIDR_EL1 0x1234"
FCSE="set-value FCSEIDR_S 0x2000000; set-value FCSEIDR 0x2000000"
UNKNOWN_LOW=0x4020000000000000    # AArch32 id below every list's first
UNKNOWN_HIGH=0x603000000013ffff   # S3_7_C15_C15_7, above every list's last

echo "## controls: untampered streams (the noise of a load + re-save)"
mcase "a57 untampered"                        "$A57" "$A" cortex-a57 2 "" loads ""
mcase "max untampered"                        "$MAX" "$A" max 2 "" loads ""
mcase "a15 untampered (arm)"                  "$A15" "$R" cortex-a15 2 "" loads ""

echo "## registers missing from the stream"
# the slot QEMU never filled is written: 0 on a fresh 7.2 destination
mcase "a57 - SCTLR_EL1 (writable)"            "$A57" "$A" cortex-a57 2 "drop SCTLR_EL1" loads "SCTLR_EL1=0x0"
mcase "a57 - CTR_EL0 (constant)"              "$A57" "$A" cortex-a57 2 "drop CTR_EL0" fails ""
mcase "a57 - REVIDR_EL1 (constant 0)"         "$A57" "$A" cortex-a57 2 "drop REVIDR_EL1" loads "REVIDR_EL1=0x0"
mcase "a57 - NSACR (cp15, constant on v8)"    "$A57" "$A" cortex-a57 2 "drop NSACR" fails ""
# CONTEXTIDR, CONTEXTIDR_S and CONTEXTIDR_EL1 are one register on a
# TCG destination: the last one written (CONTEXTIDR_EL1) decides
mcase "a57 - CONTEXTIDR (cp15; CONTEXTIDR_EL1=0x1234)" "$A57" "$A" cortex-a57 2 "$CTX; drop CONTEXTIDR" loads "CONTEXTIDR=0x1234"
mcase "max - ZCR_EL1 (SVE)"                   "$MAX" "$A" max 2 "drop ZCR_EL1" loads "ZCR_EL1=0x0"
mcase "max - ID_AA64ZFR0_EL1 (SVE ID)"        "$MAX" "$A" max 2 "drop ID_AA64ZFR0_EL1" fails ""
mcase "a15 - SCTLR_S (arm; SCTLR_EL1 decides)" "$A15" "$R" cortex-a15 2 "drop SCTLR_S" loads "SCTLR_S=0xc50078"

echo "## order of the list"
mcase "a57 rotated right by one (last first)" "$A57" "$A" cortex-a57 2 "rotate 1" fails ""
mcase "a57 rotated left by one (first last)"  "$A57" "$A" cortex-a57 2 "rotate -1" loads "FCSEIDR_S=0x0"
mcase "a57 first two swapped"                 "$A57" "$A" cortex-a57 2 "swap 0" fails ""
mcase "a57 smallest id to the end (FCSEIDR_S=FCSEIDR=0x2000000)" "$A57" "$A" cortex-a57 2 "$FCSE; move 0 -1" loads "FCSEIDR_S=0x2000000"
mcase "max largest id to the front"           "$MAX" "$A" max 2 "move -1 0" fails ""
mcase "a57 whole list reversed"               "$A57" "$A" cortex-a57 2 "reverse" fails ""
mcase "a57 last three reversed (MAIR_EL3=0x44)" "$A57" "$A" cortex-a57 2 "set-value MAIR_EL3 0x44; reverse-range -3 3" loads "MAIR_EL3=0x0"
mcase "a57 SCTLR_EL1 moved to the end"        "$A57" "$A" cortex-a57 2 "move-reg SCTLR_EL1 -1" loads "SCTLR_EL1=0x0"
mcase "a15 VBAR_S=0x8000 (arm; VBAR_EL1 decides)" "$A15" "$R" cortex-a15 2 "set-value VBAR_S 0x8000" loads "VBAR_S=0x0"

echo "## duplicates, and ids outside the destination's list"
mcase "a57 id 129 twice (N+1)"                "$A57" "$A" cortex-a57 2 "dup 129" fails ""
mcase "a57 id 129 twice, - SCTLR_EL1 (N)"     "$A57" "$A" cortex-a57 2 "drop SCTLR_EL1; dup 129" fails ""
mcase "a57 last id twice (N+1)"               "$A57" "$A" cortex-a57 2 "dup -1" fails ""
mcase "a57 last id twice, - SCTLR_EL1 (N)"    "$A57" "$A" cortex-a57 2 "drop SCTLR_EL1; dup -1" loads "SCTLR_EL1=0x0"
mcase "a57 unknown id before the first, - SCTLR_EL1" "$A57" "$A" cortex-a57 2 "drop SCTLR_EL1; insert-mid $UNKNOWN_LOW" fails ""
mcase "a57 unknown id after the last, - SCTLR_EL1"   "$A57" "$A" cortex-a57 2 "drop SCTLR_EL1; insert-end $UNKNOWN_HIGH" loads "SCTLR_EL1=0x0 -S3_7_C15_C15_7"

echo "# QEMU: loads/fails; QEMU changed/lost: vCPU 0 registers after loading (or QEMU's error); agree: QEMU and check"
printf '#   %-60s %-5s %-38s %-15s %-5s %s\n' case QEMU "QEMU changed/lost (vCPU 0)" "check verdict" agree "check effect=changed (vCPU 0)"
for row in "${TABLE[@]}"; do
    IFS='|' read -r n q qs v a cs <<<"$row"
    printf '#   %-60s %-5s %-38s %-15s %-5s %s\n' "$n" "$q" "$qs" "$v" "$a" "$cs"
done
echo "# QEMU runs: $(wc -l <"$QEMU_WORKDIR/timings"), QEMU wall time $(awk '{s += $1} END {print s + 0}' "$QEMU_WORKDIR/timings") ms, total $(($(_qemu_now_ms) - T0)) ms"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
