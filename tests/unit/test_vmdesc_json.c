/*
 * test_vmdesc_json.c - vmdesc JSON parsing limits, QEMU-exact serialising
 * and the Arm "cpu" v22 <-> v23 vmdesc rewrite.
 */
#include "config.h"

#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "error.h"
#include "testutil.h"
#include "cpu_vmdesc.h"
#include "vmdesc_json.h"

#define BIG (64u << 20)

/* Fail with the first differing byte and some context around it. */
static void expect_same(const char *what, const char *got, size_t glen,
                        const char *want, size_t wlen)
{
    size_t i = 0, lo;

    if (glen == wlen && memcmp(got, want, wlen) == 0) {
        return;
    }
    while (i < glen && i < wlen && got[i] == want[i]) {
        i++;
    }
    lo = i > 60 ? i - 60 : 0;
    fail_msg("%s: output differs at byte %zu (lengths %zu vs %zu)\n"
             "  got:  ...%.120s\n  want: ...%.120s", what, i, glen, wlen,
             got + lo, want + lo);
}

/* The vmdesc JSON of a vector, copied into a malloc'd string. */
static char *load_vmdesc(const char *rel, size_t *len, uint64_t *off)
{
    size_t n, jo, jl;
    uint8_t *d = tu_load(rel, &n);
    char *s;

    if (tu_find_vmdesc(d, n, &jo, &jl) != 0) {
        fail_msg("%s: no vmdesc trailer", rel);
    }
    s = malloc(jl + 1);
    assert_non_null(s);
    memcpy(s, d + jo, jl);
    s[jl] = '\0';
    free(d);
    *len = jl;
    if (off) {
        *off = jo;
    }
    return s;
}

static struct json_object *parse_ok(const char *text, size_t len,
                                    const char *what)
{
    struct vms_error err;
    struct json_object *o;
    char msg[700];

    vms_error_clear(&err);
    o = vms_json_parse(text, len, BIG, 0, &err);
    if (!o) {
        vms_error_format(&err, msg, sizeof(msg));
        fail_msg("%s: parse failed: %s", what, msg);
    }
    assert_false(vms_error_isset(&err));
    return o;
}

static void expect_serialised(struct json_object *o, const char *want,
                              size_t wlen, const char *what)
{
    size_t len = 12345;
    char *s = vms_json_qemu_serialise(o, &len);

    assert_non_null(s);
    assert_int_equal(s[len], '\0');
    expect_same(what, s, len, want, wlen);
    free(s);
}

/* ---------------------------------------------------------------------- */
/* a. every real stream: parse + serialise == the bytes QEMU wrote        */
/* ---------------------------------------------------------------------- */

static const char *const all_patterns[] = {
    "real-v22/*.mig.zst",
    "real-v22/*.mig.gz",
    "real-v23/*.mig.zst",
    "real-v23/det-v22-stock/*.mig.zst",
};

static void test_roundtrip_real(void **state)
{
    size_t p, i, n, total = 0;

    (void)state;
    for (p = 0; p < sizeof(all_patterns) / sizeof(all_patterns[0]); p++) {
        char **list = tu_glob(all_patterns[p], &n);

        assert_true(n > 0);
        for (i = 0; i < n; i++) {
            size_t len;
            uint64_t off;
            char *text = load_vmdesc(list[i], &len, &off);
            struct vms_error err;
            struct json_object *o;

            vms_error_clear(&err);
            o = vms_json_parse(text, len, BIG, off, &err);
            if (!o) {
                char msg[700];

                vms_error_format(&err, msg, sizeof(msg));
                fail_msg("%s: %s", list[i], msg);
            }
            expect_serialised(o, text, len, list[i]);
            assert_true(vms_json_roundtrips(o, text, len));
            json_object_put(o);
            free(text);
            total++;
        }
        tu_free_list(list);
    }
    assert_true(total >= 4);
}

/* ---------------------------------------------------------------------- */
/* b. det pairs: v22 vmdesc <-> v23 vmdesc, byte for byte                 */
/* ---------------------------------------------------------------------- */

