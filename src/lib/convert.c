#include "config.h"
#include "convert.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpreg.h"
#include "vmdesc_json.h"
#include "wire.h"

struct buf {
    uint8_t *p;
    size_t len, cap;
};

static int buf_put(struct buf *b, const void *d, size_t n,
                   struct vms_error *err)
{
    if (n == 0) {
        return 0;           /* b->p may still be NULL */
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 64 * 1024;
        uint8_t *np;

        while (cap < b->len + n) {
            cap *= 2;
        }
        np = realloc(b->p, cap);
        if (!np) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            return -1;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

struct conv {
    const struct vms_convert_opts *o;
    struct vms_sink *sink;
    struct vms_convert_result *r;
    struct vms_armcpu *cpus;       /* converted, for verify and vmdesc */
    size_t n_cpus;
    int *orig_layout;
    int32_t *orig_n, *orig_m;

    /* The device state converted while the vmdesc was still arriving
     * (on_region_ready): its output, result and what to undo if the end
     * of the input shows it was not the body after all. */
    struct buf early_out;
    size_t early_written;       /* of early_out, already in the sink */
    int early;
    int early_rc;
    struct vms_error early_err;
    size_t early_first_cpu;
    struct vms_convert_result early_r0;
};

static int is_dropped(const uint64_t *drop, size_t n, uint64_t id)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (drop[i] == id) {
            return 1;
        }
    }
    return 0;
}

/* Remove the dropped registers (and their value slots) from c. */
static size_t apply_drop(struct vms_armcpu *c, const uint64_t *drop,
                         size_t n_drop)
{
    int32_t i, w = 0;
    uint32_t slot = 0;
    size_t removed = 0;
    uint64_t *vals = c->values;

    for (i = 0; i < c->n; i++) {
        int64_t slots = vms_armcpu_slots(c, i);
        uint32_t first = c->layout == 23 ? c->value_idx[i] : (uint32_t)i;

        if (is_dropped(drop, n_drop, c->ids[i])) {
            removed++;
            continue;
        }
        c->ids[w] = c->ids[i];
        if (c->layout == 23) {
            memmove(vals + slot, vals + first, (size_t)slots * 8);
            c->value_idx[w] = slot;
            slot += (uint32_t)slots;
        } else {
            vals[w] = vals[i];
        }
        w++;
    }
    c->n = w;
    c->m = c->layout == 23 ? (int32_t)slot : w;
    return removed;
}

int vms_convert_cpu(struct vms_armcpu *c, int to_layout,
                    const uint64_t *drop, size_t n_drop, size_t *dropped,
                    struct vms_error *err)
{
    int32_t i;
    char names[400] = "";
    size_t used = 0, bad = 0;

    if (c->layout == 23) {
        /* The slot map must be sane before anything is moved. */
        for (i = 0; i < c->n; i++) {
            int64_t s = vms_armcpu_slots(c, i);

            if (c->value_idx[i] > (uint32_t)c->m || s < 1 ||
                (i == 0 && c->value_idx[0] != 0)) {
                vms_error_set(err, VMS_E_CONVERT, c->vidx_offset + 4u * i,
                              "vCPU %u: value index %d of register 0x%016llx "
                              "is inconsistent (slot %u, %lld slots, %d in "
                              "all): run 'vmstream check' for details",
                              c->instance_id, i,
                              (unsigned long long)c->ids[i],
                              c->value_idx[i], (long long)s, c->m);
                return -1;
            }
        }
    }
    *dropped += apply_drop(c, drop, n_drop);
    if (to_layout == 22 && c->layout == 23) {
        for (i = 0; i < c->n; i++) {
            if (vms_armcpu_slots(c, i) != 1) {
                char name[96];

                bad++;
                vms_cpreg_name(c->ids[i], vms_cpreg_guess_ctx(c->ids, c->n),
                               name, sizeof(name));
                if (used < sizeof(names) - 120) {
                    used += (size_t)snprintf(names + used,
                                             sizeof(names) - used,
                                             "%s%s (0x%016llx, %lld slots)",
                                             bad > 1 ? ", " : "", name,
                                             (unsigned long long)c->ids[i],
                                             (long long)vms_armcpu_slots(c,
                                                                         i));
                }
            }
        }
        if (bad) {
            vms_error_set(err, VMS_E_CONVERT, c->vidx_offset,
                          "vCPU %u: v22 carries 8 bytes per register; %zu "
                          "register(s) need more: %s. Use --drop to leave "
                          "them out (the destination then keeps its reset "
                          "values)", c->instance_id, bad, names);
            return -1;
        }
        for (i = 0; i < c->n; i++) {
            c->values[i] = c->values[c->value_idx[i]];
        }
        free(c->value_idx);
        c->value_idx = NULL;
        c->m = c->n;
        c->layout = 22;
    } else if (to_layout == 23 && c->layout == 22) {
        c->value_idx = malloc(((size_t)c->n + 1) * sizeof(*c->value_idx));
        if (!c->value_idx) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            return -1;
        }
        for (i = 0; i < c->n; i++) {
            c->value_idx[i] = (uint32_t)i;
        }
        c->m = c->n;
        c->layout = 23;
    }
    return 0;
}

