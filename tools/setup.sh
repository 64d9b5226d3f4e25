#!/bin/sh
# tools/setup.sh - install what vmstream needs on Debian 12, then build it.
#
#   tools/setup.sh           build dependencies, then ./configure && make
#   tools/setup.sh --tests   also everything the tests need (QEMU 7.2 from
#                            qemu-system-arm, QEMU 10.0 unpacked beside it
#                            by tools/qemu10.sh, qemu-system-x86, socat, jq,
#                            python3 for QEMU's analyze-migration.py,
#                            libvirt 9.0 and the compressors of its save
#                            images, clang for the fuzzers, gdb-multiarch), and build
#                            with ASan/UBSan and -Werror
#
# Runs apt-get as root (directly, or through sudo when not root).
set -eu

tests=no
for arg in "$@"; do
    case "$arg" in
    --tests) tests=yes ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done

cd "$(dirname "$0")/.."

BUILD_PKGS="autoconf automake libtool pkgconf make gcc libc6-dev
    zlib1g-dev libzstd-dev libxxhash-dev libjson-c-dev libcmocka-dev zstd
    libbz2-dev liblzma-dev liblzo2-dev"
TEST_PKGS="qemu-system-arm qemu-system-x86 ipxe-qemu socat jq xz-utils gzip
    bzip2 lzop time python3
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients util-linux
    clang libclang-rt-14-dev llvm gdb-multiarch"

pkgs=$BUILD_PKGS
if [ "$tests" = yes ]; then
    pkgs="$pkgs $TEST_PKGS"
fi

missing=
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
SUDO=
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $missing
fi

if [ "$tests" = yes ]; then
    # QEMU 10.0 unpacked beside 7.2 (release-crossing tests); nothing to do
    # when it is there already
    $SUDO tools/qemu10.sh
fi

autoreconf -fi
if [ "$tests" = yes ]; then
    ./configure --enable-sanitizers --enable-werror
else
    ./configure
fi
make -j"$(nproc)"
