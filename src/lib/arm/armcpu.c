#include "config.h"
#include "armcpu.h"

#include <stdlib.h>
#include <string.h>

#include "armcpu_impl.h"
#include "layout.h"
#include "stream.h"
#include "wire.h"

void vms_armcpu_fini(struct vms_armcpu *c)
{
    size_t i;

    free(c->ids);
    free(c->values);
    free(c->value_idx);
    free(c->subs);
    for (i = 0; i < c->n_subs; i++) {
        free(c->sub_names[i]);
    }
    free(c->sub_names);
    memset(c, 0, sizeof(*c));
}

struct rd {
    const uint8_t *p;
    size_t len, pos;
    uint64_t base;
    struct vms_error *err;
};

static int need(struct rd *r, size_t n, const char *what)
{
    if (n > r->len - r->pos) {
        vms_error_set(r->err, VMS_E_FORMAT, r->base + r->pos,
                      "cpu section body ends inside %s (%zu bytes needed, "
                      "%zu left)", what, n, r->len - r->pos);
        return -1;
    }
    return 0;
}

static uint32_t u32(struct rd *r)
{
    uint32_t v = vms_get_be32(r->p + r->pos);

    r->pos += 4;
    return v;
}

static uint64_t u64(struct rd *r)
{
    uint64_t v = vms_get_be64(r->p + r->pos);

    r->pos += 8;
    return v;
}

static int read_count(struct rd *r, int32_t *v, int32_t max,
                      const char *name)
{
    if (need(r, 4, name) < 0) {
        return -1;
    }
    *v = (int32_t)u32(r);
    if (*v < 0 || *v > max) {
        vms_error_set(r->err, VMS_E_FORMAT, r->base + r->pos - 4,
                      "%s is %d (a destination accepts 0..its own count; "
                      "vmstream reads at most %d)", name, *v, max);
        return -1;
    }
    return 0;
}

static const struct vms_vmsd *cpu_sub_layout(const char *name,
                                             struct vms_error *err)
{
    const struct vms_vmsd *main = vms_builtin_vmsd("cpu@v22", err);
    size_t i;

    for (i = 0; main && i < main->n_subs; i++) {
        if (strcmp(main->subs[i].name, name) == 0) {
            return &main->subs[i];
        }
    }
    return NULL;
}

static void decode_vfp(struct vms_armcpu *c, const uint8_t *p)
{
    int k;

    c->has_vfp = 1;
    for (k = 0; k < 32; k++) {
        c->vfp_d[k][0] = vms_get_be64(p + 16 * k);
        c->vfp_d[k][1] = vms_get_be64(p + 16 * k + 8);
    }
    c->fpsid = vms_get_be32(p + 512);
    for (k = 0; k < 14; k++) {
        c->vfp_xregs[k] = vms_get_be32(p + 516 + 4 * k);
    }
    c->fpscr = vms_get_be32(p + 572);
}

/* Subsections: kept verbatim; names recorded; vfp/irq decoded.  The bytes
 * must be a sequence of well-formed "cpu/..." subsections. */
static int scan_subsections(struct rd *r, struct vms_armcpu *c)
{
    while (r->pos < r->len) {
        size_t start = r->pos, nlen, used = 0;
        char name[VMS_IDSTR_BUF];
        const struct vms_vmsd *v;
        char **names;
        struct vms_error e;

        if (r->p[r->pos] != VMS_REC_SUBSECTION || need(r, 2, "subsection")) {
            vms_error_set(r->err, VMS_E_FORMAT, r->base + r->pos,
                          "byte 0x%02x where a cpu subsection or the end of "
                          "the section was expected", r->p[r->pos]);
            return -1;
        }
        nlen = r->p[r->pos + 1];
        if (need(r, 2 + nlen + 4, "subsection header") < 0) {
            return -1;
        }
        memcpy(name, r->p + r->pos + 2, nlen);
        name[nlen] = '\0';
        if (strncmp(name, "cpu/", 4) != 0) {
            vms_error_set(r->err, VMS_E_FORMAT, r->base + r->pos,
                          "subsection \"%s\" does not belong to cpu", name);
            return -1;
        }
        r->pos += 2 + nlen + 4;
        names = realloc(c->sub_names, (c->n_subs + 1) * sizeof(*names));
        if (!names) {
            vms_error_set(r->err, VMS_E_NOMEM, r->base + start,
                          "out of memory recording subsection \"%s\"", name);
            return -1;
        }
        c->sub_names = names;
        if (!(c->sub_names[c->n_subs] = strdup(name))) {
            vms_error_set(r->err, VMS_E_NOMEM, r->base + start,
                          "out of memory recording subsection \"%s\"", name);
            return -1;
        }
        c->n_subs++;
        v = cpu_sub_layout(name, r->err);
        if (!v && vms_error_isset(r->err)) {
            return -1;
        }
        vms_error_clear(&e);
        if (!v || vms_walk(v, r->p + r->pos, r->len - r->pos,
                           r->base + r->pos, 1, NULL, NULL, &used, &e) < 0) {
            /* Unknown to us: the section was delimited by its vmdesc or
             * footer, so keep the rest verbatim. */
            r->pos = r->len;
            break;
        }
        if (strcmp(name, "cpu/vfp") == 0 && used >= 576) {
            decode_vfp(c, r->p + r->pos);
        } else if (strcmp(name, "cpu/sve") == 0 && used == 32 * 112 + 17 * 32) {
            const uint8_t *q = r->p + r->pos;
            int k, j;

            c->has_sve = 1;
            for (k = 0; k < 32; k++) {
                for (j = 0; j < 14; j++) {
                    c->sve_z_hi[k][j] = vms_get_be64(q + 112 * k + 8 * j);
                }
            }
            for (k = 0; k < 17; k++) {
                for (j = 0; j < 4; j++) {
                    c->sve_p[k][j] = vms_get_be64(q + 32 * 112 +
                                                  32 * k + 8 * j);
                }
            }
        } else if (strcmp(name, "cpu/irq-line-state") == 0) {
            c->has_irq_line_state = 1;
            c->irq_line_state = vms_get_be32(r->p + r->pos);
        }
        r->pos += used;
    }
    return 0;
}

