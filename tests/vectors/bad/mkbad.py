#!/usr/bin/env python3
"""mkbad.py SRCDIR OUTDIR - (re)build the malformed streams of tests/vectors/bad.

Every vector starts from one of the small valid streams in
fuzz/corpus/stream (built by fuzz/mkseeds.py from the real vectors) and
breaks one thing.  MANIFEST.tsv (kept by hand) says what vmstream must
answer.  Large vectors are written compressed: vmstream reads gzip and
zstd itself, so the bombs are fed exactly as stored.  Deterministic.
"""
import gzip
import json
import os
import struct
import subprocess
import sys
import zlib

SRC, OUT = sys.argv[1:3]
SEEDS = os.path.join(SRC, "fuzz/corpus/stream")


def seed(name):
    with open(os.path.join(SEEDS, name), "rb") as f:
        return f.read()


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def zstd(data, level=19):
    return subprocess.run(["zstd", "-q", "-%d" % level, "-c"], input=data,
                          check=True, capture_output=True).stdout


def be32(v):
    return struct.pack(">I", v & 0xffffffff)


def be64(v):
    return struct.pack(">Q", v)


def patch(data, off, new):
    return data[:off] + new + data[off + len(new):]


V22 = seed("v22-a57.mig")        # header+config 0..61, RAM setup 61..121,
V23 = seed("v23-a57.mig")        # cpu_common 121..158, cpu 158.., EOF, vmdesc
HDR = V22[:61]
RAM_SETUP = V22[61:121]
CPU = 158
BODY = CPU + 17                  # 0x04 id(4) len "cpu" inst(4) ver(4)
N_OFF = BODY + 568               # cpreg_vmstate_array_len


def eof_at(d):
    return d.rindex(b"\x00\x06")


def no_vmdesc(d):
    return d[:eof_at(d) + 1]


def vmdesc(d):
    e = eof_at(d)
    return json.loads(d[e + 6:])


def with_vmdesc(d, desc):
    j = json.dumps(desc, separators=(", ", ": ")).encode()
    return d[:eof_at(d) + 1] + b"\x06" + be32(len(j)) + j


def cmd(c, payload=b"", length=None):
    return b"\x08" + struct.pack(">HH", c, len(payload) if length is None
                                 else length) + payload


def full(sid, name, inst, ver, body, footer=True):
    n = name.encode()
    s = b"\x04" + be32(sid) + bytes([len(n)]) + n + be32(inst) + be32(ver)
    return s + body + (b"\x7e" + be32(sid) if footer else b"")


def ram_setup(total, blocks):
    s = b"\x01" + be32(2) + b"\x03ram" + be32(0) + be32(4)
    s += be64(total | 0x04)
    for name, size in blocks:
        s += bytes([len(name)]) + name + be64(size)
    return s + be64(0x10) + b"\x7e" + be32(2)


def ram_part(records):
    return b"\x02" + be32(2) + records + be64(0x10) + b"\x7e" + be32(2)


devices = V22[121:eof_at(V22)]           # cpu_common + cpu, no EOF

# --- truncations ---------------------------------------------------------
write("trunc-magic.mig", V22[:3])
write("trunc-version.mig", V22[:6])
write("trunc-config.mig", V22[:30])
write("trunc-ram-setup.mig", V22[:90])
write("trunc-cpu-body.mig", V22[:CPU + 400])
write("trunc-before-eof.mig", V22[:eof_at(V22)])
write("trunc-vmdesc.mig", V22[:-100])
write("trunc-gzip.mig.gz", gzip.compress(V22, 9, mtime=0)[:-30])
write("trunc-zstd.mig.zst", zstd(V22)[:-20])

# --- bit flips in the cpu section -----------------------------------------
n = struct.unpack(">i", V22[N_OFF:N_OFF + 4])[0]
write("cpu-len-plus1.mig", patch(V22, N_OFF, be32(n + 1)))
write("cpu-len-minus1.mig", patch(V22, N_OFF, be32(n - 1)))
write("cpu-len-negative.mig", patch(V22, N_OFF, be32(-1)))
write("cpu-len-huge.mig", patch(V22, N_OFF, be32(0x7fffffff)))
write("cpu-len-plus1-novmdesc.mig",
      no_vmdesc(patch(V22, N_OFF, be32(n + 1))))
