/*
 * test_src.c - byte sources: one stream read raw, gzip'd and zstd'd gives
 * the same bytes; libvirt save images (raw, gzip and zstd payloads, either
 * byte order, the incomplete "Part" magic, unsupported formats); cut and
 * corrupted gzip/zstd; peek/consume/offset bookkeeping across refills on a
 * pipe fed in 1-, 7- and 4093-byte writes (libarchive's read_open_memory
 * idea), on files and on memory; the tee forwards exactly the consumed
 * bytes; hash_begin/hash_end is XXH3_64bits of the consumed bytes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>
#include <zstd.h>
#include <cmocka.h>

#include "error.h"
#include "libvirt.h"
#include "src.h"
#include "src_impl.h"      /* VMS_SRC_MAP_WINDOW */
#include "stream.h"
#include "testutil.h"
#include "wire.h"

#define STREAM "real-v22/aa64-virt72-cortex-a57-2cpu"

/* The decompressed stream (reference bytes) and its compressed files. */
static uint8_t *ref;
static size_t ref_len;
static uint8_t *gz, *zs;
static size_t gz_len, zs_len;
static char *raw;              /* the reference bytes in a temporary file */

static uint8_t *read_file(const char *rel, size_t *len)
{
    char path[4096];
    FILE *f;
    uint8_t *b;
    long n;

    snprintf(path, sizeof(path), "%s/%s", tu_vectors_dir(), rel);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    b = malloc((size_t)n);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    ref = tu_load(STREAM ".mig.zst", &ref_len);
    gz = read_file(STREAM ".mig.gz", &gz_len);
    zs = read_file(STREAM ".mig.zst", &zs_len);
    assert_int_equal(ref_len, 729227);
    raw = tu_write_temp(ref, ref_len);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(raw);
    free(raw);
    free(ref);
    free(gz);
    free(zs);
    return 0;
}

static void fail_err(const char *what, const struct vms_error *err)
{
    char msg[800];

    vms_error_format(err, msg, sizeof(msg));
    fail_msg("%s: %s (%s)", what, msg, vms_status_name(err->code));
}

static struct vms_src *open_path_ok(const char *path, struct vms_error *err)
{
    struct vms_src *s;

    vms_error_clear(err);
    s = vms_src_open_path(path, err);
    if (!s) {
        fail_err(path, err);
    }
    return s;
}

/* vms_src_open_path() on a temporary file holding d[0, len); the file is
 * gone again before this returns (the source keeps its fd). */
static struct vms_src *open_temp(const uint8_t *d, size_t len,
                                 struct vms_error *err)
{
    char *path = tu_write_temp(d, len);
    struct vms_src *s;

    vms_error_clear(err);
    s = vms_src_open_path(path, err);
    unlink(path);
    free(path);
    return s;
}

static struct vms_src *open_temp_ok(const uint8_t *d, size_t len,
                                    struct vms_error *err)
{
    struct vms_src *s = open_temp(d, len, err);

    if (!s) {
        fail_err("temporary file", err);
    }
    return s;
}

/* ---- pipes: a child writes the bytes in fixed-size chunks --------------- */

struct pipe_src {
    struct vms_src *src;
    pid_t pid;
};

