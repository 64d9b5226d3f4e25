import json,struct,sys
def vmdesc(path):
    b=open(path,'rb').read()
    # find last 0x06 + be32 len + '{' such that it ends the file
    i=b.rfind(b'\x06\x00')
    while i>0:
        n=struct.unpack('>I',b[i+1:i+5])[0]
        if i+5+n==len(b) and b[i+5:i+6]==b'{':
            return json.loads(b[i+5:i+5+n])
        i=b.rfind(b'\x06',0,i)
    return None
def flat(dev, pre=''):
    out=[]
    for f in dev.get('fields',[]):
        out.append((pre+f['name'], f.get('type'), f.get('size'), f.get('array_len')))
        if 'struct' in f:
            out += flat(f['struct'], pre+f['name']+'.')
    for s in dev.get('subsections',[]):
        out.append((pre+'SUB '+s['vmsd_name'], s.get('version'), None, None))
        out += flat(s, pre+s['vmsd_name']+'.')
    return out
if __name__=='__main__':
    a=vmdesc(sys.argv[1]); b=vmdesc(sys.argv[2])
    print('top keys', sorted(a.keys()), sorted(b.keys()), 'page_size', a.get('page_size'), b.get('page_size'))
    da={(d['name'],d['instance_id']):d for d in a['devices']}
    db={(d['name'],d['instance_id']):d for d in b['devices']}
    print('devices only A', sorted(set(da)-set(db)), 'only B', sorted(set(db)-set(da)))
    for k in da:
        if k not in db: continue
        x,y=da[k],db[k]
        if x.get('version')!=y.get('version'): print(k,'version',x.get('version'),y.get('version'))
        fx,fy=flat(x),flat(y)
        if fx!=fy:
            sx,sy=set(fx),set(fy)
            print(k,'fields only A:',[f for f in fx if f not in sy])
            print(k,'fields only B:',[f for f in fy if f not in sx])
    if 'configuration' in a or 'configuration' in b:
        print('configuration A', json.dumps(a.get('configuration'))[:600])
        print('configuration B', json.dumps(b.get('configuration'))[:600])