/* Rebuild a vmdesc field entry with a new count, QEMU's key order. */
static json_object *field_entry(json_object *old, uint32_t count)
{
    json_object *e = json_object_new_object(), *v;

    json_object_object_get_ex(old, "name", &v);
    json_object_object_add(e, "name", json_object_get(v));
    if (count > 1) {
        json_object_object_add(e, "array_len", json_object_new_int64(count));
    }
    json_object_object_get_ex(old, "type", &v);
    json_object_object_add(e, "type", json_object_get(v));
    json_object_object_get_ex(old, "size", &v);
    json_object_object_add(e, "size", json_object_get(v));
    return e;
}

static json_object *find_cpu_dev(json_object *root, uint32_t inst)
{
    json_object *devs, *v;
    size_t i;

    if (!json_object_object_get_ex(root, "devices", &devs)) {
        return NULL;
    }
    for (i = 0; i < json_object_array_length(devs); i++) {
        json_object *d = json_object_array_get_idx(devs, i);

        if (json_object_object_get_ex(d, "name", &v) &&
            strcmp(json_object_get_string(v), "cpu") == 0 &&
            json_object_object_get_ex(d, "instance_id", &v) &&
            (uint32_t)json_object_get_int64(v) == inst) {
            return d;
        }
    }
    return NULL;
}

/* After registers were dropped: fix the counts of the cpreg entries. */
static int set_counts(json_object *root, uint32_t inst, uint32_t n,
                      uint32_t m, struct vms_error *err)
{
    json_object *dev = find_cpu_dev(root, inst), *fields, *nf;
    size_t i;

    if (!dev || !json_object_object_get_ex(dev, "fields", &fields)) {
        vms_error_set_nooff(err, VMS_E_FORMAT, "vmdesc has no cpu entry "
                            "for instance %u", inst);
        return -1;
    }
    nf = json_object_new_array();
    for (i = 0; i < json_object_array_length(fields); i++) {
        json_object *f = json_object_array_get_idx(fields, i), *v;
        const char *name = "";
        uint32_t count = 0;
        int is_array = 1;

        if (json_object_object_get_ex(f, "name", &v)) {
            name = json_object_get_string(v);
        }
        if (strcmp(name, "cpreg_vmstate_indexes") == 0 ||
            strcmp(name, "cpreg_vmstate_value_indexes") == 0) {
            count = n;
        } else if (strcmp(name, "cpreg_vmstate_values") == 0) {
            count = m;
        } else {
            is_array = 0;
        }
        if (!is_array) {
            json_object_array_add(nf, json_object_get(f));
        } else if (count > 0) {
            json_object_array_add(nf, field_entry(f, count));
        }
    }
    json_object_object_add(dev, "fields", nf);
    return 0;
}

/* QEMU's vmdesc text for the cpreg entries of one cpu (wire-format
 * §2.5, §5.2): count 0 = no entry, count 1 = no "array_len". */