/* The instance ids of the "cpu" entries of root (at most cap). */
static size_t cpu_instances(struct json_object *root, uint32_t *ids,
                            size_t cap)
{
    struct json_object *devs;
    size_t i, n, k = 0;

    assert_true(json_object_object_get_ex(root, "devices", &devs));
    n = json_object_array_length(devs);
    for (i = 0; i < n; i++) {
        struct json_object *d = json_object_array_get_idx(devs, i);
        struct json_object *v;

        assert_true(json_object_object_get_ex(d, "name", &v));
        if (strcmp(json_object_get_string(v), "cpu") != 0) {
            continue;
        }
        assert_true(json_object_object_get_ex(d, "instance_id", &v));
        assert_true(k < cap);
        ids[k++] = (uint32_t)json_object_get_int64(v);
    }
    return k;
}

/* Rewrite every "cpu" entry of root to the given layout; returns count. */
static size_t convert_all_cpus(struct json_object *root, int to_v23,
                               const char *what)
{
    uint32_t ids[64];
    size_t i, n = cpu_instances(root, ids, 64);

    for (i = 0; i < n; i++) {
        struct vms_error err;
        uint32_t id = ids[i], cn, cm;
        int is23;

        vms_error_clear(&err);
        assert_int_equal(vms_vmdesc_cpu_get_layout(root, id, &is23, &cn,
                                                   &cm, &err), 0);
        assert_int_equal(is23, !to_v23);
        assert_true(cn > 0);
        /* TCG: one slot per register */
        assert_int_equal(cm, cn);
        if (vms_vmdesc_cpu_set_layout(root, id, to_v23, cn, cn, &err)
            != 0) {
            fail_msg("%s: cpu#%u: %s", what, id, err.msg);
        }
        assert_int_equal(vms_vmdesc_cpu_get_layout(root, id, &is23, &cm,
                                                   NULL, &err), 0);
        assert_int_equal(is23, to_v23);
        assert_int_equal(cm, cn);
    }
    return n;
}

/* Set every "cpu" entry to the layout it already has: nothing changes. */
static void reapply_all(struct json_object *root)
{
    uint32_t ids[64];
    size_t i, n = cpu_instances(root, ids, 64);

    for (i = 0; i < n; i++) {
        struct vms_error err;
        uint32_t cn, cm;
        int is23;

        vms_error_clear(&err);
        assert_int_equal(vms_vmdesc_cpu_get_layout(root, ids[i], &is23, &cn,
                                                   &cm, &err), 0);
        assert_int_equal(vms_vmdesc_cpu_set_layout(root, ids[i], is23, cn,
                                                   cm, &err), 0);
    }
}

static void test_det_pairs(void **state)
{
    size_t i, n;
    char **list = tu_glob("real-v23/det-v22-stock/det-*.mig.zst", &n);

    (void)state;
    assert_true(n > 0);
    for (i = 0; i < n; i++) {
        const char *base = strrchr(list[i], '/') + 1;
        char rel23[512];
        size_t l22, l23, done;
        char *j22, *j23;
        struct json_object *o;

        snprintf(rel23, sizeof(rel23), "real-v23/%s", base);
        j22 = load_vmdesc(list[i], &l22, NULL);
        j23 = load_vmdesc(rel23, &l23, NULL);

        /* v22 -> v23 */
        o = parse_ok(j22, l22, list[i]);
        done = convert_all_cpus(o, 1, list[i]);
        assert_true(done >= 1);
        expect_serialised(o, j23, l23, rel23);
        reapply_all(o);
        expect_serialised(o, j23, l23, "v23 set to v23 again");
        json_object_put(o);

        /* v23 -> v22 */
        o = parse_ok(j23, l23, rel23);
        assert_int_equal(convert_all_cpus(o, 0, rel23), done);
        expect_serialised(o, j22, l22, list[i]);
        reapply_all(o);
        expect_serialised(o, j22, l22, "v22 set to v22 again");
        json_object_put(o);

        free(j22);
        free(j23);
    }
    tu_free_list(list);
}

