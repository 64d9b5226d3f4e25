/*
 * test_check.c - the rules of vmstream check on real cpu sections made
 * wrong in one place at a time: each path the seed's v23 loader leaves
 * unchecked must be a fatal finding with its reason, and the destination
 * rules must follow QEMU's cpu_post_load merge.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "armcpu.h"
#include "check.h"
#include "profile.h"
#include "src.h"
#include "stream.h"
#include "testutil.h"

/* vCPU 0 of a real stream, decoded. */
static void load_cpu(const char *rel, struct vms_armcpu *c)
{
    struct vms_stream st;
    struct vms_error err;
    struct vms_src *src;
    uint8_t *buf;
    size_t len, i;

    buf = tu_load(rel, &len);
    vms_error_clear(&err);
    vms_stream_init(&st);
    src = vms_src_open_mem(buf, len, 0, &err);
    assert_non_null(src);
    assert_int_equal(vms_stream_parse(src, NULL, &st, &err), 0);
    for (i = 0; i < st.n_sections; i++) {
        if (strcmp(st.sections[i].idstr, "cpu") == 0) {
            assert_int_equal(vms_armcpu_from_section(&st.sections[i], c,
                                                     &err), 0);
            break;
        }
    }
    assert_true(i < st.n_sections);
    vms_stream_fini(&st);
    vms_src_free(src);
    free(buf);
}

/* The first finding of a severity whose message contains text. */
static const struct vms_finding *find(const struct vms_check_result *r,
                                      enum vms_severity sev,
                                      const char *text)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        if (r->findings[i].severity == sev &&
            strstr(r->findings[i].message, text)) {
            return &r->findings[i];
        }
    }
    return NULL;
}

static void expect_fatal(struct vms_armcpu *c, const char *text,
                         uint64_t want_offset)
{
    struct vms_check_result r = { 0 };
    const struct vms_finding *f;

    vms_check_cpus(c, 1, NULL, &r);
    f = find(&r, VMS_SEV_FATAL, text);
    if (!f) {
        size_t i;

        for (i = 0; i < r.n; i++) {
            print_message("finding: %s\n", r.findings[i].message);
        }
        fail_msg("no fatal finding mentioning \"%s\"", text);
    }
    assert_int_equal(r.verdict, VMS_VERDICT_FAILS);
    assert_true(f->has_reg);
    assert_int_equal(f->offset, want_offset);
    vms_check_result_fini(&r);
}

#define V23 "real-v23/aa64-virt72-cortex-a57-1cpu.mig.zst"
#define V22 "real-v22/aa64-virt72-cortex-a57-1cpu.mig.zst"

static void test_real_v23_is_clean(void **state)
{
    struct vms_armcpu c;
    struct vms_check_result r = { 0 };

    load_cpu(V23, &c);
    vms_check_cpus(&c, 1, NULL, &r);
    assert_int_equal(r.verdict, VMS_VERDICT_LOADS);
    vms_check_result_fini(&r);
    vms_armcpu_fini(&c);
}

static void test_vidx_out_of_range(void **state)
{
    struct vms_armcpu c;

    load_cpu(V23, &c);
    c.value_idx[10] = (uint32_t)c.m + 5;
    expect_fatal(&c, "out of range", c.vidx_offset + 4 * 10);
    vms_armcpu_fini(&c);
}

static void test_vidx_decreasing(void **state)
{
    struct vms_armcpu c;

    load_cpu(V23, &c);
    c.value_idx[20] = 25;           /* 25 then 21: negative copy length */
    expect_fatal(&c, "decrease", c.vidx_offset + 4 * 20);
    vms_armcpu_fini(&c);
}

static void test_vidx_slots_too_large(void **state)
{
    struct vms_armcpu c;
    int32_t i;

    load_cpu(V23, &c);
    /* register 30 gets two slots, everything after moves up by one */
    for (i = 31; i < c.n; i++) {
        c.value_idx[i]++;
    }
    c.m++;
    expect_fatal(&c, "larger than", c.vidx_offset + 4 * 30);
    vms_armcpu_fini(&c);
}

