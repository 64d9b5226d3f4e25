#!/bin/sh
# tests/vectors/bad.sh - malformed streams (tests/vectors/bad/MANIFEST.tsv):
# exit code and message of info/check/convert, bounded memory on the
# compression bombs, and no output file left behind by a failed or killed
# convert.  Needs $VMSTREAM and $VECTORS (set by "make check"); zstd for
# the interrupted-convert tests.  Ends with "N passed, M failed".
set -u
: "${VMSTREAM:?VMSTREAM must name the vmstream binary}"
: "${VECTORS:?VECTORS must name tests/vectors}"
BAD="$VECTORS/bad"
PASSED=0
FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmstream-bad.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

TIME=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M true > /dev/null 2>&1; then
    TIME=/usr/bin/time
fi
# A sanitizer build needs more memory: the RSS limits are for plain builds.
SANITIZED=no
if grep -q -a -e __asan_init -e __ubsan_handle "$VMSTREAM" 2> /dev/null; then
    SANITIZED=yes
    echo "# $VMSTREAM is a sanitizer build: peak RSS limits not checked"
fi
# sanitized OUTFILE: did a sanitizer report anything?
sanitized() {
    grep -q -E 'ERROR: (Address|Leak|Memory)Sanitizer|runtime error:' "$1"
}
TIMEOUT=
if command -v timeout > /dev/null 2>&1; then
    TIMEOUT="timeout 120"
fi

# run OUTFILE CMD...: run with a time limit, stdout+stderr to OUTFILE,
# peak RSS (KiB) to OUTFILE.rss when /usr/bin/time is there; sets $rc.
run() {
    o=$1
    shift
    if [ -n "$TIME" ]; then
        # shellcheck disable=SC2086
        $TIMEOUT $TIME -o "$o.rss" -f %M "$@" > "$o" 2>&1
        rc=$?
    else
        # shellcheck disable=SC2086
        $TIMEOUT "$@" > "$o" 2>&1
        rc=$?
        echo 0 > "$o.rss"
    fi
}

# leftovers DIR NAME: any NAME or NAME.vmstream-* in DIR?
leftovers() {
    ls -A "$1" 2> /dev/null | grep -E "^$2(\.vmstream-.*)?$" || true
}

# ---- the manifest ---------------------------------------------------------
tab=$(printf '\t')
n=0
while IFS="$tab" read -r file cmd want msg rss_mb; do
    case $file in '#'* | '') continue ;; esac
    n=$((n + 1))
    f="$BAD/$file"
    if [ ! -f "$f" ]; then
        not_ok "$file: missing (run tests/vectors/bad/mkbad.py)"
        continue
    fi
    set -- $cmd
    verb=$1
    shift
    opts=""
    for w in "$@"; do
        case $w in
        @*) opts="$opts $BAD/${w#@}" ;;
        *) opts="$opts $w" ;;
        esac
    done
    out="$TMP/out.$n"
    case $verb in
    convert)
        dir="$TMP/conv.$n"
        mkdir -p "$dir"
        [ -n "$opts" ] || opts=" --to v23"
        # shellcheck disable=SC2086
        run "$out" "$VMSTREAM" convert $opts "$f" "$dir/out"
        ;;
    *)
        # shellcheck disable=SC2086
        run "$out" "$VMSTREAM" "$verb" $opts "$f"
        ;;
    esac
    desc="$file: $verb$opts -> $want"
    if sanitized "$out"; then
        not_ok "$desc (sanitizer report: $(grep -m 1 -E 'ERROR|runtime error' "$out"))"
        continue
    fi
    if [ "$rc" -ne "$want" ]; then
        not_ok "$desc (got exit $rc: $(head -c 300 "$out" | tr '\n' ' '))"
        continue
    fi
    if ! grep -F -q -- "$msg" "$out"; then
        not_ok "$desc (no \"$msg\" in: $(head -c 300 "$out" | tr '\n' ' '))"
        continue
    fi
    if [ -n "${rss_mb:-}" ] && [ -n "$TIME" ] && [ $SANITIZED = no ]; then
        kb=$(tail -n 1 "$out.rss")
        if [ "$kb" -gt $((rss_mb * 1024)) ]; then
            not_ok "$desc (peak RSS ${kb} KiB > $rss_mb MiB)"
            continue
        fi
        desc="$desc, peak RSS $((kb / 1024)) MiB <= $rss_mb"
    fi
    if [ "$verb" = convert ]; then
        left=$(leftovers "$dir" out)
        if [ "$want" -ne 0 ] && [ -n "$left" ]; then
            not_ok "$desc (left behind: $left)"
            continue
        fi
        rm -rf "$dir"
    fi
    ok "$desc"
