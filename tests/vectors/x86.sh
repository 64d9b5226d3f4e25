#!/bin/sh
# vmstream on real x86 streams (QEMU 7.2, tests/vectors/real-x86) and on
# streams without vmdesc (issue #12): cpu sections that are not Arm,
# --vmdesc-from, dump nesting; `dump --json` equals QEMU's own
# analyze-migration.py (run here, tests/tools/) value by value.
. "$TESTLIB"
need jq zstd python3
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
X=$VECTORS/real-x86
N=$VECTORS/real-v22-novmdesc
AM=$top/tests/tools/analyze-migration.py
SF=$top/tests/tools/streamfacts.py
DVA=$top/tests/tools/dump-vs-analyze.py

twin() {    # MANIFEST.md: the twin of each stream without vmdesc
    case $1 in
    x86_64-pc-i440fx-7.2-novmdesc) echo x86_64-pc-i440fx-7.2 ;;
    x86_64-pc-i440fx-2.2) echo x86_64-pc-i440fx-2.2-vmdesc ;;
    esac
}

for z in "$X"/*.mig.zst; do
    name=$(basename "$z" .mig.zst)
    [ -f "$TMP/$name.mig" ] || zstd -qdf "$z" -o "$TMP/$name.mig"
done

for z in "$X"/*.mig.zst; do
    name=$(basename "$z" .mig.zst)
    m=$TMP/$name.mig
    t=$(twin "$name")
    vf=
    if [ -n "$t" ]; then
        vf="--vmdesc-from $TMP/$t.mig"
    fi
    # info: exit 0, every vCPU x86 (x86_64 or i386), no Arm-only keys
    if "$VMSTREAM" info --json $vf "$m" > "$TMP/$name.info" 2> "$TMP/err"; then
        ok "$name: info exits 0"
    else
        not_ok "$name: info exits 0 ($(cat "$TMP/err"))"
    fi
    want=x86_64
    case $name in i386*) want=i386 ;; esac
    # the vCPUs and vCPU 0's env.eip in analyze-migration.py's stored output
    zstd -qdc "$X/$name.state.json.zst" > "$TMP/$name.stored"
    ncpu=$(jq '[keys[] | select(startswith("cpu ("))] | length' "$TMP/$name.stored")
    eip0=$(jq -r '[to_entries[] | select(.key | startswith("cpu ("))][0].value["env.eip"]' "$TMP/$name.stored")
    wantl=$(for i in $(seq "$ncpu"); do printf '%s\n' "$want"; done | paste -sd, -)
    check "$name: info lists $ncpu vCPU(s), $want" \
        [ "$(jq -r '[.vcpus[].arch] | join(",")' "$TMP/$name.info")" = "$wantl" ]
    check "$name: no Arm-only vCPU keys (layout, el, cpregs)" \
        [ "$(jq '[.vcpus[] | has("layout") or has("el") or has("cpregs")] | any' "$TMP/$name.info")" = false ]
    check "$name: info reads to the last byte" \
        [ "$(jq .length "$TMP/$name.info")" -eq "$(wc -c < "$m")" ]
    check "$name: no warning about the twin" [ ! -s "$TMP/err" ]
    if [ -n "$t" ]; then
        check "$name: info says the description is $t's, 0 disagreements" \
            [ "$(jq -r '"\(.vmdesc_from | split("/") | last) \(.vmdesc_from_disagreements)"' "$TMP/$name.info")" = "$t.mig 0" ]
    else
        check "$name: info: no vmdesc_from" [ "$(jq 'has("vmdesc_from")' "$TMP/$name.info")" = false ]
    fi
    # check: exit 0 with a note on the non-Arm vCPU
    "$VMSTREAM" check $vf "$m" > "$TMP/check" 2>&1
    check "$name: check exits 0" [ $? -eq 0 ]
    check "$name: check notes each vCPU is not Arm" \
        [ "$(grep -c "an $want vCPU .*not Arm" "$TMP/check")" -eq "$ncpu" ]
    # regs: the fields the vmdesc names
    if "$VMSTREAM" regs --json $vf "$m" > "$TMP/regs" 2> "$TMP/err"; then
        ok "$name: regs exits 0"
    else
        not_ok "$name: regs exits 0 ($(cat "$TMP/err"))"
    fi
    pc=$(jq -r '.[0].registers[] | select(.name == "env.eip") | .value' "$TMP/regs")
    check "$name: regs shows env.eip $pc, as analyze-migration.py ($eip0)" \
        [ "$((${pc:-0x1ffffffff}))" -eq "$((eip0))" ]
    check "$name: regs lists $ncpu vCPU(s)" [ "$(jq length "$TMP/regs")" -eq "$ncpu" ]
    check "$name: regs names the GPRs" \
        [ "$(jq -r '[.[0].registers[] | select(.group == "core") | .name] | .[0]' "$TMP/regs")" = \
          "$([ $want = i386 ] && echo EAX || echo RAX)" ]
    check "$name: regs shows control registers" \
        [ "$(jq '[.[0].registers[] | select(.group == "ctrl")] | length' "$TMP/regs")" -ge 4 ]
    # convert: x86 streams copied byte for byte
    "$VMSTREAM" convert --to v23 $vf "$m" "$TMP/conv.mig" > /dev/null 2>&1
    check "$name: convert exits 0" [ $? -eq 0 ]
    check "$name: convert copies it byte-identically" cmp -s "$m" "$TMP/conv.mig"
    cat "$m" | "$VMSTREAM" convert --to v22 $vf - - 2> /dev/null > "$TMP/conv.mig"
    check "$name: convert as a pipe filter copies it byte-identically" \
        cmp -s "$m" "$TMP/conv.mig"
    # extract: the RAM blocks; profile: nothing Arm to take
    check "$name: extract exits 0" "$VMSTREAM" extract $vf "$m" "$TMP/ram"
    check "$name: extract wrote the manifest" [ -s "$TMP/ram/manifest.json" ]
    rm -rf "$TMP/ram"
    "$VMSTREAM" profile $vf "$m" > /dev/null 2> "$TMP/err"
    check "$name: profile says there is no Arm vCPU" grep -q 'no Arm cpu section' "$TMP/err"
    rm -f "$TMP/conv.mig"
    # core refuses non-Arm vCPUs clearly, writing nothing
    "$VMSTREAM" core $vf "$m" "$TMP/core" > "$TMP/err" 2>&1
    rc=$?
    check "$name: core refuses ($rc), names the architecture" \
        sh -c "[ $rc -ne 0 ] && grep -q 'Arm vCPUs only' '$TMP/err' && [ ! -e '$TMP/core' ]"
    # diff with itself: nothing differs
    check "$name: diff with itself exits 0" \
        "$VMSTREAM" diff $vf "$m" "$m" > /dev/null
    # dump --json equals analyze-migration.py -d state, value by value
    if ! "$VMSTREAM" dump --json $vf "$m" > "$TMP/$name.dump" 2> "$TMP/err"; then
        not_ok "$name: dump exits 0 ($(cat "$TMP/err"))"
        continue
    fi
    ok "$name: dump exits 0"
    src=$m
    if [ -n "$t" ]; then
        # analyze-migration.py reads it with the twin's vmdesc after EOF
        eof=$(python3 "$SF" "$TMP/$t.mig" | sed -n 's/.*"eof_offset": \([0-9]*\).*/\1/p')
        src=$TMP/$name.spliced
        { cat "$m"; tail -c +$((eof + 2)) "$TMP/$t.mig"; } > "$src"
    fi
    if python3 "$AM" -f "$src" -d state > "$TMP/$name.state" 2> "$TMP/err"; then
        ok "$name: analyze-migration.py reads it"
    else
        not_ok "$name: analyze-migration.py reads it: $(tail -n1 "$TMP/err")"
        continue
    fi
    python3 "$DVA" "$TMP/$name.dump" "$TMP/$name.state" > "$TMP/dva"
    check "$name: dump --json == analyze-migration.py ($(tail -n1 "$TMP/dva"))" \
        [ $? -eq 0 ]
    tail -n 1 "$TMP/dva" | sed 's/^/# /'
    head -n 5 "$TMP/dva" | grep -v 'values compared' | sed 's/^/#   /'
