/*
 * cpu_vmdesc_impl.h - the field table the cpu_vmdesc files share: the
 * cpreg fields of a "cpu" entry in QEMU's order, which both the tree
 * rewrite (cpu_vmdesc.c) and the text splice (cpu_vmdesc_text.c) write.
 */
#ifndef VMS_CPU_VMDESC_IMPL_H
#define VMS_CPU_VMDESC_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "cpu_vmdesc.h"

enum cpreg_count { ONE, REGS, SLOTS };

struct cpreg_field {
    const char *name;
    const char *type;
    int size;
    enum cpreg_count count;     /* 1, N, or M (v23) / N (v22) */
    int v23_only;
};

extern const struct cpreg_field cpreg_fields[];
extern const size_t n_cpreg_fields;

/* How many elements field f has in shape s; 0 if s has no such field. */
uint32_t cpreg_field_count(const struct cpreg_field *f,
                           const struct vms_cpu_shape *s);

#endif
