# shellcheck shell=bash
# shellcheck disable=SC2034  # QEMU_* result variables are for the caller
# tests/integration/qemu.sh - drive real QEMU (7.2) from integration tests.
#
# Source it from bash (>= 4.1; it uses `{fd}` redirections, `local`, arrays):
#
#     . "$srcdir/tests/integration/qemu.sh"
#     qemu_init                      # private temp dir + EXIT trap (see below)
#
# Needs: bash, socat (QMP over the unix socket), coreutils, util-linux
# (setsid), grep, sed, and QEMU itself.  No python.  Debian packages are
# listed in tests/integration/PACKAGES.
#
# ---------------------------------------------------------------------------
# Environment (all optional)
#   QEMU_AARCH64     binary used when a function is not given one
#                    (default: qemu-system-aarch64)
#   QEMU_TIMEOUT     seconds to wait for a migration / for the guest (20)
#   QEMU_GUEST_ELF   bare-metal guest (default: ../vectors/guest/guest.elf
#                    relative to this file, else $VECTORS/guest/guest.elf)
#   QEMU_KEEP=1      keep $QEMU_WORKDIR at exit (for debugging)
#   QEMU_FD3=1       qemu_load also writes "stderr=PATH" on fd 3
#   QEMU_VERBOSE=1   log what is done to stderr
#
# ---------------------------------------------------------------------------
# High-level functions
#
# qemu_load [OPTIONS] STREAM -- QEMU_ARGS...
#     Start QEMU as a migration destination with QEMU_ARGS plus
#       -incoming defer -qmp unix:SOCK,server=on,wait=off -display none
#       -monitor none
#     then over QMP: qmp_capabilities, the optional capabilities/parameters,
#     migrate-incoming {"uri": "exec:cat STREAM"}; poll query-migrate until
#     completed/failed, QEMU exits, or the timeout.  On "completed" the
#     guest is started with `cont` if it is not running yet (e.g. -S) and
#     must still be running 0.3 s later.  QEMU is always stopped (QMP quit,
#     then SIGTERM/SIGKILL to its process group) before returning.
#     Prints exactly one word on stdout:
#         loads   incoming migration completed and the VM runs
#         fails   it failed (QEMU exited, status "failed", timeout, or the
#                 VM does not run after the load)
#         error   harness problem (no QEMU binary, QMP never came up, bad
#                 usage) - never a verdict about the stream
#     Returns 0 for loads/fails, 2 for error (so `set -e` callers survive
#     a "fails").
#     Options:
#       -b BIN     QEMU binary (default $QEMU_AARCH64 or qemu-system-aarch64)
#       -c CAP     migrate-set-capabilities CAP=on before migrate-incoming
#                  (repeatable; e.g. -c compress for compress streams)
#       -p JSON    migrate-set-parameters with this arguments object
#                  (repeatable), e.g. -p '{"decompress-threads": 2}'
#       -e FILE    copy QEMU's stderr to FILE as well (useful inside $(...))
#       -t SECS    timeout (default $QEMU_TIMEOUT or 20)
#       -u URI     incoming URI to use instead of exec:cat STREAM
#                  (STREAM is then ignored; pass -)
#       -S         do not `cont` after the load: "loads" = completed only
#       -o FILE    implies -S: after a completed load, save the loaded,
#                  still paused VM again with migrate "exec:cat > FILE"
#                  (no single quote or backslash in FILE), so that what
#                  the destination holds after the load can be read back
#                  (`vmstream regs --json FILE`).  "loads" then also
#                  needs that save to complete with a non-empty FILE; a
#                  save that does not is a harness "error".  FILE is
#                  removed first, and left absent unless "loads".
#     STREAM may be any path (no single quote or backslash in it).
#     Afterwards (when not run in a subshell) these are set:
#       QEMU_RESULT   the word printed
#       QEMU_REASON   one line saying why (e.g. "qemu exited with status 1")
#       QEMU_STDERR   path of QEMU's stderr (kept until qemu_cleanup)
#       QEMU_MIGSTATUS last query-migrate status seen ("" if none)
#       QEMU_RUNSTATE query-status after the load ("dead" if QEMU exited)
#       QEMU_EXIT     QEMU's exit status ("" if it was still running)
#       QEMU_MS       wall time in ms from QEMU start to the verdict
#       QEMU_SAVED    with -o: FILE when the re-save completed, else ""
#     One line per call is appended to $QEMU_WORKDIR/timings:
#       "<ms> <word> <stream basename>"   (also from $(...) subshells)
#
# qemu_live_migrate [OPTIONS] [-- EXTRA_QEMU_ARGS...]
#     Live migration of the bare-metal test guest through a pipe filter.
#     Source: QEMU_ARGS = -M MACHINE -cpu CPU -smp SMP -m MEM -nographic
#     -display none -monitor none -serial file:SRC_LOG -kernel GUEST
#     [EXTRA_QEMU_ARGS].  Waits until SRC_LOG has N "cnt=" lines, starts the
#     destination (same command line with its own serial log) with
#     -incoming "exec:cat FIFO | FILTER" (or -incoming defer +
#     migrate-incoming with -D), sends migrate {"uri": "exec:cat > FIFO"}
#     to the source (with -F src the filter runs on the source side instead:
#     "exec:FILTER > FIFO" / "exec:cat FIFO"), waits for the source's
#     query-migrate to reach completed/failed, then judges.
#     FILTER is any /bin/sh command line reading the stream on stdin and
#     writing it on stdout, e.g. '"$VMSTREAM" convert --to v22 - -'; it runs
#     in its own session (setsid), its stderr goes to QEMU_MIG_FILTER_STDERR.
#     Prints exactly one word:
#         continues  source completed, destination running, its serial log
#                    has no boot banner and its first complete cnt= value is
#                    greater than the source's last one (cpu1 counter not
#                    going backwards either)
#         refused    source migration failed, source still running (and
#                    still counting), destination not running (exited or not
#                    in state "running")
#         broken     anything else (see QEMU_MIG_REASON)
#         error      harness problem
#     Without -K "continues" is the success; with -K "refused" is.
#     Returns 0 for continues/refused/broken, 2 for error.
#     Options:
#       -f FILTER  pipe filter (default: cat)
#       -F SIDE    dst (default: the destination's exec: runs the filter) or
#                  src (the source's migrate exec: runs it)
#       -K         kill the filter (SIGKILL to its process group) mid-stream:
#                  the source's bandwidth is limited (see -w) and the filter
#                  is killed once the source reports >= QEMU_KILL_AFTER
#                  bytes (default 131072) transferred; slow enough that a
#                  loaded machine still kills it before the end
#       -D         destination uses -incoming defer + QMP migrate-incoming
#       -b BIN     source binary;  -B BIN destination binary (default = -b)
#       -M MACH    machine (virt-7.2)
#       -c CPU     source -cpu (cortex-a57);  -C CPU destination -cpu
#       -s SMP     vCPUs (2);  -m MEM  RAM (64M)
#       -g ELF     guest (default $QEMU_GUEST_ELF)
#       -n N       cnt= lines in the source log before migrating (3)
#       -w BYTES   source max-bandwidth in bytes/s (default: QEMU's own,
#                  262144 with -K)
#       -x CAP     migration capability on both sides (repeatable, e.g.
#                  xbzrle)
#       -t SECS    timeout of each wait (default $QEMU_TIMEOUT or 20)
#     Afterwards (not from a subshell): QEMU_MIG_RESULT, QEMU_MIG_REASON,
#       QEMU_MIG_STATUS (source's final query-migrate status),
#       QEMU_MIG_SRC_STATE / QEMU_MIG_DST_STATE (query-status or "dead"),
#       QEMU_MIG_SRC_LAST / QEMU_MIG_DST_FIRST (hex cnt values),
#       QEMU_MIG_SRC_SERIAL / QEMU_MIG_DST_SERIAL (serial logs),
#       QEMU_MIG_SRC_STDERR / QEMU_MIG_DST_STDERR / QEMU_MIG_FILTER_STDERR,
#       QEMU_MIG_DOWNTIME_MS / QEMU_MIG_TOTAL_MS (source's query-migrate),
#       QEMU_MIG_MS (wall time of the whole function).
#     All files stay under $QEMU_WORKDIR until qemu_cleanup.
#     qemu_run_guest_and_migrate is another name for it.
#
# ---------------------------------------------------------------------------
# Building blocks (NAME = [A-Za-z0-9_]+, one QEMU per NAME at a time; every
# file of instance NAME lives in $QEMU_WORKDIR/NAME/)
#
# qemu_init            create $QEMU_WORKDIR (mktemp -d) unless set; install
#                      `trap qemu_cleanup EXIT` if no EXIT trap exists (else
#                      the caller must call qemu_cleanup).  Call it in the
#                      main shell before using $(...) around qemu_load, so
#                      the files outlive the subshell.
# qemu_cleanup         stop every instance still running, remove the workdir
#                      (unless QEMU_KEEP=1)
# qemu_start NAME BIN ARGS...
#                      start BIN ARGS -qmp unix:... -display none -monitor
#                      none in a new session, stdin </dev/null, stdout/stderr
#                      to files, connect QMP and send qmp_capabilities.
#                      Returns 0 when QMP answered, 1 if QEMU died first
#                      (stderr file tells why), 2 on harness errors.
# qemu_qmp NAME CMD [ARGS_JSON]
#                      send one command, print the response line; returns 0
#                      on "return", 1 on "error", 3 if QEMU/QMP died, 4 on
#                      timeout (QEMU_QMP_TIMEOUT, default 10 s)
# qemu_alive NAME      0 if the QEMU process still exists
# qemu_runstate NAME   print query-status "status" or "dead"
# qemu_migstatus NAME  print query-migrate "status" ("none" if empty) or "dead"
# qemu_wait_migration NAME SECS
#                      poll query-migrate until completed/failed/cancelled,
#                      QEMU exit or timeout; prints the final status
#                      (completed, failed, cancelled, dead, timeout)
# qemu_stop NAME       quit/kill the instance (and its exec: children), reap
#                      it; QEMU's exit status is then in $QEMU_WORKDIR/NAME/exit
# qemu_stderr NAME     print the path of the instance's stderr file
# qemu_serial_count FILE   number of complete cnt= values in a serial log
# qemu_serial_last FILE / qemu_serial_first FILE
#                      last / first "cnt=" value (16 hex digits) in a log
# ---------------------------------------------------------------------------

