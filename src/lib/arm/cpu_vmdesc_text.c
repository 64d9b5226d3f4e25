/*
 * cpu_vmdesc_text.c - the text path of cpu_vmdesc.h: rewriting the cpu
 * entries of QEMU-canonical vmdesc text in one pass, without a JSON parse,
 * from the same field table as the tree path (cpu_vmdesc.c).
 */
#include "config.h"
#include "cpu_vmdesc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cpu_vmdesc_impl.h"
#include "error.h"
#include "vmdesc_json.h"

/* QEMU's text for the cpreg fields of shape s, from the field table. */
static void cpreg_text(struct vms_buf *out, const struct vms_cpu_shape *s)
{
    size_t k;
    int first = 1;

    for (k = 0; k < n_cpreg_fields; k++) {
        const struct cpreg_field *f = &cpreg_fields[k];
        uint32_t count = cpreg_field_count(f, s);
        char t[256];
        int n;

        if (count == 0) {
            continue;
        }
        if (count == 1) {
            n = snprintf(t, sizeof(t), "%s{\"name\": \"%s\", \"type\": "
                         "\"%s\", \"size\": %d}", first ? "" : ", ",
                         f->name, f->type, f->size);
        } else {
            n = snprintf(t, sizeof(t), "%s{\"name\": \"%s\", "
                         "\"array_len\": %u, \"type\": \"%s\", "
                         "\"size\": %d}", first ? "" : ", ", f->name, count,
                         f->type, f->size);
        }
        vms_buf_put(out, t, (size_t)n);
        first = 0;
    }
}

/* One cpu entry head in the vmdesc text, as QEMU writes it:
 * HEAD_PRE I HEAD_MID V HEAD_END (instance I, version V). */
#define HEAD_PRE "{\"name\": \"cpu\", \"instance_id\": "
#define HEAD_MID ", \"vmsd_name\": \"cpu\", \"version\": "
#define HEAD_END ", \"fields\": ["

/* The text every cpreg block begins with, in either layout. */
#define CPREG_FIRST "{\"name\": \"cpreg_vmstate_array_len\", "

struct cpu_head {
    size_t at, len;
    uint64_t instance;
    int version;
};

/* If the text at *p (before end) is lit, move *p past it and return 1. */
static int skip_text(const char **p, const char *end, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0) {
        return 0;
    }
    *p += n;
    return 1;
}

/* Every cpu entry head of json, in text order: one pass.  A head that is
 * not in QEMU's exact form makes the whole text non-canonical (-1). */
static ssize_t find_cpu_heads(const char *json, size_t len,
                              struct cpu_head **out, struct vms_error *err)
{
    const char *p = json, *end = json + len;
    struct cpu_head *h = NULL;
    size_t n = 0, cap = 0;

    *out = NULL;
    while ((p = memmem(p, (size_t)(end - p), HEAD_PRE,
                       sizeof(HEAD_PRE) - 1))) {
        const char *q = p + sizeof(HEAD_PRE) - 1;
        uint64_t inst, ver;

        if (!vms_json_text_uint(&q, end, 10, &inst) ||
            !skip_text(&q, end, HEAD_MID) ||
            !vms_json_text_uint(&q, end, 3, &ver) ||
            !skip_text(&q, end, HEAD_END)) {
            free(h);
            return -1;
        }
        if (n == cap) {
            struct cpu_head *nh;

            cap = cap ? 2 * cap : 16;
            nh = realloc(h, cap * sizeof(*h));
            if (!nh) {
                free(h);
                vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
                return -2;
            }
            h = nh;
        }
        h[n].at = (size_t)(p - json);
        h[n].len = (size_t)(q - p);
        h[n].instance = inst;
        h[n].version = (int)ver;
        n++;
        p = q;
    }
    *out = h;
    return (ssize_t)n;
}

/* The only head of instance inst, or NULL if there is none or several. */
static const struct cpu_head *only_head(const struct cpu_head *h, size_t n,
                                        uint64_t inst)
{
    const struct cpu_head *found = NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        if (h[i].instance == inst) {
            if (found) {
                return NULL;
            }
            found = &h[i];
        }
    }
    return found;
}

static int same_shape(const struct vms_cpu_shape *a,
                      const struct vms_cpu_shape *b)
{
    return a->layout == b->layout && a->n == b->n &&
           (a->layout == 22 || a->m == b->m);
}

int vms_vmdesc_cpu_splice(const char *json, size_t len,
                          const struct vms_cpu_vmdesc_edit *edits,
                          size_t n_edits, struct vms_buf *out,
                          struct vms_error *err)
{
    const char *pos = json, *end = json + len;
    size_t mark = out->len, i, fmt = SIZE_MAX;
    struct vms_buf old = { 0 }, new_ = { 0 };
    struct cpu_head *heads;
    ssize_t n_heads;
    int rc = 1;

    n_heads = find_cpu_heads(json, len, &heads, err);
    if (n_heads < 0) {
        return n_heads == -1 ? 1 : -1;
    }
    for (i = 0; i < n_edits; i++) {
        const struct vms_cpu_vmdesc_edit *e = &edits[i];
        const struct cpu_head *h;
        const char *at, *body, *blk;
        char head[160];
        int hl;

        h = only_head(heads, (size_t)n_heads, e->instance);
        if (!h || h->version != e->from.layout || json + h->at < pos) {
            goto out;
        }
        at = json + h->at;
        body = at + h->len;
        /* The vCPUs of a VM mostly share their counts: format once. */
        if (fmt == SIZE_MAX || !same_shape(&e->from, &edits[fmt].from) ||
            !same_shape(&e->to, &edits[fmt].to)) {
            old.len = new_.len = 0;
            cpreg_text(&old, &e->from);
            cpreg_text(&new_, &e->to);
            if (old.nomem || new_.nomem) {
                vms_buf_check(old.nomem ? &old : &new_, err);
                rc = -1;
                goto out;
            }
            fmt = i;
        }
        /* Both blocks begin with the same first field: the old block must
         * be its first occurrence in the entry, so the new text cannot be
         * there before it (and a short needle keeps memmem fast). */
        blk = memmem(body, (size_t)(end - body), CPREG_FIRST,
                     sizeof(CPREG_FIRST) - 1);
        if (!blk || (size_t)(end - blk) < old.len ||
            memcmp(blk, old.p, old.len) != 0 ||
            memmem(body, (size_t)(blk - body), "\"instance_id\": ", 15)) {
            goto out;       /* not in this entry */
        }
        hl = snprintf(head, sizeof(head), HEAD_PRE "%u" HEAD_MID "%d"
                      HEAD_END, e->instance, e->to.layout);
        vms_buf_put(out, pos, (size_t)(at - pos));
        vms_buf_put(out, head, (size_t)hl);
        vms_buf_put(out, body, (size_t)(blk - body));
        vms_buf_put(out, new_.p, new_.len);
        pos = blk + old.len;
    }
    vms_buf_put(out, pos, (size_t)(end - pos));
    rc = vms_buf_check(out, err) < 0 ? -1 : 0;
out:
    if (rc != 0) {
        out->len = mark;
    }
    vms_buf_free(&old);
    vms_buf_free(&new_);
    free(heads);
    return rc;
}
