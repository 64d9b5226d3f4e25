#include "config.h"
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>
#ifdef __SANITIZE_ADDRESS__
#define VMS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VMS_ASAN 1
#endif
#endif
#ifdef VMS_ASAN
#include <sanitizer/asan_interface.h>
/* The reservation is not malloc'd: let ASan see reads past the data, in
 * a guard after it (poisoning all 256 MiB would cost 32 MiB of shadow
 * writes per stream). */
#define REGION_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define REGION_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define REGION_POISON(p, n) ((void)(p), (void)(n))
#define REGION_UNPOISON(p, n) ((void)(p), (void)(n))
#endif
#define REGION_GUARD (64u * 1024u)

/* Poison the guard after region[0..len) of a reservation of map bytes. */
static void region_guard(uint8_t *region, size_t len, size_t map)
{
    size_t n = map - len < REGION_GUARD ? map - len : REGION_GUARD;

    REGION_POISON(region + len, n);
}

#include "ram.h"
#include "vmdesc_json.h"
#include "wire.h"

struct parser {
    struct vms_stream *st;
    const struct vms_parse_opts *o;
    struct vms_error *err;
    struct vms_ram_ctx ram;
    size_t vmdesc_cursor;
    int in_package;        /* parsing a PACKAGED blob */
};

static int parse_records(struct parser *p, struct vms_src *src, int package,
                         int streaming);

void vms_stream_init(struct vms_stream *st)
{
    memset(st, 0, sizeof(*st));
}

void vms_stream_fini(struct vms_stream *st)
{
    size_t i;

    for (i = 0; i < st->n_caps; i++) {
        free(st->caps[i]);
    }
    free(st->caps);
    free(st->sections);
    free(st->blocks);
    free(st->cmds);
    if (st->region_map) {
        REGION_UNPOISON(st->region, st->region_map - st->region_len <
                                            REGION_GUARD
                                        ? st->region_map
                                        : st->region_len + REGION_GUARD);
        munmap(st->region, st->region_map);
    } else {
        free(st->region);
    }
    for (i = 0; i < st->n_packages; i++) {
        free(st->packages[i]);
    }
    free(st->packages);
    vms_vmdesc_free(st->vmdesc);
    memset(st, 0, sizeof(*st));
}

const struct vms_section *vms_stream_find(const struct vms_stream *st,
                                          const char *idstr,
                                          uint32_t instance_id)
{
    size_t i;

    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];

        if ((s->type == VMS_REC_FULL || s->type == VMS_REC_START) &&
            s->instance_id == instance_id && strcmp(s->idstr, idstr) == 0) {
            return s;
        }
    }
    return NULL;
}

const uint8_t *vms_section_body(const struct vms_section *s)
{
    return s->bytes ? s->bytes + (s->body_offset - s->offset) : NULL;
}

static struct vms_section *new_section(struct parser *p, uint64_t off)
{
    struct vms_stream *st = p->st;
    struct vms_section *s;

    if (st->n_sections == st->cap_sections) {
        size_t cap = st->cap_sections ? st->cap_sections * 2 : 64;
        struct vms_section *n;

        if (cap > VMS_MAX_SECTIONS) {
            vms_error_set(p->err, VMS_E_LIMIT, off,
                          "more than %u sections", VMS_MAX_SECTIONS);
            return NULL;
        }
        n = realloc(st->sections, cap * sizeof(*n));
        if (!n) {
            vms_error_set_nooff(p->err, VMS_E_NOMEM, "out of memory");
            return NULL;
        }
        st->sections = n;
        st->cap_sections = cap;
    }
    s = &st->sections[st->n_sections++];
    memset(s, 0, sizeof(*s));
    s->offset = off;
    s->vmdesc_dev = -1;
    return s;
}

/* ---- header and configuration ---------------------------------------- */

static int read_counted(struct vms_src *src, char *out, const char *what,
                        struct vms_error *err)
{
    uint8_t len;

