/*
 * test_sink.c - output files appear only when complete: while a file sink
 * is written the destination path holds nothing new (the bytes go to a
 * temporary file next to it), commit renames it into place, abort removes
 * the temporary file and leaves an existing file as it was; a compressed
 * sink reads back (through vms_src) as the bytes written.
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

#include "sink.h"
#include "src.h"
#include "testutil.h"

static char dir[] = "/tmp/vms-test-sink.XXXXXX";

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

static uint8_t *slurp(const char *path, size_t *len)
{
    struct vms_error err;
    struct vms_src *s;
    uint8_t *d;

    vms_error_clear(&err);
    s = vms_src_open_path(path, &err);
    assert_non_null(s);
    d = vms_src_slurp(s, 64u << 20, len);
    assert_non_null(d);
    vms_src_free(s);
    return d;
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    size_t i;

    for (i = 0; i < n; i++) {
        b[i] = (uint8_t)((i * 131u + seed) ^ (i >> 9));
    }
}

/* Number of entries in dir (besides . and ..). */
static int entries(void)
{
    char cmd[96];
    FILE *f;
    int n = -1;

    snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
    f = popen(cmd, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &n), 1);
    pclose(f);
    return n;
}

static void test_commit_renames(void **state)
{
    static uint8_t buf[300000];
    char path[128];
    struct vms_sink_opts o = { 0 };
    struct vms_error err;
    struct vms_sink *k;
    struct stat sb;
    const char *tmp;
    uint8_t *back;
    size_t len;

    (void)state;
    snprintf(path, sizeof(path), "%s/out.mig", dir);
    fill(buf, sizeof(buf), 1);
    vms_error_clear(&err);
    k = vms_sink_open(path, &o, &err);
    assert_non_null(k);
    tmp = vms_sink_temp_path(k);
    assert_non_null(tmp);
    assert_string_not_equal(tmp, path);
    assert_int_equal(strncmp(tmp, dir, strlen(dir)), 0);   /* same dir */
    assert_int_equal(vms_sink_write(k, buf, sizeof(buf), &err), 0);
    /* Not there yet: only the temporary file. */
    assert_int_equal(stat(path, &sb), -1);
    assert_int_equal(stat(tmp, &sb), 0);
    assert_int_equal(vms_sink_bytes(k), sizeof(buf));
    assert_int_equal(vms_sink_commit(k, &err), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, sizeof(buf));
    assert_int_equal(entries(), 1);
    back = slurp(path, &len);
    assert_int_equal(len, sizeof(buf));
    assert_memory_equal(back, buf, len);
    free(back);
    unlink(path);
}

static void test_abort_leaves_nothing(void **state)
{
    static uint8_t old[5000], buf[100000];
    char path[128], tmp[256];
    struct vms_sink_opts o = { 0 };
    struct vms_error err;
    struct vms_sink *k;
    struct stat sb;
    uint8_t *back;
    size_t len;
    FILE *f;

    (void)state;
    /* A file that must survive a failed conversion untouched. */
    snprintf(path, sizeof(path), "%s/keep.mig", dir);
    fill(old, sizeof(old), 7);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(old, 1, sizeof(old), f), sizeof(old));
    fclose(f);

    fill(buf, sizeof(buf), 2);
    vms_error_clear(&err);
    k = vms_sink_open(path, &o, &err);
    assert_non_null(k);
    snprintf(tmp, sizeof(tmp), "%s", vms_sink_temp_path(k));
    assert_int_equal(vms_sink_write(k, buf, sizeof(buf), &err), 0);
    assert_int_equal(stat(tmp, &sb), 0);
    assert_int_equal(entries(), 2);
    vms_sink_abort(k);
    assert_int_equal(stat(tmp, &sb), -1);
    assert_int_equal(entries(), 1);
    back = slurp(path, &len);
    assert_int_equal(len, sizeof(old));
    assert_memory_equal(back, old, len);
    free(back);

    /* No old file: an aborted sink leaves the directory empty. */
    unlink(path);
    k = vms_sink_open(path, &o, &err);
    assert_non_null(k);
    assert_int_equal(vms_sink_write(k, buf, 10, &err), 0);
    vms_sink_abort(k);
    assert_int_equal(entries(), 0);
}

/* A sink into a directory that does not exist fails with a message. */
static void test_open_fails(void **state)
{
    char path[160];
    struct vms_sink_opts o = { 0 };
    struct vms_error err;

    (void)state;
    snprintf(path, sizeof(path), "%s/no/such/dir/out.mig", dir);
    vms_error_clear(&err);
    assert_null(vms_sink_open(path, &o, &err));
    assert_true(vms_error_isset(&err));
    assert_true(err.msg[0] != '\0');
    assert_int_equal(entries(), 0);
}

static void round_trip(enum vms_compression comp)
{
    static uint8_t buf[1 << 20];
    char path[128];
    struct vms_sink_opts o = { 0 };
    struct vms_error err;
    struct vms_sink *k;
    uint8_t *back;
    size_t len, off;

    snprintf(path, sizeof(path), "%s/c.mig", dir);
    fill(buf, sizeof(buf), 3);
    memset(buf + 1000, 0, 200000);      /* something to compress */
    o.comp = comp;
    vms_error_clear(&err);
    k = vms_sink_open(path, &o, &err);
    assert_non_null(k);
    for (off = 0; off < sizeof(buf); off += 70001) {
        size_t n = sizeof(buf) - off < 70001 ? sizeof(buf) - off : 70001;

        assert_int_equal(vms_sink_write(k, buf + off, n, &err), 0);
    }
    assert_int_equal(vms_sink_commit(k, &err), 0);
    back = slurp(path, &len);
    assert_int_equal(len, sizeof(buf));
    assert_memory_equal(back, buf, len);
    free(back);
    unlink(path);
}

static void test_compressed_round_trip(void **state)
{
    (void)state;
    round_trip(VMS_COMP_GZIP);
    round_trip(VMS_COMP_ZSTD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_renames),
        cmocka_unit_test(test_abort_leaves_nothing),
        cmocka_unit_test(test_open_fails),
        cmocka_unit_test(test_compressed_round_trip),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
