/*
 * libvirt.c - the libvirt save-image container: virQEMUSaveHeader (92
 * bytes: magic[16], version, data_len, was_running, format, cookieOffset,
 * unused[14], in the saving host's byte order), the domain XML and cookie
 * in the data_len bytes after it, and the container entry of the filter
 * table.  Facts checked with libvirt 9.0: doc/libvirt.md.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "src_impl.h"

#define MAGIC_SAVE "LibvirtQemudSave"
#define MAGIC_PART "LibvirtQemudPart"

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) |
           (v << 24);
}

static uint32_t get_u32(const uint8_t *p, int swapped)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return swapped ? bswap32(v) : v;
}

static void put_u32(uint8_t *p, uint32_t v, int swapped)
{
    if (swapped) {
        v = bswap32(v);
    }
    memcpy(p, &v, 4);
}

int vms_libvirt_parse_fixed(const uint8_t *hdr, struct vms_libvirt_header *h,
                            struct vms_error *err)
{
    memset(h, 0, sizeof(*h));
    if (memcmp(hdr, MAGIC_PART, 16) == 0) {
        vms_error_set(err, VMS_E_FORMAT, 0, "libvirt save image is "
                      "incomplete (magic LibvirtQemudPart): an unfinished "
                      "save, libvirt was still writing it or the save "
                      "failed; libvirt will not restore it, and vmstream "
                      "does not read it");
        return -1;
    }
    if (memcmp(hdr, MAGIC_SAVE, 16) != 0) {
        vms_error_set(err, VMS_E_FORMAT, 0, "not a libvirt save image (no "
                      "LibvirtQemudSave magic)");
        return -1;
    }
    h->version = get_u32(hdr + 16, 0);
    /* libvirt: a version above its own means the other byte order */
    if (h->version > VMS_LIBVIRT_VERSION) {
        h->swapped = 1;
        h->version = bswap32(h->version);
    }
    h->data_len = get_u32(hdr + 20, h->swapped);
    h->was_running = get_u32(hdr + 24, h->swapped);
    h->format = get_u32(hdr + 28, h->swapped);
    h->cookie_offset = get_u32(hdr + 32, h->swapped);
    if (h->version < 1 || h->version > VMS_LIBVIRT_VERSION) {
        vms_error_set(err, VMS_E_FORMAT, 16, "libvirt save image header: "
                      "version %u (libvirt writes 1 and 2)", h->version);
        return -1;
    }
    if (h->data_len == 0 || h->data_len > VMS_LIBVIRT_MAX_DATA) {
        vms_error_set(err, VMS_E_FORMAT, 20, "libvirt save image header: "
                      "data_len %u (must be 1 to %u)", h->data_len,
                      VMS_LIBVIRT_MAX_DATA);
        return -1;
    }
    if (h->was_running > 1) {
        vms_error_set(err, VMS_E_FORMAT, 24, "libvirt save image header: "
                      "was_running %u (0 or 1)", h->was_running);
        return -1;
    }
    h->present = 1;
    return 0;
}

int vms_libvirt_adopt(struct vms_libvirt_header *h, uint8_t *raw,
                      struct vms_error *err)
{
    const char *data = (const char *)raw + VMS_LIBVIRT_HDR_LEN;
    size_t n = h->data_len;

    h->raw = raw;
    h->raw_len = VMS_LIBVIRT_HDR_LEN + n;
    h->xml = data;
    h->xml_len = strnlen(data, n);
    if (h->xml_len == n) {
        vms_error_set(err, VMS_E_FORMAT, VMS_LIBVIRT_HDR_LEN,
                      "libvirt save image: the domain XML has no NUL "
                      "within data_len (%u bytes)", h->data_len);
        return -1;
    }
    h->cookie = NULL;
    h->cookie_len = 0;
    if (h->version >= 2 && h->cookie_offset != 0) {
        if (h->cookie_offset <= h->xml_len || h->cookie_offset >= n) {
            vms_error_set(err, VMS_E_FORMAT, 32, "libvirt save image: "
                          "cookieOffset %u is not after the XML (%zu bytes) "
                          "and inside data_len (%u)", h->cookie_offset,
                          h->xml_len + 1, h->data_len);
            return -1;
        }
        h->cookie = data + h->cookie_offset;
        h->cookie_len = strnlen(h->cookie, n - h->cookie_offset);
        if (h->cookie_len == n - h->cookie_offset) {
            vms_error_set(err, VMS_E_FORMAT,
                          VMS_LIBVIRT_HDR_LEN + h->cookie_offset,
                          "libvirt save image: the cookie has no NUL "
                          "within data_len");
            return -1;
        }
    }
    return 0;
}

