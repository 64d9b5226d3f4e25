#include "config.h"
#include "cpu_vmdesc.h"

#include "cpu_vmdesc_impl.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "error.h"
#include "vmdesc_json.h"

#define CPREG_PREFIX "cpreg_vmstate_"

const struct cpreg_field cpreg_fields[] = {
    { "cpreg_vmstate_array_len", "int32 le", 4, ONE, 0 },
    { "cpreg_vmstate_value_array_len", "int32 le", 4, ONE, 1 },
    { "cpreg_vmstate_indexes", "uint64", 8, REGS, 0 },
    { "cpreg_vmstate_values", "uint64", 8, SLOTS, 0 },
    { "cpreg_vmstate_value_indexes", "uint32", 4, REGS, 1 },
};
const size_t n_cpreg_fields =
    sizeof(cpreg_fields) / sizeof(cpreg_fields[0]);

static const char *const f_len = "cpreg_vmstate_array_len";
static const char *const f_vlen = "cpreg_vmstate_value_array_len";
static const char *const f_idx = "cpreg_vmstate_indexes";
static const char *const f_val = "cpreg_vmstate_values";
static const char *const f_vidx = "cpreg_vmstate_value_indexes";

uint32_t cpreg_field_count(const struct cpreg_field *f,
                            const struct vms_cpu_shape *s)
{
    if (f->v23_only && s->layout != 23) {
        return 0;
    }
    switch (f->count) {
    case ONE: return 1;
    case REGS: return s->n;
    case SLOTS: return s->layout == 23 ? s->m : s->n;
    }
    return 0;
}

/* The cpreg block of one "cpu" device entry. */
struct cpu_block {
    struct json_object *dev;
    struct json_object *fields;
    size_t start;       /* index of cpreg_vmstate_array_len */
    size_t end;         /* one past the last cpreg field */
    int v23;
    uint32_t n;
    uint32_t m;
};

/* The string member key of o, or NULL (also if it holds a NUL byte). */
static const char *get_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    const char *s;

    if (!json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    s = json_object_get_string(v);
    if (strlen(s) != (size_t)json_object_get_string_len(v)) {
        return NULL;
    }
    return s;
}

/* Integer member key of o in [lo, hi]: 0 and *out, else -1. */
static int get_int(struct json_object *o, const char *key, int64_t lo,
                   int64_t hi, int64_t *out)
{
    struct json_object *v;
    int64_t x;

    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_int)) {
        return -1;
    }
    x = json_object_get_int64(v);
    if (x < lo || x > hi) {
        return -1;
    }
    *out = x;
    return 0;
}

static struct json_object *find_cpu(struct json_object *root,
                                    uint32_t instance_id,
                                    struct vms_error *err)
{
    struct json_object *devs, *found = NULL;
    size_t i, n;

    if (!json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "devices", &devs) ||
        !json_object_is_type(devs, json_type_array)) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc JSON has no \"devices\" array");
        return NULL;
    }
    n = json_object_array_length(devs);
    for (i = 0; i < n; i++) {
        struct json_object *d = json_object_array_get_idx(devs, i);
        const char *name = get_str(d, "name");
        int64_t id;

        if (!name || strcmp(name, "cpu") != 0 ||
            get_int(d, "instance_id", 0, UINT32_MAX, &id) != 0 ||
            (uint32_t)id != instance_id) {
            continue;
        }
        if (found) {
            vms_error_set_nooff(err, VMS_E_FORMAT,
                                "vmdesc lists device cpu#%u twice",
                                instance_id);
            return NULL;
        }
        found = d;
    }
    if (!found) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc has no entry for device cpu#%u",
                            instance_id);
    }
    return found;
}

/*
 * Check a compressed-array field entry as vmsd_desc_field_start/_end write
 * it: name, [array_len >= 2], type, size and nothing else.  Sets *count
 * (1 when there is no array_len).
 */
