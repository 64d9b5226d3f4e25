#!/bin/bash
# tests/integration/proxy.sh - `vmstream proxy` between two real QEMU 7.2
# processes, on loopback (ports chosen by the kernel, sockets in a private
# temporary directory).
#
#  a. a running guest migrates stock -> proxy --to v23 -> proxy --to v22
#     -> stock, over tcp: and over unix:, and its UART counter carries on
#     (both proxies exit 0 and converted both cpu sections: the bytes
#     between them were v23);
#  b. the same with multifd (4 channels: 4 channels passed through), with
#     multifd and the return-path capability over IPv6 ([::1]; skipped,
#     saying so, without IPv6 loopback), with the return path over
#     unix: (the destination's SHUT(0) reaches both proxies), with
#     postcopy (the source goes through postcopy-active, the guest's page
#     faults travel on the return path) and with postcopy-preempt (its
#     extra channel is of a kind vmstream does not know: passed through);
#     postcopy is reported as skipped, with QEMU's reason, where the
#     machine has no userfaultfd;
#  c. refusal at the end of the stream, a cortex-a57 guest through
#     `--dest qemu-7.2-tcg:max`: with the return path the source's
#     migration fails and its VM runs on (counting, no `cont`), the
#     destination exits; without it the proxy warns when the migration
#     starts, the destination exits and the source reports `completed`
#     and stays paused (the documented outcome) until `cont`; in postcopy
#     (the device state comes after the source stopped for good) the
#     proxy warns at the start, and the source ends postcopy-paused (or
#     stays postcopy-active for good: QEMU 7.2 races) with its VM stopped,
#     `cont` refused;
#  d. the first proxy killed mid-RAM (SIGKILL): source running, the
#     destination refuses, the second proxy exits 2;
#  e. a destination that refuses to load (a v23 stream into stock QEMU,
#     return path on): the source learns it, as from QEMU's own return
#     path (failed, running), and the proxy exits 1;
#  f. the command line: an address error, a port in use and a refused
#     connection exit 2 with a message saying so.
#
# Exit 0 if every test passed; the last line is "N passed, M failed[, K
# skipped]".  Environment: VMSTREAM, VECTORS, QEMU_AARCH64, QEMU_TIMEOUT,
# QEMU_KEEP=1, QEMU_VERBOSE=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

here=$(cd "$(dirname "$0")" && pwd)
: "${VECTORS:=$here/../vectors}"
VECTORS=$(cd "$VECTORS" && pwd) || { echo "no VECTORS dir"; echo "0 passed, 1 failed"; exit 1; }
: "${VMSTREAM:=$PWD/vmstream}"
: "${QEMU_AARCH64:=qemu-system-aarch64}"
# a loaded CI machine: generous waits, never timed assertions
: "${QEMU_TIMEOUT:=60}"
export VECTORS QEMU_AARCH64 VMSTREAM QEMU_TIMEOUT
# shellcheck source=tests/integration/qemu.sh
. "$here/qemu.sh"
# shellcheck source=tests/integration/qemu-net.sh
. "$here/qemu-net.sh"

missing=""
for t in "$QEMU_AARCH64" socat setsid "$VMSTREAM"; do
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

# qemu_net_migrate once more after a harness error (QMP not up yet...):
# never a verdict about the proxy
net() {
    for _ in 1 2; do
        qemu_net_migrate "$@" >/dev/null
        [ "$QEMU_NET_RESULT" != error ] && return 0
        echo "# harness error ($QEMU_NET_REASON), retrying"
    done
}

# what went wrong, for a FAIL
show() {
    local i
    echo "    result $QEMU_NET_RESULT: $QEMU_NET_REASON; proxies exit [$QEMU_NET_PROXY_RC]; source statuses [$QEMU_NET_STATUSES]"
    for i in "${!QEMU_NET_PROXY_ERR[@]}"; do
        sed "s/^/    proxy $i: /" "${QEMU_NET_PROXY_ERR[$i]}"
    done
    sed 's/^/    dst: /' "$QEMU_NET_DST_STDERR"
    sed 's/^/    src: /' "$QEMU_NET_SRC_STDERR"
}

# hop_has I TEXT: proxy I's stderr contains TEXT
hop_has() { grep -qF -- "$2" "${QEMU_NET_PROXY_ERR[$1]}"; }
hop_count() { grep -cF -- "$2" "${QEMU_NET_PROXY_ERR[$1]}"; }

