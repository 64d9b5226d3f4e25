/*
 * test_truncate.c - every kind of cut of a real stream is an error, never
 * a crash: at and around every section boundary, inside the header and
 * the configuration section (every byte), inside RAM records (block name,
 * zero-page fill byte, the 4096 bytes of a PAGE), inside the cpu sections'
 * cpreg arrays, tail fields and subsections (v22, and v23 from a second
 * stream), inside the EOF/vmdesc trailer; then every byte of the last
 * 2000 and every 997th byte of the whole file.  Runs under ASan/UBSan.
 *
 * Each cut must fail with VMS_E_TRUNCATED at an offset between the start
 * of the record that was cut (the cut itself for a cut between records)
 * and the cut, with a message.  VMS_E_FORMAT is accepted nowhere: every
 * prefix here is a prefix of a valid stream, so no byte before the cut is
 * wrong; the only thing wrong is that the input ends, which is what
 * VMS_E_TRUNCATED means (error.h: "input ended inside a record").  That
 * holds also where the parser has to guess (after the cut the vmdesc is
 * gone, so device sections are walked with builtin layouts or delimited
 * by their footers): the guess may fail, but then because bytes are
 * missing.  One prefix is not an error at all: the cut right after the
 * QEMU_VM_EOF byte leaves a complete stream without its vmdesc trailer,
 * which QEMU itself writes (postcopy, suppress-vmdesc) and loads.
 *
 * A failing test lists its bad cuts (up to 30) before it fails.
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

#include "armcpu.h"
#include "error.h"
#include "src.h"
#include "stream.h"
#include "testutil.h"
#include "wire.h"

/* The stream every cut is taken from, and a v23 one for the v23 layout
 * of the cpu section. */
static const char *const vectors[2] = {
    "real-v22/aa64-virt72-cortex-a57-2cpu.mig.zst",
    "real-v23/aa64-virt72-cortex-a57-2cpu.mig.zst",
};

static struct subject {
    uint8_t *d;
    size_t len;
    struct vms_stream st;      /* its full parse */
} subj[2];

/* The one in use: bytes, length, full parse (a shallow copy). */
static uint8_t *data;
static size_t data_len;
static struct vms_stream full;

static void use(int i)
{
    data = subj[i].d;
    data_len = subj[i].len;
    full = subj[i].st;
}

/* Every bad cut of a test is listed (the first 30), then the test fails:
 * one run shows the whole pattern of a regression. */
static size_t n_bad;

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void bad(const char *fmt, ...)
{
    va_list ap;
    char buf[1200];

    if (n_bad++ >= 30) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    print_error("%s\n", buf);
}

static void no_bad_cuts(void)
{
    size_t n = n_bad;

    n_bad = 0;
    if (n) {
        fail_msg("%zu bad cut(s)", n);
    }
}

static int setup(void **state)
{
    struct vms_error err;
    struct vms_src *src;
    int i;

    (void)state;
    for (i = 0; i < 2; i++) {
        struct subject *s = &subj[i];

        s->d = tu_load(vectors[i], &s->len);
        vms_error_clear(&err);
        src = vms_src_open_mem(s->d, s->len, 0, &err);
        assert_non_null(src);
        vms_stream_init(&s->st);
        assert_int_equal(vms_stream_parse(src, NULL, &s->st, &err), 0);
        assert_int_equal(s->st.total_len, s->len);
        assert_true(s->st.has_eof);
        assert_true(s->st.has_vmdesc);
        vms_src_free(src);
    }
    use(0);
    return 0;
}

static int teardown(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < 2; i++) {
        vms_stream_fini(&subj[i].st);
        free(subj[i].d);
    }
    return 0;
}

/* Parse data[0, cut); returns rc, the error in *err. */
static int parse_prefix(size_t cut, struct vms_error *err,
                        struct vms_stream *st)
{
    struct vms_src *src;
    int rc;

    vms_error_clear(err);
    src = vms_src_open_mem(data, cut, 0, err);
    assert_non_null(src);
    vms_stream_init(st);
    rc = vms_stream_parse(src, NULL, st, err);
    vms_src_free(src);
    return rc;
}

static void describe_err(const struct vms_error *err, char *buf, size_t len)
{
    char msg[700];

    vms_error_format(err, msg, sizeof(msg));
    snprintf(buf, len, "%s: %s", vms_status_name(err->code), msg);
}

/* The prefix that ends right after the EOF byte is a valid stream. */
static int is_valid_prefix(size_t cut)
{
    return cut == full.eof_offset + 1;
}

