#!/usr/bin/env python3
"""mkseeds.py VMSTREAM SRCDIR OUTDIR - (re)build the seed corpora of fuzz/.

Small valid streams are cut out of the real vectors in tests/vectors: the
header and configuration, the RAM setup section (block list, no pages),
a few device sections copied verbatim, EOF and a vmdesc trimmed to the
devices kept (written the way QEMU writes it).  Variants add RAM pages of
every kind, a postcopy-style PACKAGED command, gzip/zstd/libvirt
containers.  cpu section bodies go to corpus/armcpu, vmdesc JSON to
corpus/vmdesc, destination profiles to corpus/check.  VMSTREAM is a built
vmstream (used for 'info --json' and 'profile').  Deterministic output.
"""
import gzip
import json
import os
import struct
import subprocess
import sys
import zlib

VMS, SRC, OUT = sys.argv[1:4]
V22 = os.path.join(SRC, "tests/vectors/real-v22")
V23 = os.path.join(SRC, "tests/vectors/real-v23")


def load(path):
    data = subprocess.run(["zstd", "-q", "-d", "-c", path], check=True,
                          capture_output=True).stdout
    info = json.loads(subprocess.run([VMS, "info", "--json", path],
                                     check=True, capture_output=True).stdout)
    return data, info


def vmdesc_of(data, info):
    # the trailer: 0x06, BE32 len, JSON to the end
    for s in info["sections"]:
        pass
    last = info["sections"][-1]
    eof = last["offset"] + last["length"]
    assert data[eof] == 0 and data[eof + 1] == 6
    n = struct.unpack(">I", data[eof + 2:eof + 6])[0]
    return json.loads(data[eof + 6:eof + 6 + n]), eof


def qemu_json(obj):
    return json.dumps(obj, separators=(", ", ": ")).encode()


def section_bytes(data, s):
    return data[s["offset"]:s["offset"] + s["length"]]


def build(data, info, keep, vmdesc=True, extra_ram=b"", ram_end=b""):
    """header+config, RAM START, extra_ram, kept device sections, EOF,
    vmdesc limited to the kept devices."""
    secs = info["sections"]
    ram_start = secs[0]
    assert ram_start["name"] == "ram" and ram_start["type"] == "start"
    out = bytearray(data[:ram_start["offset"]])
    out += section_bytes(data, ram_start)
    out += extra_ram
    out += ram_end
    kept = []
    for s in secs:
        if s["type"] == "full" and (s["name"], s["instance"]) in keep:
            out += section_bytes(data, s)
            kept.append((s["name"], s["instance"]))
    out.append(0)
    if vmdesc:
        desc, _ = vmdesc_of(data, info)
        desc["devices"] = [d for d in desc["devices"]
                           if (d["name"], d["instance_id"]) in kept]
        j = qemu_json(desc)
        out += b"\x06" + struct.pack(">I", len(j)) + j
    return bytes(out)


def ram_pages(block):
    """A RAM PART section (id 2) with a ZERO, a CONTINUE|ZERO, a PAGE, an
    XBZRLE and a COMPRESS_PAGE record, a MULTIFD_FLUSH and EOS."""
    b = block.encode()
    r = bytearray(b"\x02" + struct.pack(">I", 2))
    r += struct.pack(">Q", 0x0000 | 0x02) + bytes([len(b)]) + b + b"\x00"
    r += struct.pack(">Q", 0x1000 | 0x22) + b"\x00"
    r += struct.pack(">Q", 0x2000 | 0x28) + bytes(range(256)) * 16
    # XBZRLE: zero run 16, then 4 literal bytes
    x = bytes([16, 4]) + b"\xde\xad\xbe\xef"
    r += struct.pack(">Q", 0x3000 | 0x60) + b"\x01" + struct.pack(">H", len(x)) + x
    z = zlib.compress(bytes(4096))
    r += struct.pack(">Q", 0x4000 | 0x120) + struct.pack(">I", len(z)) + z
    r += struct.pack(">Q", 0x200)
    r += struct.pack(">Q", 0x10) + b"\x7e" + struct.pack(">I", 2)
    return bytes(r)


