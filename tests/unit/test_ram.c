/*
 * test_ram.c - the RAM record walker (stream/ram.c) on records built here
 * the way QEMU's ram.c writes them: the MEM_SIZE block list, then ZERO,
 * PAGE, COMPRESS_PAGE (zlib) and XBZRLE records, each handed to the page
 * observer with its bytes; and the records QEMU refuses, refused with the
 * offset of the record.  Then real streams: the xbzrle and compress
 * vectors count those pages.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "ram.h"
#include "src.h"
#include "stream.h"
#include "testutil.h"
#include "wire.h"

#define PS 4096u

struct rb {
    uint8_t b[4 * PS];
    size_t n;
};

static void u8(struct rb *r, uint8_t v)
{
    assert_true(r->n < sizeof(r->b));
    r->b[r->n++] = v;
}

static void be(struct rb *r, uint64_t v, int bytes)
{
    int i;

    for (i = bytes - 1; i >= 0; i--) {
        u8(r, (uint8_t)(v >> (8 * i)));
    }
}

static void bytes(struct rb *r, const void *p, size_t n)
{
    assert_true(r->n + n <= sizeof(r->b));
    memcpy(r->b + r->n, p, n);
    r->n += n;
}

static void name(struct rb *r, const char *s)
{
    u8(r, (uint8_t)strlen(s));
    bytes(r, s, strlen(s));
}

/* MEM_SIZE list: block "mem" of 4 pages, block "rom" of 1, EOS. */
static void setup_records(struct rb *r)
{
    be(r, 5 * PS | VMS_RAM_MEM_SIZE, 8);
    name(r, "mem");
    be(r, 4 * PS, 8);
    name(r, "rom");
    be(r, PS, 8);
    be(r, VMS_RAM_EOS, 8);
}

struct seen {
    int n;
    unsigned kind[8];
    uint64_t offset[8];
    size_t block[8];
    uint32_t len[8];
    uint8_t first[8], last[8], fill[8];
};

static int observe(void *opaque, const struct vms_ram_page *pg,
                   struct vms_error *err)
{
    struct seen *s = opaque;
    int i = s->n++;

    (void)err;
    assert_true(i < 8);
    s->kind[i] = pg->kind;
    s->offset[i] = pg->offset;
    s->block[i] = pg->block_index;
    s->len[i] = pg->len;
    s->fill[i] = pg->fill;
    if (pg->data && pg->len) {
        s->first[i] = pg->data[0];
        s->last[i] = pg->data[pg->len - 1];
    }
    return 0;
}

/* Run the setup section, then one section of records; returns its rc. */
static int run(const struct rb *recs, struct vms_stream *st,
               struct seen *seen, struct vms_error *err)
{
    struct rb setup = { .n = 0 };
    struct vms_ram_ctx c;
    struct vms_src *src;
    int rc;

    setup_records(&setup);
    vms_stream_init(st);
    vms_error_clear(err);
    vms_ram_ctx_init(&c, PS);
    c.page_fn = observe;
    c.page_opaque = seen;
    memset(seen, 0, sizeof(*seen));
    src = vms_src_open_mem(setup.b, setup.n, 0, err);
    assert_non_null(src);
    assert_int_equal(vms_ram_section(src, st, &c, err), 0);
    vms_src_free(src);
    assert_int_equal(st->n_blocks, 2);
    src = vms_src_open_mem(recs->b, recs->n, 0, err);
    assert_non_null(src);
    rc = vms_ram_section(src, st, &c, err);
    vms_src_free(src);
    vms_ram_ctx_fini(&c);
    return rc;
}