/* ---------------------------------------------------------------------- */
/* c. hand-built cpu entries: N = 0, 1, 2, M != N                          */
/* ---------------------------------------------------------------------- */

/* QEMU's entry for count elements of a compressible field, or "". */
static void entry(char *buf, size_t sz, const char *name, uint32_t count,
                  const char *type, int size)
{
    if (count == 0) {
        buf[0] = '\0';
    } else if (count == 1) {
        snprintf(buf, sz, "{\"name\": \"%s\", \"type\": \"%s\", "
                 "\"size\": %d}, ", name, type, size);
    } else {
        snprintf(buf, sz, "{\"name\": \"%s\", \"array_len\": %u, "
                 "\"type\": \"%s\", \"size\": %d}, ", name, count, type,
                 size);
    }
}

/* A small vmdesc with two cpus (ids 0 and 1) in the given layout. */
static char *make_vmdesc(int v23, uint32_t n, uint32_t m)
{
    char idx[160], val[160], vidx[160], vlen[160], dev[2048];
    char *out = malloc(8192);
    int k, pos;

    assert_non_null(out);
    entry(idx, sizeof(idx), "cpreg_vmstate_indexes", n, "uint64", 8);
    entry(val, sizeof(val), "cpreg_vmstate_values", v23 ? m : n, "uint64",
          8);
    entry(vidx, sizeof(vidx), "cpreg_vmstate_value_indexes", v23 ? n : 0,
          "uint32", 4);
    entry(vlen, sizeof(vlen), "cpreg_vmstate_value_array_len", v23 ? 1 : 0,
          "int32 le", 4);
    pos = snprintf(out, 8192, "{\"page_size\": 4096, \"devices\": ["
                   "{\"name\": \"timer\", \"instance_id\": 0, "
                   "\"vmsd_name\": \"timer\", \"version\": 2, "
                   "\"fields\": []}");
    for (k = 0; k < 2; k++) {
        snprintf(dev, sizeof(dev),
                 ", {\"name\": \"cpu\", \"instance_id\": %d, "
                 "\"vmsd_name\": \"cpu\", \"version\": %d, \"fields\": ["
                 "{\"name\": \"env.sp_el\", \"array_len\": 4, "
                 "\"type\": \"uint64\", \"size\": 8}, "
                 "{\"name\": \"cpreg_vmstate_array_len\", "
                 "\"type\": \"int32 le\", \"size\": 4}, %s%s%s%s"
                 "{\"name\": \"env.exclusive_addr\", \"type\": \"uint64\", "
                 "\"size\": 8}], \"subsections\": [{\"vmsd_name\": "
                 "\"cpu/vfp\", \"version\": 3, \"fields\": [{\"name\": "
                 "\"env.vfp.zregs[0].d\", \"array_len\": 2, \"type\": "
                 "\"uint64\", \"size\": 8}]}]}",
                 k, v23 ? 23 : 22, vlen, idx, val, vidx);
        pos += snprintf(out + pos, 8192 - (size_t)pos, "%s", dev);
    }
    snprintf(out + pos, 8192 - (size_t)pos, "]}");
    return out;
}

