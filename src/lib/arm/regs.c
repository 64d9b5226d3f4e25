#include "config.h"
#include "regs.h"
#include "cpuarch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpreg.h"

/* The entry add() just wrote (the spare once out of memory). */
static struct vms_reg *last(struct vms_reglist *l)
{
    return l->nomem ? &l->spare : &l->r[l->n - 1];
}

static void add(struct vms_reglist *l, const char *group, const char *name,
                unsigned size, uint64_t v)
{
    struct vms_reg *r;

    if (l->nomem) {
        r = &l->spare;      /* written, never listed */
    } else {
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 512;
            struct vms_reg *nr = realloc(l->r, cap * sizeof(*nr));

            if (!nr) {
                l->nomem = 1;
                add(l, group, name, size, v);
                return;
            }
            l->r = nr;
            l->cap = cap;
        }
        r = &l->r[l->n++];
    }
    memset(r, 0, sizeof(*r));
    snprintf(r->group, sizeof(r->group), "%s", group);
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->size = size;
    snprintf(r->value, sizeof(r->value), "0x%0*" PRIx64, (int)size * 2, v);
}

/* name = prefix + i + suffix, e.g. "X" 3 "" -> "X3" */
static void addf(struct vms_reglist *l, const char *group, unsigned size,
                 uint64_t v, const char *prefix, int i, const char *suffix)
{
    char name[64];

    snprintf(name, sizeof(name), "%s%d%s", prefix, i, suffix);
    add(l, group, name, size, v);
}

static void core_aarch64(struct vms_reglist *l, const struct vms_armcpu *c)
{
    char pstate[64];
    int i;

    for (i = 0; i < 31; i++) {
        addf(l, "core", 8, c->xregs[i], "X", i, "");
    }
    add(l, "core", "SP", 8, c->xregs[31]);
    add(l, "core", "PC", 8, c->pc);
    add(l, "core", "PSTATE", 4, c->cpsr);
    snprintf(pstate, sizeof(pstate), "N%dZ%dC%dV%d DAIF=%x %s",
             (c->cpsr >> 31) & 1, (c->cpsr >> 30) & 1, (c->cpsr >> 29) & 1,
             (c->cpsr >> 28) & 1, (c->cpsr >> 6) & 0xf,
             vms_armcpu_mode_name(c));
    snprintf(last(l)->note, sizeof(last(l)->note), "%s",
             pstate);
    for (i = 0; i < 4; i++) {
        addf(l, "core", 8, c->sp_el[i], "SP_EL", i, "");
    }
    for (i = 1; i < 4; i++) {
        addf(l, "core", 8, c->elr_el[i], "ELR_EL", i, "");
    }
    add(l, "core", "SPSR_EL1", 8, c->banked_spsr[1]);
    add(l, "core", "SPSR_EL2", 8, c->banked_spsr[6]);
    add(l, "core", "SPSR_EL3", 8, c->banked_spsr[7]);
    for (i = 2; i < 6; i++) {
        char n[32];

        snprintf(n, sizeof(n), "SPSR_%s", vms_armcpu_bank_mode((unsigned)i));
        add(l, "core", n, 8, c->banked_spsr[i]);
    }
}

static void core_aarch32(struct vms_reglist *l, const struct vms_armcpu *c)
{
    char n[64];
    int i;

    for (i = 0; i < 16; i++) {
        addf(l, "core", 4, c->regs[i], "R", i, "");
    }
    add(l, "core", "CPSR", 4, c->cpsr);
    snprintf(last(l)->note, sizeof(last(l)->note), "mode %s",
             vms_armcpu_mode_name(c));
    add(l, "core", "SPSR(current)", 4, c->spsr);
    for (i = 0; i < 8; i++) {
        const char *m = vms_armcpu_bank_mode((unsigned)i);

        snprintf(n, sizeof(n), "R13_%s", m);
        add(l, "core", n, 4, c->banked_r13[i]);
        /* Hyp shares LR with usr: banked_r14[6] is unused */
        if (i == 6) {
            snprintf(n, sizeof(n), "R14_hyp(unused)");
        } else {
            snprintf(n, sizeof(n), "R14_%s", m);
        }
        add(l, "core", n, 4, c->banked_r14[i]);
        if (i > 0) {
            snprintf(n, sizeof(n), "SPSR_%s", m);
            add(l, "core", n, 4, c->banked_spsr[i]);
        }
    }
    for (i = 0; i < 5; i++) {
        addf(l, "core", 4, c->usr_regs[i], "R", 8 + i, "_usr(banked)");
        addf(l, "core", 4, c->fiq_regs[i], "R", 8 + i, "_fiq(banked)");
    }
    for (i = 1; i < 4; i++) {
        addf(l, "core", 8, c->elr_el[i], "ELR_EL", i, "");
    }
}

