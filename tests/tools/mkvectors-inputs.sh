#!/bin/bash
# tests/tools/mkvectors-inputs.sh - make the real x86 streams of
# tests/vectors/real-x86/ and the Arm no-vmdesc / no-footer streams of
# tests/vectors/real-v22-novmdesc/, with Debian 12's QEMU 7.2, and the
# expected output of QEMU's own analyze-migration.py for each (issue #12).
#
#   tests/tools/mkvectors-inputs.sh OUTDIR
#
# OUTDIR gets real-x86/ and real-v22-novmdesc/ with the compressed files,
# a facts.tsv per directory and a log; MANIFEST.md in the repo is written
# from them by hand.  Not part of `make check` (vectors are stored, not
# regenerated).  Needs qemu-system-x86 and qemu-system-arm (Debian 7.2),
# socat, zstd, python3, cmp.
#
# For every stream: QEMU runs paused (-S), `migrate exec:cat > NAME.mig`
# over QMP, then the stream is loaded back into the same command line
# (tests/integration/qemu.sh qemu_load: must say "loads").  Then:
#   - streams with a vmdesc: analyze-migration.py -d state and -d desc;
#   - streams without: analyze-migration.py must refuse them ("No Debug
#     Migration device found"); the stream followed by its twin's bytes
#     after EOF (0x06, length, vmdesc JSON) is analysed instead, which
#     proves the twin's description fits the stream (x86; for Arm, where
#     analyze-migration.py cannot read the cpu section, see devtail below).
# Footers are counted by tests/tools/streamfacts.py (x86) and proven for
# Arm by QEMU itself: a destination expecting footers refuses a stream
# without them ("Missing section footer for ram") and one told not to
# expect them refuses a stream with them ("Unknown savevm section type 126").
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:?usage: mkvectors-inputs.sh OUTDIR}
mkdir -p "$out" && out=$(cd "$out" && pwd)
AM=$here/analyze-migration.py
SF=$here/streamfacts.py
. "$top/tests/integration/qemu.sh"
QEMU_TIMEOUT=60
qemu_init
W=$QEMU_WORKDIR/run
mkdir -p "$W" "$out/real-x86" "$out/real-v22-novmdesc"
cd "$W" || exit 2
truncate -s 1440K fd.img            # a blank 1.44 MB floppy for the fdc drive
LOG=$out/log
: >"$LOG"
fail=0
log() { printf '%s\n' "$*" | tee -a "$LOG"; }

# save NAME BIN ARGS... -> $W/NAME.mig, cmdline in $W/NAME.cmd
save() {
    local name=$1 bin=$2 st r
    shift 2
    rm -f "$name.mig"
    if ! qemu_start s "$bin" "$@"; then
        log "FAIL $name: QEMU did not start: $(cat "$(qemu_stderr s)")"
        fail=1; return 1
    fi
    sed "s|$W/||g; s|unix:[^ ]*qmp.sock|unix:q.sock|" "$QEMU_WORKDIR/s/cmdline" >"$name.cmd"
    qemu_qmp s migrate "{\"uri\": \"exec:cat > $name.mig\"}" >/dev/null
    st=$(qemu_wait_migration s 60)
    qemu_stop s
    if [ "$st" != completed ]; then
        log "FAIL $name: migration $st"; fail=1; return 1
    fi
    r=$(qemu_load -b "$bin" -e "$name.load.err" "$name.mig" -- "$@")
    if [ "$r" != loads ]; then
        log "FAIL $name: load-back: $r: $(cat "$name.load.err")"; fail=1; return 1
    fi
    log "ok $name: $(stat -c %s "$name.mig") bytes, loads back"
    return 0
}

# after_eof FACTSJSON STREAM -> the bytes after the EOF marker on stdout
after_eof() {
    local eof
    eof=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["eof_offset"])' "$1")
    tail -c +$((eof + 2)) "$2"
}

# analyse DIR NAME [TWIN]  (x86)
analyse() {
    local dir=$1 name=$2 twin=${3:-}
    if [ -z "$twin" ]; then
        python3 "$SF" "$name.mig" >"$name.facts.json" || { log "FAIL $name: streamfacts"; fail=1; }
        python3 "$AM" -f "$name.mig" -d state >"$name.state.json" 2>"$name.am.err" ||
            { log "FAIL $name: analyze -d state: $(tail -n1 "$name.am.err")"; fail=1; }
        python3 "$AM" -f "$name.mig" -d desc >"$name.desc.json" 2>>"$name.am.err" ||
            { log "FAIL $name: analyze -d desc: $(tail -n1 "$name.am.err")"; fail=1; }
    else
        python3 "$SF" "$name.mig" --vmdesc-from "$twin.mig" >"$name.facts.json" ||
            { log "FAIL $name: streamfacts --vmdesc-from $twin"; fail=1; }
        if python3 "$AM" -f "$name.mig" -d state >/dev/null 2>"$name.am.err"; then
            log "FAIL $name: analyze-migration.py read a stream without vmdesc"; fail=1
        else
            log "ok $name: analyze-migration.py alone: $(tail -n1 "$name.am.err")"
        fi
        { cat "$name.mig"; after_eof "$twin.facts.json" "$twin.mig"; } >"$name.spliced.mig"
        if python3 "$AM" -f "$name.spliced.mig" -d state >"$name.state.json" 2>"$name.am.err"; then
            log "ok $name: stream + vmdesc of $twin read completely by analyze-migration.py"
        else
            log "FAIL $name: spliced with $twin: $(tail -n1 "$name.am.err")"; fail=1
        fi
        rm -f "$name.spliced.mig"
    fi
    zstd -19 -qf "$name.mig" -o "$out/$dir/$name.mig.zst"
    for f in state desc; do
        [ -s "$name.$f.json" ] && zstd -19 -qf "$name.$f.json" -o "$out/$dir/$name.$f.json.zst"
    done
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$(stat -c %s "$name.mig")" \
        "$(sha256sum <"$name.mig" | cut -d' ' -f1)" "$(cat "$name.facts.json")" \
        "$(cat "$name.cmd")" >>"$out/$dir/facts.tsv"
}