QEMU_TIMEOUT=${QEMU_TIMEOUT:-20}
QEMU_QMP_TIMEOUT=${QEMU_QMP_TIMEOUT:-10}
QEMU_KILL_AFTER=${QEMU_KILL_AFTER:-131072}
_QEMU_SEQ=0
_QEMU_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)
if [ -z "${QEMU_GUEST_ELF:-}" ]; then
    if [ -f "$_QEMU_LIBDIR/../vectors/guest/guest.elf" ]; then
        QEMU_GUEST_ELF=$(cd "$_QEMU_LIBDIR/../vectors/guest" && pwd)/guest.elf
    elif [ -n "${VECTORS:-}" ]; then
        QEMU_GUEST_ELF=$VECTORS/guest/guest.elf
    fi
fi

_qemu_log() { [ -n "${QEMU_VERBOSE:-}" ] && printf 'qemu.sh: %s\n' "$*" >&2; return 0; }
_qemu_err() { printf 'qemu.sh: %s\n' "$*" >&2; }
_qemu_now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }

qemu_init() {
    if [ -n "${QEMU_WORKDIR:-}" ] && [ -d "$QEMU_WORKDIR" ]; then
        return 0
    fi
    QEMU_WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/qemu-it.XXXXXX") || return 2
    export QEMU_WORKDIR
    : >"$QEMU_WORKDIR/timings"
    if [ -z "$(trap -p EXIT)" ]; then
        trap 'qemu_cleanup' EXIT
    fi
    _qemu_log "workdir $QEMU_WORKDIR"
}

