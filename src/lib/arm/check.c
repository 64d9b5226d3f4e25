#include "config.h"
#include "check.h"

#include "check_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpreg.h"
#include "cpu_vmdesc.h"
#include "vcpus.h"
#include "vmdesc_json.h"
#include "cpuarch.h"
#include "wire.h"

/* v23: the rules the seed's copy loop never checks (doc/format.md §3,
 * "Value slots"). */
static int check_value_indexes(struct check_ctx *x, const struct vms_armcpu *c)
{
    size_t first = x->r->n, k;
    int32_t v;
    int bad = 0;

    for (v = 0; v < c->n; v++) {
        uint32_t vi = c->value_idx[v];
        uint64_t off = c->vidx_offset + 4ull * v, id = c->ids[v];
        int64_t slots = vms_armcpu_slots(c, v);
        unsigned want = vms_cpreg_slots(id);

        if (v == 0 && vi != 0) {
            check_add(x, VMS_SEV_FATAL, 1, id, off,
                "first value index is %u, not 0: slots 0..%u belong to no "
                "register", vi, vi - 1);
            bad = 1;
        }
        if (vi >= (uint32_t)c->m) {
            check_add(x, VMS_SEV_FATAL, 1, id, off,
                "value index %u is out of range (value_array_len %d): the "
                "v23 loader copies from beyond the loaded values (heap "
                "over-read)", vi, c->m);
            bad = 1;
            continue;
        }
        if (slots < 0) {
            check_add(x, VMS_SEV_FATAL, 1, id, off,
                "value indexes decrease (%u, then %u): the v23 loader's "
                "copy length is negative and becomes a huge memcpy "
                "(destination crash)", vi, c->value_idx[v + 1]);
            bad = 1;
        } else if (slots == 0) {
            check_add(x, VMS_SEV_FATAL, 1, id, off,
                "slot count 0 (value index %u repeats): the register "
                "matches but nothing is copied, it silently keeps its "
                "reset value", vi);
            bad = 1;
        } else if (want == 0) {
            check_add(x, VMS_SEV_FATAL, 1, id, off,
                "register id has an invalid size code %u",
                (unsigned)((id >> 52) & 0xf));
            bad = 1;
        } else if (slots > (int64_t)want) {
            check_add(x, VMS_SEV_FATAL, 1, id, off,
                "slot count %lld is larger than the %u its size needs: the "
                "v23 loader copies over the following registers (heap "
                "overflow past the last one)", (long long)slots, want);
            bad = 1;
        } else if (slots < (int64_t)want) {
            check_add(x, VMS_SEV_FATAL, 1, id, off,
                "slot count %lld is smaller than the %u its %u-byte size "
                "needs: the register is cut short", (long long)slots, want,
                vms_cpreg_size(id));
            bad = 1;
        }
    }
    for (k = first; k < x->r->n; k++) {
        x->r->findings[k].malformed = 1;
    }
    return bad;
}