static void open_pipe(struct pipe_src *p, const uint8_t *d, size_t len,
                      size_t chunk, struct vms_error *err)
{
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        close(fds[0]);
        while (len > 0) {
            size_t k = len < chunk ? len : chunk;
            ssize_t w = write(fds[1], d, k);

            if (w <= 0) {
                _exit(1);
            }
            d += w;
            len -= (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    vms_error_clear(err);
    p->src = vms_src_open_fd(fds[0], 1, err);
    if (!p->src) {
        fail_err("pipe", err);
    }
}

/* Free the source (closing the read end) and reap the writer; a writer
 * that could write everything exits 0. */
static int close_pipe(struct pipe_src *p)
{
    int status = 0;

    vms_src_free(p->src);
    assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* ---- a random walk through a source ------------------------------------- */

static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/*
 * One random operation at ref offset *off (stream offset base + *off):
 * peek (up to VMS_PEEK_MAX) then consume part, read, skip, get_u8/16/32/64,
 * or take everything buffered; consuming at most `max` bytes.  Every byte
 * and offset is checked.
 */
static void one_op(struct vms_src *s, const uint8_t *d, size_t len,
                   uint64_t base, size_t *off, uint64_t *seed, uint8_t *buf,
                   size_t max)
{
    size_t rest = len - *off, left = rest < max ? rest : max, n, avail = 0;
    const uint8_t *p;
    unsigned op = rnd(seed) % 16;
    /* mostly small steps, sometimes large ones (beyond VMS_PEEK_MAX) */
    size_t big = rnd(seed) % 8 == 0 ? 300000 : 3000;

    if (op >= 8 && op <= 11) {
        op -= 4;               /* the getters twice as often */
    }
    assert_int_equal(vms_src_offset(s), base + *off);
    switch (op) {
    case 0:
    case 1:
    case 2:
        n = op == 0 ? 1 + rnd(seed) % VMS_PEEK_MAX
                    : (op == 1 ? VMS_PEEK_MAX : 1 + rnd(seed) % 64);
        p = vms_src_peek(s, n, &avail);
        if (n <= rest) {
            assert_non_null(p);
            assert_true(avail >= n);
            assert_memory_equal(p, d + *off, n);
        } else {
            assert_null(p);
            assert_int_equal(avail, rest);
        }
        n = rnd(seed) % ((n < left ? n : left) + 1) % big;
        vms_src_consume(s, n);
        *off += n;
        break;
    case 3:
    case 12:
        n = 1 + rnd(seed) % big;
        if (n > left) {
            n = left;
        }
        assert_int_equal(vms_src_read(s, buf, n, "test bytes"), 0);
        assert_memory_equal(buf, d + *off, n);
        *off += n;
        break;
    case 13:
    case 14:
        n = rnd(seed) % big;
        if (n > left) {
            n = left;
        }
        assert_int_equal(vms_src_skip(s, n, "test skip"), 0);
        *off += n;
        break;
    case 4:
        if (left >= 1) {
            uint8_t v;

            assert_int_equal(vms_src_get_u8(s, &v, "u8"), 0);
            assert_int_equal(v, d[*off]);
            *off += 1;
        }
        break;
    case 5:
        if (left >= 2) {
            uint16_t v;

            assert_int_equal(vms_src_get_be16(s, &v, "be16"), 0);
            assert_int_equal(v, vms_get_be16(d + *off));
            *off += 2;
        }
        break;
    case 6:
        if (left >= 4) {
            uint32_t v;

            assert_int_equal(vms_src_get_be32(s, &v, "be32"), 0);
            assert_int_equal(v, vms_get_be32(d + *off));
            *off += 4;
        }
        break;
    case 7:
        if (left >= 8) {
            uint64_t v;

            assert_int_equal(vms_src_get_be64(s, &v, "be64"), 0);
            assert_int_equal(v, vms_get_be64(d + *off));
            *off += 8;
        }
        break;
    default:
        /* 15: everything buffered right now (at most max) */
        if (left == 0) {
            break;
        }
        p = vms_src_peek(s, 1, &avail);
        if (!p) {
            fail_msg("peek at %zu of %zu (offset %llu, avail %zu)", *off,
                     len, (unsigned long long)vms_src_offset(s), avail);
        }
        assert_true(avail >= 1 && avail <= rest);
        assert_memory_equal(p, d + *off, avail);
        n = avail < left ? avail : left;
        vms_src_consume(s, n);
        *off += n;
        break;
    }
    assert_false(vms_error_isset(vms_src_error(s)));
    assert_int_equal(vms_src_offset(s), base + *off);
}

/* The end: nothing left, and reading on is a VMS_E_TRUNCATED error at the
 * end offset that names what was being read. */
static void check_end(struct vms_src *s, size_t len, uint64_t base)
{
    struct vms_error *err = vms_src_error(s);
    size_t avail = 99;
    uint32_t v;
    uint8_t b[4];

    assert_true(vms_src_at_end(s));
    assert_null(vms_src_peek(s, 1, &avail));
    assert_int_equal(avail, 0);
    assert_int_equal(vms_src_offset(s), base + len);
    assert_false(vms_error_isset(err));
    assert_int_equal(vms_src_get_be32(s, &v, "the last word"), -1);
    assert_int_equal(err->code, VMS_E_TRUNCATED);
    assert_true(err->has_offset);
    assert_int_equal(err->offset, base + len);
    assert_non_null(strstr(err->msg, "the last word"));
    /* the first error stays */
    assert_int_equal(vms_src_read(s, b, 4, "more"), -1);
    assert_non_null(strstr(err->msg, "the last word"));
}

static void walk_all(struct vms_src *s, const uint8_t *d, size_t len,
                     uint64_t base, uint64_t seed)
{
    size_t off = 0, ops = 0;
    uint8_t *buf = malloc(300000);

    assert_non_null(buf);
    while (off < len) {
        one_op(s, d, len, base, &off, &seed, buf, SIZE_MAX);
        ops++;
    }
    assert_true(ops > 0 || len == 0);
    free(buf);
    check_end(s, len, base);
}

/* Read everything with vms_src_read in changing chunk sizes. */
static void read_all_chunks(struct vms_src *s, const uint8_t *d, size_t len)
{
    static const size_t sizes[] = { 1, 3, 4096, 65536, 200000, 7, 131072 };
    uint8_t *buf = malloc(200000);
    size_t off = 0, k = 0;

    assert_non_null(buf);
    while (off < len) {
        size_t n = sizes[k++ % 7];

        if (n > len - off) {
            n = len - off;
        }
        if (vms_src_read(s, buf, n, "chunk") != 0) {
            fail_err("read", vms_src_error(s));
        }
        assert_memory_equal(buf, d + off, n);
        off += n;
        assert_int_equal(vms_src_offset(s), off);
    }
    free(buf);
    check_end(s, len, 0);
}

/* ---- 1. raw, gzip, zstd: the same bytes --------------------------------- */

static void test_same_bytes(void **state)
{
    char path[4096];
    struct vms_error err;
    struct vms_src *s;
    int fd;

    (void)state;
    s = open_path_ok(raw, &err);
    assert_int_equal(vms_src_compression(s), VMS_COMP_NONE);
    assert_false(vms_src_libvirt(s)->present);
    read_all_chunks(s, ref, ref_len);
    assert_int_equal(vms_src_raw_offset(s), ref_len);
    vms_src_free(s);

    snprintf(path, sizeof(path), "%s/%s.mig.gz", tu_vectors_dir(), STREAM);
    s = open_path_ok(path, &err);
    assert_int_equal(vms_src_compression(s), VMS_COMP_GZIP);
    assert_false(vms_src_libvirt(s)->present);
    read_all_chunks(s, ref, ref_len);
    assert_int_equal(vms_src_raw_offset(s), gz_len);
    vms_src_free(s);

    snprintf(path, sizeof(path), "%s/%s.mig.zst", tu_vectors_dir(), STREAM);
    s = open_path_ok(path, &err);
    assert_int_equal(vms_src_compression(s), VMS_COMP_ZSTD);
    read_all_chunks(s, ref, ref_len);
    assert_int_equal(vms_src_raw_offset(s), zs_len);
    vms_src_free(s);

    /* the gzip'd-by-QEMU stream is the same kind of thing */
    snprintf(path, sizeof(path), "%s/%s-qemugzip.mig.gz", tu_vectors_dir(),
             STREAM);
    s = open_path_ok(path, &err);
    assert_int_equal(vms_src_compression(s), VMS_COMP_GZIP);
    {
        uint32_t magic;

        assert_int_equal(vms_src_get_be32(s, &magic, "magic"), 0);
        assert_int_equal(magic, VMS_FILE_MAGIC);
    }
    vms_src_free(s);

    /* memory, with a base offset */
    s = vms_src_open_mem(ref, ref_len, 0, &err);
    assert_non_null(s);
    assert_int_equal(vms_src_compression(s), VMS_COMP_NONE);
    read_all_chunks(s, ref, ref_len);
    vms_src_free(s);

    /* an fd the caller keeps */
    fd = open(raw, O_RDONLY);
    assert_true(fd >= 0);
    vms_error_clear(&err);
    s = vms_src_open_fd(fd, 0, &err);
    assert_non_null(s);
    read_all_chunks(s, ref, ref_len);
    vms_src_free(s);
    assert_true(fcntl(fd, F_GETFD) != -1);      /* still open */
    close(fd);

    /* a missing file */
    vms_error_clear(&err);
    assert_null(vms_src_open_path("/nonexistent/vmstream/x.mig", &err));
    assert_int_equal(err.code, VMS_E_IO);
    assert_int_equal(err.sys_errno, ENOENT);
    assert_true(err.msg[0] != '\0');
}

/* Concatenated gzip members and zstd frames, and zstd frames without a
 * checksum (libzstd's default), around the buffer sizes. */
static uint8_t *gzip_of(const uint8_t *d, size_t len, size_t *out_len)
{
    z_stream z;
    size_t cap = compressBound((uLong)len) + 64;
    uint8_t *o = malloc(cap);

    assert_non_null(o);
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)d;
    z.avail_in = (uInt)len;
    z.next_out = o;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);
    return o;
}

static uint8_t *zstd_of(const uint8_t *d, size_t len, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(len);
    uint8_t *o = malloc(cap);

    assert_non_null(o);
    *out_len = ZSTD_compress(o, cap, d, len, 3);
    assert_false(ZSTD_isError(*out_len));
    return o;
}

static void test_members_and_frames(void **state)
{
    static const size_t sizes[] = { 1, 4095, 131072, 131073, 524287, 524288,
                                    524289, 700001 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i], a = n / 3, l1, l2, l3, l4;
        uint8_t *g1 = gzip_of(ref, a, &l1), *g2 = gzip_of(ref + a, n - a, &l2);
        uint8_t *z1 = zstd_of(ref, a, &l3), *z2 = zstd_of(ref + a, n - a, &l4);
        uint8_t *cat = malloc(l1 + l2 + l3 + l4);
        struct vms_error err;
        struct vms_src *s;
        struct pipe_src p;

        assert_non_null(cat);
        /* two gzip members */
        memcpy(cat, g1, l1);
        memcpy(cat + l1, g2, l2);
        s = open_temp_ok(cat, l1 + l2, &err);
        assert_int_equal(vms_src_compression(s), VMS_COMP_GZIP);
        read_all_chunks(s, ref, n);
        vms_src_free(s);
        /* two zstd frames (no checksum), from a file and a pipe */
        memcpy(cat, z1, l3);
        memcpy(cat + l3, z2, l4);
        s = open_temp_ok(cat, l3 + l4, &err);
        assert_int_equal(vms_src_compression(s), VMS_COMP_ZSTD);
        read_all_chunks(s, ref, n);
        vms_src_free(s);
        open_pipe(&p, cat, l3 + l4, 4093, &err);
        walk_all(p.src, ref, n, 0, 77 + i);
        assert_int_equal(close_pipe(&p), 0);
        free(g1);
        free(g2);
        free(z1);
        free(z2);
        free(cat);
    }
}

