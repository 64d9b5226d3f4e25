#include "config.h"
#include "cpreg.h"

#include <stdio.h>
#include <string.h>

#include "cpreg_impl.h"

/* ------------------------------------------------------------------ */
/* Lookup                                                             */
/* ------------------------------------------------------------------ */

/* Width filter for table lookups of AArch32 views. */
enum want {
    WANT_ANY,       /* every row */
    WANT_AA32,      /* AArch32 rows only */
    WANT_AA32_32,   /* AArch32 32-bit views */
    WANT_AA32_64,   /* AArch32 64-bit views */
};

static int wanted(uint64_t id, enum want w)
{
    switch (w) {
    case WANT_AA32:
        return ARCH_OF(id) == VMS_CPREG_ARCH_ARM;
    case WANT_AA32_32:
        return ARCH_OF(id) == VMS_CPREG_ARCH_ARM && SIZE_CODE(id) == SZ_U32;
    case WANT_AA32_64:
        return ARCH_OF(id) == VMS_CPREG_ARCH_ARM && SIZE_CODE(id) == SZ_U64;
    case WANT_ANY:
    default:
        return 1;
    }
}

static int alias_match(const char *aliases, const char *name)
{
    const char *p = aliases;

    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);

        if (cpreg_eq_ci_n(p, n, name)) {
            return 1;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

/*
 * Table rows named name: pass 0 primary names, pass 1 aliases, counting
 * only the row that names its id in ctx; pass 2 names and aliases of the
 * rows that ctx shadows (KVM_REG_ARM_TIMER_CNT under TCG).  In the first
 * pass with a match, the best-ranked match wins; two at the same rank are
 * ambiguous.  Returns 0 (found), -1 (none), -2 (ambiguous).
 */
static int table_lookup(const char *name, enum vms_cpreg_ctx ctx,
                        enum want w, uint64_t *out)
{
    int pass;

    for (pass = 0; pass < 3; pass++) {
        int best_rank = -1, count = 0;
        uint64_t best = 0;
        size_t i;

        for (i = 0; i < vms_cpreg_names_count; i++) {
            const struct vms_cpreg_name *r = &vms_cpreg_names[i];
            int hit, rank, shadowed;

            if (!wanted(r->id, w)) {
                continue;
            }
            hit = (pass != 1 && cpreg_eq_ci(r->name, name)) ||
                  (pass != 0 && r->aliases && alias_match(r->aliases, name));
            if (!hit) {
                continue;
            }
            shadowed = cpreg_table_find(r->id, ctx) != r;
            if (shadowed != (pass == 2)) {
                continue;
            }
            rank = cpreg_row_rank(r, ctx);
            if (rank > best_rank) {
                best_rank = rank;
                best = r->id;
                count = 1;
            } else if (rank == best_rank && r->id != best) {
                count++;
            }
        }
        if (count == 1) {
            *out = best;
            return 0;
        }
        if (count > 1) {
            return -2;
        }
    }
    return -1;
}

/* Whole-string sscanf helpers: the %n must reach the end. */
static int parse_hex_id(const char *s, uint64_t *id)
{
    uint64_t v = 0;
    size_t i, n;

    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
        return -1;
    }
    n = strlen(s + 2);
    if (n == 0 || n > 16) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        char c = s[2 + i];
        unsigned d;

        if (c >= '0' && c <= '9') {
            d = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = (unsigned)(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            d = (unsigned)(c - 'A' + 10);
        } else {
            return -1;
        }
        v = (v << 4) | d;
    }
    *id = v;
    return 0;
}

