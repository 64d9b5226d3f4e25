/*
 * test_release.c - the release-level pieces of issue #13: -dump-vmstate
 * JSON (stream/vmstate_json.c), release facts and rules (arm/release.c,
 * arm/release_regs.c) and the repair of one vCPU (arm/repair.c).
 */
#include "config.h"

#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "armcpu.h"
#include "error.h"
#include "profile.h"
#include "release.h"
#include "repair.h"
#include "testutil.h"
#include "vmdesc_json.h"
#include "vmstate_json.h"

static const char dump[] =
    "{\"vmschkmachine\": {\"Name\": \"virt-7.2\"},"
    " \"pl011\": {\"Name\": \"pl011\", \"version_id\": 2,"
    "   \"minimum_version_id\": 2, \"Description\": {\"name\": \"pl011\","
    "   \"version_id\": 2, \"minimum_version_id\": 2, \"Fields\": [],"
    "   \"Subsections\": [{\"name\": \"pl011/clock\", \"version_id\": 1,"
    "   \"minimum_version_id\": 1, \"Fields\": []}]}},"
    " \"pl011_luminary\": {\"Name\": \"pl011_luminary\", \"version_id\": 2,"
    "   \"minimum_version_id\": 2, \"Description\": {\"name\": \"pl011\","
    "   \"version_id\": 2, \"minimum_version_id\": 2, \"Fields\": []}},"
    " \"fw_cfg\": {\"Name\": \"fw_cfg\", \"version_id\": 2,"
    "   \"minimum_version_id\": 1, \"Description\": {\"name\": \"fw_cfg\","
    "   \"version_id\": 2, \"minimum_version_id\": 1, \"Fields\": []}}}";

static void test_vmstate_parse(void **state)
{
    struct vms_error err;
    struct vms_vmstate_dump *d;
    const struct vms_vmstate_dev *v;

    (void)state;
    vms_error_clear(&err);
    d = vms_vmstate_parse(dump, strlen(dump), &err);
    assert_non_null(d);
    assert_string_equal(d->machine, "virt-7.2");
    assert_int_equal(d->n_devs, 2);         /* pl011 listed once */
    v = vms_vmstate_find(d, "pl011");
    assert_non_null(v);
    assert_int_equal(v->version, 2);
    assert_int_equal(v->minimum, 2);
    assert_true(vms_vmstate_has_sub(v, "pl011/clock"));
    assert_false(vms_vmstate_has_sub(v, "pl011/other"));
    v = vms_vmstate_find(d, "fw_cfg");
    assert_non_null(v);
    assert_int_equal(v->minimum, 1);
    assert_int_equal(v->n_subs, 0);
    assert_null(vms_vmstate_find(d, "cpu"));
    vms_vmstate_free(d);
}

static void test_vmstate_bad(void **state)
{
    static const char *const bad[] = {
        "{}",
        "{\"vmschkmachine\": 3}",
        "{\"vmschkmachine\": {\"Name\": \"virt\"}, \"x\": 1}",
        "{\"vmschkmachine\": {\"Name\": \"virt\"}, \"x\": {\"Description\":"
        " {\"name\": \"x\"}}}",
        "[1, 2]",
        "{\"vmschkmachine\": {\"Name\": \"virt\"}",
        "",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct vms_error err;

        vms_error_clear(&err);
        assert_null(vms_vmstate_parse(bad[i], strlen(bad[i]), &err));
        assert_true(vms_error_isset(&err));
    }
}

static void test_machines(void **state)
{
    struct vms_dest_env env;
    struct vms_error err;

    (void)state;
    assert_int_equal(vms_release_has_machine("7.2", "virt-10.0"), 0);
    assert_int_equal(vms_release_has_machine("7.2", "virt-7.2"), 1);
    assert_int_equal(vms_release_has_machine("10.0", "virt-7.2"), 1);
    assert_int_equal(vms_release_has_machine("10.0", "virt-9.2"), 1);
    assert_int_equal(vms_release_has_machine("7.2", "virt-7.10"), 0);
    assert_int_equal(vms_release_has_machine("7.2", "virt"), -1);
    assert_int_equal(vms_release_has_machine("", "virt-7.2"), -1);
    assert_int_equal(vms_release_has_machine("7.2", "-1.0"), -1);

    vms_dest_env_init(&env);
    vms_error_clear(&err);
    assert_int_equal(vms_release_machine_ok("virt-10.0", &env, &err), 0);
    vms_dest_env_set_release(&env, "7.2");
    assert_int_equal(vms_release_machine_ok("virt-10.0", &env, &err), -1);
    assert_non_null(strstr(err.msg, "QEMU 7.2 has no such machine"));
    vms_error_clear(&err);
    snprintf(env.machine, sizeof(env.machine), "virt-7.1");
    assert_int_equal(vms_release_machine_ok("virt-7.2", &env, &err), -1);
    assert_non_null(strstr(err.msg, "Machine type received is 'virt-7.2' "
                                    "and local is 'virt-7.1'"));
    vms_dest_env_fini(&env);
}