/* ---- 2. libvirt save images --------------------------------------------- */

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) |
           (v << 24);
}

#define LV_HDR 92u
#define LV_XML "<domain type='kvm'>\n  <name>vmstream-test</name>\n</domain>\n"

/* virQEMUSaveHeader: magic[16], version, data_len, was_running, format,
 * cookieOffset, unused[14] (host byte order, or swapped), then data_len
 * bytes of XML + NUL padding, then the payload. */
static uint8_t *libvirt_image(const char *magic, uint32_t version,
                              uint32_t format, uint32_t data_len, int swap,
                              const uint8_t *payload, size_t plen,
                              size_t *len)
{
    uint32_t f[6] = { version, data_len, 1, format, 0, 0 };
    uint8_t *img = calloc(1, LV_HDR + data_len + plen);
    size_t i;

    assert_non_null(img);
    assert_true(data_len >= sizeof(LV_XML));
    memcpy(img, magic, 16);
    for (i = 0; i < 5; i++) {
        uint32_t v = swap ? bswap32(f[i]) : f[i];

        memcpy(img + 16 + 4 * i, &v, 4);
    }
    memcpy(img + LV_HDR, LV_XML, strlen(LV_XML));
    memcpy(img + LV_HDR + data_len, payload, plen);
    *len = LV_HDR + data_len + plen;
    return img;
}

