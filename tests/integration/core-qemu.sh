#!/bin/bash
# tests/integration/core-qemu.sh - `vmstream core` and `vmstream extract`
# against QEMU 7.2's own dump-guest-memory of the same VM.
#
# For each case one QEMU runs a guest, then (paused) writes its own ELF
# core with QMP dump-guest-memory (paging=false, format elf) and migrates
# to a file.  Then:
#   - `vmstream core` of the stream has the same PT_LOADs (guest-physical
#     address, sizes, bytes) and the same note bytes as QEMU's core
#     (elfcmp cores; only the file layout may differ, see doc/vmstream.1);
#   - `vmstream extract` gives exactly the RAM bytes of QEMU's dump
#     (elfcmp ram, mach-virt.ram at 0x40000000), and `extract --block`
#     the same file;
#   - gdb-multiarch on both cores prints the same PC and the same four
#     doublewords at PC (x/4gx $pc), and they are not "Cannot access";
#   - the RAM blocks QEMU does not dump are named in core's warning.
# Cases:
#   a57-stopped   cortex-a57, 1 vCPU, guest.elf running, then `stop`
#   max-stopped   max (SVE), 2 vCPUs, guest.elf running, then `stop`
#   a15-stopped   qemu-system-arm cortex-a15 (AArch32, ELF32 core), a
#                 4-instruction loop loaded with -device loader, `stop`
#   a57-compress  cortex-a57, 2 vCPUs, stopped, compress capability: the
#                 stream has COMPRESS_PAGE records
#   a57-xbzrle    cortex-a57, 2 vCPUs, migrated while running with xbzrle
#                 and a bandwidth limit: several precopy iterations, XBZRLE
#                 records; QEMU's dump is taken after the migration
#                 completed (VM paused in postmigrate)
#   diff          (f) two streams of one cortex-a57 guest taken a second
#                 apart (stop, migrate, cont, 1 s, stop, migrate): `vmstream
#                 diff` reports changed registers and RAM pages and nothing
#                 else (clock bookkeeping moves too: timer#0's virtual
#                 clock offsets, pl031's RTC offset; the summary says by
#                 how much, not counted unless --clocks); `diff A A`
#                 reports nothing (exit 0)
#
# Exit 0 if every test passed; the last line is "N passed, M failed".
# Environment: VMSTREAM, ELFCMP, VECTORS, QEMU_AARCH64, QEMU_ARM,
# QEMU_TIMEOUT, QEMU_KEEP=1, QEMU_VERBOSE=1, CORE_CASES (letters of the
# cases to run, default "abcdef").
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
: "${VECTORS:=$here/../vectors}"
VECTORS=$(cd "$VECTORS" && pwd) || { echo "no VECTORS dir"; echo "0 passed, 1 failed"; exit 1; }
: "${VMSTREAM:=$PWD/vmstream}"
: "${ELFCMP:=${TOP_BUILDDIR:-$PWD}/tests/integration/elfcmp}"
: "${QEMU_AARCH64:=qemu-system-aarch64}"
: "${QEMU_ARM:=qemu-system-arm}"
export VECTORS QEMU_AARCH64
# shellcheck source=tests/integration/qemu.sh
. "$here/qemu.sh"

missing=""
for t in "$QEMU_AARCH64" "$QEMU_ARM" socat setsid cmp gdb-multiarch "$VMSTREAM" "$ELFCMP"; do
    command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
    echo "missing tools:$missing (tools/setup.sh --tests installs them; make check builds elfcmp)"
    echo "0 passed, 1 failed"
    exit 1
fi
qemu_init || { echo "qemu_init failed"; echo "0 passed, 1 failed"; exit 1; }
echo "# $("$QEMU_AARCH64" --version | head -n1); $(gdb-multiarch --version | head -n1)"

