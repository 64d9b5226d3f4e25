#!/bin/bash
# tests/tools/mkvectors-libvirt.sh - make the libvirt save images of
# tests/vectors/libvirt/ with a real libvirtd (Debian 12: libvirt 9.0, QEMU
# 7.2) through tests/integration/libvirt.sh.
#
#   tests/tools/mkvectors-libvirt.sh OUTDIR
#
# One TCG aarch64 guest (guest.elf, virt-7.2, cortex-a57, 32 MiB, 1 vCPU,
# domain XML from libvirt_guest_xml, name vmsguest) is saved with each
# save_image_format (gzip, bzip2, xz, lzop, raw; libvirtd restarted for
# each), then once with `virsh save --paused` (raw) and once more (raw)
# rewritten with `virsh save-image-define --paused` and a changed XML.
# Every image is restored by libvirt and the guest's counter must go on
# (paused ones after `virsh resume`).  For each image OUTDIR gets
# NAME.dumpxml.xml (`virsh save-image-dumpxml`), NAME.header.xml (the XML
# as stored in the header, without its NUL) and a line of facts.tsv;
# raw images are stored zstd-compressed (NAME.img.zst), compressed ones as
# written.  For the define'd image also: NAME.define-input.xml (the XML
# given to save-image-define) and NAME.before-header.bin.zst (the first
# 92 + data_len bytes before the define; the stream after them is
# unchanged, so header + stream = the image as `virsh save` wrote it).
# Not part of `make check`.  Must run as root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:?usage: mkvectors-libvirt.sh OUTDIR}
mkdir -p "$out" && out=$(cd "$out" && pwd)
. "$top/tests/integration/libvirt.sh"
libvirt_init
W=$LIBVIRT_WORKDIR
fail=0
log() { printf '%s\n' "$*" | tee -a "$out/log"; }
: >"$out/log"
printf 'name\tsize\tsha256\tmagic\tversion\tdata_len\twas_running\tformat\tcookie_offset\txml_len\tcookie\tpayload\tstream_size\tstream_sha256\tdumpxml_equals_header_xml\n' >"$out/facts.tsv"
log "# $(libvirtd --version); $(qemu-system-aarch64 --version | head -n1)"

# facts NAME IMG: one line of facts.tsv
facts() {
    local name=$1 img=$2 magic ver dlen run fmt coff xml cookie pl ssz ssha eq
    read -r magic ver dlen run fmt coff <<<"$(libvirt_header "$img")"
    xml=$(head -c $((92 + coff)) "$img" | tail -c +93 | tr -d '\0' | wc -c)
    cookie=$(tail -c +$((92 + coff + 1)) "$img" | head -c $((dlen - coff)) |
        tr -d '\0' | tr '\n' ' ' | sed 's/  */ /g; s/ $//')
    pl=$(libvirt_payload_magic "$img")
    case $pl in
    qemu) tail -c +$((92 + dlen + 1)) "$img" >"$W/stream" ;;
    gzip) tail -c +$((92 + dlen + 1)) "$img" | gzip -dc >"$W/stream" ;;
    bzip2) tail -c +$((92 + dlen + 1)) "$img" | bzip2 -dc >"$W/stream" ;;
    xz) tail -c +$((92 + dlen + 1)) "$img" | xz -dc >"$W/stream" ;;
    lzop) tail -c +$((92 + dlen + 1)) "$img" | lzop -dc >"$W/stream" ;;
    *) : >"$W/stream"; log "FAIL $name: payload $pl"; fail=1 ;;
    esac
    ssz=$(stat -c %s "$W/stream")
    ssha=$(sha256sum <"$W/stream" | cut -d' ' -f1)
    # the XML as stored (92 .. its NUL) against save-image-dumpxml
    head -c $((92 + coff)) "$img" | tail -c +93 | tr -d '\0' >"$W/hdr.xml"
    cp "$W/hdr.xml" "$out/$name.header.xml"
    if cmp -s "$W/hdr.xml" "$out/$name.dumpxml.xml"; then eq=yes
    elif diff -q <(sed '$a\' "$W/hdr.xml") "$out/$name.dumpxml.xml" >/dev/null; then eq=yes-but-final-newline
    else eq=no; fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" \
        "$(stat -c %s "$img")" "$(sha256sum <"$img" | cut -d' ' -f1)" \
        "$magic" "$ver" "$dlen" "$run" "$fmt" "$coff" "$xml" "$cookie" "$pl" \
        "$ssz" "$ssha" "$eq" >>"$out/facts.tsv"
    log "ok $name: $(stat -c %s "$img") bytes, header $magic $ver $dlen $run $fmt $coff, payload $pl, stream $ssz bytes, dumpxml = header XML: $eq"
}

