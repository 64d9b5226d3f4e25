/*
 * vcpus.h - the Arm vCPUs of a parsed stream, one after the other.
 *
 * Owns: walking the "cpu" sections held in a struct vms_stream (in stream
 * order, optionally only one instance), decoding each into a struct
 * vms_armcpu, and latching the first decode error while the walk goes on;
 * collecting every vCPU sorted by index.  Does not own: the codec
 * (armcpu.h), what a caller does with each vCPU.
 *
 *     struct vms_vcpus it;
 *     vms_vcpus_init(&it, st);
 *     while (vms_vcpus_next(&it)) {
 *         if (!it.ok) { ... it.err says why it.section did not decode ... }
 *         else        { ... it.cpu ... }
 *     }
 *     vms_vcpus_fini(&it);   (it.first holds the first error, if any)
 */
#ifndef VMS_VCPUS_H
#define VMS_VCPUS_H

#include <stddef.h>
#include <stdint.h>

#include "armcpu.h"
#include "error.h"
#include "stream.h"

struct vms_vcpus {
    const struct vms_stream *st;
    long only;                  /* -1: every vCPU, else this instance */
    size_t next;                /* index of the next section to look at */
    /* The current vCPU, after vms_vcpus_next() returned 1: */
    const struct vms_section *section;
    struct vms_armcpu cpu;      /* decoded when ok (its instance_id is
                                 * the section's in any case) */
    int ok;
    struct vms_error err;       /* why it did not decode (cleared per step) */
    /* Over the walk so far: */
    size_t count;               /* cpu sections visited */
    size_t failed;              /* of which did not decode */
    struct vms_error first;     /* the first decode error (first wins) */
};

void vms_vcpus_init(struct vms_vcpus *it, const struct vms_stream *st);
/* Only the vCPU whose instance id is `instance` (-1: all, the default). */
void vms_vcpus_only(struct vms_vcpus *it, long instance);
/* Advance to the next cpu section held in memory and decode it: 1 there
 * is one (see ok / err), 0 the walk is over.  Frees the previous vCPU
 * unless it was taken. */
int vms_vcpus_next(struct vms_vcpus *it);
/* Move the current decoded vCPU to *out (the caller finalises it). */
void vms_vcpus_take(struct vms_vcpus *it, struct vms_armcpu *out);
void vms_vcpus_fini(struct vms_vcpus *it);

/* Decode every vCPU (or only one, instance >= 0), sorted by index, into a
 * new array.  -1 on the first section that does not decode or out of
 * memory (err says which; *out is NULL). */
int vms_vcpus_collect(const struct vms_stream *st, long instance,
                      struct vms_armcpu **out, size_t *n,
                      struct vms_error *err);
void vms_vcpus_free(struct vms_armcpu *cpus, size_t n);

#endif
