import struct,sys
f=open(sys.argv[1],'rb'); b=f.read()
print('size',len(b),'magic',b[:8].hex())
# configuration
p=8; assert b[p]==7; n=struct.unpack('>I',b[p+1:p+5])[0]; print('machine',b[p+5:p+5+n]); p+=5+n
while b[p]==5:
    nl=b[p+1]; name=b[p+2:p+2+nl].decode(); ver=struct.unpack('>I',b[p+2+nl:p+6+nl])[0]; p+=6+nl
    print('  config sub',name,'v',ver, 'at', p)
    if name=='configuration/target-page-bits': print('    bits',struct.unpack('>I',b[p:p+4])[0]); p+=4
    elif name=='configuration/capabilities':
        cnt=struct.unpack('>I',b[p:p+4])[0]; p+=4; caps=[]
        for i in range(cnt):
            l=b[p]; caps.append(b[p+1:p+1+l].decode()); p+=1+l
        print('    caps',cnt,caps)
    else: raise SystemExit('unknown')
print('next byte at',p,hex(b[p]))
# ram START
assert b[p]==1; sid=struct.unpack('>I',b[p+1:p+5])[0]; l=b[p+5]; name=b[p+6:p+6+l]; inst,ver=struct.unpack('>II',b[p+6+l:p+14+l]); p+=14+l
print('section',sid,name,inst,ver)
tot=struct.unpack('>Q',b[p:p+8])[0]; p+=8; print('mem_size|flags 0x%x'%tot); total=tot&~0xfff
s=0
while s<total:
    l=b[p]; name=b[p+1:p+1+l].decode(); p+=1+l; used=struct.unpack('>Q',b[p:p+8])[0]; p+=8
    hdr_at=p
    ver,ps,bo,po=struct.unpack('>IQQQ',b[p:p+28]); p+=28
    npages=used//ps; bms=((npages+63)//64)*8
    bm=b[bo:bo+bms]; setbits=sum(bin(x).count('1') for x in bm)
    nz=0
    for i in range(npages):
        if bm[i//8]>>(i%8)&1:
            pg=b[po+i*ps:po+(i+1)*ps]
            if pg.count(0)!=ps: nz+=1
    print('  block %-32s used %9d hdr@%d v%d ps %d bitmap@%d (=hdr+28:%s) pages@%d (align1M:%s, =roundup:%s) bits set %d (nonzero pages %d)'%(name,used,hdr_at,ver,ps,bo,bo==hdr_at+28,po,po%0x100000==0,po==((bo+bms+0xfffff)//0x100000)*0x100000,setbits,nz))
    s+=used
    p=po+used
print('after blocks, at',p,'bytes', b[p:p+16].hex())
