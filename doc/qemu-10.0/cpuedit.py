#!/usr/bin/env python3
"""cpuedit.py - hand-edit the Arm cpu sections (v22) of a raw QEMU stream.

Research tool behind doc/qemu-10.0.md (not used by the build or the tests):
it proves the repair recipe on real QEMU before vmstream implements it.

    cpuedit.py IN OUT [OPS...]

IN and OUT are raw streams (no compression).  Section offsets come from
`vmstream info --json IN` (VMSTREAM, default ./vmstream).  OPS, applied to
every cpu section (every vCPU):

    --drop ID             remove register ID (index and value)
    --add ID=VALUE        insert register ID at its sorted place
    --set ID=VALUE        change register ID's value
    --drop-sub NAME       remove subsection NAME (its size from the vmdesc)
    --repair DEST         the repair recipe against DEST, a raw stream the
                          destination release saved with the same command
                          line: per vCPU, the register list becomes DEST's;
                          a register in both keeps IN's value unless it is
                          in --fixed; a register only in DEST takes DEST's
                          value (same vCPU); a register only in IN is
                          dropped; subsections DEST's cpu sections do not
                          carry are dropped.  Every change is printed.
    --desc-from STREAM    take the cpu subsection sizes from STREAM's vmdesc
                          (for streams without one; same model)
    --fixed ID[,ID...]    registers whose destination value wins (ID and
                          other constant registers); default with --repair:
                          every register present in both whose value
                          differs between IN and DEST and whose name
                          (vmstream regs) is ID_*, *IDR*, CTR*, CLIDR*,
                          MIDR*, REVIDR*, DBGDEVID*, MPIDR*, AIDR*, CCSIDR*

The vmdesc JSON is rewritten to match (array_len, dropped subsections); the
stream outside the cpu sections and the vmdesc is copied byte for byte.
"""
import json
import os
import re
import struct
import subprocess
import sys

VMSTREAM = os.environ.get('VMSTREAM', './vmstream')
CPREG_OFF = 568          # payload bytes before cpreg_vmstate_array_len (v22)
TAIL = 3 * 8 + 8 + 4 + 4 + 8 + 8 + 8 + 1   # exclusive_*, unused, exception.*, gt_timer x2, power_state
FIXED_RE = re.compile(r'^(ID_|CTR|CLIDR|MIDR|REVIDR|DBGDEVID|DBGDIDR|MPIDR|AIDR|CCSIDR|.*IDR)')


