/*
 * ramimage.h - guest RAM as the destination would have it after loading a
 * stream, written into files while the stream goes by.
 *
 * Owns: applying RAM page records (ram.h observer) to per-block targets (a
 * file descriptor and the file offset of the block's first byte): a later
 * copy of a page replaces an earlier one, ZERO pages become their fill
 * byte, XBZRLE deltas are applied to the page's previous content (read
 * back from the target), compressed pages arrive inflated.  Zero pages are
 * never written: they stay holes (or are punched back into holes when a
 * page that had data becomes zero), so targets are sparse.  Pages never
 * sent stay holes, i.e. zero.  Memory: one coalescing write buffer
 * (VMS_RAMIMG_BUF) and a page; nothing grows with RAM size.
 * Does not own: where targets come from (extract.c, elfcore.c), publishing
 * files (sink.h), the final file length (callers ftruncate).
 */
#ifndef VMS_RAMIMAGE_H
#define VMS_RAMIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ram.h"
#include "stream.h"

#define VMS_RAMIMG_BUF (1024u * 1024u)

struct vms_ramimg;

/*
 * Called once per block, the first time one of its pages arrives: set
 * *fd (-1: the block's pages are dropped) and *base (file offset of the
 * block's byte 0).  Return 0, or -1 after latching err.
 */
typedef int (*vms_ramimg_target_fn)(void *opaque,
                                    const struct vms_ram_page *pg, int *fd,
                                    uint64_t *base, struct vms_error *err);

struct vms_ramimg *vms_ramimg_new(vms_ramimg_target_fn target,
                                  void *opaque, struct vms_error *err);
/* A vms_ram_page_fn: pass it (with the image as opaque) to the parser. */
int vms_ramimg_page(void *img, const struct vms_ram_page *pg,
                    struct vms_error *err);
/* An observer (stream.h) whose pages go into img and whose progress goes
 * to progress(progress_opaque, ...) when that is given. */
void vms_ramimg_observer(struct vms_ramimg *img,
                         int (*progress)(void *, uint64_t, uint64_t),
                         void *progress_opaque,
                         struct vms_stream_observer *ob);
/* Write out what is buffered (also done before any read-back). */
int vms_ramimg_flush(struct vms_ramimg *img, struct vms_error *err);
void vms_ramimg_free(struct vms_ramimg *img);

/* Apply an XBZRLE delta to page[0..page_size) as QEMU's
 * xbzrle_decode_buffer() does (zero runs keep bytes, literal runs replace
 * them).  Returns 0, or -1 if the delta does not decode. */
int vms_xbzrle_apply(const uint8_t *delta, uint32_t len, uint8_t *page,
                     uint32_t page_size);
/* 1 if buf[0..len) is all zero. */
int vms_is_zero(const uint8_t *buf, size_t len);

#endif