static void parse_ok(struct vms_src *s, struct vms_stream *st,
                     const char *what)
{
    struct vms_error *err = vms_src_error(s);

    vms_stream_init(st);
    if (vms_stream_parse(s, NULL, st, err) != 0) {
        fail_err(what, err);
    }
    assert_int_equal(st->total_len, ref_len);
    assert_true(st->has_eof);
    assert_true(st->has_vmdesc);
}

static void same_sections(const struct vms_stream *a,
                          const struct vms_stream *b)
{
    size_t i;

    assert_int_equal(a->n_sections, b->n_sections);
    for (i = 0; i < a->n_sections; i++) {
        assert_int_equal(a->sections[i].offset, b->sections[i].offset);
        assert_int_equal(a->sections[i].length, b->sections[i].length);
        assert_int_equal(a->sections[i].xxh3, b->sections[i].xxh3);
    }
}

static void test_libvirt(void **state)
{
    static const struct {
        uint32_t format;
        int payload;           /* 0 raw, 1 gzip, 2 zstd */
        int swap;
        enum vms_compression comp;
    } t[] = {
        { 0, 0, 0, VMS_COMP_NONE }, { 5, 2, 0, VMS_COMP_ZSTD },
        { 1, 1, 0, VMS_COMP_GZIP }, { 0, 0, 1, VMS_COMP_NONE },
        { 5, 2, 1, VMS_COMP_ZSTD },
    };
    struct vms_stream want;
    struct vms_error err;
    struct vms_src *s;
    size_t i;

    (void)state;
    vms_error_clear(&err);
    s = vms_src_open_mem(ref, ref_len, 0, &err);
    assert_non_null(s);
    parse_ok(s, &want, "plain");
    vms_src_free(s);

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        const uint8_t *pl = t[i].payload == 0 ? ref
                            : t[i].payload == 1 ? gz : zs;
        size_t plen = t[i].payload == 0 ? ref_len
                      : t[i].payload == 1 ? gz_len : zs_len;
        uint32_t data_len = 4096 + 7 * (uint32_t)i;
        size_t len;
        uint8_t *img = libvirt_image("LibvirtQemudSave", 2, t[i].format,
                                     data_len, t[i].swap, pl, plen, &len);
        const struct vms_libvirt_header *h;
        struct vms_stream st;
        struct pipe_src p;
        int pass;

        for (pass = 0; pass < 2; pass++) {
            if (pass == 0) {
                s = open_temp_ok(img, len, &err);
            } else {
                /* the header sniffed from a pipe, 7 bytes at a time */
                open_pipe(&p, img, len, 7, &err);
                s = p.src;
            }
            h = vms_src_libvirt(s);
            assert_true(h->present);
            assert_int_equal(h->version, 2);
            assert_int_equal(h->data_len, data_len);
            assert_int_equal(h->was_running, 1);
            assert_int_equal(h->format, t[i].format);
            assert_int_equal(h->swapped, t[i].swap);
            assert_int_equal(h->raw_len, LV_HDR + data_len);
            assert_non_null(h->raw);
            assert_memory_equal(h->raw, img, LV_HDR + data_len);
            assert_int_equal(vms_src_compression(s), t[i].comp);
            /* offsets are those of the QEMU stream inside */
            assert_int_equal(vms_src_offset(s), 0);
            parse_ok(s, &st, pass ? "libvirt image (pipe)"
                                  : "libvirt image (file)");
            same_sections(&want, &st);
            assert_int_equal(vms_src_raw_offset(s), len);
            vms_stream_fini(&st);
            if (pass == 0) {
                vms_src_free(s);
            } else {
                assert_int_equal(close_pipe(&p), 0);
            }
        }
        free(img);
    }

    /* "LibvirtQemudPart": an image libvirt never finished */
    {
        size_t len;
        uint8_t *img = libvirt_image("LibvirtQemudPart", 2, 0, 4096, 0, ref,
                                     ref_len, &len);
        assert_null(open_temp(img, len, &err));
        assert_int_equal(err.code, VMS_E_FORMAT);
        assert_non_null(strstr(err.msg, "LibvirtQemudPart"));
        free(img);
    }
    /* a header that names xz (3) before a raw stream */
    {
        size_t len;
        uint8_t *img = libvirt_image("LibvirtQemudSave", 2, 3, 4096, 0, ref,
                                     ref_len, &len);
        assert_null(open_temp(img, len, &err));
        assert_int_equal(err.code, VMS_E_FORMAT);
        assert_non_null(strstr(err.msg, "format 3 (xz)"));
        free(img);
        /* a format code we cannot read (6 = sparse, mapped-ram) */
        img = libvirt_image("LibvirtQemudSave", 2, 6, 4096, 0, ref, ref_len,
                            &len);
        assert_null(open_temp(img, len, &err));
        assert_int_equal(err.code, VMS_E_UNSUPPORTED);
        assert_true(err.msg[0] != '\0');
        /* the XML cut short */
        assert_null(open_temp(img, LV_HDR + 100, &err));
        assert_int_equal(err.code, VMS_E_TRUNCATED);
        /* the header cut short */
        assert_null(open_temp(img, 50, &err));
        assert_int_equal(err.code, VMS_E_TRUNCATED);
        free(img);
    }
    /* a version libvirt never wrote */
    {
        size_t len;
        uint8_t *img = libvirt_image("LibvirtQemudSave", 0, 0, 4096, 0, ref,
                                     ref_len, &len);
        assert_null(open_temp(img, len, &err));
        assert_int_equal(err.code, VMS_E_FORMAT);
        free(img);
    }
    vms_stream_fini(&want);
}