done < "$BAD/MANIFEST.tsv"

# ---- every bad stream: a failed convert leaves nothing --------------------
for f in "$BAD"/*; do
    case $f in *.tsv | *.py | *.profile) continue ;; esac
    name=$(basename "$f")
    dir="$TMP/all"
    rm -rf "$dir"
    mkdir -p "$dir"
    run "$TMP/all.out" "$VMSTREAM" convert --to v23 "$f" "$dir/out"
    left=$(leftovers "$dir" out)
    if sanitized "$TMP/all.out"; then
        not_ok "$name: convert: sanitizer report: $(grep -m 1 -E 'ERROR|runtime error' "$TMP/all.out")"
    elif [ "$rc" -ne 0 ] && [ -n "$left" ]; then
        not_ok "$name: convert failed (exit $rc) but left $left"
    elif [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ] && [ "$rc" -ne 2 ]; then
        not_ok "$name: convert exit $rc (crash?): $(head -c 300 "$TMP/all.out")"
    else
        ok "$name: convert --to v23 exit $rc, nothing left behind on failure"
    fi
done

# ---- a convert killed while it writes -------------------------------------
# The input arrives through a FIFO: most of a real stream, then a pause;
# vmstream is killed during the pause, with RAM already in its temp file.
if command -v zstd > /dev/null 2>&1 && command -v mkfifo > /dev/null 2>&1; then
    real="$VECTORS/real-v22/aa64-virt72-cortex-a57-1cpu.mig.zst"
    zstd -q -d -c "$real" > "$TMP/real.mig"
    size=$(wc -c < "$TMP/real.mig")
    head_bytes=$((size / 2))
    for sig in KILL TERM; do
        for old in yes no; do
            dir="$TMP/kill-$sig-$old"
            mkdir -p "$dir"
            if [ $old = yes ]; then
                echo "the old file" > "$dir/out"
            fi
            mkfifo "$dir/fifo"
            "$VMSTREAM" convert --to v23 - "$dir/out" < "$dir/fifo" \
                > "$dir/log" 2>&1 &
            pid=$!
            {
                head -c "$head_bytes" "$TMP/real.mig"
                exec sleep 30       # so that $feeder is the sleep
            } > "$dir/fifo" 2> /dev/null &
            feeder=$!
            # wait until the temp file has the first half of the stream
            i=0
            while [ $i -lt 100 ]; do
                t=$(ls "$dir" | grep '^out\.vmstream-' | head -n 1)
                if [ -n "$t" ] &&
                   [ "$(wc -c < "$dir/$t")" -ge $((head_bytes / 2)) ]; then
                    break
                fi
                sleep 0.1
                i=$((i + 1))
            done
            kill -s $sig $pid 2> /dev/null
            wait $pid 2> /dev/null
            kill $feeder 2> /dev/null
            wait $feeder 2> /dev/null
            temps=$(ls "$dir" | grep '^out\.vmstream-' || true)
            desc="convert killed with SIG$sig mid-write, old OUT $old"
            if [ $old = yes ] && ! grep -q -x "the old file" "$dir/out" 2> /dev/null; then
                not_ok "$desc: the old OUT was changed or removed"
            elif [ $old = no ] && [ -e "$dir/out" ]; then
                not_ok "$desc: an OUT appeared"
            elif [ $sig = TERM ] && [ -n "$temps" ]; then
                not_ok "$desc: temporary file left: $temps"
            elif [ $i -ge 100 ]; then
                not_ok "$desc: no temporary file was being written"
            else
                ok "$desc${temps:+ (SIGKILL leaves $temps)}"
            fi
            rm -rf "$dir"
        done
    done
else
    echo "# skipping the interrupted-convert tests: zstd or mkfifo missing"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
