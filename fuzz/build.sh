#!/bin/sh
# fuzz/build.sh SRC BUILD - build the libFuzzer harnesses of vmstream.
#
# SRC is the source tree (the directory holding src/, formats/, fuzz/),
# BUILD an output directory (created).  Needs clang with libFuzzer
# (Debian 12: libclang_rt.fuzzer is in libclang-rt-14-dev), pkg-config
# and the -dev packages of zlib, libzstd, liblzma, libbz2, liblzo2, libxxhash
# and json-c.  Generates the
# tables of formats/ into BUILD/gen exactly as Makefile.am does, compiles
# every library source with
#   -fsanitize=fuzzer-no-link,address,undefined
# and links each fuzz/fuzz_*.c into BUILD/fuzz_<name>.
#
# Environment: CC (default clang), AWK (default awk), FUZZ_CFLAGS (extra
# flags, e.g. -O2 or -DVMS_FUZZ_DEBUG), FUZZ_SANITIZERS (default
# address,undefined), JOBS (parallel compiles, default 2).
# Prints the paths of the harnesses it built.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 SRC BUILD" >&2
    exit 2
fi
SRC=$(cd "$1" && pwd)
mkdir -p "$2"
BUILD=$(cd "$2" && pwd)
CC=${CC:-clang}
AWK=${AWK:-awk}
SAN=${FUZZ_SANITIZERS:-address,undefined}
JOBS=${JOBS:-2}

if ! command -v "$CC" > /dev/null 2>&1; then
    echo "fuzz/build.sh: $CC not found (apt-get install clang)" >&2
    exit 77
fi
# libFuzzer is part of clang's runtime (libclang-rt-14-dev on Debian 12).
probe="$BUILD/probe"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$probe.c"
if ! "$CC" -fsanitize=fuzzer,$SAN "$probe.c" -o "$probe" 2> "$probe.log"; then
    echo "fuzz/build.sh: $CC cannot link -fsanitize=fuzzer,$SAN:" >&2
    cat "$probe.log" >&2
    echo "(Debian: apt-get install clang libclang-rt-14-dev)" >&2
    exit 77
fi
rm -f "$probe" "$probe.c" "$probe.log"

DEPS="zlib libzstd liblzma lzo2 libxxhash json-c"
PKG_CFLAGS=$(pkg-config --cflags $DEPS)
PKG_LIBS="$(pkg-config --libs $DEPS) $(pkg-config --libs bzip2 2>/dev/null || echo -lbz2)"

# ---- generated tables (same rules as Makefile.am) ------------------------
mkdir -p "$BUILD/gen" "$BUILD/obj"
F="$SRC/formats"
gen() {   # gen OUT CMD...: regenerate OUT only when it changes
    out=$1
    shift
    "$@" > "$out.tmp"
    if [ -f "$out" ] && cmp -s "$out.tmp" "$out"; then
        rm -f "$out.tmp"
    else
        mv "$out.tmp" "$out"
    fi
}
gen "$BUILD/gen/cpreg_names.c" "$AWK" -f "$F/cpreg2c.awk" \
    "$F/aarch64-sysreg-names.tsv" "$F/aarch32-cpreg-names.tsv" \
    "$F/cpreg-extra-names.tsv"
gen "$BUILD/gen/cpu_layouts.c" "$AWK" -f "$F/layouts2c.awk" \
    "$F/cpu-layouts.tsv"
gen "$BUILD/gen/tcg_const.c" "$AWK" -f "$F/tcgconst2c.awk" \
    "$F/tcg-const-regs.tsv" "$F/tcg-write-masks.tsv" "$F/tcg-aliases.tsv"
gen10() { "$AWK" -f "$F/tcgconst2c.awk" "$F/tcg-const-regs-10.0.tsv" |
    sed 's/vms_tcg_/vms_tcg10_/g'; }
gen "$BUILD/gen/tcg10_const.c" gen10
# shellcheck disable=SC2046
gen "$BUILD/gen/profiles.c" sh "$F/profiles2c.sh" \
    $(ls "$F"/profiles/*.profile 2> /dev/null || true)

# The library includes "config.h"; only PACKAGE_VERSION-style macros are
# used, so a fixed one keeps this build independent of configure.
cat > "$BUILD/gen/config.h.tmp" <<'H'
/* config.h for the fuzz build (fuzz/build.sh) */
#define PACKAGE "vmstream"
#define PACKAGE_NAME "vmstream"
#define PACKAGE_VERSION "fuzz"
#define VERSION "fuzz"
#define _FILE_OFFSET_BITS 64
#define _GNU_SOURCE 1
#define _ALL_SOURCE 1
#define _DARWIN_C_SOURCE 1
#define __EXTENSIONS__ 1
H
if [ -f "$BUILD/gen/config.h" ] && cmp -s "$BUILD/gen/config.h.tmp" "$BUILD/gen/config.h"; then
    rm -f "$BUILD/gen/config.h.tmp"
else
    mv "$BUILD/gen/config.h.tmp" "$BUILD/gen/config.h"
fi

CFLAGS="-std=gnu11 -g -O1 -fno-omit-frame-pointer -gline-tables-only \
-fsanitize=fuzzer-no-link,$SAN -fno-sanitize-recover=undefined \
-DVMS_FUZZING=1 -DFUZZ_SRCDIR=\"$SRC\" -I$BUILD/gen -I$SRC/src/lib -I$SRC/src/lib/base -I$SRC/src/lib/io \
-I$SRC/src/lib/stream -I$SRC/src/lib/arm -I$SRC/src/lib/drivers -I$SRC/fuzz $PKG_CFLAGS \
-Wall -Wno-unused-parameter ${FUZZ_CFLAGS:-}"

# ---- compile (in parallel, only what changed) -----------------------------
rm -f "$BUILD/failed"
newer_header() {
    for h in "$SRC"/src/lib/*/*.h "$SRC"/fuzz/*.h "$BUILD/gen/config.h"; do
        [ -f "$h" ] || continue
        if [ "$h" -nt "$1" ]; then
            return 0
        fi
    done
    return 1
}
objs=""
running=0
for c in "$SRC"/src/lib/*/*.c "$BUILD"/gen/*.c "$SRC"/fuzz/fuzz_common.c; do
    [ -f "$c" ] || continue
    o="$BUILD/obj/$(basename "$c" .c).o"
    objs="$objs $o"
    if [ -f "$o" ] && [ "$o" -nt "$c" ] && ! newer_header "$o"; then
        continue
    fi
    # shellcheck disable=SC2086
    ( $CC $CFLAGS -c "$c" -o "$o" || { rm -f "$o"; touch "$BUILD/failed"; } ) &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait
        running=0
    fi
done
wait
if [ -f "$BUILD/failed" ]; then
    echo "fuzz/build.sh: compilation failed" >&2
    exit 1
fi
rm -f "$BUILD/libvms_fuzz.a"
# shellcheck disable=SC2086
ar rcs "$BUILD/libvms_fuzz.a" $objs

# ---- link the harnesses ---------------------------------------------------
for h in "$SRC"/fuzz/fuzz_*.c; do
    name=$(basename "$h" .c)
    [ "$name" = fuzz_common ] && continue
    # shellcheck disable=SC2086
    $CC $CFLAGS -fsanitize=fuzzer "$h" "$BUILD/libvms_fuzz.a" $PKG_LIBS \
        -lpthread -o "$BUILD/$name"
    echo "$BUILD/$name"
done
