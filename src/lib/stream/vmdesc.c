#include "config.h"
#include "layout.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "vmdesc_json.h"
#include "wire.h"

struct conv {
    uint64_t offset;        /* of the JSON text, for messages */
    size_t n_fields;        /* all fields so far, against the limit */
    struct vms_error *err;
};

static int bad(struct conv *c, const char *what, const char *where)
{
    vms_error_set(c->err, VMS_E_FORMAT, c->offset,
                  "vmdesc JSON: %s in %s", what, where ? where : "?");
    return -1;
}

static int nomem(struct conv *c, const char *where)
{
    vms_error_set(c->err, VMS_E_NOMEM, c->offset,
                  "out of memory reading the vmdesc JSON (%s)",
                  where ? where : "?");
    return -1;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    return json_object_get_string(v);
}

/* Non-negative integer member, or -1 if absent; -2 if malformed. */
static int64_t get_uint(json_object *o, const char *key)
{
    json_object *v;
    int64_t n;

    if (!json_object_object_get_ex(o, key, &v)) {
        return -1;
    }
    if (!json_object_is_type(v, json_type_int)) {
        return -2;
    }
    n = json_object_get_int64(v);
    return n < 0 || n > UINT32_MAX ? -2 : n;
}

static int conv_vmsd(struct conv *c, json_object *o, struct vms_vmsd *v,
                     const char *name, int depth);

static int conv_field(struct conv *c, json_object *o, struct vms_field *f,
                      const char *where, int depth)
{
    const char *name = get_str(o, "name");
    const char *type = get_str(o, "type");
    int64_t size = get_uint(o, "size");
    int64_t alen = get_uint(o, "array_len");
    int64_t idx = get_uint(o, "index");
    json_object *st;

    if (!json_object_is_type(o, json_type_object) || !name || !type ||
        size < 0 || alen == -2 || idx == -2 || alen == 0) {
        return bad(c, "malformed field", where);
    }
    f->name = strdup(name);
    f->type = strdup(type);
    if (!f->name || !f->type) {
        return nomem(c, name);
    }
    f->size = (uint32_t)size;
    f->count = alen > 0 ? (uint32_t)alen : 1;
    f->has_index = idx >= 0;
    f->index = idx >= 0 ? (uint32_t)idx : 0;
    f->count_from = -1;
    if ((uint64_t)f->size * f->count > VMS_MAX_DEVICE_STATE) {
        return bad(c, "field larger than the device-state limit", name);
    }
    if (strcmp(type, "struct") == 0 &&
        json_object_object_get_ex(o, "struct", &st) &&
        json_object_is_type(st, json_type_object) &&
        json_object_object_length(st) > 0) {
        f->sub = calloc(1, sizeof(*f->sub));
        if (!f->sub) {
            return nomem(c, name);
        }
        if (conv_vmsd(c, st, f->sub, name, depth + 1) < 0) {
            return -1;
        }
    }
    return 0;
}

