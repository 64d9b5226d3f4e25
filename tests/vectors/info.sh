#!/bin/sh
# vmstream info on every real stream, from a file and from a pipe, checked
# against the facts in the vectors' MANIFEST.md files.
. "$TESTLIB"
need jq zstd

manifest_line() {   # NAME KEY -> text after "- KEY" in NAME's block
    awk -v n="### \`$1\`" -v k="- $2" '
        $0 == n { inblk = 1; next }
        /^### / { inblk = 0 }
        inblk && index($0, k) == 1 { print substr($0, length(k) + 1); exit }
    ' "$VECTORS/real-v22/MANIFEST.md"
}

for f in "$VECTORS"/real-v22/*.mig.zst "$VECTORS"/real-v22/*.mig.gz \
         "$VECTORS"/real-v23/*.mig.zst "$VECTORS"/real-v23/det-v22-stock/*.mig.zst; do
    name=$(basename "$f" | sed 's/\.\(zst\|gz\)$//')
    case "$f" in
    */real-v22/*|*/det-v22-stock/*) layout=v22 ;;
    *) layout=v23 ;;
    esac
    out="$TMP/$name.json"
    if ! "$VMSTREAM" info --json "$f" > "$out"; then
        not_ok "$name: info exits 0"
        continue
    fi
    ok "$name: info exits 0"
    # The same from a pipe: identical output.
    if cat "$f" | "$VMSTREAM" info --json - | cmp -s - "$out"; then
        ok "$name: identical from a pipe"
    else
        not_ok "$name: identical from a pipe"
    fi
    len=$(jq .length "$out")
    real=$(plain "$f")
    check "$name: read to the last byte ($len)" \
        [ "$len" -eq "$(wc -c < "$real")" ]
    rm -f "$real"
    check "$name: every vCPU is $layout" \
        [ "$(jq -r "[.vcpus[].layout] | unique | join(\",\")" "$out")" = "$layout" ]
    check "$name: vmdesc present" [ "$(jq .vmdesc "$out")" = true ]
    case "$name" in
    *max*) n=304 ;;
    *a15*) n=197 ;;
    *) n=258 ;;
    esac
    check "$name: $n cpregs per vCPU" \
        [ "$(jq -r "[.vcpus[].cpregs] | unique | join(\",\")" "$out")" = "$n" ]
    case "$name" in
    *1cpu*) v=1 ;; *2cpu*) v=2 ;; *4cpu*) v=4 ;; *) v=0 ;;
    esac
    check "$name: $v vCPUs" [ "$(jq '.vcpus | length' "$out")" -eq "$v" ]
    # MANIFEST facts (real-v22 only: sizes, cpu offsets, subsections).
    if [ "$layout" = v22 ] && [ "${f#*det-v22-stock}" = "$f" ]; then
        base=${name%.mig}.mig
        subs=$(manifest_line "$base" "cpu subsections: ")
        if [ -n "$subs" ]; then
            check "$name: subsections $subs" [ "$(jq -r \
                '[.vcpus[0].subsections[]] | join(", ")' "$out")" = "$subs" ]
            offs=$(manifest_line "$base" "cpu section offsets: " |
                   sed 's/;.*//')
            got=$(jq -r '[.sections[] | select(.name == "cpu") |
                   .offset] | map("0x" + (. | tostring)) | join(", ")' \
                   "$out")
            want=$(echo "$offs" | tr ',' '\n' | while read -r o; do
                       printf '0x%d\n' "$o"; done | paste -sd, - |
                   sed 's/,/, /g')
            check "$name: cpu sections at $offs" [ "$got" = "$want" ]
            ram=$(manifest_line "$base" "RAM: ")
            zero=$(echo "$ram" | sed -n 's/.* \([0-9]*\) zero-page.*/\1/p')
            normal=$(echo "$ram" | sed -n 's/.* \([0-9]*\) normal.*/\1/p')
            xb=$(echo "$ram" | sed -n 's/.* \([0-9]*\) xbzrle.*/\1/p')
            comp=$(echo "$ram" | sed -n 's/.* \([0-9]*\) compressed.*/\1/p')
            check "$name: RAM pages $zero/$normal/$xb/$comp" [ "$(jq -r \
                '[([.ram_blocks[].pages.zero] | add),
                  ([.ram_blocks[].pages.normal] | add),
                  ([.ram_blocks[].pages.xbzrle] | add),
                  ([.ram_blocks[].pages.compressed] | add)] | join("/")' \
                "$out")" = "$zero/$normal/$xb/$comp" ]
        fi
    fi
done