static void cpregs(struct vms_reglist *l, const struct vms_armcpu *c)
{
    enum vms_cpreg_ctx ctx = vms_cpreg_guess_ctx(c->ids, (size_t)c->n);
    int32_t v;

    for (v = 0; v < c->n; v++) {
        struct vms_reg *r;
        char name[VMS_CPREG_NAME_MAX];
        int64_t slots = vms_armcpu_slots(c, v), k;
        uint32_t first = c->layout == 23 ? c->value_idx[v] : (uint32_t)v;
        size_t used = 0;

        vms_cpreg_name(c->ids[v], ctx, name, sizeof(name));
        add(l, "cpreg", name, vms_cpreg_size(c->ids[v]), 0);
        r = last(l);
        r->has_id = 1;
        r->id = c->ids[v];
        r->value[0] = '\0';
        for (k = 0; k < slots && k < 16 && (int64_t)first + k < (int64_t)c->m; k++) {
            used += (size_t)snprintf(r->value + used, sizeof(r->value) - used,
                                     "%s0x%016" PRIx64, k ? ":" : "",
                                     c->values[first + k]);
            if (used >= sizeof(r->value)) {
                break;
            }
        }
        if (r->size == 4 && slots == 1 && !(c->values[first] >> 32)) {
            snprintf(r->value, sizeof(r->value), "0x%08" PRIx64,
                     c->values[first]);
        }
    }
}

static void others(struct vms_reglist *l, const struct vms_armcpu *c)
{
    int i;

    if (c->has_vfp) {
        for (i = 0; i < 32; i++) {
            struct vms_reg *r;
            char n[8];

            snprintf(n, sizeof(n), "Q%d", i);
            add(l, "fp", n, 16, 0);
            r = last(l);
            snprintf(r->value, sizeof(r->value), "0x%016" PRIx64 "%016"
                     PRIx64, c->vfp_d[i][1], c->vfp_d[i][0]);
        }
        add(l, "fp", "FPSCR", 4, c->fpscr);
        add(l, "fp", "FPSID", 4, c->fpsid);
        add(l, "fp", "MVFR2", 4, c->vfp_xregs[3]);
        add(l, "fp", "MVFR1", 4, c->vfp_xregs[4]);
        add(l, "fp", "MVFR0", 4, c->vfp_xregs[5]);
        add(l, "fp", "FPEXC", 4, c->vfp_xregs[6]);
    }
    if (c->has_sve) {
        for (i = 0; i < 33 + 16; i++) {
            struct vms_reg *r;
            char n[8];
            size_t used = 2;
            int j;

            if (i < 32) {
                /* Zn = the high 14 doublewords, then Qn (low 128 bits) */
                snprintf(n, sizeof(n), "Z%d", i);
                add(l, "sve", n, 256, 0);
                r = last(l);
                strcpy(r->value, "0x");
                for (j = 13; j >= 0; j--) {
                    used += (size_t)snprintf(r->value + used,
                                             sizeof(r->value) - used,
                                             "%016" PRIx64,
                                             c->sve_z_hi[i][j]);
                }
                snprintf(r->value + used, sizeof(r->value) - used,
                         "%016" PRIx64 "%016" PRIx64, c->vfp_d[i][1],
                         c->vfp_d[i][0]);
            } else if (i - 32 < 17) {
                int k = i - 32;

                if (k < 16) {
                    snprintf(n, sizeof(n), "P%d", k);
                } else {
                    snprintf(n, sizeof(n), "FFR");
                }
                add(l, "sve", n, 32, 0);
                r = last(l);
                snprintf(r->value, sizeof(r->value),
                         "0x%016" PRIx64 "%016" PRIx64 "%016" PRIx64
                         "%016" PRIx64, c->sve_p[k][3], c->sve_p[k][2],
                         c->sve_p[k][1], c->sve_p[k][0]);
            }
        }
    }
    add(l, "timer", "CNTP expiry (gt_timer[0])", 8, c->gt_timer[0]);
    add(l, "timer", "CNTV expiry (gt_timer[1])", 8, c->gt_timer[1]);
    add(l, "state", "exclusive_addr", 8, c->exclusive_addr);
    add(l, "state", "exclusive_val", 8, c->exclusive_val);
    add(l, "state", "exclusive_high", 8, c->exclusive_high);
    add(l, "state", "exception.syndrome", 4, c->syndrome);
    add(l, "state", "exception.fsr", 4, c->fsr);
    add(l, "state", "exception.vaddress", 8, c->vaddress);
    add(l, "state", "power_state (1 = off)", 1, c->power_state);
    if (c->has_irq_line_state) {
        add(l, "state", "irq_line_state", 4, c->irq_line_state);
    }
}

int vms_regs_list(const struct vms_armcpu *c, struct vms_reglist *l,
                  struct vms_error *err)
{
    memset(l, 0, sizeof(*l));
    l->instance = c->instance_id;
    if (vms_armcpu_is_aarch64(c)) {
        core_aarch64(l, c);
    } else {
        core_aarch32(l, c);
    }
    others(l, c);
    cpregs(l, c);
    if (l->nomem) {
        vms_reglist_fini(l);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory listing the "
                            "registers of vCPU %u", c->instance_id);
        return -1;
    }
    return 0;
}

static int field_entry(void *opaque, const char *group, const char *name,
                       unsigned size, uint64_t v)
{
    add(opaque, group, name, size, v);
    return 0;
}

