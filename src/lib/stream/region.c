/*
 * region.c - everything after the RAM: the device state, QEMU_VM_EOF and
 * the vmdesc trailer, held in memory (bounded by VMS_MAX_DEVICE_STATE).
 *
 * Device sections carry no length, so they can be walked only with a
 * description: the vmdesc (which QEMU sends last), a builtin layout, or
 * the search for their footer.  Up to three parses of the same bytes:
 *
 *  1. early (an observer with device_state and lazy_vmdesc): while the
 *     region arrives, each spot that looks like EOF + vmdesc header is a
 *     candidate end of the device state; the first that parses with
 *     builtin layouts and footers is handed to the observer at once, so
 *     convert can send the device state before the vmdesc has arrived;
 *  2. lazy (lazy_vmdesc): once the input ended, the device state is
 *     parsed again without the vmdesc JSON and kept only if its FULL
 *     sections are exactly the devices the vmdesc lists, in order;
 *  3. full: the vmdesc JSON is parsed and walks every device section.
 *
 * An early parse confirmed by the vmdesc stands (st->early_body_len); one
 * the vmdesc contradicts is undone (unparse_region) and the later parses
 * run on the whole region.
 */
#include "config.h"
#include "stream_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "twin.h"
#include "vmdesc_json.h"
#include "wire.h"

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

void vms_stream_region_free(struct vms_stream *st)
{
    if (st->region_map) {
        REGION_UNPOISON(st->region, st->region_map - st->region_len <
                                            REGION_GUARD
                                        ? st->region_map
                                        : st->region_len + REGION_GUARD);
        munmap(st->region, st->region_map);
    } else {
        free(st->region);
    }
}

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

int vms_stream_trailer(struct vms_parser *p, struct vms_src *src)
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

static int parse_region(struct vms_parser *p, size_t body_len, int package)
{
    struct vms_stream *st = p->st;
    struct vms_src *m;
    int rc;

    m = vms_src_open_mem(st->region, body_len, st->region_offset, p->err);
    if (!m) {
        return -1;
    }
    rc = vms_stream_parse_records(p, m, package, 0);
    if (rc == 0 && !st->has_eof) {
        vms_error_set(p->err, VMS_E_TRUNCATED, st->region_offset + body_len,
                      "stream ends without QEMU_VM_EOF");
        rc = -1;
    }
    vms_src_free(m);
    return rc;
}

static int parse_vmdesc(struct vms_parser *p)
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
static int parse_region_quietly(struct vms_parser *p, size_t body_len,
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
 * sections parsed before the input ends stay valid (the observer's
 * device_state).  QEMU
 * writes EOF (07) then the vmdesc (06, be32 length, '{'): each such spot
 * in the bytes read so far is a candidate end of the body; the first that
 * parses is handed to the observer's device_state at once.  At most a
 * few candidates are
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

static int read_region_early(struct vms_parser *p, struct vms_src *src,
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
                if (p->ob->device_state(p->ob->opaque, st, early,
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

int vms_stream_enter_region(struct vms_parser *p, struct vms_src *src,
                            int package)
{
    struct vms_stream *st = p->st;
    size_t at, body_len, first = st->n_sections, first_cmd = st->n_cmds;
    int rc = 2;

    if (vms_src_tee_pause(src) < 0) {
        return -1;
    }
    st->region_offset = vms_src_offset(src);
    if (p->ob->device_state && p->o->lazy_vmdesc && !package) {
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
        if (p->o->twin && p->o->twin->warn && !package) {
            p->o->twin->warn(p->o->twin->warn_opaque,
                             "the stream has a vmdesc of its own: "
                             "--vmdesc-from is not used");
        }
    } else if (p->o->twin && !package) {
        /* no vmdesc (suppress-vmdesc, machine types <= 2.2): a twin's */
        st->vmdesc = vms_vmdesc_parse(p->o->twin->json, p->o->twin->len, 0,
                                      p->err);
        if (!st->vmdesc) {
            vms_error_set(p->err, VMS_E_USAGE, 0, "the vmdesc of %s (from "
                          "--vmdesc-from) does not parse",
                          p->o->twin->path);
            return -1;
        }
        st->vmdesc_twin = 1;
        rc = parse_region(p, body_len, package);
        st->twin_disagreements = vms_twin_compare(p->o->twin, st);
        return rc;
    }
    return parse_region(p, body_len, package);
}
