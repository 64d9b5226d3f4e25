# ramlayouts2c.awk - formats/ram-layouts.tsv -> C table (gen/ram_layouts.c).
# Rejects malformed rows so a bad table breaks the build.
BEGIN {
    FS = "\t"
    n = 0
    print "/* Generated from formats/ram-layouts.tsv by ramlayouts2c.awk. */"
    print "#include \"config.h\""
    print "#include \"ramlayout.h\""
    print ""
    print "const struct vms_ram_layout vms_ram_layouts[] = {"
}
/^#/ || /^[ \t]*$/ { next }
{
    if (NF != 4) {
        printf "%s:%d: expected 4 columns, got %d\n", FILENAME, FNR, NF > "/dev/stderr"
        bad = 1
        exit 1
    }
    if ($3 !~ /^0x[0-9a-fA-F]+$/ || length($3) > 18) {
        printf "%s:%d: gpa must be hex (0x...), at most 64 bits\n", FILENAME, FNR > "/dev/stderr"
        bad = 1
        exit 1
    }
    if ($4 != "yes" && $4 != "no") {
        printf "%s:%d: dump must be yes or no\n", FILENAME, FNR > "/dev/stderr"
        bad = 1
        exit 1
    }
    if ($1 ~ /["\\]/ || $2 ~ /["\\]/ || $1 == "" || $2 == "") {
        printf "%s:%d: empty name or quote/backslash in a name\n", FILENAME, FNR > "/dev/stderr"
        bad = 1
        exit 1
    }
    key = $1 SUBSEP $2
    if (key in seen) {
        printf "%s:%d: duplicate block %s for %s\n", FILENAME, FNR, $2, $1 > "/dev/stderr"
        bad = 1
        exit 1
    }
    seen[key] = 1
    printf "    { \"%s\", \"%s\", UINT64_C(%s), %d },\n", $1, $2, $3, ($4 == "yes")
    n++
}
END {
    if (bad) {
        exit 1
    }
    print "};"
    printf "const size_t vms_ram_layouts_count = %d;\n", n
}
