/*
 * test_nomem.c - out of memory at every allocation, one at a time.
 *
 * Linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup
 * (Makefile.am): every allocation the library makes goes through the
 * wrappers below, and vms_alloc_fail_after(n) lets n of them succeed and
 * fails every later one.  Each test sweeps n = 0, 1, 2, ... until the
 * operation runs without a failed allocation, and asserts at every step
 * that a failure is reported (an error latched with a message, or a check
 * verdict of FAILS with the result marked incomplete), never swallowed.
 * json-c, zlib and zstd allocate behind shared libraries and are not
 * wrapped.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <execinfo.h>

#include "armcpu.h"
#include "check.h"
#include "convert.h"
#include "error.h"
#include "layout.h"
#include "profile.h"
#include "sink.h"
#include "src.h"
#include "stream.h"
#include "testutil.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static long left = -1;          /* allocations before failing; -1 = never */
static long n_failed;
static void *first_fail[16];    /* where the first failed allocation was */
static int n_first_fail;

static int fail_now(void)
{
    if (left < 0) {
        return 0;
    }
    if (left == 0) {
        if (n_failed++ == 0) {
            n_first_fail = backtrace(first_fail, 16);
        }
        return 1;
    }
    left--;
    return 0;
}

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return fail_now() ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}

/* Let n allocations succeed, then fail every one; n < 0: stop failing
 * (n_failed keeps the count of the last armed run). */
static void vms_alloc_fail_after(long n)
{
    left = n;
    if (n >= 0) {
        n_failed = 0;
    }
}

#define SWEEP_MAX 100000

#define V22 "real-v22/aa64-virt72-cortex-a57-2cpu.mig.zst"
#define V22_NOVMDESC \
    "real-v22-novmdesc/aa64-virt72-cortex-a57-1cpu-nodefaults-novmdesc.mig.zst"

/* The first "cpu" section of a parsed stream. */
static const struct vms_section *first_cpu(const struct vms_stream *st)
{
    size_t i;

    for (i = 0; i < st->n_sections; i++) {
        if (strcmp(st->sections[i].idstr, "cpu") == 0) {
            return &st->sections[i];
        }
    }
    fail_msg("no cpu section");
    return NULL;
}

static void parse_whole(const uint8_t *buf, size_t len, struct vms_stream *st)
{
    struct vms_error err;
    struct vms_src *src;

    vms_error_clear(&err);
    vms_stream_init(st);
    src = vms_src_open_mem(buf, len, 0, &err);
    assert_non_null(src);
    assert_int_equal(vms_stream_parse(src, NULL, st, &err), 0);
    vms_src_free(src);
}

/* An error a failed allocation produced: latched, with a message. */
static void assert_nomem_error(const struct vms_error *err, long n)
{
    char msg[1024];

    if (!vms_error_isset(err) || err->msg[0] == '\0' ||
        err->code != VMS_E_NOMEM) {
        vms_error_format(err, msg, sizeof(msg));
        print_error("the first failed allocation:\n");
        backtrace_symbols_fd(first_fail, n_first_fail, 2);
        fail_msg("allocation %ld failed: code %s, message \"%s\"", n,
                 vms_status_name(err->code), msg);
    }
}

/* The library's stream reader, first use of the builtin layouts included
 * (this test runs first: a failed build of the layout tables must be
 * reported, and retried by the next parse). */
static void sweep_parse(const char *rel)
{
    size_t len;
    uint8_t *buf = tu_load(rel, &len);
    long n;
    int saw_layout = 0;

    for (n = 0; n < SWEEP_MAX; n++) {
        struct vms_stream st;
        struct vms_error err;
        struct vms_src *src;
        int rc;

        vms_error_clear(&err);
        vms_stream_init(&st);
        vms_alloc_fail_after(n);
        src = vms_src_open_mem(buf, len, 0, &err);
        rc = src ? vms_stream_parse(src, NULL, &st, &err) : -1;
        vms_alloc_fail_after(-1);
        if (src && rc == 0) {
            /* Nothing failed, or the parse would have said so. */
            assert_int_equal(n_failed, 0);
            assert_false(vms_error_isset(&err));
            assert_non_null(first_cpu(&st));
        } else {
            if (n_failed == 0) {
                char m[1024];

                vms_error_format(&err, m, sizeof(m));
                fail_msg("allocation %ld: the parse failed without a failed "
                         "allocation: %s", n, m);
            }
            assert_nomem_error(&err, n);
            if (strstr(err.msg, "builtin layouts")) {
                saw_layout = 1;
            }
        }
        vms_stream_fini(&st);
        vms_src_free(src);
        if (rc == 0) {
            break;
        }
    }
    assert_true(n < SWEEP_MAX);
    print_message("%s: %ld allocations swept\n", rel, n);
    if (strcmp(rel, V22_NOVMDESC) == 0) {
        assert_true(saw_layout);
    }
    free(buf);
}

