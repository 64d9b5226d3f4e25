/*
 * test_libvirt.c - the libvirt save-image container (libvirt.c) and every
 * compression filter (filt_*.c) through the filter table:
 *  - the real libvirt 9.0 headers in tests/vectors/libvirt parse (name,
 *    UUID, cookie, running flag) and rebuild byte for byte;
 *  - build keeps data_len when a new XML fits the slack and moves the
 *    cookie, grows data_len to XML + cookie + 64 KiB when it does not,
 *    keeps the other byte order, sets the running flag and format code;
 *  - every prefix of a header is a TRUNCATED error, garbage (bad magic,
 *    version, data_len, was_running, cookieOffset, no NUL) a FORMAT error,
 *    LibvirtQemudPart says "unfinished";
 *  - each of gzip, zstd, bzip2, xz, lzop: sink -> file -> src round trip
 *    (bid by magic, the bytes come back), a cut file is an error (never a
 *    silent short read), a corrupted one is an error or differs.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "error.h"
#include "filter.h"
#include "libvirt.h"
#include "sink.h"
#include "src.h"
#include "testutil.h"

static const char *const images[] = {
    "libvirt/libvirt-gzip.img", "libvirt/libvirt-bzip2.img",
    "libvirt/libvirt-xz.img", "libvirt/libvirt-lzop.img",
    "libvirt/libvirt-raw-define.img.zst",
};

static void test_real_headers(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(images) / sizeof(images[0]); i++) {
        struct vms_libvirt_header h;
        struct vms_libvirt_edit keep = { NULL, 0, -1, VMS_COMP_NONE };
        struct vms_error err;
        size_t len, out_len;
        uint8_t *img = tu_load(images[i], &len), *out;
        char buf[128];

        vms_error_clear(&err);
        assert_int_equal(vms_libvirt_parse(img, len, &h, &err), 0);
        assert_true(h.present);
        assert_int_equal(h.version, 2);
        assert_int_equal(h.xml_len + 1, h.cookie_offset);
        assert_non_null(h.cookie);
        assert_string_equal(h.cookie, "<cookie>\n  <slirpHelper/>\n"
                                      "</cookie>\n");
        assert_int_equal(vms_libvirt_xml_field(h.xml, h.xml_len, "name",
                                               buf, sizeof(buf)), 0);
        assert_string_equal(buf, "vmsguest");
        assert_int_equal(vms_libvirt_xml_field(h.xml, h.xml_len, "uuid",
                                               buf, sizeof(buf)), 0);
        assert_string_equal(buf, "8f791ea2-f49c-48a3-8461-0139251eb225");
        /* <name> exists deeper (e.g. <model name=...>) but only the
         * domain's counts; an element that is not there is -1 */
        assert_int_equal(vms_libvirt_xml_field(h.xml, h.xml_len, "nothere",
                                               buf, sizeof(buf)), -1);
        /* rebuilt unchanged = the same bytes */
        keep.comp = (enum vms_compression)vms_libvirt_comp(h.format);
        assert_int_equal(vms_libvirt_build(&h, &keep, &out, &out_len, &err),
                         0);
        assert_int_equal(out_len, h.raw_len);
        assert_memory_equal(out, img, out_len);
        free(out);
        vms_libvirt_fini(&h);
        free(img);
    }
}

static uint32_t u32_at(const uint8_t *p, int swapped)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return swapped ? __builtin_bswap32(v) : v;
}

