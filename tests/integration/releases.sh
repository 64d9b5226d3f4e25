#!/bin/bash
# tests/integration/releases.sh - QEMU 7.2 <-> QEMU 10.0 with real QEMU of
# both releases (issue #13).  For cortex-a57 x2, cortex-a53, max x2,
# cortex-a15 (AArch32) and no-vmdesc streams of a57 x2 and max x2, all on
# -M virt-7.2, in both directions, with the real streams of
# tests/vectors/real-10.0 (each release saved a running guest, paused):
#   1. the direct load into the other release fails, and
#      `vmstream check --dest-stream OTHER` predicts it: exit 1, and for
#      10.0 -> 7.2 the very "Invalid value N expecting positive value <= M"
#      QEMU prints;
#   2. `vmstream convert --repair --dest-stream OTHER` (OTHER: the same VM
#      saved by the destination release) gives a stream the destination
#      loads (paused), re-saves, and runs on: the guest's UART counter goes
#      on from the source's last value;
#   3. the re-saved stream differs from the source stream in exactly the
#      registers the repair reported, with the reported new values.
# Then: a -M virt-10.0 stream is refused by 7.2 (machine type) and check
# and --repair say so; a LIVE migration of a running guest from QEMU 7.2 to
# QEMU 10.0 through `vmstream convert --repair` as the source's exec:
# filter continues; the same through `vmstream proxy --repair` over tcp.
#
# Exit 0 if every case passed; last line "N passed, M failed".
# Environment: VMSTREAM, VECTORS, QEMU_AARCH64, QEMU_ARM (7.2),
# QEMU10_AARCH64, QEMU10_ARM (10.0; installed by tools/qemu10.sh when
# unset and absent), QEMU_TIMEOUT, QEMU_KEEP=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${VECTORS:=$here/../vectors}"
VECTORS=$(cd "$VECTORS" && pwd) || { echo "no VECTORS dir"; echo "0 passed, 1 failed"; exit 1; }
: "${VMSTREAM:=$PWD/vmstream}"
: "${QEMU_AARCH64:=qemu-system-aarch64}"
: "${QEMU_ARM:=qemu-system-arm}"
R10=/opt/vmstream/qemu-10.0/bin
if [ -z "${QEMU10_AARCH64:-}" ] || [ -z "${QEMU10_ARM:-}" ]; then
    if [ ! -x "$R10/qemu-system-aarch64" ] || [ ! -x "$R10/qemu-system-arm" ]; then
        echo "# QEMU 10.0 not installed: running tools/qemu10.sh"
        sh "$top/tools/qemu10.sh" >&2 || true
    fi
    : "${QEMU10_AARCH64:=$R10/qemu-system-aarch64}"
    : "${QEMU10_ARM:=$R10/qemu-system-arm}"
    [ -x "$QEMU10_AARCH64" ] || QEMU10_AARCH64=""
    [ -x "$QEMU10_ARM" ] || QEMU10_ARM=""
fi
export VECTORS QEMU_AARCH64
# shellcheck source=tests/integration/qemu.sh
. "$here/qemu.sh"

missing=""
for t in "$QEMU_AARCH64" "$QEMU_ARM" "$QEMU10_AARCH64" "$QEMU10_ARM" socat zstd setsid jq "$VMSTREAM"; do
    [ -n "$t" ] && command -v "$t" >/dev/null 2>&1 || missing="$missing ${t:-qemu-10.0}"
done
if [ -n "$missing" ]; then
    echo "missing tools:$missing (tools/setup.sh --tests installs them)"
    echo "0 passed, 1 failed"
    exit 1
fi
qemu_init || { echo "qemu_init failed"; echo "0 passed, 1 failed"; exit 1; }
echo "# 7.2:  $("$QEMU_AARCH64" --version | head -n1)"
echo "# 10.0: $("$QEMU10_AARCH64" --version | head -n1)"
T0=$(_qemu_now_ms)
W=$QEMU_WORKDIR
D=$VECTORS/real-10.0
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }
t() {   # t DESC CMD...
    local d=$1; shift
    if "$@"; then ok "$d"; else bad "$d"; fi
}

# bin REL ARCH -> the binary
bin() {
    case $1-$2 in
    72-aa64) echo "$QEMU_AARCH64" ;; 72-arm) echo "$QEMU_ARM" ;;
    10-aa64) echo "$QEMU10_AARCH64" ;; 10-arm) echo "$QEMU10_ARM" ;;
    esac
}