    if (vms_src_get_u8(src, &len, what) < 0 ||
        vms_src_read(src, out, len, what) < 0) {
        return -1;
    }
    out[len] = '\0';
    return 0;
}

static int config_subsection(struct parser *p, struct vms_src *src)
{
    struct vms_stream *st = p->st;
    uint64_t off = vms_src_offset(src);
    char name[VMS_IDSTR_BUF];
    uint32_t version;

    vms_src_consume(src, 1);
    if (read_counted(src, name, "configuration subsection name",
                     p->err) < 0 ||
        vms_src_get_be32(src, &version, "subsection version") < 0) {
        return -1;
    }
    if (strcmp(name, "configuration/target-page-bits") == 0) {
        if (vms_src_get_be32(src, &st->page_bits, "target_page_bits") < 0) {
            return -1;
        }
        if (st->page_bits < VMS_PAGE_BITS_MIN ||
            st->page_bits > VMS_PAGE_BITS_MAX) {
            vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src) - 4,
                          "target page bits %u out of range %u..%u",
                          st->page_bits, VMS_PAGE_BITS_MIN,
                          VMS_PAGE_BITS_MAX);
            return -1;
        }
        st->has_page_bits = 1;
    } else if (strcmp(name, "configuration/capabilities") == 0) {
        uint32_t n, i;

        if (vms_src_get_be32(src, &n, "capability count") < 0) {
            return -1;
        }
        if (n > VMS_MAX_CAPS) {
            vms_error_set(p->err, VMS_E_LIMIT, vms_src_offset(src) - 4,
                          "%u capabilities (limit %u)", n, VMS_MAX_CAPS);
            return -1;
        }
        /* A repeated subsection replaces the list (QEMU loads it again). */
        for (i = 0; i < st->n_caps; i++) {
            free(st->caps[i]);
        }
        free(st->caps);
        st->n_caps = 0;
        p->ram.ignore_shared = p->ram.mapped_ram = 0;
        st->caps = calloc(n ? n : 1, sizeof(*st->caps));
        for (i = 0; st->caps && i < n; i++) {
            char cap[VMS_IDSTR_BUF];

            if (read_counted(src, cap, "capability name", p->err) < 0) {
                return -1;
            }
            st->caps[st->n_caps++] = strdup(cap);
            if (strcmp(cap, "x-ignore-shared") == 0) {
                p->ram.ignore_shared = 1;
            } else if (strcmp(cap, "mapped-ram") == 0) {
                p->ram.mapped_ram = 1;
            }
        }
    } else if (strcmp(name, "configuration/uuid") == 0) {
        if (vms_src_read(src, st->uuid, 16, "uuid") < 0) {
            return -1;
        }
        st->has_uuid = 1;
    } else {
        vms_error_set(p->err, VMS_E_FORMAT, off,
                      "unknown configuration subsection \"%s\"", name);
        return -1;
    }
    return 0;
}

static int read_config(struct parser *p, struct vms_src *src)
{
    struct vms_stream *st = p->st;
    uint32_t len;
    const uint8_t *b;

    vms_src_consume(src, 1);
    if (vms_src_get_be32(src, &len, "machine type length") < 0) {
        return -1;
    }
    if (len > VMS_MAX_IDSTR) {
        vms_error_set(p->err, VMS_E_LIMIT, vms_src_offset(src) - 4,
                      "machine type name of %u bytes (limit %u)", len,
                      VMS_MAX_IDSTR);
        return -1;
    }
    if (vms_src_read(src, st->machine, len, "machine type") < 0) {
        return -1;
    }
    st->machine[len] = '\0';
    st->has_config = 1;
    while ((b = vms_src_peek(src, 1, NULL)) && b[0] == VMS_REC_SUBSECTION) {
        if (config_subsection(p, src) < 0) {
            return -1;
        }
    }
    return vms_error_isset(p->err) ? -1 : 0;
}

