#!/bin/bash
# tests/integration/libvirt-selftest.sh - prove tests/integration/libvirt.sh
# against a real libvirtd (Debian 12: libvirt 9.0, QEMU 7.2): for each
# save_image_format (raw, gzip, bzip2, xz, lzop) `virsh save` a running TCG
# aarch64 guest (guest.elf), check the image header and payload, `virsh
# restore` it and see the guest's counter go on; then `save --paused`,
# `save-image-dumpxml` and `save-image-define --paused`.
# Last line: "N passed, M failed".  Exit 77 (with the reason) only when
# libvirt, QEMU or a mount namespace is not available at all.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/integration/libvirt.sh"

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
T=()   # timings: "ms what"
tm() { T+=("$1 $2"); }

if ! why=$(libvirt_have); then
    echo "SKIP: $why"
    exit 77
fi
for c in gzip bzip2 xz lzop; do
    command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c not installed"; exit 77; }
done
libvirt_init
W=$LIBVIRT_WORKDIR
echo "# $(libvirtd --version); $(qemu-system-aarch64 --version | head -n1)"

# format code of the header for each save_image_format (libvirt 9.0)
code() { case $1 in raw) echo 0;; gzip) echo 1;; bzip2) echo 2;; xz) echo 3;; lzop) echo 4;; esac; }

if ! libvirt_start raw; then
    bad "libvirtd starts"
    echo "$pass passed, $fail failed"
    exit 1
fi
tm "$LIBVIRT_START_MS" "first libvirtd start (probes every QEMU binary)"
ok "libvirtd starts ($LIBVIRT_START_MS ms)"

t0=$(libvirt_ms)
if libvirt_guest g && libvirt_wait_cnt g 3 60; then
    ok "guest.elf runs under libvirt, counter on its serial log"
    tm $(($(libvirt_ms) - t0)) "virsh create + 3 cnt= lines"
else
    bad "guest does not start: $(tail -n3 "$W/log/qemu/g.log" 2>/dev/null)"
    echo "$pass passed, $fail failed"
    exit 1
fi

xml0=$W/g.dumpxml
libvirt_virsh dumpxml --migratable g >"$xml0"

for fmt in raw gzip bzip2 xz lzop; do
    if [ "$fmt" != raw ]; then
        if libvirt_start "$fmt"; then
            tm "$LIBVIRT_START_MS" "libvirtd restart for $fmt"
        else
            bad "$fmt: libvirtd restart"; continue
        fi
        if [ "$(libvirt_domstate g)" != running ]; then
            bad "$fmt: guest not running after the libvirtd restart ($(libvirt_domstate g))"
            continue
        fi
    fi
    img=$W/g-$fmt.img
    t0=$(libvirt_ms)
    if ! libvirt_virsh save g "$img" >/dev/null; then
        bad "$fmt: virsh save"; continue
    fi
    tm $(($(libvirt_ms) - t0)) "virsh save ($fmt, $(stat -c %s "$img") bytes)"
    libvirt_mark g
    read -r magic ver dlen run fcode coff <<<"$(libvirt_header "$img")"
    if [ "$magic $ver $run $fcode" = "LibvirtQemudSave 2 1 $(code "$fmt")" ]; then
        ok "$fmt: header magic/version/was_running/format = $magic $ver $run $fcode (data_len $dlen, cookieOffset $coff)"
    else
        bad "$fmt: header $magic $ver $dlen $run $fcode $coff"
    fi
    want=$fmt; [ "$fmt" = raw ] && want=qemu
    got=$(libvirt_payload_magic "$img")
    if [ "$got" = "$want" ]; then ok "$fmt: payload at 92+data_len is $got"; else bad "$fmt: payload is $got"; fi
    if libvirt_virsh save-image-dumpxml "$img" | grep -q '<name>g</name>'; then
        ok "$fmt: save-image-dumpxml"
    else
        bad "$fmt: save-image-dumpxml"
    fi
    st=$(libvirt_domstate g)
    if [ -z "$st" ] || [ "$st" = "shut off" ]; then ok "$fmt: guest gone after save"; else bad "$fmt: guest $st after save"; fi
    t0=$(libvirt_ms)
    if ! libvirt_virsh restore "$img" >/dev/null; then
        bad "$fmt: virsh restore: $(tail -n3 "$W/log/qemu/g.log")"; continue
    fi
    tm $(($(libvirt_ms) - t0)) "virsh restore ($fmt)"
    if [ "$(libvirt_domstate g)" = running ] && libvirt_continues g; then
        ok "$fmt: restored, $LIBVIRT_REASON"
    else
        bad "$fmt: after restore: $(libvirt_domstate g): ${LIBVIRT_REASON:-}"
    fi
