#!/bin/bash
# tests/vectors/real-10.0/make-streams.sh - (re)make the QEMU 7.2 / 10.0
# streams of this directory and check how each loads into both releases.
#
#   make-streams.sh OUTDIR [PART]     streams, logs and results.txt in OUTDIR
#                                     PART: all (default), cross, virt100,
#                                     mapped, dump
#
# Environment: QEMU_AARCH64 / QEMU_ARM (7.2, default the system's),
# QEMU10_AARCH64 / QEMU10_ARM (10.0, default tools/qemu10.sh's wrappers).
# Not a test: it writes what MANIFEST.md describes.  Every stream is taken
# the same way: the guest runs until it printed its first cnt= line and at
# least 1 s went by, `stop`, then `migrate exec:cat > F` (or file: for
# mapped-ram); each one is then loaded (same command line + -incoming
# defer, migrate-incoming) into 7.2 and into 10.0, `cont`, and judged:
#   continues   completed, running, no boot banner, first cnt= line greater
#               than the source's last
#   fails       the load failed (QEMU's error lines are kept)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
out=${1:?usage: make-streams.sh OUTDIR}
mkdir -p "$out" && out=$(cd "$out" && pwd)
: "${QEMU_AARCH64:=qemu-system-aarch64}" "${QEMU_ARM:=qemu-system-arm}"
q10root=${QEMU10_ROOT:-/opt/vmstream/qemu-10.0}
: "${QEMU10_AARCH64:=$q10root/bin/qemu-system-aarch64}"
: "${QEMU10_ARM:=$q10root/bin/qemu-system-arm}"
G64=$top/tests/vectors/guest/guest.elf
G32=$top/tests/vectors/guest32/guest32.elf
# shellcheck source=tests/integration/qemu.sh
. "$top/tests/integration/qemu.sh"
qemu_init
part=${2:-all}
RES=$out/results.txt
: >>"$RES"

bin_for() {   # REL arch -> binary
    case $1-$2 in
    72-aa64) echo "$QEMU_AARCH64" ;; 72-arm) echo "$QEMU_ARM" ;;
    10-aa64) echo "$QEMU10_AARCH64" ;; 10-arm) echo "$QEMU10_ARM" ;;
    esac
}

# save REL NAME ARCH MACHINE CPU SMP [mapped]
#   writes $out/q$REL-NAME.mig (and, with "mapped", also
#   $out/q$REL-NAME-mappedram.bin from the same paused VM)
save() {
    local rel=$1 name=$2 arch=$3 mach=$4 cpu=$5 smp=$6 mapped=${7:-} bin g f t0 st
    bin=$(bin_for "$rel" "$arch")
    g=$G64; [ "$arch" = arm ] && g=$G32
    f=$out/q$rel-$name
    t0=$(_qemu_now_ms)
    qemu_start src "$bin" -M "$mach" -cpu "$cpu" -smp "$smp" -m 32M -nographic \
        -kernel "$g" -serial "file:$f.serial.txt" || { echo "start failed: $f" >&2; return 1; }
    cp "$QEMU_WORKDIR/src/cmdline" "$f.cmdline"
    _qemu_wait_cnt "$f.serial.txt" 1 30 src || { echo "no cnt= from $f" >&2; return 1; }
    while [ $(($(_qemu_now_ms) - t0)) -lt 1000 ]; do sleep 0.05; done
    qemu_qmp src stop >/dev/null
    qemu_qmp src migrate "{\"uri\": \"exec:cat > '$f.mig'\"}" >/dev/null
    st=$(qemu_wait_migration src 60)
    [ "$st" = completed ] || { echo "save $f: $st" >&2; qemu_stop src; return 1; }
    qemu_stop src
    if [ -n "$mapped" ]; then
        # QEMU 10.0 refuses a second migration from the same source ("Can't
        # migrate the vm that was paused due to previous migration"): the
        # plain stream is loaded into a paused (-S) 10.0 of the same command
        # line, which then saves it again with mapped-ram
        qemu_start mr "$bin" -M "$mach" -cpu "$cpu" -smp "$smp" -m 32M -nographic \
            -kernel "$g" -serial none -S -incoming defer || return 1
        cp "$QEMU_WORKDIR/mr/cmdline" "$f-mappedram.cmdline"
        qemu_qmp mr migrate-incoming "{\"uri\": \"exec:cat '$f.mig'\"}" >/dev/null
        st=$(qemu_wait_migration mr 60)
        [ "$st" = completed ] || echo "mapped-ram reload $f: $st" >&2
        qemu_qmp mr migrate-set-capabilities \
            '{"capabilities": [{"capability": "mapped-ram", "state": true}]}' >/dev/null
        rm -f "$f-mappedram.bin"
        qemu_qmp mr migrate "{\"uri\": \"file:$f-mappedram.bin\"}" >/dev/null
        st=$(qemu_wait_migration mr 60)
        [ "$st" = completed ] || echo "mapped-ram save $f: $st" >&2
        qemu_stop mr
    fi
    printf 'saved q%s-%s: %s -M %s -cpu %s -smp %s (%s bytes, last %s)\n' "$rel" "$name" \
        "$(basename "$bin")" "$mach" "$cpu" "$smp" "$(stat -c %s "$f.mig")" \
        "$(qemu_serial_last "$f.serial.txt")" >>"$RES"
}