/* The decoded forms of vms_cpreg_decode(), lower-cased in s. */
static int parse_decoded(const char *s, enum vms_cpreg_ctx ctx, uint64_t *id)
{
    unsigned a, b, c, d, e;
    int n = -1;
    const uint64_t a64 = VMS_CPREG_ARCH_ARM64, a32 = VMS_CPREG_ARCH_ARM;

    if (sscanf(s, "s%u_%u_c%u_c%u_%u%n", &a, &b, &c, &d, &e, &n) == 5 &&
        n >= 0 && s[n] == '\0') {
        if (a > 3 || b > 7 || c > 15 || d > 15 || e > 7) {
            return -1;
        }
        *id = cpreg_make_id(a64, SZ_U64, VMS_CPREG_GRP_SYSREG,
                      a << 14 | b << 11 | c << 7 | d << 3 | e);
        return 0;
    }
    if (s[0] == 'p' && (s[1] == '1') && (s[2] == '4' || s[2] == '5') &&
        s[3] == ',') {
        unsigned cp = (unsigned)(s[2] - '0') + 10;
        const char *rest;
        uint64_t v;

        n = -1;
        if (sscanf(s + 4, "%u,c%u,c%u,%u%n", &b, &c, &d, &e, &n) == 4 &&
            n >= 0) {
            if (b > 7 || c > 15 || d > 15 || e > 7) {
                return -1;
            }
            v = cpreg_make_id(a32, SZ_U32, cp, c << 11 | d << 7 | b << 3 | e);
        } else {
            n = -1;
            if (sscanf(s + 4, "%u,c%u%n", &b, &d, &n) != 2 || n < 0 ||
                b > 15 || d > 15) {
                return -1;
            }
            v = cpreg_make_id(a32, SZ_U64, cp, d << 7 | b << 3);
        }
        rest = s + 4 + n;
        if (*rest == '\0') {
            if (ctx == VMS_CPREG_TCG) {
                v |= VMS_CPREG_AA32_QEMU_NS;
            }
        } else if (strcmp(rest, " ns=1") == 0) {
            v |= VMS_CPREG_AA32_QEMU_NS;
        } else if (strcmp(rest, " ns=0") == 0) {
            /* Secure bank (TCG) / plain KVM id */
        } else if (strcmp(rest, " s=1") == 0) {
            v |= VMS_CPREG_AA32_KVM_SECURE;
        } else {
            return -1;
        }
        *id = v;
        return 0;
    }
    n = -1;
    if (sscanf(s, "ccsidr[csselr=%x]%n", &a, &n) == 1 && n >= 0 &&
        s[n] == '\0' && a <= 0xff) {
        *id = cpreg_make_id(a64, SZ_U32, VMS_CPREG_GRP_DEMUX, a);
        return 0;
    }
    n = -1;
    if (sscanf(s, "demux(%x)%n", &a, &n) == 1 && n >= 0 && s[n] == '\0' &&
        a <= 0xffff) {
        *id = cpreg_make_id(a64, SZ_U32, VMS_CPREG_GRP_DEMUX, a);
        return 0;
    }
    n = -1;
    if (sscanf(s, "fw_reg(%u)%n", &a, &n) == 1 && n >= 0 && s[n] == '\0' &&
        a <= 0xffff) {
        *id = cpreg_make_id(a64, SZ_U64, VMS_CPREG_GRP_FW, a);
        return 0;
    }
    n = -1;
    if (sscanf(s, "fw_feat_bmap_reg(%u)%n", &a, &n) == 1 && n >= 0 &&
        s[n] == '\0' && a <= 0xffff) {
        *id = cpreg_make_id(a64, SZ_U64, VMS_CPREG_GRP_FW_FEAT_BMAP, a);
        return 0;
    }
    n = -1;
    if (sscanf(s, "core(%x)%n", &a, &n) == 1 && n >= 0 && s[n] == '\0' &&
        a <= 0xffff) {
        unsigned sz = cpreg_core64_name(a, NULL, 0);

        if (sz == 0) {
            return -1;
        }
        *id = cpreg_make_id(a64, sz, VMS_CPREG_GRP_CORE, a);
        return 0;
    }
    n = -1;
    if (sscanf(s, "vfp(%x)%n", &a, &n) == 1 && n >= 0 && s[n] == '\0' &&
        a <= 0xffff) {
        unsigned sz = cpreg_vfp_name(a, NULL, 0);

        if (sz == 0) {
            return -1;
        }
        *id = cpreg_make_id(a32, sz, VMS_CPREG_GRP_VFP, a);
        return 0;
    }
    n = -1;
    if (sscanf(s, "sve_zreg(%u,%u)%n", &a, &b, &n) == 2 && n >= 0 &&
        s[n] == '\0' && a < 32 && b < 32) {
        *id = cpreg_make_id(a64, SZ_U2048, VMS_CPREG_GRP_SVE, a << 5 | b);
        return 0;
    }
    n = -1;
    if (sscanf(s, "sve_preg(%u,%u)%n", &a, &b, &n) == 2 && n >= 0 &&
        s[n] == '\0' && a < 16 && b < 32) {
        *id = cpreg_make_id(a64, SZ_U256, VMS_CPREG_GRP_SVE,
                            0x400 | a << 5 | b);
        return 0;
    }
    n = -1;
    if (sscanf(s, "sve_ffr(%u)%n", &a, &n) == 1 && n >= 0 && s[n] == '\0' &&
        a < 32) {
        *id = cpreg_make_id(a64, SZ_U256, VMS_CPREG_GRP_SVE, 0x600 | a);
        return 0;
    }
    if (strcmp(s, "sve_vls") == 0) {
        *id = cpreg_make_id(a64, SZ_U512, VMS_CPREG_GRP_SVE, 0xffff);
        return 0;
    }
    return -1;
}