static int read_header(struct parser *p, struct vms_src *src)
{
    uint32_t magic, version;
    const uint8_t *b;

    if (vms_src_get_be32(src, &magic, "file magic") < 0) {
        return -1;
    }
    if (magic != VMS_FILE_MAGIC) {
        vms_error_set(p->err, VMS_E_FORMAT, 0,
                      "not a QEMU migration stream (magic 0x%08x, expected "
                      "0x%08x \"QEVM\")", magic, VMS_FILE_MAGIC);
        return -1;
    }
    if (vms_src_get_be32(src, &version, "file version") < 0) {
        return -1;
    }
    p->st->file_version = version;
    if (version != VMS_FILE_VERSION) {
        vms_error_set(p->err, VMS_E_FORMAT, 4,
                      version == VMS_FILE_VERSION_COMPAT
                          ? "stream version %u: SaveVM v2 format is "
                            "obsolete"
                          : "unsupported migration stream version %u",
                      version);
        return -1;
    }
    b = vms_src_peek(src, 1, NULL);
    if (b && b[0] == VMS_REC_CONFIG && read_config(p, src) < 0) {
        return -1;
    }
    p->st->page_size = p->st->has_page_bits
                           ? 1u << p->st->page_bits
                           : (p->o->default_page_size
                                  ? p->o->default_page_size : 4096);
    return 0;
}

/* ---- sections -------------------------------------------------------- */

struct sec_hdr {
    uint8_t type;
    uint32_t id, instance, version;
    char idstr[VMS_IDSTR_BUF];
    size_t len;            /* header bytes */
};