static void test_build(void **state)
{
    struct vms_libvirt_header h, n;
    struct vms_libvirt_edit ed = { NULL, 0, 0, VMS_COMP_XZ };
    struct vms_error err;
    size_t len, out_len, big_len = 100000, k;
    uint8_t *img = tu_load("libvirt/libvirt-gzip.img", &len), *out;
    char *big;
    static const char small[] = "<domain><name>x&amp;y</name></domain>\n";
    int sw;

    (void)state;
    vms_error_clear(&err);
    assert_int_equal(vms_libvirt_parse(img, len, &h, &err), 0);
    /* a smaller XML: same data_len, cookie right after it, paused, xz */
    ed.xml = small;
    ed.xml_len = strlen(small);
    assert_int_equal(vms_libvirt_build(&h, &ed, &out, &out_len, &err), 0);
    assert_int_equal(out_len, h.raw_len);
    assert_int_equal(vms_libvirt_parse(out, out_len, &n, &err), 0);
    assert_int_equal(n.data_len, h.data_len);
    assert_int_equal(n.was_running, 0);
    assert_int_equal(n.format, VMS_LV_XZ);
    assert_int_equal(n.cookie_offset, strlen(small) + 1);
    assert_string_equal(n.cookie, h.cookie);
    assert_memory_equal(n.xml, small, strlen(small));
    {
        char buf[16];

        assert_int_equal(vms_libvirt_xml_field(n.xml, n.xml_len, "name",
                                               buf, sizeof(buf)), 0);
        assert_string_equal(buf, "x&y");
        /* too small a buffer: -1, never a cut name */
        assert_int_equal(vms_libvirt_xml_field(n.xml, n.xml_len, "name",
                                               buf, 3), -1);
    }
    /* the rest is zero (the slack) */
    for (k = VMS_LIBVIRT_HDR_LEN + n.cookie_offset + n.cookie_len + 1;
         k < out_len; k++) {
        assert_int_equal(out[k], 0);
    }
    vms_libvirt_fini(&n);
    free(out);

    /* bigger than the slack: data_len = XML + NUL + cookie + NUL + 64 KiB */
    big = malloc(big_len);
    assert_non_null(big);
    memset(big, 'x', big_len);
    ed.xml = big;
    ed.xml_len = big_len;
    ed.running = -1;
    assert_int_equal(vms_libvirt_build(&h, &ed, &out, &out_len, &err), 0);
    assert_int_equal(vms_libvirt_parse(out, out_len, &n, &err), 0);
    assert_int_equal(n.data_len, big_len + 1 + h.cookie_len + 1 +
                                     VMS_LIBVIRT_SLACK);
    assert_int_equal(n.was_running, 1);
    assert_string_equal(n.cookie, h.cookie);
    vms_libvirt_fini(&n);
    free(out);
    /* a NUL inside the XML is refused */
    big[10] = '\0';
    assert_int_equal(vms_libvirt_build(&h, &ed, &out, &out_len, &err), -1);
    assert_int_equal(err.code, VMS_E_USAGE);
    assert_null(out);
    free(big);

    /* the other byte order stays the other byte order */
    for (sw = 0; sw < 2; sw++) {
        uint8_t *x = malloc(len);
        int f;

        assert_non_null(x);
        memcpy(x, img, len);
        if (sw) {
            for (f = 16; f < 36; f += 4) {
                uint32_t v = u32_at(x + f, 1);

                memcpy(x + f, &v, 4);
            }
        }
        vms_error_clear(&err);
        vms_libvirt_fini(&n);
        assert_int_equal(vms_libvirt_parse(x, len, &n, &err), 0);
        assert_int_equal(n.swapped, sw);
        assert_int_equal(n.data_len, h.data_len);
        ed.xml = NULL;
        ed.running = 0;
        ed.comp = VMS_COMP_LZOP;
        assert_int_equal(vms_libvirt_build(&n, &ed, &out, &out_len, &err),
                         0);
        assert_int_equal(u32_at(out + 24, sw), 0);
        assert_int_equal(u32_at(out + 28, sw), VMS_LV_LZOP);
        assert_int_equal(u32_at(out + 20, sw), h.data_len);
        free(out);
        vms_libvirt_fini(&n);
        free(x);
    }
    /* zstd: refused unless the image already was zstd, or forced */
    vms_error_clear(&err);
    assert_int_equal(vms_libvirt_check_format(&h, VMS_COMP_ZSTD, 0, &err),
                     -1);
    assert_int_equal(err.code, VMS_E_CONVERT);
    assert_non_null(strstr(err.msg, "--force-format"));
    vms_error_clear(&err);
    assert_int_equal(vms_libvirt_check_format(&h, VMS_COMP_ZSTD, 1, &err),
                     0);
    assert_int_equal(vms_libvirt_check_format(&h, VMS_COMP_LZOP, 0, &err),
                     0);
    vms_libvirt_fini(&h);
    free(img);
}