static void check_convert(uint32_t n, uint32_t m)
{
    char *t22 = make_vmdesc(0, n, n);
    char *t23 = make_vmdesc(1, n, m);
    struct json_object *o;
    struct vms_error err;
    uint32_t gn, gm;
    int is23;
    uint32_t id;

    /* the hand-made texts are canonical */
    o = parse_ok(t22, strlen(t22), "hand v22");
    expect_serialised(o, t22, strlen(t22), "hand v22");
    vms_error_clear(&err);
    assert_int_equal(vms_vmdesc_cpu_get_layout(o, 1, &is23, &gn, &gm, &err),
                     0);
    assert_int_equal(is23, 0);
    assert_int_equal(gn, n);
    assert_int_equal(gm, n);
    for (id = 0; id < 2; id++) {
        assert_int_equal(vms_vmdesc_cpu_set_layout(o, id, 1, n, m, &err), 0);
    }
    expect_serialised(o, t23, strlen(t23), "hand v22 -> v23");
    json_object_put(o);

    o = parse_ok(t23, strlen(t23), "hand v23");
    assert_int_equal(vms_vmdesc_cpu_get_layout(o, 0, &is23, &gn, &gm, &err),
                     0);
    assert_int_equal(is23, 1);
    assert_int_equal(gn, n);
    assert_int_equal(gm, m);
    if (m == n) {
        for (id = 0; id < 2; id++) {
            assert_int_equal(vms_vmdesc_cpu_set_layout(o, id, 0, n, m, &err),
                             0);
        }
        expect_serialised(o, t22, strlen(t22), "hand v23 -> v22");
    } else {
        /* v22 cannot describe M != N; the tree stays as it was */
        assert_int_equal(vms_vmdesc_cpu_set_layout(o, 0, 0, n, m, &err), -1);
        assert_int_equal(err.code, VMS_E_CONVERT);
        expect_serialised(o, t23, strlen(t23), "refused v23 -> v22");
    }
    assert_false(vms_error_isset(&err) && m == n);
    json_object_put(o);
    free(t22);
    free(t23);
}

static void test_hand_counts(void **state)
{
    (void)state;
    check_convert(0, 0);
    check_convert(1, 1);
    check_convert(2, 2);
    check_convert(258, 258);
    check_convert(2, 3);    /* KVM-like: a 128-bit register */
    check_convert(1, 0);    /* odd but describable */
    check_convert(0, 1);
}

static void test_hand_n0_n1_shape(void **state)
{
    char *t;

    (void)state;
    /* N = 0: no indexes/values/value_indexes entries at all */
    t = make_vmdesc(1, 0, 0);
    assert_null(strstr(t, "cpreg_vmstate_indexes"));
    assert_null(strstr(t, "cpreg_vmstate_values"));
    assert_null(strstr(t, "cpreg_vmstate_value_indexes"));
    assert_non_null(strstr(t, "{\"name\": \"cpreg_vmstate_array_len\", "
                              "\"type\": \"int32 le\", \"size\": 4}, "
                              "{\"name\": \"cpreg_vmstate_value_array_len\", "
                              "\"type\": \"int32 le\", \"size\": 4}, "
                              "{\"name\": \"env.exclusive_addr\""));
    free(t);
    /* N = 1: entries without "array_len" */
    t = make_vmdesc(1, 1, 1);
    assert_non_null(strstr(t, "{\"name\": \"cpreg_vmstate_value_indexes\", "
                              "\"type\": \"uint32\", \"size\": 4}, "
                              "{\"name\": \"env.exclusive_addr\""));
    free(t);
}

static char *dup_str(const char *s)
{
    char *d = malloc(strlen(s) + 1);

    assert_non_null(d);
    return strcpy(d, s);
}

static int set_fails(const char *text, uint32_t id, int v23, uint32_t n,
                     uint32_t m, enum vms_status want)
{
    struct json_object *o = parse_ok(text, strlen(text), "bad entry");
    struct vms_error err;
    int rc;

    vms_error_clear(&err);
    rc = vms_vmdesc_cpu_set_layout(o, id, v23, n, m, &err);
    if (rc == 0) {
        json_object_put(o);
        return 0;
    }
    assert_int_equal(err.code, want);
    assert_true(err.msg[0] != '\0');
    /* nothing changed */
    expect_serialised(o, text, strlen(text), "failed rewrite");
    json_object_put(o);
    return 1;
}

