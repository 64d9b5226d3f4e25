#!/bin/sh
# The command line of every subcommand: --help exits 0 and lists every
# option of the command's table (taken from the source, so a row added
# without help text fails here), an unknown option and a missing option
# argument exit 2 with one line naming the command, short options work,
# and src/cli includes no library header but the facade vmstream.h.
. "$TESTLIB"
need jq zstd
jqt() { jq -e "$@" > /dev/null; }

SRC=$(cd "$VECTORS/../.." && pwd)
CMDS="info dump regs check profile convert extract core diff proxy"

# Long options of a table: the CLI_OPT_*("name", ...) rows between
# "NAME[] = {" and CLI_OPT_END in FILE, and those of the tables it
# includes (CLI_OPT_INCLUDE(rows, ...), found in src/cli/*.c).
rows_of() {   # FILE NAME
    awk -v n="$2[] = {" 'index($0, n) { on = 1; next }
                         on && /CLI_OPT_END/ { exit }
                         on { print }' "$1" | tr '\n' ' ' > "$TMP/rows"
    grep -o 'CLI_OPT_[A-Z]*( *"[a-z0-9-]*"' "$TMP/rows" |
        sed 's/.*"\(.*\)"/\1/'
    for sub in $(grep -o 'CLI_OPT_INCLUDE( *[a-z_]*' "$TMP/rows" |
                 sed 's/.*( *//'); do
        rows_of "$(grep -l "$sub\[\] = {" "$SRC"/src/cli/*.c)" "$sub"
    done
}
table_opts() {
    rows_of "$SRC/src/cli/cmd_$1.c" opts | sort -u
}

for c in $CMDS; do
    out="$TMP/$c.help"
    "$VMSTREAM" "$c" --help > "$out" 2> "$TMP/$c.err"
    rc=$?
    check "$c --help exits 0" [ $rc -eq 0 ]
    check "$c --help writes nothing to stderr" [ ! -s "$TMP/$c.err" ]
    check "$c --help starts with its usage" \
        grep -q "^Usage: vmstream $c" "$out"
    "$VMSTREAM" "$c" -h | cmp -s - "$out"
    check "$c -h is --help" [ $? -eq 0 ]
    n=0
    missing=""
    for o in $(table_opts "$c"); do
        n=$((n + 1))
        grep -q -- "--$o\b" "$out" || missing="$missing --$o"
    done
    check "$c: the table has options ($n)" [ "$n" -gt 0 ]
    check "$c --help lists every option of its table (missing:$missing)" \
        [ -z "$missing" ]
    # Every short option in the help works as its long form: it is
    # accepted by the parser (an error, if any, is not a usage error).
    for s in $(grep -o '^  -[a-zA-Z],' "$out" | tr -d ' ,-'); do
        [ "$s" = h ] && continue
        "$VMSTREAM" "$c" "-$s" > /dev/null 2> "$TMP/short.err" < /dev/null
        if grep -q "unknown option" "$TMP/short.err"; then
            not_ok "$c -$s: documented short option accepted"
        else
            ok "$c -$s: documented short option accepted"
        fi
    done

    "$VMSTREAM" "$c" --no-such-option x y > "$TMP/o" 2> "$TMP/e"
    rc=$?
    check "$c --no-such-option exits 2" [ $rc -eq 2 ]
    check "$c --no-such-option: one line on stderr" \
        [ "$(wc -l < "$TMP/e")" -eq 1 ]
    check "$c --no-such-option: the line names the command and option" \
        grep -q "^vmstream $c: unknown option '--no-such-option'" "$TMP/e"
    check "$c --no-such-option: nothing on stdout" [ ! -s "$TMP/o" ]
    "$VMSTREAM" "$c" -Z x y > /dev/null 2> "$TMP/e"
    rc=$?
    check "$c -Z (unknown short option) exits 2" [ $rc -eq 2 ]
    check "$c -Z: named in one line" \
        sh -c "[ \$(wc -l < '$TMP/e') -eq 1 ] && grep -q \"unknown option '-Z'\" '$TMP/e'"
    # An option that takes an argument, given last without one.
    argopt=$(grep -o '^ *\(-[a-zA-Z], \)\?--[a-z0-9-]* [A-Z]' "$out" |
             head -1 | sed 's/.*\(--[a-z0-9-]*\).*/\1/')
    if [ -n "$argopt" ]; then
        "$VMSTREAM" "$c" "$argopt" > /dev/null 2> "$TMP/e"
        rc=$?
        check "$c $argopt (no argument) exits 2" [ $rc -eq 2 ]
        check "$c $argopt (no argument): one line saying so" \
            sh -c "[ \$(wc -l < '$TMP/e') -eq 1 ] && grep -q \"^vmstream $c: option '$argopt' needs an argument\" '$TMP/e'"
    fi
done

# Short options do what their long forms do.
V22="$VECTORS/real-v22/aa64-virt72-cortex-a53-2cpu.mig.zst"
"$VMSTREAM" info --json "$V22" > "$TMP/long.json"
"$VMSTREAM" info -j "$V22" > "$TMP/short.json"
check "info -j = info --json" cmp -s "$TMP/long.json" "$TMP/short.json"
check "info --json is JSON" jqt . "$TMP/long.json"
"$VMSTREAM" dump -j -s cpu:1 "$V22" > "$TMP/short.json"
"$VMSTREAM" dump --json --section cpu:1 "$V22" > "$TMP/long.json"
check "dump -j -s = dump --json --section" \
    cmp -s "$TMP/long.json" "$TMP/short.json"
"$VMSTREAM" convert -t v23 -d CNTV_CTL_EL0 "$V22" "$TMP/s.mig" 2> /dev/null
"$VMSTREAM" convert --to v23 --drop CNTV_CTL_EL0 "$V22" "$TMP/l.mig" \
    2> /dev/null
check "convert -t -d = convert --to --drop" cmp -s "$TMP/s.mig" "$TMP/l.mig"
check "convert -t v23 wrote a v23 stream" \
    sh -c "'$VMSTREAM' info '$TMP/s.mig' | grep -q ' v23 '"
"$VMSTREAM" info -p 1000 "$V22" > /dev/null 2> "$TMP/e"
check "info -p 1000 (not a power of two) exits 2" [ $? -eq 2 ]
"$VMSTREAM" regs --cpu -1 "$V22" > /dev/null 2> "$TMP/e"
check "regs --cpu -1 exits 2" [ $? -eq 2 ]
"$VMSTREAM" core --sve-max-vq 17 "$V22" "$TMP/core" > /dev/null 2> "$TMP/e"
check "core --sve-max-vq 17 exits 2 (range 1..16)" [ $? -eq 2 ]
"$VMSTREAM" regs "$V22" extra > /dev/null 2> "$TMP/e"
check "regs with two operands exits 2" [ $? -eq 2 ]
check "... saying what it expected" grep -q "^vmstream regs: expected one STREAM" "$TMP/e"
"$VMSTREAM" check --dest qemu-7.2-tcg:cortex-a53 --dest-stream "$V22" \
    "$V22" > /dev/null 2> "$TMP/e"
check "check --dest with --dest-stream exits 2" [ $? -eq 2 ]
"$VMSTREAM" > /dev/null 2>&1
check "vmstream without a command exits 2" [ $? -eq 2 ]
"$VMSTREAM" --help > "$TMP/main.help"
check "vmstream --help exits 0" [ $? -eq 0 ]
for c in $CMDS; do
    check "vmstream --help lists $c" grep -q "^  $c " "$TMP/main.help"
done
"$VMSTREAM" frobnicate > /dev/null 2>&1
check "unknown command exits 2" [ $? -eq 2 ]

# The CLI includes the facade, no wing header directly.
bad=$(grep -ho '#include "[^"]*"' "$SRC"/src/cli/*.c "$SRC"/src/cli/*.h |
      sort -u | grep -v '"\(config\|vmstream\|cli\|cli_[a-z]*\|forensics\)\.h"')
check "src/cli includes only vmstream.h of the library (extra: $bad)" \
    [ -z "$bad" ]
check "no getopt in any cmd_*.c" \
    sh -c "! grep -l getopt '$SRC'/src/cli/cmd_*.c '$SRC'/src/cli/main.c"

finish
