#include "config.h"
#include "elfcore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpuarch.h"
#include "armcpu.h"
#include "cpreg.h"
#include "ramimage.h"
#include "ramlayout.h"
#include "sink.h"
#include "stream.h"

/* include/elf.h */
#define ET_CORE       4
#define EM_ARM        40
#define EM_AARCH64    183
#define PT_LOAD       1
#define PT_NOTE       4
#define SHT_STRTAB    3
#define PN_XNUM       0xffff
#define NT_PRSTATUS   1
#define NT_PRFPREG    2
#define NT_ARM_VFP    0x400
#define NT_ARM_SVE    0x405

#define ARM_MAX_VQ    16
#define FPSR_MASK     0xf800009fu
#define FPCR_MASK     0x07ff9f00u

static const char shstrtab[] = "\0.shstrtab";   /* 11 bytes with NULs */

/* ---- byte order of the dump ------------------------------------------ */

static void put16(uint8_t *p, uint16_t v, int be)
{
    p[be ? 0 : 1] = (uint8_t)(v >> 8);
    p[be ? 1 : 0] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v, int be)
{
    int i;

    for (i = 0; i < 4; i++) {
        p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    }
}

static void put64(uint8_t *p, uint64_t v, int be)
{
    int i;

    for (i = 0; i < 8; i++) {
        p[be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
    }
}

/* Host-order (little-endian) bytes of QEMU's uint64_t arrays. */
static void put64le(uint8_t *p, uint64_t v)
{
    put64(p, v, 0);
}

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

/* cp15.sctlr_el[1].EE: the byte order QEMU's cpu_get_dump_info picks. */
static int cpu_big_endian(const struct vms_armcpu *c)
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
    put32(p, (uint32_t)strlen(name) + 1, be);
    put32(p + 4, descsz, be);
    put32(p + 8, type, be);
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
    put32(d + 32, c->instance_id + 1, be);
    for (i = 0; i < 31; i++) {
        put64(d + 112 + 8 * i, x[i], be);
    }
    put64(d + 112 + 248, sp, be);
    put64(d + 112 + 256, pc, be);
    put64(d + 112 + 264, c->cpsr, be);
    put32(d + 384, 1, be);

    d = note(buf, len, "CORE", NT_PRFPREG, 528, be, err);
    if (!d) {
        return -1;
    }
    for (i = 0; i < 32; i++) {
        /* big-endian dumps swap the halves of each Q register */
        put64(d + 16 * i + (be ? 8 : 0), c->vfp_d[i][0], be);
        put64(d + 16 * i + (be ? 0 : 8), c->vfp_d[i][1], be);
    }
    put32(d + 512, c->fpscr & FPSR_MASK, be);
    put32(d + 516, c->fpscr & FPCR_MASK, be);

    if (c->has_sve) {
        uint32_t vq = sve_current_vq(c, max_vq);
        uint32_t size = sve_size_vq(vq), poff = 16 + vq * 16 * 32;
        uint32_t foff = (poff + vq * 2 * 17 + 15) & ~15u;
        int k;

        d = note(buf, len, "LINUX", NT_ARM_SVE, size, be, err);
        if (!d) {
            return -1;
        }
        put32(d, size, be);
        put32(d + 4, sve_size_vq(max_vq), be);
        put16(d + 8, (uint16_t)(vq * 16), be);
        put16(d + 10, (uint16_t)(max_vq * 16), be);
        put16(d + 12, 1, be);   /* SVE_PT_REGS_SVE */
        for (i = 0; i < 32; i++) {
            uint8_t *z = d + 16 + vq * 16 * (uint32_t)i;

            for (k = 0; k < (int)vq * 2; k++) {
                put64le(z + 8 * k, k < 2 ? c->vfp_d[i][k]
                                         : c->sve_z_hi[i][k - 2]);
            }
        }
        for (i = 0; i < 17; i++) {
            uint8_t words[32];

            for (k = 0; k < 4; k++) {
                put64le(words + 8 * k, c->sve_p[i][k]);
            }
            memcpy(d + poff + vq * 2 * (uint32_t)i, words, vq * 2);
        }
        put32(d + foff, c->fpscr & FPSR_MASK, be);
        put32(d + foff + 4, c->fpscr & FPCR_MASK, be);
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
    put32(d + 24, c->instance_id + 1, be);
    for (i = 0; i < 16; i++) {
        put32(d + 72 + 4 * i, c->regs[i], be);
    }
    put32(d + 72 + 64, c->cpsr, be);
    put32(d + 144, c->has_vfp ? 1 : 0, be);
    if (!c->has_vfp) {
        return 0;
    }
    d = note(buf, len, "LINUX", NT_ARM_VFP, 260, be, err);
    if (!d) {
        return -1;
    }
    for (i = 0; i < 32; i++) {
        put64(d + 8 * i, c->vfp_d[i >> 1][i & 1], be);
    }
    put32(d + 256, c->fpscr, be);
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

/* ---- the file ----------------------------------------------------------- */

struct corew {
    const struct vms_core_opts *o;
    struct vms_core_result *r;
    int fd;
    int planned;
    uint64_t *base;             /* per block: file offset, or UINT64_MAX */
    size_t n_base;
    uint64_t mem_off, mem_end;
    size_t *order;              /* included blocks by GPA */
};

static int cmp_gpa(const void *a, const void *b, void *arg)
{
    const struct vms_core_block *bl = arg;
    const struct vms_core_block *x = &bl[*(const size_t *)a];
    const struct vms_core_block *y = &bl[*(const size_t *)b];

    return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

/* Decide which blocks become PT_LOADs and where their bytes go. */
static int plan(struct corew *w, const struct vms_stream *st,
                struct vms_error *err)
{
    struct vms_core_result *r = w->r;
    size_t i, k, n = st->n_blocks;
    uint64_t off;

    w->planned = 1;
    r->blocks = calloc(n ? n : 1, sizeof(*r->blocks));
    w->base = malloc((n ? n : 1) * sizeof(*w->base));
    w->order = malloc((n ? n : 1) * sizeof(*w->order));
    if (!r->blocks || !w->base || !w->order) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    r->n_blocks = n;
    w->n_base = n;
    for (i = 0; i < n; i++) {
        struct vms_core_block *b = &r->blocks[i];
        const struct vms_ram_layout *row =
            vms_ramlayout_find(st->machine, st->blocks[i].name);

        memcpy(b->name, st->blocks[i].name, sizeof(b->name));
        b->name[sizeof(b->name) - 1] = '\0';
        b->size = st->blocks[i].size;
        w->base[i] = UINT64_MAX;
        for (k = 0; k < w->o->n_map; k++) {
            if (strcmp(w->o->map_names[k], b->name) == 0) {
                b->has_gpa = 1;
                b->gpa = w->o->map_gpas[k];
                row = NULL;     /* the user's word wins over the table */
            }
        }
        if (b->has_gpa) {
            /* given with --map */
        } else if (st->blocks[i].has_gpa) {
            b->has_gpa = 1;
            b->gpa = st->blocks[i].gpa;
        } else if (row) {
            b->has_gpa = 1;
            b->gpa = row->gpa;
        }
        if (!b->has_gpa) {
            b->why = "no known guest-physical address (not in "
                     "formats/ram-layouts.tsv for this machine)";
        } else if (row && !row->in_dump) {
            b->why = "not RAM to dump-guest-memory (ROM device)";
        } else if (b->gpa + b->size < b->gpa) {
            b->why = "address range wraps";
        } else {
            b->included = 1;
        }
    }
    for (i = 0, k = 0; i < n; i++) {
        if (r->blocks[i].included) {
            w->order[k++] = i;
        }
    }
    qsort_r(w->order, k, sizeof(*w->order), cmp_gpa, r->blocks);
    for (i = 1; i < k; i++) {
        const struct vms_core_block *p = &r->blocks[w->order[i - 1]];
        struct vms_core_block *b = &r->blocks[w->order[i]];

        if (b->gpa < p->gpa + p->size) {
            b->included = 0;
            b->why = "overlaps another block";
            memmove(&w->order[i], &w->order[i + 1],
                    (k - i - 1) * sizeof(*w->order));
            k--;
            i--;
        }
    }
    r->n_loads = (unsigned)k;
    {
        uint64_t ehdr = r->elf64 ? 64 : 52, shdr = r->elf64 ? 64 : 40;
        uint64_t phdr = r->elf64 ? 56 : 32;

        off = ehdr + 2 * shdr + phdr * (1 + (uint64_t)k);
    }
    off = (off + VMS_CORE_MEM_ALIGN - 1) & ~(uint64_t)(VMS_CORE_MEM_ALIGN - 1);
    w->mem_off = off;
    for (i = 0; i < k; i++) {
        w->base[w->order[i]] = off;
        off += r->blocks[w->order[i]].size;
    }
    w->mem_end = off;
    return 0;
}

static int target(void *opaque, const struct vms_ram_page *pg, int *fd,
                  uint64_t *base, struct vms_error *err)
{
    struct corew *w = opaque;

    if (!w->planned && plan(w, pg->st, err) < 0) {
        return -1;
    }
    *fd = -1;
    if (pg->block_index < w->n_base &&
        w->base[pg->block_index] != UINT64_MAX) {
        *fd = w->fd;
        *base = w->base[pg->block_index];
    }
    return 0;
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, uint64_t off,
                      struct vms_error *err)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            vms_error_set_errno(err, errno, "cannot write the core file");
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int cmp_cpu(const void *a, const void *b)
{
    const struct vms_armcpu *x = a, *y = b;

    return x->instance_id < y->instance_id ? -1
           : x->instance_id > y->instance_id;
}

/* Decode every cpu section, sorted by vCPU index. */
static int load_cpus(const struct vms_stream *st, struct vms_armcpu **out,
                     size_t *n, struct vms_error *err)
{
    size_t i;

    *out = NULL;
    *n = 0;
    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];
        struct vms_armcpu *nc;

        struct vms_cpu_kind kind = vms_section_cpu_kind(st, s);

        if (kind.arch == VMS_CPU_NONE) {
            continue;
        }
        if (kind.arch != VMS_CPU_ARM) {
            vms_error_set(err, VMS_E_UNSUPPORTED, s->offset,
                          "vCPU %u is an %s vCPU (%s): core writes "
                          "the notes of Arm vCPUs only; 'vmstream extract' "
                          "gives this VM's RAM", s->instance_id, kind.name,
                          kind.why);
            return -1;
        }
        nc = realloc(*out, (*n + 1) * sizeof(*nc));
        if (!nc) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            return -1;
        }
        *out = nc;
        memset(&nc[*n], 0, sizeof(nc[*n]));
        if (vms_armcpu_from_section(s, &nc[*n], err) < 0) {
            vms_armcpu_fini(&nc[*n]);
            return -1;
        }
        (*n)++;
    }
    if (*n > 1) {
        qsort(*out, *n, sizeof(**out), cmp_cpu);
    }
    return 0;
}