# probe MACHINE: facts only (vmdesc, footers, configuration section) of
# `-M MACHINE`, kept in the log and probes.tsv, streams not stored.  A
# stream without vmdesc is walked with the vmdesc of a twin saved with
# MACHINE,suppress-vmdesc=off.
probe() {
    local m=$1 name=probe-$1 facts
    save "$name" $X86 -M "$m" "${COMMON[@]}" || return
    if python3 "$SF" "$name.mig" >"$name.facts.json"; then
        :
    elif save "$name-twin" $X86 -M "$m,suppress-vmdesc=off" "${COMMON[@]}" &&
            python3 "$SF" "$name.mig" --vmdesc-from "$name-twin.mig" >"$name.facts.json"; then
        :
    else
        log "FAIL $name: streamfacts"; fail=1; return
    fi
    facts=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("vmdesc=%s footers=%d configuration=%s sections=%d" % (d["vmdesc"], d["footers"], d["configuration"], len(d["sections"])))' "$name.facts.json")
    log "probe $m: $facts"
    printf '%s\t%s\t%s\n' "$m" "$facts" "$(cat "$name.cmd")" >>"$out/real-x86/probes.tsv"
}

X86=qemu-system-x86_64
I386=qemu-system-i386
A64=qemu-system-aarch64
COMMON=(-m 32M -nodefaults -display none -S)
: >"$out/real-x86/facts.tsv"
: >"$out/real-x86/probes.tsv"
: >"$out/real-v22-novmdesc/facts.tsv"
log "# $($X86 --version | head -n1)"

# --- x86 streams with vmdesc -------------------------------------------
save x86_64-pc-i440fx-7.2 $X86 -M pc-i440fx-7.2 "${COMMON[@]}" &&
    analyse real-x86 x86_64-pc-i440fx-7.2
save x86_64-pc-i440fx-7.2-fdd $X86 -M pc-i440fx-7.2 "${COMMON[@]}" \
    -drive if=floppy,index=0,format=raw,file=fd.img &&
    analyse real-x86 x86_64-pc-i440fx-7.2-fdd
save x86_64-pc-q35-7.2 $X86 -M pc-q35-7.2 "${COMMON[@]}" &&
    analyse real-x86 x86_64-pc-q35-7.2
save x86_64-microvm $X86 -M microvm "${COMMON[@]}" &&
    analyse real-x86 x86_64-microvm
save i386-pc $I386 -M pc "${COMMON[@]}" &&
    analyse real-x86 i386-pc

# --- without vmdesc, with footers; twin = x86_64-pc-i440fx-7.2 ----------
save x86_64-pc-i440fx-7.2-novmdesc $X86 -M pc-i440fx-7.2,suppress-vmdesc=on "${COMMON[@]}" &&
    analyse real-x86 x86_64-pc-i440fx-7.2-novmdesc x86_64-pc-i440fx-7.2

# --- pc-i440fx-2.2: neither vmdesc nor footers; twin with vmdesc ---------
save x86_64-pc-i440fx-2.2-vmdesc $X86 -M pc-i440fx-2.2,suppress-vmdesc=off "${COMMON[@]}" &&
    analyse real-x86 x86_64-pc-i440fx-2.2-vmdesc
save x86_64-pc-i440fx-2.2 $X86 -M pc-i440fx-2.2 "${COMMON[@]}" &&
    analyse real-x86 x86_64-pc-i440fx-2.2 x86_64-pc-i440fx-2.2-vmdesc

# --- which machine types write footers / vmdesc (facts only) ------------
for m in pc-i440fx-1.4 pc-i440fx-2.0 pc-i440fx-2.1 pc-i440fx-2.2 pc-i440fx-2.3 \
        pc-i440fx-2.4 pc-q35-2.4; do
    probe "$m"
done

