/*
 * cpuarch.c - the architecture of a "cpu" section, from the stream.
 *
 * In order of trust:
 *  1. the vmdesc that walked the section: Arm's vmstate_arm_cpu has the
 *     cpreg_vmstate_* fields (v22) or the value-indexed cpreg fields (v23)
 *     and "env.xregs"/"regs"; x86's vmstate_x86_cpu has "env.regs",
 *     "env.eip" and "env.eflags" (env.regs has 16 elements on x86_64, 8 on
 *     i386);
 *  2. a builtin Arm layout (cpu@v22 / cpu@v23) that fitted the body up to
 *     its footer;
 *  3. without either (delimited by its footer): the section version (Arm
 *     writes 22, vmstream's v23 layout 23; x86 writes 12 since QEMU 2.x),
 *     the machine type of the configuration section and the devices next
 *     to it (apic, i8259, ioapic ... are x86's; arm_gic, pl011 Arm's).
 */
#include "config.h"
#include "cpuarch.h"

#include <string.h>

int vms_cpu_version_is_arm(uint32_t version)
{
    return version == 22 || version == 23;
}

static const struct vms_field *field_named(const struct vms_vmsd *v,
                                           const char *name)
{
    size_t i;

    for (i = 0; v && i < v->n_fields; i++) {
        if (strcmp(v->fields[i].name, name) == 0) {
            return &v->fields[i];
        }
    }
    return NULL;
}

static int has_field_prefix(const struct vms_vmsd *v, const char *prefix)
{
    size_t i, n = strlen(prefix);

    for (i = 0; v && i < v->n_fields; i++) {
        if (strncmp(v->fields[i].name, prefix, n) == 0) {
            return 1;
        }
    }
    return 0;
}