done

# Nesting (issue #12 part 3): member subsections inside the member
d=$TMP/x86_64-pc-q35-7.2.dump
check "q35: pckbd/extended_state nested in pckbd.kbd" \
    [ "$(jq -r '.sections[] | select(.name == "pckbd") | .fields[] | select(.name == "kbd") | .elements[0].subsections[0].name' "$d")" = pckbd/extended_state ]
check "q35: pckbd has no subsection of its own" \
    [ "$(jq '.sections[] | select(.name == "pckbd") | .subsections | length' "$d")" -eq 0 ]
check "q35: ich9_pm/tco nested in ICH9LPC.pm" \
    jq -e '.sections[] | select(.name | endswith("ICH9LPC")) | .fields[] | select(.name == "pm") | .elements[0].subsections | map(.name) | index("ich9_pm/tco") != null' "$d"
d=$TMP/x86_64-pc-i440fx-7.2.dump
check "i440fx: fdrive/media_rate nested in each of fdc.state.drives[i]" \
    [ "$(jq '[.sections[] | select(.name == "fdc") | .. | objects | select(.name? == "fdrive/media_rate")] | length' "$d")" -ge 2 ]

# diff of two VMs that differ in one floppy drive's sector (MANIFEST.md):
# the struct member by its path, not the struct
"$VMSTREAM" diff "$TMP/x86_64-pc-i440fx-7.2.mig" \
    "$TMP/x86_64-pc-i440fx-7.2-fdd.mig" > "$TMP/diff"
