cd /work/wt/h2-qemu10
export VMSTREAM=$PWD/vmstream QEMU_TIMEOUT=40
. tests/integration/qemu.sh
qemu_init
B10=/opt/vmstream/qemu-10.0/bin/qemu-system-aarch64
for spec in "72 10 cortex-a57 2" "10 72 cortex-a57 2" "72 10 max 2"; do
  set -- $spec
  [ $1 = 72 ] && { SB=qemu-system-aarch64; DB=$B10; } || { SB=$B10; DB=qemu-system-aarch64; }
  REF=/tmp/h2/final/q$2-aa64-virt72-$3-$4cpu.mig
  F="T=\$(mktemp -d); cat > \$T/in && VMSTREAM=$VMSTREAM python3 $PWD/doc/qemu-10.0/cpuedit.py \$T/in \$T/out --repair $REF >&2 && cat \$T/out; rm -rf \$T"
  qemu_live_migrate -F src -f "$F" -b $SB -B $DB -c $3 -s $4 -m 32M >/dev/null
  echo "live $1 -> $2 $3 x$4 through hand repair (source side): $QEMU_MIG_RESULT ($QEMU_MIG_REASON); filter reported $(grep -c . $QEMU_MIG_FILTER_STDERR) changes"
  qemu_live_migrate -b $SB -B $DB -c $3 -s $4 -m 32M >/dev/null
  echo "live $1 -> $2 $3 x$4 direct: $QEMU_MIG_RESULT ($QEMU_MIG_REASON) $(grep -v '^$' $QEMU_MIG_DST_STDERR | tail -2 | tr '\n' '|')"
done
