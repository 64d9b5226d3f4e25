#!/bin/sh
# QEMU 7.2 <-> QEMU 10.0 offline (issue #13), on the real streams of
# tests/vectors/real-10.0 (both releases, -M virt-7.2, same command lines):
# check predicts each direct load's refusal with QEMU's reasons
# (load-results.txt has what real QEMU said); convert --repair against a
# stream of the destination release gives a stream check accepts, whose
# register differences from the source are exactly the reported changes;
# a virt-10.0 stream is refused by machine type (check and --repair, no
# output file); --dest-vmstate gives the machine type and device versions.
. "$TESTLIB"
need zstd jq

D="$VECTORS/real-10.0"
vm72=$(plain "$D/q72-aa64-virt72.vmstate.json.zst")
vm10=$(plain "$D/q10-aa64-virt72.vmstate.json.zst")

# name  binary  per-vCPU changes 7.2->10.0  10.0->7.2 (doc/qemu-10.0.md s6)
for row in "aa64-virt72-cortex-a57-2cpu 2 20 20" \
           "aa64-virt72-cortex-a53-1cpu 1 22 22" \
           "aa64-virt72-max-2cpu 2 47 48" \
           "arm-virt72-cortex-a15-1cpu 1 17 17" \
           "aa64-virt72-cortex-a57-2cpu-novmdesc 2 20 20" \
           "aa64-virt72-max-2cpu-novmdesc 2 47 48"; do
    set -- $row
    m=$1 ncpu=$2
    s72=$(plain "$D/q72-$m.mig.zst")
    s10=$(plain "$D/q10-$m.mig.zst")
    for dir in 72to10 10to72; do
        if [ $dir = 72to10 ]; then
            src=$s72 dst=$s10 rel=10.0 per=$3
        else
            src=$s10 dst=$s72 rel=7.2 per=$4
        fi
        out="$TMP/$m-$dir"
        "$VMSTREAM" check --dest-stream "$dst" "$src" > "$out.check" 2>&1
        check "$m $dir: check predicts the refusal (exit 1)" [ $? -eq 1 ]
        check "$m $dir: check names QEMU $rel" \
            grep -q "verdict: fails.*QEMU $rel)" "$out.check"
        if [ $dir = 72to10 ] && [ "${m#arm}" != "$m" ]; then
            # cortex-a15: the Secure 32-bit PAR_S comes first in the list
            check "$m $dir: reason: 7.2's PAR_S unknown to 10.0" \
                grep -q 'PAR_S (0x40200000000f3a00).*unknown to the destination' "$out.check"
        elif [ $dir = 72to10 ]; then
            # 10.0 refuses with EPERM: its constant RMR/RMR_EL1 missing, the
            # 32-bit PAR it does not have, ID_DFR0 differing
            check "$m $dir: reason: 7.2's 32-bit PAR unknown to 10.0" \
                grep -q 'PAR (0x40200000200f3a00).*unknown to the destination' "$out.check"
            check "$m $dir: reason: ID_DFR0 differs from 10.0's fixed value" \
                grep -q 'ID_DFR0 .*differs from the destination CPU.s fixed' "$out.check"
            check "$m $dir: reason: missing constants get leftover memory on 10.0" \
                grep -q 'not in the stream: its slot in cpreg_values holds uninitialised memory' "$out.check"
        else
            # what real QEMU 7.2 printed for this stream
            want=$(grep -A1 "load q10-$m.mig into 72" "$D/load-results.txt" |
                   sed -n 's/.*\(Invalid value [0-9]* expecting positive value <= [0-9]*\).*/\1/p')
            check "$m $dir: reason as QEMU 7.2 said it ($want)" \
                grep -q "\"$want\"" "$out.check"
        fi
        "$VMSTREAM" convert --repair --dest-stream "$dst" --report "$out.json" \
            "$src" "$out.mig" 2> "$out.err"
        check "$m $dir: --repair converts (exit 0)" [ $? -eq 0 ]
        check "$m $dir: $((per * ncpu)) changes reported ($per per vCPU)" \
            [ "$(jq .changes "$out.json")" = $((per * ncpu)) ]
        check "$m $dir: stderr has one line per change" \
            [ "$(grep -c ': repair: vcpu ' "$out.err")" = $((per * ncpu)) ]
        "$VMSTREAM" check --dest-stream "$dst" "$out.mig" > "$out.recheck" 2>&1
        check "$m $dir: check accepts the repaired stream (exit 0)" [ $? -eq 0 ]
        # the register differences are exactly the reported register changes
        "$VMSTREAM" regs --diff "$src" --json "$out.mig" > "$out.diff" 2>/dev/null
        jq -r '.registers[] | "\(.vcpu) \(.id)"' "$out.diff" | sort > "$out.d1"
        jq -r '.list[] | select(.register) | "\(.vcpu) \(.id)"' "$out.json" | sort > "$out.d2"
        check "$m $dir: registers that differ = registers reported" \
            cmp -s "$out.d1" "$out.d2"
        jq -r '.registers[] | select(.change != "missing") | "\(.vcpu) \(.id) \(.value)"' \
            "$out.diff" | sort > "$out.v1"
        jq -r '.list[] | select(.new) | "\(.vcpu) \(.id) \(.new)"' "$out.json" | sort > "$out.v2"
        check "$m $dir: new values are the reported ones" \
            sh -c "sed 's/ 0x0*\\([0-9a-f][0-9a-f]*\\)\$/ 0x\\1/' '$out.v1' > '$out.n1' &&
                   sed 's/ 0x0*\\([0-9a-f][0-9a-f]*\\)\$/ 0x\\1/' '$out.v2' > '$out.n2' &&
                   cmp -s '$out.n1' '$out.n2'"
    done