static void check_structure(struct check_ctx *x, const struct vms_armcpu *c)
{
    int32_t v;

    for (v = 0; v < c->n; v++) {
        uint64_t id = c->ids[v], at = c->ids_offset + 8ull * v;
        unsigned code = (unsigned)((id >> 52) & 0xf);

        /* What the order does at a destination is the merge's finding;
         * here it only marks a list no QEMU writes. */
        if (v > 0 && id == c->ids[v - 1]) {
            check_malformed(check_add(x, VMS_SEV_INFO, 1, id, at,
                                      "register listed twice (QEMU writes "
                                      "its list with strictly ascending "
                                      "ids)"));
        } else if (v > 0 && id < c->ids[v - 1]) {
            check_malformed(check_add(x, VMS_SEV_INFO, 1, id, at,
                                      "register out of order: its id is "
                                      "below the previous one 0x%016llx "
                                      "(QEMU writes its list with strictly "
                                      "ascending ids)",
                                      (unsigned long long)c->ids[v - 1]));
        }
        if (c->layout == 22 && code != 2 && code != 3) {
            check_malformed(check_add(x, VMS_SEV_FATAL, 1, id, at,
                                      "a %u-byte register cannot be carried "
                                      "by the v22 layout (one 8-byte value "
                                      "per register)", vms_cpreg_size(id)));
        }
        if (code == 2 && (c->layout == 22 || (c->value_idx &&
                                              c->value_idx[v] <
                                                  (uint32_t)c->m)) &&
            (vms_armcpu_value(c, v) >> 32)) {
            check_malformed(check_add(x, VMS_SEV_WARNING, 1, id,
                                      check_value_offset(c, v),
                                      "32-bit register with upper bits set "
                                      "(0x%016llx): a TCG destination's "
                                      "read-back fails, KVM truncates it",
                                      (unsigned long long)
                                          vms_armcpu_value(c, v)));
        }
    }
    if (c->layout == 23) {
        check_value_indexes(x, c);
    }
}

static const char *layout_name(int l)
{
    return l == 23 ? "v23" : "v22";
}

/* What cpu_post_load's write-back does to one destination register. */
static void check_dest(struct check_ctx *x, const struct vms_armcpu *c,
                       uint32_t version, const struct vms_profile *p)
{
    if ((int)version > p->layout) {
        check_add(x, VMS_SEV_FATAL, 0, 0, c->body_offset - 4,
            "section version %u, the destination's cpu is v%d: \"savevm: "
            "unsupported version %u for 'cpu' v%d\"%s", version, p->layout,
            version, p->layout,
            p->layout == 22 ? "; convert with 'vmstream convert --to v22'"
                            : "");
    } else if ((int)version < p->layout) {
        check_add(x, VMS_SEV_FATAL, 0, 0, c->body_offset - 4,
            "section version %u: \"cpu: incoming version_id %u is too old "
            "for local minimum version_id  %d\"%s", version, version,
            p->layout,
            p->layout == 23 ? "; convert with 'vmstream convert --to v23'"
                            : "");
    } else if (c->layout != p->layout) {
        check_add(x, VMS_SEV_FATAL, 0, 0, c->n_offset,
            "the body is in the %s layout but the destination reads %s: "
            "it misparses the section", layout_name(c->layout),
            layout_name(p->layout));
    }
    if (c->n > p->count) {
        check_add(x, VMS_SEV_FATAL, 0, 0, c->n_offset,
            "cpreg_vmstate_array_len %d is larger than the destination's "
            "%d registers: \"Invalid value %d expecting positive value "
            "<= %d\"", c->n, p->count, c->n, p->count);
        return;
    }
    if (p->layout == 23 && c->layout == 23 && c->m > p->slots) {
        check_add(x, VMS_SEV_FATAL, 0, 0, c->m_offset,
            "cpreg_vmstate_value_array_len %d is larger than the "
            "destination's %d slots: \"Invalid value %d expecting positive "
            "value <= %d\"", c->m, p->slots, c->m, p->slots);
        return;
    }
    check_merge(x, c, p, 1);
}

static int cmp_reg(const void *a, const void *b)
{
    uint64_t x = ((const struct vms_profile_reg *)a)->id;
    uint64_t y = ((const struct vms_profile_reg *)b)->id;

    return x < y ? -1 : x > y;
}

/* Without a destination: the stream's own build, whose list is the
 * stream's ids sorted, must accept it. */
