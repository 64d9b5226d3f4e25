#!/usr/bin/env python3
"""dump-vs-analyze.py DUMP.json STATE.json - compare `vmstream dump --json`
with QEMU's analyze-migration.py `-d state` of the same stream, value by
value.  Sections are matched by "name (id)" (analyze-migration.py's key);
struct fields by their "elements", subsections by name, where they nest.
Integers are compared as numbers (analyze-migration.py pads them and adds
" (-N)" to negative ones), byte strings as bytes; a one-element list equals
its element (array_len 1).  Prints the differences (at most 50) and a last
line "N values compared, M differences"; exit 0 when M == 0 and N > 0.
"""
import collections
import json
import sys

HEX = set("0123456789abcdef")


def norm(v):
    """A value of either side as ('b', bool) / ('i', int)."""
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, int):
        return ("i", v)
    if isinstance(v, str):
        s = v.strip()
        if s.startswith("0x"):
            return ("i", int(s.split()[0], 16))
        t = s.replace(" ", "")
        if t == "":
            return ("i", 0)
        if len(t) % 2 == 0 and set(t) <= HEX:
            return ("i", int(t, 16))
    return ("?", v)


def ours_fields(fields, subs):
    """Our fields/subsections -> analyze-migration.py's nesting."""
    out = collections.OrderedDict()
    for f in fields:
        name = f["name"]
        if "elements" in f:
            elems = [ours_fields(e["fields"], e["subsections"])
                     for e in f["elements"]]
            val = elems if len(elems) != 1 or "index" in f else elems[0]
            if "index" in f:
                val = elems[0] if len(elems) == 1 else elems
        else:
            val = f["value"]
        if "index" in f:
            out.setdefault(name, []).append(val)
        else:
            out[name] = val
    for s in subs:
        out[s["name"]] = ours_fields(s["fields"], s["subsections"])
    return out


class Cmp:
    def __init__(self):
        self.n = 0
        self.diffs = []

    def diff(self, path, msg):
        self.diffs.append("%s: %s" % (path, msg))

    def walk(self, path, a, b):
        # a: ours, b: analyze-migration.py
        if isinstance(a, list) and len(a) == 1 and not isinstance(b, list):
            a = a[0]
        if isinstance(b, list) and len(b) == 1 and not isinstance(a, list):
            b = b[0]
        if isinstance(b, dict):
            if not isinstance(a, dict):
                self.diff(path, "not a struct/subsection in the dump")
                return
            for k in b:
                if k not in a:
                    self.diff(path + "." + k, "missing in the dump")
                else:
                    self.walk(path + "." + k, a[k], b[k])
            for k in a:
                if k not in b:
                    self.diff(path + "." + k, "only in the dump")
            return
        if isinstance(b, list):
            if isinstance(a, str) and all(isinstance(x, str) for x in b):
                # a byte buffer the dump shows as one string
                a_n, b_n = norm(a), ("i", int("".join(
                    x.replace(" ", "") for x in b) or "0", 16))
                self.n += 1
                if a_n != b_n:
                    self.diff(path, "%r != %r" % (a, b))
                return
            if not isinstance(a, list) or len(a) != len(b):
                self.diff(path, "%d elements in the dump, %d in analyze" % (
                    len(a) if isinstance(a, list) else -1, len(b)))
                return
            for i, (x, y) in enumerate(zip(a, b)):
                self.walk("%s[%d]" % (path, i), x, y)
            return
        self.n += 1
        if norm(a) != norm(b):
            self.diff(path, "dump %r, analyze %r" % (a, b))


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    with open(sys.argv[1]) as f:
        ours = json.load(f, object_pairs_hook=collections.OrderedDict)
    with open(sys.argv[2]) as f:
        theirs = json.load(f, object_pairs_hook=collections.OrderedDict)
    c = Cmp()
    secs = collections.OrderedDict()
    for s in ours["sections"]:
        key = "%s (%d)" % (s["name"], s["id"])
        if "fields" not in s:
            c.diff(key, "no fields in the dump (delimited by %s)"
                   % s["delimited_by"])
            continue
        secs[key] = ours_fields(s["fields"], s["subsections"])
    for key, val in theirs.items():
        if key.startswith("ram ("):
            continue            # RAM: analyze shows block sizes only
        if key not in secs:
            c.diff(key, "section missing in the dump")
            continue
        c.walk(key, secs.pop(key), val)
    for key in secs:
        c.diff(key, "section only in the dump")
    for d in c.diffs[:50]:
        print(d)
    print("%d values compared, %d differences" % (c.n, len(c.diffs)))
    return 0 if c.n > 0 and not c.diffs else 1


if __name__ == "__main__":
    sys.exit(main())