store() {   # NAME IMG
    if [ "$(libvirt_payload_magic "$2")" = qemu ]; then
        zstd -19 -qf "$2" -o "$out/$1.img.zst"
    else
        cp "$2" "$out/$1.img"
    fi
}

resume_check() {   # WHAT WANTSTATE
    local st
    st=$(libvirt_domstate vmsguest)
    if [ "$st" != "$2" ]; then
        log "FAIL $1: restored $st, want $2"; fail=1
    fi
    [ "$st" = paused ] && libvirt_virsh resume vmsguest >/dev/null
    if libvirt_continues vmsguest; then
        log "ok $1: restored $st, $LIBVIRT_REASON"
    else
        log "FAIL $1: $LIBVIRT_REASON"; fail=1
    fi
}

first=yes
for fmt in gzip bzip2 xz lzop raw; do
    libvirt_start "$fmt" || { log "FAIL libvirtd ($fmt)"; exit 1; }
    if [ $first = yes ]; then
        libvirt_guest vmsguest 32 1 || { log "FAIL guest"; exit 1; }
        libvirt_guest_xml vmsguest 32 1 | sed "s|$W/|/tmp/libvirt-it.XXXXXX/|; s|$QEMU_GUEST_ELF|tests/vectors/guest/guest.elf|" \
            >"$out/domain.xml"
        first=no
    fi
    libvirt_wait_cnt vmsguest 3 || { log "FAIL guest counter"; exit 1; }
    name=libvirt-$fmt
    libvirt_virsh save vmsguest "$W/$name.img" >/dev/null || { log "FAIL save $fmt"; fail=1; continue; }
    libvirt_mark vmsguest
    libvirt_virsh save-image-dumpxml "$W/$name.img" >"$out/$name.dumpxml.xml"
    facts "$name" "$W/$name.img"
    store "$name" "$W/$name.img"
    libvirt_virsh restore "$W/$name.img" >/dev/null || { log "FAIL restore $fmt"; fail=1; continue; }
    resume_check "$name" running
done

# save --paused (raw)
name=libvirt-raw-paused
if libvirt_virsh save vmsguest "$W/$name.img" --paused >/dev/null; then
    libvirt_mark vmsguest
    libvirt_virsh save-image-dumpxml "$W/$name.img" >"$out/$name.dumpxml.xml"
    facts "$name" "$W/$name.img"
    store "$name" "$W/$name.img"
    libvirt_virsh restore "$W/$name.img" >/dev/null && resume_check "$name" paused
else
    log "FAIL save --paused"; fail=1
fi

# save, then save-image-define --paused with a changed XML (raw)
name=libvirt-raw-define
if libvirt_virsh save vmsguest "$W/$name.img" >/dev/null; then
    libvirt_mark vmsguest
    read -r _ _ dlen _ _ _ <<<"$(libvirt_header "$W/$name.img")"
    head -c $((92 + dlen)) "$W/$name.img" >"$W/before-header.bin"
    libvirt_virsh save-image-dumpxml "$W/$name.img" |
        sed 's|</name>|</name>\n  <description>vmstream define test</description>|' \
            >"$out/$name.define-input.xml"
    libvirt_virsh save-image-define "$W/$name.img" "$out/$name.define-input.xml" --paused >/dev/null ||
        { log "FAIL save-image-define"; fail=1; }
    libvirt_virsh save-image-dumpxml "$W/$name.img" >"$out/$name.dumpxml.xml"
    facts "$name" "$W/$name.img"
    store "$name" "$W/$name.img"
    zstd -19 -qf "$W/before-header.bin" -o "$out/$name.before-header.bin.zst"
    libvirt_virsh restore "$W/$name.img" >/dev/null && {
        libvirt_virsh dumpxml vmsguest | grep -q 'vmstream define test' ||
            { log "FAIL $name: restored domain lacks the new XML"; fail=1; }
        resume_check "$name" paused
    }
else
    log "FAIL save for define"; fail=1
fi
libvirt_stop
if [ "$fail" = 0 ]; then log "all ok"; else log "SOME FAILED"; fi
exit "$fail"
