cd /tmp/h2; export VMSTREAM=/work/wt/h2-qemu10/vmstream
S=s1/q10-aa64-virt72-cortex-a57-2cpu
for id in 0x40200000200e0002 0x6030000000138032 0x603000000013c602 0x40200000200f6002 0x60300000001383ce 0x40200000200f6001 0x603000000013de82 0x603000000013c684; do
  python3 /work/wt/h2-qemu10/doc/qemu-10.0/cpuedit.py $S.mig exp/drop.mig --drop $id
  for rep in 1 2 3; do
    r=$(/tmp/h2/tools/lsc.sh 10 aa64 virt-7.2 cortex-a57 2 exp/drop.mig exp/drop-re.mig 0000000000020000)
    v=""
    case $r in LOADS*) v=$(/work/wt/h2-qemu10/vmstream regs exp/drop-re.mig | awk -v id=$id '$3==id {printf "%s=%s ", $2, $5}') ;; esac
    echo "drop $id rep $rep: $r  resaved: $v"
  done
done
