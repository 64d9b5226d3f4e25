/*
 * check_impl.h - what the check files share (check.c: the stream's own
 * rules and the verdict; check_merge.c: what a destination's
 * cpu_post_load does with the register list; check_finding.c: recording
 * findings, which both use).
 */
#ifndef VMS_CHECK_IMPL_H
#define VMS_CHECK_IMPL_H

#include "check.h"

struct check_ctx {
    struct vms_check_result *r;
    int64_t vcpu;
    enum vms_cpreg_ctx names;
};

/* Record a finding and fold it into the verdict; NULL when it could not be
 * stored (the result is then incomplete and the verdict FAILS).  A fatal
 * finding's effect is "fails". */
struct vms_finding *check_add(struct check_ctx *x, enum vms_severity sev,
                              int has_reg, uint64_t id, uint64_t off,
                              const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Set a finding's effect (f may be NULL). */
void check_effect(struct vms_finding *f, enum vms_effect e);
void check_changed_to(struct vms_finding *f, int known, uint64_t after);
void check_malformed(struct vms_finding *f);
/* Stream offset of register v's first value slot. */
uint64_t check_value_offset(const struct vms_armcpu *c, int32_t v);
/* QEMU's merge of c's list into p's and the write-back (check_merge.c);
 * values: judge the values too (not only the list). */
void check_merge(struct check_ctx *x, const struct vms_armcpu *c,
                 const struct vms_profile *p, int values);

#endif
