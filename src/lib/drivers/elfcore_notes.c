/*
 * elfcore_notes.c - the notes of an ELF core: each vCPU's registers as the
 * destination would hold them after loading (AArch64: NT_PRSTATUS,
 * NT_PRFPREG, NT_ARM_SVE; AArch32: NT_PRSTATUS, NT_ARM_VFP), laid out as
 * QEMU's dump-guest-memory writes them (target/arm/arch_dump.c).
 */
#include "config.h"
#include "elfcore.h"
#include "elf_impl.h"

#include <stdlib.h>
#include <string.h>

#include "armcpu.h"
#include "cpreg.h"

/* ---- registers as the destination holds them --------------------------- */

int vms_core_cpu_is_aarch64(const struct vms_armcpu *c)
{
    /* AArch64 views of registers are in the list of AArch32-only cpus
     * too (cortex-a15 has SCTLR_EL1); ID_AA64ISAR0_EL1 is defined only
     * with ARM_FEATURE_AARCH64 (register_cp_regs_for_features). */
    uint64_t id;
    int32_t i;

    if (vms_cpreg_lookup("ID_AA64ISAR0_EL1", VMS_CPREG_TCG, &id) < 0) {
        return 0;
    }
    for (i = 0; i < c->n; i++) {
        if (c->ids[i] == id) {
            return 1;
        }
    }
    return 0;
}

/* Value of the register called name in c's list; 0 if absent. */
static int cpreg_value(const struct vms_armcpu *c, const char *name,
                       uint64_t *v)
{
    uint64_t id;
    int32_t i;

    if (vms_cpreg_lookup(name, VMS_CPREG_TCG, &id) < 0) {
        return 0;
    }
    for (i = 0; i < c->n; i++) {
        if (c->ids[i] == id ||
            (vms_cpreg_is_aarch32(id) &&
             c->ids[i] == (id ^ VMS_CPREG_AA32_QEMU_NS))) {
            *v = vms_armcpu_value(c, i);
            return 1;
        }
    }
    return 0;
}

static uint64_t cpreg_or0(const struct vms_armcpu *c, const char *name)
{
    uint64_t v = 0;

    cpreg_value(c, name, &v);
    return v;
}

int core_cpu_big_endian(const struct vms_armcpu *c)
{
    uint64_t v = 0;

    if (!cpreg_value(c, "SCTLR_EL1", &v)) {
        cpreg_value(c, "SCTLR", &v);
    }
    return (v >> 25) & 1;
}

/* sve_vqm1_for_el_sm() + 1 at the current EL (target/arm/helper.c). */
static uint32_t sve_current_vq(const struct vms_armcpu *c, unsigned max_vq)
{
    uint64_t v, hcr = 0;
    int has_el2 = cpreg_value(c, "HCR_EL2", &hcr);
    int has_el3 = cpreg_value(c, "SCR_EL3", &v);
    uint64_t scr = has_el3 ? v : 0;
    int sm = (cpreg_or0(c, "SVCR") & 1) != 0;
    const char *names[4][2] = { { NULL, NULL },
                                { "ZCR_EL1", "SMCR_EL1" },
                                { "ZCR_EL2", "SMCR_EL2" },
                                { "ZCR_EL3", "SMCR_EL3" } };
    unsigned el = vms_armcpu_el(c);
    uint32_t len = ARM_MAX_VQ - 1, map;
    int secure = has_el3 && !(scr & 1);
    int el2_enabled = has_el2 && (!secure || (scr & (1u << 18)));
    int in_host = el == 0 && has_el2 && (hcr & (1ull << 34)) &&
                  (hcr & (1ull << 27));

    /* sve_vq.map: every length up to sve-max-vq; SME: powers of two. */
    map = (uint32_t)((1u << max_vq) - 1);
    if (sm) {
        map &= 0x808b;      /* vq 1, 2, 4, 8, 16 */
    }
    if (el <= 1 && !in_host) {
        len = len < (0xf & cpreg_or0(c, names[1][sm])) ? len
              : (uint32_t)(0xf & cpreg_or0(c, names[1][sm]));
    }
    if (el <= 2 && el2_enabled) {
        v = 0xf & cpreg_or0(c, names[2][sm]);
        len = len < v ? len : (uint32_t)v;
    }
    if (has_el3) {
        v = 0xf & cpreg_or0(c, names[3][sm]);
        len = len < v ? len : (uint32_t)v;
    }
    map &= (uint32_t)((2u << len) - 1);
    if (!map) {
        return 1;
    }
    return (uint32_t)(32 - __builtin_clz(map));
}

