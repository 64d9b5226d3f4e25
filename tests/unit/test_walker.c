/*
 * test_walker.c - vmdesc parsing, the builtin layouts and the field walker
 * on real QEMU 7.2 cpu sections: the layout QEMU's vmdesc gives and the
 * builtin one (formats/cpu-layouts.tsv) walk the same bytes to the same
 * end, with the same fields at the same offsets; a body cut short or read
 * with the other layout does not fit; malformed vmdesc JSON is refused.
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

#include "layout.h"
#include "src.h"
#include "stream.h"
#include "testutil.h"

#define MAXF 256

struct rec {
    int n, subs;
    char path[MAXF][96];
    uint64_t off[MAXF];
    uint32_t count[MAXF], elem[MAXF];
    char sub[16][64];
};

static int on_field(void *opaque, const struct vms_walk_field *f)
{
    struct rec *r = opaque;

    if (r->n < MAXF) {
        snprintf(r->path[r->n], sizeof(r->path[0]), "%s", f->field->name);
        r->off[r->n] = f->offset;
        r->count[r->n] = f->count;
        r->elem[r->n] = f->elem_size;
    }
    r->n++;
    return 0;
}

static int on_sub(void *opaque, const struct vms_walk_sub *s)
{
    struct rec *r = opaque;

    if (r->subs < 16) {
        snprintf(r->sub[r->subs], sizeof(r->sub[0]), "%s", s->name);
    }
    r->subs++;
    return 0;
}

static const struct vms_walk_ops ops = {
    .field = on_field, .subsection = on_sub,
};

struct fixture {
    uint8_t *buf;
    size_t len;
    struct vms_stream st;
    struct vms_src *src;
};

static void load(struct fixture *x, const char *rel)
{
    struct vms_error err;

    x->buf = tu_load(rel, &x->len);
    vms_error_clear(&err);
    vms_stream_init(&x->st);
    x->src = vms_src_open_mem(x->buf, x->len, 0, &err);
    assert_non_null(x->src);
    assert_int_equal(vms_stream_parse(x->src, NULL, &x->st, &err), 0);
}

static void unload(struct fixture *x)
{
    vms_stream_fini(&x->st);
    vms_src_free(x->src);
    free(x->buf);
}

static const struct vms_section *cpu0(const struct vms_stream *st)
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

static const uint8_t *body(const struct vms_section *s)
{
    return s->bytes + (s->body_offset - s->offset);
}

static int walk(const struct vms_vmsd *v, const struct vms_section *s,
                size_t len, int builtin, struct rec *r, size_t *used,
                struct vms_error *err)
{
    memset(r, 0, sizeof(*r));
    vms_error_clear(err);
    return vms_walk(v, body(s), len, s->body_offset, builtin, &ops, r, used,
                    err);
}

static void test_vmdesc_and_builtin_agree(void **state)
{
    static struct rec a, b;
    struct fixture x;
    const struct vms_section *s;
    const struct vms_vmsd *bv;
    struct vms_error err;
    size_t ua, ub;
    int i, found = 0;

    (void)state;
    load(&x, "real-v22/aa64-virt72-cortex-a57-2cpu.mig.zst");
    assert_non_null(x.st.vmdesc);
    s = cpu0(&x.st);
    assert_int_equal(s->delim, VMS_DELIM_VMDESC);
    assert_true(s->vmdesc_dev >= 0);
    assert_string_equal(x.st.vmdesc->devs[s->vmdesc_dev].name, "cpu");
    assert_int_equal(walk(s->layout, s, s->body_len, 0, &a, &ua, &err), 0);
    assert_int_equal(ua, s->body_len);
    vms_error_clear(&err);
    bv = vms_builtin_vmsd("cpu@v22", &err);
    assert_non_null(bv);
    assert_int_equal(walk(bv, s, s->body_len, 1, &b, &ub, &err), 0);
    assert_int_equal(ub, ua);
    /* Same subsections, in the same order. */
    assert_true(a.subs >= 1);
    assert_int_equal(a.subs, b.subs);
    for (i = 0; i < a.subs && i < 16; i++) {
        assert_string_equal(a.sub[i], b.sub[i]);
    }
    assert_string_equal(a.sub[0], "cpu/vfp");
    /* The cpreg list where doc/format.md puts it, in both walks. */
    for (i = 0; i < b.n && i < MAXF; i++) {
        if (strcmp(b.path[i], "cpreg_vmstate_array_len") == 0) {
            int j;

            assert_int_equal(b.off[i], s->body_offset + 0x238);
            for (j = 0; j < a.n && j < MAXF; j++) {
                if (strcmp(a.path[j], b.path[i]) == 0) {
                    assert_int_equal(a.off[j], b.off[i]);
                    found = 1;
                }
            }
        }
        if (strcmp(b.path[i], "cpreg_vmstate_indexes") == 0) {
            /* N ids of 8 bytes: 0x23C + 16N + 65 = body without subs */
            assert_int_equal(b.off[i], s->body_offset + 0x23c);
            assert_int_equal(b.elem[i], 8);
            assert_true(b.count[i] > 100);
        }
    }
    assert_true(found);
    unload(&x);
}