int vms_armcpu_decode(const uint8_t *body, size_t len, uint64_t body_off,
                      int layout, struct vms_armcpu *c,
                      struct vms_error *err)
{
    struct rd r = { body, len, 0, body_off, err };
    const struct vms_armcpu_fixed *k = vms_armcpu_fixed(layout);
    int32_t i;

    memset(c, 0, sizeof(*c));
    c->layout = layout;
    c->body_offset = body_off;
    if (!k) {
        vms_error_set_nooff(err, VMS_E_UNSUPPORTED, "the builtin cpu@v%d "
                            "layout does not fit the cpu model", layout);
        return -1;
    }
    if (need(&r, k->head_len, "the core registers") < 0) {
        return -1;
    }
    vms_armcpu_fixed_decode(k, 0, r.p + r.pos, c);
    r.pos += k->head_len;
    c->n_offset = body_off + r.pos;
    if (read_count(&r, &c->n, VMS_MAX_CPREGS,
                   "cpreg_vmstate_array_len") < 0) {
        return -1;
    }
    c->m = c->n;
    if (layout == 23) {
        c->m_offset = body_off + r.pos;
        if (read_count(&r, &c->m, VMS_MAX_CPREG_SLOTS,
                       "cpreg_vmstate_value_array_len") < 0) {
            return -1;
        }
    }
    c->ids_offset = body_off + r.pos;
    if (need(&r, (size_t)c->n * 8, "cpreg_vmstate_indexes") < 0) {
        return -1;
    }
    c->ids = malloc(((size_t)c->n + 1) * 8);
    c->values = malloc(((size_t)c->m + 1) * 8);
    if (!c->ids || !c->values) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    for (i = 0; i < c->n; i++) {
        c->ids[i] = u64(&r);
    }
    c->values_offset = body_off + r.pos;
    if (need(&r, (size_t)c->m * 8, "cpreg_vmstate_values") < 0) {
        return -1;
    }
    for (i = 0; i < c->m; i++) {
        c->values[i] = u64(&r);
    }
    if (layout == 23) {
        c->vidx_offset = body_off + r.pos;
        if (need(&r, (size_t)c->n * 4, "cpreg_vmstate_value_indexes") < 0) {
            return -1;
        }
        c->value_idx = malloc(((size_t)c->n + 1) * 4);
        if (!c->value_idx) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            return -1;
        }
        for (i = 0; i < c->n; i++) {
            c->value_idx[i] = u32(&r);
        }
    }
    c->tail_offset = body_off + r.pos;
    if (need(&r, k->tail_len, "the fields after the cpreg list") < 0) {
        return -1;
    }
    vms_armcpu_fixed_decode(k, 1, r.p + r.pos, c);
    r.pos += k->tail_len;
    c->subs_offset = body_off + r.pos;
    c->subs_len = len - r.pos;
    c->subs = malloc(c->subs_len ? c->subs_len : 1);
    if (!c->subs) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    memcpy(c->subs, body + r.pos, c->subs_len);
    if (scan_subsections(&r, c) < 0) {
        return -1;
    }
    c->end_offset = body_off + len;
    return 0;
}