static void test_bad_entries(void **state)
{
    char *t22 = make_vmdesc(0, 3, 3);
    char *t23 = make_vmdesc(1, 3, 3);
    char *bad;
    char *p;

    (void)state;
    /* no such cpu */
    assert_true(set_fails(t22, 2, 1, 3, 3, VMS_E_FORMAT));
    /* counts disagree with the stream */
    assert_true(set_fails(t22, 0, 1, 4, 4, VMS_E_CONVERT));
    assert_true(set_fails(t23, 0, 1, 3, 4, VMS_E_CONVERT));
    assert_true(set_fails(t23, 0, 0, 3, 4, VMS_E_CONVERT));
    /* v22 target needs M == N */
    assert_true(set_fails(t22, 0, 0, 3, 4, VMS_E_CONVERT));
    /* already in the target layout: fine */
    assert_false(set_fails(t22, 0, 0, 3, 3, VMS_OK));
    assert_false(set_fails(t23, 1, 1, 3, 3, VMS_OK));

    /* version does not match the field layout */
    bad = dup_str(t22);
    p = strstr(bad, "\"version\": 22");
    memcpy(p, "\"version\": 23", 13);
    assert_true(set_fails(bad, 0, 1, 3, 3, VMS_E_FORMAT));
    free(bad);

    /* a v22 entry with values but no indexes */
    bad = dup_str(t22);
    p = strstr(bad, "\"cpreg_vmstate_indexes\"");
    memcpy(p, "\"cpreg_vmstate_indexez\"", 23);
    assert_true(set_fails(bad, 0, 1, 3, 3, VMS_E_FORMAT));
    free(bad);

    /* wrong type */
    bad = dup_str(t22);
    p = strstr(bad, "\"type\": \"uint64\", \"size\": 8}, "
                    "{\"name\": \"cpreg_vmstate_values\"");
    memcpy(p, "\"type\": \"uint32\"", 16);
    assert_true(set_fails(bad, 0, 1, 3, 3, VMS_E_FORMAT));
    free(bad);

    /* not a cpu vmsd */
    bad = dup_str(t22);
    p = strstr(bad, "\"vmsd_name\": \"cpu\"");
    memcpy(p, "\"vmsd_name\": \"cpx\"", 18);
    assert_true(set_fails(bad, 0, 1, 3, 3, VMS_E_FORMAT));
    free(bad);

    /* no devices array */
    assert_true(set_fails("{\"page_size\": 4096}", 0, 1, 0, 0,
                          VMS_E_FORMAT));
    free(t22);
    free(t23);
}

/* ---------------------------------------------------------------------- */
/* c. malformed JSON                                                      */
/* ---------------------------------------------------------------------- */

static enum vms_status parse_err(const char *text, size_t len,
                                 size_t max_len, int depth, uint64_t *off)
{
    struct vms_error err;
    struct json_object *o;
    char msg[700];

    vms_error_clear(&err);
    o = vms_json_parse_ex(text, len, max_len, depth, 1000, &err);
    if (o) {
        json_object_put(o);
        assert_false(vms_error_isset(&err));
        return VMS_OK;
    }
    assert_true(vms_error_isset(&err));
    vms_error_format(&err, msg, sizeof(msg));
    assert_true(msg[0] != '\0');
    if (off) {
        assert_true(err.has_offset);
        *off = err.offset;
    }
    return err.code;
}

static void test_truncated(void **state)
{
    size_t len, l, step;
    char *text = load_vmdesc("real-v23/det-aa64-virt72-max-2cpu.mig.zst",
                             &len, NULL);
    const char *small = "{\"a\": [1, -2, \"x\\\"\\u00E9\"], \"b\": {}, "
                        "\"c\": true, \"d\": null, \"e\": 0.5}";
    uint64_t off;

    (void)state;
    /* every strict prefix of an object is incomplete */
    for (l = 0; l < strlen(small); l++) {
        assert_int_equal(parse_err(small, l, BIG, VMS_JSON_MAX_DEPTH, &off),
                         VMS_E_TRUNCATED);
        assert_int_equal(off, 1000 + l);
    }
    assert_int_equal(parse_err(small, strlen(small), BIG, VMS_JSON_MAX_DEPTH,
                               NULL), VMS_OK);
    step = len / 500 + 1;
    for (l = 0; l < len; l += step) {
        assert_int_equal(parse_err(text, l, BIG, VMS_JSON_MAX_DEPTH, &off),
                         VMS_E_TRUNCATED);
        assert_int_equal(off, 1000 + l);
    }
    assert_int_equal(parse_err(text, len - 1, BIG, VMS_JSON_MAX_DEPTH, NULL),
                     VMS_E_TRUNCATED);
    assert_int_equal(parse_err(text, len, BIG, VMS_JSON_MAX_DEPTH, NULL),
                     VMS_OK);
    /* length limit */
    assert_int_equal(parse_err(text, len, len - 1, VMS_JSON_MAX_DEPTH, &off),
                     VMS_E_LIMIT);
    assert_int_equal(off, 1000);
    assert_int_equal(parse_err(text, len, len, VMS_JSON_MAX_DEPTH, NULL),
                     VMS_OK);
    free(text);
}

