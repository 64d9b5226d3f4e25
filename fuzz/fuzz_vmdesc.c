/*
 * fuzz_vmdesc.c - the vmdesc JSON layer.
 *
 * Input: vmdesc JSON text.  Checks:
 *  - vms_json_parse: an error is latched iff NULL; a tree is an object;
 *  - the QEMU serialiser: its output parses again (unless the tree holds a
 *    non-finite double, which QEMU would also write unparseably, or -0.0,
 *    written "-0" and read back as the integer 0) and
 *    serialising that gives the same bytes (idempotent); if
 *    vms_json_roundtrips() says the input is canonical, the serialised
 *    text is the input;
 *  - vms_vmdesc_parse builds layouts, and every device layout is walked
 *    over a zeroed and a 0xff-filled buffer (the dump/stream walker with
 *    vmdesc-made layouts);
 *  - cpu entries: get_layout/set_layout for the first instances: a
 *    rewrite to the other layout and back is stable.
 */
#define _GNU_SOURCE
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "layout.h"
#include "cpu_vmdesc.h"
#include "vmdesc_json.h"
#include "wire.h"

#define MAX_JSON (1u << 20)

static int has_nonfinite(struct json_object *o)
{
    size_t i, n;

    switch (json_object_get_type(o)) {
    case json_type_double: {
        double d = json_object_get_double(o);

        /* QEMU writes -0.0 as "-0", which parses back as the integer 0 */
        return !isfinite(d) || (d == 0 && signbit(d));
    }
    case json_type_array:
        n = json_object_array_length(o);
        for (i = 0; i < n; i++) {
            if (has_nonfinite(json_object_array_get_idx(o, i))) {
                return 1;
            }
        }
        return 0;
    case json_type_object: {
        json_object_object_foreach(o, k, v) {
            (void)k;
            if (has_nonfinite(v)) {
                return 1;
            }
        }
        return 0;
    }
    default:
        return 0;
    }
}

static uint8_t zeros[8192], ones[8192];

static int count_field(void *opaque, const struct vms_walk_field *f)
{
    (void)f;
    ++*(size_t *)opaque;
    return 0;
}

static void walk_devices(const struct vms_vmdesc *d)
{
    static const struct vms_walk_ops ops = { .field = count_field };
    size_t i;

    for (i = 0; i < d->n_devs; i++) {
        const struct vms_vmsd *v = &d->devs[i].vmsd;
        struct vms_error e;
        size_t used, events = 0;
        int rc;

        FUZZ_CHECK(d->devs[i].name != NULL, "device without a name");
        vms_error_clear(&e);
        rc = vms_walk(v, zeros, sizeof(zeros), 0, 0, &ops, &events, &used,
                      &e);
        fuzz_check_rc(rc, &e, "vms_walk (zeros)");
        FUZZ_CHECK(rc < 0 || used <= sizeof(zeros), "walk used %zu", used);
        vms_error_clear(&e);
        rc = vms_walk(v, ones, sizeof(ones), 0, 0, NULL, NULL, &used, &e);
        fuzz_check_rc(rc, &e, "vms_walk (0xff)");
    }
}