static void test_subsections(void **state)
{
    struct vms_dest_env env;
    char *subs[1] = { (char *)"cpu/bogus" };

    (void)state;
    assert_int_equal(vms_release_knows_cpu_sub("7.2", NULL,
                                               "cpu/wfxt-timer"), 0);
    assert_int_equal(vms_release_knows_cpu_sub("10.0", NULL,
                                               "cpu/wfxt-timer"), 1);
    assert_int_equal(vms_release_knows_cpu_sub("7.2", NULL, "cpu/vfp"), 1);
    assert_int_equal(vms_release_knows_cpu_sub("10.0", NULL, "cpu/sve"), 1);
    assert_int_equal(vms_release_knows_cpu_sub("", NULL, "cpu/vfp"), -1);
    assert_int_equal(vms_release_knows_cpu_sub("10.0", NULL, "cpu/bogus"),
                     -1);
    vms_dest_env_init(&env);
    env.cpu_subs = subs;
    env.n_cpu_subs = 1;
    /* the destination sent it: it knows it, whatever the release */
    assert_int_equal(vms_release_knows_cpu_sub("7.2", &env, "cpu/bogus"), 1);
}

/* AArch64 TCG ids */
#define ID_SCTLR   UINT64_C(0x603000000013c080)
#define ID_TPIDR0  UINT64_C(0x603000000013de82)
#define ID_CTR     UINT64_C(0x603000000013d801)
#define ID_RMR     UINT64_C(0x603000000013c602)
#define ID_MIDR    UINT64_C(0x603000000013c000)
#define ID_DBGVCR  UINT64_C(0x40200000200e0380)

static void make_cpu(struct vms_armcpu *c, const uint64_t *ids,
                     const uint64_t *vals, int32_t n)
{
    memset(c, 0, sizeof(*c));
    c->layout = 22;
    c->instance_id = 1;
    c->n = c->m = n;
    c->ids = calloc((size_t)n + 1, sizeof(*c->ids));
    c->values = calloc((size_t)n + 1, sizeof(*c->values));
    assert_non_null(c->ids);
    assert_non_null(c->values);
    memcpy(c->ids, ids, (size_t)n * sizeof(*ids));
    memcpy(c->values, vals, (size_t)n * sizeof(*vals));
}

static void test_release_of_cpu(void **state)
{
    static const uint64_t ids72[] = { ID_MIDR, ID_SCTLR, ID_CTR };
    static const uint64_t ids10[] = { ID_DBGVCR, ID_MIDR, ID_SCTLR, ID_CTR,
                                      ID_RMR };
    static const uint64_t z[5] = { 0 };
    struct vms_armcpu c;

    (void)state;
    make_cpu(&c, ids72, z, 3);
    assert_string_equal(vms_release_of_cpu(&c), "7.2");
    c.layout = 23;
    assert_string_equal(vms_release_of_cpu(&c), "");
    vms_armcpu_fini(&c);
    make_cpu(&c, ids10, z, 5);
    assert_string_equal(vms_release_of_cpu(&c), "10.0");
    vms_armcpu_fini(&c);

    assert_true(vms_release_tcg_fixed("10.0", ID_RMR));
    assert_false(vms_release_tcg_fixed("7.2", ID_RMR));
    assert_true(vms_release_tcg_fixed("7.2", ID_CTR));
    assert_true(vms_release_tcg_fixed("10.0", ID_CTR));
    assert_false(vms_release_tcg_fixed("10.0", ID_TPIDR0));
}

static struct vms_profile *make_profile(const char *release)
{
    struct vms_profile *p = calloc(1, sizeof(*p));