static void parse_fails(const uint8_t *buf, size_t len,
                        enum vms_status code, const char *needle)
{
    struct vms_libvirt_header h;
    struct vms_error err;

    vms_error_clear(&err);
    assert_int_equal(vms_libvirt_parse(buf, len, &h, &err), -1);
    assert_int_equal(err.code, code);
    assert_false(h.present);
    assert_null(h.raw);
    if (needle) {
        assert_non_null(strstr(err.msg, needle));
    }
}

static void put(uint8_t *p, size_t off, uint32_t v)
{
    memcpy(p + off, &v, 4);
}

static void test_bad_headers(void **state)
{
    size_t len, cut;
    uint8_t *img = tu_load("libvirt/libvirt-xz.img", &len);
    uint8_t *x = malloc(len);

    (void)state;
    assert_non_null(x);
    /* every cut of the header (fixed part and data) */
    for (cut = 0; cut < VMS_LIBVIRT_HDR_LEN + 66822; cut += cut < 100 ? 1 : 997) {
        parse_fails(img, cut, VMS_E_TRUNCATED, NULL);
    }
#define FRESH() memcpy(x, img, len)
    FRESH();
    memcpy(x, "LibvirtQemudPart", 16);
    parse_fails(x, len, VMS_E_FORMAT, "unfinished");
    FRESH();
    x[3] = 'X';
    parse_fails(x, len, VMS_E_FORMAT, "LibvirtQemudSave");
    FRESH();
    put(x, 16, 0);
    parse_fails(x, len, VMS_E_FORMAT, "version");
    FRESH();
    put(x, 20, 0);
    parse_fails(x, len, VMS_E_FORMAT, "data_len");
    FRESH();
    put(x, 20, VMS_LIBVIRT_MAX_DATA + 1);     /* never allocated */
    parse_fails(x, len, VMS_E_FORMAT, "data_len");
    FRESH();
    put(x, 24, 7);
    parse_fails(x, len, VMS_E_FORMAT, "was_running");
    FRESH();
    put(x, 32, 5);                            /* inside the XML */
    parse_fails(x, len, VMS_E_FORMAT, "cookieOffset");
    FRESH();
    put(x, 32, 66822);                        /* past data_len */
    parse_fails(x, len, VMS_E_FORMAT, "cookieOffset");
    FRESH();
    memset(x + VMS_LIBVIRT_HDR_LEN, 'a', 66822);   /* no NUL at all */
    parse_fails(x, len, VMS_E_FORMAT, "NUL");
    FRESH();                                  /* cookie without its NUL */
    memset(x + VMS_LIBVIRT_HDR_LEN + 1249, 'a', 66822 - 1249);
    parse_fails(x, len, VMS_E_FORMAT, "cookie");
    free(x);
    free(img);
}

/* ---- filters ------------------------------------------------------------ */

static uint8_t *sample(size_t n)
{
    uint8_t *b = malloc(n);
    uint32_t r = 12345;
    size_t i;

    assert_non_null(b);
    for (i = 0; i < n; i++) {
        r = r * 1103515245u + 12345u;
        /* compressible, but not trivially: runs, text and noise */
        b[i] = (i / 4096) % 3 == 0 ? 0
               : (i / 4096) % 3 == 1 ? (uint8_t)("vmstream "[i % 9])
                                     : (uint8_t)(r >> 24);
    }
    return b;
}