# Expected outputs kept in the tree for a representative set.
for e in "$VECTORS"/expected/*.info.json; do
    name=$(basename "$e" .info.json)
    src="$VECTORS/$(echo "$name" | sed 's|__|/|')"
    "$VMSTREAM" info --json "$src" > "$TMP/got.json"
    # The source path is not part of the JSON; compare all of it.
    check "$name: info matches expected/$name.info.json" \
        cmp -s "$TMP/got.json" "$e"
    # --hash-ram fills in exactly the RAM sections' hashes.
    "$VMSTREAM" info --hash-ram --json "$src" > "$TMP/hashed.json"
    check "$name: --hash-ram changes only the RAM hashes" [ \
        "$(jq -c 'del(.sections[].xxh3)' "$TMP/hashed.json")" = \
        "$(jq -c 'del(.sections[].xxh3)' "$e")" ]
    check "$name: --hash-ram hashes every section" [ "$(jq -r \
        '[.sections[].xxh3 | test("^[0-9a-f]{16}$")] | all' \
        "$TMP/hashed.json")" = true ]
    check "$name: without it only RAM sections are unhashed" [ "$(jq -r \
        '[.sections[] | (.xxh3 == null) == (.name == "ram")] | all' \
        "$e")" = true ]
done

# An uncompressed regular file is read through a mapping, a pipe with
# read(2), a file on stdin through a mapping again: one answer.
for f in "$VECTORS"/real-v22/run-aa64-virt72-cortex-a57-2cpu-xbzrle.mig.zst \
         "$VECTORS"/real-v23/aa64-virt72-max-2cpu.mig.zst; do
    name=$(basename "$f" .zst)
    zstd -dqc "$f" > "$TMP/$name"
    "$VMSTREAM" info --hash-ram --json "$TMP/$name" > "$TMP/mapped.json"
    zstd -dqc "$f" | "$VMSTREAM" info --hash-ram --json - > "$TMP/piped.json"
    "$VMSTREAM" info --hash-ram --json - < "$TMP/$name" > "$TMP/stdin.json"
    VMSTREAM_NO_MMAP=1 "$VMSTREAM" info --hash-ram --json "$TMP/$name" \
        > "$TMP/read.json"
    check "$name: mapped file == pipe" cmp -s "$TMP/mapped.json" "$TMP/piped.json"
    check "$name: mapped stdin == pipe" cmp -s "$TMP/stdin.json" "$TMP/piped.json"
    check "$name: read(2) file == pipe" cmp -s "$TMP/read.json" "$TMP/piped.json"
    rm -f "$TMP/$name"
done


# dump of every cpu section agrees with the independently decoded registers
# in the real-v22 streams' .cpu.json (pc, cpsr, x-regs, every cpreg).
norm='def n: ascii_downcase | sub("^0x0*(?<x>[0-9a-f])"; "0x\\(.x)");'
for cj in "$VECTORS"/real-v22/*.cpu.json.zst; do
    name=$(basename "$cj" .cpu.json.zst)
    f="$VECTORS/real-v22/$name.mig.zst"
    [ -f "$f" ] || f="$VECTORS/real-v22/$name.mig.gz"
    zstd -q -d -c "$cj" > "$TMP/truth.json"
    "$VMSTREAM" dump --json --section cpu "$f" > "$TMP/dump.json"
    want=$(jq -c "$norm"' [.[] | {i: .instance_id, pc: (.pc | n),
            cpsr: (.cpsr | n), x: [.xregs[] | n],
            ids: [.cpregs[] | .[0] | n], vals: [.cpregs[] | .[1] | n]}]' \
           "$TMP/truth.json")
    got=$(jq -c "$norm"' [.sections[] | {i: .instance,
            f: ([.fields[] | {key: .name, value: .value}] | from_entries)} |
            {i: .i, pc: (.f["env.pc"] | n), cpsr: (.f.cpsr | n),
             x: [.f["env.xregs"][] | n],
             ids: [.f.cpreg_vmstate_indexes[] | n],
             vals: [.f.cpreg_vmstate_values[] | n]}]' "$TMP/dump.json")
    check "$name: dump of the cpu sections matches its .cpu.json" \
        [ "$want" = "$got" ]
done

# Human output mentions the essentials.
"$VMSTREAM" info "$VECTORS/real-v22/aa64-virt72-cortex-a57-2cpu.mig.zst" > "$TMP/h"
check "human info shows machine" grep -q "machine: *virt-7.2" "$TMP/h"
check "human info shows compression" grep -q "compression: *zstd" "$TMP/h"

# Usage errors exit 2, invalid streams exit 1.
"$VMSTREAM" info > /dev/null 2>&1; rc=$?
check "no argument: exit 2" [ $rc -eq 2 ]
"$VMSTREAM" info /nonexistent > /dev/null 2>&1; rc=$?
check "missing file: exit 2" [ $rc -eq 2 ]
printf 'QEVM\000\000\000\003\007' > "$TMP/cut.mig"
"$VMSTREAM" info "$TMP/cut.mig" > /dev/null 2> "$TMP/err"; rc=$?
check "truncated stream: exit 1" [ $rc -eq 1 ]
check "truncated stream: message has the offset" grep -q "offset 9" "$TMP/err"

finish