static void check_self(struct check_ctx *x, const struct vms_armcpu *c)
{
    struct vms_profile self;
    int32_t v;
    size_t k = 0;

    memset(&self, 0, sizeof(self));
    self.layout = c->layout;
    self.accel = x->names;
    self.absent = vms_absent_default(self.accel);
    self.count = c->n;
    self.slots = c->m;
    self.regs = calloc((size_t)c->n + 1, sizeof(*self.regs));
    if (!self.regs) {
        x->r->nomem = 1;
        x->r->verdict = VMS_VERDICT_FAILS;
        return;
    }
    /* The stream's own build: its constants hold the stream's values. */
    for (v = 0; v < c->n; v++) {
        self.regs[v].id = c->ids[v];
        self.regs[v].fixed = self.accel == VMS_CPREG_TCG
                                 ? vms_profile_tcg_fixed(c->ids[v])
                                 : vms_cpreg_is_id_register(c->ids[v]);
        self.regs[v].value = vms_armcpu_value(c, v);
    }
    qsort(self.regs, (size_t)c->n, sizeof(*self.regs), cmp_reg);
    for (v = 0; v < c->n; v++) {          /* drop duplicates */
        if (k == 0 || self.regs[k - 1].id != self.regs[v].id) {
            self.regs[k++] = self.regs[v];
        }
    }
    self.n_regs = k;
    check_merge(x, c, &self, 0);
    free(self.regs);
}

int vms_check_cpus(const struct vms_armcpu *cpus, size_t n,
                   const struct vms_profile *dest,
                   struct vms_check_result *r)
{
    size_t i;

    for (i = 0; i < n; i++) {
        struct check_ctx x = { r, cpus[i].instance_id,
                         vms_cpreg_guess_ctx(cpus[i].ids,
                                             (size_t)cpus[i].n) };

        r->vcpus++;
        check_structure(&x, &cpus[i]);
        if (dest) {
            check_dest(&x, &cpus[i], (uint32_t)cpus[i].layout, dest);
        } else {
            check_self(&x, &cpus[i]);
        }
    }
    return 0;
}

static void check_vmdesc(struct check_ctx *x, const struct vms_stream *st,
                         const struct vms_section *s,
                         const struct vms_armcpu *c)
{
    struct vms_error e;
    uint32_t n, m;
    int v23;

    if (!st->vmdesc || s->vmdesc_dev < 0) {
        return;
    }
    vms_error_clear(&e);
    if (vms_vmdesc_cpu_get_layout(st->vmdesc->json, s->instance_id, &v23,
                                  &n, &m, &e) < 0) {
        check_add(x, VMS_SEV_WARNING, 0, 0, st->vmdesc_offset,
            "the vmdesc entry of this cpu is malformed: %s", e.msg);
        return;
    }
    if (c && ((v23 ? 23 : 22) != c->layout || (int32_t)n != c->n ||
              (int32_t)m != c->m)) {
        check_add(x, VMS_SEV_WARNING, 0, 0, st->vmdesc_offset,
            "the vmdesc describes a %s cpu with %u registers in %u slots, "
            "the data holds %s with %d in %d: tools that trust the vmdesc "
            "misparse it", v23 ? "v23" : "v22", n, m,
            layout_name(c->layout), c->n, c->m);
    }
}

/* Raw counts as QEMU reads them, even when the body does not decode. */
static void raw_counts(struct check_ctx *x, const struct vms_section *s,
                       int layout, const struct vms_profile *dest)
{
    const uint8_t *b = vms_section_body(s);
    int32_t n, m;

    if (!b || s->body_len < VMS_ARMCPU_HEAD_LEN + 8) {
        return;
    }
    n = (int32_t)vms_get_be32(b + VMS_ARMCPU_HEAD_LEN);
    m = (int32_t)vms_get_be32(b + VMS_ARMCPU_HEAD_LEN + 4);
    if (n < 0) {
        check_add(x, VMS_SEV_FATAL, 0, 0, s->body_offset + VMS_ARMCPU_HEAD_LEN,
            "cpreg_vmstate_array_len is negative (%d): \"Invalid value %d "
            "expecting positive value <= ...\"", n, n);
    } else if (dest && n > dest->count) {
        check_add(x, VMS_SEV_FATAL, 0, 0, s->body_offset + VMS_ARMCPU_HEAD_LEN,
            "cpreg_vmstate_array_len %d is larger than the destination's "
            "%d registers: \"Invalid value %d expecting positive value "
            "<= %d\"", n, dest->count, n, dest->count);
    }
    if (layout == 23 && m < 0) {
        check_add(x, VMS_SEV_FATAL, 0, 0,
            s->body_offset + VMS_ARMCPU_HEAD_LEN + 4,
            "cpreg_vmstate_value_array_len is negative (%d)", m);
    }
}