static int check_field(struct json_object *f, const char *type,
                       int64_t size, uint32_t *count, uint32_t instance_id,
                       struct vms_error *err)
{
    const char *name = get_str(f, "name");
    const char *t = get_str(f, "type");
    struct json_object *v;
    int64_t x;
    int keys = 3;

    if (!name || !t || strcmp(t, type) != 0 ||
        get_int(f, "size", size, size, &x) != 0 ||
        json_object_object_get_ex(f, "index", &v) ||
        json_object_object_get_ex(f, "struct", &v)) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc cpu#%u: field %s is not a \"%s\" "
                            "of size %" PRId64, instance_id,
                            name ? name : "?", type, size);
        return -1;
    }
    *count = 1;
    if (json_object_object_get_ex(f, "array_len", &v)) {
        if (get_int(f, "array_len", 2, INT32_MAX, &x) != 0) {
            vms_error_set_nooff(err, VMS_E_FORMAT,
                                "vmdesc cpu#%u: field %s has a bad "
                                "array_len", instance_id, name);
            return -1;
        }
        *count = (uint32_t)x;
        keys++;
    }
    if (json_object_object_length(f) != keys) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc cpu#%u: field %s has unexpected keys",
                            instance_id, name);
        return -1;
    }
    return 0;
}

/* Name of fields[i] if it is named name, else 0. */
static int field_is(struct json_object *fields, size_t i, const char *name)
{
    const char *s;

    if (i >= json_object_array_length(fields)) {
        return 0;
    }
    s = get_str(json_object_array_get_idx(fields, i), "name");
    return s && strcmp(s, name) == 0;
}

static int cpu_block_find(struct json_object *root, uint32_t instance_id,
                          struct cpu_block *cb, struct vms_error *err)
{
    const char *vmsd;
    uint32_t cnt, vals = 0, vidx = 0;
    int64_t version;
    size_t i, k, nf;

    memset(cb, 0, sizeof(*cb));
    cb->dev = find_cpu(root, instance_id, err);
    if (!cb->dev) {
        return -1;
    }
    vmsd = get_str(cb->dev, "vmsd_name");
    if (!vmsd || strcmp(vmsd, "cpu") != 0 ||
        get_int(cb->dev, "version", INT64_MIN, INT64_MAX, &version) != 0 ||
        !json_object_object_get_ex(cb->dev, "fields", &cb->fields) ||
        !json_object_is_type(cb->fields, json_type_array)) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc cpu#%u is not a vmsd \"cpu\" entry "
                            "with version and fields", instance_id);
        return -1;
    }
    nf = json_object_array_length(cb->fields);

    /* The block starts at the first cpreg_vmstate_* field. */
    for (i = 0; i < nf; i++) {
        const char *s = get_str(json_object_array_get_idx(cb->fields, i),
                                "name");

        if (s && strncmp(s, CPREG_PREFIX, strlen(CPREG_PREFIX)) == 0) {
            break;
        }
    }
    if (i == nf || !field_is(cb->fields, i, f_len)) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc cpu#%u: no %s field where the cpreg "
                            "list starts", instance_id, f_len);
        return -1;
    }
    cb->start = i;
    if (check_field(json_object_array_get_idx(cb->fields, i), "int32 le",
                    4, &cnt, instance_id, err) != 0) {
        return -1;
    }
    k = i + 1;
    if (field_is(cb->fields, k, f_vlen)) {
        cb->v23 = 1;
        if (check_field(json_object_array_get_idx(cb->fields, k),
                        "int32 le", 4, &cnt, instance_id, err) != 0) {
            return -1;
        }
        k++;
    }
    if (field_is(cb->fields, k, f_idx)) {
        if (check_field(json_object_array_get_idx(cb->fields, k),
                        "uint64", 8, &cb->n, instance_id, err) != 0) {
            return -1;
        }
        k++;
    }
    if (field_is(cb->fields, k, f_val)) {
        if (check_field(json_object_array_get_idx(cb->fields, k),
                        "uint64", 8, &vals, instance_id, err) != 0) {
            return -1;
        }
        k++;
    }
    if (cb->v23 && field_is(cb->fields, k, f_vidx)) {
        if (check_field(json_object_array_get_idx(cb->fields, k),
                        "uint32", 4, &vidx, instance_id, err) != 0) {
            return -1;
        }
        k++;
    }
    cb->end = k;
    for (i = k; i < nf; i++) {
        const char *s = get_str(json_object_array_get_idx(cb->fields, i),
                                "name");

        if (s && strncmp(s, CPREG_PREFIX, strlen(CPREG_PREFIX)) == 0) {
            vms_error_set_nooff(err, VMS_E_FORMAT,
                                "vmdesc cpu#%u: field %s out of place in "
                                "the %s cpreg layout", instance_id, s,
                                cb->v23 ? "v23" : "v22");
            return -1;
        }
    }
    if (cb->v23) {
        if (vidx != cb->n) {
            vms_error_set_nooff(err, VMS_E_FORMAT,
                                "vmdesc cpu#%u: %u indexes but %u value "
                                "indexes", instance_id, cb->n, vidx);
            return -1;
        }
        cb->m = vals;
    } else {
        if (vals != cb->n) {
            vms_error_set_nooff(err, VMS_E_FORMAT,
                                "vmdesc cpu#%u: %u indexes but %u values",
                                instance_id, cb->n, vals);
            return -1;
        }
        cb->m = cb->n;
    }
    if (version != (cb->v23 ? 23 : 22)) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc cpu#%u: version %" PRId64 " with the "
                            "%s cpreg field layout", instance_id, version,
                            cb->v23 ? "v23" : "v22");
        return -1;
    }
    return 0;
}