static uint32_t sve_size_vq(uint32_t vq)
{
    uint32_t zoff = 16;                         /* header, rounded to 16 */
    uint32_t poff = zoff + vq * 16 * 32;
    uint32_t fpsr = (poff + vq * 2 * 17 + 15) & ~15u;

    return (fpsr + 8 + 15) & ~15u;
}

/* ---- notes -------------------------------------------------------------- */

static uint8_t *note(uint8_t **buf, size_t *len, const char *name,
                     uint32_t type, uint32_t descsz, int be,
                     struct vms_error *err)
{
    size_t total = 12 + 8 + descsz;
    uint8_t *n = realloc(*buf, *len + total), *p;

    if (!n) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    *buf = n;
    p = n + *len;
    *len += total;
    memset(p, 0, total);
    core_put32(p, (uint32_t)strlen(name) + 1, be);
    core_put32(p + 4, descsz, be);
    core_put32(p + 8, type, be);
    memcpy(p + 12, name, strlen(name));
    return p + 20;
}

/* aarch64_sync_32_to_64() of target/arm/helper.c, into x[31]. */
static void sync_32_to_64(const struct vms_armcpu *c, uint64_t *x)
{
    /* bank_number(): usr/sys 0 svc 1 abt 2 und 3 irq 4 fiq 5 hyp 6 mon 7 */
    unsigned mode = c->cpsr & 0x1f;
    int i;

    for (i = 0; i < 8; i++) {
        x[i] = c->regs[i];
    }
    for (i = 8; i < 13; i++) {
        x[i] = mode == 0x11 ? c->usr_regs[i - 8] : c->regs[i];
    }
    if (mode == 0x10 || mode == 0x1f) {
        x[13] = c->regs[13];
        x[14] = c->regs[14];
    } else {
        x[13] = c->banked_r13[0];
        x[14] = mode == 0x1a ? c->regs[14] : c->banked_r14[0];
    }
    x[15] = mode == 0x1a ? c->regs[13] : c->banked_r13[6];
    x[16] = mode == 0x12 ? c->regs[14] : c->banked_r14[4];
    x[17] = mode == 0x12 ? c->regs[13] : c->banked_r13[4];
    x[18] = mode == 0x13 ? c->regs[14] : c->banked_r14[1];
    x[19] = mode == 0x13 ? c->regs[13] : c->banked_r13[1];
    x[20] = mode == 0x17 ? c->regs[14] : c->banked_r14[2];
    x[21] = mode == 0x17 ? c->regs[13] : c->banked_r13[2];
    x[22] = mode == 0x1b ? c->regs[14] : c->banked_r14[3];
    x[23] = mode == 0x1b ? c->regs[13] : c->banked_r13[3];
    if (mode == 0x11) {
        for (i = 24; i < 31; i++) {
            x[i] = c->regs[i - 16];
        }
    } else {
        for (i = 24; i < 29; i++) {
            x[i] = c->fiq_regs[i - 24];
        }
        x[29] = c->banked_r13[5];
        x[30] = c->banked_r14[5];
    }
}

