/*
 * twin.c - a vmdesc borrowed from a twin stream (twin.h).
 */
#include "config.h"
#include "twin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src.h"
#include "stream.h"

struct vms_twin *vms_twin_load(const char *path, struct vms_error *err)
{
    struct vms_parse_opts po;
    struct vms_stream st;
    struct vms_src *src;
    struct vms_twin *t = NULL;

    memset(&po, 0, sizeof(po));
    po.no_hash = 1;
    po.lazy_vmdesc = 1;
    vms_stream_init(&st);
    src = vms_src_open_path(path, err);
    if (!src) {
        return NULL;
    }
    if (vms_stream_parse(src, &po, &st, err) < 0) {
        goto out;
    }
    if (!st.has_vmdesc || !st.vmdesc_json) {
        vms_error_set_nooff(err, VMS_E_USAGE, "that stream has no vmdesc "
                            "either (save it again with -machine "
                            "TYPE,suppress-vmdesc=off)");
        goto out;
    }
    t = calloc(1, sizeof(*t));
    if (t) {
        t->path = strdup(path);
        t->json = malloc(st.vmdesc_len ? st.vmdesc_len : 1);
        t->len = st.vmdesc_len;
    }
    if (!t || !t->path || !t->json) {
        vms_twin_free(t);
        t = NULL;
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(t->json, st.vmdesc_json, st.vmdesc_len);
out:
    vms_stream_fini(&st);
    vms_src_free(src);
    return t;
}

void vms_twin_free(struct vms_twin *t)
{
    if (t) {
        free(t->path);
        free(t->json);
        free(t);
    }
}

static void say(const struct vms_twin *t, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(const struct vms_twin *t, size_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (++*n > 5 || !t->warn) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    t->warn(t->warn_opaque, msg);
}

/* The next device from *k on named like s, or d->n_devs. */
static size_t find_dev(const struct vms_vmdesc *d, size_t k,
                       const struct vms_section *s)
{
    for (; k < d->n_devs; k++) {
        if (strcmp(d->devs[k].name, s->idstr) == 0 &&
            d->devs[k].instance_id == s->instance_id) {
            return k;
        }
    }
    return k;
}

size_t vms_twin_compare(const struct vms_twin *t,
                        const struct vms_stream *st)
{
    const struct vms_vmdesc *d = st->vmdesc;
    size_t i, j, k = 0, n = 0;

    if (!t || !d) {
        return 0;
    }
    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];
        const struct vms_vmdesc_dev *v;

        if (s->type != VMS_REC_FULL || s->package) {
            continue;
        }
        j = find_dev(d, k, s);
        if (j == d->n_devs) {
            say(t, &n, "the vmdesc of %s does not list section %s#%u "
                "(version %u) of this stream", t->path, s->idstr,
                s->instance_id, s->version_id);
            continue;
        }
        for (; k < j; k++) {
            say(t, &n, "the vmdesc of %s lists %s#%u, which this stream "
                "does not have there", t->path, d->devs[k].name,
                d->devs[k].instance_id);
        }
        v = &d->devs[k++];
        if (v->has_vmsd && v->vmsd.version != s->version_id) {
            say(t, &n, "the vmdesc of %s and this stream disagree: section "
                "%s#%u is version %u here, version %u there", t->path,
                s->idstr, s->instance_id, s->version_id, v->vmsd.version);
        }
    }
    for (; k < d->n_devs; k++) {
        say(t, &n, "the vmdesc of %s lists %s#%u, which this stream does "
            "not have", t->path, d->devs[k].name, d->devs[k].instance_id);
    }
    if (n > 5 && t->warn) {
        char msg[256];

        snprintf(msg, sizeof(msg), "the vmdesc of %s and this stream "
                 "disagree in %zu places in all", t->path, n);
        t->warn(t->warn_opaque, msg);
    }
    return n;
}
