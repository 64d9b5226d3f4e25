#!/bin/sh
# libvirt save images written by a real libvirt 9.0 (tests/vectors/libvirt,
# MANIFEST.md, facts.tsv), offline: info shows the domain and whether the
# guest resumes, `vmstream xml` prints the XML exactly as stored, convert
# --to v23 then --to v22 gives back the header, the cookie, the compression
# and the inner stream (and, where the compressor is libvirt's own, the
# file byte for byte), --xml/--paused/--running change exactly what they
# should (convert --xml of the XML libvirt stored reproduces libvirt's
# save-image-define byte for byte), zstd is refused unless insisted on,
# an unfinished save is named as such, and standalone bzip2/xz/lzop
# streams are read and written.
. "$TESTLIB"
need jq zstd gzip bzip2 xz lzop cmp sha256sum

# checke DESC 'SHELL CONDITION' - like check, for a compound condition
checke() {
    if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

D=$VECTORS/libvirt
MiB=1048576

image() {   # NAME -> path of the image as libvirt wrote it
    if [ -f "$D/$1.img" ]; then
        echo "$D/$1.img"
    else
        zstd -q -d -c "$D/$1.img.zst" > "$TMP/$1.img"
        echo "$TMP/$1.img"
    fi
}

inner() {   # IMAGE DATA_LEN KIND -> sha256 of the QEMU stream inside
    case $3 in
    gzip) dec="gzip -d -c" ;;
    bzip2) dec="bzip2 -d -c" ;;
    xz) dec="xz -d -c" ;;
    lzop) dec="lzop -d -c" ;;
    *) dec=cat ;;
    esac
    tail -c +$((92 + $2 + 1)) "$1" | $dec | sha256sum | cut -d' ' -f1
}

tab=$(printf '\t')
tail -n +2 "$D/facts.tsv" > "$TMP/facts"
while IFS=$tab read -r name size sha magic version data_len was_running \
        format cookie_offset xml_len cookie payload stream_size stream_sha \
        dumpeq; do
    img=$(image "$name")
    check "$name: the image is the one in facts.tsv" \
        [ "$(sha256sum < "$img" | cut -d' ' -f1)" = "$sha" ]
    if ! "$VMSTREAM" info --json "$img" > "$TMP/$name.json"; then
        not_ok "$name: info exits 0"
        continue
    fi
    j=$TMP/$name.json
    uuid=$(sed -n 's/^ *<uuid>\(.*\)<\/uuid>$/\1/p' "$D/$name.header.xml")
    check "$name: info names the domain vmsguest" \
        [ "$(jq -r .libvirt_image.name "$j")" = vmsguest ]
    check "$name: info gives the UUID of the stored XML ($uuid)" \
        [ "$(jq -r .libvirt_image.uuid "$j")" = "$uuid" ]
    want=false; [ "$was_running" = 1 ] && want=true
    check "$name: info says resumes_on_restore=$want" \
        [ "$(jq -r .libvirt_image.resumes_on_restore "$j")" = "$want" ]
    check "$name: format $format, data_len $data_len" \
        [ "$(jq -r '"\(.libvirt_image.format) \(.libvirt_image.data_len)"' "$j")" = "$format $data_len" ]
    comp=$payload; [ "$comp" = qemu ] && comp=none
    check "$name: compression $comp, stream $stream_size bytes" \
        [ "$(jq -r '"\(.compression) \(.length)"' "$j")" = "$comp $stream_size" ]
    if [ "$was_running" = 1 ]; then
        "$VMSTREAM" info "$img" | grep -q '^on restore: *resumes the guest'
    else
        "$VMSTREAM" info "$img" | grep -q '^on restore: *guest stays paused'
    fi
    check "$name: info text says what virsh restore does" [ $? -eq 0 ]
    "$VMSTREAM" xml "$img" > "$TMP/$name.xml"
    check "$name: xml prints the XML exactly as stored" \
        cmp -s "$TMP/$name.xml" "$D/$name.header.xml"
    checke "$name: ... which is not virsh save-image-dumpxml's reformatting" \
        '[ "$dumpeq" = no ] && ! cmp -s "$TMP/$name.xml" "$D/$name.dumpxml.xml"'

    # convert --to v23, then --to v22
    v23=$TMP/$name.v23.img
    v22=$TMP/$name.v22.img
    if ! "$VMSTREAM" convert --to v23 "$img" "$v23" 2>/dev/null ||
       ! "$VMSTREAM" convert --to v22 "$v23" "$v22" 2>/dev/null; then
        not_ok "$name: convert --to v23 then --to v22"
        continue
    fi
    check "$name: the v23 image is v23 inside the same container" \
        [ "$(jq -r '"\([.vcpus[].layout]|unique|join(",")) \(.compression) \(.libvirt_image.format)"' \
            "$(sh -c '"$0" info --json "$1" > "$2"; echo "$2"' "$VMSTREAM" "$v23" "$TMP/v23.json")")" = "v23 $comp $format" ]
    hl=$((92 + data_len))
    check "$name: header, XML, cookie and slack round-trip byte for byte" \
        cmp -s -n "$hl" "$img" "$v22"
    check "$name: the inner stream round-trips ($payload decompressed by its own tool)" \
        [ "$(inner "$v22" "$data_len" "$payload")" = "$stream_sha" ]
    case $payload in
    qemu|bzip2|xz|lzop)
        # libvirt runs cat / bzip2 -c / xz -c -3 / lzop -c: the same
        # encoders (lzop: the input's header, with its mtime, repeated)
        check "$name: the file round-trips byte for byte" cmp -s "$img" "$v22" ;;
    gzip)
        # gzip(1) and zlib deflate differently at the same level
        check "$name: gzip payload valid and the same stream" gzip -t < \
            "$(tail -c +$((hl + 1)) "$v22" > "$TMP/p.gz"; echo "$TMP/p.gz")" ;;
    esac
