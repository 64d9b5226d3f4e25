#!/bin/sh
# tools/qemu10.sh - put QEMU 10.0 beside Debian 12's QEMU 7.2, without
# replacing it.
#
#   tools/qemu10.sh            fetch and unpack (nothing to do when done)
#   tools/qemu10.sh --print    print the aarch64 wrapper's path if installed
#   tools/qemu10.sh --source [DIR]
#                              also fetch and unpack QEMU 10.0's Debian
#                              source into DIR (default /work/qemu-src),
#                              for reading; needs dpkg-dev
#
# QEMU 10.0 comes from Debian's bookworm-backports suite (built for Debian
# 12, so its libraries resolve on a stock Debian 12).  Installing it with
# apt would replace 7.2, so the three packages qemu-system-arm,
# qemu-system-data and qemu-system-common are downloaded with a private apt
# configuration (the system's is not touched) and unpacked with dpkg-deb
# into $QEMU10_ROOT.  Two wrappers are written there:
#     $QEMU10_ROOT/bin/qemu-system-aarch64
#     $QEMU10_ROOT/bin/qemu-system-arm
# copies of tools/qemu10-run (see there: -L, QEMU_MODULE_DIR, and a private
# mount namespace that hides 7.2's modules from 10.0).
#
# Environment:
#   QEMU10_ROOT     where to unpack (default /opt/vmstream/qemu-10.0)
#   QEMU10_VERSION  Debian version (default below)
#   QEMU10_MIRROR   Debian mirror URI (default: the first one the system's
#                   apt sources use for bookworm)
#
# Idempotent: a finished install leaves $QEMU10_ROOT/.installed holding the
# version; a run that finds it (and the binaries) does nothing.  The
# download is unpacked into a temporary sibling directory first and renamed
# into place, so an interrupted run leaves no half install.
# Needs root for writing /opt (or a QEMU10_ROOT you can write), apt-get and
# dpkg-deb.  Cost: 0.7 MB of indexes + 12.9 MB of packages, 85 MB unpacked,
# ~5 s on a fast mirror.
set -eu

QEMU10_VERSION=${QEMU10_VERSION:-1:10.0.2+ds-2+deb13u1~bpo12+1}
QEMU10_ROOT=${QEMU10_ROOT:-/opt/vmstream/qemu-10.0}
PKGS="qemu-system-arm qemu-system-data qemu-system-common"
SUITE=bookworm-backports

here=$(cd "$(dirname "$0")" && pwd)
mode=install
srcdir=/work/qemu-src
case ${1:-} in
"") ;;
--print)
    if [ -f "$QEMU10_ROOT/.installed" ] &&
            [ "$(cat "$QEMU10_ROOT/.installed")" = "$QEMU10_VERSION" ] &&
            [ -x "$QEMU10_ROOT/bin/qemu-system-aarch64" ]; then
        echo "$QEMU10_ROOT/bin/qemu-system-aarch64"
        exit 0
    fi
    exit 1 ;;
--source) mode=source; srcdir=${2:-$srcdir} ;;
-h|--help) sed -n '2,34p' "$0"; exit 0 ;;
*) echo "qemu10.sh: unknown option $1" >&2; exit 2 ;;
esac

say() { printf 'qemu10.sh: %s\n' "$*" >&2; }

# The mirror the system already uses for bookworm (deb822 or one-line
# sources), so that this works wherever the system's apt does.
mirror() {
    if [ -n "${QEMU10_MIRROR:-}" ]; then
        echo "$QEMU10_MIRROR"; return 0
    fi
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'BEGIN { RS = ""; FS = "\n" }
             {
                 deb = 0; bw = 0; uri = ""
                 for (i = 1; i <= NF; i++) {
                     if ($i ~ /^Types:.*(^|[ \t])deb([ \t]|$)/) deb = 1
                     if ($i ~ /^Suites:.*(^|[ \t])bookworm([ \t]|$)/) bw = 1
                     if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
                 }
                 if (deb && bw && uri != "") { print uri; exit }
             }' "$f"
    done | head -n 1 | grep . && return 0
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '$1 == "deb" && $0 ~ /[ \t]bookworm[ \t]/ {
                 for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; exit }
             }' | head -n 1 | grep . && return 0
    return 1
}