# load REL FILE ARCH MACHINE CPU SMP SRCSERIAL [mapped]
load() {
    local rel=$1 f=$2 arch=$3 mach=$4 cpu=$5 smp=$6 sser=$7 mapped=${8:-} bin g d st rs v last first uri
    bin=$(bin_for "$rel" "$arch")
    g=$G64; [ "$arch" = arm ] && g=$G32
    d=$QEMU_WORKDIR/dst.serial
    : >"$d"
    qemu_start dst "$bin" -M "$mach" -cpu "$cpu" -smp "$smp" -m 32M -nographic \
        -kernel "$g" -serial "file:$d" -incoming defer || true
    uri="exec:cat '$f'"
    if [ -n "$mapped" ]; then
        qemu_qmp dst migrate-set-capabilities \
            '{"capabilities": [{"capability": "mapped-ram", "state": true}]}' >/dev/null
        uri="file:$f"
    fi
    qemu_qmp dst migrate-incoming "{\"uri\": \"$uri\"}" >/dev/null
    st=$(qemu_wait_migration dst 60)
    v=fails
    if [ "$st" = completed ]; then
        qemu_qmp dst cont >/dev/null
        _qemu_wait_cnt "$d" 1 30 dst || true
        rs=$(qemu_runstate dst)
        last=$(qemu_serial_last "$sser") first=$(qemu_serial_first "$d")
        if [ "$rs" = running ] && ! grep -q GUEST-BOOT "$d" && [ -n "$first" ] &&
                [ $((16#$first)) -gt $((16#$last)) ]; then
            v="continues ($last -> $first)"
        else
            v="broken (state $rs, $last -> '$first')"
        fi
    fi
    qemu_stop dst
    printf 'load %s into %s: %s\n' "$(basename "$f")" "$rel" "$v" >>"$RES"
    if [ "${v%% *}" != continues ]; then
        grep -v '^$' "$QEMU_WORKDIR/dst/stderr" | sed 's/^/    /' >>"$RES"
    fi
}

# name arch machine cpu smp
SPECS="aa64-virt72-cortex-a57-2cpu aa64 virt-7.2 cortex-a57 2
aa64-virt72-cortex-a53-1cpu aa64 virt-7.2 cortex-a53 1
aa64-virt72-max-2cpu aa64 virt-7.2 max 2
arm-virt72-cortex-a15-1cpu arm virt-7.2 cortex-a15 1
aa64-virt72-cortex-a57-2cpu-novmdesc aa64 virt-7.2,suppress-vmdesc=on cortex-a57 2
aa64-virt72-max-2cpu-novmdesc aa64 virt-7.2,suppress-vmdesc=on max 2"

run() { [ "$part" = all ] || [ "$part" = "$1" ]; }

run cross && while read -r name arch mach cpu smp; do
    for rel in 72 10; do
        save "$rel" "$name" "$arch" "$mach" "$cpu" "$smp"
    done
    for rel in 72 10; do
        for into in 72 10; do
            load "$into" "$out/q$rel-$name.mig" "$arch" "$mach" "$cpu" "$smp" \
                "$out/q$rel-$name.serial.txt"
        done
    done
done <<EOF
$SPECS
EOF

# 10.0 only: its own machine type; a mapped-ram file beside a plain stream
# of the same paused VM
if run virt100; then
save 10 aa64-virt100-cortex-a57-2cpu aa64 virt-10.0 cortex-a57 2
load 10 "$out/q10-aa64-virt100-cortex-a57-2cpu.mig" aa64 virt-10.0 cortex-a57 2 \
    "$out/q10-aa64-virt100-cortex-a57-2cpu.serial.txt"
load 72 "$out/q10-aa64-virt100-cortex-a57-2cpu.mig" aa64 virt-7.2 cortex-a57 2 \
    "$out/q10-aa64-virt100-cortex-a57-2cpu.serial.txt"
fi
if run mapped; then
save 10 aa64-virt72-cortex-a57-1cpu-plain aa64 virt-7.2 cortex-a57 1 mapped
load 10 "$out/q10-aa64-virt72-cortex-a57-1cpu-plain-mappedram.bin" aa64 virt-7.2 \
    cortex-a57 1 "$out/q10-aa64-virt72-cortex-a57-1cpu-plain.serial.txt" mapped
load 10 "$out/q10-aa64-virt72-cortex-a57-1cpu-plain.mig" aa64 virt-7.2 \
    cortex-a57 1 "$out/q10-aa64-virt72-cortex-a57-1cpu-plain.serial.txt"
fi

# -dump-vmstate of both releases
run dump && for rel in 72 10; do
    for cpu in max cortex-a57; do
        "$(bin_for "$rel" aa64)" -M virt-7.2 -cpu "$cpu" -m 32M -nographic \
            -display none -monitor none -serial none \
            -dump-vmstate "$out/q$rel-aa64-virt72-$cpu.vmstate.json"
        echo "dump-vmstate q$rel-aa64-virt72-$cpu.vmstate.json: exit $?" >>"$RES"
    done
done
cat "$RES"
