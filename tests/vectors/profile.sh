#!/bin/sh
# vmstream profile round trip on real QEMU 7.2 streams: a profile taken
# from a stream, given to `check --dest`, says that stream loads (and says
# the same as --dest-stream); a profile of another CPU model makes check
# refuse it; --name, --list and --show.
. "$TESTLIB"
need zstd

V=$VECTORS/real-v22
A53=$V/aa64-virt72-cortex-a53-2cpu.mig.zst
A57=$V/aa64-virt72-cortex-a57-2cpu.mig.zst

"$VMSTREAM" profile "$A53" > "$TMP/a53.profile"
check "profile exits 0" [ $? -eq 0 ]
check "the profile starts with its format line" \
    grep -q '^vmstream-profile ' "$TMP/a53.profile"
check "the profile names the layout v22" grep -q '^layout v22$' "$TMP/a53.profile"
check "the profile is named after the stream by default" \
    grep -q "^name $A53\$" "$TMP/a53.profile"

"$VMSTREAM" check --dest "$TMP/a53.profile" "$A53" > "$TMP/c.txt"
check "check --dest (own profile) exits 0" [ $? -eq 0 ]
check "... verdict loads, against that profile" \
    grep -q "^verdict: loads (2 vCPUs checked against $A53, QEMU 7.2)" "$TMP/c.txt"
"$VMSTREAM" check --dest-stream "$A53" "$A53" > "$TMP/cs.txt"
check "check --dest-stream gives the same verdict" \
    sh -c "[ \"\$(grep '^verdict: ' '$TMP/c.txt')\" = \"\$(grep '^verdict: ' '$TMP/cs.txt')\" ]"

"$VMSTREAM" profile --name a57-dest "$A57" > "$TMP/a57.profile"
check "profile --name exits 0" [ $? -eq 0 ]
check "--name is recorded" grep -q '^name a57-dest$' "$TMP/a57.profile"
"$VMSTREAM" check --dest "$TMP/a57.profile" "$A53" > "$TMP/x.txt"
check "check --dest (another CPU model's profile) exits 1" [ $? -eq 1 ]
check "... verdict fails, against a57-dest" \
    grep -q '^verdict: fails (2 vCPUs checked against a57-dest, QEMU 7.2)' "$TMP/x.txt"
check "... with a fatal finding on a register of the cpu model" \
    grep -q '^fatal .*CTR_EL0\|^fatal .*ID_' "$TMP/x.txt"
"$VMSTREAM" check --dest "$TMP/a57.profile" "$A57" > /dev/null
check "the A57 profile accepts the A57 stream" [ $? -eq 0 ]
"$VMSTREAM" convert --to v22 --dest "$TMP/a57.profile" "$A53" "$TMP/out.mig" \
    2> "$TMP/e"
check "convert --dest (another model) refuses (exit 1)" [ $? -eq 1 ]
check "... and writes no output" [ ! -e "$TMP/out.mig" ]

# A builtin profile, shown, works as a file.
first=$("$VMSTREAM" profile --list | grep 'tcg:cortex-a53$' | head -1)
check "profile --list names a cortex-a53 profile ($first)" [ -n "$first" ]
"$VMSTREAM" profile --show "$first" > "$TMP/b.profile"
check "profile --show exits 0" [ $? -eq 0 ]
"$VMSTREAM" check --dest "$TMP/b.profile" "$A53" > "$TMP/b.txt"
rb=$?
"$VMSTREAM" check --dest "$first" "$A53" > "$TMP/bn.txt"
rn=$?
check "a shown builtin profile checks as the builtin does ($rb, $rn)" \
    sh -c "[ $rb -eq $rn ] && [ \"\$(tail -1 '$TMP/b.txt')\" = \"\$(tail -1 '$TMP/bn.txt')\" ]"
"$VMSTREAM" profile --show no-such-profile > /dev/null 2>&1
check "profile --show of an unknown name fails" [ $? -ne 0 ]
"$VMSTREAM" profile > /dev/null 2>&1
check "profile without STREAM exits 2" [ $? -eq 2 ]

finish
