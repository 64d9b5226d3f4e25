# shellcheck shell=bash
# shellcheck disable=SC2034  # LIBVIRT_* result variables are for the caller
# tests/integration/libvirt.sh - run a real libvirtd (Debian 12: libvirt 9.0
# with QEMU 7.2) in a scratch setup, for tests of libvirt save images.
#
# Source it from bash (>= 4.1):
#
#     . "$srcdir/tests/integration/libvirt.sh"
#     libvirt_init                   # private temp dir + EXIT trap
#     libvirt_start raw              # virtlogd + libvirtd, save_image_format
#     libvirt_guest g                # TCG aarch64 guest running guest.elf
#     libvirt_wait_cnt g 3           # until its serial log shows 3 cnt= lines
#     libvirt_virsh save g "$LIBVIRT_WORKDIR/g.img"
#     libvirt_virsh restore "$LIBVIRT_WORKDIR/g.img"
#     libvirt_continues g            # counter goes on after the restore?
#
# Must run as root (libvirtd's privileged qemu:///system driver, mounts).
# Needs: libvirt-daemon, libvirt-daemon-driver-qemu, libvirt-clients,
# qemu-system-arm, util-linux (unshare, nsenter, mount), coreutils, grep,
# sed, and the compressors gzip, bzip2, xz-utils, lzop for the compressed
# save_image_formats.  Debian packages: tests/integration/PACKAGES.
#
# ---------------------------------------------------------------------------
# Scratch setup, and what it leaves on the host
# libvirtd (privileged) has its paths compiled in: /etc/libvirt,
# /run/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt.
# virtlogd and libvirtd are started in their own mount namespace
# (unshare -m, propagation private) where directories of
# $LIBVIRT_WORKDIR are bind-mounted over those five paths, so the host's
# /etc/libvirt is never read or written, and several runs (other tests,
# other users of the machine) never meet: each has its own sockets, state,
# logs and capability cache.  If the compiled-in QEMU user `libvirt-qemu`
# does not exist (Debian creates it only with libvirt-daemon-system), copies
# of /etc/passwd and /etc/group with it added are bind-mounted over the
# originals, again only inside the namespace.  The one trace on the host:
# the five mount points are created (empty) when they do not exist, and left
# (removing a directory that is a mount point in another namespace would
# detach that mount).  virsh runs outside the namespace and reaches
# libvirtd through the socket, $LIBVIRT_WORKDIR/run/libvirt-sock.
#
# qemu.conf: user/group root, dynamic_ownership 0, security_driver "none",
# cgroup_controllers [ ], save_image_format FORMAT.  Harmless messages in
# libvirtd.log: no D-Bus, no dnsmasq, no DMI, "At least one cgroup
# controller is required".
#
# ---------------------------------------------------------------------------
# Environment (all optional)
#   LIBVIRT_TIMEOUT   seconds for each wait (default 60: libvirtd's first
#                     start probes every installed QEMU binary, ~10 s here)
#   LIBVIRT_KEEP=1    keep $LIBVIRT_WORKDIR at exit (logs, images)
#   LIBVIRT_VERBOSE=1 log what is done to stderr
#   QEMU_GUEST_ELF    bare-metal guest (default as in qemu.sh:
#                     ../vectors/guest/guest.elf next to this file)
#
# ---------------------------------------------------------------------------
# Functions.  Each returns 0 on success, 1 on failure (with a line on
# stderr saying why), 2 for a missing facility (binary, not root).
#
# libvirt_init          create $LIBVIRT_WORKDIR (mktemp -d) unless set, with
#                       etc/ run/ lib/ cache/ log/; install
#                       `trap libvirt_cleanup EXIT` if no EXIT trap exists
# libvirt_have          0 if everything needed is there (root, binaries,
#                       unshare works); else prints why and returns 2
# libvirt_start [FORMAT]
#                       write qemu.conf with save_image_format FORMAT (raw,
#                       gzip, bzip2, xz, lzop; default raw), start virtlogd
#                       (once) and libvirtd in the namespace, wait until
#                       `virsh version` answers.  When libvirtd runs
#                       already it is stopped first (a new save_image_format
#                       needs a restart); running domains survive it
#                       (libvirtd reconnects to their QEMU).
#                       Sets LIBVIRT_FORMAT, LIBVIRTD_PID, LIBVIRT_START_MS.
# libvirt_stop_daemon   stop libvirtd by its pid (domains keep running)
# libvirt_stop          destroy every domain, stop libvirtd and virtlogd by
#                       pid, and kill any QEMU they left (pid files)
# libvirt_cleanup       libvirt_stop, then remove $LIBVIRT_WORKDIR (unless
#                       LIBVIRT_KEEP=1)
# libvirt_virsh ARGS... virsh -q -c qemu:///system?socket=... ARGS
# libvirt_guest_xml NAME [MEM_MIB] [VCPUS] [CPU]
#                       print the domain XML of the test guest: <domain
#                       type='qemu'>, virt-7.2, guest.elf as <kernel>, cpu
#                       CPU (cortex-a57), MEM_MIB (32), VCPUS (1), no disk,
#                       no network, no balloon, serial to
#                       $LIBVIRT_WORKDIR/NAME.serial with append='on'
# libvirt_guest NAME [MEM_MIB] [VCPUS] [CPU]
#                       `virsh create` that XML (a transient domain)
# libvirt_serial NAME   path of NAME's serial log
# libvirt_wait_cnt NAME N [SECS]
#                       wait until the serial log has >= N complete cnt=
#                       lines; returns 1 on timeout
# libvirt_mark NAME     remember the last cnt= value and the number of
#                       lines (call right after `virsh save`)
# libvirt_continues NAME [SECS]
#                       after a restore: wait for 2 new cnt= lines; 0 when
#                       the first new value is greater than the one
#                       libvirt_mark remembered and the guest did not boot
#                       again (one GUEST-BOOT line).  Sets LIBVIRT_REASON.
# libvirt_domstate NAME print `virsh domstate` (running, paused, shut off...)
# libvirt_header IMAGE  print the save image header as
#                       "magic version data_len was_running format
#                       cookie_offset" (magic: LibvirtQemudSave or
#                       LibvirtQemudPart; numbers in decimal, host order)
# libvirt_payload_magic IMAGE
#                       print the kind of data after the header: qemu, gzip,
#                       bzip2, xz, lzop or unknown
# libvirt_ms            milliseconds since the epoch (for timings)
# ---------------------------------------------------------------------------

