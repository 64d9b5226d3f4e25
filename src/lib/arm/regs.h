/*
 * regs.h - the registers of an Arm vCPU as a flat list, and the difference
 * between the vCPUs of two streams (what `vmstream regs` and `regs --diff`
 * print, and what `vmstream diff` compares cpu sections by).
 *
 * Owns: the list of every register with its group (core, fp, sve, timer,
 * state, cpreg), architectural name, id (cpregs), size and value as hex
 * text (multi-slot values joined by ':'), a decoded note where there is
 * one (PSTATE/CPSR); matching registers between two lists (cpregs by id,
 * the others by group and name); the ordered list of differences.
 * Does not own: decoding (armcpu.h), names of ids (cpreg.h), printing.
 */
#ifndef VMS_REGS_H
#define VMS_REGS_H

#include <stddef.h>
#include <stdint.h>

#include "armcpu.h"
#include "cpreg.h"
#include "error.h"
#include "stream.h"

enum { VMS_REG_VALUE_MAX = 560 };

struct vms_reg {
    char group[16];             /* core, fp, sve, timer, state, cpreg */
    char name[VMS_CPREG_NAME_MAX];
    int has_id;
    uint64_t id;
    unsigned size;              /* bytes */
    char value[VMS_REG_VALUE_MAX];  /* hex; slots joined by ':' */
    char note[64];              /* decoded view, e.g. PSTATE flags */
};

struct vms_reglist {
    uint32_t instance;          /* the vCPU */
    struct vms_reg *r;
    size_t n, cap;
    int nomem;                  /* internal: an allocation failed */
    struct vms_reg spare;       /* internal */
};

/* Fill l (overwritten) with every register of c.  -1 out of memory (err
 * set, l empty). */
int vms_regs_list(const struct vms_armcpu *c, struct vms_reglist *l,
                  struct vms_error *err);
void vms_reglist_fini(struct vms_reglist *l);
/* A vCPU of another architecture (x86): every integer field its vmdesc
 * names (cpuarch.h's vms_cpu_fields), in the same list form. */
int vms_regs_list_fields(const struct vms_stream *st,
                         const struct vms_section *s, struct vms_reglist *l,
                         struct vms_error *err);
/* The register of l that r is (same id; or same group and name). */
const struct vms_reg *vms_reglist_find(const struct vms_reglist *l,
                                      const struct vms_reg *r);

enum vms_reg_change {
    VMS_REG_DIFFERS,            /* in both, other value */
    VMS_REG_EXTRA,              /* in STREAM only */
    VMS_REG_MISSING,            /* in OTHER only */
    VMS_REG_VCPU_EXTRA,         /* the whole vCPU is in STREAM only */
    VMS_REG_VCPU_MISSING,       /* the whole vCPU is in OTHER only */
};

struct vms_reg_delta {
    uint32_t vcpu;
    enum vms_reg_change change;
    int has_reg;                /* not for the VCPU_* changes */
    struct vms_reg reg;         /* STREAM's (MISSING: OTHER's) */
    int has_other;              /* DIFFERS */
    char other_value[VMS_REG_VALUE_MAX];
};

struct vms_regdiff {
    struct vms_reg_delta *d;
    size_t n, cap;
};

/* Compare the vCPUs b (STREAM) with a (OTHER), vCPU by vCPU (matched by
 * index): for each vCPU of b in order, its registers that differ or are
 * extra, then those it is missing; then the vCPUs of a that b lacks.
 * n == 0: the same registers and values.  -1 out of memory (err set). */
int vms_regs_diff(const struct vms_armcpu *a, size_t na,
                  const struct vms_armcpu *b, size_t nb,
                  struct vms_regdiff *d, struct vms_error *err);
void vms_regdiff_fini(struct vms_regdiff *d);
const char *vms_reg_change_name(enum vms_reg_change c);

#endif