static void test_vidx_zero_slots(void **state)
{
    struct vms_armcpu c;

    load_cpu(V23, &c);
    c.value_idx[41] = c.value_idx[40];   /* register 40 gets 0 slots */
    expect_fatal(&c, "slot count 0", c.vidx_offset + 4 * 40);
    vms_armcpu_fini(&c);
}

static void test_vidx_not_from_zero(void **state)
{
    struct vms_armcpu c;

    load_cpu(V23, &c);
    c.value_idx[0] = 1;
    expect_fatal(&c, "not 0", c.vidx_offset);
    vms_armcpu_fini(&c);
}

/* The merge, against a destination profile made from the same stream. */
static void test_merge_rules(void **state)
{
    struct vms_armcpu c, d;
    struct vms_profile *p;
    struct vms_check_result r = { 0 };
    struct vms_error err;
    uint64_t id;

    vms_error_clear(&err);
    load_cpu(V22, &d);
    p = vms_profile_from_cpu(&d, "self", &err);
    assert_non_null(p);

    /* Same stream: loads. */
    load_cpu(V22, &c);
    vms_check_cpus(&c, 1, p, &r);
    assert_int_equal(r.verdict, VMS_VERDICT_LOADS);
    vms_check_result_fini(&r);

    /* A writable register missing mid-list: loads, but a fresh QEMU 7.2
     * TCG destination leaves it 0 (tests/integration/check-missing.sh). */
    {
        int32_t w = 100;

        while (p->regs[w].fixed) {
            w++;
        }
        id = c.ids[w];
        memmove(&c.ids[w], &c.ids[w + 1], (size_t)(c.n - w - 1) * 8);
        memmove(&c.values[w], &c.values[w + 1], (size_t)(c.n - w - 1) * 8);
        c.n--;
        c.m--;
    }
    vms_check_cpus(&c, 1, p, &r);
    assert_int_equal(r.verdict, VMS_VERDICT_LOSSY);
    {
        const struct vms_finding *f = find(&r, VMS_SEV_WARNING,
                                           "ends up 0");

        assert_non_null(f);
        assert_int_equal(f->id, id);
        assert_int_equal(f->effect, VMS_EFFECT_CHANGED);
        assert_true(f->has_after);
        assert_int_equal(f->after, 0);
    }
    vms_check_result_fini(&r);

    /* The same under KVM keeps the destination's reset value. */
    p->absent = VMS_ABSENT_RESET;
    vms_check_cpus(&c, 1, p, &r);
    {
        const struct vms_finding *f = find(&r, VMS_SEV_WARNING,
                                           "vCPU reset");
        const struct vms_profile_reg *dr;

        assert_non_null(f);
        assert_true(vms_profile_find(p, id, &dr));
        assert_int_equal(f->after, dr->own);
    }
    vms_check_result_fini(&r);
    p->absent = VMS_ABSENT_ZERO;

    /* A constant register missing: 0 does not read back, the load fails
     * (QEMU 7.2 refuses a cortex-a57 stream without CTR_EL0). */
    {
        struct vms_armcpu k;
        int32_t w = 0;

        load_cpu(V22, &k);
        while (!(p->regs[w].fixed && p->regs[w].value != 0)) {
            w++;
        }
        id = k.ids[w];
        memmove(&k.ids[w], &k.ids[w + 1], (size_t)(k.n - w - 1) * 8);
        memmove(&k.values[w], &k.values[w + 1], (size_t)(k.n - w - 1) * 8);
        k.n--;
        k.m--;
        vms_check_cpus(&k, 1, p, &r);
        assert_int_equal(r.verdict, VMS_VERDICT_FAILS);
        assert_non_null(find(&r, VMS_SEV_FATAL, "never filled"));
        assert_int_equal(find(&r, VMS_SEV_FATAL, "never filled")->id, id);
        vms_check_result_fini(&r);

        /* Under an undefined-slot destination (QEMU 10.0 TCG) too. */
        p->absent = VMS_ABSENT_UNDEFINED;
        vms_check_cpus(&k, 1, p, &r);
        assert_int_equal(r.verdict, VMS_VERDICT_FAILS);
        assert_non_null(find(&r, VMS_SEV_FATAL, "uninitialised"));
        vms_check_result_fini(&r);
        p->absent = VMS_ABSENT_ZERO;
        vms_armcpu_fini(&k);
    }

    /* An unknown id in its place: fatal. */
    {
        /* an id between two stream ids, that the destination lacks,
         * replacing the register after it (the list stays sorted) */
        int32_t j;
        size_t k;
        int known = 1;
        uint64_t cand = 0;

        for (j = 50; j < c.n - 1 && known; j++) {
            if (c.ids[j] - c.ids[j - 1] < 2) {
                continue;
            }
            cand = c.ids[j] - 1;
            known = 0;
            for (k = 0; k < p->n_regs; k++) {
                known |= p->regs[k].id == cand;
            }
        }
        assert_false(known);
        c.ids[j - 1] = cand;
    }
    vms_check_cpus(&c, 1, p, &r);
    assert_int_equal(r.verdict, VMS_VERDICT_FAILS);
    assert_non_null(find(&r, VMS_SEV_FATAL, "Operation not permitted"));
    vms_check_result_fini(&r);
    vms_armcpu_fini(&c);

    /* An extra id above the destination's last: silently dropped. */
    load_cpu(V22, &c);
    c.n--;                          /* pretend the dest lacks the last */
    vms_profile_free(p);
    p = vms_profile_from_cpu(&c, "short", &err);
    c.n++;
    p->count = c.n;                 /* room for it: length check passes */
    vms_check_cpus(&c, 1, p, &r);
    assert_int_equal(r.verdict, VMS_VERDICT_LOSSY);
    assert_non_null(find(&r, VMS_SEV_WARNING, "ignores it without a word"));
    vms_check_result_fini(&r);

    /* More registers than the destination has: QEMU's length message. */
    p->count = c.n - 1;
    vms_check_cpus(&c, 1, p, &r);
    assert_non_null(find(&r, VMS_SEV_FATAL, "Invalid value 258 expecting "
                                            "positive value <= 257"));
    vms_check_result_fini(&r);

    vms_profile_free(p);
    vms_armcpu_fini(&c);
    vms_armcpu_fini(&d);
}