int vms_check_stream(const struct vms_stream *st,
                     const struct vms_profile *dest,
                     struct vms_check_result *r, struct vms_error *err)
{
    struct vms_vcpus it;
    size_t i;

    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];
        struct check_ctx x = { r, s->instance_id, VMS_CPREG_TCG };
        struct vms_cpu_kind kind;

        if (!vms_section_is_other_cpu(st, s)) {
            continue;
        }
        kind = vms_section_cpu_kind(st, s);
        check_add(&x, VMS_SEV_INFO, 0, 0, s->offset,
            "an %s vCPU (%s), not Arm: check predicts what "
            "an Arm destination does with the cpreg list and has "
            "nothing to say about it", kind.name, kind.why);
    }
    vms_vcpus_init(&it, st);
    while (vms_vcpus_next(&it)) {
        const struct vms_section *s = it.section;
        const struct vms_armcpu *c = &it.cpu;
        struct check_ctx x = { r, s->instance_id, VMS_CPREG_TCG };
        int layout;

        r->vcpus++;
        if (!it.ok) {
            const struct vms_error *e = &it.err;

            layout = vms_armcpu_layout_of(s);
            raw_counts(&x, s, layout, dest);
            check_add(&x, VMS_SEV_FATAL, 0, 0, e->has_offset ? e->offset
                                                       : s->body_offset,
                "the section does not parse as %s (%s): a destination "
                "reading it fails or misreads every field after the "
                "cpreg list", layout_name(layout), e->msg);
            check_vmdesc(&x, st, s, NULL);
            continue;
        }
        x.names = vms_cpreg_guess_ctx(c->ids, (size_t)c->n);
        if (s->version_id != (uint32_t)c->layout && !dest) {
            check_add(&x, VMS_SEV_FATAL, 0, 0, s->body_offset - 4,
                "section version %u but the body is in the %s layout: no "
                "QEMU build loads this (v22 builds accept only 22, v23 "
                "builds only 23)", s->version_id, layout_name(c->layout));
        }
        check_structure(&x, c);
        check_vmdesc(&x, st, s, c);
        if (dest) {
            check_dest(&x, c, s->version_id, dest);
        } else {
            check_self(&x, c);
        }
    }
    vms_vcpus_fini(&it);
    if (r->vcpus == 0) {
        struct check_ctx x = { r, -1, VMS_CPREG_TCG };

        check_add(&x, VMS_SEV_INFO, 0, 0, 0,
            "the stream has no Arm cpu section");
    }
    (void)err;
    return 0;
}

int check_verify_cpus(void *opaque, const struct vms_armcpu *cpus, size_t n,
                      struct vms_error *err)
{
    struct check_verify *cv = opaque;
    struct vms_check_result r = { 0 };
    size_t i;
    int rc = 0;

    vms_check_result_fini(&cv->result);
    vms_check_cpus(cpus, n, cv->dest, &r);
    for (i = 0; i < r.n; i++) {
        const struct vms_finding *f = &r.findings[i];

        if (f->severity == VMS_SEV_FATAL) {
            vms_error_set(err, VMS_E_CONVERT, f->offset,
                          "the converted stream would not load into %s: "
                          "vCPU %lld%s%s: %s", cv->dest->name,
                          (long long)f->vcpu, f->has_reg ? " " : "",
                          f->has_reg ? f->reg : "", f->message);
            rc = -1;
            break;
        }
    }
    cv->result = r;
    return rc;
}
