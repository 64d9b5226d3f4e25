/*
 * test_profile.c - destination profiles: every builtin profile loads and
 * survives write -> parse unchanged; a profile taken from a real stream
 * lists the registers of the builtin profile made from the same QEMU build
 * and CPU; malformed profile text is refused with the line it is on.
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

#include "error.h"
#include "profile.h"
#include "testutil.h"

static void assert_same(const struct vms_profile *a,
                        const struct vms_profile *b)
{
    size_t i;

    assert_string_equal(a->name, b->name);
    assert_string_equal(a->release, b->release);
    assert_int_equal(a->layout, b->layout);
    assert_int_equal(a->accel, b->accel);
    assert_int_equal(a->absent, b->absent);
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->slots, b->slots);
    assert_int_equal(a->n_regs, b->n_regs);
    for (i = 0; i < a->n_regs; i++) {
        assert_int_equal(a->regs[i].id, b->regs[i].id);
        assert_int_equal(a->regs[i].size, b->regs[i].size);
        assert_int_equal(a->regs[i].fixed, b->regs[i].fixed);
        if (a->regs[i].fixed) {
            assert_int_equal(a->regs[i].value, b->regs[i].value);
        }
        assert_int_equal(a->regs[i].has_own, b->regs[i].has_own);
        if (a->regs[i].has_own) {
            assert_int_equal(a->regs[i].own, b->regs[i].own);
        }
    }
}

static struct vms_profile *reparse(const struct vms_profile *p)
{
    struct vms_error err;
    struct vms_profile *q;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    assert_int_equal(vms_profile_write(p, f), 0);
    assert_int_equal(fclose(f), 0);
    vms_error_clear(&err);
    q = vms_profile_parse(text, len, "memory", &err);
    if (!q) {
        fail_msg("%s", err.msg);
    }
    free(text);
    return q;
}

static void test_builtins_round_trip(void **state)
{
    const char *const *names = vms_profile_builtin_names();
    size_t i;

    (void)state;
    assert_non_null(names[0]);
    for (i = 0; names[i]; i++) {
        struct vms_error err;
        struct vms_profile *p, *q;

        vms_error_clear(&err);
        p = vms_profile_load(names[i], &err);
        if (!p) {
            fail_msg("%s: %s", names[i], err.msg);
        }
        assert_true(p->n_regs > 0);
        assert_true(p->layout == 22 || p->layout == 23);
        q = reparse(p);
        assert_same(p, q);
        vms_profile_free(q);
        vms_profile_free(p);
    }
    assert_true(i >= 10);
}

/* The builtin qemu-7.2-tcg:cortex-a57 was made from a stock 7.2 stream
 * of that CPU: a profile of a real stream has the same register list. */
static void test_from_stream(void **state)
{
    char path[1024];
    struct vms_error err;
    struct vms_profile *s, *b, *q;
    size_t i;

    (void)state;
    snprintf(path, sizeof(path), "%s/%s", tu_vectors_dir(),
             "real-v22/aa64-virt72-cortex-a57-1cpu.mig.zst");
    vms_error_clear(&err);
    s = vms_profile_from_stream(path, NULL, &err);
    if (!s) {
        fail_msg("%s", err.msg);
    }
    b = vms_profile_load("qemu-7.2-tcg:cortex-a57", &err);
    assert_non_null(b);
    assert_int_equal(s->layout, 22);
    assert_int_equal(s->accel, b->accel);
    assert_int_equal(s->count, b->count);
    assert_int_equal(s->n_regs, b->n_regs);
    for (i = 0; i < s->n_regs; i++) {
        assert_int_equal(s->regs[i].id, b->regs[i].id);
        assert_int_equal(s->regs[i].size, b->regs[i].size);
    }
    q = reparse(s);
    assert_same(s, q);
    vms_profile_free(q);
    vms_profile_free(b);
    vms_profile_free(s);
}

static void expect_error(const char *text, const char *want)
{
    struct vms_error err;
    struct vms_profile *p;

    vms_error_clear(&err);
    p = vms_profile_parse(text, strlen(text), "t.profile", &err);
    assert_null(p);
    assert_int_equal(err.code, VMS_E_USAGE);
    if (!strstr(err.msg, want)) {
        fail_msg("\"%s\" lacks \"%s\"", err.msg, want);
    }
}

static void test_errors(void **state)
{
    struct vms_error err;

    (void)state;
    expect_error("layout v22\n", "t.profile is not a vmstream profile");
    expect_error("vmstream-profile 2\n# comment\n\nfrobnicate 1\n",
                 "t.profile:4: cannot read this line");
    expect_error("vmstream-profile 2\nlayout v22\n"
                 "reg 0x6030000000138002 8 - - A\n"
                 "reg 0x6030000000138001 8 - - B\n",
                 "t.profile:4: register ids must be strictly ascending");
    expect_error("vmstream-profile 2\nreg 0x6030000000138002 8 zz - A\n",
                 "t.profile:2: cannot read");
    vms_error_clear(&err);
    assert_null(vms_profile_load("/nonexistent/x.profile", &err));
    assert_non_null(strstr(err.msg, "neither a builtin profile"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtins_round_trip),
        cmocka_unit_test(test_from_stream),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
