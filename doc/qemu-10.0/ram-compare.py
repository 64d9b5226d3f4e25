import struct,sys,hashlib
def plain_ram(path):
    b=open(path,'rb').read(); p=8
    assert b[p]==7; n=struct.unpack('>I',b[p+1:p+5])[0]; p+=5+n
    while b[p]==5:
        nl=b[p+1]; name=b[p+2:p+2+nl].decode(); p+=6+nl
        if name.endswith('target-page-bits'): p+=4
        elif name.endswith('capabilities'):
            c=struct.unpack('>I',b[p:p+4])[0]; p+=4
            for i in range(c): p+=1+b[p]
    blocks={}; pages={}; cur=None
    while True:
        t=b[p]
        if t==1:
            l=b[p+5]; name=b[p+6:p+6+l]; p+=14+l
            if name!=b'ram': break
        elif t in (2,3): p+=5
        else: break
        while True:
            a=struct.unpack('>Q',b[p:p+8])[0]; p+=8; fl=a&0xfff; addr=a&~0xfff
            if fl&0x04:
                tot=addr; s=0
                while s<tot:
                    l=b[p]; nm=b[p+1:p+1+l].decode(); p+=1+l; u=struct.unpack('>Q',b[p:p+8])[0]; p+=8; blocks[nm]=u; s+=u
                continue
            if fl&0x10: break
            if not fl&0x20:
                l=b[p]; cur=b[p+1:p+1+l].decode(); p+=1+l
            if fl&0x02: pages[(cur,addr)]=bytes([b[p]])*4096; p+=1
            elif fl&0x08: pages[(cur,addr)]=b[p:p+4096]; p+=4096
            else: raise SystemExit('flags 0x%x'%fl)
        assert b[p]==0x7e; p+=5
    return blocks,pages
def mapped_ram(path):
    b=open(path,'rb').read(); p=8
    n=struct.unpack('>I',b[p+1:p+5])[0]; p+=5+n
    while b[p]==5:
        nl=b[p+1]; name=b[p+2:p+2+nl].decode(); p+=6+nl
        if name.endswith('target-page-bits'): p+=4
        elif name.endswith('capabilities'):
            c=struct.unpack('>I',b[p:p+4])[0]; p+=4
            for i in range(c): p+=1+b[p]
    l=b[p+5]; p+=14+l
    tot=struct.unpack('>Q',b[p:p+8])[0]&~0xfff; p+=8; s=0; blocks={}; pages={}
    while s<tot:
        l=b[p]; nm=b[p+1:p+1+l].decode(); p+=1+l; u=struct.unpack('>Q',b[p:p+8])[0]; p+=8
        ver,ps,bo,po=struct.unpack('>IQQQ',b[p:p+28])
        blocks[nm]=u; s+=u
        for i in range(u//ps):
            if b[bo+i//8]>>(i%8)&1: pages[(nm,i*ps)]=b[po+i*ps:po+(i+1)*ps]
        p=po+u
    return blocks,pages
def image(blocks,pages):
    h={}
    for nm,u in blocks.items():
        m=hashlib.sha256()
        nz=0
        for o in range(0,u,4096):
            pg=pages.get((nm,o),b'\0'*4096)
            if pg.count(0)!=4096: nz+=1
            m.update(pg)
        h[nm]=(u,nz,m.hexdigest()[:16])
    return h
a=image(*plain_ram(sys.argv[1])); b=image(*mapped_ram(sys.argv[2]))
for k in a: print('%-34s plain %s  mapped %s %s'%(k,a[k],b.get(k),'SAME' if a[k]==b.get(k) else 'DIFF'))
print('RAM identical' if a==b else 'RAM DIFFERS')
