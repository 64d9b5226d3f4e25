cd /tmp/h2; export VMSTREAM=/work/wt/h2-qemu10/vmstream; E=/work/wt/h2-qemu10/doc/qemu-10.0/cpuedit.py
M=aa64-virt72-max-2cpu
# repaired 10->72 max but keep cpu/wfxt-timer: build from the 10.0 stream with all register changes but no subsection drop
python3 $E final/q10-$M.mig exp/k.mig --repair final/q72-$M.mig > /dev/null
# re-add: simplest is to redo the repair on a copy where the dest has the sub: use --repair against itself? Instead patch: take the 10.0 cpu sections' subsection bytes
python3 - <<'PY'
import sys; sys.path.insert(0,'/work/wt/h2-qemu10/doc/qemu-10.0')
import cpuedit
b,vd_at,vd,cpus=cpuedit.load('exp/k.mig')
_,_,_,src=cpuedit.load('final/q10-aa64-virt72-max-2cpu.mig')
sm=dict(src)
out=bytearray(); pos=0
for inst,c in cpus:
    c.subs=sm[inst].subs
    out+=b[pos:c.start]; out+=c.encode(); pos=c.end
out+=b[pos:vd_at]   # drop the vmdesc (QEMU ignores it anyway)
open('exp/k-wfxt.mig','wb').write(out)
PY
echo "7.2 dest, repaired max stream that keeps cpu/wfxt-timer: $(tools/lsc.sh 72 aa64 virt-7.2 max 2 exp/k-wfxt.mig '' 0)"
# section version patches on the 10.0 a57 stream into 10.0
python3 - <<'PY'
import json,subprocess,struct
p='final/q10-aa64-virt72-cortex-a57-2cpu.mig'
b=bytearray(open(p,'rb').read())
inf=json.loads(subprocess.run(['/work/wt/h2-qemu10/vmstream','info','--json',p],capture_output=True,text=True).stdout)
for v in (21,23):
    c=bytearray(b)
    for s in inf['sections']:
        if s['name']=='cpu': o=s['offset']+1+4+1+3+4; c[o:o+4]=struct.pack('>I',v)
    open('exp/ver%d.mig'%v,'wb').write(c)
# pl011 version 3
c=bytearray(b)
for s in inf['sections']:
    if s['name']=='pl011': o=s['offset']+1+4+1+5+4; c[o:o+4]=struct.pack('>I',3)
open('exp/pl011v3.mig','wb').write(c)
PY
for v in 21 23; do echo "10.0 dest, cpu version $v: $(tools/lsc.sh 10 aa64 virt-7.2 cortex-a57 2 exp/ver$v.mig '' 0)"; echo "7.2 dest, cpu version $v: $(tools/lsc.sh 72 aa64 virt-7.2 cortex-a57 2 exp/ver$v.mig '' 0)"; done
echo "10.0 dest, pl011 version 3: $(tools/lsc.sh 10 aa64 virt-7.2 cortex-a57 2 exp/pl011v3.mig '' 0)"
echo "10.0 dest -M virt-10.0, virt-7.2 stream: $(tools/lsc.sh 10 aa64 virt-10.0 cortex-a57 2 final/q10-aa64-virt72-cortex-a57-2cpu.mig '' 0)"
echo "7.2 -M virt-10.0 start: $(qemu-system-aarch64 -M virt-10.0 -cpu cortex-a57 -m 32M -display none -monitor none -serial none -S 2>&1 | head -2 | tr '\n' '|')"
