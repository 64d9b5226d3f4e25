/*
 * check_merge.c - what a destination's cpu_post_load does with the
 * incoming register list: QEMU's merge, what an absent register holds,
 * and the write-back in list order with the registers that share storage
 * (formats/tcg-aliases.tsv).  Proven against QEMU 7.2 by
 * tests/integration/check-missing.sh.
 */
#include "config.h"
#include "check_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpreg.h"
#include "profile.h"

struct wb {
    int32_t first;          /* index of its first copy in the stream, -1 */
    int taken;              /* the merge copied the stream's value */
    int known;              /* the value written is known */
    uint64_t written;
    int final_known;        /* what it reads after every write */
    uint64_t final;
    size_t last_writer;     /* the register whose write it reads */
    uint64_t off;           /* where the stream would carry it */
};

/* Incoming (id, index) pairs sorted by id, then index: the first copy. */
struct in_ref {
    uint64_t id;
    int32_t v;
};

static int cmp_in_ref(const void *a, const void *b)
{
    const struct in_ref *x = a, *y = b;

    if (x->id != y->id) {
        return x->id < y->id ? -1 : 1;
    }
    return x->v < y->v ? -1 : x->v > y->v;
}

static int32_t first_copy(const struct in_ref *refs, int32_t n, uint64_t id)
{
    int32_t lo = 0, hi = n;

    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;

        if (refs[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && refs[lo].id == id ? refs[lo].v : -1;
}

/* A destination register the stream does not carry where the merge passes
 * it: QEMU leaves its slot in cpreg_values as it was and writes that.
 * What the slot holds depends on accelerator and release (vms_absent).
 * Returns 1 if the write-back fails on it. */
static int absent_write(struct check_ctx *x, const struct vms_profile *p,
                        const struct vms_profile_reg *d, uint64_t off,
                        struct wb *w)
{
    w->off = off;
    switch (p->absent) {
    case VMS_ABSENT_ZERO:
        w->known = 1;
        w->written = 0;
        if (d->fixed && d->value != 0) {
            check_add(x, VMS_SEV_FATAL, 1, d->id, off,
                "not in the stream: on a fresh TCG destination its slot "
                "in cpreg_values was never filled (0), and 0 does not "
                "read back from this constant register (0x%llx): "
                "cpu_post_load fails (\"Operation not permitted\")",
                (unsigned long long)d->value);
            return 1;
        }
        return 0;
    case VMS_ABSENT_RESET:
        w->known = d->has_own;
        w->written = d->own;
        return 0;
    case VMS_ABSENT_UNDEFINED:
        w->known = 0;
        if (d->fixed) {
            check_add(x, VMS_SEV_FATAL, 1, d->id, off,
                "not in the stream: its slot in cpreg_values holds "
                "uninitialised memory on a fresh TCG destination; unless "
                "that happens to equal this constant register's 0x%llx, "
                "it does not read back and cpu_post_load fails",
                (unsigned long long)d->value);
            return 1;
        }
        return 0;
    }
    return 0;
}

/* A register both lists have: does the write-back of its value fail?
 * Returns the number of fatal findings. */
static int matched(struct check_ctx *x, const struct vms_armcpu *c, int32_t v,
                   const struct vms_profile *p,
                   const struct vms_profile_reg *d)
{
    uint64_t in = c->ids[v], val = vms_armcpu_value(c, v);
    unsigned code = (unsigned)((in >> 52) & 0xf);
    int fatal = 0;

    if (d->fixed && val != d->value) {
        check_add(x, VMS_SEV_FATAL, 1, in, check_value_offset(c, v),
            "value 0x%llx differs from the destination CPU's fixed 0x%llx: "
            "%s", (unsigned long long)val, (unsigned long long)d->value,
            p->accel == VMS_CPREG_KVM
                ? "KVM_SET_ONE_REG fails, cpu_post_load returns -1 "
                  "(\"Operation not permitted\")"
                : "the TCG write does not read back, cpu_post_load fails "
                  "(\"Operation not permitted\")");
        fatal++;
    } else if (p->accel == VMS_CPREG_TCG &&
               (val & vms_profile_tcg_dropped_bits(in))) {
        check_add(x, VMS_SEV_FATAL, 1, in, check_value_offset(c, v),
            "value 0x%llx sets bits 0x%llx that QEMU's write of this "
            "register drops (RES0): it does not read back, cpu_post_load "
            "fails (\"Operation not permitted\")",
            (unsigned long long)val,
            (unsigned long long)(val & vms_profile_tcg_dropped_bits(in)));
        fatal++;
    } else if (code == 2 && (val >> 32) && p->accel != VMS_CPREG_KVM) {
        check_add(x, VMS_SEV_FATAL, 1, in, check_value_offset(c, v),
            "32-bit register carries 0x%016llx: the TCG write does not "
            "read back, cpu_post_load fails", (unsigned long long)val);
        fatal++;
    }
    if (p->layout == 23 && c->layout == 23) {
        int64_t slots = vms_armcpu_slots(c, v);
        unsigned want = vms_cpreg_slots(d->id);

        if (slots > (int64_t)want) {
            check_add(x, VMS_SEV_FATAL, 1, in, c->vidx_offset + 4ull * v,
                "%lld slots for a register the destination stores in %u: "
                "the copy overwrites the next registers", (long long)slots,
                want);
            fatal++;
        }
    }
    return fatal;
}

/* Storage cell of each destination register, for the write-back. */
struct cell_ref {
    uint64_t storage;
    size_t reg;
};

static int cmp_cell_ref(const void *a, const void *b)
{
    const struct cell_ref *x = a, *y = b;

    if (x->storage != y->storage) {
        return x->storage < y->storage ? -1 : 1;
    }
    return x->reg < y->reg ? -1 : x->reg > y->reg;
}

/* The bits of a 64-bit cell a register of this size holds. */
static uint64_t value_mask(uint64_t id)
{
    unsigned size = vms_cpreg_size(id);

    return size >= 8 || size == 0 ? ~UINT64_C(0)
                                  : (UINT64_C(1) << (8 * size)) - 1;
}

/* Where in its cell a register starts (TCG aliases; 0 otherwise). */
static unsigned storage_shift(const struct vms_profile *p, uint64_t id)
{
    unsigned shift = 0;

    if (p->accel == VMS_CPREG_TCG) {
        vms_profile_tcg_storage(id, &shift);
    }
    return shift;
}

/*
 * The write-back, in list order.  Under TCG, list entries that are one
 * register in QEMU 7.2 (formats/tcg-aliases.tsv) share a cell, and each
 * reads what the last write left there; under KVM every register is its
 * own.  Returns -1 when out of memory.
 */
static int write_back(const struct vms_profile *p, struct wb *w)
{
    size_t n = p->n_regs, i, k;
    struct cell_ref *refs;
    size_t *cell_of;
    uint64_t *val, *known;
    size_t *writer;

    refs = calloc(n + 1, sizeof(*refs));
    cell_of = calloc(n + 1, sizeof(*cell_of));
    val = calloc(n + 1, sizeof(*val));
    known = calloc(n + 1, sizeof(*known));
    writer = calloc(n + 1, sizeof(*writer));
    if (!refs || !cell_of || !val || !known || !writer) {
        free(refs);
        free(cell_of);
        free(val);
        free(known);
        free(writer);
        return -1;
    }
    for (i = 0; i < n; i++) {
        unsigned shift = 0;

        refs[i].storage = p->accel == VMS_CPREG_TCG
                              ? vms_profile_tcg_storage(p->regs[i].id, &shift)
                              : p->regs[i].id;
        refs[i].reg = i;
    }
    qsort(refs, n, sizeof(*refs), cmp_cell_ref);
    for (i = 0, k = 0; i < n; i++) {
        if (i > 0 && refs[i].storage != refs[i - 1].storage) {
            k++;
        }
        cell_of[refs[i].reg] = k;
    }
    for (i = 0; i < n; i++) {
        unsigned shift = storage_shift(p, p->regs[i].id);
        uint64_t mask = value_mask(p->regs[i].id);
        size_t cl = cell_of[i];

        val[cl] = (val[cl] & ~(mask << shift)) |
                  ((w[i].written & mask) << shift);
        known[cl] = w[i].known ? known[cl] | (mask << shift)
                               : known[cl] & ~(mask << shift);
        writer[cl] = i;
    }
    for (i = 0; i < n; i++) {
        unsigned shift = storage_shift(p, p->regs[i].id);
        uint64_t mask = value_mask(p->regs[i].id);
        size_t cl = cell_of[i];

        w[i].final = (val[cl] >> shift) & mask;
        w[i].final_known = ((known[cl] >> shift) & mask) == mask;
        w[i].last_writer = writer[cl];
    }
    free(refs);
    free(cell_of);
    free(val);
    free(known);
    free(writer);
    return 0;
}

/* What a register ends with, when that is not what the stream carries. */
static void report_change(struct check_ctx *x, const struct vms_armcpu *c,
                          const struct vms_profile *p, size_t i,
                          const struct wb *w)
{
    const struct vms_profile_reg *d = &p->regs[i];
    char why[256] = "", own[48] = "";
    struct vms_finding *f;

    if (w[i].last_writer != i) {
        char name[VMS_CPREG_NAME_MAX];

        vms_cpreg_name(p->regs[w[i].last_writer].id, x->names, name,
                       sizeof(name));
        snprintf(why, sizeof(why), "; then %s, which QEMU keeps in the same "
                 "storage, was written after it", name);
    }
    if (d->has_own) {
        snprintf(own, sizeof(own), " (the destination's own value is "
                 "0x%llx)", (unsigned long long)d->own);
    }
    if (w[i].first < 0 || !w[i].taken) {
        const char *lead = w[i].first < 0
                               ? "not in the stream"
                               : "its entry comes after the merge passed "
                                 "its place (the list is out of order), so "
                                 "QEMU skips it";
        const char *what = "";

        switch (p->absent) {
        case VMS_ABSENT_ZERO:
            what = d->fixed ? ": its never-filled slot (0) is also its "
                              "fixed value; nothing is lost"
                            : ": it ends up 0 on a fresh TCG destination "
                              "(its slot in cpreg_values is never filled "
                              "before the load)";
            break;
        case VMS_ABSENT_RESET:
            what = ": it keeps the value the destination's kernel gave it "
                   "at vCPU reset";
            break;
        case VMS_ABSENT_UNDEFINED:
            what = ": it ends up with whatever the destination's "
                   "uninitialised cpreg_values slot held (unpredictable: "
                   "QEMU 10.0 TCG gave 0 on vCPU 0 and leftovers such as "
                   "0x190 on vCPU 1)";
            break;
        }
        int harmless = d->fixed && w[i].final_known &&
                       w[i].final == d->value && !w[i].taken &&
                       w[i].first < 0;

        f = check_add(x, harmless ? VMS_SEV_INFO : VMS_SEV_WARNING, 1,
                      d->id, w[i].off, "%s%s%s%s", lead, what, why, own);
    } else {
        f = check_add(x, VMS_SEV_WARNING, 1, d->id,
                      check_value_offset(c, w[i].first),
                      "loaded with 0x%llx%s: the load keeps the later value",
                (unsigned long long)vms_armcpu_value(c, w[i].first), why);
    }
    check_changed_to(f, w[i].final_known, w[i].final);
}

/*
 * QEMU's cpu_post_load (target/arm/machine.c), over the incoming list in
 * the order it arrives: i walks the destination's sorted list, v the
 * incoming one.  incoming > dest: the destination register is skipped
 * (absent); incoming < dest: an unknown register with a larger destination
 * register after it, return -1; equal: copy.  The loop stops when either
 * list runs out: incoming registers left over are ignored, destination
 * registers left over are absent.  Then every destination register is
 * written back in list order (TCG: write + read back; KVM: SET_ONE_REG),
 * and registers that share storage read what was written last.
 */
void check_merge(struct check_ctx *x, const struct vms_armcpu *c,
                  const struct vms_profile *p, int values)
{
    size_t i = 0, n = p->n_regs;
    int32_t v = 0, k;
    int fatal = 0;
    struct wb *w = calloc(n + 1, sizeof(*w));
    struct in_ref *refs = calloc((size_t)c->n + 1, sizeof(*refs));

    if (!w || !refs) {
        x->r->nomem = 1;
        x->r->verdict = VMS_VERDICT_FAILS;
        goto out;
    }
    for (k = 0; k < c->n; k++) {
        refs[k].id = c->ids[k];
        refs[k].v = k;
    }
    qsort(refs, (size_t)c->n, sizeof(*refs), cmp_in_ref);
    for (i = 0; i < n; i++) {
        w[i].first = first_copy(refs, c->n, p->regs[i].id);
    }
    for (i = 0; i < n && v < c->n;) {
        const struct vms_profile_reg *d = &p->regs[i];
        uint64_t in = c->ids[v];

        if (in > d->id) {
            fatal += absent_write(x, p, d, c->ids_offset + 8ull * v, &w[i]);
            i++;
            continue;
        }
        if (in < d->id) {
            check_add(x, VMS_SEV_FATAL, 1, in, c->ids_offset + 8ull * v,
                "unknown to the destination at this point of the list, "
                "and a larger destination register follows: "
                "cpu_post_load fails (\"load of migration failed: "
                "Operation not permitted\")");
            goto out;
        }
        w[i].taken = 1;
        w[i].known = 1;
        w[i].written = vms_armcpu_value(c, v);
        if (values && c->layout == p->layout) {
            fatal += matched(x, c, v, p, d);
        }
        i++;
        v++;
    }
    for (; i < n; i++) {
        fatal += absent_write(x, p, &p->regs[i], c->ids_offset + 8ull * v,
                              &w[i]);
    }
    for (; v < c->n; v++) {
        if (!vms_profile_find(p, c->ids[v], NULL)) {
            check_effect(check_add(x, VMS_SEV_WARNING, 1, c->ids[v],
                       c->ids_offset + 8ull * v,
                       "after the destination's last register (its list "
                       "ran out): QEMU ignores it without a word and its "
                       "value is lost"),
                   VMS_EFFECT_LOST);
        }
    }
    if (fatal) {
        goto out;           /* the load fails: no state to describe */
    }
    if (write_back(p, w) < 0) {
        x->r->nomem = 1;
        x->r->verdict = VMS_VERDICT_FAILS;
        goto out;
    }
    for (i = 0; i < n; i++) {
        const struct vms_profile_reg *d = &p->regs[i];

        if (w[i].first >= 0 && w[i].taken && w[i].final_known &&
            w[i].final == vms_armcpu_value(c, w[i].first)) {
            continue;
        }
        if (w[i].first >= 0 && !w[i].taken && w[i].final_known &&
            w[i].final == vms_armcpu_value(c, w[i].first)) {
            continue;       /* skipped, but it holds its value anyway */
        }
        if (p->accel == VMS_CPREG_KVM && w[i].taken &&
            ((d->id >> 52) & 0xf) == 2) {
            check_changed_to(check_add(x, VMS_SEV_WARNING, 1, d->id,
                           check_value_offset(c, w[i].first),
                           "32-bit register carries 0x%016llx: KVM "
                           "silently truncates the upper half",
                           (unsigned long long)w[i].written),
                       1, w[i].written & 0xffffffffu);
            continue;
        }
        report_change(x, c, p, i, w);
    }
out:
    free(w);
    free(refs);
}

