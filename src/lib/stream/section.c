#include "config.h"
#include "stream_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cpuarch.h"
#include "vmdesc_json.h"
#include "wire.h"

struct sec_hdr {
    uint8_t type;
    uint32_t id, instance, version;
    char idstr[VMS_IDSTR_BUF];
    size_t len;            /* header bytes */
};

/* Peek a START/FULL header without consuming it. */
static int peek_full_header(struct vms_parser *p, struct vms_src *src,
                            struct sec_hdr *h)
{
    const uint8_t *b;
    size_t avail, n;

    b = vms_src_peek(src, 6, &avail);
    if (!b) {
        vms_error_set(p->err, VMS_E_TRUNCATED, vms_src_offset(src) + avail,
                      "stream ends inside a section header");
        return -1;
    }
    h->type = b[0];
    h->id = vms_get_be32(b + 1);
    n = b[5];
    b = vms_src_peek(src, 6 + n + 8, &avail);
    if (!b) {
        vms_error_set(p->err, VMS_E_TRUNCATED, vms_src_offset(src) + avail,
                      "stream ends inside a section header");
        return -1;
    }
    if (n == 0) {
        vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src) + 5,
                      "empty section name (QEMU: \"Unable to read ID "
                      "string for section %u\")", h->id);
        return -1;
    }
    memcpy(h->idstr, b + 6, n);
    h->idstr[n] = '\0';
    h->instance = vms_get_be32(b + 6 + n);
    h->version = vms_get_be32(b + 10 + n);
    h->len = 14 + n;
    return 0;
}

static int read_footer(struct vms_parser *p, struct vms_src *src,
                       struct vms_section *s)
{
    size_t avail;
    const uint8_t *b = vms_src_peek(src, 5, &avail);

    if (!b || b[0] != VMS_REC_FOOTER) {
        const uint8_t *c = vms_src_peek(src, 1, NULL);

        if (!c || (!b && c[0] == VMS_REC_FOOTER)) {
            vms_error_set(p->err, VMS_E_TRUNCATED,
                          vms_src_offset(src) + avail,
                          "stream ends before the section footer");
            return -1;
        }
        s->has_footer = 0;  /* machine types <= 2.3 send none */
        return 0;
    }
    if (vms_get_be32(b + 1) != s->section_id) {
        vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src),
                      "section footer names section %u, expected %u "
                      "(QEMU: \"Mismatched section id in footer\")",
                      vms_get_be32(b + 1), s->section_id);
        return -1;
    }
    vms_src_consume(src, 5);
    s->has_footer = 1;
    return 0;
}

static struct vms_section *find_start(struct vms_parser *p, uint32_t id)
{
    size_t i = p->st->n_sections;

    while (i-- > 0) {
        struct vms_section *s = &p->st->sections[i];

        if (s->section_id == id &&
            (s->type == VMS_REC_START || s->type == VMS_REC_FULL)) {
            return s;
        }
    }
    return NULL;
}

static void section_error(struct vms_parser *p, const struct vms_section *s)
{
    vms_error_section(p->err, s->idstr, s->section_id, s->instance_id);
}

/* A RAM section: header already peeked or read by the caller. */
static int ram_section(struct vms_parser *p, struct vms_src *src,
                       struct vms_section *s, int streaming)
{
    if (s->version_id != VMS_RAM_SECTION_VERSION) {
        vms_error_set(p->err, VMS_E_FORMAT, s->offset,
                      "RAM section version %u, only 4 exists",
                      s->version_id);
        return -1;
    }
    s->body_offset = vms_src_offset(src);
    s->delim = VMS_DELIM_RAM;
    if (vms_ram_section(src, p->st, &p->ram, p->err) < 0) {
        return -1;
    }
    s->body_len = vms_src_offset(src) - s->body_offset;
    return read_footer(p, src, s);
}

