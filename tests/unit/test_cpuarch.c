/*
 * test_cpuarch.c - which architecture a "cpu" section is: from the vmdesc
 * fields, a builtin fit, the version, the machine type and the devices,
 * never from the name alone (stream/cpuarch.c, issue #12).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpuarch.h"
#include "stream.h"

static const uint8_t body[16];

static struct vms_field x86_fields[] = {
    { "env.regs", "uint64", 8, 16, 0, 0, -1, NULL },
    { "env.eip", "uint64", 8, 1, 0, 0, -1, NULL },
    { "env.eflags", "uint64", 8, 1, 0, 0, -1, NULL },
};
static struct vms_field i386_fields[] = {
    { "env.regs", "uint32", 4, 8, 0, 0, -1, NULL },
    { "env.eip", "uint32", 4, 1, 0, 0, -1, NULL },
    { "env.eflags", "uint32", 4, 1, 0, 0, -1, NULL },
};
static struct vms_field arm_fields[] = {
    { "regs", "uint32", 4, 16, 0, 0, -1, NULL },
    { "env.xregs", "uint64", 8, 32, 0, 0, -1, NULL },
    { "cpreg_vmstate_array_len", "int32 le", 4, 1, 0, 0, -1, NULL },
};
static struct vms_field other_fields[] = {
    { "env.gpr", "uint64", 8, 32, 0, 0, -1, NULL },
};

static struct vms_vmsd x86 = { "cpu", 12, x86_fields, 3, NULL, 0, 0 };
static struct vms_vmsd i386v = { "cpu", 12, i386_fields, 3, NULL, 0, 0 };
static struct vms_vmsd arm = { "cpu", 22, arm_fields, 3, NULL, 0, 0 };
static struct vms_vmsd other = { "cpu", 5, other_fields, 1, NULL, 0, 0 };

/* A stream of sections named names[], the cpu one (index cpu) with the
 * given layout, delimiter and version. */
static void make(struct vms_stream *st, struct vms_section *secs,
                 const char *const *names, size_t n, size_t cpu,
                 const char *machine, const struct vms_vmsd *layout,
                 enum vms_delim delim, uint32_t version)
{
    size_t i;

    vms_stream_init(st);
    memset(secs, 0, n * sizeof(*secs));
    for (i = 0; i < n; i++) {
        snprintf(secs[i].idstr, sizeof(secs[i].idstr), "%s", names[i]);
        secs[i].type = 4;   /* FULL */
        secs[i].bytes = body;
        secs[i].vmdesc_dev = -1;
        secs[i].delim = VMS_DELIM_FOOTER;
    }
    secs[cpu].layout = layout;
    secs[cpu].delim = delim;
    secs[cpu].version_id = version;
    snprintf(st->machine, sizeof(st->machine), "%s", machine);
    st->sections = secs;
    st->n_sections = n;
}

static void expect(const char *machine, const struct vms_vmsd *layout,
                   enum vms_delim delim, uint32_t version,
                   const char *const *names, size_t n,
                   enum vms_cpu_arch arch, const char *name)
{
    struct vms_stream st;
    struct vms_section secs[8];
    struct vms_cpu_kind k;

    make(&st, secs, names, n, 0, machine, layout, delim, version);
    k = vms_section_cpu_kind(&st, &secs[0]);
    if (k.arch != arch || strcmp(k.name, name) != 0) {
        fail_msg("machine '%s' version %u delim %d: got %d %s (%s), want "
                 "%d %s", machine, version, (int)delim, (int)k.arch,
                 k.name, k.why, (int)arch, name);
    }
    assert_int_equal(vms_section_is_arm_cpu(&st, &secs[0]),
                     arch == VMS_CPU_ARM);
    assert_int_equal(vms_section_is_other_cpu(&st, &secs[0]),
                     arch == VMS_CPU_X86 || arch == VMS_CPU_OTHER);
}

static const char *const cpu_only[] = { "cpu" };
static const char *const cpu_apic[] = { "cpu", "apic", "i8259" };
static const char *const cpu_gic[] = { "cpu", "arm_gic", "pl011" };

static void test_from_vmdesc(void **state)
{
    (void)state;
    /* the vmdesc fields decide, whatever the machine or version says */
    expect("virt-7.2", &x86, VMS_DELIM_VMDESC, 22, cpu_only, 1,
           VMS_CPU_X86, "x86_64");
    expect("", &i386v, VMS_DELIM_VMDESC, 12, cpu_only, 1, VMS_CPU_X86,
           "i386");
    expect("pc-q35-7.2", &arm, VMS_DELIM_VMDESC, 12, cpu_only, 1,
           VMS_CPU_ARM, "arm");
    expect("virt-7.2", &other, VMS_DELIM_VMDESC, 22, cpu_only, 1,
           VMS_CPU_OTHER, "unknown");
}

static void test_builtin_fit(void **state)
{
    (void)state;
    expect("pc-i440fx-7.2", &arm, VMS_DELIM_BUILTIN, 22, cpu_only, 1,
           VMS_CPU_ARM, "arm");
}

static void test_without_description(void **state)
{
    (void)state;
    /* delimited by the footer: version, machine type, devices */
    expect("pc-i440fx-2.2", NULL, VMS_DELIM_FOOTER, 12, cpu_only, 1,
           VMS_CPU_X86, "x86");
    expect("microvm", NULL, VMS_DELIM_FOOTER, 12, cpu_only, 1, VMS_CPU_X86,
           "x86");
    expect("pc", NULL, VMS_DELIM_FOOTER, 12, cpu_only, 1, VMS_CPU_X86,
           "x86");
    /* Arm's version, but an x86 machine: not sent to the Arm decoder */
    expect("pc-q35-7.2", NULL, VMS_DELIM_FOOTER, 22, cpu_only, 1,
           VMS_CPU_X86, "x86");
    /* Arm's version on an Arm machine that the layouts did not fit: the
     * Arm decoder says why */
    expect("virt-7.2", NULL, VMS_DELIM_FOOTER, 22, cpu_only, 1, VMS_CPU_ARM,
           "arm");
    /* no configuration section: the devices tell */
    expect("", NULL, VMS_DELIM_FOOTER, 12, cpu_apic, 3, VMS_CPU_X86, "x86");
    expect("", NULL, VMS_DELIM_FOOTER, 23, cpu_gic, 3, VMS_CPU_ARM, "arm");
    /* nothing tells: not Arm's version, not named */
    expect("", NULL, VMS_DELIM_FOOTER, 5, cpu_only, 1, VMS_CPU_OTHER,
           "unknown");
    expect("virt-7.2", NULL, VMS_DELIM_FOOTER, 5, cpu_gic, 3,
           VMS_CPU_OTHER, "unknown");
}

static void test_not_a_cpu(void **state)
{
    struct vms_stream st;
    struct vms_section secs[2];
    static const char *const names[] = { "cpu_common", "cpu" };

    (void)state;
    make(&st, secs, names, 2, 1, "virt-7.2", &arm, VMS_DELIM_VMDESC, 22);
    assert_int_equal(vms_section_cpu_kind(&st, &secs[0]).arch,
                     VMS_CPU_NONE);
    secs[1].bytes = NULL;       /* a PART/END record: nothing in memory */
    assert_int_equal(vms_section_cpu_kind(&st, &secs[1]).arch,
                     VMS_CPU_NONE);
    assert_false(vms_section_is_arm_cpu(&st, &secs[1]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_vmdesc),
        cmocka_unit_test(test_builtin_fit),
        cmocka_unit_test(test_without_description),
        cmocka_unit_test(test_not_a_cpu),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
