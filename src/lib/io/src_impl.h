/*
 * src_impl.h - guts shared by the byte-source backends (src*.c only).
 */
#ifndef VMS_SRC_IMPL_H
#define VMS_SRC_IMPL_H

#include <sys/types.h>
#include <xxhash.h>

#include "filter.h"
#include "libvirt.h"
#include "src.h"

#define VMS_SRC_BUFSZ (4u * VMS_PEEK_MAX)
#define VMS_SRC_RAWBUF (128u * 1024u)
#define VMS_SRC_MAP_WINDOW (4u << 20)

struct vms_src_ops {
    const char *name;
    /* Decoded bytes into dst; 0 at the end, -1 after latching s->err. */
    ssize_t (*read)(struct vms_src *s, uint8_t *dst, size_t cap);
    void (*free)(struct vms_src *s);
};

struct vms_src {
    int fd;
    int owns_fd;
    const uint8_t *mem;         /* memory source: bytes read in place */
    size_t mem_len;

    uint8_t *buf;               /* decoded look-ahead buffer */
    size_t pos, len;            /* unread = buf[pos..len) */
    uint64_t buf_base;          /* stream offset of buf[0] */
    int eof;                    /* backend has no more bytes */

    int shrink_pipe;            /* a pipe to shrink to one page, not yet
                                   done (vms_src_shrink_pipe) */

    uint8_t pushback[128];      /* raw bytes read while sniffing */
    size_t pb_pos, pb_len;
    uint64_t raw_off;

    const struct vms_src_ops *ops;
    const struct vms_filter *container; /* libvirt, or NULL */
    void *codec;                /* backend state */
    enum vms_compression comp;
    uint8_t comp_hdr[320];      /* the compressed file's own header as */
    size_t comp_hdr_len;        /* read (lzop), for vms_src_comp_header */
    struct vms_libvirt_header libvirt;

    vms_tee_fn tee;
    void *tee_opaque;
    int tee_on;
    size_t tee_mark;            /* buf[tee_mark..pos) not yet forwarded */

    /* Regular uncompressed files are read through a sliding mapping:
     * buf points into it, so RAM pages are never copied. */
    int mapped;
    uint8_t *map;
    size_t map_len;
    uint64_t file_size;
    uint64_t file_delta;        /* file offset of stream offset 0 */

    XXH3_state_t *hash;
    int hash_on;

    struct vms_error *err;      /* the caller's latch */
};

/* src_raw.c: raw (undecoded) bytes from the fd, pushback first; -1
 * latches an error. */
ssize_t vms_src_raw_read(struct vms_src *s, uint8_t *dst, size_t cap);
/* Fill the pushback buffer up to n bytes (n <= sizeof(pushback)) without
 * consuming them; returns how many it holds. */
size_t vms_src_sniff(struct vms_src *s, size_t n);
/* Drop the sniffed bytes (a container consumed them itself). */
void vms_src_sniff_drop(struct vms_src *s, size_t n);
void vms_src_try_shrink(struct vms_src *s);

#endif
