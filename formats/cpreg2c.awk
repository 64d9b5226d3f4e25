# cpreg2c.awk - compile the register name tables into gen/cpreg_names.c.
#
#   awk -f formats/cpreg2c.awk formats/aarch64-sysreg-names.tsv \
#       formats/aarch32-cpreg-names.tsv formats/cpreg-extra-names.tsv
#
# Emits vms_cpreg_names[] (declared in src/lib/cpreg.h) sorted by (id, ctx)
# and vms_cpreg_names_count.  Every row is checked; any bad row (wrong column
# count, a field out of range, a kvm_id that does not match its encoding, a
# name with characters outside [A-Za-z0-9_/() ], an id listed twice for the
# same context, a name used twice where that is not intended) is reported
# on stderr and the script exits 1 without writing anything, so a bad table
# breaks the build.  A name may repeat only for rows of different contexts
# or for the 32- and 64-bit views of one AArch32 register.
#
# POSIX awk (mawk, busybox awk, gawk --posix): no gawk extensions.  Ids are
# handled as strings: awk numbers are doubles and cannot hold 64 bits.

BEGIN {
    FS = "\t"
    nrows = 0
    nerr = 0
    hexdigits = "0123456789abcdef"
    ctxname[0] = "any"
    ctxname[1] = "tcg"
    ctxname[2] = "kvm"
}

function err(msg) {
    printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
    nerr++
}

function is_uint(s) {
    return s ~ /^[0-9]+$/
}

# A decimal field in [0, max]; reports and returns -1 otherwise.
function field(s, max, what) {
    if (!is_uint(s) || s + 0 > max) {
        err("bad " what " '" s "' (0.." max ")")
        return -1
    }
    return s + 0
}

function hex4(v) {
    return sprintf("%04x", v)
}

function valid_name(s) {
    return s ~ /^[A-Za-z0-9_][A-Za-z0-9_\/() ]*$/ && s !~ / $/
}

# "A(src),B(src)" or "A,B" -> "A,B"; "-" -> "".  Reports bad items.
function parse_aliases(s,    n, i, a, item, out) {
    if (s == "-") {
        return ""
    }
    n = split(s, a, ",")
    out = ""
    for (i = 1; i <= n; i++) {
        item = a[i]
        sub(/\(.*\)$/, "", item)
        if (item !~ /^[A-Za-z0-9_]+$/) {
            err("bad alias '" a[i] "'")
            continue
        }
        out = (out == "") ? item : out "," item
    }
    return out
}

# Components of a '/'-joined name become aliases, so each can be looked up.
function slash_aliases(name, aliases,    n, i, a) {
    if (index(name, "/") == 0) {
        return aliases
    }
    n = split(name, a, "/")
    for (i = 1; i <= n; i++) {
        if (a[i] !~ /^[A-Za-z0-9_]+$/) {
            err("bad name component '" a[i] "' in '" name "'")
            continue
        }
        aliases = (aliases == "") ? a[i] : aliases "," a[i]
    }
    return aliases
}

function add_row(id, ctx, name, aliases,    key, uname, k, j, other) {
    if (!valid_name(name)) {
        err("bad name '" name "'")
        return
    }
    key = id SUBSEP ctx
    if (key in seen) {
        err("duplicate id " id " (" ctxname[ctx] ") '" name "': already '" \
            rname[seen[key]] "' at " rwhere[seen[key]])
        return
    }
    uname = toupper(name)
    k = (uname in namecount) ? namecount[uname] : 0
    for (j = 1; j <= k; j++) {
        other = namerow[uname, j]
        if (rctx[other] != ctx) {
            continue
        }
        if (substr(id, 1, 4) == "0x40" && substr(rid[other], 1, 4) == "0x40" &&
            substr(id, 1, 6) != substr(rid[other], 1, 6)) {
            continue    # 32- and 64-bit views of one AArch32 register
        }
        err("duplicate name '" name "' for " id ": already " rid[other] \
            " at " rwhere[other])
        return
    }
    nrows++
    rid[nrows] = id
    rctx[nrows] = ctx
    rname[nrows] = name
    ralias[nrows] = aliases
    rwhere[nrows] = FILENAME ":" FNR
    rkey[nrows] = id "" ctx
    seen[key] = nrows
    namecount[uname] = k + 1
    namerow[uname, k + 1] = nrows
}

# Clear QEMU's NS bit 29 of an AArch32 id string (hex digit 11, value 2).
# Bit 28 (KVM_REG_ARM_SECURE_MASK) is not allowed in a table.
function aarch32_canon(id,    d, v) {
    d = substr(id, 11, 1)
    v = index(hexdigits, d) - 1
    if (v % 2 == 1) {
        err("AArch32 id " id " has bit 28 (KVM secure) set")
    }
    if (int(v / 2) % 2 == 1) {
        v -= 2
    }
    return substr(id, 1, 10) substr(hexdigits, v + 1, 1) substr(id, 12)
}

/^#/ || /^[ \t]*$/ {
    next
}

FILENAME ~ /aarch64-sysreg-names\.tsv$/ {
    nfile["aarch64"]++
    if (NF != 9) {
        err("expected 9 columns, got " NF)
        next
    }
    op0 = field($1, 3, "op0")
    op1 = field($2, 7, "op1")
    crn = field($3, 15, "CRn")
    crm = field($4, 15, "CRm")
    op2 = field($5, 7, "op2")
    if (op0 < 0 || op1 < 0 || crn < 0 || crm < 0 || op2 < 0) {
        next
    }
    id = "0x603000000013" hex4(op0 * 16384 + op1 * 2048 + crn * 128 + \
                               crm * 8 + op2)
    if (tolower($7) != id) {
        err("kvm_id " $7 " does not match encoding " id)
        next
    }
    add_row(id, 0, $6, parse_aliases($9))
    next
}