LIBVIRT_TIMEOUT=${LIBVIRT_TIMEOUT:-60}
_LIBVIRT_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)
if [ -z "${QEMU_GUEST_ELF:-}" ]; then
    if [ -f "$_LIBVIRT_LIBDIR/../vectors/guest/guest.elf" ]; then
        QEMU_GUEST_ELF=$(cd "$_LIBVIRT_LIBDIR/../vectors/guest" && pwd)/guest.elf
    elif [ -n "${VECTORS:-}" ]; then
        QEMU_GUEST_ELF=$VECTORS/guest/guest.elf
    fi
fi
_LIBVIRT_MOUNTS="etc:/etc/libvirt run:/run/libvirt lib:/var/lib/libvirt cache:/var/cache/libvirt log:/var/log/libvirt"

_libvirt_log() { [ -n "${LIBVIRT_VERBOSE:-}" ] && printf 'libvirt.sh: %s\n' "$*" >&2; return 0; }
_libvirt_err() { printf 'libvirt.sh: %s\n' "$*" >&2; }
libvirt_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }

# _libvirt_alive PID: running and not a zombie (an exited daemon whose
# parent does not reap it still answers kill -0)
_libvirt_alive() {
    local st
    [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
    st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ "$st" != Z ]
}

# _libvirt_kill PID: TERM, wait up to 10 s, then KILL
_libvirt_kill() {
    local pid=$1 i
    _libvirt_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 200); do
        _libvirt_alive "$pid" || return 0
        sleep 0.05
    done
    _libvirt_err "pid $pid ignored SIGTERM, killing it"
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 40); do
        _libvirt_alive "$pid" || return 0
        sleep 0.05
    done
    return 1
}

libvirt_have() {
    local b
    if [ "$(id -u)" != 0 ]; then
        echo "libvirt.sh: needs root (privileged libvirtd, mount namespace)"
        return 2
    fi
    for b in libvirtd virtlogd virsh unshare nsenter mount qemu-system-aarch64; do
        if ! command -v "$b" >/dev/null 2>&1; then
            echo "libvirt.sh: $b not found (apt-get install \$(cat tests/integration/PACKAGES))"
            return 2
        fi
    done
    if ! unshare -m --propagation private true 2>/dev/null; then
        echo "libvirt.sh: cannot create a mount namespace (unshare -m failed)"
        return 2
    fi
    return 0
}