static int conv_vmsd(struct conv *c, json_object *o, struct vms_vmsd *v,
                     const char *where, int depth)
{
    json_object *fields, *subs;
    const char *vname = get_str(o, "vmsd_name");
    int64_t ver = get_uint(o, "version");
    size_t i, n;

    if (depth > (int)VMS_MAX_NESTING) {
        vms_error_set(c->err, VMS_E_LIMIT, c->offset,
                      "vmdesc JSON nested deeper than %u", VMS_MAX_NESTING);
        return -1;
    }
    v->name = strdup(vname ? vname : where);
    if (!v->name) {
        return nomem(c, where);
    }
    v->version = ver >= 0 ? (uint32_t)ver : 0;
    if (json_object_object_get_ex(o, "fields", &fields)) {
        if (!json_object_is_type(fields, json_type_array)) {
            return bad(c, "\"fields\" is not an array", where);
        }
        n = json_object_array_length(fields);
        c->n_fields += n;
        if (c->n_fields > VMS_MAX_FIELDS * 16) {
            vms_error_set(c->err, VMS_E_LIMIT, c->offset,
                          "vmdesc JSON describes more than %u fields",
                          VMS_MAX_FIELDS * 16);
            return -1;
        }
        v->fields = calloc(n ? n : 1, sizeof(*v->fields));
        if (!v->fields) {
            return nomem(c, where);
        }
        for (i = 0; i < n; i++) {
            v->n_fields = i + 1;
            if (conv_field(c, json_object_array_get_idx(fields, i),
                           &v->fields[i], v->name, depth) < 0) {
                return -1;
            }
        }
    }
    if (json_object_object_get_ex(o, "subsections", &subs)) {
        if (!json_object_is_type(subs, json_type_array)) {
            return bad(c, "\"subsections\" is not an array", where);
        }
        n = json_object_array_length(subs);
        v->subs = calloc(n ? n : 1, sizeof(*v->subs));
        if (!v->subs) {
            return nomem(c, where);
        }
        for (i = 0; i < n; i++) {
            json_object *s = json_object_array_get_idx(subs, i);

            v->n_subs = i + 1;
            if (!json_object_is_type(s, json_type_object) ||
                !get_str(s, "vmsd_name")) {
                return bad(c, "malformed subsection", where);
            }
            if (conv_vmsd(c, s, &v->subs[i], v->name, depth + 1) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

void vms_vmdesc_free(struct vms_vmdesc *d)
{
    size_t i;

    if (!d) {
        return;
    }
    for (i = 0; i < d->n_devs; i++) {
        free(d->devs[i].name);
        vms_vmsd_fini(&d->devs[i].vmsd);
    }
    free(d->devs);
    if (d->json) {
        json_object_put(d->json);
    }
    free(d);
}

struct vms_vmdesc *vms_vmdesc_parse(const char *text, size_t len,
                                    uint64_t offset, struct vms_error *err)
{
    struct conv c = { offset, 0, err };
    struct vms_vmdesc *d;
    json_object *root, *devs, *v;
    size_t i, n;
    int64_t ps;

    root = vms_json_parse(text, len, VMS_MAX_VMDESC, offset, err);
    if (!root) {
        return NULL;
    }
    d = calloc(1, sizeof(*d));
    if (!d) {
        json_object_put(root);
        nomem(&c, "top level");
        return NULL;
    }
    d->json = root;
    if (!json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "devices", &devs) ||
        !json_object_is_type(devs, json_type_array)) {
        bad(&c, "no \"devices\" array", "top level");
        vms_vmdesc_free(d);
        return NULL;
    }
    ps = get_uint(root, "page_size");
    d->page_size = ps > 0 ? (uint32_t)ps : 0;
    d->has_configuration = json_object_object_get_ex(root, "configuration",
                                                     &v);
    n = json_object_array_length(devs);
    if (n > VMS_MAX_SECTIONS) {
        vms_error_set(err, VMS_E_LIMIT, offset,
                      "vmdesc JSON lists %zu devices (limit %u)", n,
                      VMS_MAX_SECTIONS);
        vms_vmdesc_free(d);
        return NULL;
    }
    d->devs = calloc(n ? n : 1, sizeof(*d->devs));
    if (!d->devs) {
        nomem(&c, "devices");
        vms_vmdesc_free(d);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(devs, i);
        struct vms_vmdesc_dev *dev = &d->devs[i];
        const char *name = get_str(o, "name");
        int64_t inst = get_uint(o, "instance_id");

        d->n_devs = i + 1;
        if (!name || inst < 0) {
            bad(&c, "device without name or instance_id", "devices");
            vms_vmdesc_free(d);
            return NULL;
        }
        dev->name = strdup(name);
        if (!dev->name) {
            nomem(&c, name);
            vms_vmdesc_free(d);
            return NULL;
        }
        dev->instance_id = (uint32_t)inst;
        dev->has_vmsd = get_str(o, "vmsd_name") != NULL;
        if (conv_vmsd(&c, o, &dev->vmsd, name, 0) < 0) {
            vms_vmdesc_free(d);
            return NULL;
        }
        dev->vmsd.opaque = !dev->has_vmsd;
    }
    return d;
}