pass=0 fail=0
ok()  { pass=$((pass + 1)); printf 'PASS %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }

W=$QEMU_WORKDIR/core
mkdir -p "$W"
GUEST=$QEMU_GUEST_ELF
QT=$((QEMU_TIMEOUT * 3))     # generous: the machine is shared

# An AArch32 guest without a cross assembler: A32 words, little-endian.
#   mov r1, #0x40000000 ; loop: add r0, r0, #1 ; str r0, [r1, #0x100] ;
#   b loop
printf '\x01\x11\xa0\xe3\x01\x00\x80\xe2\x00\x01\x81\xe5\xfc\xff\xff\xea' \
    >"$W/a32loop.bin"

# snap NAME MODE CAPS BIN QEMU_ARGS...
#   Start QEMU, let the guest run (until 2 cnt= lines, or 1 s for a guest
#   that does not print), then
#   MODE stopped: stop; dump-guest-memory; migrate (CAPS on) to NAME.mig
#   MODE live:    migrate while running (CAPS on, 8 MiB/s) to NAME.mig,
#                 wait for completed (postmigrate); dump-guest-memory
#   Leaves $W/NAME.mig and $W/NAME.qemu.core; returns 1 with a reason in
#   SNAP_WHY on failure.
snap() {
    local name=$1 mode=$2 caps=$3 bin=$4 log r st rs
    shift 4
    log=$W/$name.serial
    SNAP_WHY=""
    rm -f "$W/$name.mig" "$W/$name.qemu.core"
    r=0
    qemu_start "$name" "$bin" "$@" -serial "file:$log" || r=$?
    if [ $r -ne 0 ]; then
        SNAP_WHY="QEMU did not start ($r): $(head -n3 "$(qemu_stderr "$name")" | tr '\n' ' ')"
        qemu_stop "$name"
        return 1
    fi
    case " $* " in
    *guest.elf*)
        if ! _qemu_wait_cnt "$log" 2 "$QT" "$name"; then
            SNAP_WHY="the guest printed fewer than 2 cnt= lines in ${QT}s"
            qemu_stop "$name"
            return 1
        fi ;;
    *) sleep 1 ;;
    esac
    # shellcheck disable=SC2086  # CAPS is a word list
    if ! _qemu_set_caps "$name" $caps; then
        SNAP_WHY="migrate-set-capabilities $caps refused"
        qemu_stop "$name"
        return 1
    fi
    local dump="{\"paging\": false, \"protocol\": \"$(_qemu_json_str "file:$W/$name.qemu.core")\"}"
    local mig="{\"uri\": \"$(_qemu_json_str "exec:cat > '$W/$name.mig'")\"}"
    if [ "$mode" = stopped ]; then
        qemu_qmp "$name" stop >/dev/null &&
            qemu_qmp "$name" dump-guest-memory "$dump" >/dev/null ||
            SNAP_WHY="stop/dump-guest-memory failed: $(tail -n1 "$QEMU_WORKDIR/$name/qmp.out")"
        if [ -z "$SNAP_WHY" ]; then
            qemu_qmp "$name" migrate "$mig" >/dev/null || SNAP_WHY="migrate refused"
        fi
        st=$(qemu_wait_migration "$name" "$QT")
    else
        # as the run-*-xbzrle vector (real-v22/MANIFEST.md): slow, tiny
        # downtime until 4 dirty syncs, then let it converge
        qemu_qmp "$name" migrate-set-parameters '{"downtime-limit": 1, "max-bandwidth": 8388608}' >/dev/null &&
            qemu_qmp "$name" migrate "$mig" >/dev/null || SNAP_WHY="migrate refused"
        local t0 n=0
        t0=$(_qemu_now_ms)
        while [ -z "$SNAP_WHY" ]; do
            st=$(qemu_migstatus "$name")
            n=$(sed -n 's/.*"dirty-sync-count": \([0-9]*\).*/\1/p' "$QEMU_WORKDIR/$name/last-query-migrate")
            [ "${n:-0}" -ge 4 ] && break
            case $st in completed|failed|cancelled|dead) break ;; esac
            [ $(($(_qemu_now_ms) - t0)) -gt $((QT * 1000)) ] && break
            sleep 0.05
        done
        SNAP_SYNCS=${n:-0}
        qemu_qmp "$name" migrate-set-parameters '{"downtime-limit": 300, "max-bandwidth": 134217728}' >/dev/null
        st=$(qemu_wait_migration "$name" "$QT")
        rs=$(qemu_runstate "$name")
        if [ -z "$SNAP_WHY" ] && [ "$st" = completed ] && [ "$rs" != postmigrate ]; then
            SNAP_WHY="run state '$rs' after the migration, not postmigrate"
        fi
        if [ -z "$SNAP_WHY" ] && [ "$st" = completed ]; then
            qemu_qmp "$name" dump-guest-memory "$dump" >/dev/null ||
                SNAP_WHY="dump-guest-memory failed: $(tail -n1 "$QEMU_WORKDIR/$name/qmp.out")"
        fi
    fi
    [ -z "$SNAP_WHY" ] && [ "$st" != completed ] && SNAP_WHY="migration '$st'"
    qemu_stop "$name"
    if [ -z "$SNAP_WHY" ] && { [ ! -s "$W/$name.mig" ] || [ ! -s "$W/$name.qemu.core" ]; }; then
        SNAP_WHY="no stream or no QEMU core written"
    fi
    [ -z "$SNAP_WHY" ]
}