libvirt_init() {
    local d
    if [ -z "${LIBVIRT_WORKDIR:-}" ] || ! [ -d "$LIBVIRT_WORKDIR" ]; then
        LIBVIRT_WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/libvirt-it.XXXXXX") || return 2
        chmod 755 "$LIBVIRT_WORKDIR"
    fi
    export LIBVIRT_WORKDIR
    for d in etc run lib/qemu cache/qemu log/qemu; do
        mkdir -p "$LIBVIRT_WORKDIR/$d" || return 2
    done
    if [ -z "$(trap -p EXIT)" ]; then
        trap 'libvirt_cleanup' EXIT
    fi
    _libvirt_log "workdir $LIBVIRT_WORKDIR"
}

libvirt_virsh() {
    virsh -q -c "qemu:///system?socket=$LIBVIRT_WORKDIR/run/libvirt-sock" "$@"
}

_libvirt_write_conf() {   # FORMAT
    local w=$LIBVIRT_WORKDIR
    cat >"$w/etc/qemu.conf" <<EOF
# written by tests/integration/libvirt.sh
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
cgroup_controllers = [ ]
save_image_format = "$1"
EOF
    cat >"$w/etc/libvirtd.conf" <<EOF
# written by tests/integration/libvirt.sh
unix_sock_dir = "/run/libvirt"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
    cat >"$w/etc/virtlogd.conf" <<EOF
log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
EOF
}

