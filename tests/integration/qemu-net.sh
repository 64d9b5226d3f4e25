# shellcheck shell=bash
# shellcheck disable=SC2034  # QEMU_NET_* result variables are for the caller
# tests/integration/qemu-net.sh - live migrations of the test guest over
# tcp: and unix: sockets, through a chain of `vmstream proxy` processes.
#
# Source it after qemu.sh (it uses qemu_start, qemu_qmp, the serial-log
# helpers and $QEMU_WORKDIR):
#
#     . "$srcdir/tests/integration/qemu.sh"
#     . "$srcdir/tests/integration/qemu-net.sh"
#     qemu_init
#     qemu_net_migrate -T tcp -P '--to v23' -P '--to v22' >/dev/null
#     [ "$QEMU_NET_RESULT" = continues ] || echo "$QEMU_NET_REASON"
#
# Needs $VMSTREAM (the binary), plus what qemu.sh needs.
#
# qemu_net_migrate [OPTIONS]
#     Boots the guest on a source QEMU (-serial file), waits for N cnt=
#     lines, starts the destination with -incoming defer and
#     migrate-incoming on tcp:127.0.0.1:0 (the kernel picks the port; it is
#     read back from query-migrate "socket-address") or unix:DIR/dst.sock,
#     then the proxies from the last to the first, each listening on
#     tcp:127.0.0.1:0 (the port it prints: "listening on ADDR") or
#     unix:DIR/pK.sock and connecting to the next hop, and finally sends
#     `migrate` to the source with the first hop's address.
#     Options:
#       -T tcp|tcp6|unix  transport (tcp: 127.0.0.1; tcp6: [::1])
#       -P 'ARGS'    one `vmstream proxy ARGS LISTEN CONNECT` hop, source
#                    side first (repeatable; none: a direct migration)
#       -x CAP       migration capability on both QEMUs (repeatable)
#       -p JSON      migrate-set-parameters on both QEMUs (repeatable)
#       -c CPU       source -cpu (cortex-a57);  -C CPU destination -cpu
#       -s SMP (2)   -m MEM (32M)   -n N cnt= lines first (3)
#       -b BIN       QEMU binary ($QEMU_AARCH64)   -g ELF guest
#       -B BIN       destination binary (default: -b), e.g. another release
#       -a ARG       one more source QEMU argument (repeatable), e.g. a
#                    memory backend;  -A ARG  the same for the destination
#       -w BYTES     source max-bandwidth
#       -Y           migrate-start-postcopy right after migrate (with -x
#                    postcopy-ram); precopy runs at 1 MiB/s (unless -w) so
#                    that the switch comes before precopy could complete,
#                    postcopy at QEMU_NET_POSTCOPY_BW bytes/s (default 16
#                    MiB/s) so that the guest faults pages in over the
#                    return path
#       -K           kill the first proxy (SIGKILL) once the source reports
#                    >= QEMU_KILL_AFTER bytes transferred (bandwidth 512 KiB/s
#                    unless -w)
#       -t SECS      timeout of each wait ($QEMU_TIMEOUT)
#     Prints one word (also in QEMU_NET_RESULT):
#       continues    source completed, destination running, no boot banner
#                    on its UART, its first cnt= above the source's last
#       refused      source migration failed, source running and still
#                    counting, destination not running (7.2 exits)
#       paused       source completed but paused (postmigrate) and not
#                    counting; destination not running.  Then `cont` is
#                    sent to the source: QEMU_NET_CONT=resumed if its
#                    counter moves again
#       postcopy-paused  the source's migration stopped in postcopy-paused
#                    (its VM stopped, waiting for a recovery); then `cont`
#                    is tried (QEMU_NET_CONT)
#       postcopy-stuck   the source stays postcopy-active (VM stopped) 10 s
#                    after the destination and every proxy exited (QEMU
#                    7.2 joins a return-path thread paused for recovery);
#                    then `cont` is tried (QEMU_NET_CONT)
#       unsupported  a QEMU refused a capability (QEMU_NET_REASON says
#                    which, e.g. postcopy without userfaultfd)
#       broken       anything else (QEMU_NET_REASON)
#       error        harness problem (no binary, QMP down, a proxy that
#                    never listened)
#     Returns 0 except for error (2).
#     Afterwards: QEMU_NET_REASON, QEMU_NET_STATUS (source's last
#     query-migrate status), QEMU_NET_STATUSES (every status seen while
#     polling, space-separated), QEMU_NET_SRC_STATE / QEMU_NET_DST_STATE,
#     QEMU_NET_DST_EXIT (destination exit status, "" if it was running),
#     QEMU_NET_PROXY_RC (exit status of each hop, source side first;
#     "killed" for -K, "hung" if it had to be killed at the end),
#     QEMU_NET_PROXY_ERR (array: stderr file of each hop),
#     QEMU_NET_SRC_STDERR / QEMU_NET_DST_STDERR, QEMU_NET_SRC_LAST /
#     QEMU_NET_DST_FIRST (cnt values), QEMU_NET_TOTAL_MS /
#     QEMU_NET_DOWNTIME_MS (source's query-migrate), QEMU_NET_MS (wall).
#     Files stay in $QEMU_WORKDIR until qemu_cleanup.

