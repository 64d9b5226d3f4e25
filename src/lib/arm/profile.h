/*
 * profile.h - destination profiles: what a destination QEMU expects of the
 * Arm cpu section.
 *
 * Owns: struct vms_profile (layout v22/v23, accelerator, the destination's
 * own cpreg list with sizes and the values fixed by the CPU model), its
 * small text format (doc/profile.md), the profiles built in from
 * formats/profiles, and deriving a profile from a stream the destination
 * saved.
 */
#ifndef VMS_PROFILE_H
#define VMS_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "cpreg.h"
#include "error.h"

struct vms_armcpu;

struct vms_profile_reg {
    uint64_t id;
    uint32_t size;          /* bytes, from the id */
    int fixed;              /* value is fixed for the CPU model */
    uint64_t value;         /* the fixed value */
    int has_own;            /* own: the value the destination itself held */
    uint64_t own;           /* when its profile stream was saved */
};

/*
 * What a destination register that the stream does not carry holds after
 * cpu_post_load (the merge leaves its slot in cpreg_values untouched):
 * ZERO: QEMU 7.2 TCG: the slot was never written on a fresh -incoming
 *   destination (g_new'd; observed 0, tests/integration/check-missing.sh);
 *   the TCG write-back then writes 0 and reads it back.
 * RESET: KVM: kvm_arm_reset_vcpu() filled the slots from the kernel at vCPU
 *   reset, so the register keeps the destination's reset value (own).
 * UNDEFINED: whatever the uninitialised array held (QEMU 10.0 TCG).
 */
enum vms_absent {
    VMS_ABSENT_ZERO = 0,
    VMS_ABSENT_RESET,
    VMS_ABSENT_UNDEFINED,
};

struct vms_profile {
    char name[128];
    char release[32];       /* "7.2", "10.0", or "" if unknown */
    int layout;             /* 22 or 23 */
    enum vms_cpreg_ctx accel;
    enum vms_absent absent;
    int32_t count;          /* cpreg list length L */
    int32_t slots;          /* v23: value slots M (= L under TCG) */
    struct vms_profile_reg *regs;
    size_t n_regs;
};

/* A builtin name ("qemu-7.2-tcg:cortex-a57") or a profile file path. */
struct vms_profile *vms_profile_load(const char *name, struct vms_error *err);
/* From a stream the destination build saved (its first vCPU). */
struct vms_twin;
/* twin: the description for a stream without vmdesc (twin.h), or NULL */
struct vms_profile *vms_profile_from_stream(const char *path,
                                            const struct vms_twin *twin,
                                            struct vms_error *err);
struct vms_profile *vms_profile_from_cpu(const struct vms_armcpu *c,
                                         const char *name,
                                         struct vms_error *err);
struct vms_profile *vms_profile_parse(const char *text, size_t len,
                                      const char *origin,
                                      struct vms_error *err);
int vms_profile_write(const struct vms_profile *p, FILE *f);
void vms_profile_free(struct vms_profile *p);
/* Names of the builtin profiles, NULL-terminated. */
const char *const *vms_profile_builtin_names(void);
/* "zero", "reset", "undefined". */
const char *vms_absent_name(enum vms_absent a);
/* The default for an accelerator when a profile does not say. */
enum vms_absent vms_absent_default(enum vms_cpreg_ctx accel);
/* 1 if id is in p's list; *reg (optional) points at its entry. */
int vms_profile_find(const struct vms_profile *p, uint64_t id,
                     const struct vms_profile_reg **reg);
/* 1 if a TCG destination refuses a different raw value for id. */
int vms_profile_tcg_fixed(uint64_t id);
/* Bits of id that QEMU 7.2 TCG's write of the register drops (formats/
 * tcg-write-masks.tsv): a value with any of them set does not read back,
 * so cpu_post_load fails.  0 for most registers. */
uint64_t vms_profile_tcg_dropped_bits(uint64_t id);

/* Where QEMU 7.2 TCG keeps register id: the list entry whose storage it
 * shares (formats/tcg-aliases.tsv; Secure AArch32 entries go through their
 * Non-secure register) and the bit it starts at there; id itself when it
 * shares nothing.  Its width is its own size. */
uint64_t vms_profile_tcg_storage(uint64_t id, unsigned *shift);

#endif