/* ---- 3. cut and corrupted gzip / zstd ----------------------------------- */

/* Read the whole source; return the error code (VMS_OK if it all came
 * out without one).  *prefix says whether what came out is a prefix of
 * the reference (a cut file can only give a prefix; a corrupted one may
 * give garbage before its check value fails). */
static enum vms_status drain(const uint8_t *file, size_t flen,
                             uint64_t *err_off, size_t *got, int *prefix)
{
    struct vms_error err;
    struct vms_src *s;
    enum vms_status st = VMS_OK;
    size_t off = 0;

    *prefix = 1;
    s = open_temp(file, flen, &err);
    if (s) {
        for (;;) {
            size_t avail;
            const uint8_t *p = vms_src_peek(s, 1, &avail);

            if (!p) {
                break;
            }
            if (off + avail > ref_len || memcmp(p, ref + off, avail) != 0) {
                *prefix = 0;
            }
            vms_src_consume(s, avail);
            off += avail;
            assert_true(off < 16 * ref_len);
        }
        vms_src_free(s);
    }
    if (vms_error_isset(&err)) {
        st = err.code;
        assert_true(err.msg[0] != '\0');
        assert_true(err.has_offset);
        *err_off = err.offset;
    }
    *got = off;
    return st;
}

static void test_cut_and_corrupt(void **state)
{
    static const double cuts[] = { 0.001, 0.25, 0.5, 0.999 };
    const uint8_t *files[2] = { gz, zs };
    size_t lens[2] = { gz_len, zs_len }, f, i;

    (void)state;
    for (f = 0; f < 2; f++) {
        const char *kind = f ? "zstd" : "gzip";
        uint64_t off = 0;
        size_t got = 0, flen = lens[f];
        uint8_t *bad = malloc(flen);
        enum vms_status st;
        int prefix;

        assert_non_null(bad);
        /* whole: all of it */
        assert_int_equal(drain(files[f], flen, &off, &got, &prefix), VMS_OK);
        assert_int_equal(got, ref_len);
        assert_true(prefix);
        /* cut: VMS_E_TRUNCATED after the decoded bytes that came out */
        for (i = 0; i < 4; i++) {
            size_t cut = (size_t)((double)flen * cuts[i]);

            st = drain(files[f], cut, &off, &got, &prefix);
            if (st != VMS_E_TRUNCATED) {
                fail_msg("%s cut at %zu of %zu: %s", kind, cut, flen,
                         vms_status_name(st));
            }
            assert_true(prefix);
            assert_true(got < ref_len);
            assert_int_equal(off, got);
        }
        /* the last byte (gzip: ISIZE; zstd: the checksum) missing: all
         * the data came out, but the end was not seen */
        st = drain(files[f], flen - 1, &off, &got, &prefix);
        assert_int_equal(st, VMS_E_TRUNCATED);
        assert_true(prefix);
        /* corrupt in the middle of the compressed data */
        memcpy(bad, files[f], flen);
        for (i = flen / 2; i < flen / 2 + 16; i++) {
            bad[i] ^= 0x5a;
        }
        st = drain(bad, flen, &off, &got, &prefix);
        if (st != VMS_E_FORMAT) {
            fail_msg("%s corrupted: %s", kind, vms_status_name(st));
        }
        /* corrupt check value: gzip CRC32 (8 bytes from the end), zstd
         * XXH64 content checksum (the last 4 bytes) */
        memcpy(bad, files[f], flen);
        bad[flen - (f ? 2 : 6)] ^= 0x01;
        st = drain(bad, flen, &off, &got, &prefix);
        if (st != VMS_E_FORMAT) {
            fail_msg("%s bad checksum: %s", kind, vms_status_name(st));
        }
        /* everything before the check value was right */
        assert_true(prefix);
        free(bad);
    }
    /* a parse of a cut compressed stream is VMS_E_TRUNCATED too */
    {
        struct vms_error err;
        struct vms_src *s = open_temp_ok(zs, zs_len / 2, &err);
        struct vms_stream st;

        vms_stream_init(&st);
        assert_int_equal(vms_stream_parse(s, NULL, &st, &err), -1);
        assert_int_equal(err.code, VMS_E_TRUNCATED);
        vms_stream_fini(&st);
        vms_src_free(s);
    }
}

/* ---- 4. bookkeeping across refills -------------------------------------- */