FILENAME ~ /aarch32-cpreg-names\.tsv$/ {
    nfile["aarch32"]++
    if (NF != 10) {
        err("expected 10 columns, got " NF)
        next
    }
    if ($1 != "14" && $1 != "15") {
        err("bad cp '" $1 "' (14 or 15)")
        next
    }
    cp = $1 + 0
    opc1 = field($2, 15, "opc1")
    crn = field($3, 15, "CRn")
    crm = field($4, 15, "CRm")
    opc2 = field($5, 7, "opc2")
    if (opc1 < 0 || crn < 0 || crm < 0 || opc2 < 0) {
        next
    }
    if ($6 == "32") {
        if (opc1 > 7) {
            err("bad opc1 '" $2 "' for a 32-bit register (0..7)")
            next
        }
        pre = "0x4020"
        low = crn * 2048 + crm * 128 + opc1 * 8 + opc2
    } else if ($6 == "64") {
        if (crn != 0 || opc2 != 0) {
            err("64-bit register with CRn/opc2 not 0")
            next
        }
        pre = "0x4030"
        low = crm * 128 + opc1 * 8
    } else {
        err("bad width '" $6 "' (32 or 64)")
        next
    }
    id = pre "0000" hex4(cp) hex4(low)
    if (tolower($8) != id) {
        err("kvm_id " $8 " does not match encoding " id)
        next
    }
    if (tolower($9) != pre "0000" hex4(8192 + cp) hex4(low)) {
        err("qemu_ns_id " $9 " is not kvm_id | 1<<29")
        next
    }
    add_row(id, 0, $7, slash_aliases($7, ""))
    next
}

FILENAME ~ /cpreg-extra-names\.tsv$/ {
    nfile["extra"]++
    if (NF != 5) {
        err("expected 5 columns, got " NF)
        next
    }
    id = $1
    if (length(id) != 18 || id !~ /^0x[0-9a-f]+$/) {
        err("bad id '" id "' (0x and 16 lower-case hex digits)")
        next
    }
    arch = substr(id, 3, 2)
    if (arch != "40" && arch != "60") {
        err("id " id " is neither KVM_REG_ARM nor KVM_REG_ARM64")
        next
    }
    if (arch == "40") {
        id = aarch32_canon(id)
    }
    if ($2 == "any") {
        ctx = 0
    } else if ($2 == "tcg") {
        ctx = 1
    } else if ($2 == "kvm") {
        ctx = 2
    } else {
        err("bad ctx '" $2 "' (any, tcg or kvm)")
        next
    }
    add_row(id, ctx, $3, slash_aliases($3, parse_aliases($4)))
    next
}

{
    err("unknown table (expected aarch64-sysreg-names.tsv, " \
        "aarch32-cpreg-names.tsv or cpreg-extra-names.tsv)")
}

# Heapsort of ord[1..n] by rkey[] (fixed-width strings: string order is
# numeric order).
function sift(lo, hi,    root, child, t) {
    root = lo
    while (root * 2 <= hi) {
        child = root * 2
        if (child < hi && (rkey[ord[child]] "") < (rkey[ord[child + 1]] "")) {
            child++
        }
        if ((rkey[ord[root]] "") < (rkey[ord[child]] "")) {
            t = ord[root]
            ord[root] = ord[child]
            ord[child] = t
            root = child
        } else {
            return
        }
    }
}

function heapsort(n,    i, t) {
    for (i = int(n / 2); i >= 1; i--) {
        sift(i, n)
    }
    for (i = n; i > 1; i--) {
        t = ord[1]
        ord[1] = ord[i]
        ord[i] = t
        sift(1, i - 1)
    }
}

END {
    if (!("aarch64" in nfile) || !("aarch32" in nfile) || !("extra" in nfile)) {
        printf "cpreg2c.awk: need rows from aarch64-sysreg-names.tsv, " \
               "aarch32-cpreg-names.tsv and cpreg-extra-names.tsv\n" \
               > "/dev/stderr"
        nerr++
    }
    if (nerr > 0) {
        printf "cpreg2c.awk: %d error(s)\n", nerr > "/dev/stderr"
        exit 1
    }
    for (i = 1; i <= nrows; i++) {
        ord[i] = i
    }
    heapsort(nrows)
    ctxsym[0] = "VMS_CPREG_ROW_ANY"
    ctxsym[1] = "VMS_CPREG_ROW_TCG"
    ctxsym[2] = "VMS_CPREG_ROW_KVM"
    print "/* Generated by formats/cpreg2c.awk from aarch64-sysreg-names.tsv,"
    print " * aarch32-cpreg-names.tsv, cpreg-extra-names.tsv: do not edit. */"
    print "#include \"config.h\""
    print "#include \"cpreg.h\""
    print ""
    printf "/* %d rows, sorted by (id, ctx). */\n", nrows
    print "const struct vms_cpreg_name vms_cpreg_names[] = {"
    for (i = 1; i <= nrows; i++) {
        r = ord[i]
        if (i > 1 && rkey[ord[i - 1]] == rkey[r]) {
            printf "cpreg2c.awk: internal error: duplicate key %s\n", \
                rkey[r] > "/dev/stderr"
            exit 1
        }
        al = (ralias[r] == "") ? "NULL" : "\"" ralias[r] "\""
        printf "    { UINT64_C(%s), %s, \"%s\", %s },\n", rid[r], \
            ctxsym[rctx[r]], rname[r], al
    }
    print "};"
    print ""
    print "const size_t vms_cpreg_names_count ="
    print "    sizeof(vms_cpreg_names) / sizeof(vms_cpreg_names[0]);"
}