done < "$TMP/facts"

# ---- --xml / --paused / --running against libvirt's own save-image-define
def=$(image libvirt-raw-define)
zstd -q -d -c "$D/libvirt-raw-define.before-header.bin.zst" > "$TMP/before.bin"
n=$(wc -c < "$TMP/before.bin")
{ cat "$TMP/before.bin"; tail -c +$((n + 1)) "$def"; } > "$TMP/orig.img"
check "define: the image before save-image-define resumes on restore" \
    [ "$(sh -c '"$0" info --json "$1"' "$VMSTREAM" "$TMP/orig.img" | jq -r .libvirt_image.resumes_on_restore)" = true ]
"$VMSTREAM" convert --to v22 --xml "$D/libvirt-raw-define.header.xml" \
    --paused "$TMP/orig.img" "$TMP/def.img" 2>/dev/null
check "define: convert --xml (the XML libvirt stored) --paused = virsh save-image-define --paused, byte for byte" \
    cmp -s "$TMP/def.img" "$def"
"$VMSTREAM" convert --to v22 --running "$def" "$TMP/run.img" 2>/dev/null
check "--running: exactly one byte differs (was_running 0 -> 1)" \
    [ "$(cmp -l "$def" "$TMP/run.img" | tr -s ' ' | sed 's/^ //')" = "25 0 1" ]
raw=$(image libvirt-raw)
"$VMSTREAM" convert --to v22 --paused "$raw" "$TMP/paused.img" 2>/dev/null
check "--paused: exactly one byte differs (was_running 1 -> 0)" \
    [ "$(cmp -l "$raw" "$TMP/paused.img" | tr -s ' ' | sed 's/^ //')" = "25 1 0" ]

# An XML larger than the slack: data_len grows as a fresh save sizes it.
{
    sed -n '1,/<\/uuid>/p' "$D/libvirt-xz.header.xml"
    printf '  <description>'
    head -c 70000 /dev/zero | tr '\0' x
    printf '</description>\n'
    sed -n '/<\/uuid>/,$p' "$D/libvirt-xz.header.xml" | tail -n +2
} > "$TMP/big.xml"
if "$VMSTREAM" convert --to v22 --xml "$TMP/big.xml" "$D/libvirt-xz.img" \
        "$TMP/big.img" 2>/dev/null; then
    "$VMSTREAM" xml "$TMP/big.img" > "$TMP/big.out"
    check "--xml larger than the slack: stored exactly" cmp -s "$TMP/big.out" "$TMP/big.xml"
    xl=$(wc -c < "$TMP/big.xml")
    dl=$(sh -c '"$0" info --json "$1"' "$VMSTREAM" "$TMP/big.img" | jq .libvirt_image.data_len)
    check "--xml larger than the slack: data_len = XML + NUL + cookie + NUL + 65536 ($dl)" \
        [ "$dl" -eq $((xl + 1 + 36 + 1 + 65536)) ]
    check "--xml larger than the slack: the cookie kept after the XML" \
        [ "$(tail -c +$((92 + xl + 2)) "$TMP/big.img" | head -c 36)" = "$(printf '<cookie>\n  <slirpHelper/>\n</cookie>\n')" ]
    check "--xml larger than the slack: still xz, same inner stream" \
        [ "$(inner "$TMP/big.img" "$dl" xz)" = "$(inner "$D/libvirt-xz.img" 66822 xz)" ]
else
    not_ok "--xml larger than the slack: convert exits 0"
fi

