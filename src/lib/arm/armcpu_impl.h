/*
 * armcpu_impl.h - the fixed fields of the cpu body around the cpreg list
 * (armcpu_layout.c), for the codec (armcpu.c) only.  Their order, sizes
 * and counts come from formats/cpu-layouts.tsv; armcpu_layout.c says where
 * the model keeps each of them.
 */
#ifndef VMS_ARMCPU_IMPL_H
#define VMS_ARMCPU_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "armcpu.h"

#define VMS_ARMCPU_MAX_FIXED 32

struct vms_armcpu_binding;

/* One fixed field of a layout: where it goes and how many elements. */
struct vms_armcpu_field {
    const struct vms_armcpu_binding *b;
    uint32_t count;
};

/* The fixed fields before (head) and after (tail) the cpreg list. */
struct vms_armcpu_fixed {
    int ready;              /* 1 built, -1 the table does not fit */
    struct vms_armcpu_field head[VMS_ARMCPU_MAX_FIXED];
    struct vms_armcpu_field tail[VMS_ARMCPU_MAX_FIXED];
    size_t n_head, n_tail;
    size_t head_len, tail_len;
};

/* Layout 22 or 23; NULL if the table does not fit the model. */
const struct vms_armcpu_fixed *vms_armcpu_fixed(int layout);
/* The head (tail = 0) or tail fields from/to the wire bytes at src/p
 * (head_len / tail_len of them; the caller checked they are there). */
void vms_armcpu_fixed_decode(const struct vms_armcpu_fixed *k, int tail,
                             const uint8_t *src, struct vms_armcpu *c);
uint8_t *vms_armcpu_fixed_encode(const struct vms_armcpu_fixed *k, int tail,
                                 uint8_t *p, const struct vms_armcpu *c);

#endif