done

# --- save --paused: restores paused, resumes and goes on -----------------
img=$W/g-paused.img
if libvirt_virsh save g "$img" --paused >/dev/null; then
    libvirt_mark g
    read -r magic ver dlen run fcode coff <<<"$(libvirt_header "$img")"
    if [ "$run" = 0 ]; then ok "save --paused: was_running 0"; else bad "save --paused: was_running $run"; fi
    libvirt_virsh restore "$img" >/dev/null
    st=$(libvirt_domstate g)
    if [ "$st" = paused ]; then ok "save --paused: restore leaves it paused"; else bad "save --paused: restored $st"; fi
    libvirt_virsh resume g >/dev/null
    if libvirt_continues g; then ok "save --paused: resumed, $LIBVIRT_REASON"; else bad "save --paused: $LIBVIRT_REASON"; fi
else
    bad "virsh save --paused"
fi

# --- save-image-define --paused with a changed XML -----------------------
img=$W/g-define.img
if libvirt_virsh save g "$img" >/dev/null; then
    libvirt_mark g
    read -r magic ver dlen0 run0 fcode0 coff0 <<<"$(libvirt_header "$img")"
    tail -c +$((92 + dlen0 + 1)) "$img" >"$W/define.payload"
    libvirt_virsh save-image-dumpxml "$img" >"$W/define.old.xml"
    sed 's|</name>|</name>\n  <description>vmstream libvirt selftest</description>|' \
        "$W/define.old.xml" >"$W/define.new.xml"
    t0=$(libvirt_ms)
    if libvirt_virsh save-image-define "$img" "$W/define.new.xml" --paused >/dev/null; then
        tm $(($(libvirt_ms) - t0)) "save-image-define"
        read -r magic ver dlen run fcode coff <<<"$(libvirt_header "$img")"
        if [ "$dlen" = "$dlen0" ] && [ "$run" = 0 ] && [ "$fcode" = "$fcode0" ]; then
            ok "save-image-define: data_len kept ($dlen), was_running $run0 -> $run, cookieOffset $coff0 -> $coff"
        else
            bad "save-image-define: header $dlen0/$run0/$coff0 -> $dlen/$run/$coff"
        fi
        if tail -c +$((92 + dlen + 1)) "$img" | cmp -s - "$W/define.payload"; then
            ok "save-image-define: stream after 92+data_len untouched"
        else
            bad "save-image-define: stream changed"
        fi
        if libvirt_virsh save-image-dumpxml "$img" | grep -q 'vmstream libvirt selftest'; then
            ok "save-image-define: dumpxml shows the new XML"
        else
            bad "save-image-define: dumpxml lacks the new description"
        fi
        libvirt_virsh restore "$img" >/dev/null
        st=$(libvirt_domstate g)
        if [ "$st" = paused ] && libvirt_virsh dumpxml g | grep -q 'vmstream libvirt selftest'; then
            ok "save-image-define: restores paused with the new XML"
        else
            bad "save-image-define: restored $st / XML: $(libvirt_virsh dumpxml g | grep -c description)"
        fi
        libvirt_virsh resume g >/dev/null
        if libvirt_continues g; then ok "save-image-define: resumed, $LIBVIRT_REASON"; else bad "save-image-define: $LIBVIRT_REASON"; fi
    else
        bad "virsh save-image-define"
    fi
else
    bad "virsh save for save-image-define"
fi

t0=$(libvirt_ms)
libvirt_stop
tm $(($(libvirt_ms) - t0)) "stop (destroy, libvirtd, virtlogd)"
left=0
for p in "$W/libvirtd.pid" "$W/virtlogd.pid" "$W"/run/qemu/*.pid; do
    [ -f "$p" ] && _libvirt_alive "$(cat "$p")" && left=$((left + 1))
done
if [ "$left" = 0 ]; then ok "everything stopped by pid"; else bad "$left processes left"; fi

echo "# timings (ms what):"
for x in "${T[@]}"; do echo "#   $x"; done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
