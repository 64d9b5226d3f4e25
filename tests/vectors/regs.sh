#!/bin/sh
# vmstream regs on real QEMU 7.2 streams: architectural names with their
# KVM/QEMU ids, --cpu, --json (valid, and the same registers and values as
# the text), --diff between streams of two CPU models and of a stream with
# itself.
. "$TESTLIB"
need jq zstd
jqt() { jq -e "$@" > /dev/null; }

V=$VECTORS/real-v22
A53=$V/aa64-virt72-cortex-a53-2cpu.mig.zst
A57=$V/aa64-virt72-cortex-a57-2cpu.mig.zst
A15=$V/arm-virt72-cortex-a15-1cpu.mig.zst

"$VMSTREAM" regs "$A53" > "$TMP/a53.txt"
check "regs exits 0" [ $? -eq 0 ]
check "one block per vCPU (2)" [ "$(grep -c '^vCPU [0-9]*:$' "$TMP/a53.txt")" -eq 2 ]
# SCTLR_EL1 is op0=3 op1=0 CRn=1 CRm=0 op2=0: KVM id 0x6030_0000_0013_c080.
check "SCTLR_EL1 named, with its id" \
    grep -q '^  cpreg SCTLR_EL1  *0x603000000013c080  8 0x' "$TMP/a53.txt"
check "core registers X0..X30, SP, PC, PSTATE" \
    sh -c "[ \$(grep -c '^  core  \\(X[0-9]*\\|SP\\|PC\\|PSTATE\\) ' '$TMP/a53.txt') -eq 68 ]"
check "every cpreg line has a 16-digit id" \
    sh -c "! grep '^  cpreg' '$TMP/a53.txt' | grep -v '^  cpreg [^ ]*  *0x[0-9a-f]\\{16\\} '"

"$VMSTREAM" regs --cpu 1 "$A53" > "$TMP/cpu1.txt"
check "--cpu 1 exits 0" [ $? -eq 0 ]
check "--cpu 1 lists only vCPU 1" \
    sh -c "[ \"\$(grep '^vCPU' '$TMP/cpu1.txt')\" = 'vCPU 1:' ]"
check "--cpu 1 is vCPU 1's block of the full listing" \
    sh -c "sed -n '/^vCPU 1:/,\$p' '$TMP/a53.txt' | cmp -s - '$TMP/cpu1.txt'"
"$VMSTREAM" regs --cpu 7 "$A53" > /dev/null 2> "$TMP/e"
check "--cpu 7 (no such vCPU) exits 2" [ $? -eq 2 ]
check "... and says so" grep -q "has no vCPU 7" "$TMP/e"

"$VMSTREAM" regs --json "$A53" > "$TMP/a53.json"
check "--json exits 0" [ $? -eq 0 ]
check "--json is valid JSON" jqt . "$TMP/a53.json"
check "--json has both vCPUs" \
    [ "$(jq -r '[.[].vcpu] | join(",")' "$TMP/a53.json")" = "0,1" ]
for cpu in 0 1; do
    nj=$(jq ".[] | select(.vcpu == $cpu) | .registers | length" "$TMP/a53.json")
    nt=$(sed -n "/^vCPU $cpu:/,/^vCPU/p" "$TMP/a53.txt" | grep -c '^  ')
    check "vCPU $cpu: as many registers in JSON as in text ($nj, $nt)" \
        [ "$nj" -eq "$nt" ]
done
jv=$(jq -r '.[] | select(.vcpu == 0) | .registers[] | select(.name == "SCTLR_EL1") | "\(.id) \(.value)"' "$TMP/a53.json")
tv=$(sed -n '/^vCPU 0:/,/^vCPU 1:/p' "$TMP/a53.txt" | awk '$2 == "SCTLR_EL1" { print $3, $5 }')
check "SCTLR_EL1 id and value agree between JSON and text ($jv)" \
    [ -n "$jv" -a "$jv" = "$tv" ]
pc=$(jq -r '.[0].registers[] | select(.name == "PC") | .value' "$TMP/a53.json")
ipc=$("$VMSTREAM" info --json "$A53" | jq -r '.vcpus[0].pc')
check "PC agrees with info ($pc, $ipc)" \
    [ "$(printf '%d' "$pc")" = "$(printf '%d' "$ipc")" ]

# AArch32: R0..R15 and CPSR with its mode.
"$VMSTREAM" regs "$A15" > "$TMP/a15.txt"
check "AArch32 regs exits 0" [ $? -eq 0 ]
check "AArch32: R0..R15" \
    sh -c "[ \$(grep -c '^  core  R[0-9]* ' '$TMP/a15.txt') -eq 16 ]"
check "AArch32: CPSR with its mode" grep -q '^  core  CPSR .*(mode ' "$TMP/a15.txt"

# --diff: a stream against itself shows nothing.
"$VMSTREAM" regs --diff "$A53" "$A53" > "$TMP/self.txt"
check "--diff with itself exits 0" [ $? -eq 0 ]
check "--diff with itself: only '0 differences'" \
    [ "$(cat "$TMP/self.txt")" = "0 differences" ]
"$VMSTREAM" regs --json --diff "$A53" "$A53" > "$TMP/self.json"
check "--json --diff with itself: differences 0, no registers" \
    jqt '.differences == 0 and (.registers | length) == 0' "$TMP/self.json"

# --diff: Cortex-A57 (OTHER) against Cortex-A53 (STREAM).
"$VMSTREAM" regs --diff "$A57" "$A53" > "$TMP/d.txt"
check "--diff between CPU models exits 1" [ $? -eq 1 ]
check "CTR_EL0 differs (cache geometry of the two models)" \
    grep -q '^vcpu 0 differs  CTR_EL0: 0x[0-9a-f]* (other) -> 0x[0-9a-f]*$' "$TMP/d.txt"
n=$(grep -c '^vcpu ' "$TMP/d.txt")
check "the count line matches the lines ($n)" \
    grep -q "^$n differences\$" "$TMP/d.txt"
a57ctr=$("$VMSTREAM" regs --cpu 0 "$A57" | awk '$2 == "CTR_EL0" { print $5 }')
a53ctr=$(sed -n '/^vCPU 0:/,/^vCPU 1:/p' "$TMP/a53.txt" | awk '$2 == "CTR_EL0" { print $5 }')
check "the diff shows both streams' CTR_EL0 ($a57ctr -> $a53ctr)" \
    grep -q "^vcpu 0 differs  CTR_EL0: $a57ctr (other) -> $a53ctr\$" "$TMP/d.txt"
"$VMSTREAM" regs --json --diff "$A57" "$A53" > "$TMP/d.json"
check "--json --diff: differences = entries = text lines ($n)" \
    jqt --argjson n "$n" '.differences == $n and (.registers | length) == $n' "$TMP/d.json"
check "--json --diff: CTR_EL0 has both values" \
    jqt --arg o "$a57ctr" --arg v "$a53ctr" '[.registers[] | select(.name == "CTR_EL0" and .vcpu == 0 and .change == "differs" and .other_value == $o and .value == $v)] | length == 1' "$TMP/d.json"
"$VMSTREAM" regs --diff "$A57" --cpu 1 "$A53" > "$TMP/d1.txt"
check "--diff --cpu 1: only vCPU 1" \
    sh -c "[ -s '$TMP/d1.txt' ] && ! grep -q '^vcpu 0' '$TMP/d1.txt'"

finish
