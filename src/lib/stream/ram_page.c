#include "config.h"
#include "ram.h"

#include <stdlib.h>
#include <string.h>

#include "stream.h"

/* The RAM context (ram.c: the precopy records; mapped_ram.c: mapped-ram
 * files) and what a page observer is shown of each page. */

void vms_ram_ctx_init(struct vms_ram_ctx *c, uint32_t page_size)
{
    memset(c, 0, sizeof(*c));
    c->page_size = page_size;
    c->current_block = -1;
}

void vms_ram_ctx_fini(struct vms_ram_ctx *c)
{
    free(c->scratch);
    c->scratch = NULL;
}

int vms_ram_observe(struct vms_ram_ctx *c, const struct vms_stream *st,
                   uint64_t rec_off, uint64_t addr, unsigned kind,
                   const uint8_t *data, uint32_t len, uint8_t fill,
                   struct vms_error *err)
{
    struct vms_ram_page pg;

    if (!c->page_fn) {
        return 0;
    }
    pg.st = st;
    pg.block = &st->blocks[c->current_block];
    pg.block_index = (size_t)c->current_block;
    pg.offset = addr;
    pg.kind = kind;
    pg.data = data;
    pg.len = len;
    pg.fill = fill;
    pg.rec_offset = rec_off;
    return c->page_fn(c->page_opaque, &pg, err);
}