static size_t cpreg_entry(char *out, size_t len, const char *name,
                          int32_t count, const char *type, int size,
                          int *first)
{
    size_t n;

    if (count == 0) {
        return 0;
    }
    if (count == 1) {
        n = (size_t)snprintf(out, len, "%s{\"name\": \"%s\", \"type\": "
                             "\"%s\", \"size\": %d}", *first ? "" : ", ",
                             name, type, size);
    } else {
        n = (size_t)snprintf(out, len, "%s{\"name\": \"%s\", \"array_len\": "
                             "%d, \"type\": \"%s\", \"size\": %d}",
                             *first ? "" : ", ", name, count, type, size);
    }
    *first = 0;
    return n < len ? n : len;
}

/* The text both layouts' cpreg blocks begin with. */
#define CPREG_FIRST "{\"name\": \"cpreg_vmstate_array_len\", "
#define CPREG_FIRST_LEN (sizeof(CPREG_FIRST) - 1)

static size_t cpreg_block(char *out, size_t len, int layout, int32_t n,
                          int32_t m)
{
    size_t k = 0;
    int first = 1;

    k += cpreg_entry(out + k, len - k, "cpreg_vmstate_array_len", 1,
                     "int32 le", 4, &first);
    if (layout == 23) {
        k += cpreg_entry(out + k, len - k, "cpreg_vmstate_value_array_len",
                         1, "int32 le", 4, &first);
    }
    k += cpreg_entry(out + k, len - k, "cpreg_vmstate_indexes", n, "uint64",
                     8, &first);
    k += cpreg_entry(out + k, len - k, "cpreg_vmstate_values",
                     layout == 23 ? m : n, "uint64", 8, &first);
    if (layout == 23) {
        k += cpreg_entry(out + k, len - k, "cpreg_vmstate_value_indexes", n,
                         "uint32", 4, &first);
    }
    return k;
}

/* One cpu entry head in the vmdesc text, as QEMU writes it:
 * HEAD_PRE I HEAD_MID V HEAD_END (instance I, version V). */
#define HEAD_PRE "{\"name\": \"cpu\", \"instance_id\": "
#define HEAD_MID ", \"vmsd_name\": \"cpu\", \"version\": "
#define HEAD_END ", \"fields\": ["

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

/*
 * Fast path: edit the JSON text in place of parsing it.  QEMU writes the
 * vmdesc canonically, so each converted cpu entry and its cpreg entries
 * are found as the exact text QEMU would have written for the old layout
 * and replaced by the text for the new one.  The edit is made only where
 * the reverse edit would undo it exactly: one head per instance, the old
 * cpreg text inside that entry, the new text not already there.  Returns
 * 1 if anything does not match (the caller then parses the JSON), 0 on
 * success.
 */
static int splice_vmdesc(struct conv *c, const struct vms_stream *st,
                         struct buf *out, struct vms_error *err)
{
    const char *json = st->vmdesc_json, *end = json + st->vmdesc_len;
    const char *pos = json;
    size_t mark = out->len;
    struct cpu_head *heads;
    ssize_t n_heads;
    uint8_t hdr[5] = { VMS_REC_VMDESC, 0, 0, 0, 0 };
    char old[640], new_[640];
    size_t i, ol = 0, nl = 0, fmt = SIZE_MAX;   /* old/new_ are for cpu fmt */
    int rc = 1;

