/*
 * ram.h - the RAM section walker ("ram", version 4).
 *
 * Owns: RAM records (MEM_SIZE block list with its per-block extras, ZERO,
 * PAGE, XBZRLE, COMPRESS_PAGE, CONTINUE, MULTIFD_FLUSH, EOS), per-block page
 * counts, and the "current block" that carries over between sections.
 * Pages are skipped or checked in place, never held.
 */
#ifndef VMS_RAM_H
#define VMS_RAM_H

#include <stdint.h>

#include "error.h"
#include "src.h"

struct vms_stream;

struct vms_ram_ctx {
    uint32_t page_size;
    int ignore_shared;        /* x-ignore-shared: blocks carry their GPA */
    int mapped_ram;
    int current_block;        /* index in st->blocks, -1 if none yet */
    uint8_t *scratch;         /* one page, for COMPRESS_PAGE checks */
};

void vms_ram_ctx_init(struct vms_ram_ctx *c, uint32_t page_size);
void vms_ram_ctx_fini(struct vms_ram_ctx *c);
/* Records up to and including EOS; the section header is already read. */
int vms_ram_section(struct vms_src *src, struct vms_stream *st,
                    struct vms_ram_ctx *c, struct vms_error *err);
/* Check an XBZRLE payload against the decoder's rules (xbzrle.c). */
int vms_xbzrle_check(const uint8_t *p, uint32_t len, uint32_t page_size);

#endif