/* Peek a START/FULL header without consuming it. */
static int peek_full_header(struct parser *p, struct vms_src *src,
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

static int read_footer(struct parser *p, struct vms_src *src,
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

static struct vms_section *find_start(struct parser *p, uint32_t id)
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

static void section_error(struct parser *p, const struct vms_section *s)
{
    vms_error_section(p->err, s->idstr, s->section_id, s->instance_id);
}

/* A RAM section: header already peeked or read by the caller. */
static int ram_section(struct parser *p, struct vms_src *src,
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

static int find_vmdesc_dev(struct parser *p, const struct sec_hdr *h)
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
        names = cpu;
    } else if (strcmp(h->idstr, "cpu_common") == 0) {
        names = common;
    } else {
        return NULL;
    }
    vms_error_clear(&first);
    for (i = 0; names[i]; i++) {
        const struct vms_vmsd *v = vms_builtin_vmsd(names[i]);
        struct vms_error e;

        vms_error_clear(&e);
        if (!v) {
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
            first = e;
        }
    }
    if (!best && vms_error_isset(&first)) {
        *err = first;
    }
    return best;
}

/* A new section table entry for a START/FULL header at the current offset. */
static struct vms_section *section_from_header(struct parser *p,
                                               struct vms_src *src,
                                               const struct sec_hdr *h,
                                               int package)
{
    struct vms_section *s = new_section(p, vms_src_offset(src));

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

static int device_section(struct parser *p, struct vms_src *src, int package)
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
            *p->err = e;
            section_error(p, s);
            return -1;
        } else if (delimit_by_footer(body, avail, h.id, &used) == 0) {
            s->delim = VMS_DELIM_FOOTER;
        } else {
            vms_error_set(p->err, VMS_E_TRUNCATED, body_off + avail,
                          "no vmdesc describes this section and no "
                          "footer for section id %u was found before the "
                          "end of the stream", h.id);
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
static int full_or_start(struct parser *p, struct vms_src *src, int package,
                         int streaming)
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

static int part_or_end(struct parser *p, struct vms_src *src, int package,
                       int streaming)
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
        s = new_section(p, vms_src_offset(src));   /* may move start */
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

/* ---- commands -------------------------------------------------------- */

static int command_len_ok(uint16_t cmd, uint16_t len, const uint8_t *data)
{
    switch (cmd) {
    case VMS_CMD_OPEN_RETURN_PATH:
    case VMS_CMD_POSTCOPY_LISTEN:
    case VMS_CMD_POSTCOPY_RUN:
    case VMS_CMD_ENABLE_COLO:
    case VMS_CMD_POSTCOPY_RESUME:
    case VMS_CMD_SWITCHOVER_START:
        return len == 0;
    case VMS_CMD_PING:
    case VMS_CMD_PACKAGED:
        return len == 4;
    case VMS_CMD_POSTCOPY_ADVISE:
        return len == 0 || len == 16;
    case VMS_CMD_RECV_BITMAP:
        return len >= 1 && data[0] + 1u == len;
    case VMS_CMD_POSTCOPY_RAM_DISCARD:
        return len >= 3;
    }
    return 0;
}

static int packaged(struct parser *p, struct vms_src *src,
                    struct vms_command *c, const uint8_t *hdr)
{
    struct vms_stream *st = p->st;
    uint8_t **pk, *blob;
    uint8_t hdr_copy[9];
    struct vms_src *m;
    size_t first;
    int rc, idx;
    /* c points into st->cmds, which the blob's own commands may move. */
    uint32_t len = c->packaged_len;

    if (p->in_package) {
        vms_error_set(p->err, VMS_E_FORMAT, c->offset,
                      "PACKAGED command inside a PACKAGED command (QEMU "
                      "never nests them; vmstream reads one level)");
        return -1;
    }
    if (c->packaged_len > VMS_MAX_PACKAGED) {
        vms_error_set(p->err, VMS_E_LIMIT, c->offset,
                      "PACKAGED command of %u bytes (limit %u)",
                      c->packaged_len, VMS_MAX_PACKAGED);
        return -1;
    }
    memcpy(hdr_copy, hdr, 9);
    pk = realloc(st->packages, (st->n_packages + 1) * sizeof(*pk));
    blob = malloc(c->packaged_len ? c->packaged_len : 1);
    if (!pk || !blob) {
        free(blob);
        if (pk) {
            st->packages = pk;
        }
        vms_error_set_nooff(p->err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    st->packages = pk;
    st->packages[st->n_packages++] = blob;
    idx = (int)st->n_packages;
    vms_src_consume(src, 9);
    if (vms_src_read(src, blob, c->packaged_len, "PACKAGED data") < 0) {
        return -1;
    }
    m = vms_src_open_mem(blob, c->packaged_len, c->offset + 9, p->err);
    if (!m) {
        return -1;
    }
    first = st->n_sections;
    p->in_package = 1;
    rc = parse_records(p, m, idx, 0);
    p->in_package = 0;
    vms_src_free(m);
    if (rc < 0) {
        return -1;
    }
    if (p->o->packaged &&
        p->o->packaged(p->o->packaged_opaque, st, hdr_copy, 9, blob,
                       len, first, p->err) < 0) {
        return -1;
    }
    return 0;
}

static int command(struct parser *p, struct vms_src *src, int streaming)
{
    struct vms_stream *st = p->st;
    struct vms_command *c;
    const uint8_t *b;
    size_t avail;
    uint16_t cmd, len;

    b = vms_src_peek(src, 5, &avail);
    if (!b) {
        vms_error_set(p->err, VMS_E_TRUNCATED, vms_src_offset(src) + avail,
                      "stream ends inside a command header");
        return -1;
    }
    cmd = vms_get_be16(b + 1);
    len = vms_get_be16(b + 3);
    if (cmd == 0 || cmd >= VMS_CMD_MAX) {
        vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src),
                      "MIG_CMD 0x%x unknown (len 0x%x)", cmd, len);
        return -1;
    }
    b = vms_src_peek(src, 5u + len, &avail);
    if (!b) {
        vms_error_set(p->err, VMS_E_TRUNCATED, vms_src_offset(src) + avail,
                      "stream ends inside command %s", vms_cmd_name(cmd));
        return -1;
    }
    if (!command_len_ok(cmd, len, b + 5)) {
        vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src),
                      "%s received with bad length %u", vms_cmd_name(cmd),
                      len);
        return -1;
    }
    if (st->n_cmds == st->cap_cmds) {
        size_t cap = st->cap_cmds ? st->cap_cmds * 2 : 16;
        struct vms_command *n;

        if (cap > VMS_MAX_SECTIONS ||
            !(n = realloc(st->cmds, cap * sizeof(*n)))) {
            vms_error_set(p->err, VMS_E_LIMIT, vms_src_offset(src),
                          "too many commands");
            return -1;
        }
        st->cmds = n;
        st->cap_cmds = cap;
    }
    c = &st->cmds[st->n_cmds++];
    memset(c, 0, sizeof(*c));
    c->cmd = cmd;
    c->len = len;
    c->offset = vms_src_offset(src);
    if (cmd == VMS_CMD_POSTCOPY_ADVISE) {
        st->postcopy_advised = 1;
    }
    if (cmd == VMS_CMD_PACKAGED) {
        int rc;

        c->packaged_len = vms_get_be32(b + 5);
        if (streaming && vms_src_tee_pause(src) < 0) {
            return -1;
        }
        rc = packaged(p, src, c, b);
        if (streaming) {
            vms_src_tee_resume(src);
        }
        return rc;
    }
    vms_src_consume(src, 5u + len);
    return 0;
}