# gdbview ARCH CORE: the PC line and x/4gx $pc of gdb-multiarch on CORE
gdbview() {
    gdb-multiarch -nx -batch -ex "set architecture $1" -ex "target core $2" \
        -ex 'info registers pc' -ex 'x/4gx $pc' 2>&1 |
        grep -E '^(pc|0x[0-9a-f]+:|Cannot)' || true
}

# manifest_count DIR KIND: sum of page_records.KIND over the blocks
manifest_count() {
    grep -o "\"$2\": [0-9]*" "$1/manifest.json" | awk '{ s += $2 } END { print s + 0 }'
}

# check NAME ARCH [EXPECT_KIND]: every comparison for one snapshot
check() {
    local name=$1 arch=$2 kind=${3:-} m=$W/$1.mig q=$W/$1.qemu.core v=$W/$1.vms.core
    local out d=$W/$1.x g1 g2 n
    if ! "$VMSTREAM" core "$m" "$v" 2>"$W/$name.core.err"; then
        bad "$name: vmstream core failed: $(cat "$W/$name.core.err")"
        return
    fi
    if out=$("$ELFCMP" cores "$q" "$v"); then
        ok "$name: core = QEMU's dump-guest-memory: $out"
    else
        bad "$name: core differs from QEMU's dump:"
        printf '%s\n' "$out" | sed 's/^/    /'
        "$ELFCMP" info "$q" | sed 's/^/    qemu: /'
        "$ELFCMP" info "$v" | sed 's/^/    vmstream: /'
    fi
    # QEMU dumps mach-virt.ram only; the others are named in the warning
    if grep -q 'warning: RAM block "virt.flash0".*ROM device' "$W/$name.core.err" &&
        grep -q 'warning: RAM block "/rom@etc/acpi/tables".*no known' "$W/$name.core.err" &&
        ! grep -q '"mach-virt.ram"' "$W/$name.core.err"; then
        ok "$name: blocks left out of the core are named ($(grep -c warning "$W/$name.core.err") warnings)"
    else
        bad "$name: warnings for left-out blocks:"
        sed 's/^/    /' "$W/$name.core.err"
    fi
    rm -rf "$d"
    if ! "$VMSTREAM" extract "$m" "$d" 2>"$W/$name.ex.err"; then
        bad "$name: vmstream extract failed: $(cat "$W/$name.ex.err")"
    elif out=$("$ELFCMP" ram "$q" 0x40000000 "$d/mach-virt.ram.bin"); then
        ok "$name: extract mach-virt.ram = QEMU's dump at 0x40000000 ($(stat -c %s "$d/mach-virt.ram.bin") bytes, $(du -k "$d/mach-virt.ram.bin" | cut -f1) KiB allocated)"
    else
        bad "$name: extract mach-virt.ram differs from QEMU's dump: $out"
    fi
    if "$VMSTREAM" extract --block mach-virt.ram "$m" "$W/$name.ram" 2>"$W/$name.ex.err" &&
        cmp -s "$W/$name.ram" "$d/mach-virt.ram.bin"; then
        ok "$name: extract --block mach-virt.ram gives the same file"
    else
        bad "$name: extract --block: $(cat "$W/$name.ex.err") $(cmp "$W/$name.ram" "$d/mach-virt.ram.bin" 2>&1)"
    fi
    if [ -n "$kind" ]; then
        n=$(manifest_count "$d" "$kind")
        if [ "$n" -gt 0 ]; then
            ok "$name: the stream carries $n $kind page records"
        else
            bad "$name: the stream has no $kind page records (manifest: $(tr -d '\n ' <"$d/manifest.json" | head -c 300))"
        fi
    fi
    g1=$(gdbview "$arch" "$q")
    g2=$(gdbview "$arch" "$v")
    if [ -n "$g1" ] && [ "$g1" = "$g2" ] && ! printf '%s' "$g1" | grep -q Cannot &&
        [ "$(printf '%s\n' "$g1" | grep -c '^0x')" -ge 2 ]; then
        ok "$name: gdb-multiarch reads the same PC and words at PC: $(printf '%s' "$g1" | tr -s ' \t\n' ' ')"
    else
        bad "$name: gdb-multiarch differs or cannot read:"
        printf '%s\n' "$g1" | sed 's/^/    qemu: /'
        printf '%s\n' "$g2" | sed 's/^/    vmstream: /'
    fi
    rm -rf "$d" "$W/$name.ram" "$v"
}