int vms_armcpu_layout_of(const struct vms_section *s)
{
    size_t i;
    const struct vms_vmsd *v = s->layout;

    if (v && strcmp(v->name, "cpu@v22") == 0) {
        return 22;
    }
    if (v && strcmp(v->name, "cpu@v23") == 0) {
        return 23;
    }
    if (v) {
        for (i = 0; i < v->n_fields; i++) {
            if (strcmp(v->fields[i].name,
                       "cpreg_vmstate_value_array_len") == 0 ||
                strcmp(v->fields[i].name,
                       "cpreg_vmstate_value_indexes") == 0) {
                return 23;
            }
        }
        for (i = 0; i < v->n_fields; i++) {
            if (strcmp(v->fields[i].name, "cpreg_vmstate_array_len") == 0) {
                return 22;
            }
        }
    }
    return -1;
}

int vms_armcpu_from_section(const struct vms_section *s,
                            struct vms_armcpu *c, struct vms_error *err)
{
    const uint8_t *body = vms_section_body(s);
    int layout = vms_armcpu_layout_of(s);
    int rc;

    memset(c, 0, sizeof(*c));
    if (!body) {
        vms_error_set(err, VMS_E_FORMAT, s->offset,
                      "cpu section is not held in memory");
        return -1;
    }
    if (layout < 0) {
        /* Footer-delimited: let the bytes decide. */
        struct vms_error e;

        vms_error_clear(&e);
        rc = vms_armcpu_decode(body, (size_t)s->body_len, s->body_offset,
                               22, c, &e);
        if (rc == 0) {
            goto done;
        }
        vms_armcpu_fini(c);
        layout = 23;
    }
    rc = vms_armcpu_decode(body, (size_t)s->body_len, s->body_offset,
                           layout, c, err);
    if (rc < 0) {
        vms_error_section(err, s->idstr, s->section_id, s->instance_id);
        return -1;
    }
done:
    c->instance_id = s->instance_id;
    c->section_version = s->version_id;
    return 0;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
    vms_put_be32(p, v);
    return p + 4;
}

static uint8_t *put64(uint8_t *p, uint64_t v)
{
    vms_put_be64(p, v);
    return p + 8;
}

uint32_t vms_armcpu_slot(const struct vms_armcpu *c, int32_t i)
{
    return c->layout == 23 && c->value_idx ? c->value_idx[i] : (uint32_t)i;
}

uint64_t vms_armcpu_value(const struct vms_armcpu *c, int32_t i)
{
    uint32_t slot = vms_armcpu_slot(c, i);

    return slot < (uint32_t)c->m ? c->values[slot] : 0;
}

int64_t vms_armcpu_slots(const struct vms_armcpu *c, int32_t i)
{
    int64_t next;

    if (c->layout != 23 || !c->value_idx) {
        return 1;
    }
    next = i + 1 < c->n ? (int64_t)c->value_idx[i + 1] : (int64_t)c->m;
    return next - (int64_t)c->value_idx[i];
}

uint8_t *vms_armcpu_encode(const struct vms_armcpu *c, int layout,
                           size_t *len, struct vms_error *err)
{
    size_t n = (size_t)c->n, m = (size_t)c->m, size;
    const struct vms_armcpu_fixed *k = vms_armcpu_fixed(layout);
    uint8_t *out, *p;
    int i;

    if (!k) {
        vms_error_set_nooff(err, VMS_E_UNSUPPORTED, "the builtin cpu@v%d "
                            "layout does not fit the cpu model", layout);
        return NULL;
    }
    if (layout == 22) {
        size_t v;

        if (c->layout == 23) {
            if (m != n) {
                vms_error_set(err, VMS_E_CONVERT, c->vidx_offset,
                              "v22 has one 8-byte slot per register, but "
                              "this vCPU has %zu registers in %zu slots",
                              n, m);
                return NULL;
            }
            for (v = 0; v < n; v++) {
                if (c->value_idx[v] != v) {
                    vms_error_set(err, VMS_E_CONVERT,
                                  c->vidx_offset + 4 * v,
                                  "value index %zu is %u, v22 needs %zu",
                                  v, c->value_idx[v], v);
                    return NULL;
                }
            }
        }
        m = n;
        size = k->head_len + 4 + 16 * n;
    } else {
        size = k->head_len + 8 + 12 * n + 8 * m;
    }
    size += k->tail_len + c->subs_len;
    out = malloc(size);
    if (!out) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    p = vms_armcpu_fixed_encode(k, 0, out, c);
    p = put32(p, (uint32_t)n);
    if (layout == 23) {
        p = put32(p, (uint32_t)m);
    }
    for (i = 0; i < (int)n; i++) {
        p = put64(p, c->ids[i]);
    }
    for (i = 0; i < (int)m; i++) {
        p = put64(p, c->values[i]);
    }
    if (layout == 23) {
        for (i = 0; i < (int)n; i++) {
            p = put32(p, c->layout == 23 ? c->value_idx[i] : (uint32_t)i);
        }
    }
    p = vms_armcpu_fixed_encode(k, 1, p, c);
    memcpy(p, c->subs, c->subs_len);
    *len = size;
    return out;
}