static int is_plausible_next(const uint8_t *b, size_t avail)
{
    if (avail == 0) {
        return 1;
    }
    switch (b[0]) {
    case VMS_REC_EOF:
        return avail == 1 || b[1] == VMS_REC_VMDESC;
    case VMS_REC_START:
    case VMS_REC_FULL:
        return avail >= 6 && b[5] != 0 && avail >= 6u + b[5] + 8;
    case VMS_REC_PART:
    case VMS_REC_END:
        return avail >= 5;
    case VMS_REC_COMMAND:
        return avail >= 5 && b[1] == 0 && b[2] > 0 && b[2] < VMS_CMD_MAX;
    }
    return 0;
}

/* Body length by searching for "7E <id>" followed by a plausible record. */
static int delimit_by_footer(const uint8_t *body, size_t len, uint32_t id,
                             size_t *used)
{
    size_t i = 0;

    while (i + 5 <= len) {
        const uint8_t *q = memchr(body + i, VMS_REC_FOOTER, len - 4 - i);

        if (!q) {
            break;
        }
        i = (size_t)(q - body);
        if (vms_get_be32(body + i + 1) == id &&
            is_plausible_next(body + i + 5, len - i - 5)) {
            *used = i;
            return 0;
        }
        i++;
    }
    return -1;
}

static int footer_at(const uint8_t *body, size_t len, size_t used,
                     uint32_t id)
{
    return used + 5 <= len && body[used] == VMS_REC_FOOTER &&
           vms_get_be32(body + used + 1) == id;
}

static int find_vmdesc_dev(struct vms_parser *p, const struct sec_hdr *h)
{
    const struct vms_vmdesc *d = p->st->vmdesc;
    size_t i;

    for (i = p->vmdesc_cursor; d && i < d->n_devs; i++) {
        if (d->devs[i].instance_id == h->instance &&
            strcmp(d->devs[i].name, h->idstr) == 0) {
            p->vmdesc_cursor = i + 1;
            return (int)i;
        }
    }
    return -1;
}

/* Try the builtin layouts that fit idstr; the one whose body ends at a
 * matching footer wins, ties going to the one matching the version. */
static const struct vms_vmsd *builtin_for(const struct sec_hdr *h,
                                          const uint8_t *body, size_t len,
                                          uint64_t off, size_t *used,
                                          struct vms_error *err)
{
    static const char *const cpu[] = { "cpu@v22", "cpu@v23", NULL };
    static const char *const common[] = { "cpu_common", NULL };
    const char *const *names;
    const struct vms_vmsd *best = NULL;
    struct vms_error first;
    size_t i, u;

    if (strcmp(h->idstr, "cpu") == 0) {
        if (!vms_cpu_version_is_arm(h->version)) {
            return NULL;        /* not Arm's: x86 writes 12 (cpuarch.c) */
        }
        names = cpu;
    } else if (strcmp(h->idstr, "cpu_common") == 0) {
        names = common;
    } else {
        return NULL;
    }
    vms_error_clear(&first);
    for (i = 0; names[i]; i++) {
        const struct vms_vmsd *v = vms_builtin_vmsd(names[i], err);
        struct vms_error e;

        vms_error_clear(&e);
        if (!v) {
            if (vms_error_isset(err)) {
                return NULL;
            }
            continue;
        }
        if (vms_walk(v, body, len, off, 1, NULL, NULL, &u, &e) == 0 &&
            footer_at(body, len, u, h->id)) {
            if (!best || v->version == h->version) {
                best = v;
                *used = u;
            }
        } else if (!vms_error_isset(&first) || v->version == h->version) {
            if (!vms_error_isset(&e)) {
                if (u + 5 > len) {
                    vms_error_set(&e, VMS_E_TRUNCATED, off + len,
                                  "stream ends before the footer of the "
                                  "%s body", names[i]);
                } else {
                    vms_error_set(&e, VMS_E_FORMAT, off + u,
                                  "no section footer after the %s body",
                                  names[i]);
                }
            }
            vms_error_clear(&first);   /* this layout's reason wins */
            vms_error_adopt(&first, &e);
        }
    }
    if (!best && vms_error_isset(&first)) {
        vms_error_adopt(err, &first);
    }
    return best;
}