/* ---- EOF, vmdesc and the device-state region -------------------------- */

/* The vmdesc trailer must end the input: find p with d[p] == 0x06,
 * BE32 at p+1 == len-p-5, d[p+5] == '{' and the EOF byte before it. */
static int locate_vmdesc(const uint8_t *d, size_t len, size_t *at)
{
    size_t lo = len > VMS_MAX_VMDESC + 6 ? len - VMS_MAX_VMDESC - 6 : 1;
    size_t hi = len >= 6 ? len - 5 : 0;    /* candidates are < hi */

    /* JSON text holds no 0x06 byte: jump between 0x06 bytes from the end */
    while (hi > lo) {
        const uint8_t *q = memrchr(d + lo, VMS_REC_VMDESC, hi - lo);
        size_t p;

        if (!q) {
            break;
        }
        p = (size_t)(q - d);
        if (d[p - 1] == VMS_REC_EOF && d[p + 5] == '{' &&
            vms_get_be32(d + p + 1) == len - p - 5) {
            *at = p;
            return 0;
        }
        hi = p;
    }
    return -1;
}

static int trailer(struct parser *p, struct vms_src *src)
{
    struct vms_stream *st = p->st;
    const uint8_t *b;
    size_t avail;

    if (vms_src_at_end(src)) {
        return 0;               /* no vmdesc (suppressed, postcopy) */
    }
    b = vms_src_peek(src, 5, &avail);
    if (!b && vms_src_peek(src, 1, NULL)[0] == VMS_REC_VMDESC) {
        vms_error_set(p->err, VMS_E_TRUNCATED, vms_src_offset(src) + avail,
                      "stream ends inside the vmdesc trailer header");
        return -1;
    }
    if (b && b[0] == VMS_REC_VMDESC && vms_get_be32(b + 1) > avail - 5) {
        vms_error_set(p->err, VMS_E_TRUNCATED, vms_src_offset(src) + avail,
                      "vmdesc trailer announces %u bytes of JSON, but the "
                      "stream ends after %zu", vms_get_be32(b + 1),
                      avail - 5);
        return -1;
    }
    if (!b || b[0] != VMS_REC_VMDESC) {
        vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src),
                      "%zu bytes follow QEMU_VM_EOF, but they are not a "
                      "vmdesc trailer (0x06, length, JSON)", avail);
        return -1;
    }
    vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src),
                  "vmdesc trailer announces %u bytes of JSON, but %zu "
                  "bytes follow", vms_get_be32(b + 1), avail - 5);
    (void)st;
    return -1;
}

static int parse_region(struct parser *p, size_t body_len, int package)
{
    struct vms_stream *st = p->st;
    struct vms_src *m;
    int rc;

    m = vms_src_open_mem(st->region, body_len, st->region_offset, p->err);
    if (!m) {
        return -1;
    }
    rc = parse_records(p, m, package, 0);
    if (rc == 0 && !st->has_eof) {
        vms_error_set(p->err, VMS_E_TRUNCATED, st->region_offset + body_len,
                      "stream ends without QEMU_VM_EOF");
        rc = -1;
    }
    vms_src_free(m);
    return rc;
}

