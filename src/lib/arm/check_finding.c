#include "config.h"
#include "check_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpreg.h"

/* Findings: recording them (check_add folds each into the verdict), their
 * names, and the result's lifetime. */

const char *vms_severity_name(enum vms_severity s)
{
    switch (s) {
    case VMS_SEV_INFO: return "info";
    case VMS_SEV_WARNING: return "warning";
    case VMS_SEV_FATAL: return "fatal";
    }
    return "?";
}

const char *vms_effect_name(enum vms_effect e)
{
    switch (e) {
    case VMS_EFFECT_NONE: return NULL;
    case VMS_EFFECT_FAILS: return "fails";
    case VMS_EFFECT_CHANGED: return "changed";
    case VMS_EFFECT_LOST: return "lost";
    }
    return NULL;
}

const char *vms_verdict_name(enum vms_verdict v)
{
    switch (v) {
    case VMS_VERDICT_LOADS: return "loads";
    case VMS_VERDICT_LOSSY: return "loads-with-loss";
    case VMS_VERDICT_FAILS: return "fails";
    }
    return "?";
}

void vms_check_result_fini(struct vms_check_result *r)
{
    free(r->findings);
    memset(r, 0, sizeof(*r));
}



/* Record a finding and fold it into the verdict.  A finding that cannot
 * be stored (out of memory) must not vanish from the verdict: the result
 * is marked incomplete and the verdict becomes FAILS. */
struct vms_finding *check_add(struct check_ctx *x, enum vms_severity sev,
                               int has_reg, uint64_t id, uint64_t off,
                               const char *fmt, ...)
{
    struct vms_check_result *r = x->r;
    struct vms_finding *f;
    va_list ap;

    if (sev == VMS_SEV_FATAL) {
        r->verdict = VMS_VERDICT_FAILS;
    } else if (sev == VMS_SEV_WARNING && r->verdict == VMS_VERDICT_LOADS) {
        r->verdict = VMS_VERDICT_LOSSY;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        struct vms_finding *n = realloc(r->findings, cap * sizeof(*n));

        if (!n) {
            r->nomem = 1;
            r->verdict = VMS_VERDICT_FAILS;
            return NULL;
        }
        r->findings = n;
        r->cap = cap;
    }
    f = &r->findings[r->n++];
    memset(f, 0, sizeof(*f));
    f->severity = sev;
    f->effect = sev == VMS_SEV_FATAL ? VMS_EFFECT_FAILS : VMS_EFFECT_NONE;
    f->vcpu = x->vcpu;
    f->has_reg = has_reg;
    f->id = id;
    f->offset = off;
    if (has_reg) {
        vms_cpreg_name(id, x->names, f->reg, sizeof(f->reg));
    }
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof(f->message), fmt, ap);
    va_end(ap);
    return f;
}

void check_effect(struct vms_finding *f, enum vms_effect e)
{
    if (f) {
        f->effect = e;
    }
}

void check_changed_to(struct vms_finding *f, int known, uint64_t after)
{
    if (f) {
        f->effect = VMS_EFFECT_CHANGED;
        f->has_after = known;
        f->after = after;
    }
}

void check_malformed(struct vms_finding *f)
{
    if (f) {
        f->malformed = 1;
    }
}

uint64_t check_value_offset(const struct vms_armcpu *c, int32_t v)
{
    return c->values_offset + 8ull * vms_armcpu_slot(c, v);
}