static void test_pipe_chunks(void **state)
{
    static const size_t chunks[] = { 1, 7, 4093 };
    size_t c;

    (void)state;
    for (c = 0; c < 3; c++) {
        struct pipe_src p;
        struct vms_error err;
        /* 1-byte writes: the first 300000 bytes are plenty */
        size_t n = chunks[c] == 1 ? 300000 : ref_len;

        open_pipe(&p, ref, n, chunks[c], &err);
        assert_int_equal(vms_src_compression(p.src), VMS_COMP_NONE);
        walk_all(p.src, ref, n, 0, 1000 + c);
        assert_int_equal(close_pipe(&p), 0);

        /* compressed bytes in the same chunks */
        open_pipe(&p, gz, gz_len, chunks[c], &err);
        assert_int_equal(vms_src_compression(p.src), VMS_COMP_GZIP);
        walk_all(p.src, ref, ref_len, 0, 2000 + c);
        assert_int_equal(close_pipe(&p), 0);

        open_pipe(&p, zs, zs_len, chunks[c], &err);
        assert_int_equal(vms_src_compression(p.src), VMS_COMP_ZSTD);
        walk_all(p.src, ref, ref_len, 0, 3000 + c);
        assert_int_equal(close_pipe(&p), 0);
    }
}

static void test_mem_and_file_walk(void **state)
{
    struct vms_error err;
    struct vms_src *s;
    uint64_t seed;

    (void)state;
    for (seed = 1; seed <= 3; seed++) {
        vms_error_clear(&err);
        s = vms_src_open_mem(ref, ref_len, 5000, &err);
        assert_non_null(s);
        walk_all(s, ref, ref_len, 5000, seed);
        vms_src_free(s);

        s = open_path_ok(raw, &err);
        walk_all(s, ref, ref_len, 0, seed + 10);
        vms_src_free(s);
    }
    /* a source shorter than what is asked for */
    vms_error_clear(&err);
    s = vms_src_open_mem(ref, 3, 100, &err);
    assert_non_null(s);
    {
        uint32_t v;
        size_t avail;

        assert_null(vms_src_peek(s, 4, &avail));
        assert_int_equal(avail, 3);
        assert_int_equal(vms_src_get_be32(s, &v, "a word"), -1);
        assert_int_equal(err.code, VMS_E_TRUNCATED);
        assert_int_equal(err.offset, 103);
        assert_non_null(strstr(err.msg, "a word"));
        assert_int_equal(vms_src_offset(s), 100);
    }
    vms_src_free(s);
    /* vms_src_read cut after some bytes: the error is at the end */
    vms_error_clear(&err);
    s = vms_src_open_mem(ref, 1000, 0, &err);
    assert_non_null(s);
    {
        uint8_t buf[2000];

        assert_int_equal(vms_src_skip(s, 10, "x"), 0);
        assert_int_equal(vms_src_read(s, buf, 1500, "a block"), -1);
        assert_int_equal(err.code, VMS_E_TRUNCATED);
        assert_int_equal(err.offset, 1000);
        assert_non_null(strstr(err.msg, "a block"));
    }
    vms_src_free(s);
    /* skip past the end */
    vms_error_clear(&err);
    s = vms_src_open_mem(ref, 1000, 0, &err);
    assert_non_null(s);
    assert_int_equal(vms_src_skip(s, 1001, "a skip"), -1);
    assert_int_equal(err.code, VMS_E_TRUNCATED);
    assert_int_equal(err.offset, 1000);
    vms_src_free(s);
    /* slurp: all of it, or a limit error */
    vms_error_clear(&err);
    s = open_path_ok(raw, &err);
    {
        size_t len = 0;
        uint8_t *all;

        assert_int_equal(vms_src_skip(s, 100, "x"), 0);
        all = vms_src_slurp(s, ref_len, &len);
        assert_non_null(all);
        assert_int_equal(len, ref_len - 100);
        assert_memory_equal(all, ref + 100, len);
        free(all);
        assert_true(vms_src_at_end(s));
    }
    vms_src_free(s);
    s = open_path_ok(raw, &err);
    {
        size_t len = 0;

        assert_null(vms_src_slurp(s, 300000, &len));
        assert_int_equal(err.code, VMS_E_LIMIT);
    }
    vms_src_free(s);
}

/* ---- 5. the tee --------------------------------------------------------- */

struct tee_buf {
    uint8_t *d;
    size_t len, cap, calls;
    size_t fail_at;            /* fail once len would pass this (0: never) */
};

static int tee_cb(void *opaque, const uint8_t *buf, size_t len,
                  struct vms_error *err)
{
    struct tee_buf *t = opaque;

    assert_true(len > 0);
    if (t->fail_at && t->len + len > t->fail_at) {
        vms_error_set_nooff(err, VMS_E_IO, "tee: no space left");
        return -1;
    }
    if (t->len + len > t->cap) {
        t->cap = (t->len + len) * 2;
        t->d = realloc(t->d, t->cap);
        assert_non_null(t->d);
    }
    memcpy(t->d + t->len, buf, len);
    t->len += len;
    t->calls++;
    return 0;
}

/* Consume until the offset reaches at least `to` (random operations). */
static void walk_to(struct vms_src *s, size_t to, size_t *off,
                    uint64_t *seed, uint8_t *buf)
{
    if (to > ref_len) {
        to = ref_len;
    }
    if (*off >= to) {
        return;
    }
    while (*off < to) {
        one_op(s, ref, ref_len, 0, off, seed, buf, to - *off);
    }
    assert_int_equal(*off, to);
}

