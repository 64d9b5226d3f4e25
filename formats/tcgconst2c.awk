# tcgconst2c.awk - QEMU 7.2 TCG write rules -> sorted C arrays.
#   formats/tcg-const-regs.tsv   "0xID<TAB>NAME": constant registers
#   formats/tcg-write-masks.tsv  "0xID<TAB>0xBITS<TAB>NAME": bits the write
#                                drops
#   formats/tcg-aliases.tsv      "0xID<TAB>0xSTORAGE<TAB>SHIFT<TAB>NAME":
#                                entries that share storage
# Any file may be given alone; ids are sorted in each.
BEGIN {
    FS = "\t"
    n = 0
    nm = 0
    na = 0
}
/^#/ || /^[ \t]*$/ { next }
FNR == 1 || FILENAME != file {
    file = FILENAME
    prev = ""
}
{
    masks = (NF == 3)
    alias = (NF == 4)
    if ((NF < 2 || NF > 4) || $1 !~ /^0x[0-9a-f]+$/ ||
        ((masks || alias) && $2 !~ /^0x[0-9a-f]+$/) ||
        (alias && $3 !~ /^(0|32)$/)) {
        printf "%s:%d: expected \"0xID<TAB>NAME\", " \
               "\"0xID<TAB>0xBITS<TAB>NAME\" or " \
               "\"0xID<TAB>0xSTORAGE<TAB>0|32<TAB>NAME\"\n", FILENAME, FNR \
               > "/dev/stderr"
        bad = 1
        exit 1
    }
    key = (alias ? "a" : masks ? "m" : "c") $1
    if (key in seen) {
        printf "%s:%d: duplicate id %s\n", FILENAME, FNR, $1 > "/dev/stderr"
        bad = 1
        exit 1
    }
    if (prev != "" && length($1) == length(prev) && $1 < prev) {
        printf "%s:%d: ids must be sorted\n", FILENAME, FNR > "/dev/stderr"
        bad = 1
        exit 1
    }
    seen[key] = 1
    prev = $1
    if (alias) {
        aids[na] = $1
        astore[na] = $2
        ashift[na++] = $3
    } else if (masks) {
        mids[nm] = $1
        mbits[nm++] = $2
    } else {
        ids[n++] = $1
    }
}
# a C array of n uint64_t values (one 0 if empty: C has no empty arrays)
function emit(name, vals, n,    i) {
    printf "const uint64_t %s[] = {\n", name
    for (i = 0; i < n; i++) {
        printf "    UINT64_C(%s),\n", vals[i]
    }
    if (n == 0) {
        print "    0"
    }
    print "};"
}

END {
    if (bad) {
        exit 1
    }
    print "/* Generated from formats/tcg-*.tsv by tcgconst2c.awk. */"
    print "#include \"config.h\""
    print "#include <stdint.h>"
    print ""
    print "extern const uint64_t vms_tcg_const_ids[];"
    print "extern const unsigned vms_tcg_const_nids;"
    print "extern const uint64_t vms_tcg_mask_ids[], vms_tcg_mask_bits[];"
    print "extern const unsigned vms_tcg_mask_nids;"
    emit("vms_tcg_const_ids", ids, n)
    printf "const unsigned vms_tcg_const_nids = %d;\n", n
    emit("vms_tcg_mask_ids", mids, nm)
    emit("vms_tcg_mask_bits", mbits, nm)
    printf "const unsigned vms_tcg_mask_nids = %d;\n", nm
    print "extern const uint64_t vms_tcg_alias_ids[], vms_tcg_alias_storage[];"
    print "extern const uint64_t vms_tcg_alias_shift[];"
    print "extern const unsigned vms_tcg_alias_nids;"
    emit("vms_tcg_alias_ids", aids, na)
    emit("vms_tcg_alias_storage", astore, na)
    emit("vms_tcg_alias_shift", ashift, na)
    printf "const unsigned vms_tcg_alias_nids = %d;\n", na
}
