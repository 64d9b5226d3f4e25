# tests/lib.sh - shared helpers for the shell tests (sourced).
# Each test counts with ok/not_ok and ends with finish, which prints the
# "N passed, M failed" line and exits non-zero on any failure.
set -u
: "${VMSTREAM:?VMSTREAM must name the vmstream binary}"
: "${VECTORS:?VECTORS must name tests/vectors}"

PASSED=0
FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmstream-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok() {
    PASSED=$((PASSED + 1))
    echo "ok - $*"
}

not_ok() {
    FAILED=$((FAILED + 1))
    echo "not ok - $*"
}

check() {
    desc=$1
    shift
    if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}

# Decompress a vector (.zst/.gz or plain) to a file in $TMP; prints path.
plain() {
    out="$TMP/$(basename "$1" | sed 's/\.\(zst\|gz\)$//')"
    case "$1" in
    *.zst) zstd -q -d -c "$1" > "$out" ;;
    *.gz) gzip -d -c "$1" > "$out" ;;
    *) cp "$1" "$out" ;;
    esac
    echo "$out"
}

need() {
    for t in "$@"; do
        if ! command -v "$t" > /dev/null 2>&1; then
            echo "Bail out! $t is required (tools/setup.sh --tests installs it)"
            exit 99
        fi
    done
}