int vms_vmdesc_cpu_get_layout(struct json_object *root, uint32_t instance_id,
                              int *v23, uint32_t *n, uint32_t *m,
                              struct vms_error *err)
{
    struct cpu_block cb;

    if (cpu_block_find(root, instance_id, &cb, err) != 0) {
        return -1;
    }
    if (v23) {
        *v23 = cb.v23;
    }
    if (n) {
        *n = cb.n;
    }
    if (m) {
        *m = cb.m;
    }
    return 0;
}

/*
 * Append the entry QEMU writes for count elements of a compressible field
 * to arr: none for 0, no "array_len" for 1.  Returns 0 or -1 (no memory).
 */
static int add_field(struct json_object *arr, const char *name,
                     uint32_t count, const char *type, int size)
{
    struct json_object *f, *v;

    if (count == 0) {
        return 0;
    }
    f = json_object_new_object();
    if (!f) {
        return -1;
    }
    if (json_object_array_add(arr, f) != 0) {
        json_object_put(f);
        return -1;
    }
    v = json_object_new_string(name);
    if (!v || json_object_object_add(f, "name", v) != 0) {
        json_object_put(v);
        return -1;
    }
    if (count > 1) {
        v = json_object_new_int64(count);
        if (!v || json_object_object_add(f, "array_len", v) != 0) {
            json_object_put(v);
            return -1;
        }
    }
    v = json_object_new_string(type);
    if (!v || json_object_object_add(f, "type", v) != 0) {
        json_object_put(v);
        return -1;
    }
    v = json_object_new_int(size);
    if (!v || json_object_object_add(f, "size", v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

/* Append a new reference to fields[i] for i in [from, to). */
static int copy_range(struct json_object *dst, struct json_object *src,
                      size_t from, size_t to)
{
    size_t i;

    for (i = from; i < to; i++) {
        struct json_object *e = json_object_array_get_idx(src, i);

        if (json_object_array_add(dst, json_object_get(e)) != 0) {
            json_object_put(e);
            return -1;
        }
    }
    return 0;
}

int vms_vmdesc_cpu_layout(struct json_object *root, uint32_t instance_id,
                          struct vms_error *err)
{
    struct cpu_block cb;

    if (cpu_block_find(root, instance_id, &cb, err) != 0) {
        return -1;
    }
    return cb.v23 ? 23 : 22;
}

int vms_vmdesc_cpu_rewrite(struct json_object *root, uint32_t instance_id,
                           const struct vms_cpu_shape *from,
                           const struct vms_cpu_shape *to,
                           struct vms_error *err)
{
    struct cpu_block cb;
    struct json_object *nf, *ver;
    size_t k;
    int bad;

    if (cpu_block_find(root, instance_id, &cb, err) != 0) {
        return -1;
    }
    if ((cb.v23 ? 23 : 22) != from->layout || cb.n != from->n ||
        (cb.v23 && cb.m != from->m)) {
        vms_error_set_nooff(err, VMS_E_CONVERT,
                            "vmdesc cpu#%u describes %s with %u cpregs in "
                            "%u slots, the stream has v%d with %u in %u",
                            instance_id, cb.v23 ? "v23" : "v22", cb.n, cb.m,
                            from->layout, from->n, from->m);
        return -1;
    }
    if ((to->layout != 22 && to->layout != 23) ||
        (to->layout == 22 && to->m != to->n)) {
        vms_error_set_nooff(err, VMS_E_CONVERT,
                            "cpu#%u: v22 needs one value slot per cpreg "
                            "(N = %u, M = %u)", instance_id, to->n, to->m);
        return -1;
    }
    if (to->n > INT32_MAX || to->m > INT32_MAX) {
        vms_error_set_nooff(err, VMS_E_CONVERT,
                            "cpu#%u: cpreg counts %u/%u exceed int32",
                            instance_id, to->n, to->m);
        return -1;
    }

    /* Build the whole new list first so that a failure changes nothing. */
    nf = json_object_new_array();
    if (!nf) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    bad = copy_range(nf, cb.fields, 0, cb.start) != 0;
    for (k = 0; k < n_cpreg_fields && !bad; k++) {
        const struct cpreg_field *f = &cpreg_fields[k];

        bad = add_field(nf, f->name, cpreg_field_count(f, to), f->type,
                        f->size) != 0;
    }
    bad = bad || copy_range(nf, cb.fields, cb.end,
                            json_object_array_length(cb.fields)) != 0;
    ver = bad ? NULL : json_object_new_int(to->layout);
    if (!ver) {
        json_object_put(nf);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    /* json-c replaces an existing key's value in place: order is kept. */
    if (json_object_object_add(cb.dev, "version", ver) != 0) {
        json_object_put(ver);
        json_object_put(nf);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    if (json_object_object_add(cb.dev, "fields", nf) != 0) {
        json_object_put(nf);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}

int vms_vmdesc_cpu_set_layout(struct json_object *root, uint32_t instance_id,
                              int v23, uint32_t n, uint32_t m,
                              struct vms_error *err)
{
    struct vms_cpu_shape from, to;
    int v23_now;
    uint32_t n_now, m_now;

    if (vms_vmdesc_cpu_get_layout(root, instance_id, &v23_now, &n_now,
                                  &m_now, err) != 0) {
        return -1;
    }
    if (n_now != n) {
        vms_error_set_nooff(err, VMS_E_CONVERT,
                            "vmdesc cpu#%u describes %u cpregs, the stream "
                            "has %u", instance_id, n_now, n);
        return -1;
    }
    if (v23_now && m_now != m) {
        vms_error_set_nooff(err, VMS_E_CONVERT,
                            "vmdesc cpu#%u describes %u cpreg value slots, "
                            "the stream has %u", instance_id, m_now, m);
        return -1;
    }
    if (!v23 && m != n) {
        vms_error_set_nooff(err, VMS_E_CONVERT,
                            "cpu#%u: v22 needs one value slot per cpreg "
                            "(N = %u, M = %u)", instance_id, n, m);
        return -1;
    }
    from.layout = v23_now ? 23 : 22;
    from.n = n;
    from.m = v23_now ? m : n;
    to.layout = v23 ? 23 : 22;
    to.n = n;
    to.m = m;
    return vms_vmdesc_cpu_rewrite(root, instance_id, &from, &to, err);
}