int vms_libvirt_parse(const uint8_t *buf, size_t len,
                      struct vms_libvirt_header *h, struct vms_error *err)
{
    uint8_t *raw;

    if (len < VMS_LIBVIRT_HDR_LEN) {
        memset(h, 0, sizeof(*h));
        vms_error_set(err, VMS_E_TRUNCATED, len, "libvirt save image "
                      "header cut short (%zu of %u bytes)", len,
                      VMS_LIBVIRT_HDR_LEN);
        return -1;
    }
    if (vms_libvirt_parse_fixed(buf, h, err) < 0) {
        return -1;
    }
    if (len - VMS_LIBVIRT_HDR_LEN < h->data_len) {
        vms_error_set(err, VMS_E_TRUNCATED, len, "libvirt save image: "
                      "domain XML cut short (%zu of %u bytes)",
                      len - VMS_LIBVIRT_HDR_LEN, h->data_len);
        h->present = 0;
        return -1;
    }
    raw = malloc(VMS_LIBVIRT_HDR_LEN + (size_t)h->data_len);
    if (!raw) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        h->present = 0;
        return -1;
    }
    memcpy(raw, buf, VMS_LIBVIRT_HDR_LEN + (size_t)h->data_len);
    if (vms_libvirt_adopt(h, raw, err) < 0) {
        vms_libvirt_fini(h);
        return -1;
    }
    return 0;
}

void vms_libvirt_fini(struct vms_libvirt_header *h)
{
    free(h->raw);
    memset(h, 0, sizeof(*h));
}

/* virQEMUSaveFormat <-> compression */
static const struct {
    uint32_t format;
    const char *name;
    int comp;                   /* -1: vmstream cannot read it */
} formats[] = {
    { VMS_LV_RAW, "raw", VMS_COMP_NONE },
    { VMS_LV_GZIP, "gzip", VMS_COMP_GZIP },
    { VMS_LV_BZIP2, "bzip2", VMS_COMP_BZIP2 },
    { VMS_LV_XZ, "xz", VMS_COMP_XZ },
    { VMS_LV_LZOP, "lzop", VMS_COMP_LZOP },
    { VMS_LV_ZSTD, "zstd", VMS_COMP_ZSTD },
    { VMS_LV_SPARSE, "sparse", -1 },
};

#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

int vms_libvirt_comp(uint32_t format)
{
    return format < N_FORMATS ? formats[format].comp : -1;
}

uint32_t vms_libvirt_format(enum vms_compression comp)
{
    size_t i;

    for (i = 0; i < N_FORMATS; i++) {
        if (formats[i].comp == (int)comp) {
            return formats[i].format;
        }
    }
    return VMS_LV_RAW;
}

const char *vms_libvirt_format_name(uint32_t format)
{
    return format < N_FORMATS ? formats[format].name : "unknown";
}

/* ---- the XML ------------------------------------------------------------ */

/* Append the text t[0..n) with the five XML entities decoded. */
static int unescape(const char *t, size_t n, char *buf, size_t len)
{
    static const struct {
        const char *ent;
        char c;
    } ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
                 { "&apos;", '\'' }, { "&quot;", '"' } };
    size_t i = 0, o = 0, k;

    while (i < n) {
        char c = t[i];
        size_t adv = 1;

        if (c == '&') {
            for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
                size_t el = strlen(ents[k].ent);

                if (n - i >= el && memcmp(t + i, ents[k].ent, el) == 0) {
                    c = ents[k].c;
                    adv = el;
                    break;
                }
            }
        }
        if (o + 1 >= len) {
            return -1;
        }
        buf[o++] = c;
        i += adv;
    }
    buf[o] = '\0';
    return 0;
}

