/*
 * cpreg_class.c - what a register id says about the register without its
 * name: size and value slots, AArch32 or AArch64, the accelerator a list
 * of ids comes from, and whether it is an identification register.
 */
#include "config.h"
#include "cpreg.h"

#include "cpreg_impl.h"

#include <stddef.h>

/* ------------------------------------------------------------------ */
/* Sizes, context                                                     */
/* ------------------------------------------------------------------ */

unsigned vms_cpreg_size(uint64_t id)
{
    unsigned code = SIZE_CODE(id);

    return code > SZ_U2048 ? 0 : 1u << code;
}

unsigned vms_cpreg_slots(uint64_t id)
{
    unsigned code = SIZE_CODE(id);

    if (code > SZ_U2048) {
        return 0;
    }
    return code <= SZ_U64 ? 1 : (1u << code) / 8;
}

int vms_cpreg_is_aarch32(uint64_t id)
{
    return ARCH_OF(id) == VMS_CPREG_ARCH_ARM;
}

enum vms_cpreg_ctx vms_cpreg_guess_ctx(const uint64_t *ids, size_t n)
{
    size_t i;

    /* TCG evidence (AArch32 bit 29) and no evidence both give TCG. */
    for (i = 0; ids && i < n; i++) {
        uint64_t arch = ARCH_OF(ids[i]);

        if (arch != VMS_CPREG_ARCH_ARM && arch != VMS_CPREG_ARCH_ARM64) {
            continue;
        }
        switch (GROUP_OF(ids[i])) {
        case VMS_CPREG_GRP_CORE:
        case VMS_CPREG_GRP_DEMUX:
        case VMS_CPREG_GRP_VFP:
        case VMS_CPREG_GRP_FW:
        case VMS_CPREG_GRP_SVE:
        case VMS_CPREG_GRP_FW_FEAT_BMAP:
            return VMS_CPREG_KVM;
        default:
            break;
        }
    }
    return VMS_CPREG_TCG;
}

const char *vms_cpreg_ctx_name(enum vms_cpreg_ctx ctx)
{
    return ctx == VMS_CPREG_KVM ? "kvm" : "tcg";
}

/* ------------------------------------------------------------------ */
/* Identification registers                                           */
/* ------------------------------------------------------------------ */

static int sysreg_is_id(unsigned enc)
{
    unsigned op0 = enc >> 14, op1 = (enc >> 11) & 7, crn = (enc >> 7) & 15;
    unsigned crm = (enc >> 3) & 15, op2 = enc & 7;

    if (op0 == 3 && op1 == 0 && crn == 0) {
        if (crm == 0) {
            return op2 != 5;            /* MPIDR_EL1 is per vCPU */
        }
        return crm <= 7;                /* ID_*, MVFR*, reserved slots */
    }
    if (op0 == 3 && op1 == 1 && crn == 0 && crm == 0) {
        /* CCSIDR, CLIDR, CCSIDR2, GMID, SMIDR, AIDR */
        return op2 == 0 || op2 == 1 || op2 == 2 || op2 == 4 || op2 == 6 ||
               op2 == 7;
    }
    if (op0 == 3 && op1 == 3 && crn == 0 && crm == 0) {
        return op2 == 1 || op2 == 7;    /* CTR_EL0, DCZID_EL0 */
    }
    if (op0 == 2 && op1 == 0 && crn == 1 && crm == 0 && op2 == 0) {
        return 1;                       /* MDRAR_EL1 */
    }
    return 0;
}

static int aa32_is_id(unsigned cp, int is64, unsigned idx)
{
    unsigned opc1 = (idx >> 3) & 15, crm = (idx >> 7) & 15;
    unsigned crn = (idx >> 11) & 15, opc2 = idx & 7;

    if (is64) {
        /* DBGDRAR, DBGDSAR (64-bit) */
        return cp == 14 && opc1 == 0 && (crm == 1 || crm == 2);
    }
    if (cp == 15) {
        if (opc1 == 0 && crn == 0) {
            /* MIDR, CTR, TCMTR, TLBTR, MIDR aliases, REVIDR, ID_*, RAZ */
            return crm != 0 || opc2 != 5;
        }
        if (opc1 == 1 && crn == 0 && crm == 0) {
            /* CCSIDR, CLIDR, CCSIDR2, AIDR */
            return opc2 == 0 || opc2 == 1 || opc2 == 2 || opc2 == 7;
        }
        return 0;
    }
    if (opc1 == 7) {
        return crn == 0 && crm == 0 && opc2 == 0;       /* JIDR */
    }
    if (opc1 != 0) {
        return 0;
    }
    if (crm == 0 && opc2 == 0 && crn <= 2) {
        return 1;                       /* DBGDIDR, DBGDRAR, DBGDSAR */
    }
    if (crn == 7 && opc2 == 7 && crm <= 2) {
        return 1;                       /* DBGDEVID2, DBGDEVID1, DBGDEVID */
    }
    if (crn == 7 && crm == 0 && opc2 <= 2) {
        return 1;                       /* QEMU 7.2's misencoded DBGDEVID* */
    }
    return 0;
}

int vms_cpreg_is_id_register(uint64_t id)
{
    uint64_t arch = ARCH_OF(id);
    unsigned grp = GROUP_OF(id), idx = INDEX_OF(id), sz = SIZE_CODE(id);

    if (arch == VMS_CPREG_ARCH_ARM64) {
        if (id & ARM64_RESERVED) {
            return 0;
        }
        if (grp == VMS_CPREG_GRP_SYSREG) {
            return sz == SZ_U64 && sysreg_is_id(idx);
        }
        return grp == VMS_CPREG_GRP_DEMUX && (idx >> 8) == 0;
    }
    if (arch != VMS_CPREG_ARCH_ARM || (id & ARM_RESERVED)) {
        return 0;
    }
    if (grp == VMS_CPREG_GRP_CP14 || grp == VMS_CPREG_GRP_CP15) {
        if (sz == SZ_U32 && !(idx & 0x8000)) {
            return aa32_is_id(grp, 0, idx);
        }
        if (sz == SZ_U64 && !(idx & 0xf807)) {
            return aa32_is_id(grp, 1, idx);
        }
        return 0;
    }
    return grp == VMS_CPREG_GRP_DEMUX && (idx >> 8) == 0 &&
           !(id & AA32_BANK_BITS);
}

