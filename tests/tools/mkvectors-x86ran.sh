#!/bin/bash
# tests/tools/mkvectors-x86ran.sh OUTDIR - make
# OUTDIR/x86_64-pc-q35-7.2-smp2-ran.{mig,state.json,desc}.zst (issue #12):
# Debian's qemu-system-x86_64 7.2, TCG, pc-q35-7.2 with 2 vCPUs, not paused:
# SeaBIOS runs for a second (no boot device), then `stop` and
# `migrate exec:cat > NAME.mig`; the stream must load back
# (tests/integration/qemu.sh qemu_load).  Expected outputs from QEMU's own
# analyze-migration.py (-d state, -d desc).  Not run by make check; the
# integration test tests/integration/x86-qemu.sh makes such streams afresh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
out=$(cd "${1:?usage: $0 OUTDIR}" && pwd) || exit 2
here=$(cd "$(dirname "$0")" && pwd)
AM=$here/analyze-migration.py
# shellcheck source=tests/integration/qemu.sh
. "$here/../integration/qemu.sh"
qemu_init || exit 2
name=x86_64-pc-q35-7.2-smp2-ran
args=(-M pc-q35-7.2 -smp 2 -m 32M -nodefaults -display none)
W=$QEMU_WORKDIR
qemu_start s qemu-system-x86_64 "${args[@]}" || exit 1
sleep 1
qemu_qmp s stop >/dev/null
qemu_qmp s migrate "{\"uri\": \"exec:cat > $W/$name.mig\"}" >/dev/null
st=$(qemu_wait_migration s 60)
sed "s|unix:[^ ]*qmp.sock|unix:q.sock|" "$QEMU_WORKDIR/s/cmdline"
qemu_stop s >/dev/null 2>&1
[ "$st" = completed ] || { echo "migration $st"; exit 1; }
r=$(qemu_load -b qemu-system-x86_64 "$W/$name.mig" -- "${args[@]}")
[ "$r" = loads ] || { echo "does not load back: $r"; exit 1; }
python3 "$AM" -f "$W/$name.mig" -d state >"$W/$name.state.json" || exit 1
python3 "$AM" -f "$W/$name.mig" -d desc >"$W/$name.desc.json" || exit 1
echo "$name.mig: $(stat -c %s "$W/$name.mig") bytes, sha256 $(sha256sum <"$W/$name.mig" | cut -d' ' -f1), loads back"
for f in mig state.json desc.json; do
    zstd -19 -qf "$W/$name.$f" -o "$out/$name.$f.zst"
done
qemu_cleanup