CORE_CASES=${CORE_CASES:-abcdef}
want() { case $CORE_CASES in *"$1"*) return 0 ;; esac; return 1; }

A64=(-M virt-7.2 -m 32M -nographic -display none -monitor none)

if want a; then
echo "## a. cortex-a57, 1 vCPU, guest running, then stopped"
if snap a57s stopped "" "$QEMU_AARCH64" "${A64[@]}" -cpu cortex-a57 -smp 1 -kernel "$GUEST"; then
    check a57s aarch64
else
    bad "a57-stopped: $SNAP_WHY"
fi
fi

if want b; then
echo "## b. max (SVE), 2 vCPUs, guest running, then stopped"
if snap maxs stopped "" "$QEMU_AARCH64" "${A64[@]}" -cpu max -smp 2 -kernel "$GUEST"; then
    check maxs aarch64
    if "$ELFCMP" info "$W/maxs.qemu.core" | grep -q 'type=0x405'; then
        ok "max-stopped: QEMU's core has NT_ARM_SVE notes (compared above)"
    else
        bad "max-stopped: no NT_ARM_SVE note in QEMU's core"
    fi
else
    bad "max-stopped: $SNAP_WHY"
fi
fi

if want c; then
echo "## c. AArch32 cortex-a15 (ELF32/EM_ARM core)"
if snap a15s stopped "" "$QEMU_ARM" -M virt-7.2 -m 32M -nographic -display none \
    -monitor none -cpu cortex-a15 -smp 1 \
    -device "loader,file=$W/a32loop.bin,addr=0x40100000" \
    -device loader,addr=0x40100000,cpu-num=0; then
    check a15s arm
else
    bad "a15-stopped: $SNAP_WHY"
fi
fi

if want d; then
echo "## d. cortex-a57, 2 vCPUs, compressed pages"
if snap a57c stopped compress "$QEMU_AARCH64" "${A64[@]}" -cpu cortex-a57 -smp 2 -kernel "$GUEST"; then
    check a57c aarch64 compressed
else
    bad "a57-compress: $SNAP_WHY"
fi
fi

if want e; then
echo "## e. cortex-a57, 2 vCPUs, running guest, xbzrle, several iterations"
if snap a57x live xbzrle "$QEMU_AARCH64" "${A64[@]}" -cpu cortex-a57 -smp 2 -kernel "$GUEST"; then
    check a57x aarch64 xbzrle
    # precopy iterations: more page records than the RAM has pages
    n=$("$VMSTREAM" info "$W/a57x.mig" 2>/dev/null | awk '$1 ~ /^(mach-virt|virt|\/rom|0000)/ { s += $3 + $4 + $5 + $6 } END { print s + 0 }')
    pages=$(( (67108864 * 2 + 33554432 + 131072 + 262144 + 8192) / 4096 ))
    if [ "$n" -gt "$pages" ] && [ "${SNAP_SYNCS:-0}" -ge 4 ]; then
        ok "a57-xbzrle: $n page records for $pages pages, $SNAP_SYNCS dirty syncs before the last stage (pages sent again in later iterations)"
    else
        bad "a57-xbzrle: $n page records for $pages pages, ${SNAP_SYNCS:-0} dirty syncs: no later iteration?"
    fi