static void test_does_not_fit(void **state)
{
    static struct rec r;
    struct fixture x;
    const struct vms_section *s;
    const struct vms_vmsd *v23;
    struct vms_error err;
    size_t used = 0;

    (void)state;
    load(&x, "real-v22/aa64-virt72-cortex-a57-1cpu.mig.zst");
    s = cpu0(&x.st);
    /* Cut inside the cpreg values: the walk fails inside the body. */
    assert_int_equal(walk(s->layout, s, 0x300, 0, &r, &used, &err), -1);
    assert_true(vms_error_isset(&err));
    assert_true(err.offset >= s->body_offset &&
                err.offset <= s->body_offset + 0x300);
    /* The v23 layout on v22 bytes: it fails, or ends somewhere else. */
    vms_error_clear(&err);
    v23 = vms_builtin_vmsd("cpu@v23", &err);
    assert_non_null(v23);
    if (walk(v23, s, s->body_len, 1, &r, &used, &err) == 0) {
        assert_int_not_equal(used, s->body_len);
    } else {
        assert_true(vms_error_isset(&err));
    }
    unload(&x);
}

/* Without a vmdesc the cpu sections are walked by the builtin layouts. */
static void test_builtin_delimits(void **state)
{
    struct fixture x;
    const struct vms_section *s;

    (void)state;
    load(&x, "real-v22-novmdesc/aa64-virt72-cortex-a57-1cpu-nodefaults-novmdesc.mig.zst");
    assert_null(x.st.vmdesc);
    s = cpu0(&x.st);
    assert_int_equal(s->delim, VMS_DELIM_BUILTIN);
    assert_non_null(s->layout);
    assert_string_equal(s->layout->name, "cpu@v22");
    unload(&x);
}

static void expect_bad_vmdesc(const char *json, const char *want)
{
    struct vms_error err;

    vms_error_clear(&err);
    assert_null(vms_vmdesc_parse(json, strlen(json), 1000, &err));
    assert_true(vms_error_isset(&err));
    if (!strstr(err.msg, want)) {
        fail_msg("\"%s\" lacks \"%s\"", err.msg, want);
    }
}

static void test_vmdesc_parse(void **state)
{
    const char *good =
        "{\"page_size\": 4096, \"devices\": [{\"name\": \"timer\", "
        "\"instance_id\": 0, \"vmsd_name\": \"timer\", \"version\": 2, "
        "\"fields\": [{\"name\": \"cpu_ticks_offset\", \"type\": \"int64\", "
        "\"size\": 8}, {\"name\": \"dummy\", \"type\": \"int64\", "
        "\"size\": 8, \"array_len\": 3}]}]}";
    struct vms_error err;
    struct vms_vmdesc *d;

    (void)state;
    vms_error_clear(&err);
    d = vms_vmdesc_parse(good, strlen(good), 0, &err);
    assert_non_null(d);
    assert_int_equal(d->page_size, 4096);
    assert_int_equal(d->n_devs, 1);
    assert_string_equal(d->devs[0].name, "timer");
    assert_int_equal(d->devs[0].vmsd.n_fields, 2);
    assert_int_equal(d->devs[0].vmsd.fields[1].count, 3);
    assert_int_equal(d->devs[0].vmsd.fields[1].size, 8);
    vms_vmdesc_free(d);

    expect_bad_vmdesc("{}", "no \"devices\" array");
    expect_bad_vmdesc("{\"devices\": [{\"instance_id\": 0}]}",
                      "device without name");
    expect_bad_vmdesc("{\"devices\": [{\"name\": \"x\", \"instance_id\": 0, "
                      "\"fields\": [{\"name\": \"a\", \"type\": \"uint8\", "
                      "\"size\": -1}]}]}", "malformed field");
    expect_bad_vmdesc("{\"devices\": [", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vmdesc_and_builtin_agree),
        cmocka_unit_test(test_does_not_fit),
        cmocka_unit_test(test_builtin_delimits),
        cmocka_unit_test(test_vmdesc_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
