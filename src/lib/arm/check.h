/*
 * check.h - predicting what a destination's cpu_post_load will do.
 *
 * Owns: the structural rules for cpu sections in both layouts (including
 * every path the v23 seed loader leaves unchecked), the destination rules
 * against a profile (layout, POSITIVE_LE counts, QEMU's sorted merge of
 * the register lists, values a destination refuses), and the verdict.
 * Findings are not errors: a readable stream yields findings.
 */
#ifndef VMS_CHECK_H
#define VMS_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "armcpu.h"
#include "error.h"
#include "profile.h"
#include "stream.h"

enum vms_severity {
    VMS_SEV_INFO = 0,
    VMS_SEV_WARNING,        /* loads, but state is lost */
    VMS_SEV_FATAL,          /* the destination fails (or is corrupted) */
};

enum vms_verdict {
    VMS_VERDICT_LOADS = 0,
    VMS_VERDICT_LOSSY,
    VMS_VERDICT_FAILS,
};

/* What a finding does to the destination's state. */
enum vms_effect {
    VMS_EFFECT_NONE = 0,    /* a note about the stream */
    VMS_EFFECT_FAILS,       /* the destination refuses the stream */
    VMS_EFFECT_CHANGED,     /* a destination register ends with another
                               value than the stream carries for it (or
                               the stream does not carry it) */
    VMS_EFFECT_LOST,        /* a value the stream carries is not taken */
};

struct vms_finding {
    enum vms_severity severity;
    enum vms_effect effect;
    int malformed;          /* no QEMU writes this: convert refuses it */
    int64_t vcpu;           /* instance id, -1 if none */
    int has_reg;
    uint64_t id;
    char reg[VMS_CPREG_NAME_MAX];
    uint64_t offset;
    int has_after;          /* CHANGED: the value after loading is known */
    uint64_t after;
    char message[512];
};

struct vms_check_result {
    struct vms_finding *findings;
    size_t n, cap;
    enum vms_verdict verdict;
    size_t vcpus;
    int nomem;              /* a finding could not be stored: the result
                               is incomplete and the verdict is FAILS */
};

void vms_check_result_fini(struct vms_check_result *r);
/* Check every cpu section of a parsed stream; dest may be NULL (then only
 * the stream's own consistency is checked). */
int vms_check_stream(const struct vms_stream *st,
                     const struct vms_profile *dest,
                     struct vms_check_result *r, struct vms_error *err);
/* Destination rules for already-decoded vCPUs (used by convert). */
int vms_check_cpus(const struct vms_armcpu *cpus, size_t n,
                   const struct vms_profile *dest,
                   struct vms_check_result *r);
const char *vms_severity_name(enum vms_severity s);
/* "fails", "changed", "lost", or NULL for VMS_EFFECT_NONE. */
const char *vms_effect_name(enum vms_effect e);
const char *vms_verdict_name(enum vms_verdict v);

/* convert's verify hook: refuse output that would fail at dest. */
struct check_verify {
    const struct vms_profile *dest;
    struct vms_check_result result;   /* all findings, for the caller */
};
int check_verify_cpus(void *opaque, const struct vms_armcpu *cpus, size_t n,
                      struct vms_error *err);

#endif
