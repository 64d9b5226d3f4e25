#!/bin/bash
# tests/integration/libvirt-images.sh - vmstream on libvirt save images
# with a real libvirtd (Debian 12: libvirt 9.0, QEMU 7.2; started and
# stopped here through tests/integration/libvirt.sh).
#
# For each save_image_format raw, gzip, bzip2, xz, lzop: `virsh save` a
# running TCG aarch64 guest (guest.elf), `vmstream convert --to v23` then
# `--to v22`; the result has the same header, XML and cookie byte for byte,
# the same compression (format code and payload magic) and the same inner
# stream once decompressed by the format's own tool; `virsh restore` of it
# resumes the guest and its counter goes on.  `vmstream xml` is the XML as
# stored: defined back into a copy with save-image-define it gives the same
# save-image-dumpxml (libvirt re-formats what it prints, so the bytes of
# the two differ: doc/libvirt.md).  Then an image changed with `convert
# --xml` (a <description> added) and `--paused` restores paused with the
# new XML, and resumes.
# Last line: "N passed, M failed".  Exit 77 (with the reason) only when
# libvirt, QEMU or a mount namespace is not available at all.
set -u
srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/integration/libvirt.sh"
VMSTREAM=${VMSTREAM:-$srcdir/vmstream}

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }

if ! why=$(libvirt_have); then
    echo "SKIP: $why"
    exit 77
fi
for c in gzip bzip2 xz lzop jq; do
    command -v "$c" >/dev/null 2>&1 || { echo "SKIP: $c not installed"; exit 77; }
done
libvirt_init
W=$LIBVIRT_WORKDIR
echo "# $(libvirtd --version); $(qemu-system-aarch64 --version | head -n1)"

code() { case $1 in raw) echo 0;; gzip) echo 1;; bzip2) echo 2;; xz) echo 3;; lzop) echo 4;; esac; }
# the inner QEMU stream of IMAGE (data_len $2), decompressed by FMT's tool
inner() {
    local dec
    case $3 in
    gzip) dec="gzip -d -c" ;; bzip2) dec="bzip2 -d -c" ;; xz) dec="xz -d -c" ;;
    lzop) dec="lzop -d -c" ;; *) dec=cat ;;
    esac
    tail -c +$(($2 + 93)) "$1" | $dec | sha256sum | cut -d' ' -f1
}
vinfo() { "$VMSTREAM" info --json "$1" | jq -r "$2"; }

if ! libvirt_start raw; then
    bad "libvirtd starts"
    echo "$pass passed, $fail failed"
    exit 1
fi
if libvirt_guest g && libvirt_wait_cnt g 3 90; then
    ok "guest.elf runs under libvirt"
else
    bad "guest does not start: $(tail -n3 "$W/log/qemu/g.log" 2>/dev/null)"
    echo "$pass passed, $fail failed"
    exit 1
fi

for fmt in raw gzip bzip2 xz lzop; do
    if [ "$fmt" != raw ]; then
        if ! libvirt_start "$fmt" || [ "$(libvirt_domstate g)" != running ]; then
            bad "$fmt: libvirtd restart with the guest running"; continue
        fi
    fi
    img=$W/g-$fmt.img
    if ! libvirt_virsh save g "$img" >/dev/null; then
        bad "$fmt: virsh save"; continue
    fi
    libvirt_mark g
    read -r magic ver dlen run fcode coff <<<"$(libvirt_header "$img")"
    [ "$fcode" = "$(code "$fmt")" ] || bad "$fmt: libvirt wrote format $fcode"
    if ! "$VMSTREAM" convert --to v23 "$img" "$W/v23-$fmt.img" 2>"$W/err" ||
       ! "$VMSTREAM" convert --to v22 "$W/v23-$fmt.img" "$W/v22-$fmt.img" 2>>"$W/err"; then
        bad "$fmt: convert --to v23, --to v22: $(cat "$W/err")"; continue
    fi
    v23=$W/v23-$fmt.img v22=$W/v22-$fmt.img
    if [ "$(vinfo "$v23" '[.vcpus[].layout]|unique|join(",")')" = v23 ]; then
        ok "$fmt: the v23 image holds a v23 cpu section"
    else
        bad "$fmt: the v23 image is not v23"
    fi
    if cmp -s -n $((92 + dlen)) "$img" "$v22"; then
        ok "$fmt: header, XML, cookie and slack identical ($((92 + dlen)) bytes)"
    else
        bad "$fmt: header/XML/cookie differ: $(cmp -n $((92 + dlen)) "$img" "$v22")"
    fi
    if [ "$("$VMSTREAM" xml "$v22" | sha256sum)" = "$("$VMSTREAM" xml "$img" | sha256sum)" ]; then
        ok "$fmt: vmstream xml identical"
    else
        bad "$fmt: vmstream xml differs"
    fi
    want=$fmt; [ "$fmt" = raw ] && want=qemu
    if [ "$(libvirt_payload_magic "$v22") $(libvirt_payload_magic "$v23")" = "$want $want" ]; then
        ok "$fmt: same compression ($want) in the v23 and v22 images"
    else
        bad "$fmt: payloads $(libvirt_payload_magic "$v23") / $(libvirt_payload_magic "$v22")"
    fi
    a=$(inner "$img" "$dlen" "$fmt") b=$(inner "$v22" "$dlen" "$fmt")
    if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$(sha256sum </dev/null | cut -d' ' -f1)" ]; then
        ok "$fmt: inner stream identical after decompression by $fmt's tool"
    else
        bad "$fmt: inner streams differ ($a / $b)"
    fi
    if cmp -s "$img" "$v22"; then
        echo "# $fmt: the whole file round-trips byte for byte"
    else
        echo "# $fmt: the compressed bytes differ ($(cmp -l "$img" "$v22" 2>/dev/null | wc -l) bytes; same inner stream)"
    fi

    # vmstream xml against save-image-dumpxml
    libvirt_virsh save-image-dumpxml "$img" >"$W/dump-$fmt.xml"
    "$VMSTREAM" xml "$img" >"$W/stored-$fmt.xml"
    if cmp -s "$W/dump-$fmt.xml" "$W/stored-$fmt.xml"; then
        echo "# $fmt: save-image-dumpxml = the stored XML byte for byte"
    else
        echo "# $fmt: save-image-dumpxml re-formats the stored XML ($(diff "$W/stored-$fmt.xml" "$W/dump-$fmt.xml" | grep -c '^[<>]') lines differ)"
    fi
    cp "$img" "$W/copy.img"
    if libvirt_virsh save-image-define "$W/copy.img" "$W/stored-$fmt.xml" >/dev/null &&
       libvirt_virsh save-image-dumpxml "$W/copy.img" | cmp -s - "$W/dump-$fmt.xml"; then
        ok "$fmt: vmstream xml is the document libvirt reads (defined back: same save-image-dumpxml)"
    else
        bad "$fmt: vmstream xml defined back gives another save-image-dumpxml"
    fi
    rm -f "$W/copy.img"

    if ! libvirt_virsh restore "$v22" >/dev/null 2>"$W/err"; then
        bad "$fmt: virsh restore of the converted image: $(cat "$W/err") $(tail -n3 "$W/log/qemu/g.log")"
        continue
    fi
    if [ "$(libvirt_domstate g)" = running ] && libvirt_continues g; then
        ok "$fmt: virsh restore of the converted image: running, $LIBVIRT_REASON"
    else
        bad "$fmt: after restore: $(libvirt_domstate g): ${LIBVIRT_REASON:-}"
    fi