done

# max 10.0 -> 7.2: the unarmed cpu/wfxt-timer is left out, and said so
m=aa64-virt72-max-2cpu
check "max 10.0->7.2: cpu/wfxt-timer left out on both vCPUs" \
    [ "$(jq '[.list[] | select(.action == "drop-subsection" and .subsection == "cpu/wfxt-timer")] | length' "$TMP/$m-10to72.json")" = 2 ]
"$VMSTREAM" dump --json --section cpu "$TMP/$m-10to72.mig" > "$TMP/dump" 2>&1
check "max 10.0->7.2: the repaired stream parses (dump)" [ $? -eq 0 ]
check "max 10.0->7.2: no wfxt-timer left in it" sh -c "! grep -q wfxt '$TMP/dump'"

# A -M virt-10.0 stream: 7.2 has no such machine
v100=$(plain "$D/q10-aa64-virt100-cortex-a57-2cpu.mig.zst")
s72=$(plain "$D/q72-aa64-virt72-cortex-a57-2cpu.mig.zst")
"$VMSTREAM" check --dest-stream "$s72" "$v100" > "$TMP/m.check" 2>&1
check "virt-10.0 vs 7.2: check fails (exit 1)" [ $? -eq 1 ]
check "virt-10.0 vs 7.2: reason: machine type" \
    grep -q "machine type 'virt-10.0'.*QEMU 7.2 has no such machine" "$TMP/m.check"
"$VMSTREAM" convert --repair --dest-stream "$s72" "$v100" "$TMP/m.mig" 2> "$TMP/m.err"
check "virt-10.0 vs 7.2: --repair refuses (exit 1)" [ $? -eq 1 ]
check "virt-10.0 vs 7.2: --repair says machine type" grep -q "machine type 'virt-10.0'" "$TMP/m.err"
check "virt-10.0 vs 7.2: no output file" [ ! -e "$TMP/m.mig" ]
"$VMSTREAM" check --dest qemu-7.2-tcg:cortex-a57 "$v100" > "$TMP/m2.check" 2>&1
check "virt-10.0 vs builtin 7.2 profile: refused by machine type" \
    grep -q "QEMU 7.2 has no such machine" "$TMP/m2.check"

# --dest-vmstate: machine type and device versions from -dump-vmstate
"$VMSTREAM" check --dest-vmstate "$vm72" "$v100" > "$TMP/v.check" 2>&1
check "--dest-vmstate: virt-10.0 vs 7.2's dump fails (exit 1)" [ $? -eq 1 ]
check "--dest-vmstate: says the machine differs" \
    grep -q "Machine type received is 'virt-10.0' and local is 'virt-7.2'" "$TMP/v.check"
"$VMSTREAM" check --dest-vmstate "$vm10" "$s72" > "$TMP/v2.check" 2>&1
check "--dest-vmstate: a virt-7.2 stream vs 10.0's dump of virt-7.2 passes the device rules (exit 0)" [ $? -eq 0 ]
# a device version above the destination's: patch pl011's version in the dump
jq '.pl011.Description.version_id = 1 | .pl011.Description.minimum_version_id = 1' \
    "$vm10" > "$TMP/old-pl011.json"
"$VMSTREAM" check --dest-vmstate "$TMP/old-pl011.json" "$s72" > "$TMP/v3.check" 2>&1
check "--dest-vmstate: pl011 v2 into a v1 pl011 fails (exit 1)" [ $? -eq 1 ]
check "--dest-vmstate: QEMU's message for it" \
    grep -q "unsupported version 2 for 'pl011' v1" "$TMP/v3.check"
jq 'del(.pl011.Description.Subsections)' "$vm10" > "$TMP/nosub.json"
"$VMSTREAM" check --dest-vmstate "$TMP/nosub.json" "$s72" > "$TMP/v4.check" 2>&1
check "--dest-vmstate: a subsection the destination lacks fails" \
    grep -q 'subsection pl011/clock, which the destination does not know' "$TMP/v4.check"