# apt-get with a private configuration that sees bookworm-backports only
APTDIR=
private_apt() {
    APTDIR=$(mktemp -d "${TMPDIR:-/tmp}/qemu10-apt.XXXXXX")
    trap 'rm -rf "$APTDIR" "${STAGE:-}"' EXIT
    m=$(mirror) || { say "no bookworm mirror in the system's apt sources (set QEMU10_MIRROR)"; exit 1; }
    mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
    {
        echo "deb $m $SUITE main"
        echo "deb-src $m $SUITE main"
    } >"$APTDIR/sources.list"
    say "private apt: $SUITE from $m"
    apt_q update
}
apt_q() {
    apt-get -q -o Dir::Etc::sourcelist="$APTDIR/sources.list" \
        -o Dir::Etc::sourceparts=- \
        -o Dir::State::Lists="$APTDIR/lists" \
        -o Dir::Cache="$APTDIR/cache" \
        -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
        -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root "$@"
}

if [ "$mode" = source ]; then
    ver=${QEMU10_VERSION#*:}                  # no epoch in directory names
    up=${ver%-*}; up=${up%+ds}
    if [ -d "$srcdir/qemu-$up+ds" ]; then
        say "source already in $srcdir/qemu-$up+ds"; exit 0
    fi
    private_apt
    mkdir -p "$srcdir"
    # the mirror may lack the backport's .dsc and Debian tarball (seen: 404)
    # while it has the upstream tarball: then unpack that (no Debian patches)
    (cd "$srcdir" && apt_q source --download-only "qemu=$QEMU10_VERSION") || true
    dsc=$srcdir/qemu_$ver.dsc
    if [ -f "$dsc" ]; then
        (cd "$srcdir" && dpkg-source -x "$dsc" "qemu-$up+ds")
    elif [ -f "$srcdir/qemu_$up+ds.orig.tar.xz" ]; then
        say "no .dsc on the mirror: unpacking the upstream tarball only"
        mkdir -p "$srcdir/qemu-$up+ds"
        tar -xJf "$srcdir/qemu_$up+ds.orig.tar.xz" -C "$srcdir/qemu-$up+ds" \
            --strip-components=1
    else
        say "could not fetch the source"; exit 1
    fi
    say "source in $srcdir/qemu-$up+ds"
    exit 0
fi

if [ -f "$QEMU10_ROOT/.installed" ] &&
        [ "$(cat "$QEMU10_ROOT/.installed")" = "$QEMU10_VERSION" ] &&
        [ -x "$QEMU10_ROOT/usr/bin/qemu-system-aarch64" ] &&
        [ -x "$QEMU10_ROOT/bin/qemu-system-aarch64" ]; then
    # refresh the wrappers (cheap) in case tools/qemu10-run changed
    for b in qemu-system-aarch64 qemu-system-arm; do
        if ! cmp -s "$here/qemu10-run" "$QEMU10_ROOT/bin/$b"; then
            cp "$here/qemu10-run" "$QEMU10_ROOT/bin/$b.tmp"
            chmod 755 "$QEMU10_ROOT/bin/$b.tmp"
            mv -f "$QEMU10_ROOT/bin/$b.tmp" "$QEMU10_ROOT/bin/$b"
        fi
    done
    exit 0
fi

command -v dpkg-deb >/dev/null || { say "dpkg-deb not found"; exit 1; }
parent=$(dirname "$QEMU10_ROOT")
mkdir -p "$parent"
STAGE=$(mktemp -d "$parent/.qemu-10.0.XXXXXX")
private_apt
mkdir -p "$STAGE/debs"
set --
for p in $PKGS; do set -- "$@" "$p=$QEMU10_VERSION"; done
(cd "$STAGE/debs" && apt_q download "$@")
for d in "$STAGE"/debs/*.deb; do
    dpkg-deb -x "$d" "$STAGE"
done
rm -rf "$STAGE/debs"
[ -x "$STAGE/usr/bin/qemu-system-aarch64" ] ||
    { say "unpacked, but usr/bin/qemu-system-aarch64 is missing"; exit 1; }
mkdir -p "$STAGE/bin" "$STAGE/empty"
for b in qemu-system-aarch64 qemu-system-arm; do
    cp "$here/qemu10-run" "$STAGE/bin/$b"
    chmod 755 "$STAGE/bin/$b"
done
# every library it needs must come from the system
if ldd "$STAGE/usr/bin/qemu-system-aarch64" | grep -q 'not found'; then
    ldd "$STAGE/usr/bin/qemu-system-aarch64" | grep 'not found' >&2
    say "QEMU 10.0 needs libraries this system lacks"; exit 1
fi
echo "$QEMU10_VERSION" >"$STAGE/.installed"
chmod 755 "$STAGE"
rm -rf "$QEMU10_ROOT"
mv "$STAGE" "$QEMU10_ROOT"
STAGE=
"$QEMU10_ROOT/bin/qemu-system-aarch64" --version | head -n 1 >&2
say "installed in $QEMU10_ROOT"