/* Bits QEMU's TCG write drops (formats/tcg-write-masks.tsv): VBAR_EL1 with
 * one of bits [4:0] set cannot load, an aligned value can; the rule is
 * TCG's, a KVM destination is not judged by it. */
static void test_dropped_bits(void **state)
{
    static const uint64_t vbar = UINT64_C(0x603000000013c600);
    struct vms_armcpu c;
    struct vms_profile *p;
    struct vms_check_result r = { 0 };
    struct vms_error err;
    const struct vms_finding *f;
    int32_t v;

    (void)state;
    vms_error_clear(&err);
    assert_int_equal(vms_profile_tcg_dropped_bits(vbar), 0x1f);
    assert_int_equal(vms_profile_tcg_dropped_bits(vbar + 1), 0);   /* RVBAR */
    load_cpu(V22, &c);
    p = vms_profile_from_cpu(&c, "self", &err);
    assert_non_null(p);
    assert_int_equal(p->accel, VMS_CPREG_TCG);
    for (v = 0; v < c.n && c.ids[v] != vbar; v++) {
    }
    assert_true(v < c.n);

    c.values[v] = 0x40000800;
    vms_check_cpus(&c, 1, p, &r);
    assert_int_equal(r.verdict, VMS_VERDICT_LOADS);
    vms_check_result_fini(&r);

    c.values[v] = 0x40000801;
    vms_check_cpus(&c, 1, p, &r);
    assert_int_equal(r.verdict, VMS_VERDICT_FAILS);
    f = find(&r, VMS_SEV_FATAL, "sets bits 0x1 that QEMU's write");
    assert_non_null(f);
    assert_int_equal(f->id, vbar);
    assert_int_equal(f->offset, c.values_offset + 8ull * (uint64_t)v);
    vms_check_result_fini(&r);

    p->accel = VMS_CPREG_KVM;
    vms_check_cpus(&c, 1, p, &r);
    assert_null(find(&r, VMS_SEV_FATAL, "sets bits"));
    vms_check_result_fini(&r);

    vms_profile_free(p);
    vms_armcpu_fini(&c);
}