static int parse_vmdesc(struct parser *p)
{
    struct vms_stream *st = p->st;

    st->vmdesc = vms_vmdesc_parse(st->vmdesc_json, st->vmdesc_len,
                                  st->vmdesc_offset + 5, p->err);
    return st->vmdesc ? 0 : -1;
}

/*
 * A parse without the vmdesc delimits sections by builtin layouts and
 * footers, which a crafted stream can fool (a repeated section id, say).
 * QEMU's vmdesc lists exactly the device sections it wrote, in order, each
 * as {"name": "IDSTR", "instance_id": N, ...}, and nothing else in it has
 * an "instance_id": so the lazy result is kept only if its FULL sections
 * are that list.  One pass over the text, no JSON parse.
 */
static int lazy_agrees_with_vmdesc(const struct vms_stream *st,
                                   size_t first)
{
    static const char key[] = "\"instance_id\": ";
    static const char name[] = "{\"name\": \"";
    const char *json = st->vmdesc_json, *end = json + st->vmdesc_len;
    const char *p = json;
    size_t i = first;

    while ((p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1))) {
        const struct vms_section *s = NULL;
        size_t idlen, head;
        uint64_t inst;

        while (i < st->n_sections) {
            s = &st->sections[i++];
            if (s->type == VMS_REC_FULL) {
                break;
            }
            s = NULL;
        }
        if (!s) {
            return 0;           /* the vmdesc lists more devices */
        }
        /* {"name": "IDSTR", "instance_id": N, */
        idlen = strlen(s->idstr);
        head = sizeof(name) - 1 + idlen + 3;
        if ((size_t)(p - json) < head ||
            memcmp(p - head, name, sizeof(name) - 1) != 0 ||
            memcmp(p - head + sizeof(name) - 1, s->idstr, idlen) != 0 ||
            memcmp(p - 3, "\", ", 3) != 0) {
            return 0;
        }
        p += sizeof(key) - 1;
        if (!vms_json_text_uint(&p, end, 11, &inst) ||
            inst != s->instance_id || p >= end || *p != ',') {
            return 0;
        }
    }
    for (; i < st->n_sections; i++) {
        if (st->sections[i].type == VMS_REC_FULL) {
            return 0;           /* a section the vmdesc does not list */
        }
    }
    return 1;
}

/* Forget the sections and commands a region parse added. */
static void unparse_region(struct vms_stream *st, size_t first,
                           size_t first_cmd)
{
    st->n_sections = first;
    st->n_cmds = first_cmd;
    st->has_eof = 0;
}

/* The lazy parse of region[0..body_len), errors kept from p->err. */
static int parse_region_quietly(struct parser *p, size_t body_len,
                                int package)
{
    struct vms_error *real = p->err, scratch;
    int rc;

    vms_error_clear(&scratch);
    p->err = &scratch;
    rc = parse_region(p, body_len, package);
    p->err = real;
    return rc;
}

/*
 * The device state read into a reservation that never moves, so that the
 * sections parsed before the input ends stay valid (region_ready).  QEMU
 * writes EOF (07) then the vmdesc (06, be32 length, '{'): each such spot
 * in the bytes read so far is a candidate end of the body; the first that
 * parses is handed to region_ready at once.  At most a few candidates are
 * tried, so crafted input cannot make this quadratic.  Returns 0 with the
 * early body confirmed, 1 to go on with the usual path on the region, 2 if
 * no reservation could be made (nothing read), -1 on error.
 *
 * With end_at_trailer the loop stops reading once the bytes read so far
 * end exactly with the vmdesc of the early candidate, or, with no
 * candidate, with a QEMU_VM_EOF right after a section footer that
 * completes a parse of the region (no vmdesc: suppress-vmdesc, postcopy;
 * machine types <= 2.3 write no footers and are not recognised).  The
 * source's peer may keep the input open until the destination answers.
 */
