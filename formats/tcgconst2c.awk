# tcgconst2c.awk - formats/tcg-const-regs.tsv -> sorted C array of ids.
BEGIN {
    FS = "\t"
    n = 0
}
/^#/ || /^[ \t]*$/ { next }
{
    if (NF != 2 || $1 !~ /^0x[0-9a-f]+$/) {
        printf "%s:%d: expected \"0xID<TAB>NAME\"\n", FILENAME, FNR > "/dev/stderr"
        bad = 1
        exit 1
    }
    if ($1 in seen) {
        printf "%s:%d: duplicate id %s\n", FILENAME, FNR, $1 > "/dev/stderr"
        bad = 1
        exit 1
    }
    if (n > 0 && length($1) == length(prev) && $1 < prev) {
        printf "%s:%d: ids must be sorted\n", FILENAME, FNR > "/dev/stderr"
        bad = 1
        exit 1
    }
    seen[$1] = 1
    prev = $1
    ids[n++] = $1
}
END {
    if (bad) {
        exit 1
    }
    print "/* Generated from formats/tcg-const-regs.tsv by tcgconst2c.awk. */"
    print "#include \"config.h\""
    print "#include <stdint.h>"
    print ""
    print "extern const uint64_t vms_tcg_const_ids[];"
    print "extern const unsigned vms_tcg_const_nids;"
    print "const uint64_t vms_tcg_const_ids[] = {"
    for (i = 0; i < n; i++) {
        printf "    UINT64_C(%s),\n", ids[i]
    }
    print "};"
    printf "const unsigned vms_tcg_const_nids = %d;\n", n
}