static void tee_run(struct vms_src *s, uint64_t seed, int is_mem)
{
    struct tee_buf t = { NULL, 0, 0, 0, 0 };
    uint8_t *buf = malloc(300000), *want = malloc(ref_len);
    size_t off = 0, wlen = 0, a, b, avail, r;

    assert_true(buf && want);
    /* from the start */
    vms_src_set_tee(s, tee_cb, &t);
    walk_to(s, 50000, &off, &seed, buf);
    assert_int_equal(vms_src_tee_flush(s), 0);
    assert_int_equal(t.len, off);
    assert_memory_equal(t.d, ref, off);
    /* peeked but not consumed bytes are not forwarded */
    assert_non_null(vms_src_peek(s, VMS_PEEK_MAX, NULL));
    assert_int_equal(vms_src_tee_flush(s), 0);
    assert_int_equal(t.len, off);
    /* a refill forwards what was consumed before it (no explicit flush):
     * take everything buffered, then ask for one more byte */
    if (!is_mem) {
        vms_src_peek(s, 1, &avail);
        vms_src_consume(s, avail);
        off += avail;
        assert_true(off < ref_len);
        assert_true(t.len < off);
        assert_non_null(vms_src_peek(s, 1, &avail));
        assert_int_equal(t.len, off);
    }
    assert_int_equal(vms_src_tee_flush(s), 0);
    assert_int_equal(t.len, off);
    memcpy(want, ref, off);
    wlen = off;
    r = ref_len - off;
    assert_true(r > 100000);
    /* paused: nothing forwarded */
    walk_to(s, off + r / 10, &off, &seed, buf);
    assert_int_equal(vms_src_tee_pause(s), 0);
    memcpy(want + wlen, ref + wlen, off - wlen);
    wlen = off;
    assert_int_equal(t.len, wlen);
    assert_memory_equal(t.d, want, wlen);
    a = off;
    walk_to(s, off + r / 3, &off, &seed, buf);
    assert_int_equal(vms_src_tee_flush(s), 0);
    assert_int_equal(t.len, wlen);
    /* resumed here */
    vms_src_tee_resume(s);
    b = off;
    assert_true(b > a);
    walk_to(s, ref_len - r / 10, &off, &seed, buf);
    assert_int_equal(vms_src_tee_flush(s), 0);
    memcpy(want + wlen, ref + b, off - b);
    wlen += off - b;
    assert_int_equal(t.len, wlen);
    assert_memory_equal(t.d, want, wlen);
    /* off again: the rest is not forwarded */
    vms_src_set_tee(s, NULL, NULL);
    walk_to(s, ref_len, &off, &seed, buf);
    assert_int_equal(vms_src_tee_flush(s), 0);
    assert_int_equal(t.len, wlen);
    assert_true(t.calls >= 3);
    free(t.d);
    free(buf);
    free(want);
}

static void test_tee(void **state)
{
    struct vms_error err;
    struct pipe_src p;
    struct vms_src *s;

    (void)state;
    open_pipe(&p, ref, ref_len, 4093, &err);
    tee_run(p.src, 11, 0);
    assert_int_equal(close_pipe(&p), 0);

    open_pipe(&p, zs, zs_len, 7, &err);
    tee_run(p.src, 12, 0);
    assert_int_equal(close_pipe(&p), 0);

    /* a regular file this small is a single map window: like memory */
    s = open_path_ok(raw, &err);
    tee_run(s, 13, 1);
    vms_src_free(s);

    s = vms_src_open_mem(ref, ref_len, 0, &err);
    assert_non_null(s);
    tee_run(s, 14, 1);
    vms_src_free(s);

    /* a failing tee stops the reading, with its own error */
    {
        struct tee_buf t = { NULL, 0, 0, 0, 200000 };
        uint8_t *buf = malloc(ref_len);
        int rc = 0;
        size_t off = 0;

        assert_non_null(buf);
        s = open_path_ok(raw, &err);
        vms_src_set_tee(s, tee_cb, &t);
        while (off < ref_len && rc == 0) {
            size_t n = ref_len - off < 4096 ? ref_len - off : 4096;

            rc = vms_src_read(s, buf, n, "x");
            off += n;
        }
        if (rc == 0) {
            rc = vms_src_tee_flush(s);
        }
        assert_int_equal(rc, -1);
        assert_int_equal(err.code, VMS_E_IO);
        assert_non_null(strstr(err.msg, "no space left"));
        assert_true(t.len <= 200000);
        assert_memory_equal(t.d, ref, t.len);
        vms_src_free(s);
        free(t.d);
        free(buf);
    }

    /* the parser's tee: every byte before the device state, no more */
    {
        struct tee_buf t = { NULL, 0, 0, 0, 0 };
        struct vms_parse_opts o;
        struct vms_stream_observer ob;
        struct vms_stream st;

        memset(&o, 0, sizeof(o));
        memset(&ob, 0, sizeof(ob));
        ob.consumed = tee_cb;
        ob.opaque = &t;
        o.observer = &ob;
        open_pipe(&p, zs, zs_len, 4093, &err);
        vms_stream_init(&st);
        if (vms_stream_parse(p.src, &o, &st, &err) != 0) {
            fail_err("parse with tee", &err);
        }
        assert_true(st.region_offset > 600000);
        assert_int_equal(t.len, st.region_offset);
        assert_memory_equal(t.d, ref, t.len);
        vms_stream_fini(&st);
        assert_int_equal(close_pipe(&p), 0);
        free(t.d);
    }
}

/* ---- 6. the hash -------------------------------------------------------- */