static void expect_valid_prefix(size_t cut)
{
    struct vms_error err;
    struct vms_stream st;
    char m[800];

    if (parse_prefix(cut, &err, &st) != 0) {
        describe_err(&err, m, sizeof(m));
        bad("cut %zu (right after QEMU_VM_EOF): %s", cut, m);
    } else if (!st.has_eof || st.has_vmdesc || st.total_len != cut ||
               st.n_sections != full.n_sections) {
        bad("cut %zu (right after QEMU_VM_EOF): eof %d vmdesc %d, %llu "
            "bytes, %zu sections", cut, st.has_eof, st.has_vmdesc,
            (unsigned long long)st.total_len, st.n_sections);
    }
    vms_stream_fini(&st);
}

/*
 * A cut at `cut` inside (or at the end of) the record that starts at lo:
 * the parse fails with VMS_E_TRUNCATED at an offset in [lo, cut].
 */
static void expect_cut(size_t cut, size_t lo, const char *what)
{
    struct vms_error err;
    struct vms_stream st;
    char m[800];
    int rc;

    assert_true(lo <= cut);
    assert_true(cut < data_len);
    if (is_valid_prefix(cut)) {
        expect_valid_prefix(cut);
        return;
    }
    rc = parse_prefix(cut, &err, &st);
    vms_stream_fini(&st);
    describe_err(&err, m, sizeof(m));
    if (rc >= 0) {
        bad("cut at %zu (%s): parse succeeded", cut, what);
    } else if (err.code != VMS_E_TRUNCATED) {
        bad("cut at %zu (%s): expected VMS_E_TRUNCATED, got %s", cut, what,
            m);
    } else if (!err.has_offset || err.offset > cut || err.offset < lo) {
        bad("cut at %zu (%s, record at %zu): error offset %s%llu: %s", cut,
            what, lo, err.has_offset ? "" : "(none) ",
            (unsigned long long)err.offset, m);
    } else if (err.msg[0] == '\0') {
        bad("cut at %zu (%s): empty error message", cut, what);
    }
}

/* Sweeps: an error (never success, never a crash) at or before the cut. */
static void expect_error(size_t cut)
{
    struct vms_error err;
    struct vms_stream st;
    char m[800];
    int rc;

    if (is_valid_prefix(cut)) {
        expect_valid_prefix(cut);
        return;
    }
    rc = parse_prefix(cut, &err, &st);
    vms_stream_fini(&st);
    describe_err(&err, m, sizeof(m));
    if (rc >= 0) {
        bad("cut at %zu: parse succeeded", cut);
    } else if (!vms_error_isset(&err) || err.msg[0] == '\0' ||
               m[0] == '\0') {
        bad("cut at %zu: no error message", cut);
    } else if (!err.has_offset) {
        bad("cut at %zu: error without an offset: %s", cut, m);
    } else if (err.offset > cut) {
        bad("cut at %zu: error offset %llu is past the cut: %s", cut,
            (unsigned long long)err.offset, m);
    } else if (err.code != VMS_E_TRUNCATED) {
        bad("cut at %zu: expected VMS_E_TRUNCATED, got %s", cut, m);
    }
}

/* ---- section boundaries ------------------------------------------------- */

static void test_section_boundaries(void **state)
{
    size_t i;

    (void)state;
    use(0);
    for (i = 0; i < full.n_sections; i++) {
        const struct vms_section *s = &full.sections[i];
        size_t off = (size_t)s->offset, body = (size_t)s->body_offset;
        size_t foot = body + (size_t)s->body_len;
        size_t end = off + (size_t)s->length;

        /* at the boundary: nothing of this section is there */
        expect_cut(off, off, "at a section start");
        /* the type byte only; inside the header; the header only */
        expect_cut(off + 1, off, "after the section type byte");
        expect_cut(off + 3, off, "inside the section id");
        expect_cut(body - 1, off, "last header byte missing");
        expect_cut(body, off, "header without body");
        expect_cut(body + 1, off, "one body byte");
        expect_cut(body + (foot - body) / 2, off, "middle of the body");
        expect_cut(foot - 1, off, "last body byte missing");
        /* body complete, footer missing or cut */
        expect_cut(foot, off, "before the footer");
        expect_cut(foot + 1, off, "footer type byte only");
        expect_cut(foot + 4, off, "footer id cut");
        if (end < data_len) {
            expect_cut(end, end, "at a section end");
        }
    }
    /* EOF byte missing */
    expect_cut((size_t)full.eof_offset, (size_t)full.eof_offset,
               "before QEMU_VM_EOF");
    no_bad_cuts();
}

/* ---- header and configuration: every byte ------------------------------- */

