#include "config.h"
#include "cpreg.h"

#include "cpreg_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

uint64_t cpreg_make_id(uint64_t arch, unsigned size_code, unsigned group,
                        unsigned index)
{
    return arch | ((uint64_t)size_code << VMS_CPREG_SIZE_SHIFT) |
           ((uint64_t)group << VMS_CPREG_GROUP_SHIFT) | index;
}

static void put(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!buf || len == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* ASCII case-insensitive equality of a[0..alen) and the string b. */
int cpreg_eq_ci_n(const char *a, size_t alen, const char *b)
{
    size_t i;

    for (i = 0; i < alen; i++) {
        char x = a[i], y = b[i];

        if (y == '\0') {
            return 0;
        }
        if (x >= 'a' && x <= 'z') {
            x = (char)(x - 'a' + 'A');
        }
        if (y >= 'a' && y <= 'z') {
            y = (char)(y - 'a' + 'A');
        }
        if (x != y) {
            return 0;
        }
    }
    return b[alen] == '\0';
}

int cpreg_eq_ci(const char *a, const char *b)
{
    return cpreg_eq_ci_n(a, strlen(a), b);
}

/* ------------------------------------------------------------------ */
/* The table                                                          */
/* ------------------------------------------------------------------ */

static unsigned row_ctx_of(enum vms_cpreg_ctx ctx)
{
    return ctx == VMS_CPREG_KVM ? VMS_CPREG_ROW_KVM : VMS_CPREG_ROW_TCG;
}

/* 2: row made for ctx, 1: row for any context, 0: row for the other one. */
int cpreg_row_rank(const struct vms_cpreg_name *r, enum vms_cpreg_ctx ctx)
{
    if (r->ctx == row_ctx_of(ctx)) {
        return 2;
    }
    return r->ctx == VMS_CPREG_ROW_ANY ? 1 : 0;
}

/*
 * The row naming key in ctx: the row made for ctx, else the ANY row, else
 * a row of the other context (a name is better than none).  NULL if the
 * table does not have key.
 */
const struct vms_cpreg_name *cpreg_table_find(uint64_t key,
                                               enum vms_cpreg_ctx ctx)
{
    size_t lo = 0, hi = vms_cpreg_names_count;
    const struct vms_cpreg_name *best = NULL;
    int best_rank = -1;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (vms_cpreg_names[mid].id < key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (; lo < vms_cpreg_names_count && vms_cpreg_names[lo].id == key;
         lo++) {
        int rank = cpreg_row_rank(&vms_cpreg_names[lo], ctx);

        if (rank > best_rank) {
            best = &vms_cpreg_names[lo];
            best_rank = rank;
        }
    }
    return best;
}

/* name with "_S" appended to each '/'-separated part. */
static void put_secure(char *buf, size_t len, const char *name)
{
    char tmp[VMS_CPREG_NAME_MAX * 2];
    size_t n = 0;
    const char *p = name;

    while (*p && n + 3 < sizeof(tmp)) {
        if (*p == '/') {
            tmp[n++] = '_';
            tmp[n++] = 'S';
        }
        tmp[n++] = *p++;
    }
    if (n + 3 <= sizeof(tmp)) {
        tmp[n++] = '_';
        tmp[n++] = 'S';
    }
    tmp[n] = '\0';
    put(buf, len, "%s", tmp);
}

/* ------------------------------------------------------------------ */
/* Computed families: CORE, DEMUX, VFP, SVE                           */
/* ------------------------------------------------------------------ */

static const char *const spsr64[] = {
    "SPSR_EL1", "SPSR_abt", "SPSR_und", "SPSR_irq", "SPSR_fiq",
};

/*
 * arm64 KVM_REG_ARM_CORE: index = offsetof(struct kvm_regs, x) / 4.
 * Returns the size code the index must have, 0 if it names nothing.
 */
unsigned cpreg_core64_name(unsigned idx, char *buf, size_t len)
{
    if (idx < 0x54) {
        if (idx & 1) {
            return 0;
        }
        if (idx < 0x3e) {
            put(buf, len, "X%u", idx / 2);
        } else if (idx == 0x3e) {
            put(buf, len, "SP_EL0");
        } else if (idx == 0x40) {
            put(buf, len, "PC");
        } else if (idx == 0x42) {
            put(buf, len, "PSTATE");
        } else if (idx == 0x44) {
            put(buf, len, "SP_EL1");
        } else if (idx == 0x46) {
            put(buf, len, "ELR_EL1");
        } else if (idx >= 0x48 && idx <= 0x50) {
            put(buf, len, "%s", spsr64[(idx - 0x48) / 2]);
        } else {
            return 0;
        }
        return SZ_U64;
    }
    if (idx < 0xd4) {
        if ((idx - 0x54) % 4 != 0) {
            return 0;
        }
        put(buf, len, "V%u", (idx - 0x54) / 4);
        return SZ_U128;
    }
    if (idx == 0xd4 || idx == 0xd5) {
        put(buf, len, "%s", idx == 0xd4 ? "FPSR" : "FPCR");
        return SZ_U32;
    }
    return 0;
}

static const char *const mode32[] = { "svc", "abt", "und", "irq" };

/* 32-bit arm KVM_REG_ARM_CORE (struct kvm_regs of arch/arm, all U32). */
int cpreg_core32_name(unsigned idx, char *buf, size_t len)
{
    static const char *const spec[] = { "SP", "LR", "SPSR" };

    if (idx <= 12) {
        put(buf, len, "R%u", idx);
    } else if (idx == 13 || idx == 14) {
        put(buf, len, "%s_usr", spec[idx - 13]);
    } else if (idx == 15) {
        put(buf, len, "PC");
    } else if (idx == 16) {
        put(buf, len, "CPSR");
    } else if (idx == 17) {
        put(buf, len, "ORIG_R0");
    } else if (idx < 30) {
        put(buf, len, "%s_%s", spec[(idx - 18) % 3], mode32[(idx - 18) / 3]);
    } else if (idx < 35) {
        put(buf, len, "R%u_fiq", idx - 30 + 8);
    } else if (idx < 38) {
        put(buf, len, "%s_fiq", spec[idx - 35]);
    } else {
        return 0;
    }
    return 1;
}

/* 32-bit arm KVM_REG_ARM_VFP; returns the size code, 0 if unknown. */
unsigned cpreg_vfp_name(unsigned idx, char *buf, size_t len)
{
    static const char *const ctl[] = {
        "FPSID", "FPSCR", NULL, NULL, NULL, NULL, "MVFR1", "MVFR0",
        "FPEXC", "FPINST", "FPINST2",
    };

    if (idx < 32) {
        put(buf, len, "D%u", idx);
        return SZ_U64;
    }
    if (idx >= 0x1000 && idx - 0x1000 < sizeof(ctl) / sizeof(ctl[0]) &&
        ctl[idx - 0x1000]) {
        put(buf, len, "%s", ctl[idx - 0x1000]);
        return SZ_U32;
    }
    return 0;
}

/* KVM_REG_ARM64_SVE; returns the size code, 0 if unknown. */
unsigned cpreg_sve_name(unsigned idx, char *buf, size_t len)
{
    unsigned slice = idx & 31;
    char reg[8];
    unsigned sz;

    if (idx == 0xffff) {
        put(buf, len, "SVE_VLS");
        return SZ_U512;
    }
    if (idx < 0x400) {
        snprintf(reg, sizeof(reg), "Z%u", idx >> 5);
        sz = SZ_U2048;
    } else if (idx < 0x600) {
        snprintf(reg, sizeof(reg), "P%u", (idx - 0x400) >> 5);
        sz = SZ_U256;
    } else if (idx < 0x620) {
        snprintf(reg, sizeof(reg), "FFR");
        sz = SZ_U256;
    } else {
        return 0;
    }
    if (slice) {
        put(buf, len, "%s[%u]", reg, slice);
    } else {
        put(buf, len, "%s", reg);
    }
    return sz;
}

/* Name of an id that is not in the table, computed; 1 if named. */
int cpreg_computed_name(uint64_t id, char *buf, size_t len)
{
    uint64_t arch = ARCH_OF(id);
    unsigned grp = GROUP_OF(id), idx = INDEX_OF(id), sz = SIZE_CODE(id);

    if ((arch != VMS_CPREG_ARCH_ARM64 && arch != VMS_CPREG_ARCH_ARM) ||
        (id & ARM64_RESERVED)) {
        return 0;
    }
    switch (grp) {
    case VMS_CPREG_GRP_CORE:
        if (arch == VMS_CPREG_ARCH_ARM64) {
            char tmp[VMS_CPREG_NAME_MAX];

            if (sz != 0 && cpreg_core64_name(idx, tmp, sizeof(tmp)) == sz) {
                put(buf, len, "%s", tmp);
                return 1;
            }
            return 0;
        }
        return sz == SZ_U32 && cpreg_core32_name(idx, buf, len);
    case VMS_CPREG_GRP_DEMUX:
        if (sz == SZ_U32 && (idx >> 8) == 0 && idx < DEMUX_CSSELR_MAX) {
            put(buf, len, "CCSIDR[csselr=0x%x]", idx);
            return 1;
        }
        return 0;
    case VMS_CPREG_GRP_VFP:
        if (arch == VMS_CPREG_ARCH_ARM) {
            char tmp[VMS_CPREG_NAME_MAX];

            if (sz != 0 && cpreg_vfp_name(idx, tmp, sizeof(tmp)) == sz) {
                put(buf, len, "%s", tmp);
                return 1;
            }
        }
        return 0;
    case VMS_CPREG_GRP_SVE:
        if (arch == VMS_CPREG_ARCH_ARM64) {
            char tmp[VMS_CPREG_NAME_MAX];

            if (sz != 0 && cpreg_sve_name(idx, tmp, sizeof(tmp)) == sz) {
                put(buf, len, "%s", tmp);
                return 1;
            }
        }
        return 0;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ */
/* Decode, name                                                       */
/* ------------------------------------------------------------------ */

void vms_cpreg_decode(uint64_t id, char *buf, size_t len)
{
    uint64_t arch = ARCH_OF(id);
    unsigned grp = GROUP_OF(id), idx = INDEX_OF(id), sz = SIZE_CODE(id);

    if (arch == VMS_CPREG_ARCH_ARM64 && !(id & ARM64_RESERVED)) {
        switch (grp) {
        case VMS_CPREG_GRP_SYSREG:
            put(buf, len, "S%u_%u_C%u_C%u_%u", idx >> 14, (idx >> 11) & 7,
                (idx >> 7) & 15, (idx >> 3) & 15, idx & 7);
            return;
        case VMS_CPREG_GRP_CORE:
            put(buf, len, "CORE(0x%x)", idx);
            return;
        case VMS_CPREG_GRP_DEMUX:
            if ((idx >> 8) == 0) {
                put(buf, len, "CCSIDR[csselr=0x%x]", idx);
            } else {
                put(buf, len, "DEMUX(0x%04x)", idx);
            }
            return;
        case VMS_CPREG_GRP_FW:
            put(buf, len, "FW_REG(%u)", idx);
            return;
        case VMS_CPREG_GRP_FW_FEAT_BMAP:
            put(buf, len, "FW_FEAT_BMAP_REG(%u)", idx);
            return;
        case VMS_CPREG_GRP_SVE:
            if (idx == 0xffff) {
                put(buf, len, "SVE_VLS");
            } else if (idx < 0x400) {
                put(buf, len, "SVE_ZREG(%u,%u)", idx >> 5, idx & 31);
            } else if (idx < 0x600) {
                put(buf, len, "SVE_PREG(%u,%u)", (idx - 0x400) >> 5,
                    idx & 31);
            } else if (idx < 0x620) {
                put(buf, len, "SVE_FFR(%u)", idx & 31);
            } else {
                put(buf, len, "SVE(0x%04x)", idx);
            }
            return;
        default:
            break;
        }
    } else if (arch == VMS_CPREG_ARCH_ARM && !(id & ARM_RESERVED)) {
        int banks = (id & AA32_BANK_BITS) != 0;
        const char *sfx = (id & VMS_CPREG_AA32_QEMU_NS) ?
                          ((id & VMS_CPREG_AA32_KVM_SECURE) ? " ns=1 s=1" :
                           " ns=1") :
                          ((id & VMS_CPREG_AA32_KVM_SECURE) ? " s=1" : "");
        unsigned cp = grp;

        switch (grp) {
        case VMS_CPREG_GRP_CP14:
        case VMS_CPREG_GRP_CP15:
            if (sz == SZ_U32 && !(idx & 0x8000)) {
                put(buf, len, "p%u,%u,c%u,c%u,%u%s", cp, (idx >> 3) & 15,
                    (idx >> 11) & 15, (idx >> 7) & 15, idx & 7, sfx);
                return;
            }
            if (sz == SZ_U64 && !(idx & 0xf807)) {
                put(buf, len, "p%u,%u,c%u%s", cp, (idx >> 3) & 15,
                    (idx >> 7) & 15, sfx);
                return;
            }
            break;
        case VMS_CPREG_GRP_CORE:
            if (!banks) {
                put(buf, len, "CORE(0x%x)", idx);
                return;
            }
            break;
        case VMS_CPREG_GRP_DEMUX:
            if (!banks && (idx >> 8) == 0) {
                put(buf, len, "CCSIDR[csselr=0x%x]", idx);
                return;
            }
            break;
        case VMS_CPREG_GRP_VFP:
            if (!banks) {
                put(buf, len, "VFP(0x%x)", idx);
                return;
            }
            break;
        case VMS_CPREG_GRP_FW:
            if (!banks) {
                put(buf, len, "FW_REG(%u)", idx);
                return;
            }
            break;
        default:
            break;
        }
    }
    put(buf, len, "0x%016llx", (unsigned long long)id);
}

/* Ids whose names are table rows keyed by id itself (or its arm64 twin). */
static const struct vms_cpreg_name *table_row_for(uint64_t id,
                                                  enum vms_cpreg_ctx ctx)
{
    uint64_t arch = ARCH_OF(id);
    unsigned grp = GROUP_OF(id);

    if (arch == VMS_CPREG_ARCH_ARM64) {
        return cpreg_table_find(id, ctx);
    }
    if (arch == VMS_CPREG_ARCH_ARM && grp == VMS_CPREG_GRP_FW) {
        /* 32-bit arm FW registers: same numbers and names as arm64 */
        return cpreg_table_find((id & ~VMS_CPREG_ARCH_MASK) |
                          VMS_CPREG_ARCH_ARM64, ctx);
    }
    return NULL;
}

int vms_cpreg_name(uint64_t id, enum vms_cpreg_ctx ctx, char *buf, size_t len)
{
    const struct vms_cpreg_name *r;

    if (ARCH_OF(id) == VMS_CPREG_ARCH_ARM &&
        (GROUP_OF(id) == VMS_CPREG_GRP_CP14 ||
         GROUP_OF(id) == VMS_CPREG_GRP_CP15)) {
        int ns = (id & VMS_CPREG_AA32_QEMU_NS) != 0;
        int ks = (id & VMS_CPREG_AA32_KVM_SECURE) != 0;

        r = (ns && ks) ? NULL : cpreg_table_find(id & ~AA32_BANK_BITS, ctx);
        if (r) {
            /* TCG: bit 29 clear = QEMU's Secure copy; KVM: bit 28 */
            if (ctx == VMS_CPREG_TCG ? !ns : ks) {
                put_secure(buf, len, r->name);
            } else {
                put(buf, len, "%s", r->name);
            }
            return 1;
        }
    } else {
        r = table_row_for(id, ctx);
        if (r) {
            put(buf, len, "%s", r->name);
            return 1;
        }
        if (cpreg_computed_name(id, buf, len)) {
            return 1;
        }
    }
    vms_cpreg_decode(id, buf, len);
    return 0;
}
