/*
 * ram.h - the RAM section walker ("ram", version 4).
 *
 * Owns: RAM records (MEM_SIZE block list with its per-block extras, ZERO,
 * PAGE, XBZRLE, COMPRESS_PAGE, CONTINUE, MULTIFD_FLUSH, EOS), per-block page
 * counts, and the "current block" that carries over between sections.
 * Pages are skipped or checked in place, never held; an optional observer
 * (vms_ram_page_fn) sees each page record's bytes where they lie.
 */
#ifndef VMS_RAM_H
#define VMS_RAM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "src.h"

struct vms_stream;
struct vms_ramblock;

/*
 * One page record as it streams by.  kind is the record's wire flag:
 * VMS_RAM_ZERO (data NULL, len 0; every byte of the page is `fill`),
 * VMS_RAM_PAGE (data = the page, len = page size), VMS_RAM_XBZRLE (data =
 * the encoded delta, len bytes, already checked with vms_xbzrle_check;
 * decode it against the page's previous content), VMS_RAM_COMPRESS_PAGE
 * (data = the page already inflated, len = page size).  data points into
 * the source's buffer or a scratch page: valid only during the call.
 */
struct vms_ram_page {
    const struct vms_stream *st;
    const struct vms_ramblock *block;
    size_t block_index;       /* in st->blocks */
    uint64_t offset;          /* of the page in its block */
    unsigned kind;
    const uint8_t *data;
    uint32_t len;
    uint8_t fill;
    uint64_t rec_offset;      /* stream offset of the record header */
};

/* Return 0, or -1 after latching err (the parse stops). */
typedef int (*vms_ram_page_fn)(void *opaque, const struct vms_ram_page *pg,
                               struct vms_error *err);

struct vms_ram_ctx {
    uint32_t page_size;
    int ignore_shared;        /* x-ignore-shared: blocks carry their GPA */
    int mapped_ram;
    int current_block;        /* index in st->blocks, -1 if none yet */
    uint8_t *scratch;         /* one page, for COMPRESS_PAGE checks */
    vms_ram_page_fn page_fn;  /* optional observer of page records */
    void *page_opaque;
};

void vms_ram_ctx_init(struct vms_ram_ctx *c, uint32_t page_size);
void vms_ram_ctx_fini(struct vms_ram_ctx *c);
/* Records up to and including EOS; the section header is already read. */
int vms_ram_section(struct vms_src *src, struct vms_stream *st,
                    struct vms_ram_ctx *c, struct vms_error *err);
/* Hand one page to the observer (nothing without one). */
int vms_ram_observe(struct vms_ram_ctx *c, const struct vms_stream *st,
                    uint64_t rec_off, uint64_t addr, unsigned kind,
                    const uint8_t *data, uint32_t len, uint8_t fill,
                    struct vms_error *err);
/* mapped-ram (mapped_ram.c): the header, bitmap and pages that follow
 * block's entry in the setup section's MEM_SIZE list. */
int vms_ram_mapped_block(struct vms_src *src, struct vms_stream *st,
                         struct vms_ram_ctx *c, size_t block,
                         struct vms_error *err);
/* Check an XBZRLE payload against the decoder's rules (xbzrle.c). */
int vms_xbzrle_check(const uint8_t *p, uint32_t len, uint32_t page_size);

#endif