    n_heads = find_cpu_heads(json, st->vmdesc_len, &heads, err);
    if (n_heads < 0) {
        return n_heads == -1 ? 1 : -1;
    }
    if (buf_put(out, hdr, 5, err) < 0) {     /* length filled in below */
        free(heads);
        return -1;
    }
    for (i = 0; i < c->n_cpus; i++) {
        const struct vms_armcpu *cpu = &c->cpus[i];
        const struct cpu_head *h;
        char head[160];
        const char *at, *body, *blk;
        size_t hl;

        if (cpu->layout == c->orig_layout[i] && cpu->n == c->orig_n[i] &&
            cpu->m == c->orig_m[i]) {
            continue;
        }
        h = only_head(heads, (size_t)n_heads, cpu->instance_id);
        if (!h || h->version != c->orig_layout[i] || json + h->at < pos) {
            goto out;
        }
        at = json + h->at;
        body = at + h->len;
        /* The vCPUs of a VM mostly share their counts: format once. */
        if (fmt == SIZE_MAX || c->orig_layout[i] != c->orig_layout[fmt] ||
            c->orig_n[i] != c->orig_n[fmt] || c->orig_m[i] != c->orig_m[fmt] ||
            cpu->layout != c->cpus[fmt].layout || cpu->n != c->cpus[fmt].n ||
            cpu->m != c->cpus[fmt].m) {
            ol = cpreg_block(old, sizeof(old), c->orig_layout[i],
                             c->orig_n[i], c->orig_m[i]);
            nl = cpreg_block(new_, sizeof(new_), cpu->layout, cpu->n, cpu->m);
            fmt = i;
        }
        /* Both blocks begin with the same first entry: the old block must
         * be its first occurrence in the entry, so the new text cannot be
         * there before it (and a short needle keeps memmem fast). */
        blk = memmem(body, (size_t)(end - body), old, CPREG_FIRST_LEN);
        if (!blk || (size_t)(end - blk) < ol || memcmp(blk, old, ol) != 0 ||
            memmem(body, (size_t)(blk - body), "\"instance_id\": ", 15)) {
            goto out;       /* not in this entry */
        }
        hl = (size_t)snprintf(head, sizeof(head),
                              HEAD_PRE "%u" HEAD_MID "%d" HEAD_END,
                              cpu->instance_id, cpu->layout);
        if (buf_put(out, pos, (size_t)(at - pos), err) < 0 ||
            buf_put(out, head, hl, err) < 0 ||
            buf_put(out, body, (size_t)(blk - body), err) < 0 ||
            buf_put(out, new_, nl, err) < 0) {
            rc = -1;
            goto out;
        }
        pos = blk + ol;
    }
    if (buf_put(out, pos, (size_t)(end - pos), err) < 0) {
        rc = -1;
        goto out;
    }
    vms_put_be32(out->p + mark + 1, (uint32_t)(out->len - mark - 5));
    rc = 0;
out:
    if (rc != 0) {
        out->len = mark;
    }
    free(heads);
    return rc;
}

static int rewrite_vmdesc(struct conv *c, struct vms_stream *st,
                          struct buf *out, struct vms_error *err)
{
    json_object *root;
    size_t i, len, mark = out->len;
    char *text;
    uint8_t hdr[5];
    int changed = 0, described, rc;

    rc = splice_vmdesc(c, st, out, err);
    if (rc <= 0) {
        return rc;
    }
    out->len = mark;
    if (!st->vmdesc) {
        st->vmdesc = vms_vmdesc_parse(st->vmdesc_json, st->vmdesc_len,
                                      st->vmdesc_offset + 5, err);
        if (!st->vmdesc) {
            return -1;
        }
    }
    root = st->vmdesc->json;

    for (i = 0; i < c->n_cpus; i++) {
        const struct vms_armcpu *cpu = &c->cpus[i];

        if (cpu->layout == c->orig_layout[i] && cpu->n == c->orig_n[i] &&
            cpu->m == c->orig_m[i]) {
            continue;
        }
        changed = 1;
        described = vms_vmdesc_cpu_layout(root, cpu->instance_id, err);
        if (described < 0) {
            return -1;
        }
        if (described != c->orig_layout[i]) {
            /* Rewriting it would describe the new bytes wrongly. */
            vms_error_set_nooff(err, VMS_E_CONVERT, "the vmdesc describes "
                                "cpu#%u in the v%d layout, but its section "
                                "is v%d: the stream contradicts itself",
                                cpu->instance_id, described,
                                c->orig_layout[i]);
            return -1;
        }
        if (vms_vmdesc_cpu_set_layout(root, cpu->instance_id,
                                      cpu->layout == 23,
                                      (uint32_t)c->orig_n[i],
                                      cpu->layout == 23 &&
                                              c->orig_layout[i] == 23
                                          ? (uint32_t)c->orig_m[i]
                                          : (uint32_t)c->orig_n[i],
                                      err) < 0 ||
            set_counts(root, cpu->instance_id, (uint32_t)cpu->n,
                       (uint32_t)cpu->m, err) < 0) {
            return -1;
        }
    }
    if (!changed) {
        return buf_put(out, st->vmdesc_json - 5, st->vmdesc_len + 5u, err);
    }
    text = vms_json_qemu_serialise(root, &len);
    if (!text) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    hdr[0] = VMS_REC_VMDESC;
    vms_put_be32(hdr + 1, (uint32_t)len);
    if (buf_put(out, hdr, 5, err) < 0 || buf_put(out, text, len, err) < 0) {
        free(text);
        return -1;
    }
    free(text);
    return 0;
}