static void cpu_rewrites(const uint8_t *data, size_t size)
{
    uint32_t inst;
    struct vms_error e;
    struct json_object *root;

    vms_error_clear(&e);
    root = vms_json_parse((const char *)data, size, MAX_JSON, 0, &e);
    if (!root) {
        return;
    }
    for (inst = 0; inst < 3; inst++) {
        int v23, v23b;
        uint32_t n, m, n2, m2;
        char *s1, *s2;
        size_t l1, l2;

        vms_error_clear(&e);
        if (vms_vmdesc_cpu_get_layout(root, inst, &v23, &n, &m, &e) < 0) {
            fuzz_check_rc(-1, &e, "cpu_get_layout");
            continue;
        }
        FUZZ_CHECK(v23 || m == n, "v22 entry with m %u != n %u", m, n);
        /* To the other layout (v22 needs m == n) and back. */
        vms_error_clear(&e);
        if (vms_vmdesc_cpu_set_layout(root, inst, !v23, n, m, &e) < 0) {
            fuzz_check_rc(-1, &e, "cpu_set_layout");
            continue;
        }
        vms_error_clear(&e);
        FUZZ_CHECK(vms_vmdesc_cpu_get_layout(root, inst, &v23b, &n2, &m2,
                                             &e) == 0,
                   "entry unreadable after set_layout: %s", e.msg);
        FUZZ_CHECK(v23b == !v23 && n2 == n && (v23b ? m2 == m : m2 == n),
                   "set_layout wrote v23=%d n=%u m=%u, asked v23=%d n=%u "
                   "m=%u", v23b, n2, m2, !v23, n, m);
        vms_error_clear(&e);
        FUZZ_CHECK(vms_vmdesc_cpu_set_layout(root, inst, v23, n, m, &e) ==
                       0,
                   "cannot rewrite back: %s", e.msg);
        s1 = vms_json_qemu_serialise(root, &l1);
        /* A second round trip changes nothing any more. */
        vms_error_clear(&e);
        FUZZ_CHECK(vms_vmdesc_cpu_set_layout(root, inst, !v23, n, m, &e) ==
                           0 &&
                       vms_vmdesc_cpu_set_layout(root, inst, v23, n, m,
                                                 &e) == 0,
                   "second round trip fails: %s", e.msg);
        s2 = vms_json_qemu_serialise(root, &l2);
        FUZZ_CHECK(s1 && s2 && l1 == l2 && memcmp(s1, s2, l1) == 0,
                   "cpu#%u rewrite round trip is not stable", inst);
        free(s1);
        free(s2);
    }
    json_object_put(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vms_error err;
    struct json_object *root;
    struct vms_vmdesc *d;

    if (!ones[0]) {
        memset(ones, 0xff, sizeof(ones));
    }
    vms_error_clear(&err);
    root = vms_json_parse((const char *)data, size, MAX_JSON, 1000, &err);
    fuzz_check_rc(root ? 0 : -1, &err, "vms_json_parse");
    if (root) {
        size_t len, len2;
        char *text = vms_json_qemu_serialise(root, &len);

        FUZZ_CHECK(json_object_is_type(root, json_type_object),
                   "parse returned a non-object");
        FUZZ_CHECK(text && strlen(text) <= len, "serialise failed");
        if (vms_json_roundtrips(root, (const char *)data, size)) {
            FUZZ_CHECK(len == size && memcmp(text, data, size) == 0,
                       "roundtrips() says yes, bytes differ");
        }
        /* json-c keys are C strings: a key QEMU's writer escapes as
         * \u0000 (from "\xC0\x80", modified UTF-8) comes back cut. */
        if (!has_nonfinite(root) && !memmem(text, len, "\\u0000", 6)) {
            struct json_object *again;

            vms_error_clear(&err);
            again = vms_json_parse(text, len, SIZE_MAX, 0, &err);
            FUZZ_CHECK(again != NULL,
                       "serialised JSON does not parse: %s", err.msg);
            {
                char *text2 = vms_json_qemu_serialise(again, &len2);

                FUZZ_CHECK(text2 && len2 == len &&
                               memcmp(text, text2, len) == 0,
                           "serialise(parse(serialise(x))) != "
                           "serialise(x)");
                FUZZ_CHECK(vms_json_roundtrips(again, text, len),
                           "serialised text does not round-trip");
                free(text2);
            }
            json_object_put(again);
        }
        free(text);
        json_object_put(root);
    }

    vms_error_clear(&err);
    d = vms_vmdesc_parse((const char *)data, size, 0, &err);
    fuzz_check_rc(d ? 0 : -1, &err, "vms_vmdesc_parse");
    if (d) {
        walk_devices(d);
        vms_vmdesc_free(d);
    }
    cpu_rewrites(data, size);
    return 0;
}