static void test_header_and_config(void **state)
{
    size_t first = (size_t)full.sections[0].offset, cut;

    (void)state;
    use(0);
    /* 8 header bytes, 0x07 + be32 8 + "virt-7.2", the target-page-bits
     * subsection (0x05, 30, name, be32 version, be32 12): 61 bytes */
    assert_int_equal(first, 61);
    assert_int_equal(data[8], VMS_REC_CONFIG);
    assert_int_equal(data[21], VMS_REC_SUBSECTION);
    for (cut = 0; cut <= first; cut++) {
        size_t lo;

        if (cut == 0 || cut == 8 || cut == first) {
            lo = cut;               /* between records */
        } else if (cut < 8) {
            lo = 0;                 /* inside the file header */
        } else {
            lo = 8;                 /* inside the configuration */
        }
        expect_cut(cut, lo, cut < 8 ? "file header" : "configuration");
    }
    no_bad_cuts();
}

/* ---- RAM records -------------------------------------------------------- */

struct ram_rec {
    size_t off;        /* record header */
    size_t data;       /* after header and block name */
    unsigned flags;
    int named;
};

/* Walk the RAM sections (this test's own reader) and find the first PAGE
 * and ZERO records with and without a block name, and the MEM_SIZE list;
 * count the records as a check of the walk. */
static void find_ram(struct ram_rec *page, struct ram_rec *page_cont,
                     struct ram_rec *zero, size_t *memsize)
{
    size_t i, zeros = 0, pages = 0;

    memset(page, 0, sizeof(*page));
    memset(page_cont, 0, sizeof(*page_cont));
    memset(zero, 0, sizeof(*zero));
    *memsize = 0;
    for (i = 0; i < full.n_sections; i++) {
        const struct vms_section *s = &full.sections[i];
        size_t p = (size_t)s->body_offset;

        if (strcmp(s->idstr, "ram") != 0) {
            continue;
        }
        for (;;) {
            uint64_t w = vms_get_be64(data + p);
            unsigned flags = (unsigned)(w & 0xfff);
            struct ram_rec r = { p, p + 8, flags, 0 };

            p += 8;
            if (flags & VMS_RAM_EOS) {
                break;
            }
            if (flags & VMS_RAM_MEM_SIZE) {
                uint64_t total = w & ~(uint64_t)0xfff, sum = 0;

                *memsize = r.off;
                while (sum < total) {
                    p += 1 + data[p];
                    sum += vms_get_be64(data + p);
                    p += 8;
                }
                continue;
            }
            if (!(flags & VMS_RAM_CONTINUE)) {
                r.named = 1;
                p += 1 + data[p];
                r.data = p;
            }
            if ((flags & ~VMS_RAM_CONTINUE) == VMS_RAM_ZERO) {
                zeros++;
                if (!zero->off) {
                    *zero = r;
                }
                p += 1;
            } else if ((flags & ~VMS_RAM_CONTINUE) == VMS_RAM_PAGE) {
                pages++;
                if (r.named && !page->off) {
                    *page = r;
                }
                if (!r.named && !page_cont->off) {
                    *page_cont = r;
                }
                p += 4096;
            } else {
                fail_msg("unexpected RAM flags 0x%x at %zu", flags, r.off);
            }
        }
        assert_int_equal(p, s->body_offset + s->body_len);
    }
    assert_int_equal(zeros, 40991);
    assert_int_equal(pages, 67);
    assert_true(page->off && page_cont->off && zero->off && *memsize);
}

static void test_ram_records(void **state)
{
    struct ram_rec page, cont, zero;
    size_t memsize, k;

    (void)state;
    use(0);
    find_ram(&page, &cont, &zero, &memsize);

    /* the first PAGE with a block name */
    expect_cut(page.off + 4, page.off, "PAGE record header");
    expect_cut(page.off + 8, page.off, "PAGE: before the block name");
    expect_cut(page.off + 9, page.off, "PAGE: inside the block name");
    expect_cut(page.data, page.off, "PAGE: before the page data");
    expect_cut(page.data + 1, page.off, "PAGE: one data byte");
    expect_cut(page.data + 2048, page.off, "PAGE: middle of the data");
    expect_cut(page.data + 4095, page.off, "PAGE: last data byte missing");
    /* a PAGE that continues its block */
    expect_cut(cont.data, cont.off, "continued PAGE: no data");
    for (k = 1; k < 4096; k += 511) {
        expect_cut(cont.data + k, cont.off, "continued PAGE: inside data");
    }
    /* the first ZERO record: name and fill byte */
    expect_cut(zero.off + 8, zero.off, "ZERO: before the block name");
    expect_cut(zero.data - 1, zero.off, "ZERO: block name cut");
    expect_cut(zero.data, zero.off, "ZERO: fill byte missing");
    /* MEM_SIZE: the block list of the setup section */
    for (k = 1; k < 60; k += 7) {
        expect_cut(memsize + 8 + k, memsize, "MEM_SIZE block list");
    }
    no_bad_cuts();
}

/* ---- cpu sections ------------------------------------------------------- */