static void test_too_deep(void **state)
{
    size_t d, n = 100000, i;
    char *deep = malloc(2 * n + 16);
    uint64_t off;

    (void)state;
    assert_non_null(deep);
    /* {"a": [[...[1]...]]}: d containers, the 1 is at depth d + 1 */
    for (d = 1; d <= 70; d++) {
        size_t len = 0;
        enum vms_status st;

        len += (size_t)sprintf(deep, "{\"a\": ");
        for (i = 0; i < d - 1; i++) {
            deep[len++] = '[';
        }
        deep[len++] = '1';
        for (i = 0; i < d - 1; i++) {
            deep[len++] = ']';
        }
        deep[len++] = '}';
        st = parse_err(deep, len, BIG, VMS_JSON_MAX_DEPTH, &off);
        if (d + 1 <= VMS_JSON_MAX_DEPTH) {
            assert_int_equal(st, VMS_OK);
        } else {
            assert_int_equal(st, VMS_E_LIMIT);
            /* the first byte of the value at depth MAX_DEPTH + 1 */
            assert_int_equal(off, 1000 + 6 + VMS_JSON_MAX_DEPTH - 1);
        }
    }
    assert_int_equal(parse_err("{\"a\": [[1]]}", 12, BIG, 4, NULL), VMS_OK);
    assert_int_equal(parse_err("{\"a\": [[[1]]]}", 14, BIG, 4, &off),
                     VMS_E_LIMIT);
    assert_int_equal(off, 1000 + 9);
    assert_int_equal(parse_err("{\"a\": [[[]]]}", 13, BIG, 4, NULL),
                     VMS_OK);
    assert_int_equal(parse_err("{}", 2, BIG, 1, NULL), VMS_OK);
    assert_int_equal(parse_err("{\"a\": 1}", 8, BIG, 1, &off),
                     VMS_E_LIMIT);
    assert_int_equal(off, 1000 + 6);
    assert_int_equal(parse_err("{\"a\": 1}", 8, BIG, 2, NULL), VMS_OK);

    /* a very deep unterminated nest: an error, not a stack overflow */
    deep[0] = '{';
    memcpy(deep + 1, "\"a\": ", 5);
    memset(deep + 6, '[', n);
    assert_int_equal(parse_err(deep, n + 6, BIG, VMS_JSON_MAX_DEPTH, NULL),
                     VMS_E_LIMIT);
    free(deep);
}