# load_run NAME BIN MACH CPU SMP GUEST IN RESAVE SRCLAST: load IN into a
# paused -incoming destination, save it again to RESAVE, cont, and judge
# the counter.  Prints "continues", "fails: QEMU's messages" or "broken: why".
load_run() {
    local name=$1 b=$2 mach=$3 cpu=$4 smp=$5 g=$6 in=$7 out=$8 last=$9
    local ser=$W/$name.serial st s2 first rs
    : > "$ser"
    rm -f "$out"
    if ! qemu_start "$name" "$b" -M "$mach" -cpu "$cpu" -smp "$smp" -m 32M \
            -nographic -kernel "$g" -serial "file:$ser" -S -incoming defer; then
        echo "broken: $name did not start: $(tr '\n' '|' < "$(qemu_stderr "$name")")"
        qemu_stop "$name"; return
    fi
    qemu_qmp "$name" migrate-incoming "{\"uri\": \"exec:cat '$in'\"}" >/dev/null
    st=$(qemu_wait_migration "$name" 60)
    if [ "$st" != completed ]; then
        qemu_stop "$name"
        echo "fails: $(grep -v '^$' "$(qemu_stderr "$name")" | tr '\n' '|')"
        return
    fi
    if [ -n "$out" ]; then
        qemu_qmp "$name" migrate "{\"uri\": \"exec:cat > '$out'\"}" >/dev/null
        s2=$(qemu_wait_migration "$name" 60)
        [ "$s2" = completed ] || { qemu_stop "$name"; echo "broken: re-save $s2"; return; }
    fi
    qemu_qmp "$name" cont >/dev/null
    _qemu_wait_cnt "$ser" 1 60 "$name"
    first=$(qemu_serial_first "$ser")
    rs=$(qemu_runstate "$name")
    qemu_stop "$name"
    if [ "$rs" = running ] && ! grep -q GUEST-BOOT "$ser" && [ -n "$first" ] &&
       [ $((16#$first)) -gt $((16#$last)) ]; then
        echo "continues ($last -> $first)"
    else
        echo "broken: state $rs, counter $last -> '$first'"
    fi
}

contains() { [[ "$1" == *"$2"* ]]; }
rel() { if [ "$1" = 72 ]; then echo 7.2; else echo 10.0; fi; }

# "vcpu id value" lines, values without leading zeros
norm() { sed 's/ 0x0*\([0-9a-f][0-9a-f]*\)$/ 0x\1/' | sort; }

for row in "aa64-virt72-cortex-a57-2cpu cortex-a57 2 virt-7.2" \
           "aa64-virt72-cortex-a53-1cpu cortex-a53 1 virt-7.2" \
           "aa64-virt72-max-2cpu max 2 virt-7.2" \
           "arm-virt72-cortex-a15-1cpu cortex-a15 1 virt-7.2" \
           "aa64-virt72-cortex-a57-2cpu-novmdesc cortex-a57 2 virt-7.2,suppress-vmdesc=on" \
           "aa64-virt72-max-2cpu-novmdesc max 2 virt-7.2,suppress-vmdesc=on"; do
    set -- $row
    m=$1 cpu=$2 smp=$3 mach=$4 arch=${1%%-*}
    g=$VECTORS/guest/guest.elf
    [ "$arch" = arm ] && g=$VECTORS/guest32/guest32.elf
    for dir in "72 10" "10 72"; do
        set -- $dir
        from=$1 to=$2
        src=$W/q$from-$m.mig dst=$W/q$to-$m.mig
        [ -f "$src" ] || zstd -dqf "$D/q$from-$m.mig.zst" -o "$src"
        [ -f "$dst" ] || zstd -dqf "$D/q$to-$m.mig.zst" -o "$dst"
        last=$(qemu_serial_last "$D/q$from-$m.serial.txt")
        b=$(bin "$to" "$arch")
        c="$m $(rel "$from")->$(rel "$to")"

        # 1. direct load refused, and predicted
        r=$(load_run direct "$b" "$mach" "$cpu" "$smp" "$g" "$src" "" "$last")
        t "$c: the direct load fails (${r:0:160})" [ "${r%%:*}" = fails ]
        "$VMSTREAM" check --dest-stream "$dst" "$src" > "$W/check.out" 2>&1
        t "$c: check predicts it (exit 1)" [ $? -eq 1 ]
        want=$(printf '%s' "$r" | grep -o 'Invalid value [0-9]* expecting positive value <= [0-9]*' | head -n1)
        if [ -n "$want" ]; then
            t "$c: check gives QEMU's reason \"$want\"" grep -q "\"$want\"" "$W/check.out"
        else
            t "$c: QEMU says EPERM; check names a register rule" \
                sh -c "printf '%s' '$r' | grep -q 'Operation not permitted' &&
                       grep -q 'Operation not permitted\|cpu_post_load fails' '$W/check.out'"
        fi

        # 2. repaired: loads, re-saves, continues
        "$VMSTREAM" convert --repair --dest-stream "$dst" --report "$W/rep.json" \
            "$src" "$W/rep.mig" 2> "$W/rep.err"
        t "$c: convert --repair (exit 0, $(jq .changes "$W/rep.json" 2>/dev/null) changes)" [ $? -eq 0 ]
        r=$(load_run repaired "$b" "$mach" "$cpu" "$smp" "$g" "$W/rep.mig" "$W/resaved.mig" "$last")
        t "$c: QEMU $(rel "$to") loads the repaired stream and the guest continues (${r:0:160})" \
            [ "${r%% *}" = continues ]

        # 3. the re-saved registers differ from the source's in exactly the
        # reported ones, with the reported values
        if [ -s "$W/resaved.mig" ]; then
            "$VMSTREAM" regs --diff "$src" --json "$W/resaved.mig" > "$W/diff.json" 2>/dev/null
            jq -r '.registers[] | "\(.vcpu) \(.id)"' "$W/diff.json" | sort > "$W/d1"
            jq -r '.list[] | select(.register) | "\(.vcpu) \(.id)"' "$W/rep.json" | sort > "$W/d2"
            t "$c: re-saved at the destination: exactly the reported registers changed ($(wc -l < "$W/d1") vs $(wc -l < "$W/d2"))" \
                cmp -s "$W/d1" "$W/d2"
            jq -r '.registers[] | select(.change != "missing") | "\(.vcpu) \(.id) \(.value)"' "$W/diff.json" | norm > "$W/v1"
            jq -r '.list[] | select(.new) | "\(.vcpu) \(.id) \(.new)"' "$W/rep.json" | norm > "$W/v2"
            t "$c: ... with the reported new values" cmp -s "$W/v1" "$W/v2"
        else
            bad "$c: no re-saved stream to compare"
        fi
    done
done

# What QEMU 10.0 TCG does with a register the stream lacks (a 10.0 a57 x2
# stream, one register left out with --drop): a constant one (RMR_EL1)
# fails the load; a writable one (TPIDR_EL0) loads with whatever its value
# slot held (seen: 0 on vCPU 0, 0x190 on vCPU 1; heap state, so only
# printed); check says so ("uninitialised", exit 3 / exit 1).
q10=$W/q10-aa64-virt72-cortex-a57-2cpu.mig
last=$(qemu_serial_last "$D/q10-aa64-virt72-cortex-a57-2cpu.serial.txt")
"$VMSTREAM" convert --to v22 --drop RMR_EL1 "$q10" "$W/no-rmr.mig" 2>/dev/null
r=$(load_run norm "$QEMU10_AARCH64" virt-7.2 cortex-a57 2 "$VECTORS/guest/guest.elf" "$W/no-rmr.mig" "" "$last")
t "10.0 without RMR_EL1: the load fails (${r:0:100})" contains "$r" "Operation not permitted"
"$VMSTREAM" check --dest-stream "$q10" "$W/no-rmr.mig" > "$W/nr.check" 2>&1
t "10.0 without RMR_EL1: check fails (exit 1), uninitialised slot" \
    sh -c "[ $? -eq 1 ] && grep -q 'RMR_EL1.*uninitialised memory' '$W/nr.check'"
"$VMSTREAM" convert --to v22 --drop TPIDR_EL0 "$q10" "$W/no-tpidr.mig" 2>/dev/null
r=$(load_run notp "$QEMU10_AARCH64" virt-7.2 cortex-a57 2 "$VECTORS/guest/guest.elf" "$W/no-tpidr.mig" "$W/no-tpidr-re.mig" "$last")
t "10.0 without TPIDR_EL0: loads and continues (${r:0:60})" [ "${r%% *}" = continues ]
if [ -s "$W/no-tpidr-re.mig" ]; then
    "$VMSTREAM" regs --json "$W/no-tpidr-re.mig" > "$W/tp.json" 2>/dev/null
    v0=$(jq -r '.[0].registers[] | select(.name == "TPIDR_EL0") | .value' "$W/tp.json")
    v1=$(jq -r '.[1].registers[] | select(.name == "TPIDR_EL0") | .value' "$W/tp.json")
    echo "# 10.0 TCG, TPIDR_EL0 not in the stream: vCPU 0 -> $v0, vCPU 1 -> $v1"
    is_zero() { [ -n "$1" ] && [ $(($1)) -eq 0 ]; }
    t "10.0 without TPIDR_EL0: vCPU 0 re-saved 0 ($v0)" is_zero "$v0"
else
    bad "10.0 without TPIDR_EL0: no re-saved stream"
fi
"$VMSTREAM" check --dest-stream "$q10" "$W/no-tpidr.mig" > "$W/nt.check" 2>&1
t "10.0 without TPIDR_EL0: check: loads with loss (exit 3), unpredictable value" \
    sh -c "[ $? -eq 3 ] && grep -q 'TPIDR_EL0.*uninitialised cpreg_values slot held (unpredictable' '$W/nt.check'"

# A -M virt-10.0 stream into 7.2: 7.2 has no such machine; with -M virt-7.2
# the configuration section is refused.
v100=$W/v100.mig s72=$W/q72-aa64-virt72-cortex-a57-2cpu.mig
zstd -dqf "$D/q10-aa64-virt100-cortex-a57-2cpu.mig.zst" -o "$v100"
"$QEMU_AARCH64" -M virt-10.0 -cpu cortex-a57 -display none -nodefaults \
    -S -monitor none </dev/null > "$W/m.out" 2>&1 & mp=$!
sleep 0.5; kill "$mp" 2>/dev/null; wait "$mp" 2>/dev/null
t "virt-10.0: QEMU 7.2 cannot start it" grep -qi 'unsupported machine type' "$W/m.out"
r=$(load_run vm "$QEMU_AARCH64" virt-7.2 cortex-a57 2 "$VECTORS/guest/guest.elf" "$v100" "" 0)
t "virt-10.0 into 7.2 -M virt-7.2 fails on the machine type (${r:0:120})" \
    contains "$r" "Machine type received is 'virt-10.0' and local is 'virt-7.2'"
"$VMSTREAM" check --dest-stream "$s72" "$v100" > "$W/m.check" 2>&1
t "virt-10.0: check against a 7.2 stream fails (exit 1)" [ $? -eq 1 ]
t "virt-10.0: check says machine type" grep -q "machine type 'virt-10.0'" "$W/m.check"
rm -f "$W/m.mig"
"$VMSTREAM" convert --repair --dest-stream "$s72" "$v100" "$W/m.mig" 2> "$W/m.err"
t "virt-10.0: --repair refuses (exit 1) with the machine type, no output" \
    sh -c "[ $? -eq 1 ] && grep -q \"machine type 'virt-10.0'\" '$W/m.err' && [ ! -e '$W/m.mig' ]"

# LIVE: 7.2 -> 10.0, running guest, vmstream convert --repair as the
# source's exec: filter
dst10=$W/q10-aa64-virt72-cortex-a57-2cpu.mig
r=$(qemu_live_migrate -b "$QEMU_AARCH64" -B "$QEMU10_AARCH64" -c cortex-a57 -s 2 -m 32M -F src \
      -f "'$VMSTREAM' convert --repair --dest-stream '$dst10' --report '$W/live.json' - -" -t 60)
t "live 7.2 -> 10.0 through convert --repair (source exec: filter): $r" [ "$r" = continues ]
t "live: the repair reported 40 changes (a57 x2)" [ "$(jq .changes "$W/live.json" 2>/dev/null)" = 40 ]
dst72=$W/q72-aa64-virt72-max-2cpu.mig
r=$(qemu_live_migrate -b "$QEMU10_AARCH64" -B "$QEMU_AARCH64" -c max -s 2 -m 32M -F src \
      -f "'$VMSTREAM' convert --repair --dest-stream '$dst72' - -" -t 60)
t "live 10.0 -> 7.2 (max x2, cpu/wfxt-timer left out) through convert --repair: $r" [ "$r" = continues ]

# the same on the wire: vmstream proxy --repair between 7.2 and 10.0 (tcp,
# return path)
# shellcheck source=tests/integration/qemu-net.sh
. "$here/qemu-net.sh"
qemu_net_migrate -T tcp -b "$QEMU_AARCH64" -B "$QEMU10_AARCH64" -c cortex-a57 -s 2 -m 32M \
    -x return-path -P "--repair --dest-stream $dst10" -t 60 > /dev/null
t "live 7.2 -> 10.0 through vmstream proxy --repair (tcp): $QEMU_NET_RESULT ${QEMU_NET_REASON:0:120}" \
    [ "$QEMU_NET_RESULT" = continues ]

echo "# $(( ($(_qemu_now_ms) - T0) / 1000 )) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