static int add_cpu(struct conv *c, struct vms_armcpu *cpu, int layout,
                   int32_t n0, int32_t m0, struct vms_error *err)
{
    size_t n = c->n_cpus + 1;
    struct vms_armcpu *cp = realloc(c->cpus, n * sizeof(*cp));
    int *ol = realloc(c->orig_layout, n * sizeof(*ol));
    int32_t *on = realloc(c->orig_n, n * sizeof(*on));
    int32_t *om = realloc(c->orig_m, n * sizeof(*om));

    if (cp) {
        c->cpus = cp;
    }
    if (ol) {
        c->orig_layout = ol;
    }
    if (on) {
        c->orig_n = on;
    }
    if (om) {
        c->orig_m = om;
    }
    if (!cp || !ol || !on || !om) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    c->orig_layout[c->n_cpus] = layout;
    c->orig_n[c->n_cpus] = n0;
    c->orig_m[c->n_cpus] = m0;
    c->cpus[c->n_cpus++] = *cpu;
    return 0;
}

/* Re-encode the sections [first, last) whose bytes lie in
 * data[0..len) (stream offset base) into out. */
static int transform(struct conv *c, struct vms_stream *st, size_t first,
                     size_t last, const uint8_t *data, size_t len,
                     uint64_t base, struct buf *out, struct vms_error *err)
{
    size_t i, pos = 0;

    for (i = first; i < last; i++) {
        const struct vms_section *s = &st->sections[i];
        struct vms_armcpu cpu;
        size_t hdr_len, body_len, at;
        uint8_t *body, hdr[VMS_IDSTR_BUF + 16];
        int orig;
        int32_t n0, m0;

        if (strcmp(s->idstr, "cpu") != 0 || !s->bytes ||
            s->offset < base || s->offset - base >= len) {
            continue;
        }
        c->r->cpus++;
        if (vms_armcpu_from_section(s, &cpu, err) < 0) {
            vms_armcpu_fini(&cpu);
            return -1;
        }
        orig = cpu.layout;
        n0 = cpu.n;
        m0 = cpu.m;
        if (vms_convert_cpu(&cpu, c->o->to_layout, c->o->drop, c->o->n_drop,
                            &c->r->dropped, err) < 0) {
            vms_error_section(err, s->idstr, s->section_id, s->instance_id);
            vms_armcpu_fini(&cpu);
            return -1;
        }
        if (cpu.layout != orig) {
            c->r->converted++;
        }
        body = vms_armcpu_encode(&cpu, cpu.layout, &body_len, err);
        if (!body) {
            vms_error_section(err, s->idstr, s->section_id, s->instance_id);
            vms_armcpu_fini(&cpu);
            return -1;
        }
        at = (size_t)(s->offset - base);
        hdr_len = (size_t)(s->body_offset - s->offset);
        memcpy(hdr, s->bytes, hdr_len);
        if (s->type == VMS_REC_FULL || s->type == VMS_REC_START) {
            vms_put_be32(hdr + hdr_len - 4, (uint32_t)cpu.layout);
        }
        if (buf_put(out, data + pos, at - pos, err) < 0 ||
            buf_put(out, hdr, hdr_len, err) < 0 ||
            buf_put(out, body, body_len, err) < 0 ||
            buf_put(out, s->bytes + hdr_len + s->body_len,
                    (size_t)(s->length - hdr_len - s->body_len), err) < 0) {
            free(body);
            vms_armcpu_fini(&cpu);
            return -1;
        }
        free(body);
        pos = at + (size_t)s->length;
        if (add_cpu(c, &cpu, orig, n0, m0, err) < 0) {
            vms_armcpu_fini(&cpu);
            return -1;
        }
    }
    return buf_put(out, data + pos, len - pos, err);
}