check "diff i440fx vs -fdd: exit 1 (they differ)" [ $? -eq 1 ]
check "diff i440fx vs -fdd: fdc#0 state.drives[0].sect 0x0 -> 0x1" \
    grep -qx 'section fdc#0 field state.drives\[0\].sect: 0x0 -> 0x1' "$TMP/diff"
check "diff i440fx vs -fdd: no whole-struct line" \
    sh -c "! grep -q 'field state: \|field state.drives\[0\]: ' '$TMP/diff'"

# Without vmdesc and without footers: the error says what to do
m=$TMP/x86_64-pc-i440fx-2.2.mig
for c in info dump check regs; do
    "$VMSTREAM" $c "$m" > /dev/null 2> "$TMP/err"
    rc=$?
    check "pc-i440fx-2.2 alone: $c fails ($rc) and mentions --vmdesc-from" \
        sh -c "[ $rc -eq 1 ] && grep -q -- --vmdesc-from '$TMP/err'"
done
# A twin that does not fit: the disagreement is said
"$VMSTREAM" info --vmdesc-from "$TMP/x86_64-pc-q35-7.2.mig" \
    "$TMP/x86_64-pc-i440fx-7.2-novmdesc.mig" > /dev/null 2> "$TMP/err"
rc=$?
check "i440fx novmdesc with the q35 twin: fails ($rc)" [ $rc -eq 1 ]
check "i440fx novmdesc with the q35 twin: warns of the disagreement" \
    grep -q 'warning: the vmdesc of .*x86_64-pc-q35-7.2.mig' "$TMP/err"
check "... and says the description comes from --vmdesc-from" \
    grep -q 'description is from --vmdesc-from' "$TMP/err"
"$VMSTREAM" info --vmdesc-from "$TMP/x86_64-pc-i440fx-2.2-vmdesc.mig" \
    "$TMP/x86_64-pc-i440fx-7.2.mig" > /dev/null 2> "$TMP/err"
check "a stream with its own vmdesc: --vmdesc-from not used, said" \
    grep -q 'vmdesc of its own' "$TMP/err"
"$VMSTREAM" info --vmdesc-from "$TMP/x86_64-pc-i440fx-7.2-novmdesc.mig" \
    "$TMP/x86_64-pc-i440fx-2.2.mig" > /dev/null 2> "$TMP/err"
