#!/bin/bash
# tests/integration/x86-qemu.sh - vmstream on x86 streams made here by
# Debian's qemu-system-x86 7.2 (TCG), machine types and states the stored
# vectors (tests/vectors/real-x86) do not have (issue #12):
#   q35-smp2-ran   pc-q35-7.2, 2 vCPUs, SeaBIOS ran for a second, `stop`
#   isapc          isapc (no PCI), paused from the start
#   i386-q35       qemu-system-i386 -M pc-q35-7.2, paused
#   fx14           pc-i440fx-1.4: a vmdesc but no section footers
#   fx21           pc-i440fx-2.1: neither vmdesc nor footers, read with
#                  --vmdesc-from its twin (pc-i440fx-2.1,suppress-vmdesc=off)
# For each: info and check exit 0 and list the x86 vCPUs (check notes them,
# exit 0); `dump --json` equals QEMU's own analyze-migration.py (tests/
# tools, unmodified; fx21 with the twin's vmdesc appended after EOF, as
# --vmdesc-from does) value by value; `convert --to v23` copies the stream
# byte for byte, and the copy loads back into the same QEMU command line.
# The last line is "N passed, M failed".
# Environment: VMSTREAM, VECTORS, QEMU_X86_64 / QEMU_I386 (binaries),
# QEMU_TIMEOUT, QEMU_KEEP=1, QEMU_VERBOSE=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${VECTORS:=$top/tests/vectors}"
: "${VMSTREAM:=$PWD/vmstream}"
: "${QEMU_X86_64:=qemu-system-x86_64}"
: "${QEMU_I386:=qemu-system-i386}"
AM=$top/tests/tools/analyze-migration.py
SF=$top/tests/tools/streamfacts.py
DVA=$top/tests/tools/dump-vs-analyze.py
# shellcheck source=tests/integration/qemu.sh
. "$here/qemu.sh"

missing=""
for t in "$QEMU_X86_64" "$QEMU_I386" socat setsid cmp jq python3 "$VMSTREAM"; do
    command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
    echo "missing tools:$missing (tools/setup.sh --tests installs them)"
    echo "0 passed, 1 failed"
    exit 1
fi
qemu_init || { echo "qemu_init failed"; echo "0 passed, 1 failed"; exit 1; }
echo "# $("$QEMU_X86_64" --version | head -n1)"

pass=0 fail=0
ok()  { pass=$((pass + 1)); printf 'PASS %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }
chk() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }

W=$QEMU_WORKDIR/x86
mkdir -p "$W"
QT=$((QEMU_TIMEOUT * 3))     # generous: the machine is shared
COMMON=(-m 32M -nodefaults -display none)

# save NAME RUN BIN ARGS... -> $W/NAME.mig (RUN: seconds the guest runs
# before `stop`; 0 = paused from the start with -S)
save() {
    local name=$1 run=$2 bin=$3 st
    shift 3
    if [ "$run" = 0 ]; then
        qemu_start s "$bin" "$@" -S || { bad "$name: QEMU starts"; return 1; }
    else
        qemu_start s "$bin" "$@" || { bad "$name: QEMU starts"; return 1; }
        sleep "$run"
        qemu_qmp s stop >/dev/null
    fi
    qemu_qmp s migrate "{\"uri\": \"exec:cat > $W/$name.mig\"}" >/dev/null
    st=$(qemu_wait_migration s "$QT")
    qemu_stop s >/dev/null 2>&1
    if [ "$st" != completed ] || [ ! -s "$W/$name.mig" ]; then
        bad "$name: saved (migration $st)"
        return 1
    fi
    ok "$name: saved, $(stat -c %s "$W/$name.mig") bytes"
}