static const char *find(const char *p, const char *end, const char *s)
{
    size_t n = strlen(s);

    for (; p + n <= end; p++) {
        if (memcmp(p, s, n) == 0) {
            return p;
        }
    }
    return NULL;
}

int vms_libvirt_xml_field(const char *xml, size_t xml_len, const char *tag,
                          char *buf, size_t len)
{
    const char *p = xml, *end = xml + xml_len;
    size_t tl = strlen(tag);
    int depth = 0;

    while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        const char *q;

        if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
            q = find(p, end, "-->");
            if (!q) {
                return -1;
            }
            p = q + 3;
            continue;
        }
        if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
            q = find(p, end, "]]>");
            if (!q) {
                return -1;
            }
            p = q + 3;
            continue;
        }
        q = memchr(p, '>', (size_t)(end - p));
        if (!q) {
            return -1;
        }
        if (p[1] == '?' || p[1] == '!') {
            p = q + 1;
            continue;
        }
        if (p[1] == '/') {
            depth--;
            p = q + 1;
            continue;
        }
        if (depth == 1 && (size_t)(q - p - 1) >= tl &&
            memcmp(p + 1, tag, tl) == 0 &&
            (p[1 + tl] == '>' || p[1 + tl] == ' ' || p[1 + tl] == '\t' ||
             p[1 + tl] == '\n' || p[1 + tl] == '\r') && q[-1] != '/') {
            const char *t = q + 1;
            const char *e = memchr(t, '<', (size_t)(end - t));

            if (!e) {
                return -1;
            }
            return unescape(t, (size_t)(e - t), buf, len);
        }
        if (q[-1] != '/') {
            depth++;
        }
        p = q + 1;
    }
    return -1;
}

int vms_libvirt_build(const struct vms_libvirt_header *h,
                      const struct vms_libvirt_edit *e, uint8_t **out,
                      size_t *out_len, struct vms_error *err)
{
    const char *xml = e->xml ? e->xml : h->xml;
    size_t xml_len = e->xml ? e->xml_len : h->xml_len;
    size_t need = xml_len + 1 + (h->cookie ? h->cookie_len + 1 : 0);
    uint64_t data_len = h->data_len;
    uint8_t *o;

    *out = NULL;
    if (memchr(xml, '\0', xml_len)) {
        vms_error_set_nooff(err, VMS_E_USAGE, "the domain XML contains a "
                            "NUL byte");
        return -1;
    }
    if (need > data_len) {      /* as a fresh `virsh save` sizes it */
        data_len = (uint64_t)need + VMS_LIBVIRT_SLACK;
    }
    if (data_len > VMS_LIBVIRT_MAX_DATA) {
        vms_error_set_nooff(err, VMS_E_LIMIT, "the domain XML is too long "
                            "(%zu bytes; limit %u)", xml_len,
                            VMS_LIBVIRT_MAX_DATA - VMS_LIBVIRT_SLACK);
        return -1;
    }
    o = calloc(1, VMS_LIBVIRT_HDR_LEN + (size_t)data_len);
    if (!o) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    memcpy(o, h->raw, VMS_LIBVIRT_HDR_LEN);     /* magic, unused[] */
    put_u32(o + 20, (uint32_t)data_len, h->swapped);
    put_u32(o + 24, e->running < 0 ? h->was_running : (uint32_t)e->running,
            h->swapped);
    put_u32(o + 28, vms_libvirt_format(e->comp), h->swapped);
    if (h->cookie) {
        put_u32(o + 32, (uint32_t)xml_len + 1, h->swapped);
        memcpy(o + VMS_LIBVIRT_HDR_LEN + xml_len + 1, h->cookie,
               h->cookie_len);
    }
    memcpy(o + VMS_LIBVIRT_HDR_LEN, xml, xml_len);
    *out = o;
    *out_len = VMS_LIBVIRT_HDR_LEN + (size_t)data_len;
    return 0;
}

