#include "config.h"
#include "ram.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "stream.h"
#include "wire.h"

static int find_block(const struct vms_stream *st, const char *name)
{
    size_t i;

    for (i = 0; i < st->n_blocks; i++) {
        if (strcmp(st->blocks[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static int read_name(struct vms_src *src, char *name, const char *what,
                     struct vms_error *err)
{
    uint8_t len;

    if (vms_src_get_u8(src, &len, what) < 0 ||
        vms_src_read(src, name, len, what) < 0) {
        return -1;
    }
    name[len] = '\0';
    if (len == 0 || memchr(name, '\0', len)) {
        vms_error_set(err, VMS_E_FORMAT, vms_src_offset(src) - len - 1,
                      "%s is empty or contains a NUL byte", what);
        return -1;
    }
    return 0;
}

/* Heuristic only used after POSTCOPY_ADVISE: is the next BE64 a block
 * page size (a power of two >= 4 KiB) rather than the next name? */
static int next_is_page_size(struct vms_src *src)
{
    const uint8_t *p = vms_src_peek(src, 8, NULL);
    uint64_t v;

    if (!p) {
        return 0;
    }
    v = vms_get_be64(p);
    return v >= 4096 && v <= (1ull << 34) && (v & (v - 1)) == 0;
}

static int mem_size_list(struct vms_src *src, struct vms_stream *st,
                         struct vms_ram_ctx *c, uint64_t total,
                         struct vms_error *err)
{
    uint64_t sum = 0;

    while (sum < total) {
        struct vms_ramblock b;
        uint64_t off = vms_src_offset(src);

        memset(&b, 0, sizeof(b));
        if (read_name(src, b.name, "RAM block name", err) < 0 ||
            vms_src_get_be64(src, &b.size, "RAM block length") < 0) {
            return -1;
        }
        if (st->postcopy_advised && next_is_page_size(src) &&
            vms_src_get_be64(src, &b.page_size, "RAM block page size") < 0) {
            return -1;
        }
        if (c->ignore_shared) {
            b.has_gpa = 1;
            if (vms_src_get_be64(src, &b.gpa, "RAM block address") < 0) {
                return -1;
            }
        }
        if (b.size > total - sum) {
            vms_error_set(err, VMS_E_FORMAT, off,
                          "RAM block \"%s\" length 0x%llx overruns the "
                          "announced total 0x%llx", b.name,
                          (unsigned long long)b.size,
                          (unsigned long long)total);
            return -1;
        }
        if (b.size == 0 || (b.size & (c->page_size - 1))) {
            vms_error_set(err, VMS_E_FORMAT, off,
                          "RAM block \"%s\" length 0x%llx is not a "
                          "multiple of the page size", b.name,
                          (unsigned long long)b.size);
            return -1;
        }
        sum += b.size;
        if (find_block(st, b.name) >= 0) {
            if (c->mapped_ram) {
                vms_error_set(err, VMS_E_FORMAT, off, "mapped-ram block "
                              "\"%s\" listed twice", b.name);
                return -1;
            }
            continue;       /* a second setup section repeats the list */
        }
        if (st->n_blocks >= VMS_MAX_RAMBLOCKS) {
            vms_error_set(err, VMS_E_LIMIT, off,
                          "more than %u RAM blocks", VMS_MAX_RAMBLOCKS);
            return -1;
        }
        {
            struct vms_ramblock *n = realloc(st->blocks,
                                             (st->n_blocks + 1) * sizeof(*n));
            if (!n) {
                vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
                return -1;
            }
            st->blocks = n;
            st->blocks[st->n_blocks++] = b;
        }
        if (c->mapped_ram &&
            vms_ram_mapped_block(src, st, c, st->n_blocks - 1, err) < 0) {
            return -1;
        }
    }
    return 0;
}

/* uleb128_decode_small (util/cutils.c): at most 2 bytes, < 16384 */
static int uleb128(const uint8_t *p, uint32_t *v)
{
    if (!(p[0] & 0x80)) {
        *v = p[0];
        return 1;
    }
    if (p[1] & 0x80) {
        return -1;
    }
    *v = (p[0] & 0x7fu) | ((uint32_t)p[1] << 7);
    return 2;
}

/* Mirrors xbzrle_decode_buffer()'s checks (migration/xbzrle.c). */
int vms_xbzrle_check(const uint8_t *p, uint32_t len, uint32_t page_size)
{
    uint32_t i = 0, d = 0, count;
    int k;

    while (i < len) {
        if (len - i < 2 || (k = uleb128(p + i, &count)) < 0 ||
            (i && !count)) {
            return -1;
        }
        i += (uint32_t)k;
        d += count;
        if (d > page_size || len - i < 2 ||
            (k = uleb128(p + i, &count)) < 0 || !count) {
            return -1;
        }
        i += (uint32_t)k;
        if (d + count > page_size || count > len - i) {
            return -1;
        }
        d += count;
        i += count;
    }
    return 0;
}

/* 0, -1 (does not inflate to one page), or -2 (out of memory). */
static int check_compressed(struct vms_ram_ctx *c, const uint8_t *p,
                            uint32_t len)
{
    uLongf out_len = c->page_size;

    if (!c->scratch && !(c->scratch = malloc(c->page_size))) {
        return -2;
    }
    if (uncompress(c->scratch, &out_len, p, len) != Z_OK) {
        return -1;
    }
    return out_len == c->page_size ? 0 : -1;
}

static int page_record(struct vms_src *src, struct vms_stream *st,
                       struct vms_ram_ctx *c, uint64_t rec_off,
                       uint64_t addr, unsigned flags, struct vms_error *err)
{
    struct vms_ramblock *b;
    unsigned kind = flags & ~VMS_RAM_CONTINUE;

    if (flags & VMS_RAM_CONTINUE) {
        if (c->current_block < 0) {
            vms_error_set(err, VMS_E_FORMAT, rec_off,
                          "RAM page record continues a block, but no block "
                          "was named before (QEMU: \"Ack, bad migration "
                          "stream!\")");
            return -1;
        }
    } else {
        char name[VMS_IDSTR_BUF];
        int idx;

        if (read_name(src, name, "RAM block name", err) < 0) {
            return -1;
        }
        idx = find_block(st, name);
        if (idx < 0) {
            vms_error_set(err, VMS_E_FORMAT, rec_off,
                          "RAM page for unknown block \"%s\" (QEMU: "
                          "\"Can't find block\")", name);
            return -1;
        }
        c->current_block = idx;
    }
    b = &st->blocks[c->current_block];
    if (addr >= b->size) {
        vms_error_set(err, VMS_E_FORMAT, rec_off,
                      "RAM page offset 0x%llx is beyond block \"%s\" "
                      "(0x%llx bytes)", (unsigned long long)addr, b->name,
                      (unsigned long long)b->size);
        return -1;
    }
    st->ram_records++;
    switch (kind) {
    case VMS_RAM_ZERO: {
        uint8_t fill;

        if (vms_src_get_u8(src, &fill, "zero page fill byte") < 0) {
            return -1;
        }
        b->zero++;
        return vms_ram_observe(c, st, rec_off, addr, kind, NULL, 0, fill, err);
    }
    case VMS_RAM_PAGE: {
        const uint8_t *p;

        b->normal++;
        if (!c->page_fn) {
            return vms_src_skip(src, c->page_size, "RAM page");
        }
        p = vms_src_peek(src, c->page_size, NULL);
        if (!p) {
            return vms_src_skip(src, c->page_size, "RAM page");
        }
        if (vms_ram_observe(c, st, rec_off, addr, kind, p, c->page_size, 0,
                    err) < 0) {
            return -1;
        }
        vms_src_consume(src, c->page_size);
        return 0;
    }
    case VMS_RAM_XBZRLE: {
        uint8_t enc;
        uint16_t len;
        const uint8_t *p;

        if (vms_src_get_u8(src, &enc, "XBZRLE encoding") < 0 ||
            vms_src_get_be16(src, &len, "XBZRLE length") < 0) {
            return -1;
        }
        if (enc != VMS_XBZRLE_ENCODING || len > c->page_size) {
            vms_error_set(err, VMS_E_FORMAT, rec_off,
                          "XBZRLE page: encoding %u, length %u (page size "
                          "%u)", enc, len, c->page_size);
            return -1;
        }
        p = vms_src_peek(src, len, NULL);
        if (!p) {
            return vms_src_skip(src, len, "XBZRLE data");
        }
        if (vms_xbzrle_check(p, len, c->page_size) < 0) {
            vms_error_set(err, VMS_E_FORMAT, vms_src_offset(src),
                          "XBZRLE data does not decode (QEMU: \"Failed to "
                          "load XBZRLE page - decode error!\")");
            return -1;
        }
        if (vms_ram_observe(c, st, rec_off, addr, kind, p, len, 0, err) < 0) {
            return -1;
        }
        vms_src_consume(src, len);
        b->xbzrle++;
        return 0;
    }
    case VMS_RAM_COMPRESS_PAGE: {
        uint32_t len;
        const uint8_t *p;
        int rc;

        if (vms_src_get_be32(src, &len, "compressed page length") < 0) {
            return -1;
        }
        if (len == 0 || len > compressBound(c->page_size)) {
            vms_error_set(err, VMS_E_FORMAT, rec_off,
                          "compressed page length %u is invalid (QEMU: "
                          "\"Invalid compressed data length\")", len);
            return -1;
        }
        p = vms_src_peek(src, len, NULL);
        if (!p) {
            return vms_src_skip(src, len, "compressed page");
        }
        rc = check_compressed(c, p, len);
        if (rc == -2) {
            vms_error_set(err, VMS_E_NOMEM, vms_src_offset(src),
                          "out of memory inflating a compressed page");
            return -1;
        }
        if (rc < 0) {
            vms_error_set(err, VMS_E_FORMAT, vms_src_offset(src),
                          "compressed page does not inflate to one page");
            return -1;
        }
        if (vms_ram_observe(c, st, rec_off, addr, kind, c->scratch, c->page_size, 0,
                    err) < 0) {
            return -1;
        }
        vms_src_consume(src, len);
        b->compressed++;
        return 0;
    }
    }
    return -1;
}

int vms_ram_section(struct vms_src *src, struct vms_stream *st,
                    struct vms_ram_ctx *c, struct vms_error *err)
{
    uint64_t mask = (uint64_t)c->page_size - 1;

    for (;;) {
        uint64_t w, addr, rec_off = vms_src_offset(src);
        unsigned flags;

        if (vms_src_get_be64(src, &w, "RAM record header") < 0) {
            return -1;
        }
        flags = (unsigned)(w & mask);
        addr = w & ~mask;
        switch (flags & ~VMS_RAM_CONTINUE) {
        case VMS_RAM_MEM_SIZE:
            if (mem_size_list(src, st, c, addr, err) < 0) {
                return -1;
            }
            break;
        case VMS_RAM_EOS:
            return 0;
        case VMS_RAM_MULTIFD_FLUSH:
            break;
        case VMS_RAM_ZERO:
        case VMS_RAM_PAGE:
        case VMS_RAM_XBZRLE:
        case VMS_RAM_COMPRESS_PAGE:
            if (page_record(src, st, c, rec_off, addr, flags, err) < 0) {
                return -1;
            }
            break;
        case VMS_RAM_HOOK:
            vms_error_set(err, VMS_E_UNSUPPORTED, rec_off,
                          "RAM record with the HOOK flag: this stream was "
                          "made for an RDMA transport and cannot be read "
                          "from a byte stream");
            return -1;
        default:
            vms_error_set(err, VMS_E_FORMAT, rec_off,
                          "unknown combination of RAM flags 0x%x (QEMU: "
                          "\"Unknown combination of migration flags\")",
                          flags);
            return -1;
        }
        if (vms_error_isset(err)) {
            return -1;
        }
    }
}