CHAIN=(-P '--to v23' -P '--to v22')
# both hops converted both cpu sections: v22 -> v23 -> v22
chain_converted() {
    hop_has 0 "2 cpu section(s), 2 converted to v23" &&
        hop_has 1 "2 cpu section(s), 2 converted to v22"
}
took() { printf '%s ms, downtime %s ms' "$QEMU_NET_MS" "${QEMU_NET_DOWNTIME_MS:-?}"; }

# ---------------------------------------------------------------------------
echo "## a. stock -> proxy --to v23 -> proxy --to v22 -> stock"
for tr in tcp unix; do
    net -T "$tr" "${CHAIN[@]}"
    if [ "$QEMU_NET_RESULT" = continues ] && [ "$QEMU_NET_PROXY_RC" = "0 0" ] &&
        chain_converted; then
        ok "$tr: $QEMU_NET_REASON, both proxies exit 0, v23 between them ($(took))"
    else
        bad "$tr: chain of two proxies"
        show
    fi
done

# ---------------------------------------------------------------------------
echo "## b. multifd, return path, postcopy"
net -T tcp -x multifd -p '{"multifd-channels": 4}' "${CHAIN[@]}"
if [ "$QEMU_NET_RESULT" = continues ] && [ "$QEMU_NET_PROXY_RC" = "0 0" ] &&
    chain_converted && [ "$(hop_count 0 ': multifd: passed through')" -eq 4 ] &&
    [ "$(hop_count 1 ': multifd: passed through')" -eq 4 ] &&
    hop_has 1 "5 channel(s) (4 passed through)"; then
    ok "tcp, multifd 4 channels: $QEMU_NET_REASON, 4 multifd channels passed through each proxy ($(took))"
else
    bad "tcp, multifd 4 channels"
    show
fi

# over IPv6 loopback ([::1]) as well
net -T tcp6 -x multifd -x return-path -p '{"multifd-channels": 4}' "${CHAIN[@]}"
if [ "$QEMU_NET_RESULT" = unsupported ]; then
    skipped "tcp [::1], multifd + return-path: no IPv6 loopback here: $QEMU_NET_REASON"
elif [ "$QEMU_NET_RESULT" = continues ] && [ "$QEMU_NET_PROXY_RC" = "0 0" ] &&
    chain_converted && hop_has 1 "5 channel(s) (4 passed through)" &&
    hop_has 0 "listening on tcp:[::1]:" &&
    hop_has 0 "the destination reported success" &&
    hop_has 1 "the destination reported success"; then
    ok "tcp [::1], multifd 4 channels + return-path: $QEMU_NET_REASON, SHUT(0) through both proxies ($(took))"
else
    bad "tcp [::1], multifd + return-path"
    show
fi

net -T unix -x return-path "${CHAIN[@]}"
if [ "$QEMU_NET_RESULT" = continues ] && [ "$QEMU_NET_PROXY_RC" = "0 0" ] &&
    chain_converted && hop_has 0 "the stream opens a return path" &&
    hop_has 0 "the destination reported success" &&
    ! hop_has 0 "warning:"; then
    ok "unix, return-path: $QEMU_NET_REASON, SHUT(0) through both proxies ($(took))"
else
    bad "unix, return-path"
    show
fi

for pc in postcopy-ram postcopy-preempt; do
    caps=(-x postcopy-ram)
    [ "$pc" = postcopy-preempt ] && caps+=(-x postcopy-preempt)
    net -T tcp "${caps[@]}" -Y "${CHAIN[@]}"
    if [ "$QEMU_NET_RESULT" = unsupported ]; then
        skipped "tcp, $pc: this machine cannot run it: $QEMU_NET_REASON"
        continue
    fi
    extra=ok note=""
    if [ "$pc" = postcopy-preempt ]; then
        # the preempt channel carries pages only if the guest faulted on
        # one the background transfer had not sent yet (usually a few)
        if hop_has 0 "unknown kind" && hop_has 1 "unknown kind"; then
            note=", the preempt channel passed through as an unknown kind ($(grep -F '(unknown): ' "${QEMU_NET_PROXY_ERR[1]}" | sed 's/.*(unknown): //'))"
        elif hop_has 0 "fewer than 4 bytes" && hop_has 1 "fewer than 4 bytes"; then
            note=", the preempt channel passed through, no page went over it"
        fi
        { [ -n "$note" ] && hop_has 1 "2 channel(s) (1 passed through)"; } || extra=""
    fi
    # the switch, as both proxies saw it in the stream (the source's
    # postcopy-active status may be too short to be polled)
    hop_has 0 "switches to postcopy" && hop_has 1 "switches to postcopy" || extra=""
    if [ "$QEMU_NET_RESULT" = continues ] && [ "$QEMU_NET_PROXY_RC" = "0 0" ] &&
        chain_converted && [ -n "$extra" ] &&
        hop_has 1 "the destination reported success"; then
        ok "tcp, $pc: $QEMU_NET_REASON, the stream switched to postcopy, source statuses seen [$QEMU_NET_STATUSES]$note ($(took))"
    else
        bad "tcp, $pc (statuses [$QEMU_NET_STATUSES])"
        show
    fi