static int write_headers(struct corew *w, uint64_t note_off,
                         uint64_t note_size, uint64_t str_off,
                         struct vms_error *err)
{
    const struct vms_core_result *r = w->r;
    int be = r->big_endian, e64 = r->elf64;
    size_t ehdr = e64 ? 64 : 52, shdr = e64 ? 64 : 40, phdr = e64 ? 56 : 32;
    uint64_t phnum = 1 + (uint64_t)r->n_loads;
    size_t len = ehdr + 2 * shdr + phdr * (size_t)phnum, i;
    uint8_t *h = calloc(1, len), *p;
    int rc;

    if (!h) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    memcpy(h, "\177ELF", 4);
    h[4] = e64 ? 2 : 1;                 /* EI_CLASS */
    h[5] = be ? 2 : 1;                  /* EI_DATA */
    h[6] = 1;                           /* EI_VERSION */
    put16(h + 16, ET_CORE, be);
    put16(h + 18, e64 ? EM_AARCH64 : EM_ARM, be);
    put32(h + 20, 1, be);
    if (e64) {
        put64(h + 32, ehdr + 2 * shdr, be);         /* e_phoff */
        put64(h + 40, ehdr, be);                    /* e_shoff */
        p = h + 52;
    } else {
        put32(h + 28, (uint32_t)(ehdr + 2 * shdr), be);
        put32(h + 32, (uint32_t)ehdr, be);
        p = h + 40;
    }
    put16(p, (uint16_t)ehdr, be);
    put16(p + 2, (uint16_t)phdr, be);
    put16(p + 4, (uint16_t)(phnum < PN_XNUM ? phnum : PN_XNUM), be);
    put16(p + 6, (uint16_t)shdr, be);
    put16(p + 8, 2, be);
    put16(p + 10, 1, be);
    /* section header 0 (sh_info = real phnum past PN_XNUM), .shstrtab */
    p = h + ehdr;
    if (phnum >= PN_XNUM) {
        put32(p + (e64 ? 44 : 28), (uint32_t)phnum, be);
    }
    p += shdr;
    put32(p, 1, be);
    put32(p + 4, SHT_STRTAB, be);
    if (e64) {
        put64(p + 24, str_off, be);
        put64(p + 32, sizeof(shstrtab), be);
    } else {
        put32(p + 16, (uint32_t)str_off, be);
        put32(p + 20, sizeof(shstrtab), be);
    }
    /* PT_NOTE, then one PT_LOAD per included block by address */
    p = h + ehdr + 2 * shdr;
    for (i = 0; i < phnum; i++, p += phdr) {
        uint64_t type = PT_NOTE, off = note_off, paddr = 0, sz = note_size;

        if (i > 0) {
            size_t b = w->order[i - 1];

            type = PT_LOAD;
            off = w->base[b];
            paddr = r->blocks[b].gpa;
            sz = r->blocks[b].size;
        }
        put32(p, (uint32_t)type, be);
        if (e64) {
            put64(p + 8, off, be);
            put64(p + 16, paddr, be);       /* p_vaddr = p_paddr */
            put64(p + 24, paddr, be);
            put64(p + 32, sz, be);
            put64(p + 40, sz, be);
        } else {
            put32(p + 4, (uint32_t)off, be);
            put32(p + 8, (uint32_t)paddr, be);
            put32(p + 12, (uint32_t)paddr, be);
            put32(p + 16, (uint32_t)sz, be);
            put32(p + 20, (uint32_t)sz, be);
        }
    }
    rc = pwrite_all(w->fd, h, len, 0, err);
    free(h);
    return rc;
}