write("cpu-len-negative-novmdesc.mig",
      no_vmdesc(patch(V22, N_OFF, be32(-1))))
write("cpu-flip-tail.mig", patch(V22, BODY + 568 + 4 + 16 * n + 64,
                                 bytes([V22[BODY + 568 + 4 + 16 * n + 64] ^ 0x80])))
write("cpu-flip-subsection.mig",
      patch(V22, BODY + 568 + 4 + 16 * n + 65, b"\x07"))
m23 = N_OFF + 4
n23 = struct.unpack(">i", V23[N_OFF:N_OFF + 4])[0]
vidx = N_OFF + 8 + 8 * n23 + 8 * n23
write("v23-value-len-minus1.mig", patch(V23, m23, be32(n23 - 1)))
write("v23-value-index-out-of-range.mig", patch(V23, vidx + 4, be32(0x1000)))
write("v23-value-index-decreasing.mig",
      patch(patch(V23, vidx + 4, be32(2)), vidx + 8, be32(1)))
write("cpu-version-23-body-22.mig", patch(V22, CPU + 13, be32(23)))

# --- RAM block list and records -------------------------------------------
blk = b"mach-virt.ram"
def stream_with_ram(setup, part=b""):
    return HDR + setup + part + devices + b"\x00"

write("ram-block-overruns-total.mig",
      stream_with_ram(ram_setup(0x10000, [(blk, 0x20000)])))
write("ram-block-not-page-multiple.mig",
      stream_with_ram(ram_setup(0x11000, [(blk, 0x10800),
                                           (b"b2", 0x800)])))
write("ram-block-name-empty.mig",
      stream_with_ram(ram_setup(0x10000, [(b"", 0x10000)])))
write("ram-block-name-cut.mig",
      HDR + ram_setup(0x10000, [(blk, 0x10000)])[:26] + b"\x40mach")
write("ram-page-beyond-block.mig",
      stream_with_ram(RAM_SETUP,
                      ram_part(be64(0x20000 | 0x08) + bytes([len(blk)]) +
                               blk + bytes(4096))))
write("ram-page-unknown-block.mig",
      stream_with_ram(RAM_SETUP,
                      ram_part(be64(0x02) + b"\x05nopes" + b"\x00")))
write("ram-continue-first.mig",
      stream_with_ram(RAM_SETUP, ram_part(be64(0x22) + b"\x00")))
write("ram-hook.mig", stream_with_ram(RAM_SETUP, ram_part(be64(0x80))))
write("ram-xbzrle-bad.mig",
      stream_with_ram(RAM_SETUP,
                      ram_part(be64(0x40) + bytes([len(blk)]) + blk +
                               b"\x01" + struct.pack(">H", 4) + b"\x00\x00\x00\x00")))
write("ram-compressed-bad.mig",
      stream_with_ram(RAM_SETUP,
                      ram_part(be64(0x100) + bytes([len(blk)]) + blk +
                               be32(8) + b"notzlib!")))

# --- commands -------------------------------------------------------------
write("cmd-ping-bad-length.mig",
      HDR + cmd(2, b"\x00\x00\x01") + RAM_SETUP + devices + b"\x00")
write("cmd-unknown.mig", HDR + cmd(0x0c) + RAM_SETUP + devices + b"\x00")
write("cmd-length-past-end.mig", HDR + cmd(6, b"", 0x200) + b"\x00" * 16)
write("cmd-recv-bitmap-bad.mig",
      HDR + cmd(10, b"\x05ab") + RAM_SETUP + devices + b"\x00")

# --- idstr / name lengths -------------------------------------------------
write("idstr-empty.mig", HDR + RAM_SETUP + full(7, "", 0, 1, b"") + b"\x00")
write("idstr-past-end.mig", HDR + RAM_SETUP + b"\x04" + be32(7) + b"\xffcpu")
write("machine-name-too-long.mig",
      V22[:8] + b"\x07" + be32(300) + b"x" * 300 + V22[61:])
write("config-unknown-subsection.mig",
      HDR + b"\x05\x16configuration/unknown" + be32(1) + V22[61:])
write("config-page-bits-bad.mig", patch(V22, 57, be32(30)))

# --- vmdesc contradicting the data -----------------------------------------
d = vmdesc(V22)
for dev in d["devices"]:
    if dev["name"] == "cpu":
        for f in dev["fields"]:
            if f["name"] == "cpreg_vmstate_indexes":
                f["array_len"] = f.get("array_len", 1) + 1
