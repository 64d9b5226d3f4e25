#!/bin/sh
# vmstream convert on real streams: byte-exact against the patched QEMU
# build, round trips of every stream, pipes, compression, atomic output.
. "$TESTLIB"
need zstd gzip

V23="$VECTORS/real-v23"

# Byte-exact: stock v22 -> v23 gives what the v23 build wrote, and back.
for f in "$V23"/det-v22-stock/det-*.mig.zst; do
    name=$(basename "$f" .mig.zst)
    stock=$(plain "$f")
    mv "$stock" "$stock.stock"
    stock="$stock.stock"
    patched=$(plain "$V23/$name.mig.zst")
    "$VMSTREAM" convert --to v23 "$stock" "$TMP/$name.v23" 2> /dev/null
    check "$name: v22 -> v23 equals the v23 build's stream, vmdesc included" \
        cmp -s "$TMP/$name.v23" "$patched"
    "$VMSTREAM" convert --to v22 "$patched" "$TMP/$name.v22" 2> /dev/null
    check "$name: v23 -> v22 equals stock QEMU's stream" \
        cmp -s "$TMP/$name.v22" "$stock"
    rm -f "$stock" "$patched" "$TMP/$name.v23" "$TMP/$name.v22"
done

# Every stream round-trips through the other layout, as a pipe filter.
for f in "$VECTORS"/real-v22/*.mig.zst "$VECTORS"/real-v22/*.mig.gz \
         "$V23"/*.mig.zst; do
    name=$(basename "$f")
    case "$f" in
    */real-v22/*) there=v23 back=v22 ;;
    *) there=v22 back=v23 ;;
    esac
    orig=$(plain "$f")
    if cat "$f" | "$VMSTREAM" convert --to $there - - 2> /dev/null |
            "$VMSTREAM" convert --to $back - - > "$TMP/rt" 2> /dev/null; then
        # Compressed input gives output compressed the same way.
        case "$f" in
        *.zst) check "$name: round trip output is zstd" \
                   zstd -q -t "$TMP/rt"
               zstd -q -d -c "$TMP/rt" > "$TMP/rt.plain" ;;
        *.gz) check "$name: round trip output is gzip" gzip -t "$TMP/rt"
              gzip -d -c "$TMP/rt" > "$TMP/rt.plain" ;;
        esac
        check "$name: $back -> $there -> $back is byte-identical" \
            cmp -s "$TMP/rt.plain" "$orig"
    else
        not_ok "$name: round trip exits 0"
    fi
    rm -f "$orig" "$TMP/rt" "$TMP/rt.plain"
done

# --compress overrides; the result is still the same stream.
src="$VECTORS/real-v22/aa64-virt72-cortex-a57-1cpu.mig.zst"
"$VMSTREAM" convert --to v23 --compress none "$src" "$TMP/a.mig" 2> /dev/null
"$VMSTREAM" info "$TMP/a.mig" > "$TMP/info" 2>&1
check "--compress none writes a plain stream" \
    sh -c "! grep -q compression: '$TMP/info' && grep -q 'v23' '$TMP/info'"

# --in-place keeps a backup and replaces the file atomically.
cp "$TMP/a.mig" "$TMP/b.mig"
"$VMSTREAM" convert --to v22 --in-place "$TMP/b.mig" 2> /dev/null
check "--in-place keeps FILE.bak" cmp -s "$TMP/b.mig.bak" "$TMP/a.mig"
check "--in-place wrote v22" sh -c \
    "'$VMSTREAM' info '$TMP/b.mig' | grep -q ' v22 '"
check "no temporary file is left" \
    sh -c "! ls '$TMP'/*.vmstream-* > /dev/null 2>&1"

# A failed conversion leaves no output file and never writes EOF.
head -c 700000 "$TMP/a.mig" > "$TMP/cut.mig"
"$VMSTREAM" convert --to v22 "$TMP/cut.mig" "$TMP/out.mig" 2> "$TMP/err"
rc=$?
check "truncated input: exit 1" [ $rc -eq 1 ]
check "truncated input: no output file" [ ! -e "$TMP/out.mig" ]
check "truncated input: no temporary file" \
    sh -c "! ls '$TMP'/out.mig.* > /dev/null 2>&1"
"$VMSTREAM" convert --to v22 - - < "$TMP/cut.mig" > "$TMP/piped" 2> /dev/null
rc=$?
check "truncated pipe: exit 1" [ $rc -eq 1 ]
# Everything forwarded is a prefix of the input that stops before the
# device state: no QEMU_VM_EOF reaches the destination.
check "truncated pipe: output is a prefix of the RAM part" \
    sh -c "[ \$(wc -c < '$TMP/piped') -lt 700000 ] &&
           cmp -s '$TMP/piped' '$TMP/cut.mig' -n \$(wc -c < '$TMP/piped')"

# Refuses to overwrite its input without --in-place, and bad usage.
"$VMSTREAM" convert --to v22 "$TMP/a.mig" "$TMP/a.mig" 2> /dev/null
check "IN == OUT without --in-place: exit 2" [ $? -eq 2 ]
"$VMSTREAM" convert "$TMP/a.mig" "$TMP/x.mig" 2> /dev/null
check "missing --to: exit 2" [ $? -eq 2 ]
"$VMSTREAM" convert --to v22 --drop NO_SUCH_REG "$TMP/a.mig" "$TMP/x" 2> /dev/null
check "unknown --drop register: exit 2" [ $? -eq 2 ]

# --drop removes a register from every vCPU (and the vmdesc follows).
"$VMSTREAM" convert --to v22 --drop TPIDR_EL0 \
    "$VECTORS/real-v22/aa64-virt72-cortex-a57-2cpu.mig.zst" "$TMP/d.mig" 2> /dev/null
check "--drop: 257 registers left" sh -c \
    "'$VMSTREAM' info --json '$TMP/d.mig' | grep -q '\"cpregs\": 257'"
check "--drop: the result parses with its rewritten vmdesc" sh -c \
    "'$VMSTREAM' dump --section cpu:1 '$TMP/d.mig' | grep -q 'cpreg_vmstate_indexes\[257\]'"

# --dest refuses a result the destination would not load.
"$VMSTREAM" convert --to v22 --dest qemu-7.2-tcg:cortex-a57 \
    "$V23/aa64-virt72-max-1cpu.mig.zst" "$TMP/m.mig" 2> "$TMP/err"
rc=$?
check "--dest: max into cortex-a57 refused (exit 1)" [ $rc -eq 1 ]
check "--dest: no output written" [ ! -e "$TMP/m.mig" ]
check "--dest: the reason is QEMU's" grep -q "Invalid value 304" "$TMP/err"
"$VMSTREAM" convert --to v22 --dest qemu-7.2-tcg:max \
    "$V23/aa64-virt72-max-1cpu.mig.zst" "$TMP/m.mig" 2> /dev/null
check "--dest: max into max accepted" [ $? -eq 0 ]

# As a pipe filter, the converted device state leaves as soon as it has
# arrived, before the vmdesc; QEMU_VM_EOF and the vmdesc only once the
# input has ended.  (Waits for progress with a generous deadline; nothing
# here is timed.)
f="$VECTORS/real-v22/aa64-virt72-cortex-a57-2cpu.mig.zst"
zstd -dqc "$f" > "$TMP/early.in"
"$VMSTREAM" convert --to v23 "$TMP/early.in" "$TMP/early.want" 2> /dev/null
# offset of the vmdesc record (0x06) in the expected output; EOF before it
vmd=$("$VMSTREAM" info "$TMP/early.want" | sed -n 's/^vmdesc: *yes, [0-9]* bytes of JSON at //p')
size=$(wc -c < "$TMP/early.in")
rm -f "$TMP/early.fifo"
mkfifo "$TMP/early.fifo"
"$VMSTREAM" convert --to v23 - - < "$TMP/early.fifo" > "$TMP/early.out" 2> /dev/null &
pid=$!
exec 3> "$TMP/early.fifo"
head -c $((size - 2000)) "$TMP/early.in" >&3     # all but the vmdesc's end
n=0
while [ "$(wc -c < "$TMP/early.out")" -lt $((vmd - 1)) ] && [ $n -lt 300 ]; do
    sleep 0.1
    n=$((n + 1))
done
got=$(wc -c < "$TMP/early.out")
check "early: the device state is out before the vmdesc ends ($got of $((vmd - 1)) bytes)" \
    [ "$got" -eq $((vmd - 1)) ]
check "early: it is the converted device state, without EOF" \
    cmp -s "$TMP/early.out" "$TMP/early.want" -n $((vmd - 1))
tail -c 2000 "$TMP/early.in" >&3
exec 3>&-
wait $pid
check "early: exit 0 once the input ended" [ $? -eq 0 ]
check "early: then EOF and the vmdesc, identical to the offline result" \
    cmp -s "$TMP/early.out" "$TMP/early.want"
rm -f "$TMP/early.in" "$TMP/early.want" "$TMP/early.out" "$TMP/early.fifo"

finish