/* Names cpreg_computed_name() gives (arm64 first, then 32-bit arm). */
static int computed_lookup(const char *name, uint64_t *id)
{
    char tmp[VMS_CPREG_NAME_MAX];
    unsigned idx, sz;

    for (idx = 0; idx <= 0xd5; idx++) {
        sz = cpreg_core64_name(idx, tmp, sizeof(tmp));
        if (sz && cpreg_eq_ci(tmp, name)) {
            *id = cpreg_make_id(VMS_CPREG_ARCH_ARM64, sz,
                                VMS_CPREG_GRP_CORE, idx);
            return 0;
        }
    }
    for (idx = 0; idx < 0x620; idx++) {
        sz = cpreg_sve_name(idx, tmp, sizeof(tmp));
        if (sz && cpreg_eq_ci(tmp, name)) {
            *id = cpreg_make_id(VMS_CPREG_ARCH_ARM64, sz,
                                VMS_CPREG_GRP_SVE, idx);
            return 0;
        }
    }
    for (idx = 0; idx < 38; idx++) {
        if (cpreg_core32_name(idx, tmp, sizeof(tmp)) &&
            cpreg_eq_ci(tmp, name)) {
            *id = cpreg_make_id(VMS_CPREG_ARCH_ARM, SZ_U32, VMS_CPREG_GRP_CORE,
                          idx);
            return 0;
        }
    }
    for (idx = 0; idx < 0x100b; idx++) {
        sz = cpreg_vfp_name(idx, tmp, sizeof(tmp));
        if (sz && cpreg_eq_ci(tmp, name)) {
            *id = cpreg_make_id(VMS_CPREG_ARCH_ARM, sz, VMS_CPREG_GRP_VFP, idx);
            return 0;
        }
    }
    return -1;
}

/* 1 if s ends in suffix (ASCII case-insensitive). */
static int ends_ci(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n > k && cpreg_eq_ci_n(s + n - k, k, suffix);
}

/*
 * An AArch32 register name with suffixes: "_S" asks for the Secure bank
 * (TCG: bit 29 clear; KVM: bit 28 set), "_32" / "_64" for one view of a
 * register that has both.
 */
static int aa32_suffix_lookup(const char *name, size_t n,
                              enum vms_cpreg_ctx ctx, uint64_t *id)
{
    char buf[VMS_CPREG_NAME_MAX * 2];
    enum want w = WANT_AA32;
    int secure = 0;
    uint64_t v;

