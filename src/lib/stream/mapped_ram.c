/*
 * mapped_ram.c - RAM of a `file:` migration with the mapped-ram capability
 * (QEMU 9.0+; what newer libvirt's "sparse" save format uses).
 *
 * Each block of the setup section's MEM_SIZE list is followed by a 28-byte
 * header (BE32 version 1, BE64 page size, BE64 bitmap offset, BE64 pages
 * offset: absolute file offsets), the dirty bitmap (the source host's
 * unsigned long array: bit p of the block is bit p % 8 of byte p / 8 on a
 * little-endian 64-bit host), padding up to pages offset (bitmap end
 * rounded up to 1 MiB), and the pages at pages offset + page offset; the
 * next block's entry follows the last page.  Everything lies forward, so
 * the file is read in one pass like any stream: a set bit is a page to
 * read, a clear bit a zero page (QEMU clears the bit for a page that
 * became zero without rewriting the file: its bytes must not be read).
 * Verified against a real QEMU 10.0.2 file (doc/qemu-10.0.md section 7).
 */
#include "config.h"
#include "ram.h"

#include <stdlib.h>
#include <string.h>

#include "stream.h"
#include "wire.h"

#define MAPPED_RAM_HDR_LEN 28u
#define MAPPED_RAM_ALIGN (1u << 20)
/* The bitmap is held while its pages stream by: 32 KiB per GiB of RAM. */
#define VMS_MAX_MAPPED_BITMAP (64u << 20)

static int page_present(const uint8_t *bitmap, uint64_t p)
{
    return (bitmap[p / 8] >> (p % 8)) & 1;
}

int vms_ram_mapped_block(struct vms_src *src, struct vms_stream *st,
                         struct vms_ram_ctx *c, size_t block,
                         struct vms_error *err)
{
    struct vms_ramblock *b = &st->blocks[block];
    uint64_t hdr_off = vms_src_offset(src), page_size, bitmap_off, pages_off;
    uint64_t pages = b->size / c->page_size, bitmap_len, p;
    uint32_t version;
    uint8_t *bitmap;
    int rc = -1;

    if (vms_src_get_be32(src, &version, "mapped-ram header version") < 0 ||
        vms_src_get_be64(src, &page_size, "mapped-ram page size") < 0 ||
        vms_src_get_be64(src, &bitmap_off, "mapped-ram bitmap offset") < 0 ||
        vms_src_get_be64(src, &pages_off, "mapped-ram pages offset") < 0) {
        return -1;
    }
    bitmap_len = (pages + 63) / 64 * 8;
    if (version != 1 || page_size != c->page_size) {
        vms_error_set(err, VMS_E_UNSUPPORTED, hdr_off, "mapped-ram header "
                      "of block \"%s\": version %u, page size %llu (vmstream "
                      "reads version 1 with the stream's %u-byte pages)",
                      b->name, version, (unsigned long long)page_size,
                      c->page_size);
        return -1;
    }
    if (bitmap_off != hdr_off + MAPPED_RAM_HDR_LEN ||
        pages_off < bitmap_off + bitmap_len ||
        pages_off % MAPPED_RAM_ALIGN != 0 ||
        pages_off - (bitmap_off + bitmap_len) >= MAPPED_RAM_ALIGN) {
        vms_error_set(err, VMS_E_FORMAT, hdr_off, "mapped-ram header of "
                      "block \"%s\": bitmap at %llu and pages at %llu do not "
                      "follow the header at %llu as QEMU lays them out "
                      "(a file: migration with an offset is not supported)",
                      b->name, (unsigned long long)bitmap_off,
                      (unsigned long long)pages_off,
                      (unsigned long long)hdr_off);
        return -1;
    }
    if (bitmap_len > VMS_MAX_MAPPED_BITMAP) {
        vms_error_set(err, VMS_E_LIMIT, hdr_off, "mapped-ram bitmap of "
                      "block \"%s\" is %llu bytes (limit %u)", b->name,
                      (unsigned long long)bitmap_len, VMS_MAX_MAPPED_BITMAP);
        return -1;
    }
    bitmap = malloc(bitmap_len ? bitmap_len : 1);
    if (!bitmap) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    if (vms_src_read(src, bitmap, bitmap_len, "mapped-ram bitmap") < 0 ||
        vms_src_skip(src, pages_off - (bitmap_off + bitmap_len),
                     "mapped-ram padding") < 0) {
        goto out;
    }
    c->current_block = (int)block;
    for (p = 0; p < pages; p++) {
        uint64_t at = vms_src_offset(src);

        if (!page_present(bitmap, p)) {
            b->zero++;
            if (vms_ram_observe(c, st, at, p * c->page_size, VMS_RAM_ZERO,
                                NULL, 0, 0, err) < 0 ||
                vms_src_skip(src, c->page_size, "mapped-ram page") < 0) {
                goto out;
            }
            continue;
        }
        {
            const uint8_t *data = vms_src_peek(src, c->page_size, NULL);

            if (!data) {
                vms_error_set(err, VMS_E_TRUNCATED, at, "stream ends inside "
                              "mapped-ram page %llu of block \"%s\"",
                              (unsigned long long)p, b->name);
                goto out;
            }
            b->normal++;
            st->ram_records++;
            if (vms_ram_observe(c, st, at, p * c->page_size, VMS_RAM_PAGE,
                                data, c->page_size, 0, err) < 0) {
                goto out;
            }
            vms_src_consume(src, c->page_size);
        }
    }
    rc = 0;
out:
    free(bitmap);
    return rc;
}