int vms_libvirt_check_format(const struct vms_libvirt_header *h,
                             enum vms_compression comp, int force,
                             struct vms_error *err)
{
    uint32_t f = vms_libvirt_format(comp);

    if (f > VMS_LV_FORMAT_MAX_9_0 && f != h->format && !force) {
        vms_error_set_nooff(err, VMS_E_CONVERT, "libvirt save image format "
                            "%u (%s) is unknown to older libvirt (Debian "
                            "12's 9.0 refuses it: \"Invalid save image "
                            "format\"), "
                            "and this image was format %u (%s); choose "
                            "another --compress or insist with "
                            "--force-format", f, vms_libvirt_format_name(f),
                            h->format, vms_libvirt_format_name(h->format));
        return -1;
    }
    return 0;
}

/* ---- the container entry of the filter table ---------------------------- */

static int lv_bid(const uint8_t *p, size_t n)
{
    if (vms_filter_magic(p, n, MAGIC_SAVE, 16) ||
        vms_filter_magic(p, n, MAGIC_PART, 16)) {
        return 128;
    }
    return 0;
}

static int lv_open(struct vms_src *s)
{
    struct vms_libvirt_header *h = &s->libvirt;
    uint8_t *raw;
    size_t have;

    if (vms_src_sniff(s, VMS_LIBVIRT_HDR_LEN) - s->pb_pos <
        VMS_LIBVIRT_HDR_LEN) {
        if (!vms_error_isset(s->err)) {
            vms_error_set(s->err, VMS_E_TRUNCATED, 0, "libvirt save image "
                          "header cut short (%zu of %u bytes)",
                          s->pb_len - s->pb_pos, VMS_LIBVIRT_HDR_LEN);
        }
        return -1;
    }
    if (vms_libvirt_parse_fixed(s->pushback + s->pb_pos, h, s->err) < 0) {
        return -1;
    }
    raw = malloc(VMS_LIBVIRT_HDR_LEN + (size_t)h->data_len);
    if (!raw) {
        vms_error_set_nooff(s->err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    memcpy(raw, s->pushback + s->pb_pos, VMS_LIBVIRT_HDR_LEN);
    vms_src_sniff_drop(s, VMS_LIBVIRT_HDR_LEN);
    have = VMS_LIBVIRT_HDR_LEN;
    while (have < VMS_LIBVIRT_HDR_LEN + (size_t)h->data_len) {
        ssize_t k = vms_src_raw_read(s, raw + have,
                                     VMS_LIBVIRT_HDR_LEN + h->data_len -
                                         have);
        if (k <= 0) {
            if (k == 0) {
                vms_error_set(s->err, VMS_E_TRUNCATED, 0,
                              "libvirt save image: domain XML cut short "
                              "(%zu of %u bytes)", have - VMS_LIBVIRT_HDR_LEN,
                              h->data_len);
            }
            free(raw);
            h->present = 0;
            return -1;
        }
        have += (size_t)k;
    }
    return vms_libvirt_adopt(h, raw, s->err);
}

static int lv_check(struct vms_src *s, const struct vms_filter *payload)
{
    const struct vms_libvirt_header *h = &s->libvirt;
    int want = vms_libvirt_comp(h->format);
    int got = payload ? (int)payload->comp : VMS_COMP_NONE;

    if (want < 0) {
        vms_error_set(s->err, VMS_E_UNSUPPORTED, 28, "libvirt save image "
                      "format %u (%s) is not supported (vmstream reads raw, "
                      "gzip, bzip2, xz, lzop and zstd)", h->format,
                      vms_libvirt_format_name(h->format));
        return -1;
    }
    if (want != got) {
        vms_error_set(s->err, VMS_E_FORMAT, h->raw_len, "libvirt save image "
                      "header says format %u (%s) but the data after it is "
                      "%s", h->format, vms_libvirt_format_name(h->format),
                      payload ? payload->name : "not compressed");
        return -1;
    }
    return 0;
}

const struct vms_filter vms_filter_libvirt = {
    .name = "libvirt save image",
    .container = 1,
    .bid = lv_bid,
    .open = lv_open,
    .check = lv_check,
};