QEMU_NET_POSTCOPY_BW=${QEMU_NET_POSTCOPY_BW:-16777216}

# _qemu_net_wait_listen ERRFILE PID SECS -> prints the address a proxy
# listens on, from its "listening on ADDR, destination ..." line
# _qemu_net_all_exited PID... -> true when none of the PIDs runs any more
_qemu_net_all_exited() {
    local p
    for p in "$@"; do
        [ -n "$p" ] && kill -0 "$p" 2>/dev/null && return 1
    done
    return 0
}

_qemu_net_wait_listen() {
    local f=$1 pid=$2 secs=$3 t0 a
    t0=$(_qemu_now_ms)
    while :; do
        a=$(sed -n 's/^.* proxy: listening on \([^ ,]*\), destination .*/\1/p' "$f" 2>/dev/null | head -n1)
        [ -n "$a" ] && { printf '%s\n' "$a"; return 0; }
        kill -0 "$pid" 2>/dev/null || return 1
        [ $(($(_qemu_now_ms) - t0)) -gt $((secs * 1000)) ] && return 1
        sleep 0.02
    done
}

# qemu_net_reap PID SECS -> QEMU_NET_REAPED = exit status of a proxy
# started in the background by this shell (not from a $(...) subshell:
# only its parent can wait for it), "hung" if it had to be killed after
# SECS
qemu_net_reap() {
    local pid=$1 secs=$2 t0 rc=0
    t0=$(_qemu_now_ms)
    while kill -0 "$pid" 2>/dev/null; do
        if [ $(($(_qemu_now_ms) - t0)) -gt $((secs * 1000)) ]; then
            kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
            QEMU_NET_REAPED=hung
            return 0
        fi
        sleep 0.05
    done
    wait "$pid" 2>/dev/null || rc=$?
    QEMU_NET_REAPED=$rc
}

