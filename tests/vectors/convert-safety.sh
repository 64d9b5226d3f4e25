#!/bin/sh
# vmstream convert: what it refuses to pass on, which --drop names it takes,
# and where its output goes (issue #9 parts 3 and 4).
#  - a stream no QEMU build loads as it is (v23 slot maps that overflow the
#    destination's heap, unsorted or repeated register ids) is refused even
#    when no section needs a new layout: exit 1, no output file;
#  - --drop takes every register name `vmstream regs` prints and refuses a
#    name that is no cpreg-list register;
#  - a FIFO, a character device, a socket, or a symlink to one, is written
#    as a stream, never replaced; a full device fails with exit 2;
#  - --in-place never destroys an existing backup.
# Device nodes are made inside the test's own directory (mknod, as root).
. "$TESTLIB"
need zstd
: "${TAMPER:?TAMPER must name tests/integration/tamper}"

a57=$(plain "$VECTORS/real-v22/aa64-virt72-cortex-a57-1cpu.mig.zst")
v23=$(plain "$VECTORS/real-v23/aa64-virt72-cortex-a57-1cpu.mig.zst")
a15=$(plain "$VECTORS/real-v22/arm-virt72-cortex-a15-1cpu.mig.zst")

# ---- structurally invalid input is refused, whatever the target ----------
# refused DESC IN TO: exit 1, no OUT, and the message says why
refused() {
    rm -f "$TMP/out.mig"
    "$VMSTREAM" convert --to "$3" "$2" "$TMP/out.mig" 2> "$TMP/err"
    rc=$?
    check "$1: exit 1 (got $rc)" [ "$rc" -eq 1 ]
    check "$1: no output file" [ ! -e "$TMP/out.mig" ]
    check "$1: the reason names QEMU's refusal" \
        grep -q "no QEMU build loads this cpu section" "$TMP/err"
    # as a pipe filter: nothing at or after the device state, so no EOF
    "$VMSTREAM" convert --to "$3" - - < "$2" > "$TMP/pipe.out" 2> /dev/null
    rc=$?
    check "$1, pipe: exit 1 (got $rc)" [ "$rc" -eq 1 ]
    check "$1, pipe: output is a strict prefix of the input" \
        sh -c "[ \$(wc -c < '$TMP/pipe.out') -lt \$(wc -c < '$2') ] &&
               cmp -s -n \$(wc -c < '$TMP/pipe.out') '$TMP/pipe.out' '$2'"
}

"$TAMPER" "$v23" "$TMP/v23-big.mig" vidx-slots-too-large > /dev/null
refused "v23 slot map overflowing the destination, --to v23" \
    "$TMP/v23-big.mig" v23
"$TAMPER" "$v23" "$TMP/v23-swap.mig" swap 40 > /dev/null
refused "v23 with two ids out of order, --to v22" "$TMP/v23-swap.mig" v22
"$TAMPER" "$a57" "$TMP/v22-swap.mig" swap 0 > /dev/null
refused "v22 with the first two ids swapped, --to v22" "$TMP/v22-swap.mig" v22

# ---- --drop names --------------------------------------------------------
# Every register name `vmstream regs` prints for a cpreg is accepted: all of
# them at once leave no cpreg at all.  Names regs prints for more than one
# register (both views of PAR) or as two names ("NMRR_S/MAIR1_S") remove
# exactly the registers printed under them.
for f in "$a57" "$a15"; do
    "$VMSTREAM" regs "$f" > "$TMP/regs"
    awk '$1 == "cpreg" { print $2 }' "$TMP/regs" | sort -u > "$TMP/names"
    total=$(wc -l < "$TMP/names")
    "$VMSTREAM" convert --to v22 --drop "$(paste -s -d, "$TMP/names")" \
        "$f" "$TMP/drop.mig" 2> "$TMP/err"
    rc=$?
    check "$(basename "$f"): --drop with all $total cpreg names regs prints: exit 0 ($rc)" \
        [ "$rc" -eq 0 ]
    check "$(basename "$f"): ... and no cpreg is left" \
        sh -c "! '$VMSTREAM' regs '$TMP/drop.mig' | grep -q '^  cpreg'"
    awk '$1 == "cpreg" { print $2 }' "$TMP/regs" | sort | uniq -d > "$TMP/special"
    grep / "$TMP/names" >> "$TMP/special"
    bad=0
    while read -r name; do
        want=$(awk -v n="$name" '$1 == "cpreg" && $2 == n' "$TMP/regs" | wc -l)
        "$VMSTREAM" convert --to v22 --drop "$name" "$f" "$TMP/drop.mig" \
            2> /dev/null || { echo "# --drop $name refused"; bad=$((bad + 1)); continue; }
        got=$(( $(grep -c '^  cpreg' "$TMP/regs") -
                $("$VMSTREAM" regs "$TMP/drop.mig" | grep -c '^  cpreg') ))
        if [ "$got" -ne "$want" ]; then
            echo "# --drop $name removed $got registers, regs lists $want"
            bad=$((bad + 1))
        fi
    done < "$TMP/special"
    check "$(basename "$f"): $(wc -l < "$TMP/special") shared or double names remove exactly their registers" \
        [ "$bad" -eq 0 ]