done

# --- convert --xml (a <description> added) --paused ------------------------
img=$W/g-define.img
if [ "$(libvirt_domstate g)" = running ] && libvirt_virsh save g "$img" >/dev/null; then
    libvirt_mark g
    read -r magic ver dlen0 run0 fcode0 coff0 <<<"$(libvirt_header "$img")"
    "$VMSTREAM" xml "$img" |
        sed 's|</uuid>|</uuid>\n  <description>changed by vmstream convert --xml</description>|' \
        >"$W/new.xml"
    if "$VMSTREAM" convert --to v22 --xml "$W/new.xml" --paused "$img" "$W/def.img" 2>"$W/err"; then
        read -r magic ver dlen run fcode coff <<<"$(libvirt_header "$W/def.img")"
        if [ "$dlen $run $fcode" = "$dlen0 0 $fcode0" ] && [ "$coff" = "$(($(wc -c <"$W/new.xml") + 1))" ]; then
            ok "--xml --paused: data_len kept ($dlen), was_running $run0 -> 0, format $fcode, cookieOffset $coff0 -> $coff"
        else
            bad "--xml --paused: header $dlen0/$run0/$fcode0/$coff0 -> $dlen/$run/$fcode/$coff"
        fi
        if "$VMSTREAM" xml "$W/def.img" | cmp -s - "$W/new.xml"; then
            ok "--xml: the new XML stored as given"
        else
            bad "--xml: stored XML differs from the file"
        fi
        if [ "$(vinfo "$W/def.img" .libvirt_image.resumes_on_restore)" = false ]; then
            ok "--paused: info says the guest stays paused"
        else
            bad "--paused: info says it resumes"
        fi
        if libvirt_virsh save-image-dumpxml "$W/def.img" | grep -q 'changed by vmstream'; then
            ok "--xml: save-image-dumpxml shows the new description"
        else
            bad "--xml: save-image-dumpxml lacks the description"
        fi
        libvirt_virsh restore "$W/def.img" >/dev/null 2>"$W/err" || bad "--xml --paused: virsh restore: $(cat "$W/err")"
        st=$(libvirt_domstate g)
        if [ "$st" = paused ] && libvirt_virsh dumpxml g | grep -q 'changed by vmstream'; then
            ok "--xml --paused: restored paused with the new XML"
        else
            bad "--xml --paused: restored $st, description: $(libvirt_virsh dumpxml g | grep -c 'changed by vmstream')"
        fi
        libvirt_virsh resume g >/dev/null
        if libvirt_continues g; then ok "--xml --paused: resumed, $LIBVIRT_REASON"; else bad "--xml --paused: $LIBVIRT_REASON"; fi
    else
        bad "convert --xml --paused: $(cat "$W/err")"
    fi
else
    bad "virsh save for --xml"
fi

libvirt_stop
left=0
for p in "$W/libvirtd.pid" "$W/virtlogd.pid" "$W"/run/qemu/*.pid; do
    [ -f "$p" ] && _libvirt_alive "$(cat "$p")" && left=$((left + 1))
done
if [ "$left" = 0 ]; then ok "everything stopped by pid"; else bad "$left processes left"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
