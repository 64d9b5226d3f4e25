#!/bin/bash
# lsc.sh REL ARCH MACH CPU SMP IN [OUT [SRCLAST]]: load IN into release REL (-S),
# re-save to OUT (if given), cont, report. Prints one line.
rel=$1 arch=$2 mach=$3 cpu=$4 smp=$5 in=$6 out=${7:-} last=${8:-0}
top=$(cd "$(dirname "$0")/../.." && pwd)
. $top/tests/integration/qemu.sh
qemu_init
case $rel-$arch in
72-aa64) B=qemu-system-aarch64 ;; 72-arm) B=qemu-system-arm ;;
10-aa64) B=${QEMU10_AARCH64:-/opt/vmstream/qemu-10.0/bin/qemu-system-aarch64} ;; 10-arm) B=${QEMU10_ARM:-/opt/vmstream/qemu-10.0/bin/qemu-system-arm} ;;
esac
g=$top/tests/vectors/guest/guest.elf; [ $arch = arm ] && g=$top/tests/vectors/guest32/guest32.elf
d=$QEMU_WORKDIR/ser; : > $d
qemu_start dst $B -M $mach -cpu $cpu -smp $smp -m 32M -nographic -kernel $g -serial file:$d -S -incoming defer
qemu_qmp dst migrate-incoming "{\"uri\": \"exec:cat '$in'\"}" >/dev/null
st=$(qemu_wait_migration dst 60)
if [ "$st" != completed ]; then
  echo "FAILS: $(grep -v '^$' $QEMU_WORKDIR/dst/stderr | tr '\n' '|')"
  qemu_stop dst; exit 1
fi
if [ -n "$out" ]; then
  qemu_qmp dst migrate "{\"uri\": \"exec:cat > '$out'\"}" >/dev/null
  s2=$(qemu_wait_migration dst 60)
fi
qemu_qmp dst cont >/dev/null
_qemu_wait_cnt $d 1 30 dst
first=$(qemu_serial_first $d); rs=$(qemu_runstate dst)
qemu_stop dst
if [ "$rs" = running ] && ! grep -q GUEST-BOOT $d && [ -n "$first" ] && [ $((16#$first)) -gt $((16#$last)) ]; then
  echo "LOADS, continues ($last -> $first)${out:+, re-saved $s2}"
else
  echo "LOADS, but broken (state $rs, $last -> '$first') $(grep -v '^$' $QEMU_WORKDIR/dst/stderr | tr '\n' '|')"
fi