/* Read the whole file; the error code (VMS_OK when it all came out). */
static enum vms_status drain(const char *path, const uint8_t *want,
                             size_t want_len, enum vms_compression comp,
                             size_t *got_len, int *prefix)
{
    struct vms_error err;
    struct vms_src *s;
    size_t got = 0;

    vms_error_clear(&err);
    *prefix = 1;
    s = vms_src_open_path(path, &err);
    if (!s) {
        *got_len = 0;
        return err.code;
    }
    assert_int_equal(vms_src_compression(s), comp);
    for (;;) {
        size_t avail;
        const uint8_t *p = vms_src_peek(s, 1, &avail);

        if (!p || avail == 0) {
            break;
        }
        p = vms_src_peek(s, avail, NULL);
        if (got + avail > want_len ||
            memcmp(p, want + got, avail) != 0) {
            *prefix = 0;
        }
        got += avail;
        vms_src_consume(s, avail);
    }
    vms_src_free(s);
    *got_len = got;
    return err.code;
}

static void test_filters(void **state)
{
    static const enum vms_compression comps[] = {
        VMS_COMP_GZIP, VMS_COMP_ZSTD, VMS_COMP_BZIP2, VMS_COMP_XZ,
        VMS_COMP_LZOP,
    };
    size_t n = 3u << 20, i;
    uint8_t *data = sample(n);
    char *path = tu_write_temp((const uint8_t *)"", 0);

    (void)state;
    for (i = 0; i < sizeof(comps) / sizeof(comps[0]); i++) {
        struct vms_sink_opts so = { .comp = comps[i] };
        struct vms_error err;
        struct vms_sink *k;
        size_t off = 0, got, flen;
        int prefix;
        uint8_t *file;
        char cut_path[4096];
        FILE *f;

        vms_error_clear(&err);
        assert_string_equal(vms_compression_name(comps[i]),
                            vms_filter_of(comps[i])->name);
        assert_int_equal(vms_compression_parse(vms_compression_name(
                             comps[i])), (int)comps[i]);
        k = vms_sink_open(path, &so, &err);
        assert_non_null(k);
        while (off < n) {               /* odd chunk sizes */
            size_t c = n - off < 77777 ? n - off : 77777;

            assert_int_equal(vms_sink_write(k, data + off, c, &err), 0);
            off += c;
        }
        assert_int_equal(vms_sink_commit(k, &err), 0);
        assert_int_equal(drain(path, data, n, comps[i], &got, &prefix),
                         VMS_OK);
        assert_int_equal(got, n);
        assert_true(prefix);

        /* bid: the file's first bytes choose this filter */
        file = tu_load_path(path, &flen);
        assert_ptr_equal(vms_filter_bid(file, flen), vms_filter_of(comps[i]));
        assert_true(flen < n / 2);

        /* cut: an error, whatever came out before it is a prefix */
        snprintf(cut_path, sizeof(cut_path), "%s.cut", path);
        {
            size_t cuts[3] = { flen / 2, flen - 1, 12 };
            size_t c;

            for (c = 0; c < 3; c++) {
                f = fopen(cut_path, "wb");
                assert_non_null(f);
                assert_int_equal(fwrite(file, 1, cuts[c], f), cuts[c]);
                fclose(f);
                assert_int_not_equal(drain(cut_path, data, n, comps[i], &got,
                                           &prefix), VMS_OK);
                assert_true(prefix);   /* (all of it, if only the end
                                          marker or trailer was cut) */
            }
        }
        /* corrupted in the middle: an error or different bytes */
        file[flen / 2] ^= 0x5a;
        f = fopen(cut_path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(file, 1, flen, f), flen);
        fclose(f);
        assert_true(drain(cut_path, data, n, comps[i], &got, &prefix) !=
                        VMS_OK ||
                    !prefix || got != n);
        unlink(cut_path);
        free(file);
    }
    unlink(path);
    free(path);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_headers),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_filters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