done
"$VMSTREAM" convert --to v22 --drop TTBR0_S,PAR "$a15" "$TMP/d.mig" 2> /dev/null
check "--drop TTBR0_S,PAR on cortex-a15 (names regs prints)" [ $? -eq 0 ]
"$VMSTREAM" convert --to v22 --drop X0 "$a57" "$TMP/d.mig" 2> "$TMP/err"
check "--drop X0: usage error (exit 2), a core register" \
    sh -c "[ $? -eq 2 ] && grep -q 'not a register of the cpreg list' '$TMP/err'"
"$VMSTREAM" convert --to v22 --drop SCTLR_EL9 "$a57" "$TMP/d.mig" 2> /dev/null
check "--drop SCTLR_EL9: usage error (exit 2)" [ $? -eq 2 ]
rm -f "$TMP/d.mig"
"$VMSTREAM" convert --to v22 --drop TTBR0_S "$a57" "$TMP/d.mig" 2> "$TMP/err"
rc=$?
check "--drop of a register the stream lacks (TTBR0_S on cortex-a57): exit 2, no output" \
    sh -c "[ $rc -eq 2 ] && [ ! -e '$TMP/d.mig' ] &&
           grep -q 'no register of that name in the stream' '$TMP/err'"

# ---- where the output goes -----------------------------------------------
"$VMSTREAM" convert --to v23 "$a57" "$TMP/want.mig" 2> /dev/null

mkfifo "$TMP/fifo"
cat "$TMP/fifo" > "$TMP/from-fifo" &
reader=$!
"$VMSTREAM" convert --to v23 "$a57" "$TMP/fifo" 2> /dev/null
rc=$?
wait $reader
check "FIFO: exit 0" [ $rc -eq 0 ]
check "FIFO: still a FIFO" [ -p "$TMP/fifo" ]
check "FIFO: the reader got the converted stream" \
    cmp -s "$TMP/from-fifo" "$TMP/want.mig"

ln -s fifo "$TMP/link"
cat "$TMP/fifo" > "$TMP/from-link" &
reader=$!
"$VMSTREAM" convert --to v23 "$a57" "$TMP/link" 2> /dev/null
rc=$?
wait $reader
check "symlink to a FIFO: exit 0, link and FIFO kept" \
    sh -c "[ $rc -eq 0 ] && [ -L '$TMP/link' ] && [ -p '$TMP/fifo' ]"
check "symlink to a FIFO: the reader got the stream" \
    cmp -s "$TMP/from-link" "$TMP/want.mig"

if mknod "$TMP/null" c 1 3 2> /dev/null && mknod "$TMP/full" c 1 7; then
    "$VMSTREAM" convert --to v23 "$a57" "$TMP/null" 2> /dev/null
    check "character device (null): exit 0, still a device" \
        sh -c "[ $? -eq 0 ] && [ -c '$TMP/null' ]"
    "$VMSTREAM" convert --to v23 "$a57" "$TMP/full" 2> "$TMP/err"
    rc=$?
    check "full device: exit 2 (got $rc), says why" \
        sh -c "[ $rc -eq 2 ] && grep -q 'No space left' '$TMP/err'"
    check "full device: still a device, no temporary file left" \
        sh -c "[ -c '$TMP/full' ] && ! ls '$TMP' | grep -q vmstream-"
else
    not_ok "mknod in $TMP failed: the device tests need root (CI runs as root)"
fi

if command -v python3 > /dev/null 2>&1; then
    python3 - "$TMP/sock" "$TMP/from-sock" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
c, _ = s.accept()
with open(sys.argv[2], "wb") as f:
    while True:
        d = c.recv(65536)
        if not d:
            break
        f.write(d)
EOF
    server=$!
    n=0
    while [ ! -S "$TMP/sock" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
    "$VMSTREAM" convert --to v23 "$a57" "$TMP/sock" 2> /dev/null
    rc=$?
    wait $server
    check "UNIX socket: exit 0, the socket is kept" \
        sh -c "[ $rc -eq 0 ] && [ -S '$TMP/sock' ]"
    check "UNIX socket: the listener got the stream" \
        cmp -s "$TMP/from-sock" "$TMP/want.mig"
else
    not_ok "python3 is needed for the socket listener (tools/setup.sh --tests)"
fi

# ---- --in-place never destroys a backup ----------------------------------
cp "$a57" "$TMP/ip.mig"
"$VMSTREAM" convert --to v23 --in-place "$TMP/ip.mig" 2> /dev/null
check "--in-place: first run converts, keeps the original as .bak" \
    sh -c "cmp -s '$TMP/ip.mig.bak' '$a57' && cmp -s '$TMP/ip.mig' '$TMP/want.mig'"
"$VMSTREAM" convert --to v22 --in-place "$TMP/ip.mig" 2> "$TMP/err"
rc=$?
check "--in-place with an existing .bak: refused (exit 2), says why" \
    sh -c "[ $rc -eq 2 ] && grep -q 'never overwrites a backup' '$TMP/err'"
check "--in-place with an existing .bak: backup and file untouched" \
    sh -c "cmp -s '$TMP/ip.mig.bak' '$a57' && cmp -s '$TMP/ip.mig' '$TMP/want.mig'"

finish