static void test_malformed(void **state)
{
    uint64_t off;

    (void)state;
    /* trailing garbage, with the offset where it starts */
    assert_int_equal(parse_err("{\"a\": 1} x", 10, BIG, 8, &off),
                     VMS_E_FORMAT);
    assert_int_equal(off, 1000 + 9);
    assert_int_equal(parse_err("{\"a\": 1}{}", 10, BIG, 8, &off),
                     VMS_E_FORMAT);
    assert_int_equal(off, 1000 + 8);
    assert_int_equal(parse_err("{\"a\": 1}\n", 9, BIG, 8, NULL), VMS_OK);
    /* a NUL inside the given length */
    assert_int_equal(parse_err("{\"a\": 1}\0", 9, BIG, 8, &off),
                     VMS_E_FORMAT);
    assert_int_equal(off, 1000 + 8);
    assert_int_equal(parse_err("{\"a\": \0}", 8, BIG, 8, &off),
                     VMS_E_FORMAT);
    assert_int_equal(off, 1000 + 6);
    /* not an object */
    assert_int_equal(parse_err("[1, 2]", 6, BIG, 8, &off), VMS_E_FORMAT);
    assert_int_equal(parse_err("123", 3, BIG, 8, &off), VMS_E_FORMAT);
    assert_int_equal(parse_err("null", 4, BIG, 8, &off), VMS_E_FORMAT);
    assert_int_equal(parse_err("\"x\"", 3, BIG, 8, &off), VMS_E_FORMAT);
    assert_int_equal(parse_err("", 0, BIG, 8, &off), VMS_E_TRUNCATED);
    assert_int_equal(parse_err("  ", 2, BIG, 8, &off), VMS_E_TRUNCATED);
    /* syntax errors at their offsets */
    assert_int_equal(parse_err("{\"a\" 1}", 7, BIG, 8, &off), VMS_E_FORMAT);
    assert_int_equal(off, 1000 + 5);
    assert_int_equal(parse_err("{\"a\": [1,]}", 11, BIG, 8, &off),
                     VMS_E_FORMAT);
    assert_int_equal(off, 1000 + 9);
    assert_int_equal(parse_err("{\"a\": 'x'}", 10, BIG, 8, &off),
                     VMS_E_FORMAT);
    assert_int_equal(off, 1000 + 6);
    assert_int_equal(parse_err("/* c */ {}", 10, BIG, 8, &off),
                     VMS_E_FORMAT);
    assert_int_equal(off, 1000);
    assert_int_equal(parse_err("{\"a\": 01}", 9, BIG, 8, &off),
                     VMS_E_FORMAT);
    assert_int_equal(parse_err("{\"a\": \"\xff\"}", 10, BIG, 8, &off),
                     VMS_E_FORMAT);
    assert_int_equal(parse_err("{\"a\": \"\\x\"}", 11, BIG, 8, &off),
                     VMS_E_FORMAT);
    assert_int_equal(parse_err("}", 1, BIG, 8, &off), VMS_E_FORMAT);
    assert_int_equal(off, 1000);
    /* bad depth argument */
    assert_int_equal(parse_err("{}", 2, BIG, 0, NULL), VMS_E_USAGE);
}

/* ---------------------------------------------------------------------- */
/* QEMU writer format details                                             */
/* ---------------------------------------------------------------------- */

static void expect_str(const char *raw, size_t rawlen, const char *want)
{
    struct json_object *s = json_object_new_string_len(raw, (int)rawlen);

    assert_non_null(s);
    expect_serialised(s, want, strlen(want), want);
    json_object_put(s);
}

static void test_string_escapes(void **state)
{
    (void)state;
    expect_str("a/b", 3, "\"a/b\"");
    expect_str("", 0, "\"\"");
    expect_str("\"\\\b\f\n\r\t", 7, "\"\\\"\\\\\\b\\f\\n\\r\\t\"");
    expect_str("\x01\x1f\x7f ~", 5, "\"\\u0001\\u001F\\u007F ~\"");
    expect_str("\xc3\xa9", 2, "\"\\u00E9\"");                /* U+00E9 */
    expect_str("\xe2\x82\xac", 3, "\"\\u20AC\"");            /* U+20AC */
    expect_str("\xf0\x9f\x98\x80", 4, "\"\\uD83D\\uDE00\"");  /* U+1F600 */
    expect_str("\xf4\x8f\xbf\xbd", 4, "\"\\uDBFF\\uDFFD\"");  /* U+10FFFD */
    expect_str("\xef\xbf\xbd", 3, "\"\\uFFFD\"");
    /* Modified UTF-8 NUL, and json-c's own embedded NUL */
    expect_str("\xc0\x80", 2, "\"\\u0000\"");
    expect_str("a\0b", 3, "\"a\\u0000b\"");
    /* invalid: one U+FFFD per bad sequence, as mod_utf8_codepoint steps */
    expect_str("\xff", 1, "\"\\uFFFD\"");
    expect_str("\x80\x80", 2, "\"\\uFFFD\\uFFFD\"");
    expect_str("\xc1\x81", 2, "\"\\uFFFD\"");                 /* overlong */
    expect_str("\xe0\x80\xaf", 3, "\"\\uFFFD\"");             /* overlong */
    expect_str("\xed\xa0\x80", 3, "\"\\uFFFD\"");             /* surrogate */
    expect_str("\xef\xbf\xbe", 3, "\"\\uFFFD\"");             /* U+FFFE */
    expect_str("\xef\xb7\x90", 3, "\"\\uFFFD\"");             /* U+FDD0 */
    expect_str("\xf4\x90\x80\x80", 4, "\"\\uFFFD\"");         /* > 10FFFF */
    expect_str("\xe2\x82x", 3, "\"\\uFFFDx\"");     /* short sequence */
    expect_str("\xe2\x82", 2, "\"\\uFFFD\"");       /* cut at the end */
    expect_str("\xf8\x88\x80\x80\x80", 5, "\"\\uFFFD\""); /* 5-byte form */
}