    assert_non_null(p);
    snprintf(p->name, sizeof(p->name), "test");
    snprintf(p->release, sizeof(p->release), "%s", release);
    p->layout = 22;
    p->accel = VMS_CPREG_TCG;
    p->count = p->slots = 3;
    p->n_regs = 3;
    p->regs = calloc(3, sizeof(*p->regs));
    assert_non_null(p->regs);
    /* sorted: SCTLR (writable, own 7), RMR (fixed 1), CTR (fixed
     * 0xb444c004) */
    p->regs[0] = (struct vms_profile_reg){ ID_SCTLR, 8, 0, 0, 1, 7 };
    p->regs[1] = (struct vms_profile_reg){ ID_RMR, 8, 1, 1, 1, 1 };
    p->regs[2] = (struct vms_profile_reg){ ID_CTR, 8, 1, 0xb444c004, 1,
                                           0xb444c004 };
    return p;
}

static const struct vms_repair_change *change(const struct vms_repair *rp,
                                              uint64_t id)
{
    size_t i;

    for (i = 0; i < rp->n; i++) {
        if (rp->changes[i].has_reg && rp->changes[i].id == id) {
            return &rp->changes[i];
        }
    }
    return NULL;
}

static void test_repair_cpu(void **state)
{
    static const uint64_t ids[] = { ID_SCTLR, ID_CTR, ID_TPIDR0 };
    static const uint64_t vals[] = { 0x30d0198d, 0x8444c004, 0x1234 };
    struct vms_profile *p = make_profile("10.0");
    struct vms_repair rp;
    struct vms_armcpu c;
    struct vms_error err;
    const struct vms_repair_change *ch;

    (void)state;
    make_cpu(&c, ids, vals, 3);
    vms_repair_init(&rp, p, NULL);
    vms_error_clear(&err);
    assert_int_equal(vms_repair_cpu(&rp, &c, &err), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.m, 3);
    assert_true(c.ids[0] == ID_SCTLR && c.values[0] == 0x30d0198d);
    assert_true(c.ids[1] == ID_RMR && c.values[1] == 1);
    assert_true(c.ids[2] == ID_CTR && c.values[2] == 0xb444c004);
    assert_int_equal(rp.n, 3);
    assert_int_equal(rp.vcpus, 1);
    ch = change(&rp, ID_TPIDR0);
    assert_non_null(ch);
    assert_int_equal(ch->action, VMS_REPAIR_DROP);
    assert_true(ch->has_old && ch->old_value == 0x1234 && !ch->has_new);
    assert_true(ch->observable);
    ch = change(&rp, ID_CTR);
    assert_non_null(ch);
    assert_int_equal(ch->action, VMS_REPAIR_SET);
    assert_true(ch->old_value == 0x8444c004 && ch->new_value == 0xb444c004);
    assert_true(ch->observable);
    ch = change(&rp, ID_RMR);
    assert_non_null(ch);
    assert_int_equal(ch->action, VMS_REPAIR_ADD);
    assert_true(!ch->has_old && ch->has_new && ch->new_value == 1);
    assert_false(ch->observable);      /* constant on the destination */
    assert_null(change(&rp, ID_SCTLR));
    assert_string_equal(vms_repair_action_name(VMS_REPAIR_SET), "set");

    /* the same vCPU again (convert re-parses): its changes are replaced */
    assert_int_equal(vms_repair_cpu(&rp, &c, &err), 0);
    assert_int_equal(rp.n, 0);          /* already repaired: nothing */
    assert_int_equal(rp.vcpus, 1);
    vms_armcpu_fini(&c);

    /* an unsorted list is refused */
    {
        static const uint64_t uids[] = { ID_CTR, ID_SCTLR };   /* unsorted */

        make_cpu(&c, uids, vals, 2);
        vms_error_clear(&err);
        assert_int_equal(vms_repair_cpu(&rp, &c, &err), -1);
        assert_non_null(strstr(err.msg, "not sorted"));
        vms_armcpu_fini(&c);
    }
    vms_repair_fini(&rp);
    vms_profile_free(p);
}

/* cpu subsections: an unarmed wfxt-timer is left out for 7.2, an armed
 * one and an unknown one are refused. */