int vms_core_write(struct vms_src *src, const char *path,
                   const struct vms_core_opts *o, struct vms_stream *st,
                   struct vms_core_result *r, struct vms_error *err)
{
    static const struct vms_core_opts none;
    struct corew w;
    struct vms_parse_opts po;
    struct vms_stream_observer ob;
    struct vms_ramimg *img = NULL;
    struct vms_sink *k;
    struct vms_armcpu *cpus = NULL;
    uint8_t *notes = NULL;
    size_t n_cpus = 0, note_len = 0, i;
    uint64_t str_off;
    int rc = -1;

    memset(r, 0, sizeof(*r));
    memset(&w, 0, sizeof(w));
    w.o = o ? o : &none;
    w.r = r;
    if (w.o->sve_max_vq > ARM_MAX_VQ) {
        vms_error_set_nooff(err, VMS_E_USAGE, "sve-max-vq %u: at most %u",
                            w.o->sve_max_vq, ARM_MAX_VQ);
        return -1;
    }
    k = vms_sink_open(path, NULL, err);
    if (!k) {
        return -1;
    }
    w.fd = vms_sink_fd(k);
    if (w.fd < 0) {
        vms_sink_abort(k);
        vms_error_set_nooff(err, VMS_E_USAGE, "the core goes to a regular "
                            "file, not to standard output");
        return -1;
    }
    img = vms_ramimg_new(target, &w, err);
    if (!img) {
        goto out;
    }
    memset(&po, 0, sizeof(po));
    po.no_hash = 1;
    po.twin = w.o->twin;
    vms_ramimg_observer(img, w.o->progress, w.o->progress_opaque, &ob);
    po.observer = &ob;
    /* The ELF class is known only from the cpu sections, after the RAM:
     * the memory is placed after room for ELF64 headers (the larger),
     * rounded up to VMS_CORE_MEM_ALIGN, which fits ELF32 headers too. */
    r->elf64 = 1;
    if (vms_stream_parse(src, &po, st, err) < 0 ||
        vms_ramimg_flush(img, err) < 0) {
        goto out;
    }
    if (!w.planned && plan(&w, st, err) < 0) {
        goto out;
    }
    if (load_cpus(st, &cpus, &n_cpus, err) < 0) {
        goto out;
    }
    if (n_cpus == 0) {
        vms_error_set(err, VMS_E_UNSUPPORTED, st->total_len, "the stream "
                      "has no Arm cpu section: no registers for the core");
        goto out;
    }
    r->n_vcpus = (unsigned)n_cpus;
    r->elf64 = vms_core_cpu_is_aarch64(&cpus[0]);
    r->big_endian = cpu_big_endian(&cpus[0]);
    if (!r->elf64 && w.mem_end > UINT32_MAX) {
        vms_error_set_nooff(err, VMS_E_LIMIT, "an ELF32 core (AArch32 cpu) "
                            "cannot hold %llu bytes of RAM",
                            (unsigned long long)w.mem_end);
        goto out;
    }
    for (i = 0; i < n_cpus; i++) {
        if (vms_core_cpu_notes(&cpus[i], r->elf64, r->big_endian,
                               w.o->sve_max_vq, &notes, &note_len,
                               err) < 0) {
            goto out;
        }
    }
    r->note_size = note_len;
    str_off = w.mem_end + note_len;
    r->file_size = str_off + sizeof(shstrtab);
    if (pwrite_all(w.fd, notes, note_len, w.mem_end, err) < 0 ||
        pwrite_all(w.fd, (const uint8_t *)shstrtab, sizeof(shstrtab),
                   str_off, err) < 0 ||
        write_headers(&w, w.mem_end, note_len, str_off, err) < 0) {
        goto out;
    }
    rc = vms_sink_commit(k, err);
    k = NULL;
out:
    if (k) {
        vms_sink_abort(k);
    }
    for (i = 0; i < n_cpus; i++) {
        vms_armcpu_fini(&cpus[i]);
    }
    free(cpus);
    free(notes);
    free(w.base);
    free(w.order);
    vms_ramimg_free(img);
    return rc;
}

void vms_core_result_fini(struct vms_core_result *r)
{
    free(r->blocks);
    r->blocks = NULL;
}