static void cpu_cuts(int layout)
{
    size_t i, cpus = 0;

    for (i = 0; i < full.n_sections; i++) {
        const struct vms_section *s = &full.sections[i];
        struct vms_armcpu c;
        struct vms_error err;
        size_t off = (size_t)s->offset, k;

        if (strcmp(s->idstr, "cpu") != 0) {
            continue;
        }
        cpus++;
        vms_error_clear(&err);
        assert_int_equal(vms_armcpu_from_section(s, &c, &err), 0);
        assert_int_equal(c.layout, layout);
        assert_int_equal(c.n, 258);
        expect_cut((size_t)c.n_offset, off, "before cpreg_vmstate_array_len");
        expect_cut((size_t)c.n_offset + 2, off, "inside the array length");
        if (layout == 23) {
            expect_cut((size_t)c.m_offset, off, "before value_array_len");
            expect_cut((size_t)c.m_offset + 3, off, "inside value_array_len");
        }
        expect_cut((size_t)c.ids_offset, off, "before the cpreg indexes");
        for (k = 0; k < (size_t)c.n * 8; k += 8 * 37 + 3) {
            expect_cut((size_t)c.ids_offset + k, off, "cpreg indexes");
        }
        expect_cut((size_t)c.values_offset - 1, off, "last index byte");
        expect_cut((size_t)c.values_offset, off, "before the cpreg values");
        for (k = 1; k < (size_t)c.m * 8; k += 8 * 41 + 5) {
            expect_cut((size_t)c.values_offset + k, off, "cpreg values");
        }
        if (layout == 23) {
            expect_cut((size_t)c.vidx_offset, off, "before value_indexes");
            for (k = 1; k < (size_t)c.n * 4; k += 4 * 29 + 1) {
                expect_cut((size_t)c.vidx_offset + k, off, "value_indexes");
            }
        }
        expect_cut((size_t)c.tail_offset - 1, off, "last cpreg byte");
        expect_cut((size_t)c.tail_offset, off, "before the tail fields");
        expect_cut((size_t)c.tail_offset + 33, off, "inside the tail");
        expect_cut((size_t)c.subs_offset, off, "before the subsections");
        expect_cut((size_t)c.subs_offset + 1, off, "subsection header");
        expect_cut((size_t)c.subs_offset + 5, off, "subsection name");
        expect_cut((size_t)c.subs_offset + 100, off, "inside cpu/vfp");
        expect_cut((size_t)c.end_offset - 20, off, "cpu/irq-line-state");
        expect_cut((size_t)c.end_offset - 1, off, "last subsection byte");
        expect_cut((size_t)c.end_offset, off, "before the footer");
        expect_cut((size_t)c.end_offset + 2, off, "inside the footer");
        vms_armcpu_fini(&c);
    }
    assert_int_equal(cpus, 2);
}

static void test_cpu_sections(void **state)
{
    (void)state;
    use(0);
    cpu_cuts(22);
    no_bad_cuts();
}

static void test_cpu_sections_v23(void **state)
{
    (void)state;
    use(1);
    cpu_cuts(23);
    use(0);
    no_bad_cuts();
}

/* ---- the trailer -------------------------------------------------------- */

static void test_trailer(void **state)
{
    size_t v = (size_t)full.vmdesc_offset, json = v + 5, k;

    (void)state;
    use(0);
    assert_int_equal(v, full.eof_offset + 1);
    /* right after EOF: a complete stream without vmdesc */
    expect_valid_prefix(v);
    /* inside the vmdesc type byte + length */
    for (k = 1; k <= 5; k++) {
        expect_cut(v + k, v, "vmdesc header");
    }
    /* inside the JSON */
    expect_cut(json + 1, v, "vmdesc JSON, first byte");
    expect_cut(json + full.vmdesc_len / 2, v, "vmdesc JSON, middle");
    expect_cut(json + full.vmdesc_len - 1, v, "vmdesc JSON, last byte");
    no_bad_cuts();
}

/* ---- sweeps ------------------------------------------------------------- */

static void test_last_2000(void **state)
{
    size_t cut;

    (void)state;
    use(0);
    assert_true(data_len > 2000);
    for (cut = data_len - 2000; cut < data_len; cut++) {
        expect_error(cut);
    }
    no_bad_cuts();
}

static void test_stride_997(void **state)
{
    size_t cut, n = 0;

    (void)state;
    use(0);
    for (cut = 0; cut < data_len; cut += 997) {
        expect_error(cut);
        n++;
    }
    assert_true(n > 700);
    no_bad_cuts();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_section_boundaries),
        cmocka_unit_test(test_header_and_config),
        cmocka_unit_test(test_ram_records),
        cmocka_unit_test(test_cpu_sections),
        cmocka_unit_test(test_cpu_sections_v23),
        cmocka_unit_test(test_trailer),
        cmocka_unit_test(test_last_2000),
        cmocka_unit_test(test_stride_997),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
