#!/bin/bash
# repair-one.sh FROM TO MODEL ARCH CPU SMP [DESC-FROM]
#   FROM/TO = 72 or 10; MODEL e.g. aa64-virt72-cortex-a57-2cpu.  Repairs
#   $S/qFROM-MODEL.mig against $S/qTO-MODEL.mig (raw streams and serial logs
#   as make-streams.sh writes them), loads the result into release TO,
#   re-saves and compares.  Outputs go to $W/exp/ (W default: $PWD).
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${S:?S=dir of raw streams}" "${W:=$PWD}"
cd "$W" && mkdir -p exp
export VMSTREAM=${VMSTREAM:-$top/vmstream}
from=$1 to=$2 m=$3 arch=$4 cpu=$5 smp=$6 df=${7:-}
. "$top/tests/integration/qemu.sh"
last=$(qemu_serial_last $S/q$from-$m.serial.txt)
out=exp/$(basename "$S")-rep-$from-$to-$m
python3 "$here/cpuedit.py" $S/q$from-$m.mig $out.mig --repair $S/q$to-$m.mig ${df:+--desc-from $df} > $out.changes
echo "== $m $from -> $to: $(grep -c . $out.changes) changes ($(grep -c 'cpu 0:' $out.changes) on cpu 0)"
r=$("$here/load-resave.sh" $to $arch virt-7.2 $cpu $smp $out.mig $out.re.mig $last)
echo "   $r"
case $r in LOADS*)
  $VMSTREAM regs --diff $S/q$from-$m.mig $out.re.mig > $out.rediff 2>&1
  echo "   re-saved vs original source: $(tail -1 $out.rediff)"
  $VMSTREAM regs --diff $out.mig $out.re.mig > $out.rediff2 2>&1
  echo "   re-saved vs repaired stream: $(tail -1 $out.rediff2)"
esac
