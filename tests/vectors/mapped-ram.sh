#!/bin/sh
# A file: migration with the mapped-ram capability, written by QEMU 10.0.2
# (tests/vectors/real-10.0/MANIFEST.md), against a plain stream of the same
# paused VM: info reads it, its RAM extracts to exactly the plain stream's
# RAM, its registers are the same, and convert round-trips it byte for byte.
. "$TESTLIB"
need zstd cmp

D="$VECTORS/real-10.0"
mram=$(plain "$D/q10-aa64-virt72-cortex-a57-1cpu-plain-mappedram.bin.zst")
flat=$(plain "$D/q10-aa64-virt72-cortex-a57-1cpu-plain.mig.zst")

"$VMSTREAM" info "$mram" > "$TMP/info" 2>&1
check "info reads the mapped-ram file (exit 0)" [ $? -eq 0 ]
check "info lists the mapped-ram capability" grep -q 'capabilities: mapped-ram' "$TMP/info"
"$VMSTREAM" info --json "$mram" > "$TMP/m.json" 2> /dev/null
"$VMSTREAM" info --json "$flat" > "$TMP/f.json" 2> /dev/null
# the same blocks with the same number of data pages as the plain stream
# has PAGE records
check "same RAM blocks and data pages as the plain stream" sh -c \
    "jq -c '[.ram_blocks[] | {name, size, normal: .pages.normal}]' '$TMP/m.json' > '$TMP/m.b' &&
     jq -c '[.ram_blocks[] | {name, size, normal: .pages.normal}]' '$TMP/f.json' > '$TMP/f.b' &&
     cmp -s '$TMP/m.b' '$TMP/f.b'"

"$VMSTREAM" extract "$mram" "$TMP/xm" 2> /dev/null
check "extract of the mapped-ram file (exit 0)" [ $? -eq 0 ]
"$VMSTREAM" extract "$flat" "$TMP/xf" 2> /dev/null
n=0
bad=0
for f in "$TMP"/xf/*.bin; do
    n=$((n + 1))
    cmp -s "$f" "$TMP/xm/$(basename "$f")" || bad=$((bad + 1))
done
check "extract: all $n RAM blocks equal the plain stream's ($bad differ)" \
    sh -c "[ $n -gt 0 ] && [ $bad -eq 0 ]"

"$VMSTREAM" regs --diff "$flat" "$mram" > "$TMP/diff" 2>&1
check "regs: the same registers as the plain stream" grep -q '^0 differences' "$TMP/diff"

"$VMSTREAM" convert --to v23 "$mram" "$TMP/m23" 2> /dev/null &&
    "$VMSTREAM" convert --to v22 "$TMP/m23" "$TMP/m22" 2> /dev/null
check "convert v22 -> v23 -> v22 gives the mapped-ram file byte for byte" \
    cmp -s "$TMP/m22" "$mram"
check "the v23 file is still mapped-ram with a v23 cpu" sh -c \
    "'$VMSTREAM' info '$TMP/m23' | grep -q 'v23'"
finish