static int verify(struct conv *c, struct vms_error *err)
{
    if (!c->o->verify) {
        return 0;
    }
    return c->o->verify(c->o->verify_opaque, c->cpus, c->n_cpus, err);
}

static int on_packaged(void *opaque, struct vms_stream *st,
                       const uint8_t *cmd_hdr, size_t hdr_len,
                       const uint8_t *blob, size_t len, size_t first,
                       struct vms_error *err)
{
    struct conv *c = opaque;
    struct buf out = { 0 };
    uint8_t hdr[16];
    size_t k = st->n_cmds;
    int rc;

    /* The blob's own commands (LISTEN, PING, RUN) come after it in
     * st->cmds; packages do not nest, so the last PACKAGED is this one. */
    while (k > 0 && st->cmds[k - 1].cmd != VMS_CMD_PACKAGED) {
        k--;
    }
    if (k == 0 || st->region) {
        /* After the device state started, the package's bytes are part of
         * the held region and would be written twice. */
        vms_error_set_nooff(err, VMS_E_UNSUPPORTED, "a PACKAGED command "
                            "after the device state cannot be converted");
        return -1;
    }
    rc = transform(c, st, first, st->n_sections, blob, len,
                   st->cmds[k - 1].offset + hdr_len, &out, err);
    if (rc == 0) {
        rc = verify(c, err);
    }
    if (rc == 0 && out.len > UINT32_MAX) {
        vms_error_set_nooff(err, VMS_E_LIMIT, "PACKAGED data grows beyond "
                            "4 GiB");
        rc = -1;
    }
    if (rc == 0) {
        memcpy(hdr, cmd_hdr, hdr_len);
        vms_put_be32(hdr + 5, (uint32_t)out.len);
        rc = vms_sink_write(c->sink, hdr, hdr_len, err);
    }
    if (rc == 0) {
        rc = vms_sink_write(c->sink, out.p, out.len, err);
    }
    free(out.p);
    return rc;
}

static int on_region_ready(void *opaque, struct vms_stream *st,
                           size_t body_len, struct vms_error *err)
{
    struct conv *c = opaque;

    (void)err;
    c->early = 1;
    c->early_first_cpu = c->n_cpus;
    c->early_r0 = *c->r;
    vms_error_clear(&c->early_err);
    c->early_out.len = 0;
    c->early_rc = transform(c, st, 0, st->n_sections, st->region, body_len,
                            st->region_offset, &c->early_out,
                            &c->early_err);
    if (c->early_rc == 0) {
        c->early_rc = verify(c, &c->early_err);
    }
    if (c->early_rc != 0 || c->early_out.len == 0 ||
        c->early_out.p[c->early_out.len - 1] != VMS_REC_EOF) {
        return 0;
    }
    /* The converted device state goes out now: the destination loads it
     * while the vmdesc arrives.  EOF stays behind until the vmdesc is
     * converted too, so a failure still leaves the destination without
     * QEMU_VM_EOF (it fails the migration; the source keeps running). */
    if (vms_sink_write(c->sink, c->early_out.p, c->early_out.len - 1,
                       err) < 0) {
        return -1;
    }
    c->early_written = c->early_out.len - 1;
    /* The vmdesc length is in its header, which has arrived: make room
     * for it now (allocated and touched), not after the input ended. */
    {
        size_t want = (size_t)vms_get_be32(st->region + body_len + 1);

        if (want <= VMS_MAX_VMDESC) {
            want = c->early_out.len + 5 + want + want / 8 + 4096;
            if (want > c->early_out.cap) {
                uint8_t *p = realloc(c->early_out.p, want);

                if (p) {
                    /* Not 0: malloc + memset(0) may become calloc, which
                     * leaves fresh pages untouched. */
                    memset(p + c->early_out.len, 0xa5,
                           want - c->early_out.len);
                    c->early_out.p = p;
                    c->early_out.cap = want;
                }
            }
        }
    }
    return 0;
}

