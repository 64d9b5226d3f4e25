#include "config.h"
#include "layout.h"

#include <stdio.h>
#include <string.h>

#include "wire.h"

struct walk {
    const uint8_t *body;
    size_t len;
    uint64_t base;
    int builtin;
    const struct vms_walk_ops *ops;
    void *opaque;
    struct vms_error *err;
};

static size_t prefix_len(const char *name)
{
    const char *at = strchr(name, '@');

    return at ? (size_t)(at - name) : strlen(name);
}

static int walk_vmsd(struct walk *w, const struct vms_vmsd *v, size_t *pos,
                     size_t end, int depth);

/* A field's element count from an earlier int32 field (builtin only). */
static int count_from(struct walk *w, const struct vms_vmsd *v,
                      const size_t *field_pos, const struct vms_field *f,
                      uint32_t *count)
{
    const struct vms_field *src = &v->fields[f->count_from];
    int32_t n = (int32_t)vms_get_be32(w->body + field_pos[f->count_from]);

    if (n < 0 || n > VMS_MAX_CPREG_SLOTS) {
        vms_error_set(w->err, VMS_E_FORMAT,
                      w->base + field_pos[f->count_from],
                      "%s.%s is %d: a destination rejects a negative count, "
                      "and vmstream accepts at most %d", v->name, src->name,
                      n, VMS_MAX_CPREG_SLOTS);
        return -1;
    }
    *count = (uint32_t)n;
    return 0;
}

static int walk_fields(struct walk *w, const struct vms_vmsd *v, size_t *pos,
                       size_t end, int depth)
{
    size_t field_pos[256];
    size_t i;

    for (i = 0; i < v->n_fields; i++) {
        const struct vms_field *f = &v->fields[i];
        uint32_t count = f->count;
        uint64_t total;

        if (i < 256) {
            field_pos[i] = *pos;
        }
        if (f->count_from >= 0 && (size_t)f->count_from < i &&
            f->count_from < 256) {
            if (count_from(w, v, field_pos, f, &count) < 0) {
                return -1;
            }
        }
        total = (uint64_t)count * f->size;
        if (total > end - *pos) {
            vms_error_set(w->err, VMS_E_TRUNCATED, w->base + end,
                          "%s ends inside field %s (%llu bytes needed at "
                          "offset %llu, %zu left)", v->name, f->name,
                          (unsigned long long)total,
                          (unsigned long long)(w->base + *pos), end - *pos);
            return -1;
        }
        struct vms_walk_field ev = {
            .path = v->name,
            .field = f,
            .data = w->body + *pos,
            .offset = w->base + *pos,
            .count = count,
            .elem_size = f->size,
            .depth = depth,
        };

        if (w->ops && w->ops->field && w->ops->field(w->opaque, &ev) < 0) {
            return -1;
        }
        if (f->sub && !w->builtin) {
            uint32_t k, n = count;
            size_t p = *pos;

            /* 0-byte elements all walk alike (from the same position, to
             * the same end): walk one, not up to 2^32 of them per level. */
            if (f->size == 0 && n > 1) {
                n = 1;
            }
            /* A struct element is a nested vmsd body incl. subsections. */
            for (k = 0; k < n; k++) {
                size_t e = p + f->size;

                if (w->ops && w->ops->struct_begin &&
                    w->ops->struct_begin(w->opaque, &ev, k) < 0) {
                    return -1;
                }
                if (walk_vmsd(w, f->sub, &p, e, depth + 1) < 0) {
                    return -1;
                }
                if (w->ops && w->ops->struct_end &&
                    w->ops->struct_end(w->opaque, &ev, k) < 0) {
                    return -1;
                }
                if (p != e) {
                    vms_error_set(w->err, VMS_E_FORMAT, w->base + p,
                                  "struct %s[%u] is %zu bytes, the vmdesc "
                                  "says %u", f->name, k,
                                  p - (e - f->size), f->size);
                    return -1;
                }
            }
        }
        *pos += (size_t)total;
    }
    return 0;
}