def ram_end():
    return b"\x03" + struct.pack(">I", 2) + struct.pack(">Q", 0x10) + \
        b"\x7e" + struct.pack(">I", 2)


def cmd(c, payload=b""):
    return b"\x08" + struct.pack(">HH", c, len(payload)) + payload


def postcopy(stream, layout):
    """The same state the way QEMU's postcopy_start() sends it: commands, a
    PACKAGED blob holding LISTEN, the device sections, PING(3) and RUN,
    then RAM END and EOF; no vmdesc.  stream is a compact() stream without
    vmdesc: header+config, RAM setup (60 bytes), devices, EOF."""
    hdr_end = 61
    ram_setup = stream[hdr_end:hdr_end + 60]
    assert ram_setup[0] == 1 and ram_setup[-5] == 0x7e
    devices = stream[hdr_end + 60:-1]
    out = bytearray(stream[:hdr_end])
    out += cmd(1) + cmd(2, struct.pack(">I", 1))
    out += ram_setup
    out += cmd(2, struct.pack(">I", 2))
    blob = cmd(4) + devices + cmd(2, struct.pack(">I", 3)) + cmd(5)
    out += cmd(7, struct.pack(">I", len(blob))) + blob
    out += cmd(2, struct.pack(">I", 4))
    out += ram_end()
    out.append(0)
    return bytes(out)


def libvirt(stream):
    xml = b"<domain type='qemu'><name>fuzz</name></domain>\n"
    xml += b"\0" * (64 - len(xml) % 64)
    hdr = b"LibvirtQemudSave" + struct.pack("<IIIII", 2, len(xml), 1, 0, 0)
    hdr += b"\0" * (92 - len(hdr))
    return hdr + xml + stream


