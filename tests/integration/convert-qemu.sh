#!/bin/bash
# tests/integration/convert-qemu.sh - streams rewritten by `vmstream convert`
# against stock QEMU 7.2.
#
#  a. every real-v23 stream (tests/vectors/real-v23/*.mig.zst), converted
#     with `vmstream convert --to v22`, loads into stock QEMU with the
#     command line its MANIFEST.md gives, and the VM runs after `cont`; the
#     det-* streams must also come out byte-identical to the stock v22
#     streams of the same command line (real-v23/det-v22-stock/).
#  b. live migration of the test guest, stock -> stock, through the pipe
#     filter `vmstream convert --to v23 - - | vmstream convert --to v22 - -`
#     (on the destination's side and on the source's side): the guest's
#     counter carries on.
#  c. the same filter killed mid-stream: the source keeps running, the
#     destination refuses.
#  d. `vmstream convert --to v22 --dest-stream DEST` refuses (exit 1, no
#     output file, nothing left behind) a v23 stream of another CPU model,
#     and converts one of the right model (which then loads).
#
# Exit 0 if every test passed; the last line is "N passed, M failed".
# Environment: VMSTREAM, VECTORS, QEMU_AARCH64, QEMU_ARM (its streams are
# skipped without it), QEMU_TIMEOUT, QEMU_KEEP=1, QEMU_VERBOSE=1.
: "${QEMU_TIMEOUT:=60}"   # generous: under a loaded CI machine a live migration through a filter took over 20 s
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
: "${VECTORS:=$here/../vectors}"
VECTORS=$(cd "$VECTORS" && pwd) || { echo "no VECTORS dir"; echo "0 passed, 1 failed"; exit 1; }
: "${VMSTREAM:=$PWD/vmstream}"
: "${QEMU_AARCH64:=qemu-system-aarch64}"
: "${QEMU_ARM:=qemu-system-arm}"
export VECTORS QEMU_AARCH64
# shellcheck source=tests/integration/qemu.sh
. "$here/qemu.sh"

missing=""
for t in "$QEMU_AARCH64" socat zstd setsid cmp "$VMSTREAM"; do
    command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
    echo "missing tools:$missing (install tests/integration/PACKAGES, build vmstream)"
    echo "0 passed, 1 failed"
    exit 1
fi
qemu_init || { echo "qemu_init failed"; echo "0 passed, 1 failed"; exit 1; }
echo "# $("$QEMU_AARCH64" --version | head -n1)"
T0=$(_qemu_now_ms)

pass=0 fail=0 skip=0
ok()      { pass=$((pass + 1)); printf 'PASS %s\n' "$*"; }
bad()     { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }
skipped() { skip=$((skip + 1)); printf 'SKIP %s\n' "$*"; }

# qemu_load / qemu_live_migrate, once more after a harness error (such as
# QMP not accepting the connection yet): never a verdict about a stream
load() {
    for _ in 1 2; do
        qemu_load "$@" >/dev/null
        [ "$QEMU_RESULT" != error ] && return 0
        echo "# harness error ($QEMU_REASON), retrying"
    done
}
live() {
    for _ in 1 2; do
        qemu_live_migrate "$@" >/dev/null
        [ "$QEMU_MIG_RESULT" != error ] && return 0
        echo "# harness error ($QEMU_MIG_REASON), retrying"
    done
}

V23=$VECTORS/real-v23
W=$QEMU_WORKDIR/cq
mkdir -p "$W"

# stock binary for a MANIFEST binary name
stock_bin() {
    case $1 in
    qemu-system-aarch64) printf '%s\n' "$QEMU_AARCH64" ;;
    qemu-system-arm) printf '%s\n' "$QEMU_ARM" ;;
    *) return 1 ;;
    esac
}

# ---------------------------------------------------------------------------
echo "## a. real-v23 streams converted to v22 load into stock QEMU"
# "- `NAME.mig`: `<patched-7.2+v23>/BIN ARGS`" -> NAME.mig|BIN|ARGS
# shellcheck disable=SC2016  # the backquotes are the MANIFEST's, not expansions
MANIFEST_SED='s/^- `\([^`]*\.mig\)`: `<patched-7\.2+v23>\/\(qemu-system-[a-z0-9]*\) \(.*\)`$/\1|\2|\3/p'
declare -A CMD=() BIN=()
while IFS='|' read -r name bin args; do
    CMD[$name]=$args
    BIN[$name]=$bin