static void hash_run(struct vms_src *s, uint64_t seed)
{
    uint8_t *buf = malloc(300000);
    size_t off = 0, from, r;
    uint64_t h;

    assert_non_null(buf);
    /* nothing consumed: the hash of no bytes */
    vms_src_hash_begin(s);
    assert_int_equal(vms_src_hash_end(s), XXH3_64bits(ref, 0));
    for (r = 0; r < 6; r++) {
        size_t to;

        walk_to(s, off + rnd(&seed) % 5000, &off, &seed, buf);
        to = off + 1 + rnd(&seed) % (r == 3 ? 400000 : 60000);
        from = off;
        vms_src_hash_begin(s);
        walk_to(s, to, &off, &seed, buf);
        /* peeked bytes after the range do not count */
        vms_src_peek(s, 1000, NULL);
        h = vms_src_hash_end(s);
        assert_int_equal(h, XXH3_64bits(ref + from, off - from));
        /* not hashing any more: the same value again after reading on */
        if (off < ref_len) {
            walk_to(s, off + 1, &off, &seed, buf);
        }
        if (off >= ref_len) {
            break;
        }
    }
    /* the whole rest */
    from = off;
    vms_src_hash_begin(s);
    walk_to(s, ref_len, &off, &seed, buf);
    assert_int_equal(vms_src_hash_end(s), XXH3_64bits(ref + from,
                                                      ref_len - from));
    free(buf);
}

static void test_hash(void **state)
{
    struct vms_error err;
    struct pipe_src p;
    struct vms_src *s;
    char path[4096];

    (void)state;
    open_pipe(&p, ref, ref_len, 4093, &err);
    hash_run(p.src, 21);
    assert_int_equal(close_pipe(&p), 0);

    open_pipe(&p, ref, 400000, 1, &err);
    {
        uint8_t *buf = malloc(300000);
        size_t off = 0;
        uint64_t seed = 22;

        assert_non_null(buf);
        vms_src_hash_begin(p.src);
        while (off < 400000) {
            one_op(p.src, ref, 400000, 0, &off, &seed, buf, SIZE_MAX);
        }
        assert_int_equal(vms_src_hash_end(p.src), XXH3_64bits(ref, 400000));
        free(buf);
    }
    assert_int_equal(close_pipe(&p), 0);

    snprintf(path, sizeof(path), "%s/%s.mig.zst", tu_vectors_dir(), STREAM);
    s = open_path_ok(path, &err);
    hash_run(s, 23);
    vms_src_free(s);

    s = vms_src_open_mem(ref, ref_len, 0, &err);
    assert_non_null(s);
    hash_run(s, 24);
    vms_src_free(s);

    /* the whole stream in one go == the section hashes' basis */
    s = open_path_ok(path, &err);
    vms_src_hash_begin(s);
    assert_int_equal(vms_src_skip(s, ref_len, "all"), 0);
    assert_int_equal(vms_src_hash_end(s), XXH3_64bits(ref, ref_len));
    vms_src_free(s);
}

/* ---- 7. regular files: read through a sliding mapping -------------------- */

/* A file bigger than several map windows (src_impl.h), walked with every
 * kind of operation, so records straddle window edges at many offsets;
 * then the same from an fd positioned inside the file (stdin redirected
 * from a file that was partly read), and a hash across windows. */
static void test_mapped_windows(void **state)
{
    size_t len = 3 * VMS_SRC_MAP_WINDOW + 123457, off, i;
    uint8_t *d = malloc(len), *buf = malloc(300000);
    uint64_t seed = 31;
    struct vms_error err;
    struct vms_src *s;
    char *path;
    int fd;

    (void)state;
    assert_non_null(d);
    assert_non_null(buf);
    for (i = 0; i < len; i++) {
        d[i] = (uint8_t)(rnd(&seed) >> 8);
    }
    d[0] = 'Q';             /* no compression magic */
    path = tu_write_temp(d, len);

    for (seed = 40; seed < 43; seed++) {
        s = open_path_ok(path, &err);
        off = 0;
        while (off < len) {
            one_op(s, d, len, 0, &off, &seed, buf, SIZE_MAX);
        }
        check_end(s, len, 0);
        vms_src_free(s);
    }

    s = open_path_ok(path, &err);
    vms_src_hash_begin(s);
    assert_int_equal(vms_src_skip(s, len, "all"), 0);
    assert_int_equal(vms_src_hash_end(s), XXH3_64bits(d, len));
    assert_int_equal(vms_src_raw_offset(s), len);
    vms_src_free(s);

    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(lseek(fd, 777777, SEEK_SET), 777777);
    vms_error_clear(&err);
    s = vms_src_open_fd(fd, 1, &err);
    assert_non_null(s);
    read_all_chunks(s, d + 777777, len - 777777);
    vms_src_free(s);

    /* a tee forwards every byte once across window changes */
    {
        struct tee_buf t = { NULL, 0, 0, 0, 0 };

        s = open_path_ok(path, &err);
        vms_src_set_tee(s, tee_cb, &t);
        off = 0;
        seed = 50;
        while (off < len) {
            one_op(s, d, len, 0, &off, &seed, buf, SIZE_MAX);
        }
        assert_int_equal(vms_src_tee_flush(s), 0);
        assert_int_equal(t.len, len);
        assert_memory_equal(t.d, d, len);
        vms_src_free(s);
        free(t.d);
    }
    unlink(path);
    free(path);
    free(buf);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes),
        cmocka_unit_test(test_members_and_frames),
        cmocka_unit_test(test_libvirt),
        cmocka_unit_test(test_cut_and_corrupt),
        cmocka_unit_test(test_pipe_chunks),
        cmocka_unit_test(test_mem_and_file_walk),
        cmocka_unit_test(test_tee),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_mapped_windows),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