def write(sub, name, data):
    d = os.path.join(OUT, sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def cpu_body(data, s):
    b = section_bytes(data, s)
    hdr = 1 + 4 + 1 + len(s["name"]) + 4 + 4
    return b[hdr:len(b) - 5]


def compact_cpu(body, layout, k=3, subs="irq"):
    """A cpu body with only the first k one-slot registers and, for
    subs="irq", only the cpu/irq-line-state subsection (subs="all" keeps
    them all, subs="none" drops them)."""
    head, pos = body[:568], 568
    n = struct.unpack(">i", body[pos:pos + 4])[0]
    pos += 4
    m = n
    if layout == 23:
        m = struct.unpack(">i", body[pos:pos + 4])[0]
        pos += 4
    ids = [struct.unpack(">Q", body[pos + 8 * i:pos + 8 * i + 8])[0]
           for i in range(n)]
    pos += 8 * n
    vals = [struct.unpack(">Q", body[pos + 8 * i:pos + 8 * i + 8])[0]
            for i in range(m)]
    pos += 8 * m
    vidx = list(range(n))
    if layout == 23:
        vidx = [struct.unpack(">I", body[pos + 4 * i:pos + 4 * i + 4])[0]
                for i in range(n)]
        pos += 4 * n
    tail = body[pos:pos + 65]
    rest = body[pos + 65:]
    keep = []
    for i in range(n):
        nxt = vidx[i + 1] if i + 1 < n else m
        if nxt - vidx[i] == 1 and len(keep) < k:
            keep.append((ids[i], vals[vidx[i]]))
    out = bytearray(head) + struct.pack(">i", len(keep))
    if layout == 23:
        out += struct.pack(">i", len(keep))
    for i, _ in keep:
        out += struct.pack(">Q", i)
    for _, v in keep:
        out += struct.pack(">Q", v)
    if layout == 23:
        for i in range(len(keep)):
            out += struct.pack(">I", i)
    out += tail
    if subs == "all":
        out += rest
    elif subs == "irq":
        at = rest.rfind(b"\x05\x12cpu/irq-line-state")
        if at >= 0:
            out += rest[at:]
    return bytes(out), len(keep)


def compact_desc_cpu(dev, k, subs="irq"):
    """The vmdesc entry of a compacted cpu (see compact_cpu)."""
    dev = json.loads(json.dumps(dev))
    fields = []
    for f in dev["fields"]:
        if f["name"] in ("cpreg_vmstate_indexes", "cpreg_vmstate_values",
                         "cpreg_vmstate_value_indexes"):
            f = {"name": f["name"], "array_len": k, "type": f["type"],
                 "size": f["size"]}
            if k == 1:
                del f["array_len"]
            if k == 0:
                continue
        fields.append(f)
    dev["fields"] = fields
    if subs == "none":
        dev.pop("subsections", None)
    elif subs == "irq" and "subsections" in dev:
        dev["subsections"] = [s for s in dev["subsections"]
                              if s["vmsd_name"] == "cpu/irq-line-state"]
    return dev


def compact(data, info, layout, k=3, subs="irq", vmdesc=True, ncpu=1,
            extra_ram=b"", ram_end_sec=b"", others=()):
    """header+config, a one-block RAM setup, cpu_common and compacted cpu
    sections for ncpu vCPUs, EOF and the matching vmdesc."""
    secs = info["sections"]
    out = bytearray(data[:secs[0]["offset"]])
    blk = b"mach-virt.ram"
    out += b"\x01" + struct.pack(">I", 2) + b"\x03ram" + struct.pack(">II", 0, 4)
    out += struct.pack(">Q", 0x10000 | 0x04) + bytes([len(blk)]) + blk
    out += struct.pack(">Q", 0x10000) + struct.pack(">Q", 0x10)
    out += b"\x7e" + struct.pack(">I", 2)
    out += extra_ram + ram_end_sec
    desc, _ = vmdesc_of(data, info)
    devs = []
    for s in secs:
        if s["type"] != "full":
            continue
        if (s["name"], s["instance"]) in others:
            out += section_bytes(data, s)
        elif s["instance"] >= ncpu:
            continue
        elif s["name"] == "cpu_common":
            out += section_bytes(data, s)
        elif s["name"] == "cpu":
            hdr = 1 + 4 + 1 + 3 + 4 + 4
            b = section_bytes(data, s)
            body, kk = compact_cpu(b[hdr:-5], layout, k, subs)
            out += b[:hdr] + body + b[-5:]
        else:
            continue
        for d in desc["devices"]:
            if d["name"] == s["name"] and d["instance_id"] == s["instance"]:
                devs.append(compact_desc_cpu(d, kk, subs)
                            if s["name"] == "cpu" else d)
    out.append(0)
    if vmdesc:
        desc["devices"] = devs
        j = qemu_json(desc)
        out += b"\x06" + struct.pack(">I", len(j)) + j
    return bytes(out)


def main():
    a57_22 = load(os.path.join(V22, "aa64-virt72-cortex-a57-2cpu.mig.zst"))
    a57_23 = load(os.path.join(V23, "aa64-virt72-cortex-a57-2cpu.mig.zst"))
    a15_22 = load(os.path.join(V22, "arm-virt72-cortex-a15-1cpu.mig.zst"))
    a15_23 = load(os.path.join(V23, "arm-virt72-cortex-a15-1cpu.mig.zst"))
    max_22 = load(os.path.join(V22, "aa64-virt72-max-1cpu.mig.zst"))
    max_23 = load(os.path.join(V23, "aa64-virt72-max-1cpu.mig.zst"))
    run_22 = load(os.path.join(V22, "run-aa64-virt72-cortex-a57-1cpu-1s.mig.zst"))

    small = {("timer", 0), ("slirp", 0), ("pflash_cfi01", 0), ("pl011", 0),
             ("pl031", 0), ("PCIHost", 0), ("PCIBUS", 0), ("gpio-key", 0),
             ("fw_cfg", 0), ("globalstate", 0)}
    streams = {
        "v22-a57": compact(*a57_22, 22),
        "v23-a57": compact(*a57_23, 23),
        "v22-a57-2cpu": compact(*a57_22, 22, ncpu=2, k=2),
        "v23-a57-2cpu": compact(*a57_23, 23, ncpu=2, k=2),
        "v22-a57-vfp": compact(*a57_22, 22, k=1, subs="all"),
        "v23-a57-nosubs": compact(*a57_23, 23, k=0, subs="none"),
        "v22-novmdesc": compact(*a57_22, 22, vmdesc=False),
        "v23-novmdesc": compact(*a57_23, 23, vmdesc=False),
        "v22-a15": compact(*a15_22, 22, k=4),
        "v23-a15": compact(*a15_23, 23, k=4),
        "v22-max": compact(*max_22, 22),
        "v23-max": compact(*max_23, 23),
        "v22-run": compact(*run_22, 22),
        "v22-devices": compact(*a57_22, 22, others=small),
        "v23-devices": compact(*a57_23, 23, others=small),
        "v22-rampages": compact(*a57_22, 22, extra_ram=ram_pages("mach-virt.ram"),
                                ram_end_sec=ram_end()),
        "v22-postcopy": postcopy(compact(*a57_22, 22, vmdesc=False), 22),
        "v23-postcopy": postcopy(compact(*a57_23, 23, vmdesc=False), 23),
    }
    # one real-size stream (258 registers, every subsection)
    full = build(*a57_22, {("cpu_common", 0), ("cpu", 0)})
    for name, s in streams.items():
        write("stream", name + ".mig", s)
    write("stream", "v22-a57-full.mig", full)
    # convert and check also run on fuzz/corpus/stream
    write("convert", "v22-a57-full.mig", full)
    write("check", "v23-a57.mig", streams["v23-a57"])
    base = streams["v22-a57"]
    write("stream", "v22-a57-1cpu.mig.gz", gzip.compress(base, 9, mtime=0))
    zst = subprocess.run(["zstd", "-q", "-19", "-c"], input=base, check=True,
                         capture_output=True).stdout
    write("stream", "v22-a57-1cpu.mig.zst", zst)
    write("stream", "v22-a57-1cpu.libvirt", libvirt(base))

    # vmdesc: the trailers of the compact streams, and one real one
    for name in ("v22-a57", "v23-a57", "v22-a57-2cpu", "v22-a15", "v23-a15",
                 "v22-max", "v23-max", "v22-devices", "v22-a57-vfp"):
        st = streams[name]
        eof = st.rindex(b"\x00\x06")
        write("vmdesc", name + ".json", st[eof + 6:])
    desc, _ = vmdesc_of(*a57_23)
    write("vmdesc", "v23-a57-real.json", qemu_json(desc))

    # armcpu: compact bodies in both layouts, and two real-size ones
    for name, (data, info), layout in (("v22-a57", a57_22, 22),
                                       ("v23-a57", a57_23, 23),
                                       ("v22-a15", a15_22, 22),
                                       ("v23-a15", a15_23, 23),
                                       ("v22-max", max_22, 22),
                                       ("v23-max", max_23, 23)):
        s0 = [s for s in info["sections"] if s["name"] == "cpu"][0]
        body = cpu_body(data, s0)
        write("armcpu", name + "-k3.body", compact_cpu(body, layout, 3)[0])
        write("armcpu", name + "-k1-subs.body",
              compact_cpu(body, layout, 1, "all")[0])
        if name in ("v22-a57", "v23-max"):
            write("armcpu", name + "-real.body", body)

    for name, rel in (("v22-a57", "real-v22/aa64-virt72-cortex-a57-1cpu.mig.zst"),
                      ("v23-a15", "real-v23/arm-virt72-cortex-a15-1cpu.mig.zst")):
        prof = subprocess.run([VMS, "profile", "--name", name,
                               os.path.join(SRC, "tests/vectors", rel)],
                              check=True, capture_output=True).stdout
        write("check", name + ".profile", prof)


main()