rc=$?
check "a twin without vmdesc: usage error ($rc), said" \
    sh -c "[ $rc -eq 2 ] && grep -q 'no vmdesc either' '$TMP/err'"

# Arm streams without vmdesc (real-v22-novmdesc): footers delimit every
# section without a twin; without footers --vmdesc-from reads it
A=aa64-virt72-cortex-a57-1cpu-nodefaults
for f in "$A" "$A-novmdesc" "$A-nofooter" "$A-nofooter-novmdesc"; do
    zstd -qdf "$N/$f.mig.zst" -o "$TMP/$f.mig"
done
"$VMSTREAM" info --json "$TMP/$A-novmdesc.mig" > "$TMP/a.info"
check "Arm, footers, no vmdesc: info exits 0" [ $? -eq 0 ]
"$VMSTREAM" info --json "$TMP/$A.mig" > "$TMP/b.info"
dev='[.sections[] | select(.name != "ram") | [.name, .instance, .version, .length]]'
jq -c "$dev" "$TMP/a.info" > "$TMP/a.dev"
jq -c "$dev" "$TMP/b.info" > "$TMP/b.dev"
check "Arm, footers, no vmdesc: read to the last byte" \
    [ "$(jq .length "$TMP/a.info")" -eq "$(wc -c < "$TMP/$A-novmdesc.mig")" ]
check "Arm, footers, no vmdesc: same device sections as its twin" \
    cmp -s "$TMP/a.dev" "$TMP/b.dev"
check "Arm, footers, no vmdesc: the vCPU is Arm's (v22)" \
    [ "$(jq -r '.vcpus[0].layout' "$TMP/a.info")" = v22 ]
"$VMSTREAM" info "$TMP/$A-nofooter-novmdesc.mig" > /dev/null 2> "$TMP/err"
check "Arm, neither: fails, mentions --vmdesc-from" grep -q -- --vmdesc-from "$TMP/err"
"$VMSTREAM" info --json --vmdesc-from "$TMP/$A-nofooter.mig" \
    "$TMP/$A-nofooter-novmdesc.mig" > "$TMP/c.info" 2> "$TMP/err"
check "Arm, neither: --vmdesc-from its twin reads it to the last byte" \
    [ "$(jq .length "$TMP/c.info")" -eq "$(wc -c < "$TMP/$A-nofooter-novmdesc.mig")" ]
check "Arm, neither: no warning about the twin" [ ! -s "$TMP/err" ]
"$VMSTREAM" convert --to v23 --vmdesc-from "$TMP/$A-nofooter.mig" \
    "$TMP/$A-nofooter-novmdesc.mig" "$TMP/v23.mig" > /dev/null 2>&1
check "Arm, neither: convert --to v23 with --vmdesc-from" [ $? -eq 0 ]
"$VMSTREAM" regs --vmdesc-from "$TMP/$A-nofooter.mig" \
    "$TMP/$A-nofooter-novmdesc.mig" > "$TMP/r1"
"$VMSTREAM" regs "$TMP/$A-nofooter.mig" > "$TMP/r2"
check "Arm, neither: regs with --vmdesc-from == regs of the twin" cmp -s "$TMP/r1" "$TMP/r2"
# A stream made here: the vmdesc of a real Arm stream cut off after EOF
# QEMU_VM_EOF follows the last section
eof=$(jq '[.sections[] | .offset + .length] | max' "$TMP/b.info")
head -c $((eof + 1)) "$TMP/$A.mig" > "$TMP/cut.mig"
"$VMSTREAM" info --json "$TMP/cut.mig" > "$TMP/cut.info"
check "Arm with its vmdesc cut off: read completely, no vmdesc" \
    [ "$(jq -c '[.length, .vmdesc]' "$TMP/cut.info")" = "[$((eof + 1)),false]" ]
check "Arm with its vmdesc cut off: same sections as before" \
    [ "$(jq -c '[.sections[] | [.name, .offset, .length]]' "$TMP/cut.info")" = \
      "$(jq -c '[.sections[] | [.name, .offset, .length]]' "$TMP/b.info")" ]
finish