/* Orderings are judged by QEMU's merge over the list as it arrives. */
static void test_orderings(void **state)
{
    struct vms_armcpu c, d;
    struct vms_profile *p;
    struct vms_check_result r = { 0 };
    struct vms_error err;
    uint64_t first_id, first_val;
    int32_t v;
    size_t k;

    (void)state;
    vms_error_clear(&err);
    load_cpu(V22, &d);
    p = vms_profile_from_cpu(&d, "self", &err);
    assert_non_null(p);

    /* Whole list reversed: every register but the largest is absent, so
     * the constants fail (QEMU 7.2 refuses it). */
    load_cpu(V22, &c);
    for (v = 0; v < c.n / 2; v++) {
        uint64_t t = c.ids[v], u = c.values[v];

        c.ids[v] = c.ids[c.n - 1 - v];
        c.values[v] = c.values[c.n - 1 - v];
        c.ids[c.n - 1 - v] = t;
        c.values[c.n - 1 - v] = u;
    }
    vms_check_cpus(&c, 1, p, &r);
    assert_int_equal(r.verdict, VMS_VERDICT_FAILS);
    assert_non_null(find(&r, VMS_SEV_FATAL, "never filled"));
    vms_check_result_fini(&r);
    vms_armcpu_fini(&c);

    /* Rotated left by one: the first register goes to the end.  The merge
     * passes its place before its entry arrives, so it is written 0, and
     * the entry at the end is ignored.  FCSEIDR_S is the register
     * FCSEIDR (QEMU 7.2 writes Secure AArch32 entries through the NS
     * register), written later with the stream's value: nothing changes
     * (QEMU agrees: tests/integration/check-missing.sh).  With another
     * value for FCSEIDR_S at the end, that value is what is lost. */
    load_cpu(V22, &c);
    first_id = c.ids[0];
    first_val = c.values[0];
    memmove(&c.ids[0], &c.ids[1], (size_t)(c.n - 1) * 8);
    memmove(&c.values[0], &c.values[1], (size_t)(c.n - 1) * 8);
    c.ids[c.n - 1] = first_id;
    c.values[c.n - 1] = first_val;
    assert_false(p->regs[0].fixed);     /* FCSEIDR_S on cortex-a57 */
    vms_check_cpus(&c, 1, p, &r);
    assert_int_equal(r.verdict, VMS_VERDICT_LOADS);
    for (k = 0; k < r.n; k++) {
        assert_int_equal(r.findings[k].effect, VMS_EFFECT_NONE);
    }
    vms_check_result_fini(&r);
    c.values[c.n - 1] = 0x2000000;
    vms_check_cpus(&c, 1, p, &r);
    assert_int_equal(r.verdict, VMS_VERDICT_LOSSY);
    {
        size_t changed = 0;

        for (k = 0; k < r.n; k++) {
            const struct vms_finding *f = &r.findings[k];

            if (f->effect == VMS_EFFECT_CHANGED) {
                changed++;
                assert_int_equal(f->id, first_id);
                assert_int_equal(f->after, first_val);
            }
            assert_int_not_equal(f->effect, VMS_EFFECT_LOST);
        }
        assert_int_equal(changed, 1);
    }
    vms_check_result_fini(&r);

    /* The stream's own build judges it the same way (no destination). */
    vms_check_cpus(&c, 1, NULL, &r);
    assert_non_null(find(&r, VMS_SEV_INFO, "out of order"));
    assert_true(find(&r, VMS_SEV_INFO, "out of order")->malformed);
    vms_check_result_fini(&r);
    vms_armcpu_fini(&c);

    vms_profile_free(p);
    vms_armcpu_fini(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_v23_is_clean),
        cmocka_unit_test(test_dropped_bits),
        cmocka_unit_test(test_vidx_out_of_range),
        cmocka_unit_test(test_vidx_decreasing),
        cmocka_unit_test(test_vidx_slots_too_large),
        cmocka_unit_test(test_vidx_zero_slots),
        cmocka_unit_test(test_vidx_not_from_zero),
        cmocka_unit_test(test_merge_rules),
        cmocka_unit_test(test_orderings),
    };

    return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