static void test_writer_format(void **state)
{
    const char *text =
        "{\"page_size\": 4096, \"devices\": [{\"name\": \"x\", "
        "\"fields\": [{\"name\": \"p\", \"type\": \"struct\", "
        "\"struct\": {}, \"size\": 1}], \"subsections\": []}], "
        "\"t\": true, \"f\": false, \"n\": null, \"neg\": -42, "
        "\"big\": 18446744073709551615, \"min\": -9223372036854775808, "
        "\"max\": 9223372036854775807, \"d\": 0.10000000000000001, "
        "\"h\": 1.5, \"e\": [], \"o\": {}, \"k\\\"\\u00E9/\": "
        "\"\\u00E9\\uD83D\\uDE00\\u0000\\t/\\u007F\"}";
    struct json_object *o, *a;
    char *s;
    size_t len;

    (void)state;
    o = parse_ok(text, strlen(text), "format");
    expect_serialised(o, text, strlen(text), "format");
    assert_true(vms_json_roundtrips(o, text, strlen(text)));
    assert_false(vms_json_roundtrips(o, text, strlen(text) - 1));
    json_object_put(o);

    /* what json-c accepts but QEMU never writes is normalised */
    text = "{ \"a\" :[1,2],\"b\":\"\\/\\u00e9\" }";
    o = parse_ok(text, strlen(text), "spaced");
    text = "{\"a\": [1, 2], \"b\": \"/\\u00E9\"}";
    expect_serialised(o, text, strlen(text), "spaced");
    json_object_put(o);

    /* repeated keys collapse in json-c: detected by roundtrips() */
    text = "{\"a\": 1, \"a\": 2}";
    o = parse_ok(text, strlen(text), "dup");
    assert_false(vms_json_roundtrips(o, text, strlen(text)));
    json_object_put(o);

    /* trees built by hand; NULL root is JSON null */
    s = vms_json_qemu_serialise(NULL, &len);
    assert_non_null(s);
    assert_int_equal(len, 4);
    assert_string_equal(s, "null");
    free(s);
    o = json_object_new_object();
    a = json_object_new_array();
    json_object_array_add(a, NULL);
    json_object_array_add(a, json_object_new_double(-0.25));
    json_object_array_add(a, json_object_new_double(1e300));
    json_object_array_add(a, json_object_new_boolean(1));
    json_object_object_add(o, "z", a);
    json_object_object_add(o, "a", json_object_new_object());
    text = "{\"z\": [null, -0.25, 1.0000000000000001e+300, true], "
           "\"a\": {}}";
    expect_serialised(o, text, strlen(text), "built");
    json_object_put(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_real),
        cmocka_unit_test(test_det_pairs),
        cmocka_unit_test(test_hand_counts),
        cmocka_unit_test(test_hand_n0_n1_shape),
        cmocka_unit_test(test_bad_entries),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_too_deep),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_writer_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
