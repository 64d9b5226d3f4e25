/*
 * elfcore.c - vmstream core: the ELF file (headers, which RAM blocks become
 * PT_LOADs and where, the pages written as the stream delivers them).  The
 * notes with each vCPU's registers are in elfcore_notes.c.
 */
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
#include "vcpus.h"

#include "elf_impl.h"

static const char shstrtab[] = "\0.shstrtab";   /* 11 bytes with NULs */

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

/* Decode every cpu section, sorted by vCPU index. */
static int load_cpus(const struct vms_stream *st, struct vms_armcpu **out,
                     size_t *n, struct vms_error *err)
{
    size_t i;

    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];
        struct vms_cpu_kind kind;

        if (!vms_section_is_other_cpu(st, s)) {
            continue;
        }
        kind = vms_section_cpu_kind(st, s);
        vms_error_set(err, VMS_E_UNSUPPORTED, s->offset,
                      "vCPU %u is an %s vCPU (%s): core writes "
                      "the notes of Arm vCPUs only; 'vmstream extract' "
                      "gives this VM's RAM", s->instance_id, kind.name,
                      kind.why);
        *out = NULL;
        *n = 0;
        return -1;
    }
    return vms_vcpus_collect(st, -1, out, n, err);
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
    core_put16(h + 16, ET_CORE, be);
    core_put16(h + 18, e64 ? EM_AARCH64 : EM_ARM, be);
    core_put32(h + 20, 1, be);
    if (e64) {
        core_put64(h + 32, ehdr + 2 * shdr, be);         /* e_phoff */
        core_put64(h + 40, ehdr, be);                    /* e_shoff */
        p = h + 52;
    } else {
        core_put32(h + 28, (uint32_t)(ehdr + 2 * shdr), be);
        core_put32(h + 32, (uint32_t)ehdr, be);
        p = h + 40;
    }
    core_put16(p, (uint16_t)ehdr, be);
    core_put16(p + 2, (uint16_t)phdr, be);
    core_put16(p + 4, (uint16_t)(phnum < PN_XNUM ? phnum : PN_XNUM), be);
    core_put16(p + 6, (uint16_t)shdr, be);
    core_put16(p + 8, 2, be);
    core_put16(p + 10, 1, be);
    /* section header 0 (sh_info = real phnum past PN_XNUM), .shstrtab */
    p = h + ehdr;
    if (phnum >= PN_XNUM) {
        core_put32(p + (e64 ? 44 : 28), (uint32_t)phnum, be);
    }
    p += shdr;
    core_put32(p, 1, be);
    core_put32(p + 4, SHT_STRTAB, be);
    if (e64) {
        core_put64(p + 24, str_off, be);
        core_put64(p + 32, sizeof(shstrtab), be);
    } else {
        core_put32(p + 16, (uint32_t)str_off, be);
        core_put32(p + 20, sizeof(shstrtab), be);
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
        core_put32(p, (uint32_t)type, be);
        if (e64) {
            core_put64(p + 8, off, be);
            core_put64(p + 16, paddr, be);       /* p_vaddr = p_paddr */
            core_put64(p + 24, paddr, be);
            core_put64(p + 32, sz, be);
            core_put64(p + 40, sz, be);
        } else {
            core_put32(p + 4, (uint32_t)off, be);
            core_put32(p + 8, (uint32_t)paddr, be);
            core_put32(p + 12, (uint32_t)paddr, be);
            core_put32(p + 16, (uint32_t)sz, be);
            core_put32(p + 20, (uint32_t)sz, be);
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
    r->big_endian = core_cpu_big_endian(&cpus[0]);
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