# an XML without a domain <name> is refused, nothing written
printf '<domain type="qemu">\n  <uuid>x</uuid>\n</domain>\n' > "$TMP/noname.xml"
"$VMSTREAM" convert --to v22 --xml "$TMP/noname.xml" "$D/libvirt-xz.img" \
    "$TMP/noname.img" 2>/dev/null
rc=$?
checke "--xml without a domain <name>: usage error (exit 2), nothing written" \
    '[ $rc -eq 2 ] && [ ! -e "$TMP/noname.img" ]'

# ---- format codes libvirt 9.0 does not know --------------------------------
rm -f "$TMP/z.img"
"$VMSTREAM" convert --to v22 --compress zstd "$raw" "$TMP/z.img" 2> "$TMP/z.err"
rc=$?
checke "--compress zstd on a libvirt image is refused (exit 1) and says how to insist" \
    '[ $rc -eq 1 ] && grep -q -- --force-format "$TMP/z.err" && [ ! -e "$TMP/z.img" ]'
"$VMSTREAM" convert --to v22 --compress zstd --force-format "$raw" "$TMP/z.img" 2>/dev/null
check "--force-format writes format 5 with a zstd payload" \
    [ "$(sh -c '"$0" info --json "$1"' "$VMSTREAM" "$TMP/z.img" | jq -r '"\(.libvirt_image.format) \(.compression)"')" = "5 zstd" ]
"$VMSTREAM" convert --to v22 --compress lzop "$raw" "$TMP/l.img" 2>/dev/null
lf=$("$VMSTREAM" info --json "$TMP/l.img" | jq -r .libvirt_image.format)
checke "--compress lzop on a raw image: format 4, lzop(1) reads the payload" \
    '[ "$lf" = 4 ] && [ "$(inner "$TMP/l.img" 66822 lzop)" = "$(inner "$raw" 66822 qemu)" ]'
"$VMSTREAM" convert --to v22 --xml "$D/domain.xml" \
    "$VECTORS/real-v22/aa64-virt72-cortex-a53-1cpu.mig.zst" "$TMP/x.mig" 2>/dev/null
check "--xml on a plain stream is a usage error (exit 2)" [ $? -eq 2 ]

# ---- an unfinished save ------------------------------------------------------
{ printf 'LibvirtQemudPart'; tail -c +17 "$raw"; } > "$TMP/part.img"
"$VMSTREAM" info "$TMP/part.img" > /dev/null 2> "$TMP/part.err"
rc=$?
checke "LibvirtQemudPart: info exits 1 and says the save is unfinished" \
    '[ $rc -eq 1 ] && grep -q unfinished "$TMP/part.err"'
# header says xz, payload is raw
cp "$raw" "$TMP/lie.img"
printf '\003' | dd of="$TMP/lie.img" bs=1 seek=28 conv=notrunc 2>/dev/null
"$VMSTREAM" info "$TMP/lie.img" > /dev/null 2> "$TMP/lie.err"
rc=$?
checke "a header naming xz before a raw stream is refused, saying so" \
    '[ $rc -eq 1 ] && grep -q "format 3 (xz)" "$TMP/lie.err"'

# ---- standalone compressed streams ------------------------------------------
s=$VECTORS/real-v22/aa64-virt72-cortex-a53-1cpu.mig.zst
zstd -q -d -c "$s" > "$TMP/s.mig"
len=$(wc -c < "$TMP/s.mig")
for c in bzip2 xz lzop; do
    $c -c < "$TMP/s.mig" > "$TMP/s.$c"
    check "a standalone $c stream: info reads all $len bytes" \
        [ "$(sh -c '"$0" info --json "$1"' "$VMSTREAM" "$TMP/s.$c" | jq -r '"\(.compression) \(.length)"')" = "$c $len" ]
    "$VMSTREAM" convert --to v23 "$TMP/s.$c" "$TMP/o.$c" 2>/dev/null
    "$VMSTREAM" convert --to v22 --compress none "$TMP/o.$c" "$TMP/o.$c.mig" 2>/dev/null
    checke "$c: convert keeps $c ($c -t accepts it) and round-trips the stream" \
        '$c -t "$TMP/o.$c" >/dev/null 2>&1 && cmp -s "$TMP/o.$c.mig" "$TMP/s.mig"'
    # --to v22 of a v22 stream repeats a bzip2 -c or lzop -c file exactly
    # (lzop: its header, mtime included, is the input's); not xz -c, whose
    # default preset is 6 where vmstream writes libvirt's 3
    [ "$c" = xz ] && continue
    "$VMSTREAM" convert --to v22 "$TMP/s.$c" "$TMP/same.$c" 2>/dev/null
    check "$c: convert --to v22 of a v22 $c -c file is that file, byte for byte" \
        cmp -s "$TMP/same.$c" "$TMP/s.$c"
done
finish
