/*
 * convert_cpu.c - one vCPU from one layout to the other, and which
 * registers --drop names (the per-vCPU half of convert.h; convert.c is the
 * stream filter around it).
 */
#include "config.h"
#include "convert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpreg.h"
#include "wire.h"

static int eq_ci(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'a' && *a <= 'z' ? (char)(*a - 32) : *a;
        char y = *b >= 'a' && *b <= 'z' ? (char)(*b - 32) : *b;

        if (x != y) {
            return 0;
        }
    }
    return *a == *b;
}

int vms_drop_matches(const char *name, uint64_t id, enum vms_cpreg_ctx ctx)
{
    char shown[VMS_CPREG_NAME_MAX];
    uint64_t want;

    vms_cpreg_name(id, ctx, shown, sizeof(shown));
    if (eq_ci(shown, name)) {
        return 1;
    }
    return vms_cpreg_lookup(name, ctx, &want) == 0 && want == id;
}

static int is_dropped(const struct vms_drop *d, uint64_t id,
                      enum vms_cpreg_ctx ctx)
{
    size_t k;
    int hit = 0;

    for (k = 0; d && k < d->n; k++) {
        if (vms_drop_matches(d->names[k], id, ctx)) {
            if (d->hits) {
                d->hits[k]++;
            }
            hit = 1;
        }
    }
    return hit;
}

/* Remove the dropped registers (and their value slots) from c. */
static size_t apply_drop(struct vms_armcpu *c, const struct vms_drop *d)
{
    enum vms_cpreg_ctx ctx = vms_cpreg_guess_ctx(c->ids, (size_t)c->n);
    int32_t i, w = 0;
    uint32_t slot = 0;
    size_t removed = 0;
    uint64_t *vals = c->values;

    if (!d || d->n == 0) {
        return 0;
    }
    for (i = 0; i < c->n; i++) {
        int64_t slots = vms_armcpu_slots(c, i);
        uint32_t first = c->layout == 23 ? c->value_idx[i] : (uint32_t)i;

        if (is_dropped(d, c->ids[i], ctx)) {
            removed++;
            continue;
        }
        c->ids[w] = c->ids[i];
        if (c->layout == 23) {
            memmove(vals + slot, vals + first, (size_t)slots * 8);
            c->value_idx[w] = slot;
            slot += (uint32_t)slots;
        } else {
            vals[w] = vals[i];
        }
        w++;
    }
    c->n = w;
    c->m = c->layout == 23 ? (int32_t)slot : w;
    return removed;
}

/* The input must be a cpu some QEMU build could have written and would
 * load: the stream's own rules (check without a destination). */
static int validate_input(const struct vms_armcpu *c, struct vms_error *err)
{
    struct vms_check_result r = { 0 };
    size_t k;
    int rc = 0;

    vms_check_cpus(c, 1, NULL, &r);
    if (r.nomem) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        rc = -1;
    }
    for (k = 0; k < r.n && rc == 0; k++) {
        const struct vms_finding *f = &r.findings[k];

        if (f->severity == VMS_SEV_FATAL || f->malformed) {
            vms_error_set(err, VMS_E_FORMAT, f->offset,
                          "vCPU %u%s%s: %s; no QEMU build loads this cpu "
                          "section as it is, so it is not converted "
                          "(details: vmstream check)", c->instance_id,
                          f->has_reg ? " " : "", f->has_reg ? f->reg : "",
                          f->message);
            rc = -1;
        }
    }
    vms_check_result_fini(&r);
    return rc;
}

int vms_convert_cpu(struct vms_armcpu *c, int to_layout,
                    const struct vms_drop *drop, size_t *dropped,
                    struct vms_error *err)
{
    int32_t i;
    char names[400] = "";
    size_t used = 0, bad = 0;

    /* Also makes the v23 slot map sane before anything is moved. */
    if (validate_input(c, err) < 0) {
        return -1;
    }
    *dropped += apply_drop(c, drop);
    if (to_layout == 22 && c->layout == 23) {
        for (i = 0; i < c->n; i++) {
            unsigned code = (unsigned)((c->ids[i] >> 52) & 0xf);

            /* v22 carries 32- and 64-bit registers, one slot each. */
            if (vms_armcpu_slots(c, i) != 1 || (code != 2 && code != 3)) {
                char name[96];

                bad++;
                vms_cpreg_name(c->ids[i], vms_cpreg_guess_ctx(c->ids, c->n),
                               name, sizeof(name));
                if (used < sizeof(names) - 120) {
                    used += (size_t)snprintf(names + used,
                                             sizeof(names) - used,
                                             "%s%s (0x%016llx, %lld slots)",
                                             bad > 1 ? ", " : "", name,
                                             (unsigned long long)c->ids[i],
                                             (long long)vms_armcpu_slots(c,
                                                                         i));
                }
            }
        }
        if (bad) {
            vms_error_set(err, VMS_E_CONVERT, c->vidx_offset,
                          "vCPU %u: v22 carries one 32- or 64-bit value "
                          "per register; %zu register(s) do not fit: %s. "
                          "Use --drop to leave them out (see 'vmstream "
                          "check' for what the destination then holds in "
                          "them)", c->instance_id, bad, names);
            return -1;
        }
        for (i = 0; i < c->n; i++) {
            c->values[i] = c->values[c->value_idx[i]];
        }
        free(c->value_idx);
        c->value_idx = NULL;
        c->m = c->n;
        c->layout = 22;
    } else if (to_layout == 23 && c->layout == 22) {
        c->value_idx = malloc(((size_t)c->n + 1) * sizeof(*c->value_idx));
        if (!c->value_idx) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            return -1;
        }
        for (i = 0; i < c->n; i++) {
            c->value_idx[i] = (uint32_t)i;
        }
        c->m = c->n;
        c->layout = 23;
    }
    return 0;
}