done < <(sed -n "$MANIFEST_SED" "$V23/MANIFEST.md")
n_streams=0
for z in "$V23"/*.mig.zst; do
    [ -e "$z" ] || continue
    n_streams=$((n_streams + 1))
    name=$(basename "$z" .zst)
    if [ -z "${CMD[$name]:-}" ]; then
        bad "$name: no command line in $V23/MANIFEST.md"
        continue
    fi
    bin=$(stock_bin "${BIN[$name]}") || { bad "$name: unknown binary ${BIN[$name]}"; continue; }
    if ! command -v "$bin" >/dev/null 2>&1; then
        skipped "$name: no $bin"
        continue
    fi
    out=$W/$name
    # straight from the .zst; --compress none: QEMU reads a raw stream
    if ! "$VMSTREAM" convert --to v22 --compress none "$z" "$out" 2>"$W/conv.err"; then
        bad "$name: convert --to v22 failed: $(cat "$W/conv.err")"
        continue
    fi
    read -r -a args <<<"${CMD[$name]}"
    load -b "$bin" -e "$W/err" "$out" -- "${args[@]}"
    note=""
    stock=$V23/det-v22-stock/$name.zst
    if [ -f "$stock" ]; then
        zstd -dqf "$stock" -o "$W/stock.mig"
        if cmp -s "$out" "$W/stock.mig"; then
            note=", byte-identical to det-v22-stock/$name"
        else
            note=" BUT differs from det-v22-stock/$name: $(cmp "$out" "$W/stock.mig" 2>&1 | head -n1)"
        fi
    fi
    if [ "$QEMU_RESULT" = loads ] && [ "$QEMU_RUNSTATE" = running ] &&
        case $note in *BUT*) false ;; *) true ;; esac; then
        ok "$name -> v22 -> stock ${BIN[$name]}: $QEMU_RESULT, $QEMU_REASON (${QEMU_MS} ms)$note"
    else
        bad "$name -> v22 -> stock ${BIN[$name]}: $QEMU_RESULT ($QEMU_REASON, state ${QEMU_RUNSTATE})$note"
        sed 's/^/    qemu: /' "$W/err"
    fi
    rm -f "$out" "$W/stock.mig"
done
[ "$n_streams" -gt 0 ] || bad "no real-v23 streams in $V23"

# ---------------------------------------------------------------------------
echo "## b. live migration through convert --to v23 | convert --to v22"
FILTER="'$VMSTREAM' convert --to v23 - - | '$VMSTREAM' convert --to v22 - -"
# the dst-side run also keeps the v23 stream that flows between the two
MID=$W/mid-v23.mig
for side in dst src; do
    rm -f "$MID"
    f=$FILTER
    [ "$side" = dst ] &&
        f="'$VMSTREAM' convert --to v23 - - | tee '$MID' | '$VMSTREAM' convert --to v22 - -"
    live -F "$side" -f "$f"
    mid="" midok=1
    if [ "$side" = dst ]; then
        if "$VMSTREAM" info "$MID" 2>/dev/null | grep -q '^ *0 aarch64 .* v23 '; then
            mid=", the stream between the filters was v23"
        else
            mid=", BUT the stream between the filters was not v23" midok=""
        fi
    fi
    if [ "$QEMU_MIG_RESULT" = continues ] && [ -n "$midok" ]; then
        ok "live, filter on the $side side: $QEMU_MIG_RESULT, $QEMU_MIG_REASON ($QEMU_MIG_MS ms, downtime ${QEMU_MIG_DOWNTIME_MS:-?} ms)$mid"
    else
        bad "live, filter on the $side side: $QEMU_MIG_RESULT: $QEMU_MIG_REASON ($QEMU_MIG_MS ms)$mid"
        sed 's/^/    filter: /' "$QEMU_MIG_FILTER_STDERR"
        sed 's/^/    dst: /' "$QEMU_MIG_DST_STDERR"
    fi
done
rm -f "$MID"

# ---------------------------------------------------------------------------
echo "## c. the filter killed mid-stream"
live -K -f "$FILTER"
if [ "$QEMU_MIG_RESULT" = refused ]; then
    ok "filter killed: $QEMU_MIG_RESULT, $QEMU_MIG_REASON ($QEMU_MIG_MS ms)"
else
    bad "filter killed: $QEMU_MIG_RESULT: $QEMU_MIG_REASON ($QEMU_MIG_MS ms)"
    sed 's/^/    dst: /' "$QEMU_MIG_DST_STDERR"
fi

# ---------------------------------------------------------------------------
echo "## d. convert --dest-stream refuses a stream of another model"
# the destination's own stream: stock cortex-a57, paused, 2 vCPUs
DARGS=(-M virt-7.2 -cpu cortex-a57 -smp 2 -m 32M -nographic -S -serial none)
DEST=$W/dest-a57.mig
r=0
qemu_start dest "$QEMU_AARCH64" "${DARGS[@]}" || r=$?
if [ $r -eq 2 ]; then   # harness error: once more
    r=0
    qemu_start dest "$QEMU_AARCH64" "${DARGS[@]}" || r=$?
fi
if [ $r -eq 0 ]; then
    qemu_qmp dest migrate "{\"uri\": \"$(_qemu_json_str "exec:cat > '$DEST'")\"}" >/dev/null || r=1
fi
st=failed
[ $r -eq 0 ] && st=$(qemu_wait_migration dest "$QEMU_TIMEOUT")
qemu_stop dest
if [ "$st" != completed ] || [ ! -s "$DEST" ]; then
    bad "could not save the cortex-a57 destination stream (migration '$st')"
    sed 's/^/    qemu: /' "$(qemu_stderr dest)"
else
    D=$W/d
    for wrong in aa64-virt72-max-2cpu aa64-virt72-cortex-a53-2cpu aa64-virt72-cortex-a72-2cpu; do
        rm -rf "$D" && mkdir -p "$D"
        k=0
        "$VMSTREAM" convert --to v22 --compress none --dest-stream "$DEST" \
            "$V23/$wrong.mig.zst" "$D/out.mig" >"$W/conv.out" 2>"$W/conv.err" || k=$?
        left=$(ls -A "$D")
        if [ $k -eq 1 ] && [ -z "$left" ] && [ ! -s "$W/conv.out" ]; then
            ok "v23 $wrong --dest-stream cortex-a57: exit 1, no output: $(head -c 200 "$W/conv.err")"
        else
            bad "v23 $wrong --dest-stream cortex-a57: exit $k (want 1), left in the output dir: '${left}'"
            sed 's/^/    convert: /' "$W/conv.err"
        fi
    done
    # the right model: converted, and the result loads
    rm -rf "$D" && mkdir -p "$D"
    k=0
    "$VMSTREAM" convert --to v22 --compress none --dest-stream "$DEST" \
        "$V23/aa64-virt72-cortex-a57-2cpu.mig.zst" "$D/out.mig" 2>"$W/conv.err" || k=$?
    if [ $k -ne 0 ] || [ ! -s "$D/out.mig" ]; then
        bad "v23 cortex-a57-2cpu --dest-stream cortex-a57: exit $k (want 0)"
        sed 's/^/    convert: /' "$W/conv.err"
    else
        load -e "$W/err" "$D/out.mig" -- "${DARGS[@]}"
        if [ "$QEMU_RESULT" = loads ] && [ "$QEMU_RUNSTATE" = running ]; then
            ok "v23 cortex-a57-2cpu --dest-stream cortex-a57: converted, loads ($QEMU_REASON, ${QEMU_MS} ms)"
        else
            bad "v23 cortex-a57-2cpu --dest-stream cortex-a57: converted but $QEMU_RESULT ($QEMU_REASON)"
            sed 's/^/    qemu: /' "$W/err"
        fi
    fi
    # through a pipe the refusal must not let QEMU_VM_EOF out either
    k=0
    "$VMSTREAM" convert --to v22 --dest-stream "$DEST" - - \
        <"$V23/aa64-virt72-max-2cpu.mig.zst" >"$W/pipe.out" 2>"$W/conv.err" || k=$?
    if [ $k -eq 1 ] && "$VMSTREAM" info "$W/pipe.out" >/dev/null 2>&1; then
        bad "pipe: convert exit 1 but its output is a complete stream"
    elif [ $k -eq 1 ]; then
        ok "pipe: v23 max-2cpu --dest-stream cortex-a57 exits 1, output ($(wc -c <"$W/pipe.out") bytes) is not a complete stream"
    else
        bad "pipe: v23 max-2cpu --dest-stream cortex-a57: exit $k (want 1)"
        sed 's/^/    convert: /' "$W/conv.err"
    fi
fi

echo "# timings (ms result what):"
sed 's/^/#   /' "$QEMU_WORKDIR/timings"
echo "# QEMU wall time $(awk '{s += $1} END {print s + 0}' "$QEMU_WORKDIR/timings") ms, total $(($(_qemu_now_ms) - T0)) ms"
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
