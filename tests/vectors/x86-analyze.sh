#!/bin/bash
# tests/vectors/x86-analyze.sh - QEMU's own analyze-migration.py
# (tests/tools/, unmodified) still gives the stored expected output for
# every real x86 stream: NAME.state.json.zst (and NAME.desc.json.zst) in
# tests/vectors/real-x86/.  A stream without vmdesc is read with its twin's
# vmdesc appended after its EOF marker (what `--vmdesc-from` must do), and
# the script alone must refuse it.  These are the references a `dump
# --json` comparison uses (issue #12).
# Last line: "N passed, M failed".  Exit 77 only without python3 or zstd.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
V=${VECTORS:-$top/tests/vectors}/real-x86
AM=$top/tests/tools/analyze-migration.py
SF=$top/tests/tools/streamfacts.py
for c in python3 zstd; do
    command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c not installed"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/x86-analyze.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }

# twin of each stream without vmdesc (MANIFEST.md)
twin() {
    case $1 in
    x86_64-pc-i440fx-7.2-novmdesc) echo x86_64-pc-i440fx-7.2 ;;
    x86_64-pc-i440fx-2.2) echo x86_64-pc-i440fx-2.2-vmdesc ;;
    esac
}

n=0
for z in "$V"/*.mig.zst; do
    name=$(basename "$z" .mig.zst)
    n=$((n + 1))
    zstd -dqf "$z" -o "$T/$name.mig" || { bad "$name: unpack"; continue; }
    zstd -dqf "$V/$name.state.json.zst" -o "$T/$name.state.want" ||
        { bad "$name: no expected state"; continue; }
    t=$(twin "$name")
    if [ -z "$t" ]; then
        src=$T/$name.mig
        if [ -f "$V/$name.desc.json.zst" ]; then
            zstd -dqf "$V/$name.desc.json.zst" -o "$T/$name.desc.want"
            if python3 "$AM" -f "$src" -d desc >"$T/$name.desc.got" 2>"$T/err" &&
                    cmp -s "$T/$name.desc.got" "$T/$name.desc.want"; then
                ok "$name: -d desc as stored"
            else
                bad "$name: -d desc differs: $(tail -n1 "$T/err")"
            fi
        else
            bad "$name: stream with vmdesc but no expected desc"
        fi
    else
        if python3 "$AM" -f "$T/$name.mig" >/dev/null 2>&1; then
            bad "$name: analyze-migration.py read a stream without vmdesc"
        else
            ok "$name: analyze-migration.py alone refuses it (no vmdesc)"
        fi
        [ -f "$T/$t.mig" ] || zstd -dqf "$V/$t.mig.zst" -o "$T/$t.mig"
        eof=$(python3 "$SF" "$T/$t.mig" | sed -n 's/.*"eof_offset": \([0-9]*\).*/\1/p')
        src=$T/$name.spliced.mig
        { cat "$T/$name.mig"; tail -c +$((eof + 2)) "$T/$t.mig"; } >"$src"
    fi
    if python3 "$AM" -f "$src" -d state >"$T/$name.state.got" 2>"$T/err" &&
            cmp -s "$T/$name.state.got" "$T/$name.state.want"; then
        ok "$name: -d state as stored${t:+ (with the vmdesc of $t)}"
    else
        bad "$name: -d state differs${t:+ (with the vmdesc of $t)}: $(tail -n1 "$T/err")"
    fi
done
[ "$n" -gt 0 ] || bad "no streams in $V"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