else
    bad "a57-xbzrle: $SNAP_WHY"
fi
fi

if want f; then
echo "## f. diff of two snapshots of one guest, a second apart"
# snapshot NAME FILE: stop, migrate to FILE, leave the VM paused
snapshot() {
    local st
    qemu_qmp "$1" stop >/dev/null &&
        qemu_qmp "$1" migrate "{\"uri\": \"$(_qemu_json_str "exec:cat > '$2'")\"}" >/dev/null || return 1
    st=$(qemu_wait_migration "$1" "$QT")
    [ "$st" = completed ]
}
A=$W/diff-a.mig B=$W/diff-b.mig r=0
qemu_start dif "$QEMU_AARCH64" "${A64[@]}" -cpu cortex-a57 -smp 2 -kernel "$GUEST" \
    -serial "file:$W/dif.serial" || r=$?
if [ $r -eq 0 ] && _qemu_wait_cnt "$W/dif.serial" 2 "$QT" dif && snapshot dif "$A" &&
    qemu_qmp dif cont >/dev/null && sleep 1 && snapshot dif "$B"; then
    qemu_stop dif
    r=0
    "$VMSTREAM" diff --pages "$A" "$B" >"$W/diff.out" 2>"$W/diff.err" || r=$?
    other=$(grep -v -E '^(vcpu [0-9]+ differs |RAM block mach-virt.ram: [0-9]+ pages? differs?$|  0x[0-9a-f]+$|[0-9]+ differences?( \(not counted: [0-9]+ clock fields?(, QEMU.s virtual clock [0-9.]+ s -> [0-9.]+ s)?; --clocks counts them\))?$)' "$W/diff.out")
    if [ $r -eq 1 ] && grep -q '^vcpu 0 differs  *X21: ' "$W/diff.out" &&
        grep -q '^  0x40204000$' "$W/diff.out" && [ -z "$other" ]; then
        ok "diff A B (1 s apart): exit 1, $(grep -c '^vcpu' "$W/diff.out") register and $(grep -c '^  0x' "$W/diff.out") RAM page differences (X21 = the guest's counter, its page 0x40204000 among them), nothing else; $(tail -n1 "$W/diff.out")"
    else
        bad "diff A B: exit $r; lines other than registers/RAM pages:"
        printf '%s\n' "$other" | sed 's/^/    /'
        sed 's/^/    err: /' "$W/diff.err"
    fi
    # the pages it lists are exactly those whose bytes differ
    rm -rf "$W/xa" "$W/xb"
    "$VMSTREAM" extract "$A" "$W/xa" && "$VMSTREAM" extract "$B" "$W/xb"
    n1=$(cmp -l "$W/xa/mach-virt.ram.bin" "$W/xb/mach-virt.ram.bin" | awk '{ p[int(($1 - 1) / 4096)] = 1 } END { print length(p) }')
    n2=$(grep -c '^  0x' "$W/diff.out")
    if [ "$n1" = "$n2" ] && [ "$n1" -gt 0 ]; then
        ok "diff --pages lists the $n2 pages in which the extracted RAM differs (cmp -l)"
    else
        bad "diff --pages lists $n2 pages, cmp -l finds $n1"
    fi
    rm -rf "$W/xa" "$W/xb"
    r=0
    "$VMSTREAM" diff --json "$A" "$A" >"$W/diff.json" 2>"$W/diff.err" || r=$?
    if [ $r -eq 0 ] && grep -q '"differences": 0' "$W/diff.json" && grep -q '"same": true' "$W/diff.json"; then
        ok "diff --json A A: exit 0, no difference"
    else
        bad "diff A A: exit $r: $(head -c 400 "$W/diff.json") $(cat "$W/diff.err")"
    fi
else
    bad "diff: could not take the two snapshots: $(head -n3 "$(qemu_stderr dif)" | tr '\n' ' ')"
    qemu_stop dif
fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