write("vmdesc-cpu-count-lies.mig", with_vmdesc(V22, d))
write("vmdesc-v23-for-v22-data.mig", with_vmdesc(V22, vmdesc(V23)))
d = vmdesc(V22)
d["devices"][0]["fields"][0]["size"] = 7
write("vmdesc-field-size-lies.mig", with_vmdesc(V22, d))
write("vmdesc-not-json.mig", V22[:eof_at(V22) + 1] + b"\x06" + be32(9) +
      b"{not json")
write("vmdesc-nul.mig", V22[:eof_at(V22) + 1] + b"\x06" + be32(12) +
      b'{"a": "\x00"}   '[:12])
write("vmdesc-len-huge.mig", V22[:eof_at(V22) + 1] + b"\x06" +
      be32(0xffffffff) + V22[eof_at(V22) + 6:])
write("vmdesc-len-short.mig", V22[:eof_at(V22) + 1] + b"\x06" +
      be32(10) + V22[eof_at(V22) + 6:])
depth = 100000
write("vmdesc-deep-nesting.mig.zst", zstd(
      V22[:eof_at(V22) + 1] + b"\x06" + be32(2 * depth + 14) +
      b'{"devices": ' + b"[" * depth + b"]" * depth + b"}" + b" "))
big = b'{"page_size": 4096, "devices": [], "pad": "' + \
    b"x" * (65 << 20) + b'"}'
write("vmdesc-65mib.mig.zst", zstd(V22[:eof_at(V22) + 1] + b"\x06" +
                                   be32(len(big)) + big, 3))

# --- PACKAGED lengths -----------------------------------------------------
pkg = cmd(4) + devices + cmd(2, be32(3)) + cmd(5)
ram_end = b"\x03" + be32(2) + be64(0x10) + b"\x7e" + be32(2)
def postcopy(blob, length):
    return HDR + RAM_SETUP + cmd(7, be32(length)) + blob + ram_end + b"\x00"
write("packaged-len-past-end.mig", postcopy(pkg, len(pkg) + 5000))
write("packaged-len-short.mig", postcopy(pkg, len(pkg) - 40))
write("packaged-len-over-limit.mig", postcopy(pkg, 0x10000001))
write("packaged-nested.mig",
      postcopy(cmd(7, be32(len(pkg))) + pkg, len(pkg) + 9))
write("packaged-eof-inside.mig", postcopy(pkg + b"\x00", len(pkg) + 1))
# regression: many commands inside a package (st->cmds moves under it)
pings = b"".join(cmd(2, be32(i)) for i in range(40))
write("packaged-many-commands.mig", postcopy(pings + pkg, len(pings) + len(pkg)))
# regression: 20000 nested packages (stack and quadratic memory)
blob = cmd(2, be32(0))
for i in range(20000):
    blob = cmd(7, be32(len(blob))) + blob
write("packaged-nested-deep.mig.zst", zstd(HDR + blob + b"\x00"))

# --- unknown record types ---------------------------------------------------
write("record-unknown-top.mig", HDR + RAM_SETUP + b"\x09" + devices + b"\x00")
write("record-subsection-top.mig", HDR + RAM_SETUP + b"\x05" + devices)
write("record-unknown-in-device-state.mig",
      HDR + RAM_SETUP + devices + b"\x42\x00")
write("record-part-never-started.mig", HDR + b"\x02" + be32(99) + b"\x00")
write("record-garbage-after-eof.mig", V22[:eof_at(V22) + 1] + b"\x99junk")

# --- containers -----------------------------------------------------------
write("libvirt-part.img", b"LibvirtQemudPart" + bytes(76) + V22)
write("libvirt-bad-version.img",
      b"LibvirtQemudSave" + struct.pack("<IIIII", 9, 0, 0, 0, 0) + bytes(56))
write("gzip-corrupt.mig.gz",
      patch(gzip.compress(V22, 9, mtime=0), 40, b"\xff\xff\xff\xff"))
write("not-a-stream.txt", b"hello, world\n")
write("empty.mig", b"")