static void test_parse_novmdesc_nomem(void **state)
{
    (void)state;
    sweep_parse(V22_NOVMDESC);
}

static void test_parse_nomem(void **state)
{
    (void)state;
    sweep_parse(V22);
}

/* Decoding a cpu section: the subsection scan latches an error with a
 * message (it used to return -1 with the latch empty). */
static void test_armcpu_nomem(void **state)
{
    struct vms_stream st;
    size_t len;
    uint8_t *buf = tu_load(V22, &len);
    const struct vms_section *s;
    long n;
    int saw_sub = 0;

    (void)state;
    parse_whole(buf, len, &st);
    s = first_cpu(&st);
    for (n = 0; n < SWEEP_MAX; n++) {
        struct vms_armcpu c;
        struct vms_error err;
        int rc;

        vms_error_clear(&err);
        vms_alloc_fail_after(n);
        rc = vms_armcpu_from_section(s, &c, &err);
        vms_alloc_fail_after(-1);
        if (rc == 0) {
            assert_int_equal(n_failed, 0);
            assert_true(c.n_subs > 0);
            vms_armcpu_fini(&c);
            break;
        }
        assert_true(n_failed > 0);
        assert_nomem_error(&err, n);
        if (strstr(err.msg, "subsection")) {
            saw_sub = 1;
            assert_true(err.has_offset);
            assert_true(err.offset > s->body_offset);
        }
        vms_armcpu_fini(&c);
    }
    assert_true(n < SWEEP_MAX);
    assert_true(saw_sub);
    vms_stream_fini(&st);
    free(buf);
}

/* Check: a finding that cannot be stored never leaves a verdict better
 * than FAILS, and the result says it is incomplete. */
static void sweep_check(struct vms_armcpu *c, const struct vms_profile *p,
                        enum vms_verdict want, size_t want_n)
{
    long n;

    for (n = 0; n < SWEEP_MAX; n++) {
        struct vms_check_result r = { 0 };

        vms_alloc_fail_after(n);
        vms_check_cpus(c, 1, p, &r);
        vms_alloc_fail_after(-1);
        if (n_failed == 0) {
            assert_false(r.nomem);
            assert_int_equal(r.verdict, want);
            assert_int_equal(r.n, want_n);
            vms_check_result_fini(&r);
            break;
        }
        assert_true(r.nomem);
        assert_int_equal(r.verdict, VMS_VERDICT_FAILS);
        vms_check_result_fini(&r);
    }
    assert_true(n < SWEEP_MAX);
}

static void test_check_nomem(void **state)
{
    struct vms_stream st;
    struct vms_armcpu c;
    struct vms_profile *p;
    struct vms_check_result r = { 0 };
    struct vms_error err;
    size_t len;
    uint8_t *buf = tu_load(V22, &len);

    (void)state;
    parse_whole(buf, len, &st);
    vms_error_clear(&err);
    assert_int_equal(vms_armcpu_from_section(first_cpu(&st), &c, &err), 0);

    /* Against itself: loads, with no failure anywhere. */
    p = vms_profile_from_cpu(&c, "self", &err);
    assert_non_null(p);
    vms_check_cpus(&c, 1, p, &r);
    assert_int_not_equal(r.verdict, VMS_VERDICT_FAILS);
    sweep_check(&c, p, r.verdict, r.n);
    vms_check_result_fini(&r);

    /* One register fewer at the destination: a fatal length finding. */
    p->count = c.n - 1;
    memset(&r, 0, sizeof(r));
    vms_check_cpus(&c, 1, p, &r);
    assert_int_equal(r.verdict, VMS_VERDICT_FAILS);
    assert_true(r.n > 0);
    sweep_check(&c, p, r.verdict, r.n);
    vms_check_result_fini(&r);

    /* Every allocation fails: no finding stored, still FAILS. */
    vms_alloc_fail_after(0);
    memset(&r, 0, sizeof(r));
    vms_check_cpus(&c, 1, p, &r);
    vms_alloc_fail_after(-1);
    assert_true(r.nomem);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.verdict, VMS_VERDICT_FAILS);
    vms_check_result_fini(&r);

    vms_profile_free(p);
    vms_armcpu_fini(&c);
    vms_stream_fini(&st);
    free(buf);
}

/* Convert: out of memory anywhere stops it with an error, and the
 * output file never appears (nothing a destination could load). */
