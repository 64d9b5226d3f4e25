/*
 * vmstate_json.c - reading `-dump-vmstate` JSON (vmstate_json.h).
 */
#include "config.h"
#include "vmstate_json.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src.h"
#include "vmdesc_json.h"

/* Fields nest Descriptions which nest Subsections ...: deeper than a
 * vmdesc, still bounded. */
#define VMSTATE_MAX_DEPTH 128

static int get_int(json_object *o, const char *key, int32_t *v)
{
    json_object *x;

    if (!json_object_object_get_ex(o, key, &x) ||
        !json_object_is_type(x, json_type_int)) {
        return -1;
    }
    *v = (int32_t)json_object_get_int64(x);
    return 0;
}

static int add_dev(struct vms_vmstate_dump *d, json_object *entry,
                   const char *key, struct vms_error *err)
{
    json_object *desc, *name, *subs;
    struct vms_vmstate_dev *nd, *dev;
    size_t i, n;

    if (!json_object_is_type(entry, json_type_object) ||
        !json_object_object_get_ex(entry, "Description", &desc) ||
        !json_object_is_type(desc, json_type_object) ||
        !json_object_object_get_ex(desc, "name", &name) ||
        !json_object_is_type(name, json_type_string)) {
        vms_error_set_nooff(err, VMS_E_FORMAT, "-dump-vmstate entry \"%s\" "
                            "has no Description.name", key);
        return -1;
    }
    if (vms_vmstate_find(d, json_object_get_string(name))) {
        return 0;           /* several QOM types share one vmsd */
    }
    nd = realloc(d->devs, (d->n_devs + 1) * sizeof(*nd));
    if (!nd) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    d->devs = nd;
    dev = &d->devs[d->n_devs];
    memset(dev, 0, sizeof(*dev));
    if (get_int(desc, "version_id", &dev->version) < 0 ||
        get_int(desc, "minimum_version_id", &dev->minimum) < 0) {
        vms_error_set_nooff(err, VMS_E_FORMAT, "-dump-vmstate entry \"%s\" "
                            "has no version_id / minimum_version_id", key);
        return -1;
    }
    dev->name = strdup(json_object_get_string(name));
    if (!dev->name) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    d->n_devs++;
    if (!json_object_object_get_ex(desc, "Subsections", &subs) ||
        !json_object_is_type(subs, json_type_array)) {
        return 0;
    }
    n = json_object_array_length(subs);
    dev->subs = calloc(n + 1, sizeof(*dev->subs));
    if (!dev->subs) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    for (i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(subs, i), *sn;

        if (json_object_is_type(s, json_type_object) &&
            json_object_object_get_ex(s, "name", &sn) &&
            json_object_is_type(sn, json_type_string)) {
            dev->subs[dev->n_subs] = strdup(json_object_get_string(sn));
            if (!dev->subs[dev->n_subs]) {
                vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
                return -1;
            }
            dev->n_subs++;
        }
    }
    return 0;
}

struct vms_vmstate_dump *vms_vmstate_parse(const char *text, size_t len,
                                           struct vms_error *err)
{
    struct vms_vmstate_dump *d;
    json_object *root, *m, *name;

    root = vms_json_parse_ex(text, len, VMS_MAX_VMSTATE_JSON,
                             VMSTATE_MAX_DEPTH, 0, err);
    if (!root) {
        return NULL;
    }
    d = calloc(1, sizeof(*d));
    if (!d) {
        json_object_put(root);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    if (json_object_object_get_ex(root, "vmschkmachine", &m) &&
        json_object_is_type(m, json_type_object) &&
        json_object_object_get_ex(m, "Name", &name) &&
        json_object_is_type(name, json_type_string)) {
        snprintf(d->machine, sizeof(d->machine), "%s",
                 json_object_get_string(name));
    } else {
        vms_error_set_nooff(err, VMS_E_FORMAT, "not -dump-vmstate output: "
                            "no vmschkmachine.Name");
        json_object_put(root);
        vms_vmstate_free(d);
        return NULL;
    }
    json_object_object_foreach(root, key, val) {
        if (strcmp(key, "vmschkmachine") == 0) {
            continue;
        }
        if (add_dev(d, val, key, err) < 0) {
            json_object_put(root);
            vms_vmstate_free(d);
            return NULL;
        }
    }
    json_object_put(root);
    return d;
}

struct vms_vmstate_dump *vms_vmstate_load(const char *path,
                                          struct vms_error *err)
{
    struct vms_src *src = vms_src_open_path(path, err);
    struct vms_vmstate_dump *d = NULL;
    uint8_t *text;
    size_t len = 0;

    if (!src) {
        return NULL;
    }
    text = vms_src_slurp(src, VMS_MAX_VMSTATE_JSON, &len);
    if (!text) {
        if (vms_error_isset(vms_src_error(src))) {
            *err = *vms_src_error(src);
        } else {
            vms_error_set_nooff(err, VMS_E_IO, "%s: cannot read", path);
        }
    } else {
        d = vms_vmstate_parse((const char *)text, len, err);
    }
    free(text);
    vms_src_free(src);
    return d;
}

void vms_vmstate_free(struct vms_vmstate_dump *d)
{
    size_t i, k;

    if (!d) {
        return;
    }
    for (i = 0; i < d->n_devs; i++) {
        free(d->devs[i].name);
        for (k = 0; k < d->devs[i].n_subs; k++) {
            free(d->devs[i].subs[k]);
        }
        free(d->devs[i].subs);
    }
    free(d->devs);
    free(d);
}

const struct vms_vmstate_dev *vms_vmstate_find(
    const struct vms_vmstate_dump *d, const char *name)
{
    size_t i;

    for (i = 0; d && i < d->n_devs; i++) {
        if (strcmp(d->devs[i].name, name) == 0) {
            return &d->devs[i];
        }
    }
    return NULL;
}

int vms_vmstate_has_sub(const struct vms_vmstate_dev *dev, const char *sub)
{
    size_t i;

    for (i = 0; dev && i < dev->n_subs; i++) {
        if (strcmp(dev->subs[i], sub) == 0) {
            return 1;
        }
    }
    return 0;
}