# --- bombs: small files that decompress to a lot ---------------------------
# Device state of 300 MiB (a section no layout delimits): the reader must
# stop at VMS_MAX_DEVICE_STATE (256 MiB) instead of buffering it all.
dev_bomb = HDR + RAM_SETUP + full(7, "bomb", 0, 1, bytes(300 << 20),
                                  footer=False)
write("bomb-device-state.mig.zst", zstd(dev_bomb, 19))
write("bomb-device-state.mig.gz", gzip.compress(dev_bomb, 9, mtime=0))
# 1 GiB (zstd) / 64 MiB (gzip) of RAM pages, the same page over and over:
# streamed in constant memory, the stream is valid.
page = be64(0x28) + bytes(4096)
first = be64(0x08) + bytes([len(blk)]) + blk + bytes(4096)
def ram_bomb(n_pages):
    return HDR + RAM_SETUP + b"\x02" + be32(2) + first + \
        page * (n_pages - 1) + be64(0x10) + b"\x7e" + be32(2) + devices + \
        b"\x00"
write("bomb-ram-1g.mig.zst", zstd(ram_bomb(1 << 18), 19))
write("bomb-ram-64m.mig.gz", gzip.compress(ram_bomb(1 << 14), 9, mtime=0))

# --- other regressions found by fuzzing (fuzz/README, doc/fuzzing.md) -------
# two configuration/capabilities subsections (heap overflow before the fix)
caps = lambda names: b"\x05\x1aconfiguration/capabilities" + be32(1) + \
    be32(len(names)) + b"".join(bytes([len(x)]) + x for x in names)
write("config-caps-twice.mig", HDR + caps([b"aa", b"bb"]) + caps([b"cc"]) +
      V22[61:])
# a vmdesc struct array of 2^32-1 zero-byte elements, nested (hang)
inner = {"vmsd_name": "in", "version": 1,
         "fields": [{"name": "b", "type": "uint8", "size": 0}]}
dev = {"name": "d", "instance_id": 0, "vmsd_name": "d", "version": 1,
       "fields": [{"name": "s", "array_len": 4294967295, "type": "struct",
                   "struct": {"vmsd_name": "x", "version": 1, "fields": [
                       {"name": "t", "array_len": 4294967295,
                        "type": "struct", "struct": inner, "size": 0}]},
                   "size": 0}]}
zs = HDR + RAM_SETUP + full(30, "d", 0, 1, b"") + b"\x00"
write("vmdesc-zero-size-struct.mig",
      with_vmdesc(zs + b"\x06\x00\x00\x00\x02{}", {"page_size": 4096,
                                                   "devices": [dev]}))

# --- valid streams the regressions need (postcopy conversion, profiles) ----
write("ok-v22.mig", V22)
write("ok-v22-postcopy.mig", seed("v22-postcopy.mig"))
write("ok-v23-postcopy.mig", seed("v23-postcopy.mig"))
# fuzz-*: inputs found by the fuzzers, stored verbatim (not generated here)
# a register id whose size code is 0 in a computed group (SVE 0x15): its
# name was read from an uninitialised buffer (stack over-read)
write("cpu-id-sve-size0.mig", patch(V22, N_OFF + 4,
                                    be64(0x6000000000150700)))
# a section without its footer, and a later section with the same id: the
# footer search (no vmdesc) makes the first swallow the cpu section, which
# the vmdesc places correctly.  convert, which sends the device state before
# the vmdesc arrives, must refuse rather than send the cpu unconverted
# (found by fuzz_convert).
def dev_u32(name):
    return {"name": name, "instance_id": 0, "vmsd_name": name, "version": 1,
            "fields": [{"name": "x", "type": "uint32", "size": 4}]}


d = vmdesc(V22)
d["devices"] = [dev_u32("aa")] + d["devices"] + [dev_u32("bb")]
write("dup-section-id-footer-lies.mig", with_vmdesc(
    HDR + RAM_SETUP + full(30, "aa", 0, 1, be32(1), footer=False) + devices +
    full(30, "bb", 0, 1, be32(2)) + b"\x00\x06\x00\x00\x00\x02{}", d))
# a vmdesc that ends inside a number right after "instance_id": the text is
# not NUL-terminated, so nothing may read past it (the lazy parse's check)
j = b'{"page_size": 4096, "devices": [{"name": "cpu_common", "instance_id": 0'
write("vmdesc-ends-in-number.mig", V22[:eof_at(V22) + 1] + b"\x06" +
      be32(len(j)) + j)