static const struct vms_vmsd *find_sub(const struct vms_vmsd *v,
                                       const uint8_t *name, size_t len)
{
    size_t i;

    for (i = 0; i < v->n_subs; i++) {
        if (strlen(v->subs[i].name) == len &&
            memcmp(v->subs[i].name, name, len) == 0) {
            return &v->subs[i];
        }
    }
    return NULL;
}

/* QEMU's vmstate_subsection_load(): peek 0x05, a length and the name; a
 * name not prefixed by the parent's is not a subsection (it belongs to
 * whatever follows). */
static int walk_subsections(struct walk *w, const struct vms_vmsd *v,
                            size_t *pos, size_t end, int depth)
{
    size_t plen = prefix_len(v->name);

    while (*pos < end && w->body[*pos] == VMS_REC_SUBSECTION) {
        size_t start = *pos, nlen;
        const uint8_t *name;
        const struct vms_vmsd *sub;
        uint32_t version;
        char namebuf[VMS_IDSTR_BUF];

        if (end - *pos < 2) {
            vms_error_set(w->err, VMS_E_TRUNCATED, w->base + end,
                          "subsection header cut short");
            return -1;
        }
        nlen = w->body[*pos + 1];
        if (nlen < plen + 1) {
            break;
        }
        if (end - *pos < 2 + nlen) {
            size_t have = end - *pos - 2;

            if (memcmp(w->body + *pos + 2, v->name,
                       have < plen ? have : plen) == 0) {
                vms_error_set(w->err, VMS_E_TRUNCATED, w->base + end,
                              "subsection name cut short");
                return -1;
            }
            break;
        }
        name = w->body + *pos + 2;
        if (memcmp(name, v->name, plen) != 0) {
            break;
        }
        memcpy(namebuf, name, nlen);
        namebuf[nlen] = '\0';
        if (depth >= (int)VMS_MAX_NESTING) {
            vms_error_set(w->err, VMS_E_LIMIT, w->base + start,
                          "subsections nested deeper than %u",
                          VMS_MAX_NESTING);
            return -1;
        }
        sub = find_sub(v, name, nlen);
        if (!sub) {
            vms_error_set(w->err, VMS_E_FORMAT, w->base + start,
                          w->builtin
                              ? "subsection %s has no builtin layout; this "
                                "stream needs its vmdesc to be read"
                              : "subsection %s is not in the vmdesc (QEMU "
                                "fails with \"No such file or directory\" "
                                "if it does not know it either)",
                          namebuf);
            return -1;
        }
        if (end - *pos < 2 + nlen + 4) {
            vms_error_set(w->err, VMS_E_TRUNCATED, w->base + end,
                          "subsection %s header cut short", namebuf);
            return -1;
        }
        version = vms_get_be32(w->body + *pos + 2 + nlen);
        *pos += 2 + nlen + 4;
        if (w->ops && w->ops->subsection) {
            struct vms_walk_sub ev = { namebuf, version, w->base + start,
                                       depth };
            if (w->ops->subsection(w->opaque, &ev) < 0) {
                return -1;
            }
        }
        if (walk_vmsd(w, sub, pos, end, depth + 1) < 0) {
            return -1;
        }
        if (w->ops && w->ops->subsection_end) {
            struct vms_walk_sub ev = { namebuf, version, w->base + start,
                                       depth };
            if (w->ops->subsection_end(w->opaque, &ev) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

static int walk_vmsd(struct walk *w, const struct vms_vmsd *v, size_t *pos,
                     size_t end, int depth)
{
    if (depth > (int)VMS_MAX_NESTING) {
        vms_error_set(w->err, VMS_E_LIMIT, w->base + *pos,
                      "layout nested deeper than %u", VMS_MAX_NESTING);
        return -1;
    }
    if (walk_fields(w, v, pos, end, depth) < 0) {
        return -1;
    }
    return walk_subsections(w, v, pos, end, depth);
}

int vms_walk(const struct vms_vmsd *v, const uint8_t *body, size_t len,
             uint64_t body_off, int builtin, const struct vms_walk_ops *ops,
             void *opaque, size_t *used, struct vms_error *err)
{
    struct walk w = { body, len, body_off, builtin, ops, opaque, err };
    size_t pos = 0;

    if (walk_vmsd(&w, v, &pos, len, 0) < 0) {
        return -1;
    }
    *used = pos;
    return 0;
}