/* A new section table entry for a START/FULL header at the current offset. */
static struct vms_section *section_from_header(struct vms_parser *p,
                                               struct vms_src *src,
                                               const struct sec_hdr *h,
                                               int package)
{
    struct vms_section *s = vms_stream_new_section(p, vms_src_offset(src));

    if (s) {
        s->type = h->type;
        s->section_id = h->id;
        s->instance_id = h->instance;
        s->version_id = h->version;
        s->package = package;
        memcpy(s->idstr, h->idstr, sizeof(s->idstr));
    }
    return s;
}

/* A walk with a twin's vmdesc failed: say where the description came
 * from. */
static void twin_hint(struct vms_parser *p)
{
    static const char hint[] = " (the description is from --vmdesc-from: "
                               "a stream saved by another QEMU or command "
                               "line does not fit)";
    size_t n = strlen(p->err->msg);

    if (p->st->vmdesc_twin && n + sizeof(hint) <= sizeof(p->err->msg)) {
        memcpy(p->err->msg + n, hint, sizeof(hint));
    }
}

static int device_section(struct vms_parser *p, struct vms_src *src,
                          int package)
{
    const uint8_t *b;
    struct sec_hdr h;
    struct vms_section *s;
    size_t avail, used = 0;
    const uint8_t *body;
    uint64_t body_off;

    if (peek_full_header(p, src, &h) < 0) {
        return -1;
    }
    b = vms_src_peek(src, 1, &avail);
    s = section_from_header(p, src, &h, package);
    if (!s) {
        return -1;
    }
    s->bytes = b;
    body = b + h.len;
    body_off = s->offset + h.len;
    avail -= h.len;
    s->body_offset = body_off;

    s->vmdesc_dev = find_vmdesc_dev(p, &h);
    if (s->vmdesc_dev >= 0) {
        const struct vms_vmsd *v = &p->st->vmdesc->devs[s->vmdesc_dev].vmsd;

        if (vms_walk(v, body, avail, body_off, 0, NULL, NULL, &used,
                     p->err) < 0) {
            twin_hint(p);
            section_error(p, s);
            return -1;
        }
        s->layout = v;
        s->delim = VMS_DELIM_VMDESC;
        if (!footer_at(body, avail, used, h.id) &&
            !is_plausible_next(body + used, avail - used)) {
            vms_error_set(p->err, VMS_E_FORMAT, body_off + used,
                          "the vmdesc description of this section ends "
                          "here, but no section footer or next record "
                          "follows: the vmdesc does not match the data");
            twin_hint(p);
            section_error(p, s);
            return -1;
        }
    } else {
        struct vms_error e;

        vms_error_clear(&e);
        s->layout = builtin_for(&h, body, avail, body_off, &used, &e);
        if (s->layout) {
            s->delim = VMS_DELIM_BUILTIN;
        } else if (vms_error_isset(&e)) {
            /* an Arm cpu section (version 22/23) that the Arm layouts do
             * not fit: their error says more than a footer search */
            vms_error_adopt(p->err, &e);
            section_error(p, s);
            return -1;
        } else if (delimit_by_footer(body, avail, h.id, &used) == 0) {
            s->delim = VMS_DELIM_FOOTER;
        } else if (p->st->vmdesc_twin) {
            vms_error_set(p->err, VMS_E_FORMAT, body_off,
                          "the vmdesc given by --vmdesc-from does not "
                          "describe this section (the two streams were not "
                          "saved by the same QEMU and command line?) and "
                          "no footer for section id %u was found", h.id);
            section_error(p, s);
            return -1;
        } else {
            vms_error_set(p->err, VMS_E_TRUNCATED, body_off + avail,
                          "no vmdesc describes this section and no "
                          "footer for section id %u was found before the "
                          "end of the stream (a stream saved without "
                          "vmdesc by a machine type <= 2.3 has no footers:"
                          " read it with --vmdesc-from a stream saved by "
                          "the same QEMU and command line with "
                          "suppress-vmdesc=off)", h.id);
            section_error(p, s);
            return -1;
        }
    }
    s->body_len = used;
    s->has_footer = footer_at(body, avail, used, h.id);
    s->length = h.len + used + (s->has_footer ? 5 : 0);
    s->xxh3 = XXH3_64bits(s->bytes, (size_t)s->length);
    s->hashed = 1;
    vms_src_consume(src, (size_t)s->length);
    return 0;
}