# --- Arm (aarch64, v22 cpu section) -------------------------------------
ARM=(-cpu cortex-a57 -smp 1 -m 32M -nodefaults -nographic -S -display none -monitor none -serial none)
# -nodefaults: no virtio-net and its 256 KiB option ROM (19 KB compressed
# instead of 190 KB)
armsave() {   # NAME MACHINE-OPTS [EXTRA...]
    local name=$1 m=$2
    shift 2
    save "$name" $A64 -M "$m" "${ARM[@]}" "$@" || return 1
    zstd -19 -qf "$name.mig" -o "$out/real-v22-novmdesc/$name.mig.zst"
    printf '%s\t%s\t%s\t%s\n' "$name" "$(stat -c %s "$name.mig")" \
        "$(sha256sum <"$name.mig" | cut -d' ' -f1)" "$(cat "$name.cmd")" \
        >>"$out/real-v22-novmdesc/facts.tsv"
}
# devtail NAME TWIN: NAME (no vmdesc) carries the same device sections as
# TWIN (with vmdesc): the same bytes before the first RAM section (header,
# configuration), and from the `timer` section (the first device section)
# to the EOF byte a region of the same length whose differing bytes all lie
# in the pl031 section (the RTC holds host time).  Only RAM differs beyond
# that (page order varies between two saves).  So TWIN's vmdesc describes
# NAME's device sections.
devtail() {
    local r
    r=$(python3 - "$1.mig" "$2.mig" 2>&1 <<'PY'
import struct, sys
s = open(sys.argv[1], "rb").read()
t = open(sys.argv[2], "rb").read()
j = t.rfind(b'{"page_size"')
if j < 6 or t[j - 5] != 6 or struct.unpack(">I", t[j - 4:j])[0] != len(t) - j \
        or t[j - 6] != 0:
    sys.exit("twin has no vmdesc at its end")
ram = b"\x01\x00\x00\x00\x02\x03ram"
timer = b"\x04\x00\x00\x00\x00\x05timer\x00\x00\x00\x00"
hs, ht = s.find(ram), t.find(ram)
ms, mt = s.find(timer), t.find(timer)
if min(hs, ht, ms, mt) < 0:
    sys.exit("ram or timer section not found")
if s[:hs] != t[:ht] or hs != ht:
    sys.exit("different bytes before the ram section")
a, b = s[ms:], t[mt:j - 5]
if len(a) != len(b):
    sys.exit("device regions of %d and %d bytes" % (len(a), len(b)))
def section_at(buf, off):
    # nearest FULL section header (0x04, id < 2^24, printable idstr) before off
    for p in range(off, -1, -1):
        if buf[p] == 4 and buf[p + 1:p + 4] == b"\0\0\0":
            n = buf[p + 5]
            name = buf[p + 6:p + 6 + n]
            if 2 <= n <= 64 and all(32 < c < 127 for c in name):
                return name.decode()
    return "?"
diff = [i for i in range(len(a)) if a[i] != b[i]]
secs = sorted({section_at(b, i) for i in diff})
if not set(secs) <= {"pl031"}:
    sys.exit("device bytes differ in %s" % secs)
print("head %d bytes identical; device region %d bytes, %d bytes differ, in %s"
      % (hs, len(a), len(diff), secs or "no section"))
PY
    )
    if [ $? = 0 ]; then
        log "ok $1: same as $2 but RAM: $r"
    else
        log "FAIL $1 vs $2: $r"; fail=1
    fi
}
A=aa64-virt72-cortex-a57-1cpu-nodefaults
armsave $A virt-7.2
armsave $A-novmdesc virt-7.2,suppress-vmdesc=on && devtail $A-novmdesc $A
NOFOOT=(-global migration.send-section-footer=off)
armsave $A-nofooter virt-7.2 "${NOFOOT[@]}"
armsave $A-nofooter-novmdesc virt-7.2,suppress-vmdesc=on "${NOFOOT[@]}" &&
    devtail $A-nofooter-novmdesc $A-nofooter

# footers, proven by QEMU: a destination that expects none refuses a stream
# with them, and one that expects them refuses a stream without
xload() {   # WANT STREAM DESC -- ARGS
    local want=$1 s=$2 d=$3 r
    shift 4
    r=$(qemu_load -b $A64 -e x.err "$s" -- "$@")
    if [ "$r" = "$want" ]; then
        log "ok $d: $r ($(grep -v '^$' x.err | tail -n2 | tr '\n' ' '))"
    else
        log "FAIL $d: $r, want $want: $(cat x.err)"; fail=1
    fi
}
xload fails $A.mig \
    "virt-7.2 stream (footers) into a destination with send-section-footer=off" \
    -- -M virt-7.2 "${ARM[@]}" "${NOFOOT[@]}"
xload fails $A-nofooter.mig \
    "no-footer stream into a default virt-7.2 destination" -- -M virt-7.2 "${ARM[@]}"
# the oldest virt machine type in 7.2
save probe-virt-2.6 $A64 -M virt-2.6 "${ARM[@]}" &&
    xload fails probe-virt-2.6.mig \
        "virt-2.6 stream into a virt-2.6 destination with send-section-footer=off" \
        -- -M virt-2.6 "${ARM[@]}" "${NOFOOT[@]}"
if [ "$fail" = 0 ]; then log "all ok"; else log "SOME FAILED"; fi
exit "$fail"