#define EARLY_TRIES 4
#define EOF_TRIES 16

static int read_region_early(struct parser *p, struct vms_src *src,
                             size_t first, size_t first_cmd)
{
    struct vms_stream *st = p->st;
    size_t cap = VMS_MAX_DEVICE_STATE, have = 0, scanned = 0, early = 0;
    size_t at;
    int tries = 0, eof_tries = 0;
    uint8_t *d = mmap(NULL, cap, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (d == MAP_FAILED) {
        return 2;
    }
    region_guard(d, 0, cap);
    st->region = d;
    st->region_map = cap;
    for (;;) {
        size_t avail;
        const uint8_t *b = vms_src_peek(src, 1, &avail);

        if (vms_error_isset(p->err)) {
            return -1;
        }
        if (!b || avail == 0) {
            break;
        }
        if (avail > cap - have) {
            vms_error_set(p->err, VMS_E_LIMIT, vms_src_offset(src),
                          "device state after the RAM exceeds the limit of "
                          "%zu bytes", cap);
            return -1;
        }
        REGION_UNPOISON(d + have, avail);
        memcpy(d + have, b, avail);
        region_guard(d, have + avail, cap);
        vms_src_consume(src, avail);
        have += avail;
        st->region_len = have;
        while (!early && tries < EARLY_TRIES && scanned + 7 <= have) {
            const uint8_t *q = memchr(d + scanned, VMS_REC_EOF,
                                      have - 6 - scanned);
            size_t k;

            if (!q) {
                scanned = have - 6;
                break;
            }
            k = (size_t)(q - d);
            scanned = k + 1;
            if (d[k + 1] != VMS_REC_VMDESC || d[k + 6] != '{') {
                continue;
            }
            tries++;
            if (parse_region_quietly(p, k + 1, 0) == 0) {
                early = k + 1;
                if (p->o->region_ready(p->o->region_opaque, st, early,
                                       p->err) < 0) {
                    return -1;
                }
            } else {
                unparse_region(st, first, first_cmd);
            }
        }
        if (!p->o->end_at_trailer) {
            continue;
        }
        if (early) {
            /* The candidate's vmdesc header arrived with it (k + 6 read). */
            if (have - early - 5 == (size_t)vms_get_be32(d + early + 1)) {
                break;
            }
        } else if (d[have - 1] == VMS_REC_EOF && eof_tries < EOF_TRIES &&
                   (have == 1 ||
                    (have >= 6 && d[have - 6] == VMS_REC_FOOTER))) {
            /* QEMU's EOF follows a section footer (or the RAM directly,
             * which ends with one): other zero bytes are not tried. */
            int rc;

            eof_tries++;
            rc = parse_region_quietly(p, have, 0);
            unparse_region(st, first, first_cmd);
            if (rc == 0) {
                break;
            }
        }
    }
    if (early && locate_vmdesc(d, have, &at) == 0 && at == early) {
        st->has_vmdesc = 1;
        st->vmdesc_offset = st->region_offset + at;
        st->vmdesc_json = (const char *)d + at + 5;
        st->vmdesc_len = (uint32_t)(have - at - 5);
        if (lazy_agrees_with_vmdesc(st, first)) {
            st->early_body_len = early;
            return 0;
        }
        st->has_vmdesc = 0;
        st->vmdesc_json = NULL;
        st->vmdesc_len = 0;
        st->vmdesc_offset = 0;
    }
    if (early) {
        unparse_region(st, first, first_cmd);
    }
    return 1;
}

static int enter_region(struct parser *p, struct vms_src *src, int package)
{
    struct vms_stream *st = p->st;
    size_t at, body_len, first = st->n_sections, first_cmd = st->n_cmds;
    int rc = 2;

    if (vms_src_tee_pause(src) < 0) {
        return -1;
    }
    st->region_offset = vms_src_offset(src);
    if (p->o->region_ready && p->o->lazy_vmdesc && !package) {
        rc = read_region_early(p, src, first, first_cmd);
        if (rc <= 0) {
            return rc;
        }
    }
    if (rc == 2) {
        st->region = vms_src_slurp(src, VMS_MAX_DEVICE_STATE,
                                   &st->region_len);
        if (!st->region) {
            return -1;
        }
    }
    body_len = st->region_len;
    if (locate_vmdesc(st->region, st->region_len, &at) == 0) {
        st->has_vmdesc = 1;
        st->vmdesc_offset = st->region_offset + at;
        st->vmdesc_json = (const char *)st->region + at + 5;
        st->vmdesc_len = (uint32_t)(st->region_len - at - 5);
        body_len = at;
        if (p->o->lazy_vmdesc) {
            /* Fast path: builtin layouts and footers; the vmdesc is
             * needed only if they cannot delimit every section. */
            if (parse_region_quietly(p, body_len, package) == 0 &&
                lazy_agrees_with_vmdesc(st, first)) {
                return 0;
            }
            unparse_region(st, first, first_cmd);
        }
        if (parse_vmdesc(p) < 0) {
            return -1;
        }
    }
    return parse_region(p, body_len, package);
}

static int parse_records(struct parser *p, struct vms_src *src, int package,
                         int streaming)
{
    struct vms_stream *st = p->st;

    for (;;) {
        const uint8_t *b;
        int rc;

        if (vms_error_isset(p->err)) {
            return -1;
        }
        if (p->o->progress && streaming &&
            p->o->progress(p->o->progress_opaque, vms_src_offset(src),
                           vms_src_raw_offset(src)) < 0) {
            return -1;
        }
        b = vms_src_peek(src, 1, NULL);
        if (!b) {
            if (vms_error_isset(p->err)) {
                return -1;
            }
            if (package) {
                return 0;
            }
            if (!streaming) {
                return 0;   /* region: the caller checks for EOF */
            }
            vms_error_set(p->err, VMS_E_TRUNCATED, vms_src_offset(src),
                          "stream ends without QEMU_VM_EOF");
            return -1;
        }
        switch (b[0]) {
        case VMS_REC_EOF:
            if (package) {
                vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src),
                              "QEMU_VM_EOF inside a PACKAGED command");
                return -1;
            }
            if (streaming) {
                /* EOF straight after RAM: keep the trailer with it. */
                return enter_region(p, src, package);
            }
            st->has_eof = 1;
            st->eof_offset = vms_src_offset(src);
            vms_src_consume(src, 1);
            return trailer(p, src);
        case VMS_REC_START:
        case VMS_REC_FULL:
            rc = full_or_start(p, src, package, streaming);
            if (rc == 1) {
                return enter_region(p, src, package);
            }
            break;
        case VMS_REC_PART:
        case VMS_REC_END:
            rc = part_or_end(p, src, package, streaming);
            break;
        case VMS_REC_COMMAND:
            rc = command(p, src, streaming);
            break;
        default:
            vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src),
                          "unknown record type 0x%02x where a section, "
                          "command or EOF was expected (QEMU: \"Unknown "
                          "savevm section type %d\")", b[0], b[0]);
            return -1;
        }
        if (rc < 0) {
            return -1;
        }
    }
}

int vms_stream_parse(struct vms_src *src, const struct vms_parse_opts *o,
                     struct vms_stream *st, struct vms_error *err)
{
    static const struct vms_parse_opts none;
    struct parser p = { st, o ? o : &none, err, { 0 }, 0, 0 };
    int rc;

    vms_ram_ctx_init(&p.ram, 4096);
    if (p.o->tee) {
        vms_src_set_tee(src, p.o->tee, p.o->tee_opaque);
    }
    rc = read_header(&p, src);
    if (rc == 0) {
        p.ram.page_size = st->page_size;
        rc = parse_records(&p, src, 0, 1);
    }
    if (rc == 0 && vms_src_tee_flush(src) < 0) {
        rc = -1;
    }
    st->total_len = vms_src_offset(src);
    vms_ram_ctx_fini(&p.ram);
    if (vms_error_isset(err)) {
        rc = -1;
    }
    return rc;
}