done

# ---------------------------------------------------------------------------
echo "## c. refusal at the end of the stream (cortex-a57 -> --dest qemu-7.2-tcg:max)"
REFUSE=(-C max -P '--to v22 --dest qemu-7.2-tcg:max')
net -T tcp -x return-path "${REFUSE[@]}"
if [ "$QEMU_NET_RESULT" = refused ] && [ "$QEMU_NET_PROXY_RC" = 1 ] &&
    hop_has 0 "would not load into qemu-7.2-tcg:max" &&
    hop_has 0 "refused: the destination did not get QEMU_VM_EOF" &&
    [ -n "$QEMU_NET_DST_EXIT" ] && [ "$QEMU_NET_DST_EXIT" != 0 ]; then
    ok "return path on: $QEMU_NET_REASON (exit $QEMU_NET_DST_EXIT), proxy exit 1"
else
    bad "refusal with the return path"
    show
fi

net -T tcp "${REFUSE[@]}"
if [ "$QEMU_NET_RESULT" = paused ] && [ "$QEMU_NET_PROXY_RC" = 1 ] &&
    [ "$QEMU_NET_CONT" = resumed ] &&
    hop_has 0 "warning: the stream opens no return path" &&
    hop_has 0 "would not load into qemu-7.2-tcg:max" &&
    [ -n "$QEMU_NET_DST_EXIT" ] && [ "$QEMU_NET_DST_EXIT" != 0 ] &&
    [ "$(grep -n 'no return path' "${QEMU_NET_PROXY_ERR[0]}" | head -n1 | cut -d: -f1)" -lt \
      "$(grep -n 'would not load' "${QEMU_NET_PROXY_ERR[0]}" | head -n1 | cut -d: -f1)" ]; then
    ok "no return path: warned when the migration started; $QEMU_NET_REASON (exit $QEMU_NET_DST_EXIT), proxy exit 1; 'cont' resumes the source"
else
    bad "refusal without the return path"
    show
fi

# postcopy: the device state arrives inside the switch to postcopy, after
# the source stopped its VM for good; QEMU 7.2 then pauses the migration
net -T tcp -x postcopy-ram -Y "${REFUSE[@]}"
if [ "$QEMU_NET_RESULT" = unsupported ]; then
    skipped "postcopy refusal: this machine cannot run it: $QEMU_NET_REASON"
elif { [ "$QEMU_NET_RESULT" = postcopy-paused ] || [ "$QEMU_NET_RESULT" = postcopy-stuck ]; } &&
    [ "$QEMU_NET_PROXY_RC" = 1 ] &&
    hop_has 0 "warning: the stream may switch to postcopy" &&
    hop_has 0 "would not load into qemu-7.2-tcg:max" &&
    [ -n "$QEMU_NET_DST_EXIT" ] && [ "$QEMU_NET_DST_EXIT" != 0 ] &&
    case $QEMU_NET_CONT in *"not finalized"*) true ;; *) false ;; esac; then
    ok "postcopy: warned when the migration started; $QEMU_NET_REASON (exit $QEMU_NET_DST_EXIT); the source's VM stays stopped: ${QEMU_NET_CONT#cont failed: }"
else
    bad "refusal in postcopy (cont: $QEMU_NET_CONT)"
    show
fi