# run_case NAME NCPU ARCH TWIN BIN ARGS...  (TWIN: "" or a saved name)
run_case() {
    local name=$1 ncpu=$2 arch=$3 twin=$4 bin=$5 m vf=() src r
    shift 5
    m=$W/$name.mig
    [ -n "$twin" ] && vf=(--vmdesc-from "$W/$twin.mig")
    if "$VMSTREAM" info --json "${vf[@]}" "$m" >"$W/$name.info" 2>"$W/err"; then
        ok "$name: info exits 0"
    else
        bad "$name: info exits 0: $(cat "$W/err")"
        return
    fi
    chk "$name: info lists $ncpu $arch vCPU(s)" \
        [ "$(jq -r '[.vcpus[].arch] | join(",")' "$W/$name.info")" = \
          "$(printf "$arch%.0s," $(seq "$ncpu") | sed 's/,$//')" ]
    chk "$name: info reads to the last byte" \
        [ "$(jq .length "$W/$name.info")" -eq "$(stat -c %s "$m")" ]
    "$VMSTREAM" check "${vf[@]}" "$m" >"$W/check" 2>&1
    chk "$name: check exits 0 and notes the x86 vCPUs" \
        [ $? -eq 0 -a "$(grep -c "an $arch vCPU .*not Arm" "$W/check")" -eq "$ncpu" ]
    if ! "$VMSTREAM" dump --json "${vf[@]}" "$m" >"$W/$name.dump" 2>"$W/err"; then
        bad "$name: dump exits 0: $(cat "$W/err")"
        return
    fi
    ok "$name: dump exits 0"
    src=$m
    if [ -n "$twin" ]; then
        eof=$(python3 "$SF" "$W/$twin.mig" | sed -n 's/.*"eof_offset": \([0-9]*\).*/\1/p')
        src=$W/$name.spliced
        { cat "$m"; tail -c +$((eof + 2)) "$W/$twin.mig"; } >"$src"
    fi
    if python3 "$AM" -f "$src" -d state >"$W/$name.state" 2>"$W/err"; then
        python3 "$DVA" "$W/$name.dump" "$W/$name.state" >"$W/dva"
        chk "$name: dump --json == analyze-migration.py ($(tail -n1 "$W/dva"))" [ $? -eq 0 ]
        head -n 5 "$W/dva" | grep -v 'values compared' | sed 's/^/#   /'
    else
        bad "$name: analyze-migration.py reads it: $(tail -n1 "$W/err")"
    fi
    "$VMSTREAM" convert --to v23 "${vf[@]}" "$m" "$W/$name.conv" >/dev/null 2>"$W/err"
    chk "$name: convert copies it byte for byte" cmp -s "$m" "$W/$name.conv"
    r=$(qemu_load -b "$bin" -t "$QT" -e "$W/$name.load.err" "$W/$name.conv" -- "$@")
    chk "$name: the copy loads back into QEMU ($r)" [ "$r" = loads ]
}

if save q35-smp2-ran 1 "$QEMU_X86_64" -M pc-q35-7.2 -smp 2 "${COMMON[@]}"; then
    run_case q35-smp2-ran 2 x86_64 "" "$QEMU_X86_64" -M pc-q35-7.2 -smp 2 "${COMMON[@]}"
    "$VMSTREAM" regs --json "$W/q35-smp2-ran.mig" >"$W/regs"
    eip=$(jq -r '.[0].registers[] | select(.name == "env.eip") | .value' "$W/regs")
    want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cpu (5)"]["env.eip"])' \
           "$W/q35-smp2-ran.state" 2>/dev/null)
    chk "q35-smp2-ran: regs env.eip $eip == analyze-migration.py's $want" \
        [ -n "$eip" -a "$((eip))" = "$((want))" ]
    chk "q35-smp2-ran: SeaBIOS ran (vCPU 0 left the reset vector)" \
        [ -n "$eip" -a "$((eip))" != $((0xfff0)) ]
    chk "q35-smp2-ran: regs lists 2 vCPUs" [ "$(jq length "$W/regs")" -eq 2 ]
fi
if save isapc 0 "$QEMU_X86_64" -M isapc "${COMMON[@]}"; then
    run_case isapc 1 x86_64 "" "$QEMU_X86_64" -M isapc "${COMMON[@]}"
fi
if save i386-q35 0 "$QEMU_I386" -M pc-q35-7.2 "${COMMON[@]}"; then
    run_case i386-q35 1 i386 "" "$QEMU_I386" -M pc-q35-7.2 "${COMMON[@]}"
fi
if save fx14 0 "$QEMU_X86_64" -M pc-i440fx-1.4 "${COMMON[@]}"; then
    chk "fx14: no section footers" \
        [ "$(python3 "$SF" "$W/fx14.mig" | sed -n 's/.*"footers": \([0-9]*\).*/\1/p')" = 0 ]
    run_case fx14 1 x86_64 "" "$QEMU_X86_64" -M pc-i440fx-1.4 "${COMMON[@]}"
fi
if save fx21 0 "$QEMU_X86_64" -M pc-i440fx-2.1 "${COMMON[@]}" &&
   save fx21-twin 0 "$QEMU_X86_64" -M pc-i440fx-2.1,suppress-vmdesc=off "${COMMON[@]}"; then
    "$VMSTREAM" info "$W/fx21.mig" >/dev/null 2>"$W/err"
    chk "fx21 alone: info fails and names --vmdesc-from" grep -q -- --vmdesc-from "$W/err"
    run_case fx21 1 x86_64 fx21-twin "$QEMU_X86_64" -M pc-i440fx-2.1 "${COMMON[@]}"
fi
qemu_cleanup
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