qemu_net_migrate() {
    local transport=tcp bin=${QEMU_AARCH64:-qemu-system-aarch64} cpu=cortex-a57 dcpu="" dbin=""
    local smp=2 mem=32M nlines=3 elf=${QEMU_GUEST_ELF:-} bw="" kill="" post=""
    local timeout=$QEMU_TIMEOUT opt rc r="" st q i k n0 ok t0 tk xfer stuck=""
    local -a hops=() caps=() params=() common=() pids=() sargs=() dargs=()
    local OPTIND=1 OPTARG
    while getopts "T:P:x:p:c:C:s:m:n:b:B:g:a:A:w:YKt:" opt; do
        case $opt in
        T) transport=$OPTARG ;;
        P) hops+=("$OPTARG") ;;
        x) caps+=("$OPTARG") ;;
        p) params+=("$OPTARG") ;;
        c) cpu=$OPTARG ;;
        C) dcpu=$OPTARG ;;
        s) smp=$OPTARG ;;
        m) mem=$OPTARG ;;
        n) nlines=$OPTARG ;;
        b) bin=$OPTARG ;;
        B) dbin=$OPTARG ;;
        g) elf=$OPTARG ;;
        a) sargs+=("$OPTARG") ;;
        A) dargs+=("$OPTARG") ;;
        w) bw=$OPTARG ;;
        Y) post=1 ;;
        K) kill=1 ;;
        t) timeout=$OPTARG ;;
        *) echo error; return 2 ;;
        esac
    done
    : "${dcpu:=$cpu}"
    [ -n "$kill" ] && : "${bw:=524288}"
    # postcopy starts at an iteration that still has much to send: a slow
    # precopy leaves time for migrate-start-postcopy to arrive (a fast one
    # may complete first on a busy machine)
    [ -n "$post" ] && : "${bw:=1048576}"
    QEMU_NET_RESULT="" QEMU_NET_REASON="" QEMU_NET_STATUS="" QEMU_NET_STATUSES=""
    QEMU_NET_SRC_STATE="" QEMU_NET_DST_STATE="" QEMU_NET_DST_EXIT=""
    QEMU_NET_PROXY_RC="" QEMU_NET_PROXY_ERR=() QEMU_NET_SRC_LAST="" QEMU_NET_DST_FIRST=""
    QEMU_NET_TOTAL_MS="" QEMU_NET_DOWNTIME_MS="" QEMU_NET_MS="" QEMU_NET_CONT=""
    local lo=127.0.0.1
    case $transport in
    tcp|unix) ;;
    tcp6) lo='[::1]' ;;
    *) _qemu_err "-T tcp|tcp6|unix"; echo error; return 2 ;;
    esac
    if [ -z "$elf" ] || [ ! -r "$elf" ]; then
        _qemu_err "guest ELF '$elf' not found"; echo error; return 2
    fi
    if [ -z "${VMSTREAM:-}" ] || [ ! -x "$VMSTREAM" ]; then
        _qemu_err "VMSTREAM not set to the vmstream binary"; echo error; return 2
    fi
    qemu_init || { echo error; return 2; }
    _QEMU_SEQ=$((_QEMU_SEQ + 1))
    local tag="net_${BASHPID}_$_QEMU_SEQ" src dst w addr uri
    src=${tag}_src dst=${tag}_dst w=$QEMU_WORKDIR/$tag
    mkdir -p "$w" || { echo error; return 2; }
    : >"$w/src.serial"; : >"$w/dst.serial"
    QEMU_NET_SRC_STDERR=$QEMU_WORKDIR/$src/stderr QEMU_NET_DST_STDERR=$QEMU_WORKDIR/$dst/stderr
    common=(-M virt-7.2 -smp "$smp" -m "$mem" -nographic -kernel "$elf")
    t0=$(_qemu_now_ms)

    # --- source, guest running
    rc=0
    qemu_start "$src" "$bin" "${common[@]}" -cpu "$cpu" -serial "file:$w/src.serial" \
        "${sargs[@]}" || rc=$?
    case $rc in
    0) ;;
    1) r="source QEMU exited at start: $(head -n3 "$QEMU_NET_SRC_STDERR" | tr '\n' ' ')" ;;
    *) r=error ;;
    esac
    if [ -z "$r" ] && ! _qemu_wait_cnt "$w/src.serial" "$nlines" "$timeout" "$src"; then
        r="source guest printed fewer than $nlines cnt= lines in ${timeout}s"
    fi
    # --- destination, waiting
    if [ -z "$r" ]; then
        rc=0
        qemu_start "$dst" "${dbin:-$bin}" "${common[@]}" -cpu "$dcpu" -serial "file:$w/dst.serial" \
            "${dargs[@]}" -incoming defer || rc=$?
        case $rc in
        0) ;;
        1) r="destination QEMU exited at start: $(head -n3 "$QEMU_NET_DST_STDERR" | tr '\n' ' ')" ;;
        *) r=error ;;
        esac
    fi
    for k in "$src" "$dst"; do
        [ -z "$r" ] || break
        if [ ${#caps[@]} -gt 0 ] && ! _qemu_set_caps "$k" "${caps[@]}"; then
            QEMU_NET_RESULT=unsupported
            r="${k##*_}: migrate-set-capabilities ${caps[*]}: $(tail -n1 "$QEMU_WORKDIR/$k/qmp.out")"
        fi
        for opt in "${params[@]}"; do
            [ -z "$r" ] || break
            qemu_qmp "$k" migrate-set-parameters "$opt" >/dev/null ||
                r="${k##*_}: migrate-set-parameters $opt failed"
        done
    done
    if [ -z "$r" ] && [ -n "$bw" ] &&
        ! qemu_qmp "$src" migrate-set-parameters "{\"max-bandwidth\": $bw}" >/dev/null; then
        r="source: migrate-set-parameters max-bandwidth failed"
    fi
    if [ -z "$r" ] && [ -n "$post" ] &&
        ! qemu_qmp "$src" migrate-set-parameters "{\"max-postcopy-bandwidth\": $QEMU_NET_POSTCOPY_BW}" >/dev/null; then
        r="source: migrate-set-parameters max-postcopy-bandwidth failed"
    fi
    if [ -z "$r" ]; then
        if [ "$transport" = unix ]; then uri=unix:$w/dst.sock; else uri=tcp:$lo:0; fi
        if ! qemu_qmp "$dst" migrate-incoming "{\"uri\": \"$uri\"}" >/dev/null; then
            r="destination: migrate-incoming $uri refused: $(tail -n1 "$QEMU_WORKDIR/$dst/qmp.out")"
            [ "$transport" = tcp6 ] && QEMU_NET_RESULT=unsupported
        elif [ "$transport" != unix ]; then
            q=$(qemu_qmp "$dst" query-migrate)
            k=$(printf '%s\n' "$q" | sed -n 's/.*"port": "\([0-9]*\)".*/\1/p')
            [ -n "$k" ] && uri=tcp:$lo:$k || r="destination: no listening port in query-migrate: $q"
        fi
    fi
    # --- proxies, last hop first
    addr=$uri
    for ((i = ${#hops[@]} - 1; i >= 0; i--)); do
        [ -z "$r" ] || break
        local listen err=$w/proxy$i.stderr
        if [ "$transport" = unix ]; then listen=unix:$w/p$i.sock; else listen=tcp:$lo:0; fi
        # shellcheck disable=SC2086  # ARGS is a list of options
        "$VMSTREAM" proxy ${hops[$i]} "$listen" "$addr" </dev/null >"$w/proxy$i.stdout" 2>"$err" &
        pids[i]=$!
        QEMU_NET_PROXY_ERR[i]=$err
        if ! addr=$(_qemu_net_wait_listen "$err" "${pids[$i]}" "$timeout"); then
            r=error
            _qemu_err "proxy $i did not listen: $(head -c 400 "$err")"
        fi
    done
    # --- migrate
    if [ -z "$r" ]; then
        n0=$(qemu_serial_count "$w/src.serial")
        if ! qemu_qmp "$src" migrate "{\"uri\": \"$addr\"}" >/dev/null; then
            r="source: migrate $addr refused: $(tail -n1 "$QEMU_WORKDIR/$src/qmp.out")"
        elif [ -n "$post" ] && ! qemu_qmp "$src" migrate-start-postcopy >/dev/null; then
            r="source: migrate-start-postcopy refused: $(tail -n1 "$QEMU_WORKDIR/$src/qmp.out")"
        fi
    fi
    if [ -z "$r" ] && [ -n "$kill" ]; then
        tk=$(_qemu_now_ms)
        while :; do
            st=$(qemu_migstatus "$src")
            q=$(cat "$QEMU_WORKDIR/$src/last-query-migrate" 2>/dev/null || true)
            xfer=$(printf '%s\n' "$q" | sed -n 's/.*"ram": {[^}]*"transferred": \([0-9]*\).*/\1/p')
            case $st in completed|failed|cancelled|dead) break ;; esac
            [ "${xfer:-0}" -ge "$QEMU_KILL_AFTER" ] && break
            [ $(($(_qemu_now_ms) - tk)) -gt $((timeout * 1000)) ] && { st=timeout; break; }
            sleep 0.02
        done
        case $st in
        active|setup|none)
            kill -KILL "${pids[0]}" 2>/dev/null
            echo "killed proxy 0 after ${xfer:-?} bytes" >"$w/kill.log"
            ;;
        *) r="migration was '$st' before the proxy could be killed" ;;
        esac
    fi
    if [ -z "$r" ]; then
        # poll, remembering every status (postcopy-active is short)
        tk=$(_qemu_now_ms)
        while :; do
            st=$(qemu_migstatus "$src")
            case " $QEMU_NET_STATUSES " in *" $st "*) ;; *) QEMU_NET_STATUSES="$QEMU_NET_STATUSES${QEMU_NET_STATUSES:+ }$st" ;; esac
            # postcopy-paused waits for a recovery that will not come
            case $st in completed|failed|cancelled|dead|postcopy-paused) break ;; esac
            # QEMU 7.2 can also stay postcopy-active for good: when the
            # source finished sending before it saw the connection drop,
            # migration_completion joins the return-path thread, which
            # paused itself (postcopy_pause_return_path_thread) waiting
            # for a recovery; call that postcopy-stuck once every proxy
            # and the destination are gone for 10 s
            if [ "$st" = postcopy-active ] && ! qemu_alive "$dst" && _qemu_net_all_exited "${pids[@]}"; then
                [ -n "$stuck" ] || stuck=$(_qemu_now_ms)
                [ $(($(_qemu_now_ms) - stuck)) -gt 10000 ] && { st=postcopy-stuck; break; }
            else
                stuck=""
            fi
            [ $(($(_qemu_now_ms) - tk)) -gt $((timeout * 1000)) ] && { st=timeout; break; }
            sleep 0.05
        done
        QEMU_NET_STATUS=$st
        q=$(cat "$QEMU_WORKDIR/$src/last-query-migrate" 2>/dev/null || true)
        QEMU_NET_DOWNTIME_MS=$(printf '%s\n' "$q" | sed -n 's/.*"downtime": \([0-9]*\).*/\1/p')
        QEMU_NET_TOTAL_MS=$(printf '%s\n' "$q" | sed -n 's/.*"total-time": \([0-9]*\).*/\1/p')
        QEMU_NET_SRC_LAST=$(qemu_serial_last "$w/src.serial")
        if [ "$st" = completed ]; then
            # a paused source prints nothing more; a loaded destination does
            _qemu_wait_cnt "$w/dst.serial" 1 "$timeout" "$dst" || true
            sleep 0.2
            QEMU_NET_SRC_STATE=$(qemu_runstate "$src")
            QEMU_NET_DST_STATE=$(qemu_runstate "$dst")
            QEMU_NET_DST_FIRST=$(qemu_serial_first "$w/dst.serial")
            if [ "$QEMU_NET_DST_STATE" = running ]; then
                if [ -n "$kill" ]; then
                    QEMU_NET_RESULT=broken QEMU_NET_REASON="migration completed although the proxy was killed"
                elif grep -q GUEST-BOOT "$w/dst.serial"; then
                    QEMU_NET_RESULT=broken QEMU_NET_REASON="destination guest rebooted"
                elif [ -z "$QEMU_NET_DST_FIRST" ] || [ -z "$QEMU_NET_SRC_LAST" ]; then
                    QEMU_NET_RESULT=broken QEMU_NET_REASON="no cnt= line (source last '$QEMU_NET_SRC_LAST', destination first '$QEMU_NET_DST_FIRST')"
                elif [ $((16#$QEMU_NET_DST_FIRST)) -le $((16#$QEMU_NET_SRC_LAST)) ]; then
                    QEMU_NET_RESULT=broken QEMU_NET_REASON="counter went back: $QEMU_NET_SRC_LAST -> $QEMU_NET_DST_FIRST"
                else
                    QEMU_NET_RESULT=continues QEMU_NET_REASON="cnt $QEMU_NET_SRC_LAST -> $QEMU_NET_DST_FIRST"
                fi
            else
                n0=$(qemu_serial_count "$w/src.serial")
                sleep 0.5
                if [ "$QEMU_NET_SRC_STATE" = postmigrate ] &&
                    [ "$(qemu_serial_count "$w/src.serial")" -eq "$n0" ]; then
                    QEMU_NET_RESULT=paused QEMU_NET_REASON="source completed and paused ($QEMU_NET_SRC_STATE), destination $QEMU_NET_DST_STATE"
                    # can the operator resume it?
                    if qemu_qmp "$src" cont >/dev/null &&
                        _qemu_wait_cnt "$w/src.serial" $((n0 + 1)) "$timeout" "$src"; then
                        QEMU_NET_CONT=resumed
                    else
                        QEMU_NET_CONT="cont failed: $(tail -n1 "$QEMU_WORKDIR/$src/qmp.out")"
                    fi
                else
                    QEMU_NET_RESULT=broken QEMU_NET_REASON="source completed ($QEMU_NET_SRC_STATE), destination $QEMU_NET_DST_STATE"
                fi
            fi
        elif [ "$st" = failed ] || [ "$st" = cancelled ]; then
            sleep 0.3
            QEMU_NET_SRC_STATE=$(qemu_runstate "$src")
            n0=$(qemu_serial_count "$w/src.serial")
            ok=""
            if [ "$QEMU_NET_SRC_STATE" = running ]; then
                _qemu_wait_cnt "$w/src.serial" $((n0 + 1)) "$timeout" "$src" && ok=1
            fi
            for k in $(seq 1 40); do
                qemu_alive "$dst" || break
                sleep 0.05
            done
            QEMU_NET_DST_STATE=$(qemu_runstate "$dst")
            if [ "$QEMU_NET_SRC_STATE" != running ]; then
                QEMU_NET_RESULT=broken QEMU_NET_REASON="migration $st and source state '$QEMU_NET_SRC_STATE'"
            elif [ -z "$ok" ]; then
                QEMU_NET_RESULT=broken QEMU_NET_REASON="migration $st, source running but its counter stopped"
            elif [ "$QEMU_NET_DST_STATE" = running ]; then
                QEMU_NET_RESULT=broken QEMU_NET_REASON="migration $st but the destination runs"
            else
                QEMU_NET_RESULT=refused QEMU_NET_REASON="migration $st; source running and counting; destination $QEMU_NET_DST_STATE"
            fi
        elif [ "$st" = postcopy-paused ] || [ "$st" = postcopy-stuck ]; then
            sleep 0.3
            QEMU_NET_SRC_STATE=$(qemu_runstate "$src")
            for k in $(seq 1 40); do
                qemu_alive "$dst" || break
                sleep 0.05
            done
            QEMU_NET_DST_STATE=$(qemu_runstate "$dst")
            n0=$(qemu_serial_count "$w/src.serial")
            if qemu_qmp "$src" cont >/dev/null &&
                _qemu_wait_cnt "$w/src.serial" $((n0 + 1)) "$timeout" "$src"; then
                QEMU_NET_CONT=resumed
            else
                QEMU_NET_CONT="cont failed: $(tail -n1 "$QEMU_WORKDIR/$src/qmp.out")"
            fi
            QEMU_NET_RESULT=$st
            if [ "$st" = postcopy-stuck ]; then
                QEMU_NET_REASON="source stays postcopy-active with nobody left to talk to (QEMU 7.2 waits for its paused return-path thread) ($QEMU_NET_SRC_STATE), destination $QEMU_NET_DST_STATE"
            else
                QEMU_NET_REASON="source postcopy-paused ($QEMU_NET_SRC_STATE), destination $QEMU_NET_DST_STATE"
            fi
        else
            QEMU_NET_RESULT=broken QEMU_NET_REASON="source migration status '$st'"
        fi
    elif [ "$r" = error ]; then
        QEMU_NET_RESULT=error QEMU_NET_REASON="harness problem (see stderr)"
    else
        [ -n "$QEMU_NET_RESULT" ] || QEMU_NET_RESULT=broken
        QEMU_NET_REASON=$r
    fi
    [ -n "$QEMU_NET_SRC_STATE" ] || QEMU_NET_SRC_STATE=$(qemu_runstate "$src")
    [ -n "$QEMU_NET_DST_STATE" ] || QEMU_NET_DST_STATE=$(qemu_runstate "$dst")
    # proxies end by themselves once both sides have closed; the
    # destination stays up until here, so give them the timeout first
    QEMU_NET_PROXY_RC=""
    for ((i = 0; i < ${#hops[@]}; i++)); do
        if [ -z "${pids[$i]:-}" ]; then
            k=none
        elif [ -n "$kill" ] && [ "$i" -eq 0 ]; then
            wait "${pids[0]}" 2>/dev/null
            k=killed
        else
            qemu_net_reap "${pids[$i]}" "$timeout"
            k=$QEMU_NET_REAPED
        fi
        QEMU_NET_PROXY_RC="$QEMU_NET_PROXY_RC${QEMU_NET_PROXY_RC:+ }$k"
    done
    qemu_stop "$dst"
    QEMU_NET_DST_EXIT=$(cat "$QEMU_WORKDIR/$dst/exit" 2>/dev/null || true)
    qemu_stop "$src"
    QEMU_NET_MS=$(($(_qemu_now_ms) - t0))
    printf '%s %s net-migrate %s%s [%s]\n' "$QEMU_NET_MS" "$QEMU_NET_RESULT" "$transport" \
        "${caps[*]:+ ${caps[*]}}" "$(printf '%s|' "${hops[@]}")" >>"$QEMU_WORKDIR/timings"
    _qemu_log "net migrate: $QEMU_NET_RESULT ($QEMU_NET_REASON) proxies [$QEMU_NET_PROXY_RC] in ${QEMU_NET_MS} ms"
    echo "$QEMU_NET_RESULT"
    [ "$QEMU_NET_RESULT" = error ] && return 2
    return 0
}
