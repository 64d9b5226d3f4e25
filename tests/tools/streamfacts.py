#!/usr/bin/env python3
# tests/tools/streamfacts.py - structural facts of a QEMU migration stream,
# for writing vector manifests (not used by `make check`).
#
#   streamfacts.py STREAM [--vmdesc-from OTHER]
#
# Prints one JSON object: whether STREAM ends in a vmdesc, how many section
# footers it has, whether it has a configuration section, and every FULL /
# START section (id, name, instance, version) in stream order.  Decoding
# uses the classes of QEMU's own analyze-migration.py (tests/tools/, loaded
# unmodified; only its command-line part is left out), so a section is read
# exactly as that script reads it.  The walk below repeats that script's
# MigrationDump.read loop, counting footers, which the script only checks.
# --vmdesc-from takes the device description from OTHER (a stream saved by
# the same QEMU with the same command line) when STREAM has none.
import argparse
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
src = open(os.path.join(HERE, "analyze-migration.py")).read()
src = src[:src.index("parser = argparse.ArgumentParser()")]
am = {"__name__": "analyze_migration"}
exec(compile(src, "analyze-migration.py", "exec"), am)

MD = am["MigrationDump"]


def has_vmdesc(path):
    f = am["MigrationFile"](path)
    try:
        f.read_migration_debug_json()
        return True
    except Exception:
        return False
    finally:
        f.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("stream")
    p.add_argument("--vmdesc-from")
    a = p.parse_args()

    own = has_vmdesc(a.stream)
    descsrc = a.stream if own else a.vmdesc_from
    if descsrc is None:
        print(json.dumps({"vmdesc": False, "error": "no vmdesc"}))
        return 1
    d = MD(a.stream)
    dfile = am["MigrationFile"](descsrc)
    d.load_vmsd_json(dfile)
    dfile.close()

    f = am["MigrationFile"](a.stream)
    if f.read32() != MD.QEMU_VM_FILE_MAGIC or \
            f.read32() != MD.QEMU_VM_FILE_VERSION:
        raise SystemExit("bad header")
    ramargs = {"page_size": d.vmsd_desc["page_size"],
               "dump_memory": False, "write_memory": False}
    d.section_classes[("ram", 0)][1] = ramargs
    sections = collections.OrderedDict()
    out = {"vmdesc": own, "configuration": False, "footers": 0,
           "sections": []}
    section_id = None
    while True:
        t = f.read8()
        if t == MD.QEMU_VM_EOF:
            break
        if t == MD.QEMU_VM_CONFIGURATION:
            am["ConfigurationSection"](f).read()
            out["configuration"] = True
        elif t in (MD.QEMU_VM_SECTION_START, MD.QEMU_VM_SECTION_FULL):
            section_id = f.read32()
            name = f.readstr()
            inst = f.read32()
            ver = f.read32()
            cls = d.section_classes[(name, inst)]
            s = cls[0](f, ver, cls[1], (name, inst))
            sections[section_id] = s
            s.read()
            out["sections"].append([section_id, name, inst, ver])
        elif t in (MD.QEMU_VM_SECTION_PART, MD.QEMU_VM_SECTION_END):
            section_id = f.read32()
            sections[section_id].read()
        elif t == MD.QEMU_VM_SECTION_FOOTER:
            if f.read32() != section_id:
                raise SystemExit("mismatched footer")
            out["footers"] += 1
        else:
            raise SystemExit("unknown section type %d at 0x%x" % (t, f.tell() - 1))
    out["eof_offset"] = f.tell() - 1
    out["size"] = os.path.getsize(a.stream)
    out["bytes_after_eof"] = out["size"] - f.tell()
    f.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