static void test_convert_nomem(void **state)
{
    char dir[] = "/tmp/vms-test-nomem.XXXXXX", path[64];
    size_t len;
    uint8_t *buf = tu_load(V22, &len);
    long n;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/out.mig", dir);
    for (n = 0; n < SWEEP_MAX; n++) {
        struct vms_convert_opts o;
        struct vms_convert_result r;
        struct vms_sink_opts so = { 0 };
        struct vms_error err;
        struct vms_src *src;
        struct vms_sink *k;
        struct stat sb;
        int rc;

        memset(&o, 0, sizeof(o));
        o.to_layout = 23;
        vms_error_clear(&err);
        src = vms_src_open_mem(buf, len, 0, &err);
        k = vms_sink_open(path, &so, &err);
        assert_non_null(src);
        assert_non_null(k);
        vms_alloc_fail_after(n);
        rc = vms_convert(src, k, &o, &r, &err);
        vms_alloc_fail_after(-1);
        if (rc == 0) {
            assert_int_equal(n_failed, 0);
            assert_int_equal(r.converted, 2);
            assert_int_equal(vms_sink_commit(k, &err), 0);
            assert_int_equal(stat(path, &sb), 0);
            assert_int_equal((uint64_t)sb.st_size, r.out_bytes);
            unlink(path);
        } else {
            assert_true(n_failed > 0);
            assert_nomem_error(&err, n);
            vms_sink_abort(k);
            assert_int_equal(stat(path, &sb), -1);
        }
        vms_src_free(src);
        if (rc == 0) {
            break;
        }
    }
    assert_true(n < SWEEP_MAX);
    print_message("convert: %ld allocations swept\n", n);
    rmdir(dir);
    free(buf);
}

/* Parsing a profile (a builtin one: the text compiled in). */
static void test_profile_nomem(void **state)
{
    long n;

    (void)state;
    for (n = 0; n < SWEEP_MAX; n++) {
        struct vms_error err;
        struct vms_profile *p;

        vms_error_clear(&err);
        vms_alloc_fail_after(n);
        p = vms_profile_load("qemu-7.2-tcg:cortex-a57", &err);
        vms_alloc_fail_after(-1);
        if (p) {
            assert_int_equal(n_failed, 0);
            assert_int_equal(p->n_regs, 258);
            vms_profile_free(p);
            break;
        }
        assert_true(n_failed > 0);
        assert_nomem_error(&err, n);
    }
    assert_true(n < SWEEP_MAX);
}

/* The builtin layouts: a failed build latches NOMEM and the next lookup
 * builds them (the tables are complete: cpu@v22 has its subsections). */
static void test_builtin_nomem(void **state)
{
    const struct vms_vmsd *v;
    struct vms_error err;

    (void)state;
    vms_error_clear(&err);
    v = vms_builtin_vmsd("cpu@v22", &err);
    assert_non_null(v);
    assert_true(v->n_subs > 0);
    assert_false(vms_error_isset(&err));
    assert_null(vms_builtin_vmsd("no-such-device", &err));
    assert_false(vms_error_isset(&err));
}

/* The one way to move an error between latches. */
static void test_error_adopt(void **state)
{
    struct vms_error a, b;

    (void)state;
    vms_error_clear(&a);
    vms_error_clear(&b);
    assert_int_equal(vms_error_adopt(&a, &b), 0);   /* nothing to adopt */
    assert_false(vms_error_isset(&a));
    vms_error_set(&b, VMS_E_FORMAT, 42, "speculative");
    assert_int_equal(vms_error_adopt(&a, &b), -1);
    assert_int_equal(a.code, VMS_E_FORMAT);
    assert_true(a.has_offset);
    assert_int_equal(a.offset, 42);
    assert_string_equal(a.msg, "speculative");
    vms_error_clear(&b);
    vms_error_set_nooff(&b, VMS_E_NOMEM, "later");
    assert_int_equal(vms_error_adopt(&a, &b), -1);  /* first wins */
    assert_int_equal(a.code, VMS_E_FORMAT);
    assert_string_equal(a.msg, "speculative");
    assert_int_equal(vms_error_adopt(&a, &a), -1);
    assert_string_equal(a.msg, "speculative");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* first: the builtin layouts are built by this one */
        cmocka_unit_test(test_parse_novmdesc_nomem),
        cmocka_unit_test(test_parse_nomem),
        cmocka_unit_test(test_builtin_nomem),
        cmocka_unit_test(test_armcpu_nomem),
        cmocka_unit_test(test_check_nomem),
        cmocka_unit_test(test_profile_nomem),
        cmocka_unit_test(test_convert_nomem),
        cmocka_unit_test(test_error_adopt),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