# the script run inside the new namespace: mounts, then virtlogd
_libvirt_ns_script() {
    local m src dst
    echo 'set -e'
    for m in $_LIBVIRT_MOUNTS; do
        src=$LIBVIRT_WORKDIR/${m%%:*} dst=${m#*:}
        printf 'mount --bind %q %q\n' "$src" "$dst"
    done
    if [ -f "$LIBVIRT_WORKDIR/passwd" ]; then
        printf 'mount --bind %q /etc/passwd\n' "$LIBVIRT_WORKDIR/passwd"
        printf 'mount --bind %q /etc/group\n' "$LIBVIRT_WORKDIR/group"
    fi
    printf 'exec virtlogd -d -f /etc/libvirt/virtlogd.conf -p %q\n' "$LIBVIRT_WORKDIR/virtlogd.pid"
}

_libvirt_start_virtlogd() {
    local m i pid
    for m in $_LIBVIRT_MOUNTS; do
        [ -d "${m#*:}" ] || mkdir -p "${m#*:}" || return 2
    done
    if ! getent passwd libvirt-qemu >/dev/null 2>&1; then
        cp /etc/passwd "$LIBVIRT_WORKDIR/passwd" && cp /etc/group "$LIBVIRT_WORKDIR/group" || return 2
        getent group libvirt-qemu >/dev/null 2>&1 ||
            echo 'libvirt-qemu:x:64055:' >>"$LIBVIRT_WORKDIR/group"
        echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin' \
            >>"$LIBVIRT_WORKDIR/passwd"
    fi
    _libvirt_ns_script >"$LIBVIRT_WORKDIR/ns.sh"
    rm -f "$LIBVIRT_WORKDIR/virtlogd.pid"
    if ! unshare -m --propagation private sh "$LIBVIRT_WORKDIR/ns.sh" \
            </dev/null >"$LIBVIRT_WORKDIR/virtlogd.out" 2>&1; then
        _libvirt_err "virtlogd did not start: $(cat "$LIBVIRT_WORKDIR/virtlogd.out")"
        return 1
    fi
    for i in $(seq 1 100); do
        [ -s "$LIBVIRT_WORKDIR/virtlogd.pid" ] && break
        sleep 0.05
    done
    pid=$(cat "$LIBVIRT_WORKDIR/virtlogd.pid" 2>/dev/null)
    if ! _libvirt_alive "$pid"; then
        _libvirt_err "virtlogd exited: $(cat "$LIBVIRT_WORKDIR/virtlogd.out")"
        return 1
    fi
    VIRTLOGD_PID=$pid
    _libvirt_log "virtlogd pid $pid"
}

libvirt_stop_daemon() {
    local pid
    pid=$(cat "$LIBVIRT_WORKDIR/libvirtd.pid" 2>/dev/null || true)
    [ -n "$pid" ] || return 0
    _libvirt_log "stopping libvirtd $pid"
    _libvirt_kill "$pid" || return 1
    rm -f "$LIBVIRT_WORKDIR/libvirtd.pid"
    LIBVIRTD_PID=
}

libvirt_start() {
    local fmt=${1:-raw} t0 pid i
    libvirt_init || return 2
    libvirt_have >&2 || return 2
    t0=$(libvirt_ms)
    libvirt_stop_daemon || return 1
    _libvirt_write_conf "$fmt"
    if ! _libvirt_alive "${VIRTLOGD_PID:-}"; then
        _libvirt_start_virtlogd || return 1
    fi
    # libvirtd joins virtlogd's mount namespace
    if ! nsenter -t "$VIRTLOGD_PID" -m libvirtd -d -f /etc/libvirt/libvirtd.conf \
            -p "$LIBVIRT_WORKDIR/libvirtd.pid" </dev/null \
            >>"$LIBVIRT_WORKDIR/libvirtd.out" 2>&1; then
        _libvirt_err "libvirtd did not start: $(tail -n5 "$LIBVIRT_WORKDIR/libvirtd.out")"
        return 1
    fi
    for i in $(seq 1 100); do
        [ -s "$LIBVIRT_WORKDIR/libvirtd.pid" ] && break
        sleep 0.05
    done
    pid=$(cat "$LIBVIRT_WORKDIR/libvirtd.pid" 2>/dev/null)
    for i in $(seq 1 $((LIBVIRT_TIMEOUT * 4))); do
        _libvirt_alive "$pid" || break
        libvirt_virsh version >/dev/null 2>&1 && break
        sleep 0.25
    done
    if ! _libvirt_alive "$pid" || ! libvirt_virsh version >/dev/null 2>&1; then
        _libvirt_err "libvirtd (pid ${pid:-?}) does not answer: $(tail -n5 "$LIBVIRT_WORKDIR/log/libvirtd.log" 2>/dev/null)"
        return 1
    fi
    LIBVIRTD_PID=$pid
    LIBVIRT_FORMAT=$fmt
    LIBVIRT_START_MS=$(($(libvirt_ms) - t0))
    _libvirt_log "libvirtd pid $pid, save_image_format $fmt, ${LIBVIRT_START_MS} ms"
    return 0
}

libvirt_stop() {
    local d f pid
    [ -n "${LIBVIRT_WORKDIR:-}" ] && [ -d "$LIBVIRT_WORKDIR" ] || return 0
    if _libvirt_alive "$(cat "$LIBVIRT_WORKDIR/libvirtd.pid" 2>/dev/null)"; then
        for d in $(libvirt_virsh list --name 2>/dev/null); do
            libvirt_virsh destroy "$d" >/dev/null 2>&1 || true
        done
    fi
    libvirt_stop_daemon || true
    # QEMUs left behind (libvirtd stopped while they ran, or destroy failed)
    for f in "$LIBVIRT_WORKDIR"/run/qemu/*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f" 2>/dev/null)
        [ -n "$pid" ] && _libvirt_kill "$pid"
    done
    pid=$(cat "$LIBVIRT_WORKDIR/virtlogd.pid" 2>/dev/null || true)
    [ -n "$pid" ] && _libvirt_kill "$pid"
    VIRTLOGD_PID=
    return 0
}

libvirt_cleanup() {
    [ -n "${LIBVIRT_WORKDIR:-}" ] && [ -d "$LIBVIRT_WORKDIR" ] || return 0
    libvirt_stop
    if [ -z "${LIBVIRT_KEEP:-}" ]; then
        rm -rf "$LIBVIRT_WORKDIR"
    else
        _libvirt_err "keeping $LIBVIRT_WORKDIR"
    fi
}

libvirt_serial() { printf '%s\n' "$LIBVIRT_WORKDIR/$1.serial"; }

libvirt_guest_xml() {
    local name=$1 mem=${2:-32} vcpus=${3:-1} cpu=${4:-cortex-a57}
    cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>$vcpus</vcpu>
  <os>
    <type arch='aarch64' machine='virt-7.2'>hvm</type>
    <kernel>$QEMU_GUEST_ELF</kernel>
  </os>
  <cpu mode='custom' match='exact'>
    <model fallback='forbid'>$cpu</model>
  </cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-aarch64</emulator>
    <serial type='file'>
      <source path='$(libvirt_serial "$name")' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

libvirt_guest() {
    local name=$1
    if ! [ -f "${QEMU_GUEST_ELF:-}" ]; then
        _libvirt_err "guest.elf not found (QEMU_GUEST_ELF)"
        return 2
    fi
    libvirt_guest_xml "$@" >"$LIBVIRT_WORKDIR/$name.xml"
    libvirt_virsh create "$LIBVIRT_WORKDIR/$name.xml" >/dev/null
}

libvirt_domstate() { libvirt_virsh domstate "$1" 2>/dev/null | head -n1; }

_libvirt_cnts() { grep -o 'cnt=[0-9a-f]\{16\}' "$1" 2>/dev/null || true; }

libvirt_wait_cnt() {
    local name=$1 n=$2 secs=${3:-$LIBVIRT_TIMEOUT} t0 f
    f=$(libvirt_serial "$name")
    t0=$(libvirt_ms)
    while [ "$(_libvirt_cnts "$f" | wc -l)" -lt "$n" ]; do
        if [ $(($(libvirt_ms) - t0)) -gt $((secs * 1000)) ]; then
            _libvirt_err "$name: fewer than $n cnt= lines after ${secs}s"
            return 1
        fi
        sleep 0.1
    done
    return 0
}

libvirt_mark() {
    local f
    f=$(libvirt_serial "$1")
    _LIBVIRT_MARK_N=$(_libvirt_cnts "$f" | wc -l)
    _LIBVIRT_MARK_LAST=$(_libvirt_cnts "$f" | tail -n1 | cut -c5-)
}

libvirt_continues() {
    local name=$1 secs=${2:-$LIBVIRT_TIMEOUT} f first boots
    f=$(libvirt_serial "$name")
    if ! libvirt_wait_cnt "$name" $((${_LIBVIRT_MARK_N:-0} + 2)) "$secs"; then
        LIBVIRT_REASON="no new cnt= lines after the restore"
        return 1
    fi
    first=$(_libvirt_cnts "$f" | sed -n "$((${_LIBVIRT_MARK_N:-0} + 1))p" | cut -c5-)
    boots=$(grep -c 'GUEST-BOOT' "$f")
    if [ "$boots" != 1 ]; then
        LIBVIRT_REASON="guest booted $boots times"
        return 1
    fi
    if [ -z "${_LIBVIRT_MARK_LAST:-}" ] || ! [ $((16#$first)) -gt $((16#$_LIBVIRT_MARK_LAST)) ]; then
        LIBVIRT_REASON="counter ${_LIBVIRT_MARK_LAST:-none} before, $first after"
        return 1
    fi
    LIBVIRT_REASON="counter $_LIBVIRT_MARK_LAST before the save, $first after the restore"
    return 0
}

# _libvirt_u32 FILE OFFSET: little-endian uint32 (x86_64 and aarch64 hosts)
_libvirt_u32() {
    od -An -tu4 --endian=little -j "$2" -N 4 "$1" | tr -d ' '
}

libvirt_header() {
    local f=$1 magic
    magic=$(head -c 16 "$f" | tr -d '\0')
    printf '%s %s %s %s %s %s\n' "$magic" "$(_libvirt_u32 "$f" 16)" \
        "$(_libvirt_u32 "$f" 20)" "$(_libvirt_u32 "$f" 24)" \
        "$(_libvirt_u32 "$f" 28)" "$(_libvirt_u32 "$f" 32)"
}

libvirt_payload_magic() {
    local f=$1 len hex
    len=$(_libvirt_u32 "$f" 20)
    hex=$(od -An -tx1 -j $((92 + len)) -N 6 "$f" | tr -d ' \n')
    case $hex in
    5145564d*) echo qemu ;;
    1f8b*) echo gzip ;;
    425a68*) echo bzip2 ;;
    fd377a585a00) echo xz ;;
    894c5a4f0*) echo lzop ;;
    *) echo unknown ;;
    esac
}