/* Undo on_region_ready: the parse started over on the whole region. */
static void forget_early(struct conv *c)
{
    size_t i;

    for (i = c->early_first_cpu; i < c->n_cpus; i++) {
        vms_armcpu_fini(&c->cpus[i]);
    }
    c->n_cpus = c->early_first_cpu;
    *c->r = c->early_r0;
    c->early = 0;       /* early_out is kept: early_written bytes are out */
}

int vms_convert(struct vms_src *src, struct vms_sink *sink,
                const struct vms_convert_opts *o,
                struct vms_convert_result *r, struct vms_error *err)
{
    struct conv c;
    struct vms_parse_opts po = { 0 };
    struct vms_stream st;
    struct buf out = { 0 };
    size_t body_len, i, out_from = 0;
    int rc;

    memset(&c, 0, sizeof(c));
    c.o = o;
    c.sink = sink;
    c.r = r;

    memset(r, 0, sizeof(*r));
    vms_stream_init(&st);
    po.default_page_size = o->default_page_size;
    po.no_hash = 1;
    po.lazy_vmdesc = 1;
    po.tee = vms_sink_tee;
    po.tee_opaque = sink;
    po.packaged = on_packaged;
    po.packaged_opaque = &c;
    po.region_ready = on_region_ready;
    po.region_opaque = &c;
    po.progress = o->progress;
    po.progress_opaque = o->progress_opaque;
    po.end_at_trailer = o->end_at_trailer;
    rc = vms_stream_parse(src, &po, &st, err);
    if (rc == 0 && st.region && c.early && st.early_body_len) {
        /* Converted while the vmdesc arrived: only the vmdesc is left. */
        rc = c.early_rc;
        if (rc < 0) {
            *err = c.early_err;
        }
        out = c.early_out;
        c.early_out.p = NULL;
        out_from = c.early_written;
    } else if (rc == 0 && st.region) {
        if (c.early) {
            forget_early(&c);
        }
        body_len = st.has_vmdesc
                       ? (size_t)(st.vmdesc_offset - st.region_offset)
                       : st.region_len;
        /* One allocation up front: a v23 section is 4 + 4N bytes larger,
         * so a quarter more than the input covers any conversion. */
        out.cap = st.region_len + st.region_len / 4 + 65536;
        out.p = malloc(out.cap);
        if (!out.p) {
            out.cap = 0;
        }
        rc = transform(&c, &st, 0, st.n_sections, st.region, body_len,
                       st.region_offset, &out, err);
        if (rc == 0) {
            rc = verify(&c, err);
        }
    }
    if (rc == 0 && st.region) {
        if (rc == 0 && st.has_vmdesc) {
            rc = rewrite_vmdesc(&c, &st, &out, err);
        }
        /* Bytes written early must be what the whole conversion gives.
         * They are unless the vmdesc contradicts the sections' footers
         * (a repeated section id, say): QEMU never writes such a stream. */
        if (rc == 0 && !st.early_body_len && c.early_written) {
            if (out.len < c.early_written ||
                memcmp(out.p, c.early_out.p, c.early_written) != 0) {
                vms_error_set_nooff(err, VMS_E_CONVERT, "the vmdesc "
                                    "delimits the device sections "
                                    "differently from their footers, and "
                                    "the sections converted by footers "
                                    "were already sent: the stream "
                                    "contradicts itself");
                rc = -1;
            }
            out_from = c.early_written;
        }
        /* Only now, with everything converted, does EOF go out. */
        if (rc == 0) {
            rc = vms_sink_write(sink, out.p + out_from, out.len - out_from,
                                err);
        }
    }
    r->out_bytes = vms_sink_bytes(sink);
    free(out.p);
    free(c.early_out.p);
    for (i = 0; i < c.n_cpus; i++) {
        vms_armcpu_fini(&c.cpus[i]);
    }
    free(c.cpus);
    free(c.orig_layout);
    free(c.orig_n);
    free(c.orig_m);
    vms_stream_fini(&st);
    return rc;
}
