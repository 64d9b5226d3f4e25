import json,subprocess,sys
import os
VM=os.environ.get('VMSTREAM', './vmstream')
def regs(path,cpu=0):
    d=json.loads(subprocess.run([VM,'regs','--json','--cpu',str(cpu),path],capture_output=True,text=True).stdout)
    return {int(r['id'],16) if isinstance(r['id'],str) else r['id']:(r['name'],r['size'],r['value']) for r in d[0]['registers'] if r['group']=='cpreg'}
a=regs(sys.argv[1]); b=regs(sys.argv[2])
print('count A',len(a),'count B',len(b))
print('only A (%d):'%len(set(a)-set(b)), ', '.join('%s 0x%016x'%(a[k][0],k) for k in sorted(set(a)-set(b))))
print('only B (%d):'%len(set(b)-set(a)), ', '.join('%s 0x%016x=%s'%(b[k][0],k,b[k][2]) for k in sorted(set(b)-set(a))))
diff=[k for k in sorted(set(a)&set(b)) if a[k][2]!=b[k][2]]
print('value differs (%d):'%len(diff))
for k in diff: print('   %-20s 0x%016x  A=%s B=%s'%(a[k][0],k,a[k][2],b[k][2]))