int vms_regs_list_fields(const struct vms_stream *st,
                         const struct vms_section *s, struct vms_reglist *l,
                         struct vms_error *err)
{
    memset(l, 0, sizeof(*l));
    l->instance = s->instance_id;
    if (vms_cpu_fields(st, s, field_entry, l, err) < 0) {
        vms_reglist_fini(l);
        return -1;
    }
    if (l->nomem) {
        vms_reglist_fini(l);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory listing the "
                            "fields of vCPU %u", s->instance_id);
        return -1;
    }
    return 0;
}

void vms_reglist_fini(struct vms_reglist *l)
{
    free(l->r);
    memset(l, 0, sizeof(*l));
}

const struct vms_reg *vms_reglist_find(const struct vms_reglist *l,
                                      const struct vms_reg *r)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        const struct vms_reg *o = &l->r[i];

        if (r->has_id ? (o->has_id && o->id == r->id)
                      : (!o->has_id && strcmp(o->group, r->group) == 0 &&
                         strncmp(o->name, r->name, 6) == 0 &&
                         strcmp(o->name, r->name) == 0)) {
            return o;
        }
    }
    return NULL;
}

static int push(struct vms_regdiff *d, uint32_t vcpu,
                enum vms_reg_change change, const struct vms_reg *r,
                const char *other, struct vms_error *err)
{
    struct vms_reg_delta *x;

    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        struct vms_reg_delta *nd = realloc(d->d, cap * sizeof(*nd));

        if (!nd) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory comparing "
                                "registers");
            return -1;
        }
        d->d = nd;
        d->cap = cap;
    }
    x = &d->d[d->n++];
    memset(x, 0, sizeof(*x));
    x->vcpu = vcpu;
    x->change = change;
    if (r) {
        x->has_reg = 1;
        x->reg = *r;
    }
    if (other) {
        x->has_other = 1;
        snprintf(x->other_value, sizeof(x->other_value), "%s", other);
    }
    return 0;
}

/* b (STREAM) against a (OTHER): b's registers that differ or are extra,
 * then a's that b is missing. */
static int diff_lists(const struct vms_reglist *a, const struct vms_reglist *b,
                      struct vms_regdiff *d, struct vms_error *err)
{
    size_t i;

    for (i = 0; i < b->n; i++) {
        const struct vms_reg *r = &b->r[i], *o = vms_reglist_find(a, r);

        if (!o) {
            if (push(d, b->instance, VMS_REG_EXTRA, r, NULL, err) < 0) {
                return -1;
            }
        } else if (strcmp(o->value, r->value) != 0 &&
                   push(d, b->instance, VMS_REG_DIFFERS, r, o->value,
                        err) < 0) {
            return -1;
        }
    }
    for (i = 0; i < a->n; i++) {
        const struct vms_reg *r = &a->r[i];

        if (!vms_reglist_find(b, r) &&
            push(d, b->instance, VMS_REG_MISSING, r, NULL, err) < 0) {
            return -1;
        }
    }
    return 0;
}

int vms_regs_diff(const struct vms_armcpu *a, size_t na,
                  const struct vms_armcpu *b, size_t nb,
                  struct vms_regdiff *d, struct vms_error *err)
{
    size_t i, k;

    memset(d, 0, sizeof(*d));
    for (i = 0; i < nb; i++) {
        struct vms_reglist lb, la;
        int rc;

        for (k = 0; k < na && a[k].instance_id != b[i].instance_id; k++) {
        }
        if (k == na) {
            if (push(d, b[i].instance_id, VMS_REG_VCPU_EXTRA, NULL, NULL,
                     err) < 0) {
                goto fail;
            }
            continue;
        }
        if (vms_regs_list(&b[i], &lb, err) < 0) {
            goto fail;
        }
        if (vms_regs_list(&a[k], &la, err) < 0) {
            vms_reglist_fini(&lb);
            goto fail;
        }
        rc = diff_lists(&la, &lb, d, err);
        vms_reglist_fini(&la);
        vms_reglist_fini(&lb);
        if (rc < 0) {
            goto fail;
        }
    }
    for (k = 0; k < na; k++) {
        for (i = 0; i < nb && a[k].instance_id != b[i].instance_id; i++) {
        }
        if (i == nb && push(d, a[k].instance_id, VMS_REG_VCPU_MISSING, NULL,
                            NULL, err) < 0) {
            goto fail;
        }
    }
    return 0;
fail:
    vms_regdiff_fini(d);
    return -1;
}

void vms_regdiff_fini(struct vms_regdiff *d)
{
    free(d->d);
    memset(d, 0, sizeof(*d));
}

const char *vms_reg_change_name(enum vms_reg_change c)
{
    switch (c) {
    case VMS_REG_DIFFERS: return "differs";
    case VMS_REG_EXTRA: return "extra";
    case VMS_REG_MISSING: return "missing";
    case VMS_REG_VCPU_EXTRA: return "vcpu-extra";
    case VMS_REG_VCPU_MISSING: return "vcpu-missing";
    }
    return "?";
}
