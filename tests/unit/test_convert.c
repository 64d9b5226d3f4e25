/*
 * test_convert.c - the convert driver through the library API: a real
 * QEMU 7.2 stream converted v22 -> v23 -> v22 comes back byte for byte;
 * v22 -> v23 of a deterministic stream equals what the v23 build of QEMU
 * wrote for the same VM; a verifier that refuses leaves nothing at the
 * destination path.
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

#include "convert.h"
#include "error.h"
#include "sink.h"
#include "src.h"
#include "testutil.h"

static char dir[] = "/tmp/vms-test-convert.XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[64];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int refuse(void *opaque, const struct vms_armcpu *cpus, size_t n,
                  struct vms_error *err)
{
    (void)opaque;
    (void)cpus;
    vms_error_set_nooff(err, VMS_E_CONVERT, "refused by the test (%zu)", n);
    return -1;
}

/* Convert buf to layout `to`; the result (malloc'd) or NULL after a
 * refusal, with the error in *err. */
static uint8_t *convert(const uint8_t *buf, size_t len, int to, int refusing,
                        size_t *out_len, struct vms_convert_result *r,
                        struct vms_error *err)
{
    char path[128];
    struct vms_convert_opts o;
    struct vms_sink_opts so = { 0 };
    struct vms_sink *k;
    struct vms_src *src;
    struct stat sb;
    uint8_t *out = NULL;
    int rc;

    snprintf(path, sizeof(path), "%s/out.mig", dir);
    memset(&o, 0, sizeof(o));
    memset(r, 0, sizeof(*r));
    o.to_layout = to;
    if (refusing) {
        o.verify = refuse;
    }
    vms_error_clear(err);
    src = vms_src_open_mem(buf, len, 0, err);
    assert_non_null(src);
    k = vms_sink_open(path, &so, err);
    assert_non_null(k);
    rc = vms_convert(src, k, &o, r, err);
    if (rc == 0) {
        assert_int_equal(vms_sink_commit(k, err), 0);
        out = tu_load_path(path, out_len);
        unlink(path);
    } else {
        vms_sink_abort(k);
        assert_int_equal(stat(path, &sb), -1);
    }
    vms_src_free(src);
    return out;
}

static void test_round_trip(void **state)
{
    static const char *const vec[] = {
        "real-v22/aa64-virt72-cortex-a57-2cpu.mig.zst",
        "real-v22/arm-virt72-cortex-a15-2cpu.mig.zst",
        "real-v22/run-aa64-virt72-cortex-a57-2cpu-xbzrle.mig.zst",
        NULL,
    };
    size_t i;

    (void)state;
    for (i = 0; vec[i]; i++) {
        struct vms_convert_result r;
        struct vms_error err;
        size_t len, l23, l22;
        uint8_t *v22 = tu_load(vec[i], &len), *v23, *back;

        v23 = convert(v22, len, 23, 0, &l23, &r, &err);
        assert_non_null(v23);
        assert_int_equal(r.cpus, 2);
        assert_int_equal(r.converted, 2);
        assert_true(l23 > len);        /* each cpu section grew by 4 + 4N */
        assert_int_equal(r.out_bytes, l23);
        back = convert(v23, l23, 22, 0, &l22, &r, &err);
        assert_non_null(back);
        assert_int_equal(r.converted, 2);
        assert_int_equal(l22, len);
        assert_memory_equal(back, v22, len);
        /* Converting to the layout it has changes nothing. */
        free(back);
        back = convert(v22, len, 22, 0, &l22, &r, &err);
        assert_non_null(back);
        assert_int_equal(r.converted, 0);
        assert_int_equal(l22, len);
        assert_memory_equal(back, v22, len);
        free(back);
        free(v23);
        free(v22);
    }
}

/* The same VM saved by stock 7.2 and by the v23 build (deterministic:
 * same RAM, same timers): converting one gives the other's bytes. */
static void test_det_pair(void **state)
{
    struct vms_convert_result r;
    struct vms_error err;
    size_t l22, l23, lout;
    uint8_t *v22 = tu_load("real-v23/det-v22-stock/det-aa64-virt72-cortex-a57-2cpu.mig.zst", &l22);
    uint8_t *v23 = tu_load("real-v23/det-aa64-virt72-cortex-a57-2cpu.mig.zst", &l23);
    uint8_t *out;

    (void)state;
    out = convert(v22, l22, 23, 0, &lout, &r, &err);
    assert_non_null(out);
    assert_int_equal(lout, l23);
    assert_memory_equal(out, v23, l23);
    free(out);
    out = convert(v23, l23, 22, 0, &lout, &r, &err);
    assert_non_null(out);
    assert_int_equal(lout, l22);
    assert_memory_equal(out, v22, l22);
    free(out);
    free(v22);
    free(v23);
}

static void test_refused_writes_nothing(void **state)
{
    struct vms_convert_result r;
    struct vms_error err;
    size_t len, lout;
    uint8_t *v22 = tu_load("real-v22/aa64-virt72-cortex-a57-1cpu.mig.zst",
                           &len);

    (void)state;
    assert_null(convert(v22, len, 23, 1, &lout, &r, &err));
    assert_int_equal(err.code, VMS_E_CONVERT);
    assert_non_null(strstr(err.msg, "refused by the test (1)"));
    free(v22);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_det_pair),
        cmocka_unit_test(test_refused_writes_nothing),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