/* START/FULL in a stream being read: RAM here, device state -> region. */
int vms_stream_full_or_start(struct vms_parser *p, struct vms_src *src,
                             int package, int streaming)
{
    struct sec_hdr h;
    struct vms_section *s;

    if (peek_full_header(p, src, &h) < 0) {
        return -1;
    }
    if (strcmp(h.idstr, "ram") != 0) {
        if (streaming) {
            return 1;           /* caller switches to the region */
        }
        return device_section(p, src, package);
    }
    s = section_from_header(p, src, &h, package);
    if (!s) {
        return -1;
    }
    if (!p->o->no_hash) {
        vms_src_hash_begin(src);
    }
    vms_src_consume(src, h.len);
    if (ram_section(p, src, s, streaming) < 0) {
        section_error(p, s);
        vms_src_hash_end(src);
        return -1;
    }
    s->xxh3 = vms_src_hash_end(src);
    s->hashed = !p->o->no_hash;
    s->length = vms_src_offset(src) - s->offset;
    return 0;
}

int vms_stream_part_or_end(struct vms_parser *p, struct vms_src *src,
                           int package, int streaming)
{
    const uint8_t *b;
    struct vms_section *s, *start;
    uint32_t id;
    size_t avail;

    b = vms_src_peek(src, 5, &avail);
    if (!b) {
        vms_error_set(p->err, VMS_E_TRUNCATED, vms_src_offset(src) + avail,
                      "stream ends inside a section header");
        return -1;
    }
    id = vms_get_be32(b + 1);
    start = find_start(p, id);
    if (!start) {
        vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src),
                      "%s for section id %u, which never started (QEMU: "
                      "\"Unknown savevm section %u\")", vms_rec_name(b[0]),
                      id, id);
        return -1;
    }
    if (strcmp(start->idstr, "ram") != 0) {
        vms_error_set(p->err, VMS_E_UNSUPPORTED, vms_src_offset(src),
                      "live section \"%s\" (id %u) cannot be parsed: only "
                      "RAM has a known iterative layout", start->idstr, id);
        return -1;
    }
    {
        char idstr[VMS_IDSTR_BUF];
        uint32_t inst = start->instance_id, ver = start->version_id;

        memcpy(idstr, start->idstr, sizeof(idstr));
        /* may move start */
        s = vms_stream_new_section(p, vms_src_offset(src));
        if (!s) {
            return -1;
        }
        memcpy(s->idstr, idstr, sizeof(s->idstr));
        s->instance_id = inst;
        s->version_id = ver;
    }
    s->type = b[0];
    s->section_id = id;
    s->package = package;
    if (!p->o->no_hash) {
        vms_src_hash_begin(src);
    }
    vms_src_consume(src, 5);
    if (ram_section(p, src, s, streaming) < 0) {
        section_error(p, s);
        vms_src_hash_end(src);
        return -1;
    }
    s->xxh3 = vms_src_hash_end(src);
    s->hashed = !p->o->no_hash;
    s->length = vms_src_offset(src) - s->offset;
    return 0;
}