static int notes64(const struct vms_armcpu *c, int be, unsigned max_vq,
                   uint8_t **buf, size_t *len, struct vms_error *err)
{
    uint64_t x[32], sp, pc;
    uint8_t *d;
    int i;

    if (vms_armcpu_is_aarch64(c)) {
        memcpy(x, c->xregs, sizeof(x));
        sp = c->xregs[31];      /* the live SP; sp_el[EL] is stale */
        pc = c->pc;
    } else {
        sync_32_to_64(c, x);
        sp = 0;
        pc = c->regs[15];
    }
    d = note(buf, len, "CORE", NT_PRSTATUS, 392, be, err);
    if (!d) {
        return -1;
    }
    core_put32(d + 32, c->instance_id + 1, be);
    for (i = 0; i < 31; i++) {
        core_put64(d + 112 + 8 * i, x[i], be);
    }
    core_put64(d + 112 + 248, sp, be);
    core_put64(d + 112 + 256, pc, be);
    core_put64(d + 112 + 264, c->cpsr, be);
    core_put32(d + 384, 1, be);

    d = note(buf, len, "CORE", NT_PRFPREG, 528, be, err);
    if (!d) {
        return -1;
    }
    for (i = 0; i < 32; i++) {
        /* big-endian dumps swap the halves of each Q register */
        core_put64(d + 16 * i + (be ? 8 : 0), c->vfp_d[i][0], be);
        core_put64(d + 16 * i + (be ? 0 : 8), c->vfp_d[i][1], be);
    }
    core_put32(d + 512, c->fpscr & FPSR_MASK, be);
    core_put32(d + 516, c->fpscr & FPCR_MASK, be);

    if (c->has_sve) {
        uint32_t vq = sve_current_vq(c, max_vq);
        uint32_t size = sve_size_vq(vq), poff = 16 + vq * 16 * 32;
        uint32_t foff = (poff + vq * 2 * 17 + 15) & ~15u;
        int k;

        d = note(buf, len, "LINUX", NT_ARM_SVE, size, be, err);
        if (!d) {
            return -1;
        }
        core_put32(d, size, be);
        core_put32(d + 4, sve_size_vq(max_vq), be);
        core_put16(d + 8, (uint16_t)(vq * 16), be);
        core_put16(d + 10, (uint16_t)(max_vq * 16), be);
        core_put16(d + 12, 1, be);   /* SVE_PT_REGS_SVE */
        for (i = 0; i < 32; i++) {
            uint8_t *z = d + 16 + vq * 16 * (uint32_t)i;

            for (k = 0; k < (int)vq * 2; k++) {
                core_put64le(z + 8 * k, k < 2 ? c->vfp_d[i][k]
                                         : c->sve_z_hi[i][k - 2]);
            }
        }
        for (i = 0; i < 17; i++) {
            uint8_t words[32];

            for (k = 0; k < 4; k++) {
                core_put64le(words + 8 * k, c->sve_p[i][k]);
            }
            memcpy(d + poff + vq * 2 * (uint32_t)i, words, vq * 2);
        }
        core_put32(d + foff, c->fpscr & FPSR_MASK, be);
        core_put32(d + foff + 4, c->fpscr & FPCR_MASK, be);
    }
    return 0;
}

static int notes32(const struct vms_armcpu *c, int be, uint8_t **buf,
                   size_t *len, struct vms_error *err)
{
    uint8_t *d = note(buf, len, "CORE", NT_PRSTATUS, 148, be, err);
    int i;

    if (!d) {
        return -1;
    }
    core_put32(d + 24, c->instance_id + 1, be);
    for (i = 0; i < 16; i++) {
        core_put32(d + 72 + 4 * i, c->regs[i], be);
    }
    core_put32(d + 72 + 64, c->cpsr, be);
    core_put32(d + 144, c->has_vfp ? 1 : 0, be);
    if (!c->has_vfp) {
        return 0;
    }
    d = note(buf, len, "LINUX", NT_ARM_VFP, 260, be, err);
    if (!d) {
        return -1;
    }
    for (i = 0; i < 32; i++) {
        core_put64(d + 8 * i, c->vfp_d[i >> 1][i & 1], be);
    }
    core_put32(d + 256, c->fpscr, be);
    return 0;
}

int vms_core_cpu_notes(const struct vms_armcpu *c, int elf64, int big_endian,
                       unsigned sve_max_vq, uint8_t **buf, size_t *len,
                       struct vms_error *err)
{
    if (sve_max_vq == 0) {
        sve_max_vq = ARM_MAX_VQ;
    }
    if (elf64) {
        return notes64(c, big_endian, sve_max_vq, buf, len, err);
    }
    return notes32(c, big_endian, buf, len, err);
}
