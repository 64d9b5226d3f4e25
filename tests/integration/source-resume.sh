#!/bin/bash
# tests/integration/source-resume.sh - a conversion that vmstream refuses
# only when the device state arrives must not pause the source VM.
#
# A running cortex-a57 guest (tests/vectors/guest/guest.elf, printing
# "cnt=N" on its UART) migrates with
#     migrate "exec:vmstream convert --to v22 --dest qemu-7.2-tcg:max - - > FIFO"
# to a `-cpu max` destination reading the FIFO (-incoming "exec:cat FIFO").
# The RAM passes; the cpu sections do not fit the max profile, so vmstream
# refuses once they arrive.  What must then hold (doc/format.md §8:
# QEMU resumes the source by itself only if one of its writes fails):
#   1. vmstream refuses: exit status 1, and its message names the refusal;
#   2. the source's migration status is "failed" (not "completed");
#   3. the source VM is "running", and no `cont` was ever sent to it;
#   4. its UART counter still advances afterwards (new cnt= lines);
#   5. the destination refuses: it is not running (QEMU 7.2 exits after a
#      failed incoming migration).
# Each claim is checked and reported on its own line.  Timeouts are
# generous (QEMU_TIMEOUT, default 60 s here): the guest's counter is only
# ever waited for, never timed.
#
# Exit 0 if every claim held; the last line is "N passed, M failed".
# Environment: VMSTREAM, VECTORS, QEMU_AARCH64, QEMU_TIMEOUT, QEMU_KEEP=1,
# QEMU_VERBOSE=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
: "${VECTORS:=$here/../vectors}"
VECTORS=$(cd "$VECTORS" && pwd) || { echo "no VECTORS dir"; echo "0 passed, 1 failed"; exit 1; }
: "${VMSTREAM:=$PWD/vmstream}"
: "${QEMU_AARCH64:=qemu-system-aarch64}"
: "${QEMU_TIMEOUT:=60}"
QEMU_GUEST_ELF=${QEMU_GUEST_ELF:-$VECTORS/guest/guest.elf}
export VECTORS QEMU_AARCH64 QEMU_TIMEOUT QEMU_GUEST_ELF
# shellcheck source=tests/integration/qemu.sh
. "$here/qemu.sh"

missing=""
for t in "$QEMU_AARCH64" socat setsid "$VMSTREAM"; do
    command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
[ -r "$QEMU_GUEST_ELF" ] || missing="$missing $QEMU_GUEST_ELF"
if [ -n "$missing" ]; then
    echo "missing:$missing (install tests/integration/PACKAGES, build vmstream)"
    echo "0 passed, 1 failed"
    exit 1
fi
qemu_init || { echo "qemu_init failed"; echo "0 passed, 1 failed"; exit 1; }
echo "# $("$QEMU_AARCH64" --version | head -n1)"

pass=0 fail=0
ok()  { pass=$((pass + 1)); printf 'PASS %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }

# the filter records its own exit status on its stderr (the file
# qemu_live_migrate keeps as QEMU_MIG_FILTER_STDERR)
filter="'$VMSTREAM' convert --to v22 --dest qemu-7.2-tcg:max - -; echo \"vmstream-exit=\$?\" >&2"
r=""
for _ in 1 2; do
    qemu_live_migrate -F src -c cortex-a57 -C max -s 2 -m 64M -n 3 \
        -t "$QEMU_TIMEOUT" -f "$filter" >/dev/null
    r=$QEMU_MIG_RESULT
    [ "$r" != error ] && break
    echo "# harness error ($QEMU_MIG_REASON), retrying"
done
echo "# qemu_live_migrate: $r ($QEMU_MIG_REASON) in ${QEMU_MIG_MS} ms"
sed 's/^/# vmstream: /' "$QEMU_MIG_FILTER_STDERR"

# 1. vmstream refuses
vx=$(sed -n 's/^vmstream-exit=//p' "$QEMU_MIG_FILTER_STDERR" | tail -n1)
if [ "$vx" = 1 ]; then
    ok "vmstream refuses the conversion (exit 1): $(grep -v '^vmstream-exit=' "$QEMU_MIG_FILTER_STDERR" | head -n1 | cut -c1-150)"
else
    bad "vmstream exit status '${vx:-none}' (want 1: refused)"
fi
# 2. the source's migration failed
if [ "$QEMU_MIG_STATUS" = failed ]; then
    ok "source migration status: failed"
else
    bad "source migration status: '${QEMU_MIG_STATUS:-none}' (want failed)"
fi
# 3. the source runs, and nobody sent it `cont`
srcdir=$(dirname "$QEMU_MIG_SRC_STDERR")
if [ "$QEMU_MIG_SRC_STATE" = running ]; then
    ok "source VM state: running"
else
    bad "source VM state: '${QEMU_MIG_SRC_STATE:-none}' (want running)"
fi
if [ -s "$srcdir/qmp.log" ] && ! grep -q '"execute": "cont"' "$srcdir/qmp.log"; then
    ok "no cont was sent to the source ($(grep -c '"execute"' "$srcdir/qmp.log") QMP commands: $(sed -n 's/.*"execute": "\([a-z-]*\)".*/\1/p' "$srcdir/qmp.log" | sort -u | tr '\n' ' '))"
else
    bad "the source's QMP log is missing or has a cont"
fi
# 4. its counter goes on: qemu_live_migrate waits for a new cnt= line after
# a failed migration and says "refused" only then; "counter stopped" in its
# reason means it did not come
case $r:$QEMU_MIG_REASON in
refused:*)
    ok "source counter advances after the failed migration (last cnt=$(qemu_serial_last "$QEMU_MIG_SRC_SERIAL"), $(qemu_serial_count "$QEMU_MIG_SRC_SERIAL") lines)" ;;
*"counter stopped"*)
    bad "source counter stopped after the failed migration" ;;
*)
    bad "source counter not checked: migration ended '$QEMU_MIG_STATUS', $QEMU_MIG_REASON" ;;
esac
# 5. the destination refused
if [ "$QEMU_MIG_DST_STATE" != running ] && [ -n "$QEMU_MIG_DST_STATE" ]; then
    ok "destination does not run (state '$QEMU_MIG_DST_STATE'): $(grep -v '^$' "$QEMU_MIG_DST_STDERR" | tail -n1 | cut -c1-120)"
else
    bad "destination state '${QEMU_MIG_DST_STATE:-none}' (want: not running)"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
