#include "config.h"
#include "testutil.h"

#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <cmocka.h>

const char *tu_vectors_dir(void)
{
    const char *v = getenv("VECTORS");

    return v && *v ? v : TOP_SRCDIR "/tests/vectors";
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, k;

    if (!f) {
        fail_msg("cannot open %s", path);
    }
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 20;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        k = fread(buf + n, 1, cap - n, f);
        n += k;
    } while (k > 0);
    fclose(f);
    *len = n;
    return buf;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static uint8_t *unzstd(uint8_t *in, size_t in_len, size_t *len)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    size_t cap = 1 << 22, n = 0;
    uint8_t *out = malloc(cap);
    ZSTD_inBuffer ib = { in, in_len, 0 };

    assert_non_null(ds);
    ZSTD_DCtx_setParameter(ds, ZSTD_d_windowLogMax, 31);
    while (ib.pos < ib.size) {
        ZSTD_outBuffer ob;
        size_t rc;

        if (n == cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        ob.dst = out + n;
        ob.size = cap - n;
        ob.pos = 0;
        rc = ZSTD_decompressStream(ds, &ob, &ib);
        assert_false(ZSTD_isError(rc));
        n += ob.pos;
    }
    ZSTD_freeDStream(ds);
    free(in);
    *len = n;
    return out;
}

static uint8_t *ungzip(uint8_t *in, size_t in_len, size_t *len)
{
    z_stream zs;
    size_t cap = 1 << 22;
    uint8_t *out = malloc(cap);
    int rc;

    memset(&zs, 0, sizeof(zs));
    assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = in;
    zs.avail_in = (uInt)in_len;
    do {
        if (zs.total_out == cap) {
            cap *= 2;
            out = realloc(out, cap);
        }
        zs.next_out = out + zs.total_out;
        zs.avail_out = (uInt)(cap - zs.total_out);
        rc = inflate(&zs, Z_NO_FLUSH);
        assert_true(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
    } while (rc != Z_STREAM_END);
    *len = zs.total_out;
    inflateEnd(&zs);
    free(in);
    return out;
}

uint8_t *tu_load_path(const char *path, size_t *len)
{
    size_t n;
    uint8_t *buf = read_all(path, &n);

    if (ends_with(path, ".zst")) {
        return unzstd(buf, n, len);
    }
    if (ends_with(path, ".gz")) {
        return ungzip(buf, n, len);
    }
    *len = n;
    return buf;
}

uint8_t *tu_load(const char *relpath, size_t *len)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", tu_vectors_dir(), relpath);
    return tu_load_path(path, len);
}

char **tu_glob(const char *pattern, size_t *n)
{
    char path[4096];
    glob_t g;
    char **out;
    size_t i, skip = strlen(tu_vectors_dir()) + 1;

    snprintf(path, sizeof(path), "%s/%s", tu_vectors_dir(), pattern);
    if (glob(path, 0, NULL, &g) != 0) {
        fail_msg("no vector matches %s", path);
    }
    out = calloc(g.gl_pathc + 1, sizeof(*out));
    for (i = 0; i < g.gl_pathc; i++) {
        out[i] = strdup(g.gl_pathv[i] + skip);
    }
    *n = g.gl_pathc;
    globfree(&g);
    return out;
}

void tu_free_list(char **list)
{
    size_t i;

    for (i = 0; list && list[i]; i++) {
        free(list[i]);
    }
    free(list);
}

int tu_find_vmdesc(const uint8_t *d, size_t len, size_t *json_off,
                   size_t *json_len)
{
    size_t p;

    for (p = len >= 6 ? len - 6 : 0; p > 0; p--) {
        uint32_t l;

        if (d[p] != 0x06 || d[p - 1] != 0x00 || d[p + 5] != '{') {
            continue;
        }
        l = ((uint32_t)d[p + 1] << 24) | ((uint32_t)d[p + 2] << 16) |
            ((uint32_t)d[p + 3] << 8) | d[p + 4];
        if ((size_t)l == len - p - 5) {
            *json_off = p + 5;
            *json_len = l;
            return 0;
        }
    }
    return -1;
}

char *tu_write_temp(const uint8_t *buf, size_t len)
{
    char *path = strdup("/tmp/vmstream-test-XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    close(fd);
    return path;
}