    if (n >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, name, n);
    if (ends_ci(buf, n, "_S")) {
        secure = 1;
        n -= 2;
    }
    if (ends_ci(buf, n, "_32") || ends_ci(buf, n, "_64")) {
        w = buf[n - 2] == '3' ? WANT_AA32_32 : WANT_AA32_64;
        n -= 3;
    }
    if (!secure && w == WANT_AA32) {
        return -1;
    }
    buf[n] = '\0';
    if (table_lookup(buf, ctx, w, &v) != 0) {
        return -1;
    }
    if (secure) {
        *id = ctx == VMS_CPREG_KVM ? v | VMS_CPREG_AA32_KVM_SECURE : v;
    } else {
        *id = ctx == VMS_CPREG_TCG ? v | VMS_CPREG_AA32_QEMU_NS : v;
    }
    return 0;
}

int vms_cpreg_lookup(const char *name, enum vms_cpreg_ctx ctx, uint64_t *id)
{
    char buf[VMS_CPREG_NAME_MAX * 2];
    char low[VMS_CPREG_NAME_MAX * 2];
    size_t n, i;
    uint64_t v;
    int rc;

    if (!name || !id) {
        return -1;
    }
    while (*name == ' ' || *name == '\t') {
        name++;
    }
    n = strlen(name);
    while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t' ||
                     name[n - 1] == '\n' || name[n - 1] == '\r')) {
        n--;
    }
    if (n == 0 || n >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, name, n);
    buf[n] = '\0';
    for (i = 0; i <= n; i++) {
        char c = buf[i];

        low[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }

    if (parse_hex_id(buf, &v) == 0) {
        *id = v;
        return 0;
    }

    rc = table_lookup(buf, ctx, WANT_ANY, &v);
    if (rc == 0) {
        if (ARCH_OF(v) == VMS_CPREG_ARCH_ARM && ctx == VMS_CPREG_TCG) {
            v |= VMS_CPREG_AA32_QEMU_NS;
        }
        *id = v;
        return 0;
    }
    if (rc == -2) {
        /* ambiguous: e.g. "PAR" (32- and 64-bit views) */
        return -1;
    }

    /* NAME_S, NAME_32, NAME_64, NAME_32_S, NAME_64_S: AArch32 views */
    if (aa32_suffix_lookup(buf, n, ctx, &v) == 0) {
        *id = v;
        return 0;
    }

    if (parse_decoded(low, ctx, &v) == 0) {
        *id = v;
        return 0;
    }
    if (computed_lookup(buf, &v) == 0) {
        *id = v;
        return 0;
    }
    return -1;
}

static int in_cpreg_list_group(uint64_t id)
{
    unsigned grp = GROUP_OF(id);

    return grp != VMS_CPREG_GRP_CORE && grp != VMS_CPREG_GRP_VFP &&
           grp != VMS_CPREG_GRP_SVE;
}

int vms_cpreg_name_kind(const char *name)
{
    static const enum vms_cpreg_ctx ctxs[2] = { VMS_CPREG_TCG,
                                                VMS_CPREG_KVM };
    char buf[VMS_CPREG_NAME_MAX * 2];
    size_t n, k;
    uint64_t v;

    for (k = 0; k < 2; k++) {
        if (vms_cpreg_lookup(name, ctxs[k], &v) == 0) {
            return in_cpreg_list_group(v) ? 1 : -1;
        }
    }
    n = strlen(name);
    if (n == 0 || n >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, name, n + 1);
    /* "NMRR_S/MAIR1_S": one register under two names, as regs prints it */
    if (strchr(buf, '/')) {
        char *part, *save = NULL;
        int kind = 0;

        for (part = strtok_r(buf, "/", &save); part && kind == 0;
             part = strtok_r(NULL, "/", &save)) {
            kind = vms_cpreg_name_kind(part);
        }
        return kind;
    }
    /* A name shared by several registers (both views of PAR) or the
     * Secure bank of one (TTBR0_S): the names `regs` prints. */
    if (table_lookup(buf, VMS_CPREG_TCG, WANT_ANY, &v) == -2) {
        return 1;
    }
    if (ends_ci(buf, n, "_S")) {
        buf[n - 2] = '\0';
        if (table_lookup(buf, VMS_CPREG_TCG, WANT_AA32, &v) != -1) {
            return 1;
        }
    }
    return 0;
}