static void test_page_kinds(void **state)
{
    static struct rb r;
    uint8_t page[PS], z[PS + 64];
    uLongf zlen = sizeof(z);
    struct vms_stream st;
    struct vms_error err;
    struct seen s;
    const uint8_t delta[] = { 0x00, 0x02, 0x11, 0x22, 0x10, 0x01, 0x33 };

    (void)state;
    r.n = 0;
    /* zero page, fill 0, block "mem" page 0 */
    be(&r, 0 | VMS_RAM_ZERO, 8);
    name(&r, "mem");
    u8(&r, 0);
    /* full page of 0xab at mem+1 page, same block (CONTINUE) */
    be(&r, PS | VMS_RAM_PAGE | VMS_RAM_CONTINUE, 8);
    memset(page, 0xab, sizeof(page));
    bytes(&r, page, PS);
    /* compressed page of 0xcd at mem+2 pages */
    memset(page, 0xcd, sizeof(page));
    assert_int_equal(compress(z, &zlen, page, PS), Z_OK);
    be(&r, 2 * PS | VMS_RAM_COMPRESS_PAGE | VMS_RAM_CONTINUE, 8);
    be(&r, zlen, 4);
    bytes(&r, z, zlen);
    /* XBZRLE delta at mem+1 page: 2 bytes changed, 16 equal, 1 changed */
    be(&r, PS | VMS_RAM_XBZRLE | VMS_RAM_CONTINUE, 8);
    u8(&r, VMS_XBZRLE_ENCODING);
    be(&r, sizeof(delta), 2);
    bytes(&r, delta, sizeof(delta));
    /* zero page filled with 0x5a in block "rom" */
    be(&r, 0 | VMS_RAM_ZERO, 8);
    name(&r, "rom");
    u8(&r, 0x5a);
    be(&r, VMS_RAM_EOS, 8);

    assert_int_equal(run(&r, &st, &s, &err), 0);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.kind[0], VMS_RAM_ZERO);
    assert_int_equal(s.offset[0], 0);
    assert_int_equal(s.len[0], 0);
    assert_int_equal(s.fill[0], 0);
    assert_int_equal(s.kind[1], VMS_RAM_PAGE);
    assert_int_equal(s.offset[1], PS);
    assert_int_equal(s.len[1], PS);
    assert_int_equal(s.first[1], 0xab);
    assert_int_equal(s.last[1], 0xab);
    assert_int_equal(s.kind[2], VMS_RAM_COMPRESS_PAGE);
    assert_int_equal(s.offset[2], 2 * PS);
    assert_int_equal(s.len[2], PS);       /* handed over inflated */
    assert_int_equal(s.first[2], 0xcd);
    assert_int_equal(s.last[2], 0xcd);
    assert_int_equal(s.kind[3], VMS_RAM_XBZRLE);
    assert_int_equal(s.len[3], sizeof(delta));
    assert_int_equal(s.first[3], 0x00);
    assert_int_equal(s.kind[4], VMS_RAM_ZERO);
    assert_int_equal(s.block[4], 1);
    assert_int_equal(s.fill[4], 0x5a);
    assert_int_equal(st.blocks[0].zero, 1);
    assert_int_equal(st.blocks[0].normal, 1);
    assert_int_equal(st.blocks[0].compressed, 1);
    assert_int_equal(st.blocks[0].xbzrle, 1);
    assert_int_equal(st.blocks[1].zero, 1);
    assert_int_equal(st.ram_records, 5);
    vms_stream_fini(&st);
}

/* One bad record after a good zero page: the error and its offset. */
static void expect_refused(const struct rb *bad, const char *text,
                           uint64_t off)
{
    static struct rb r;
    struct vms_stream st;
    struct vms_error err;
    struct seen s;

    r.n = 0;
    be(&r, 0 | VMS_RAM_ZERO, 8);
    name(&r, "mem");
    u8(&r, 0);
    bytes(&r, bad->b, bad->n);
    be(&r, VMS_RAM_EOS, 8);
    assert_int_equal(run(&r, &st, &s, &err), -1);
    assert_true(vms_error_isset(&err));
    if (!strstr(err.msg, text)) {
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, text);
    }
    assert_true(err.has_offset);
    assert_int_equal(err.offset, 8 + 4 + 1 + off);
    vms_stream_fini(&st);
}