static void add_subs(struct vms_armcpu *c, const char *name, uint8_t fill)
{
    size_t nlen = strlen(name), i;

    c->subs_len = 2 + nlen + 4 + 8;
    c->subs = malloc(c->subs_len);
    assert_non_null(c->subs);
    c->subs[0] = 0x05;
    c->subs[1] = (uint8_t)nlen;
    memcpy(c->subs + 2, name, nlen);
    memcpy(c->subs + 2 + nlen, "\0\0\0\1", 4);
    for (i = 0; i < 8; i++) {
        c->subs[2 + nlen + 4 + i] = fill;
    }
    c->sub_names = calloc(1, sizeof(*c->sub_names));
    assert_non_null(c->sub_names);
    c->sub_names[0] = strdup(name);
    c->n_subs = 1;
}

static void test_repair_subs(void **state)
{
    static const uint64_t ids[] = { ID_SCTLR, ID_RMR, ID_CTR };
    static const uint64_t vals[] = { 1, 1, 0xb444c004 };
    struct vms_profile *p = make_profile("7.2");
    struct vms_repair rp;
    struct vms_armcpu c;
    struct vms_error err;

    (void)state;
    make_cpu(&c, ids, vals, 3);
    add_subs(&c, "cpu/wfxt-timer", 0xff);
    vms_repair_init(&rp, p, NULL);
    vms_error_clear(&err);
    assert_int_equal(vms_repair_cpu(&rp, &c, &err), 0);
    assert_int_equal(c.n_subs, 0);
    assert_int_equal(c.subs_len, 0);
    assert_int_equal(rp.n, 1);
    assert_int_equal(rp.changes[0].action, VMS_REPAIR_DROP_SUB);
    assert_string_equal(rp.changes[0].name, "cpu/wfxt-timer");
    vms_armcpu_fini(&c);

    make_cpu(&c, ids, vals, 3);
    add_subs(&c, "cpu/wfxt-timer", 0x00);       /* armed at time 0 */
    vms_error_clear(&err);
    assert_int_equal(vms_repair_cpu(&rp, &c, &err), -1);
    assert_non_null(strstr(err.msg, "armed"));
    vms_armcpu_fini(&c);

    make_cpu(&c, ids, vals, 3);
    add_subs(&c, "cpu/pmsav8r", 0xff);          /* unknown to 7.2 */
    vms_error_clear(&err);
    assert_int_equal(vms_repair_cpu(&rp, &c, &err), -1);
    assert_non_null(strstr(err.msg, "does not know subsection cpu/pmsav8r"));
    vms_armcpu_fini(&c);

    make_cpu(&c, ids, vals, 3);
    add_subs(&c, "cpu/vfp", 0xff);              /* known: kept */
    vms_error_clear(&err);
    assert_int_equal(vms_repair_cpu(&rp, &c, &err), 0);
    assert_int_equal(c.n_subs, 1);
    vms_armcpu_fini(&c);
    vms_repair_fini(&rp);
    vms_profile_free(p);
}

static void test_keep_subs(void **state)
{
    static const char text[] =
        "{\"devices\": [{\"name\": \"cpu\", \"instance_id\": 0,"
        " \"subsections\": [{\"vmsd_name\": \"cpu/vfp\"},"
        " {\"vmsd_name\": \"cpu/wfxt-timer\"}]},"
        " {\"name\": \"cpu\", \"instance_id\": 1,"
        " \"subsections\": [{\"vmsd_name\": \"cpu/wfxt-timer\"}]}]}";
    const char *keep[] = { "cpu/vfp" };
    struct vms_error err;
    json_object *root = json_tokener_parse(text), *d, *s;

    (void)state;
    assert_non_null(root);
    vms_error_clear(&err);
    assert_int_equal(vms_vmdesc_cpu_keep_subs(root, 0, keep, 1, &err), 0);
    assert_int_equal(vms_vmdesc_cpu_keep_subs(root, 1, keep, 1, &err), 0);
    json_object_object_get_ex(root, "devices", &d);
    assert_true(json_object_object_get_ex(json_object_array_get_idx(d, 0),
                                          "subsections", &s));
    assert_int_equal(json_object_array_length(s), 1);
    /* nothing left: the key goes, as QEMU writes no empty list */
    assert_false(json_object_object_get_ex(json_object_array_get_idx(d, 1),
                                           "subsections", &s));
    json_object_put(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vmstate_parse),
        cmocka_unit_test(test_vmstate_bad),
        cmocka_unit_test(test_machines),
        cmocka_unit_test(test_subsections),
        cmocka_unit_test(test_release_of_cpu),
        cmocka_unit_test(test_repair_cpu),
        cmocka_unit_test(test_repair_subs),
        cmocka_unit_test(test_keep_subs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