"$VMSTREAM" convert --repair --dest-vmstate "$vm10" "$s72" "$TMP/x.mig" 2> "$TMP/x.err"
check "--repair with only --dest-vmstate is a usage error (exit 2)" [ $? -eq 2 ]
"$VMSTREAM" convert --repair --dest qemu-7.2-tcg:cortex-a57 --dest-vmstate "$vm72" \
    "$v100" "$TMP/y.mig" 2> "$TMP/y.err"
check "--repair --dest-vmstate: virt-10.0 vs 7.2's machine refused (exit 1, no file)" \
    sh -c "[ $? -eq 1 ] && [ ! -e '$TMP/y.mig' ] && grep -q \"machine type 'virt-10.0'\" '$TMP/y.err'"
"$VMSTREAM" convert --repair --dest qemu-10.0-tcg:cortex-a57 --dest-vmstate "$vm10" --json \
    "$s72" "$TMP/z.mig" 2> "$TMP/z.json"
check "--repair --dest PROFILE --dest-vmstate --json: converts (exit 0)" [ $? -eq 0 ]
check "... the JSON report names QEMU 10.0, machine virt-7.2, 40 changes" \
    sh -c "jq -e '.release == \"10.0\" and .machine == \"virt-7.2\" and .changes == 40' '$TMP/z.json' > /dev/null"
printf '{"vmschkmachine": 3}' > "$TMP/bad.json"
"$VMSTREAM" check --dest-vmstate "$TMP/bad.json" "$s72" > /dev/null 2>&1
check "--dest-vmstate: a file that is not -dump-vmstate output: exit 2" [ $? -eq 2 ]

# builtin 10.0 profiles: vmstream profile of the paused QEMU 10.0 VMs they
# were made from, L2CTLR left unfixed (it encodes -smp) as for 7.2
for c in aa64-virt72-cortex-a53 aa64-virt72-cortex-a57 aa64-virt72-cortex-a72 \
         aa64-virt72-max arm-virt72-cortex-a15; do
    cpu=${c#*-virt72-}
    "$VMSTREAM" profile --name "qemu-10.0-tcg:$cpu" \
        "$(plain "$D/q10-$c-1cpu-paused.mig.zst")" 2>/dev/null |
        grep -v '^#' | grep -v ' L2CTLR' > "$TMP/made.$cpu"
    "$VMSTREAM" profile --show "qemu-10.0-tcg:$cpu" 2>/dev/null |
        grep -v '^#' | grep -v ' L2CTLR' > "$TMP/builtin.$cpu"
    check "builtin qemu-10.0-tcg:$cpu = profile of a paused QEMU 10.0 $cpu" \
        sh -c "[ -s '$TMP/made.$cpu' ] && cmp -s '$TMP/made.$cpu' '$TMP/builtin.$cpu'"
done

# profile names the release
"$VMSTREAM" profile "$(plain "$D/q10-aa64-virt72-cortex-a53-1cpu.mig.zst")" > "$TMP/p10" 2>&1
check "profile of a 10.0 stream: release 10.0, absent undefined" \
    sh -c "grep -q '^release 10.0' '$TMP/p10' && grep -q '^absent undefined' '$TMP/p10'"
"$VMSTREAM" profile "$s72" > "$TMP/p72" 2>&1
check "profile of a 7.2 stream: release 7.2" grep -q '^release 7.2' "$TMP/p72"
s10=$(plain "$D/q10-aa64-virt72-cortex-a57-2cpu.mig.zst")
"$VMSTREAM" convert --repair --dest qemu-7.2+v23-tcg:cortex-a57 --to v23 "$s10" "$TMP/b23.mig" 2>/dev/null
check "10.0 -> --repair --dest qemu-7.2+v23-tcg:cortex-a57 --to v23 (exit 0)" [ $? -eq 0 ]
check "... the output is v23 with 7.2's 258 registers" \
    sh -c "'$VMSTREAM' info '$TMP/b23.mig' | grep -c ' cpu  *[01]  *23 ' | grep -qx 2 &&
           '$VMSTREAM' check --dest qemu-7.2+v23-tcg:cortex-a57 '$TMP/b23.mig' | grep -q '^verdict: loads'"
"$VMSTREAM" convert --repair --dest qemu-10.0-tcg:cortex-a57 --to v23 "$s72" "$TMP/b.mig" 2> "$TMP/b.err"
check "--repair for a v22 destination refuses --to v23 (exit 1, no file)" \
    sh -c "[ $? -eq 1 ] && [ ! -e '$TMP/b.mig' ]"
# as a pipe filter
"$VMSTREAM" convert --repair --dest qemu-10.0-tcg:cortex-a57 - - < "$s72" > "$TMP/pipe.mig" 2>/dev/null
check "--repair as a pipe filter (exit 0)" [ $? -eq 0 ]
"$VMSTREAM" convert --repair --dest qemu-10.0-tcg:cortex-a57 "$s72" "$TMP/file.mig" 2>/dev/null
check "pipe and file give the same stream" cmp -s "$TMP/pipe.mig" "$TMP/file.mig"
finish
