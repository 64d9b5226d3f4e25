#!/bin/bash
# bench/get-analyze.sh DIR - fetch QEMU 7.2's scripts/analyze-migration.py
# from Debian's qemu source package, fix its configuration-section parsing
# for Arm streams, and leave it as DIR/analyze-migration.py.
#
# The script is not committed (GPL-2.0, QEMU's); the benchmark fetches it.
#
# How: a private apt configuration (sources list, lists dir) whose entries
# are the system's own `deb` entries turned into `deb-src` (one-line
# /etc/apt/sources.list{,.d/*.list} and deb822 /etc/apt/sources.list.d/
# *.sources are both read); `apt-get update` + `apt-get source
# --download-only qemu[=VERSION]` into a temp dir; only the script is taken
# out of the orig tarball (plus any Debian patch touching it).  The system's
# apt configuration is not modified.
#
# VERSION is the source version of the installed qemu-system-arm if there
# is one (e.g. 1:7.2+dfsg-7+deb12u18), else whatever apt offers; set
# QEMU_SRC_VERSION to force one (or to "" for the newest).
#
# The fix: 7.2's
# ConfigurationSection.read() reads only be32 len + the machine name, so on
# Arm `virt` streams, which always carry the configuration/target-page-bits
# subsection, the main loop dies with "Exception: Unknown section type: 5".
# The patched read() also consumes the configuration subsections:
#   0x05, u8 len, name, be32 version, then
#     configuration/target-page-bits   be32
#     configuration/capabilities       be32 count, count x (u8 len, name)
#     configuration/uuid               16 bytes
#
# Needs: apt (apt-get source), tar, xz-utils, python3 (to apply the fix and
# to run the script).  Exit status 0 when DIR/analyze-migration.py is in
# place and passes a self-check on a small stream if one can be found
# (ANALYZE_CHECK_STREAM, else ../tests/vectors/real-v22/*cortex-a57-2cpu*).