def info(path):
    out = subprocess.run([VMSTREAM, 'info', '--json', path], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def regnames(path):
    out = subprocess.run([VMSTREAM, 'regs', '--json', '--cpu', '0', path],
                         check=True, capture_output=True, text=True).stdout
    return {int(r['id'], 16): r['name'] for r in json.loads(out)[0]['registers']
            if r['group'] == 'cpreg'}


def find_vmdesc(b):
    i = b.rfind(b'\x06')
    while i > 0:
        n = struct.unpack('>I', b[i + 1:i + 5])[0]
        if i + 5 + n == len(b) and b[i + 5:i + 6] == b'{':
            return i
        i = b.rfind(b'\x06', 0, i)
    return None


def field_size(f):
    n = f.get('size', 0)
    if 'array_len' in f:
        n *= f['array_len']
    return n


def sub_size(desc):
    return sum(field_size(f) for f in desc.get('fields', [])) + \
        sum(5 + len(s['vmsd_name']) + 1 + sub_size(s) for s in desc.get('subsections', []))


class Cpu:
    def __init__(self, b, sec, desc):
        o, ln = sec['offset'], sec['length']
        self.start, self.end = o, o + ln
        name_len = b[o + 5]
        self.head_len = 1 + 4 + 1 + name_len + 4 + 4
        p = o + self.head_len
        self.head = b[o:p]
        self.core = b[p:p + CPREG_OFF]
        n = struct.unpack('>i', b[p + CPREG_OFF:p + CPREG_OFF + 4])[0]
        q = p + CPREG_OFF + 4
        if n < 0 or q + 16 * n > self.end:
            raise SystemExit('bad cpreg count %d at %d' % (n, p + CPREG_OFF))
        self.idx = list(struct.unpack('>%dQ' % n, b[q:q + 8 * n]))
        self.val = list(struct.unpack('>%dQ' % n, b[q + 8 * n:q + 16 * n]))
        q += 16 * n
        self.tail = b[q:q + TAIL]
        q += TAIL
        self.footer = b[self.end - 5:self.end]
        if self.footer[0] != 0x7e:
            raise SystemExit('no footer at %d' % (self.end - 5))
        self.desc = desc
        # subsections, sized by the vmdesc
        self.subs = []
        descs = {s['vmsd_name']: s for s in (desc or {}).get('subsections', [])}
        while q < self.end - 5:
            if b[q] != 0x05:
                raise SystemExit('expected subsection at %d' % q)
            nl = b[q + 1]
            name = b[q + 2:q + 2 + nl].decode()
            if name not in descs:
                raise SystemExit('subsection %s not in the vmdesc' % name)
            size = 2 + nl + 4 + sub_size(descs[name])
            self.subs.append((name, b[q:q + size]))
            q += size
        if q != self.end - 5:
            raise SystemExit('subsections overrun the section at %d' % q)

    def encode(self):
        n = len(self.idx)
        return (self.head + self.core + struct.pack('>i', n) +
                struct.pack('>%dQ' % n, *self.idx) + struct.pack('>%dQ' % n, *self.val) +
                self.tail + b''.join(s[1] for s in self.subs) + self.footer)

    def regs(self):
        return dict(zip(self.idx, self.val))

    def setregs(self, d):
        self.idx = sorted(d)
        self.val = [d[i] for i in self.idx]


def load(path, fallback=None):
    b = open(path, 'rb').read()
    inf = info(path)
    vd_at = find_vmdesc(b)
    vd = json.loads(b[vd_at + 5:]) if vd_at is not None else None
    descs = {}
    src = vd or fallback
    if src:
        for d in src['devices']:
            if d['name'] == 'cpu':
                descs[d['instance_id']] = d
    cpus = []
    for s in inf['sections']:
        if s['name'] == 'cpu' and s['type'] == 'full':
            cpus.append((s['instance'], Cpu(b, s, descs.get(s['instance']))))
    return b, vd_at, vd, cpus


def num(s):
    return int(s, 0)


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        sys.exit(2)
    src, out = args[0], args[1]
    ops = args[2:]
    fallback = None
    if '--desc-from' in ops:
        k = ops.index('--desc-from')
        fb = open(ops[k + 1], 'rb').read()
        fallback = json.loads(fb[find_vmdesc(fb) + 5:])
        del ops[k:k + 2]
    b, vd_at, vd, cpus = load(src, fallback)
    names = regnames(src)
    fixed = None
    repair = None
    i = 0
    plan = []
    while i < len(ops):
        op = ops[i]
        arg = ops[i + 1] if i + 1 < len(ops) else None
        i += 2
        if op == '--fixed':
            fixed = set(num(x) for x in arg.split(','))
        elif op == '--repair':
            repair = arg
        elif op in ('--drop', '--add', '--set', '--drop-sub'):
            plan.append((op, arg))
        else:
            raise SystemExit('unknown op ' + op)
    if repair:
        _, _, _, dcpus = load(repair, fallback)
        dnames = regnames(repair)
        names.update(dnames)
        dmap = dict(dcpus)
        for inst, c in cpus:
            d = dmap[inst]
            s, t = c.regs(), d.regs()
            new = {}
            for k in sorted(set(s) | set(t)):
                nm = names.get(k, '?')
                if k in s and k not in t:
                    print('cpu %d: drop %-16s 0x%016x (value 0x%x): destination lacks it'
                          % (inst, nm, k, s[k]))
                    continue
                if k in t and k not in s:
                    print('cpu %d: add  %-16s 0x%016x = 0x%x (destination value)'
                          % (inst, nm, k, t[k]))
                    new[k] = t[k]
                    continue
                fx = (k in fixed) if fixed is not None else \
                    (s[k] != t[k] and FIXED_RE.match(nm) is not None)
                if fx and s[k] != t[k]:
                    print('cpu %d: set  %-16s 0x%016x 0x%x -> 0x%x (fixed in the destination)'
                          % (inst, nm, k, s[k], t[k]))
                    new[k] = t[k]
                else:
                    if s[k] != t[k]:
                        print('cpu %d: keep %-16s 0x%016x 0x%x (destination had 0x%x)'
                              % (inst, nm, k, s[k], t[k]))
                    new[k] = s[k]
            c.setregs(new)
            dsubs = set(n for n, _ in d.subs)
            keep = []
            for n, raw in c.subs:
                if n in dsubs:
                    keep.append((n, raw))
                else:
                    print('cpu %d: drop subsection %s (%s)' % (inst, n, raw[2 + len(n) + 4:].hex()))
            c.subs = keep
    for op, arg in plan:
        for inst, c in cpus:
            r = c.regs()
            if op == '--drop':
                r.pop(num(arg), None)
            elif op in ('--add', '--set'):
                k, v = arg.split('=')
                r[num(k)] = num(v)
            elif op == '--drop-sub':
                c.subs = [s for s in c.subs if s[0] != arg]
            c.setregs(r)
    # rebuild: everything outside the cpu sections byte for byte
    outb = bytearray()
    pos = 0
    for inst, c in cpus:
        outb += b[pos:c.start]
        outb += c.encode()
        pos = c.end
    end = vd_at if vd_at is not None else len(b)
    outb += b[pos:end]
    if vd is not None:
        cmap = dict(cpus)
        for d in vd['devices']:
            if d['name'] != 'cpu' or d['instance_id'] not in cmap:
                continue
            c = cmap[d['instance_id']]
            for f in d['fields']:
                if f['name'] in ('cpreg_vmstate_indexes', 'cpreg_vmstate_values'):
                    f['array_len'] = len(c.idx)
            names_kept = set(n for n, _ in c.subs)
            if 'subsections' in d:
                d['subsections'] = [s for s in d['subsections'] if s['vmsd_name'] in names_kept]
        j = json.dumps(vd, separators=(', ', ': ')).encode()
        outb += b'\x06' + struct.pack('>I', len(j)) + j
    open(out, 'wb').write(outb)


if __name__ == '__main__':
    main()