qemu_cleanup() {
    local d n
    [ -n "${QEMU_WORKDIR:-}" ] && [ -d "$QEMU_WORKDIR" ] || return 0
    for d in "$QEMU_WORKDIR"/*/; do
        [ -f "$d/pid" ] || continue
        n=$(basename "$d")
        qemu_stop "$n" >/dev/null 2>&1 || true
    done
    if [ -z "${QEMU_KEEP:-}" ]; then
        rm -rf "$QEMU_WORKDIR"
    else
        _qemu_err "keeping $QEMU_WORKDIR"
    fi
}

qemu_stderr() { printf '%s\n' "$QEMU_WORKDIR/$1/stderr"; }

qemu_alive() {
    local d=$QEMU_WORKDIR/$1 pid
    [ -s "$d/pid" ] || return 1
    [ -e "$d/exit" ] && return 1
    pid=$(cat "$d/pid")
    kill -0 "$pid" 2>/dev/null
}

# _qemu_fd NAME -> print the shell fd number of NAME's QMP input fifo
_qemu_fd() { local v="_QEMU_FD_$1"; printf '%s' "${!v:-}"; }

qemu_start() {
    local name=$1 bin=$2 d i fd spid
    shift 2
    case $name in ''|*[!A-Za-z0-9_]*) _qemu_err "bad instance name '$name'"; return 2;; esac
    qemu_init || return 2
    d=$QEMU_WORKDIR/$name
    if [ -f "$d/pid" ]; then qemu_stop "$name" >/dev/null 2>&1; fi
    rm -rf "$d" && mkdir -p "$d" || return 2
    if ! command -v "$bin" >/dev/null 2>&1; then
        _qemu_err "QEMU binary '$bin' not found"
        return 2
    fi
    if ! command -v socat >/dev/null 2>&1; then
        _qemu_err "socat not found (apt-get install socat)"
        return 2
    fi
    printf '%q ' "$bin" "$@" -qmp "unix:$d/qmp.sock,server=on,wait=off" \
        -display none -monitor none >"$d/cmdline"
    echo >>"$d/cmdline"
    _qemu_log "start $name: $(cat "$d/cmdline")"
    # New session: the whole process group (QEMU, its exec: children) can
    # be killed at once.  The sh records its pid (= pgid) and QEMU's status.
    setsid sh -c 'echo $$ >"$0/pid.tmp" && mv "$0/pid.tmp" "$0/pid"; "$@"; echo $? >"$0/exit"' \
        "$d" "$bin" "$@" -qmp "unix:$d/qmp.sock,server=on,wait=off" \
        -display none -monitor none \
        </dev/null >"$d/stdout" 2>"$d/stderr" 3>&- &
    echo $! >"$d/bgpid"
    for i in $(seq 1 200); do
        [ -s "$d/pid" ] && break
        sleep 0.05
    done
    [ -s "$d/pid" ] || { _qemu_err "$name: QEMU did not start"; return 2; }
    for i in $(seq 1 $((QEMU_QMP_TIMEOUT * 20))); do
        [ -S "$d/qmp.sock" ] && break
        qemu_alive "$name" || break
        sleep 0.05
    done
    if ! [ -S "$d/qmp.sock" ]; then
        if qemu_alive "$name"; then
            _qemu_err "$name: no QMP socket after ${QEMU_QMP_TIMEOUT}s"
            return 2
        fi
        _qemu_log "$name: QEMU exited before QMP came up"
        return 1
    fi
    # The socket file exists after bind() but connect() is refused until
    # listen(): wait until a probe connection gets through.
    for i in $(seq 1 40); do
        socat -u OPEN:/dev/null "UNIX-CONNECT:$d/qmp.sock" 2>/dev/null && break
        qemu_alive "$name" || break
        sleep 0.05
    done
    mkfifo "$d/qmp.in" || return 2
    : >"$d/qmp.out"
    socat -t 2 STDIO "UNIX-CONNECT:$d/qmp.sock" \
        <"$d/qmp.in" >>"$d/qmp.out" 2>"$d/socat.err" 3>&- &
    spid=$!
    echo "$spid" >"$d/socat.pid"
    # read-write open of the fifo never blocks
    exec {fd}<>"$d/qmp.in"
    printf -v "_QEMU_FD_$name" '%s' "$fd"
    if ! qemu_qmp "$name" qmp_capabilities >/dev/null; then
        if qemu_alive "$name"; then
            _qemu_err "$name: QMP handshake failed"
            return 2
        fi
        return 1
    fi
    return 0
}

qemu_qmp() {
    local name=$1 cmd=$2 args=${3:-} d=$QEMU_WORKDIR/$1 fd id json line t0 spid
    fd=$(_qemu_fd "$name")
    [ -n "$fd" ] || return 3
    _QEMU_SEQ=$((_QEMU_SEQ + 1))
    id="t$BASHPID.$_QEMU_SEQ.$RANDOM"
    if [ -n "$args" ]; then
        json="{\"execute\": \"$cmd\", \"arguments\": $args, \"id\": \"$id\"}"
    else
        json="{\"execute\": \"$cmd\", \"id\": \"$id\"}"
    fi
    printf '%s\n' "$json" >>"$d/qmp.log"
    { printf '%s\n' "$json" >&"$fd"; } 2>/dev/null || return 3
    spid=$(cat "$d/socat.pid" 2>/dev/null || true)
    t0=$(_qemu_now_ms)
    while :; do
        line=$(grep -F -m1 "\"id\": \"$id\"" "$d/qmp.out" || true)
        [ -n "$line" ] && break
        if ! qemu_alive "$name" || ! kill -0 "$spid" 2>/dev/null; then
            # one last look: the answer may have arrived just before the end
            line=$(grep -F -m1 "\"id\": \"$id\"" "$d/qmp.out" || true)
            [ -n "$line" ] && break
            return 3
        fi
        if [ $(($(_qemu_now_ms) - t0)) -gt $((QEMU_QMP_TIMEOUT * 1000)) ]; then
            return 4
        fi
        sleep 0.02
    done
    printf '%s\n' "$line"
    case $line in *'"error"'*) return 1 ;; esac
    return 0
}

# _qemu_field JSONLINE KEY -> first "KEY": "string" or number value
_qemu_field() {
    { printf '%s\n' "$1" | grep -o "\"$2\": \"\{0,1\}[^\",}]*" || true; } |
        head -n1 | sed 's/.*: "\{0,1\}//'
}

qemu_runstate() {
    local r
    qemu_alive "$1" || { echo dead; return 0; }
    r=$(qemu_qmp "$1" query-status) || { echo dead; return 0; }
    _qemu_field "$r" status
}

qemu_migstatus() {
    local r s
    qemu_alive "$1" || { echo dead; return 0; }
    r=$(qemu_qmp "$1" query-migrate) || { echo dead; return 0; }
    printf '%s\n' "$r" >"$QEMU_WORKDIR/$1/last-query-migrate"
    s=$(_qemu_field "$r" status)
    echo "${s:-none}"
}

qemu_wait_migration() {
    local name=$1 secs=${2:-$QEMU_TIMEOUT} t0 s
    t0=$(_qemu_now_ms)
    while :; do
        s=$(qemu_migstatus "$name")
        case $s in
        completed|failed|cancelled|dead) echo "$s"; return 0 ;;
        esac
        if [ $(($(_qemu_now_ms) - t0)) -gt $((secs * 1000)) ]; then
            echo timeout
            return 0
        fi
        sleep 0.05
    done
}

qemu_stop() {
    local name=$1 d=$QEMU_WORKDIR/$1 pid fd spid i bg
    [ -f "$d/pid" ] || return 0
    pid=$(cat "$d/pid")
    if qemu_alive "$name"; then
        QEMU_QMP_TIMEOUT=2 qemu_qmp "$name" quit >/dev/null 2>&1 || true
        for i in $(seq 1 40); do
            qemu_alive "$name" || break
            sleep 0.05
        done
    fi
    # the whole group: QEMU and whatever its exec: URIs started
    if kill -0 -- "-$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || true
        for i in $(seq 1 40); do
            kill -0 -- "-$pid" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    # a pipe filter started with setsid by qemu_live_migrate
    if [ -s "$d/filter.pid" ]; then
        kill -KILL -- "-$(cat "$d/filter.pid")" 2>/dev/null || true
    fi
    spid=$(cat "$d/socat.pid" 2>/dev/null || true)
    if [ -n "$spid" ]; then
        kill "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
    fi
    fd=$(_qemu_fd "$name")
    if [ -n "$fd" ]; then
        exec {fd}>&-
        unset "_QEMU_FD_$name"
    fi
    bg=$(cat "$d/bgpid" 2>/dev/null || true)
    if [ -n "$bg" ]; then wait "$bg" 2>/dev/null || true; fi
    rm -f "$d/pid" "$d/socat.pid" "$d/qmp.in" "$d/qmp.sock"
    echo "$pid" >"$d/pid.stopped"
    return 0
}

_qemu_cnts() { grep -o 'cnt=[0-9a-f]\{16\}' "$1" 2>/dev/null || true; }
_qemu_cnt1s() { grep -o 'cnt=[0-9a-f]\{16\} cpu1=[0-9a-f]\{16\}' "$1" 2>/dev/null || true; }
qemu_serial_count() { _qemu_cnts "$1" | wc -l; }
qemu_serial_last() { _qemu_cnts "$1" | tail -n1 | cut -c5-; }
qemu_serial_first() { _qemu_cnts "$1" | head -n1 | cut -c5-; }
_qemu_cpu1_last() { _qemu_cnt1s "$1" | tail -n1 | cut -c27-; }
_qemu_cpu1_first() { _qemu_cnt1s "$1" | head -n1 | cut -c27-; }

# _qemu_json_str S -> S as a JSON string body (escapes \ and ")
_qemu_json_str() { local s=${1//\\/\\\\}; printf '%s' "${s//\"/\\\"}"; }

_qemu_set_caps() {   # NAME CAP...
    local name=$1 c list=""
    shift
    [ $# -gt 0 ] || return 0
    for c in "$@"; do
        list="$list${list:+, }{\"capability\": \"$c\", \"state\": true}"
    done
    qemu_qmp "$name" migrate-set-capabilities "{\"capabilities\": [$list]}" >/dev/null
}

qemu_load() {
    local bin=${QEMU_AARCH64:-qemu-system-aarch64} timeout=$QEMU_TIMEOUT
    local efile="" uri="" nocont="" save="" opt stream name d t0 st rs r rc
    local -a caps=() params=()
    local OPTIND=1 OPTARG
    while getopts "b:c:p:e:t:u:So:" opt; do
        case $opt in
        b) bin=$OPTARG ;;
        c) caps+=("$OPTARG") ;;
        p) params+=("$OPTARG") ;;
        e) efile=$OPTARG ;;
        t) timeout=$OPTARG ;;
        u) uri=$OPTARG ;;
        S) nocont=1 ;;
        o) save=$OPTARG nocont=1 ;;
        *) echo error; return 2 ;;
        esac
    done
    shift $((OPTIND - 1))
    stream=${1:-}
    if [ $# -lt 2 ] || [ "$2" != "--" ]; then
        _qemu_err "usage: qemu_load [-b BIN] [-c CAP]... [-p JSON]... [-e FILE] [-t SECS] [-u URI] [-S] [-o FILE] STREAM -- QEMU_ARGS..."
        echo error
        return 2
    fi
    QEMU_SAVED=""
    if [ -n "$save" ]; then
        case $save in *\'*|*\\*)
            _qemu_err "save path with quotes/backslash not supported: $save"
            echo error; return 2 ;;
        esac
        rm -f -- "$save"
    fi
    shift 2
    qemu_init || { echo error; return 2; }
    if [ -z "$uri" ]; then
        case $stream in *\'*|*\\*|*\"*)
            _qemu_err "stream path with quotes/backslash not supported: $stream"
            echo error; return 2 ;;
        esac
        if [ ! -r "$stream" ]; then
            _qemu_err "stream $stream not readable"
            echo error; return 2
        fi
        uri="exec:cat '$stream'"
    fi
    _QEMU_SEQ=$((_QEMU_SEQ + 1))
    name="load_${BASHPID}_$_QEMU_SEQ"
    d=$QEMU_WORKDIR/$name
    QEMU_RESULT="" QEMU_REASON="" QEMU_MIGSTATUS="" QEMU_RUNSTATE="" QEMU_EXIT=""
    QEMU_STDERR=$d/stderr
    t0=$(_qemu_now_ms)
    rc=0
    qemu_start "$name" "$bin" "$@" -incoming defer || rc=$?
    if [ $rc -eq 0 ]; then
        r=ok
        if [ ${#caps[@]} -gt 0 ] && ! _qemu_set_caps "$name" "${caps[@]}"; then
            r="migrate-set-capabilities ${caps[*]} failed"
        fi
        for opt in "${params[@]}"; do
            [ "$r" = ok ] || break
            qemu_qmp "$name" migrate-set-parameters "$opt" >/dev/null ||
                r="migrate-set-parameters $opt failed"
        done
        if [ "$r" = ok ]; then
            rc=0
            qemu_qmp "$name" migrate-incoming "{\"uri\": \"$(_qemu_json_str "$uri")\"}" >/dev/null || rc=$?
            case $rc in
            0) ;;
            1) r="migrate-incoming refused: $(tail -n1 "$d/qmp.out")" ;;
            *) ;;  # QEMU died already: judged below
            esac
        fi
        if [ "$r" != ok ]; then
            QEMU_RESULT=error QEMU_REASON=$r
        else
            st=$(qemu_wait_migration "$name" "$timeout")
            QEMU_MIGSTATUS=$(_qemu_field "$(cat "$d/last-query-migrate" 2>/dev/null || true)" status)
            case $st in
            completed)
                rs=$(qemu_runstate "$name")
                if [ -z "$nocont" ] && [ "$rs" != running ] && [ "$rs" != dead ]; then
                    qemu_qmp "$name" cont >/dev/null
                    sleep 0.3
                    rs=$(qemu_runstate "$name")
                    if [ "$rs" = running ]; then
                        QEMU_RESULT=loads QEMU_REASON="completed, running after cont"
                    else
                        QEMU_RESULT=fails QEMU_REASON="completed, but state '$rs' after cont"
                    fi
                elif [ -n "$save" ] && [ "$rs" != dead ]; then
                    _qemu_resave "$name" "$save" "$timeout"
                    if [ -n "$QEMU_SAVED" ]; then
                        QEMU_RESULT=loads QEMU_REASON="completed (state $rs), saved again"
                    else
                        rm -f -- "$save"
                        QEMU_RESULT=error QEMU_REASON="completed (state $rs), but saving it again failed: $_QEMU_RESAVE_WHY"
                    fi
                elif [ -n "$nocont" ] && [ "$rs" != dead ]; then
                    QEMU_RESULT=loads QEMU_REASON="completed (state $rs)"
                elif [ "$rs" = running ]; then
                    sleep 0.3
                    rs=$(qemu_runstate "$name")
                    if [ "$rs" = running ]; then
                        QEMU_RESULT=loads QEMU_REASON="completed, running"
                    else
                        QEMU_RESULT=fails QEMU_REASON="completed, then state '$rs'"
                    fi
                else
                    QEMU_RESULT=fails QEMU_REASON="completed, then QEMU exited"
                fi
                QEMU_RUNSTATE=$rs
                ;;
            failed|cancelled) QEMU_RESULT=fails QEMU_REASON="incoming migration $st" ;;
            dead) QEMU_RESULT=fails QEMU_REASON="qemu exited during the load" ;;
            timeout) QEMU_RESULT=fails QEMU_REASON="no verdict after ${timeout}s" ;;
            *) QEMU_RESULT=fails QEMU_REASON="migration status '$st'" ;;
            esac
        fi
    elif [ $rc -eq 1 ]; then
        QEMU_RESULT=fails QEMU_REASON="qemu exited before QMP was up"
    else
        QEMU_RESULT=error QEMU_REASON="could not start QEMU"
    fi
    [ -n "$QEMU_RUNSTATE" ] || QEMU_RUNSTATE=$(qemu_runstate "$name")
    qemu_stop "$name"
    QEMU_MS=$(($(_qemu_now_ms) - t0))
    QEMU_EXIT=$(cat "$d/exit" 2>/dev/null || true)
    case $QEMU_REASON in
    *"qemu exited"*) QEMU_REASON="$QEMU_REASON (status ${QEMU_EXIT:-?})" ;;
    esac
    if [ -n "$efile" ]; then cp "$QEMU_STDERR" "$efile" 2>/dev/null || true; fi
    printf '%s %s %s\n' "$QEMU_MS" "$QEMU_RESULT" "$(basename -- "${stream:--}")" \
        >>"$QEMU_WORKDIR/timings"
    printf '%s %s %s\n' "$QEMU_RESULT" "$QEMU_MS" "$QEMU_REASON" >"$d/result"
    if [ -n "${QEMU_FD3:-}" ]; then
        { printf 'stderr=%s\n' "$QEMU_STDERR" >&3; } 2>/dev/null || true
    fi
    _qemu_log "load $stream: $QEMU_RESULT ($QEMU_REASON) in ${QEMU_MS} ms"
    echo "$QEMU_RESULT"
    [ "$QEMU_RESULT" = error ] && return 2
    return 0
}

# _qemu_resave NAME FILE SECS: migrate "exec:cat > FILE" from the (paused)
# instance NAME; sets QEMU_SAVED=FILE on success, else _QEMU_RESAVE_WHY.
# QEMU may report "completed" before its exec: child has finished writing,
# so the child writes FILE.part and renames it once cat is done.
_qemu_resave() {
    local name=$1 file=$2 secs=$3 st t0
    _QEMU_RESAVE_WHY=""
    rm -f -- "$file.part"
    if ! qemu_qmp "$name" migrate \
        "{\"uri\": \"$(_qemu_json_str "exec:cat > '$file.part' && mv '$file.part' '$file'")\"}" >/dev/null; then
        _QEMU_RESAVE_WHY="migrate refused: $(tail -n1 "$QEMU_WORKDIR/$name/qmp.out")"
        return 1
    fi
    st=$(qemu_wait_migration "$name" "$secs")
    if [ "$st" != completed ]; then
        _QEMU_RESAVE_WHY="outgoing migration '$st'"
        return 1
    fi
    t0=$(_qemu_now_ms)
    while [ ! -e "$file" ] && [ $(($(_qemu_now_ms) - t0)) -lt $((secs * 1000)) ]; do
        sleep 0.02
    done
    if [ ! -s "$file" ]; then
        _QEMU_RESAVE_WHY="outgoing migration completed, but $file is missing or empty"
        return 1
    fi
    QEMU_SAVED=$file
}

# the name used in the test plan
qemu_run_guest_and_migrate() { qemu_live_migrate "$@"; }

# _qemu_wait_cnt LOG N SECS [NAME] -> 0 when LOG has >= N cnt= values
_qemu_wait_cnt() {
    local log=$1 n=$2 secs=$3 name=${4:-} t0
    t0=$(_qemu_now_ms)
    while [ "$(qemu_serial_count "$log")" -lt "$n" ]; do
        [ -n "$name" ] && ! qemu_alive "$name" && return 1
        [ $(($(_qemu_now_ms) - t0)) -gt $((secs * 1000)) ] && return 1
        sleep 0.05
    done
    return 0
}

qemu_live_migrate() {
    local filter=cat side=dst kill="" defer="" bin=${QEMU_AARCH64:-qemu-system-aarch64} dbin=""
    local mach=virt-7.2 cpu=cortex-a57 dcpu="" smp=2 mem=64M elf=${QEMU_GUEST_ELF:-}
    local nlines=3 bw="" timeout=$QEMU_TIMEOUT opt rc
    local -a xcaps=() extra=() common=()
    local OPTIND=1 OPTARG
    while getopts "f:F:KDb:B:M:c:C:s:m:g:n:w:x:t:" opt; do
        case $opt in
        f) filter=$OPTARG ;;
        F) side=$OPTARG ;;
        K) kill=1 ;;
        D) defer=1 ;;
        b) bin=$OPTARG ;;
        B) dbin=$OPTARG ;;
        M) mach=$OPTARG ;;
        c) cpu=$OPTARG ;;
        C) dcpu=$OPTARG ;;
        s) smp=$OPTARG ;;
        m) mem=$OPTARG ;;
        g) elf=$OPTARG ;;
        n) nlines=$OPTARG ;;
        w) bw=$OPTARG ;;
        x) xcaps+=("$OPTARG") ;;
        t) timeout=$OPTARG ;;
        *) echo error; return 2 ;;
        esac
    done
    shift $((OPTIND - 1))
    [ "${1:-}" = "--" ] && shift
    extra=("$@")
    : "${dbin:=$bin}" "${dcpu:=$cpu}"
    [ -n "$kill" ] && : "${bw:=262144}"
    case $side in src|dst) ;; *) _qemu_err "-F src|dst"; echo error; return 2 ;; esac
    QEMU_MIG_RESULT="" QEMU_MIG_REASON="" QEMU_MIG_STATUS="" QEMU_MIG_SRC_STATE=""
    QEMU_MIG_DST_STATE="" QEMU_MIG_SRC_LAST="" QEMU_MIG_DST_FIRST=""
    QEMU_MIG_DOWNTIME_MS="" QEMU_MIG_TOTAL_MS="" QEMU_MIG_MS=""
    if [ -z "$elf" ] || [ ! -r "$elf" ]; then
        _qemu_err "guest ELF '$elf' not found (set QEMU_GUEST_ELF)"
        echo error; return 2
    fi
    qemu_init || { echo error; return 2; }
    _QEMU_SEQ=$((_QEMU_SEQ + 1))
    local tag="mig_${BASHPID}_$_QEMU_SEQ" src dst w t0 uri_src uri_dst st r q xfer fpid n0 ok
    src=${tag}_src dst=${tag}_dst w=$QEMU_WORKDIR/$tag
    mkdir -p "$w" && mkfifo "$w/stream.fifo" || { echo error; return 2; }
    QEMU_MIG_SRC_SERIAL=$w/src.serial QEMU_MIG_DST_SERIAL=$w/dst.serial
    QEMU_MIG_FILTER_STDERR=$w/filter.stderr
    QEMU_MIG_SRC_STDERR=$QEMU_WORKDIR/$src/stderr QEMU_MIG_DST_STDERR=$QEMU_WORKDIR/$dst/stderr
    : >"$w/src.serial"; : >"$w/dst.serial"; : >"$w/filter.stderr"
    # the filter runs in its own session so that it alone can be killed
    {
        echo 'echo $$ >"$0.pid.tmp" && mv "$0.pid.tmp" "$0.pid"'
        printf 'exec 2>>%q\n' "$w/filter.stderr"
        printf '%s\n' "$filter"
    } >"$w/filter.sh"
    if [ "$side" = dst ]; then
        uri_src="exec:cat > '$w/stream.fifo'"
        uri_dst="exec:cat '$w/stream.fifo' | setsid /bin/sh '$w/filter.sh'"
    else
        uri_src="exec:setsid /bin/sh '$w/filter.sh' > '$w/stream.fifo'"
        uri_dst="exec:cat '$w/stream.fifo'"
    fi
    common=(-M "$mach" -smp "$smp" -m "$mem" -nographic -kernel "$elf")
    t0=$(_qemu_now_ms)
    r=""
    # --- source
    rc=0
    qemu_start "$src" "$bin" "${common[@]}" -cpu "$cpu" \
        -serial "file:$w/src.serial" "${extra[@]}" || rc=$?
    case $rc in
    0) ;;
    1) r="source QEMU exited at start: $(head -n3 "$QEMU_MIG_SRC_STDERR" | tr '\n' ' ')" ;;
    *) r=error ;;
    esac
    if [ -z "$r" ] && ! _qemu_wait_cnt "$w/src.serial" "$nlines" "$timeout" "$src"; then
        r="source guest printed fewer than $nlines cnt= lines in ${timeout}s"
    fi
    if [ -z "$r" ] && [ ${#xcaps[@]} -gt 0 ] && ! _qemu_set_caps "$src" "${xcaps[@]}"; then
        r="source: migrate-set-capabilities ${xcaps[*]} failed"
    fi
    if [ -z "$r" ] && [ -n "$bw" ] &&
        ! qemu_qmp "$src" migrate-set-parameters "{\"max-bandwidth\": $bw}" >/dev/null; then
        r="source: migrate-set-parameters max-bandwidth failed"
    fi
    # --- destination
    if [ -z "$r" ]; then
        rc=0
        if [ -n "$defer" ]; then
            qemu_start "$dst" "$dbin" "${common[@]}" -cpu "$dcpu" \
                -serial "file:$w/dst.serial" "${extra[@]}" -incoming defer || rc=$?
        else
            qemu_start "$dst" "$dbin" "${common[@]}" -cpu "$dcpu" \
                -serial "file:$w/dst.serial" "${extra[@]}" -incoming "$uri_dst" || rc=$?
        fi
        case $rc in
        0) ;;
        1) r="destination QEMU exited at start: $(head -n3 "$QEMU_MIG_DST_STDERR" | tr '\n' ' ')" ;;
        *) r=error ;;
        esac
    fi
    if [ -z "$r" ] && [ ${#xcaps[@]} -gt 0 ] && ! _qemu_set_caps "$dst" "${xcaps[@]}"; then
        r="destination: migrate-set-capabilities ${xcaps[*]} failed"
    fi
    if [ -z "$r" ] && [ -n "$defer" ] &&
        ! qemu_qmp "$dst" migrate-incoming "{\"uri\": \"$(_qemu_json_str "$uri_dst")\"}" >/dev/null; then
        r="destination: migrate-incoming failed"
    fi
    # --- migrate
    if [ -z "$r" ]; then
        n0=$(qemu_serial_count "$w/src.serial")
        QEMU_MIG_SRC_LAST=""
        if ! qemu_qmp "$src" migrate "{\"uri\": \"$(_qemu_json_str "$uri_src")\"}" >/dev/null; then
            r="source: migrate command refused: $(tail -n1 "$QEMU_WORKDIR/$src/qmp.out")"
        fi
    fi
    if [ -z "$r" ] && [ -n "$kill" ]; then
        # wait until some of the stream went through, then kill the filter
        local tk
        tk=$(_qemu_now_ms)
        while :; do
            st=$(qemu_migstatus "$src")
            q=$(cat "$QEMU_WORKDIR/$src/last-query-migrate" 2>/dev/null || true)
            xfer=$(printf '%s\n' "$q" | sed -n 's/.*"ram": {[^}]*"transferred": \([0-9]*\).*/\1/p')
            case $st in
            completed|failed|cancelled|dead) break ;;
            esac
            [ "${xfer:-0}" -ge "$QEMU_KILL_AFTER" ] && [ -s "$w/filter.sh.pid" ] && break
            [ $(($(_qemu_now_ms) - tk)) -gt $((timeout * 1000)) ] && { st=timeout; break; }
            sleep 0.02
        done
        case $st in
        active|setup|device|pre-switchover|none)
            fpid=$(cat "$w/filter.sh.pid")
            _qemu_log "killing filter group $fpid after ${xfer:-?} bytes"
            kill -KILL -- "-$fpid" 2>/dev/null || true
            echo "$(date +%s%N) killed after ${xfer:-?} bytes" >>"$w/kill.log"
            ;;
        *) r="migration was '$st' before the filter could be killed (raise -w / QEMU_KILL_AFTER?)" ;;
        esac
    fi
    if [ -z "$r" ]; then
        st=$(qemu_wait_migration "$src" "$timeout")
        QEMU_MIG_STATUS=$st
        q=$(cat "$QEMU_WORKDIR/$src/last-query-migrate" 2>/dev/null || true)
        QEMU_MIG_DOWNTIME_MS=$(printf '%s\n' "$q" | sed -n 's/.*"downtime": \([0-9]*\).*/\1/p')
        QEMU_MIG_TOTAL_MS=$(printf '%s\n' "$q" | sed -n 's/.*"total-time": \([0-9]*\).*/\1/p')
        QEMU_MIG_SRC_LAST=$(qemu_serial_last "$w/src.serial")
        if [ "$st" = completed ]; then
            # destination must come up and print at least one complete line
            _qemu_wait_cnt "$w/dst.serial" 1 "$timeout" "$dst" || true
            sleep 0.2
            QEMU_MIG_DST_STATE=$(qemu_runstate "$dst")
            QEMU_MIG_SRC_STATE=$(qemu_runstate "$src")
            QEMU_MIG_DST_FIRST=$(qemu_serial_first "$w/dst.serial")
            local c1s c1d
            c1s=$(_qemu_cpu1_last "$w/src.serial") c1d=$(_qemu_cpu1_first "$w/dst.serial")
            if [ -n "$kill" ]; then
                QEMU_MIG_RESULT=broken QEMU_MIG_REASON="migration completed although the filter was killed"
            elif [ "$QEMU_MIG_DST_STATE" != running ]; then
                QEMU_MIG_RESULT=broken QEMU_MIG_REASON="destination state '$QEMU_MIG_DST_STATE' after completed migration"
            elif grep -q GUEST-BOOT "$w/dst.serial"; then
                QEMU_MIG_RESULT=broken QEMU_MIG_REASON="destination guest rebooted (banner in its serial log)"
            elif [ -z "$QEMU_MIG_DST_FIRST" ] || [ -z "$QEMU_MIG_SRC_LAST" ]; then
                QEMU_MIG_RESULT=broken QEMU_MIG_REASON="no cnt= line (source last '${QEMU_MIG_SRC_LAST}', destination first '${QEMU_MIG_DST_FIRST}')"
            elif [ $((16#$QEMU_MIG_DST_FIRST)) -le $((16#$QEMU_MIG_SRC_LAST)) ]; then
                QEMU_MIG_RESULT=broken QEMU_MIG_REASON="counter went back: source last $QEMU_MIG_SRC_LAST, destination first $QEMU_MIG_DST_FIRST"
            elif [ -n "$c1s" ] && [ -n "$c1d" ] && [ $((16#$c1d)) -lt $((16#$c1s)) ]; then
                QEMU_MIG_RESULT=broken QEMU_MIG_REASON="cpu1 counter went back: $c1s -> $c1d"
            else
                QEMU_MIG_RESULT=continues QEMU_MIG_REASON="cnt $QEMU_MIG_SRC_LAST -> $QEMU_MIG_DST_FIRST"
            fi
        elif [ "$st" = failed ] || [ "$st" = cancelled ]; then
            sleep 0.3
            QEMU_MIG_SRC_STATE=$(qemu_runstate "$src")
            # the source should keep counting after the failed attempt
            n0=$(qemu_serial_count "$w/src.serial")
            ok=""
            if [ "$QEMU_MIG_SRC_STATE" = running ]; then
                _qemu_wait_cnt "$w/src.serial" $((n0 + 1)) "$timeout" "$src" && ok=1
            fi
            # the destination must not run: wait for it to exit (QEMU 7.2
            # exits on a failed incoming migration) or settle
            local i
            for i in $(seq 1 40); do
                qemu_alive "$dst" || break
                sleep 0.05
            done
            QEMU_MIG_DST_STATE=$(qemu_runstate "$dst")
            if [ "$QEMU_MIG_SRC_STATE" != running ]; then
                QEMU_MIG_RESULT=broken QEMU_MIG_REASON="migration $st and source state is '$QEMU_MIG_SRC_STATE'"
            elif [ -z "$ok" ]; then
                QEMU_MIG_RESULT=broken QEMU_MIG_REASON="migration $st, source 'running' but its counter stopped"
            elif [ "$QEMU_MIG_DST_STATE" = running ]; then
                QEMU_MIG_RESULT=broken QEMU_MIG_REASON="migration $st but the destination is running"
            else
                QEMU_MIG_RESULT=refused QEMU_MIG_REASON="migration $st; source running; destination ${QEMU_MIG_DST_STATE}"
            fi
        else
            QEMU_MIG_SRC_STATE=$(qemu_runstate "$src")
            QEMU_MIG_DST_STATE=$(qemu_runstate "$dst")
            QEMU_MIG_RESULT=broken QEMU_MIG_REASON="source migration status '$st'"
        fi
    elif [ "$r" = error ]; then
        QEMU_MIG_RESULT=error QEMU_MIG_REASON="could not start QEMU"
    else
        QEMU_MIG_RESULT=broken QEMU_MIG_REASON=$r
    fi
    [ -n "$QEMU_MIG_SRC_STATE" ] || QEMU_MIG_SRC_STATE=$(qemu_runstate "$src")
    [ -n "$QEMU_MIG_DST_STATE" ] || QEMU_MIG_DST_STATE=$(qemu_runstate "$dst")
    qemu_stop "$dst"
    qemu_stop "$src"
    if [ -s "$w/filter.sh.pid" ]; then
        kill -KILL -- "-$(cat "$w/filter.sh.pid")" 2>/dev/null || true
    fi
    QEMU_MIG_MS=$(($(_qemu_now_ms) - t0))
    printf '%s %s live-migrate%s%s\n' "$QEMU_MIG_MS" "$QEMU_MIG_RESULT" \
        "${kill:+ (filter killed)}" " [$filter]" >>"$QEMU_WORKDIR/timings"
    printf '%s %s %s\n' "$QEMU_MIG_RESULT" "$QEMU_MIG_MS" "$QEMU_MIG_REASON" >"$w/result"
    _qemu_log "live migrate [$filter]: $QEMU_MIG_RESULT ($QEMU_MIG_REASON) in ${QEMU_MIG_MS} ms"
    echo "$QEMU_MIG_RESULT"
    [ "$QEMU_MIG_RESULT" = error ] && return 2
    return 0
}