# ---------------------------------------------------------------------------
echo "## d. the first proxy killed mid-RAM"
net -T tcp -K "${CHAIN[@]}"
if [ "$QEMU_NET_RESULT" = refused ] && [ "$QEMU_NET_PROXY_RC" = "killed 2" ]; then
    ok "proxy killed: $QEMU_NET_REASON, the second proxy exits 2 ($(cat "$QEMU_WORKDIR"/net_*/kill.log 2>/dev/null | tail -n1))"
else
    bad "proxy killed mid-RAM"
    show
fi

# ---------------------------------------------------------------------------
echo "## e. the destination refuses to load (v23 into stock QEMU)"
net -T tcp -x return-path -P '--to v23'
# the destination fails at the first cpu section, which goes out before
# the vmdesc has arrived: it may close before the proxy sends EOF or after
if [ "$QEMU_NET_RESULT" = refused ] && [ "$QEMU_NET_PROXY_RC" = 1 ] &&
    grep -q "unsupported version 23" "$QEMU_NET_DST_STDERR" &&
    hop_has 0 "proxy: the destination closed"; then
    ok "return path on: $QEMU_NET_REASON; the proxy exits 1: $(grep -F 'proxy: the destination closed' "${QEMU_NET_PROXY_ERR[0]}" | head -n1 | sed 's/^vmstream proxy: //')"
else
    bad "destination refusing the stream"
    show
fi

# ---------------------------------------------------------------------------
echo "## f. command line: address errors, a port in use, a refused connection"
W=$QEMU_WORKDIR/cli
mkdir -p "$W"
k=0
"$VMSTREAM" proxy --to v22 tcp:127.0.0.1 unix:"$W/x" 2>"$W/e1" || k=$?
if [ $k -eq 2 ] && grep -q "no port" "$W/e1"; then
    ok "bad address: exit 2: $(head -n1 "$W/e1")"
else
    bad "bad address: exit $k: $(cat "$W/e1")"
fi
# a port nobody listens on any more: a proxy's, stopped with SIGTERM
"$VMSTREAM" proxy --to v22 tcp:127.0.0.1:0 "unix:$W/nobody.sock" 2>"$W/p0" &
p0=$!
a0=$(_qemu_net_wait_listen "$W/p0" "$p0" "$QEMU_TIMEOUT")
kill -TERM "$p0"
qemu_net_reap "$p0" "$QEMU_TIMEOUT"
k=$QEMU_NET_REAPED
if [ -n "$a0" ] && [ "$k" = 2 ] && grep -q "interrupted" "$W/p0"; then
    ok "SIGTERM while listening: exit 2: $(tail -n1 "$W/p0")"
else
    bad "SIGTERM while listening ($a0): exit $k: $(cat "$W/p0")"
fi
# the kernel may hand the port just freed to the next listener: that
# proxy would then connect to itself, so take another until they differ
for try in 1 2 3 4 5; do
    "$VMSTREAM" proxy --to v22 tcp:127.0.0.1:0 "$a0" 2>"$W/p1" &
    p1=$!
    a1=$(_qemu_net_wait_listen "$W/p1" "$p1" "$QEMU_TIMEOUT")
    [ "$a1" != "$a0" ] && break
    echo "# try $try: the new proxy got the stopped one's port $a0, again"
    kill -TERM "$p1"
    qemu_net_reap "$p1" "$QEMU_TIMEOUT"
done
k=0
"$VMSTREAM" proxy --to v22 "$a1" "$a0" 2>"$W/e2" || k=$?
if [ -n "$a1" ] && [ $k -eq 2 ] && grep -q "the port is in use" "$W/e2"; then
    ok "port in use: exit 2: $(head -n1 "$W/e2")"
else
    bad "port in use ($a1): exit $k: $(cat "$W/e2")"
fi
# the first proxy has nobody to connect to: the source's connection is
# closed, the proxy exits 2 saying why
echo hello | socat -u STDIN "TCP:${a1#tcp:}" 2>/dev/null
qemu_net_reap "$p1" "$QEMU_TIMEOUT"
k=$QEMU_NET_REAPED
if [ "$k" = 2 ] && grep -q "cannot connect to the destination $a0.*Connection refused" "$W/p1"; then
    ok "connection refused: exit 2: $(grep 'cannot connect' "$W/p1" | head -n1)"
else
    bad "connection refused: exit $k: $(cat "$W/p1")"
fi

echo "# timings (ms result what):"
sed 's/^/#   /' "$QEMU_WORKDIR/timings"
echo "# total $(($(_qemu_now_ms) - T0)) ms"
if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
else
    echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