static void test_refused(void **state)
{
    static struct rb b;
    uint8_t page[PS], z[PS + 64];
    uLongf zlen = sizeof(z);
    const uint8_t bad_delta[] = { 0x00, 0x10, 1, 2, 3 };   /* run past len */

    (void)state;
    b.n = 0;
    be(&b, 4 * PS | VMS_RAM_PAGE | VMS_RAM_CONTINUE, 8);
    expect_refused(&b, "beyond block", 0);

    b.n = 0;
    be(&b, 0 | VMS_RAM_ZERO, 8);
    name(&b, "nosuch");
    u8(&b, 0);
    expect_refused(&b, "unknown block", 0);

    b.n = 0;
    memset(page, 0xcd, sizeof(page));
    assert_int_equal(compress(z, &zlen, page, PS / 2), Z_OK);
    be(&b, PS | VMS_RAM_COMPRESS_PAGE | VMS_RAM_CONTINUE, 8);
    be(&b, zlen, 4);
    bytes(&b, z, zlen);
    expect_refused(&b, "does not inflate to one page", 12);

    b.n = 0;
    be(&b, PS | VMS_RAM_COMPRESS_PAGE | VMS_RAM_CONTINUE, 8);
    be(&b, 0, 4);
    expect_refused(&b, "Invalid compressed data length", 0);

    b.n = 0;
    be(&b, PS | VMS_RAM_XBZRLE | VMS_RAM_CONTINUE, 8);
    u8(&b, 2);
    be(&b, 1, 2);
    u8(&b, 0);
    expect_refused(&b, "XBZRLE page: encoding 2", 0);

    b.n = 0;
    be(&b, PS | VMS_RAM_XBZRLE | VMS_RAM_CONTINUE, 8);
    u8(&b, VMS_XBZRLE_ENCODING);
    be(&b, sizeof(bad_delta), 2);
    bytes(&b, bad_delta, sizeof(bad_delta));
    expect_refused(&b, "XBZRLE data does not decode", 11);

    b.n = 0;
    be(&b, PS | VMS_RAM_HOOK, 8);
    expect_refused(&b, "RDMA", 0);
}

/* The walker on real QEMU 7.2 streams: xbzrle and compress counted. */
static void count_real(const char *rel, uint64_t *xbzrle, uint64_t *compr,
                       uint64_t *zero, uint64_t *normal)
{
    struct vms_stream st;
    struct vms_error err;
    struct vms_src *src;
    size_t len, i;
    uint8_t *buf = tu_load(rel, &len);

    vms_error_clear(&err);
    vms_stream_init(&st);
    src = vms_src_open_mem(buf, len, 0, &err);
    assert_non_null(src);
    assert_int_equal(vms_stream_parse(src, NULL, &st, &err), 0);
    *xbzrle = *compr = *zero = *normal = 0;
    for (i = 0; i < st.n_blocks; i++) {
        *xbzrle += st.blocks[i].xbzrle;
        *compr += st.blocks[i].compressed;
        *zero += st.blocks[i].zero;
        *normal += st.blocks[i].normal;
    }
    vms_stream_fini(&st);
    vms_src_free(src);
    free(buf);
}

static void test_real_streams(void **state)
{
    uint64_t x, c, z, n;

    (void)state;
    count_real("real-v22/run-aa64-virt72-cortex-a57-2cpu-xbzrle.mig.zst",
               &x, &c, &z, &n);
    assert_true(x > 0);
    assert_int_equal(c, 0);
    count_real("real-v22/aa64-virt72-cortex-a57-1cpu-compress.mig.zst",
               &x, &c, &z, &n);
    assert_int_equal(x, 0);
    assert_true(c > 0);
    count_real("real-v22/aa64-virt72-cortex-a57-1cpu.mig.zst", &x, &c, &z, &n);
    assert_int_equal(x, 0);
    assert_int_equal(c, 0);
    assert_true(z > 0 && n > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_kinds),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_real_streams),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