static int starts(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* Machine types of qemu-system-x86_64/i386 and -arm/-aarch64. */
static enum vms_cpu_arch arch_of_machine(const char *m)
{
    static const char *const x86[] = { "pc-i440fx-", "pc-q35-", "pc-",
                                       "microvm", "isapc", "xenfv", "xenpv",
                                       "x-remote", NULL };
    static const char *const arm[] = { "virt", "sbsa-ref", "raspi",
                                       "xlnx-", "vexpress-", "realview-",
                                       "versatile", "musca-", "mps2", "mps3",
                                       "imx25-", "sabrelite", "mcimx",
                                       "npcm", "ast", "orangepi", NULL };
    int i;

    if (!m || !*m) {
        return VMS_CPU_NONE;
    }
    if (strcmp(m, "pc") == 0 || strcmp(m, "q35") == 0) {
        return VMS_CPU_X86;
    }
    for (i = 0; x86[i]; i++) {
        if (starts(m, x86[i])) {
            return VMS_CPU_X86;
        }
    }
    for (i = 0; arm[i]; i++) {
        if (starts(m, arm[i])) {
            return VMS_CPU_ARM;
        }
    }
    return VMS_CPU_NONE;
}

/* Devices only one architecture's machines have. */
static enum vms_cpu_arch arch_of_devices(const struct vms_stream *st)
{
    static const char *const x86[] = { "apic", "kvm-tpr-opt", "i8259",
                                       "ioapic", "kvmclock", "i8254",
                                       "mc146818rtc", NULL };
    static const char *const arm[] = { "arm_gic", "arm_gicv3",
                                       "arm_gicv3_its", "pl011", "pl031",
                                       "pl061", "arm-smmuv3", NULL };
    size_t i;
    int k, x = 0, a = 0;

    for (i = 0; i < st->n_sections; i++) {
        for (k = 0; x86[k]; k++) {
            x += strcmp(st->sections[i].idstr, x86[k]) == 0;
        }
        for (k = 0; arm[k]; k++) {
            a += strcmp(st->sections[i].idstr, arm[k]) == 0;
        }
    }
    if (x && !a) {
        return VMS_CPU_X86;
    }
    if (a && !x) {
        return VMS_CPU_ARM;
    }
    return VMS_CPU_NONE;
}

struct vms_cpu_kind vms_section_cpu_kind(const struct vms_stream *st,
                                         const struct vms_section *s)
{
    struct vms_cpu_kind k = { VMS_CPU_NONE, "", "" };
    const struct vms_vmsd *v = s->layout;
    enum vms_cpu_arch m;

    if (strcmp(s->idstr, "cpu") != 0 || !s->bytes) {
        return k;
    }
    if (v && s->delim == VMS_DELIM_VMDESC) {
        const struct vms_field *regs = field_named(v, "env.regs");

        if (has_field_prefix(v, "cpreg_") || field_named(v, "env.xregs")) {
            k.arch = VMS_CPU_ARM;
            k.name = "arm";
            k.why = "vmdesc: cpreg fields";
        } else if (regs && field_named(v, "env.eip") &&
                   field_named(v, "env.eflags")) {
            k.arch = VMS_CPU_X86;
            k.name = regs->count == 16 ? "x86_64"
                     : regs->count == 8 ? "i386" : "x86";
            k.why = "vmdesc: env.regs, env.eip, env.eflags";
        } else {
            k.arch = VMS_CPU_OTHER;
            k.name = "unknown";
            k.why = "vmdesc: neither Arm's nor x86's cpu fields";
        }
        return k;
    }
    if (v && s->delim == VMS_DELIM_BUILTIN) {
        k.arch = VMS_CPU_ARM;
        k.name = "arm";
        k.why = "builtin Arm layout fits the body";
        return k;
    }
    m = arch_of_machine(st->machine);
    if (m == VMS_CPU_NONE) {
        m = arch_of_devices(st);
    }
    if (vms_cpu_version_is_arm(s->version_id) && m != VMS_CPU_X86) {
        /* an Arm body the builtin layouts did not fit: the Arm decoder
         * says why */
        k.arch = VMS_CPU_ARM;
        k.name = "arm";
        k.why = "section version";
    } else if (m == VMS_CPU_X86) {
        k.arch = VMS_CPU_X86;
        k.name = "x86";
        k.why = st->machine[0] ? "machine type" : "x86 devices in the stream";
    } else {
        k.arch = VMS_CPU_OTHER;
        k.name = "unknown";
        k.why = m == VMS_CPU_ARM ? "section version is not Arm's (22/23)"
                                 : "no vmdesc, no Arm layout fits";
    }
    return k;
}

int vms_section_is_arm_cpu(const struct vms_stream *st,
                           const struct vms_section *s)
{
    return vms_section_cpu_kind(st, s).arch == VMS_CPU_ARM;
}

int vms_section_is_other_cpu(const struct vms_stream *st,
                             const struct vms_section *s)
{
    enum vms_cpu_arch a = vms_section_cpu_kind(st, s).arch;

    return a == VMS_CPU_X86 || a == VMS_CPU_OTHER;
}

struct find_ctx {
    const char *name;
    uint32_t index;
    int found;
    uint64_t v;
};

static int find_field(void *opaque, const struct vms_walk_field *f)
{
    struct find_ctx *c = opaque;
    uint32_t i;
    uint64_t v = 0;

    if (c->found || f->depth != 0 || f->field->sub ||
        strcmp(f->field->name, c->name) != 0 || c->index >= f->count ||
        f->elem_size == 0 || f->elem_size > 8) {
        return 0;
    }
    for (i = 0; i < f->elem_size; i++) {
        v = (v << 8) | f->data[(size_t)c->index * f->elem_size + i];
    }
    c->v = v;
    c->found = 1;
    return 0;
}

int vms_section_field_u64(const struct vms_section *s, const char *name,
                          uint32_t index, uint64_t *v)
{
    static const struct vms_walk_ops ops = { .field = find_field };
    struct find_ctx c = { name, index, 0, 0 };
    struct vms_error e;
    size_t used;

    vms_error_clear(&e);
    if (!s->layout || !s->bytes ||
        vms_walk(s->layout, vms_section_body(s), (size_t)s->body_len,
                 s->body_offset, s->delim == VMS_DELIM_BUILTIN, &ops, &c,
                 &used, &e) < 0 || !c.found) {
        return -1;
    }
    *v = c.v;
    return 0;
}
