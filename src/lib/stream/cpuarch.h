/*
 * cpuarch.h - which architecture a "cpu" section belongs to.
 *
 * Owns: the decision, from the stream alone, whether a section named
 * "cpu" is an Arm vCPU (the only kind the arm/ wing decodes), an x86 vCPU
 * or another architecture's: the vmdesc fields that walked it, the builtin
 * layout that fitted it, its section version, the machine type of the
 * configuration section and the other devices in the stream.  A name is
 * never enough: every architecture calls its vCPU section "cpu".
 * Does not own: decoding any vCPU (arm/armcpu.h).
 */
#ifndef VMS_CPUARCH_H
#define VMS_CPUARCH_H

#include "stream.h"

enum vms_cpu_arch {
    VMS_CPU_NONE = 0,      /* not a vCPU section (or no bytes) */
    VMS_CPU_ARM,           /* QEMU's vmstate_arm_cpu (v22 / v23 layout) */
    VMS_CPU_X86,           /* vmstate_x86_cpu */
    VMS_CPU_OTHER,         /* a vCPU, but not one vmstream can name */
};

struct vms_cpu_kind {
    enum vms_cpu_arch arch;
    const char *name;      /* "aarch64/arm", "x86_64", "i386", "x86",
                              "unknown" */
    const char *why;       /* what told it, for people */
};

/* What the section is; s must belong to st. */
struct vms_cpu_kind vms_section_cpu_kind(const struct vms_stream *st,
                                         const struct vms_section *s);
/* A "cpu" section with bytes that the Arm decoder should read. */
int vms_section_is_arm_cpu(const struct vms_stream *st,
                           const struct vms_section *s);
/* A "cpu" section with bytes that is not Arm's. */
int vms_section_is_other_cpu(const struct vms_stream *st,
                             const struct vms_section *s);
/* Element index of top-level field name of a section with a layout, as
 * a big-endian integer of at most 8 bytes (x86's "env.eip").  -1 if the
 * section has no layout or no such field. */
int vms_section_field_u64(const struct vms_section *s, const char *name,
                          uint32_t index, uint64_t *v);
/* Every integer field of a non-Arm vCPU section walked with its vmdesc,
 * one call per element: group "core" (x86: RAX.., EIP, EFLAGS as env.*),
 * "ctrl" (env.cr), "seg" (segments, descriptor tables), "field", "sub"
 * (in a subsection); name with struct elements and subsections prefixed
 * ("env.segs[1].base", "cpu/msr_pat.env.pat").  Fails (latched) without a
 * vmdesc description.  fn returns -1 to stop. */
typedef int (*vms_cpu_field_fn)(void *opaque, const char *group,
                                const char *name, unsigned size, uint64_t v);
int vms_cpu_fields(const struct vms_stream *st, const struct vms_section *s,
                   vms_cpu_field_fn fn, void *opaque, struct vms_error *err);
/* Version ids QEMU's Arm cpu section has (22 stock, 23 value-indexed). */
int vms_cpu_version_is_arm(uint32_t version);

#endif