set -eu
dir=${1:?usage: get-analyze.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
out=$dir/analyze-migration.py

tmp=$(mktemp -d "${TMPDIR:-/tmp}/get-analyze.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say() { printf 'get-analyze: %s\n' "$*" >&2; }

fetch() {
    local srcs=$tmp/apt/sources.list partsd=$tmp/apt/sources.list.d f
    mkdir -p "$tmp/apt/lists/partial" "$partsd" "$tmp/apt/cache/archives/partial"
    : >"$srcs"
    # one-line format: "deb [opts] URI suite comps" -> "deb-src ..."
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" >>"$srcs"
    done
    # deb822 format: Types: deb [deb-src] -> Types: deb-src
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        sed -e 's/^\(Types:.*\)$/\1 /' \
            -e '/^Types:/s/[[:space:]]deb-src[[:space:]]/ /g' \
            -e '/^Types:/s/[[:space:]]deb[[:space:]]/ deb-src /' \
            -e 's/[[:space:]]*$//' "$f" >"$partsd/$(basename "$f")"
    done
    if ! [ -s "$srcs" ] && [ -z "$(ls "$partsd")" ]; then
        say "no apt sources found in /etc/apt"
        return 1
    fi
    local -a o=(-o "Dir::Etc::SourceList=$srcs" -o "Dir::Etc::SourceParts=$partsd"
        -o "Dir::State::Lists=$tmp/apt/lists" -o "Dir::Cache=$tmp/apt/cache"
        -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
        -o "Debug::NoLocking=1" -o "APT::Get::Only-Source=1")
    [ "$(id -u)" = 0 ] || o+=(-o "APT::Sandbox::User=$(id -un)")
    say "apt-get update (deb-src, private lists)"
    # a third-party repository without Sources only gives a warning/error
    # for its own entry; the Debian ones are what matters
    apt-get "${o[@]}" -qq update >"$tmp/update.log" 2>&1 ||
        say "apt-get update reported errors (continuing): $(tail -n2 "$tmp/update.log" | tr '\n' ' ')"
    local want=${QEMU_SRC_VERSION-}
    if [ -z "${QEMU_SRC_VERSION+x}" ]; then
        want=$(dpkg-query -W -f='${source:Version}' qemu-system-arm 2>/dev/null || true)
    fi
    mkdir -p "$tmp/src"
    if [ -n "$want" ]; then
        say "apt-get source --download-only qemu=$want"
        (cd "$tmp/src" && apt-get "${o[@]}" -qq source --download-only "qemu=$want") \
            >"$tmp/source.log" 2>&1 || {
            say "qemu=$want not offered; taking the newest qemu source"
            want=""
        }
    fi
    if [ -z "$want" ]; then
        say "apt-get source --download-only qemu"
        (cd "$tmp/src" && apt-get "${o[@]}" -qq source --download-only qemu) \
            >"$tmp/source.log" 2>&1 || { cat "$tmp/source.log" >&2; return 1; }
    fi
    ls "$tmp/src" >&2
}

# onefile PATCH -> only the hunks of PATCH for scripts/analyze-migration.py
onefile() {
    awk '
        function flush() { if (keep) printf "%s", buf; buf = ""; keep = 0 }
        /^diff / { flush(); inblk = 1; buf = $0 "\n"; next }
        /^--- / && !hdr { if (!git) { flush(); inblk = 1 } }
        /^\+\+\+ / { if ($2 ~ /scripts\/analyze-migration\.py$/) keep = 1 }
        { if (inblk) buf = buf $0 "\n" }
        END { flush() }
    ' git="$(grep -c '^diff --git' "$1")" "$1"
}

extract() {
    local orig deb p
    orig=$(ls "$tmp"/src/qemu_*.orig.tar.* 2>/dev/null | head -n1)
    [ -n "$orig" ] || { say "no orig tarball downloaded"; return 1; }
    case $(ls "$tmp"/src/*.dsc) in *7.2*) ;; *) say "warning: not a 7.2 source: $(ls "$tmp"/src/*.dsc)";; esac
    say "extracting scripts/analyze-migration.py from $(basename "$orig")"
    mkdir -p "$tmp/x"
    tar -xf "$orig" -C "$tmp/x" --wildcards '*/scripts/analyze-migration.py'
    p=$(find "$tmp/x" -path '*/scripts/analyze-migration.py' | head -n1)
    [ -n "$p" ] || { say "script not in tarball"; return 1; }
    cp "$p" "$tmp/analyze-migration.py"
    # Debian patches touching the script (none in 7.2+dfsg-7, but check)
    deb=$(ls "$tmp"/src/qemu_*.debian.tar.* 2>/dev/null | head -n1)
    if [ -n "$deb" ]; then
        mkdir -p "$tmp/deb"
        tar -xf "$deb" -C "$tmp/deb"
        local series=$tmp/deb/debian/patches/series pf
        if [ -f "$series" ]; then
            while read -r pf _; do
                case $pf in ''|\#*) continue ;; esac
                if grep -q '^+++ .*scripts/analyze-migration\.py' "$tmp/deb/debian/patches/$pf" 2>/dev/null; then
                    say "applying the analyze-migration.py part of Debian patch $pf"
                    onefile "$tmp/deb/debian/patches/$pf" >"$tmp/one.diff"
                    (cd "$tmp" && rm -rf a && mkdir -p a/scripts && cp analyze-migration.py a/scripts/ &&
                        patch -s -p1 -d a --batch --no-backup-if-mismatch -i "$tmp/one.diff" </dev/null &&
                        cp a/scripts/analyze-migration.py analyze-migration.py) || {
                        say "Debian patch $pf did not apply to the script"
                        return 1
                    }
                fi
            done <"$series"
        fi
    fi
}

fix() {
    python3 - "$tmp/analyze-migration.py" <<'PYEOF'
import re, sys
path = sys.argv[1]
src = open(path).read()
if "configuration/target-page-bits" in src:
    print("get-analyze: script already handles configuration subsections", file=sys.stderr)
    sys.exit(0)
# 7.2:
#     class ConfigurationSection(object):
#         def __init__(self, file):
#             self.file = file
#
#         def read(self):
#             name_len = self.file.read32()
#             name = self.file.readstr(len = name_len)
m = re.search(r"(class ConfigurationSection\(object\):.*?\n    def read\(self\):\n"
              r"        name_len = self\.file\.read32\(\)\n"
              r"        name = self\.file\.readstr\(len = name_len\)\n)", src, re.S)
if not m:
    sys.exit("get-analyze: ConfigurationSection.read() not as in QEMU 7.2; not patched")
fix = m.group(1) + '''\
        # vmstream bench fix: consume the configuration subsections that
        # QEMU writes after the machine name (Arm virt always has
        # configuration/target-page-bits); 7.2 stopped after the name and
        # died with "Unknown section type: 5".
        while True:
            pos = self.file.tell()
            if self.file.read8() != 5:        # QEMU_VM_SUBSECTION
                self.file.file.seek(pos)
                break
            sub_len = self.file.read8() & 0xff
            sub_name = self.file.readstr(len = sub_len)
            self.file.read32()                # subsection version_id
            if sub_name == "configuration/target-page-bits":
                self.file.read32()
            elif sub_name == "configuration/capabilities":
                for _ in range(self.file.read32()):
                    self.file.readstr(len = self.file.read8() & 0xff)
            elif sub_name == "configuration/uuid":
                self.file.readvar(16)
            else:
                raise Exception("Unknown configuration subsection %s" % sub_name)
'''
src = src.replace(m.group(1), fix, 1)
open(path, "w").write(src)
PYEOF
}

selfcheck() {
    local s=${ANALYZE_CHECK_STREAM:-} z
    if [ -z "$s" ]; then
        z=$here/../tests/vectors/real-v22/aa64-virt72-cortex-a57-2cpu.mig.zst
        if [ -f "$z" ] && command -v zstd >/dev/null 2>&1; then
            zstd -dqf "$z" -o "$tmp/check.mig" && s=$tmp/check.mig
        fi
    fi
    [ -n "$s" ] || { say "no stream for the self-check; skipped"; return 0; }
    say "self-check: -d state on $(basename "$s")"
    python3 "$out" -d state -f "$s" >"$tmp/check.json" 2>"$tmp/check.err" || {
        cat "$tmp/check.err" >&2
        say "self-check FAILED"
        return 1
    }
    grep -q '"cpu (' "$tmp/check.json" || { say "self-check: no cpu section in output"; return 1; }
    say "self-check ok ($(wc -c <"$tmp/check.json") bytes of JSON)"
}

if [ -f "$out" ] && grep -q 'configuration/target-page-bits' "$out"; then
    say "$out already present"
else
    fetch
    extract
    fix
    cp "$tmp/analyze-migration.py" "$out"
    chmod +x "$out"
    say "wrote $out"
fi
command -v python3 >/dev/null 2>&1 && selfcheck
exit 0
