/*
 * repair.h - rewriting Arm cpu sections so that a destination of another
 * QEMU release accepts them (convert --repair), and the report of every
 * change.
 *
 * Owns: per vCPU, against a destination profile: leave out registers the
 * destination lacks; set registers whose value the destination fixes to
 * its value; add registers it has and the stream lacks with the
 * destination's own value; leave out a cpu subsection it does not know
 * only when its content is provably the default (an unarmed
 * cpu/wfxt-timer), else refuse; the machine-type refusal; the report
 * (old value, new value, guest-observable, why).
 * Does not own: the stream pipeline (drivers/convert.c calls the hook),
 * the release facts (release.h).
 */
#ifndef VMS_REPAIR_H
#define VMS_REPAIR_H

#include <stddef.h>
#include <stdint.h>

#include "armcpu.h"
#include "cpreg.h"
#include "error.h"
#include "profile.h"
#include "release.h"
#include "stream.h"

enum vms_repair_action {
    VMS_REPAIR_ADD = 0,     /* register added with the destination's value */
    VMS_REPAIR_DROP,        /* register left out */
    VMS_REPAIR_SET,         /* value replaced by the destination's */
    VMS_REPAIR_DROP_SUB,    /* subsection left out (default content) */
};

struct vms_repair_change {
    uint32_t vcpu;
    enum vms_repair_action action;
    int has_reg;
    uint64_t id;
    char name[VMS_CPREG_NAME_MAX];   /* register or subsection name */
    int has_old, has_new;
    uint64_t old_value, new_value;
    int observable;         /* the guest can tell the difference */
    char why[200];
};

struct vms_repair {
    const struct vms_profile *dest;   /* register rules (required) */
    const struct vms_dest_env *env;   /* machine, subsections (optional) */
    int machine_checked;
    struct vms_repair_change *changes;
    size_t n, cap;
    size_t vcpus;
};

void vms_repair_init(struct vms_repair *rp, const struct vms_profile *dest,
                     const struct vms_dest_env *env);
void vms_repair_fini(struct vms_repair *rp);
/* convert's repair hook (vms_convert_opts.repair): the stream-level rules
 * on the first call (machine type), then rewrites cpu c in place. */
int vms_repair_hook(void *opaque, const struct vms_stream *st,
                    struct vms_armcpu *c, struct vms_error *err);
/* Rewrite one decoded vCPU (v22 or v23; the result is v22). */
int vms_repair_cpu(struct vms_repair *rp, struct vms_armcpu *c,
                   struct vms_error *err);
/* In a vmdesc tree: keep only the listed subsections of cpu#instance
 * (those a repair left in the section).  0, or -1 (error latched). */
struct json_object;
int vms_vmdesc_cpu_keep_subs(struct json_object *root, uint32_t instance,
                             const char *const *names, size_t n,
                             struct vms_error *err);
/* "add", "drop", "set", "drop-subsection". */
const char *vms_repair_action_name(enum vms_repair_action a);

#endif
