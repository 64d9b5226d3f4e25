# layouts2c.awk - formats/cpu-layouts.tsv -> C table (gen/cpu_layouts.c).
# Rejects malformed rows so a bad table breaks the build.
BEGIN {
    FS = "\t"
    n = 0
    print "/* Generated from formats/cpu-layouts.tsv by layouts2c.awk. */"
    print "#include \"config.h\""
    print "#include \"layout_table.h\""
    print ""
    print "const struct vms_layout_row vms_layout_rows[] = {"
}
/^#/ || /^[ \t]*$/ { next }
{
    if (NF != 6) {
        printf "%s:%d: expected 6 columns, got %d\n", FILENAME, FNR, NF > "/dev/stderr"
        bad = 1
        exit 1
    }
    if ($2 !~ /^[0-9]+$/ || $5 !~ /^[0-9]+$/) {
        printf "%s:%d: version and size must be numbers\n", FILENAME, FNR > "/dev/stderr"
        bad = 1
        exit 1
    }
    key = $1 SUBSEP $3
    if (key in seen) {
        printf "%s:%d: duplicate field %s in %s\n", FILENAME, FNR, $3, $1 > "/dev/stderr"
        bad = 1
        exit 1
    }
    seen[key] = 1
    if ($6 ~ /^[0-9]+$/) {
        cnt = $6
        from = "NULL"
    } else {
        if (!(($1 SUBSEP $6) in seen)) {
            printf "%s:%d: count field %s is not an earlier field\n", FILENAME, FNR, $6 > "/dev/stderr"
            bad = 1
            exit 1
        }
        cnt = 0
        from = "\"" $6 "\""
    }
    printf "    { \"%s\", %s, \"%s\", \"%s\", %s, %s, %s },\n", $1, $2, $3, $4, $5, cnt, from
    n++
}
END {
    if (bad) {
        exit 1
    }
    print "};"
    print ""
    printf "const unsigned vms_layout_nrows = %d;\n", n
}
