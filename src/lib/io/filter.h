/*
 * filter.h - the table of input filters and containers (libarchive style)
 * and the output side of each compression.
 *
 * Owns: which filters exist, bidding on the first bytes of an input, the
 * names of the compressions, and the streaming encoders that sink.c uses.
 * Each filter lives in its own filt_*.c; the libvirt container in
 * libvirt.c.  src.c and sink.c name no filter: they ask this table.
 * Does not own: reading the file (src.c, src_raw.c), the libvirt header
 * layout (libvirt.h).
 */
#ifndef VMS_FILTER_H
#define VMS_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "src.h"

/* How many leading bytes any bid looks at. */
#define VMS_FILTER_BID_LEN 16u

/* Where an encoder puts its output; 0, or -1 after latching err. */
typedef int (*vms_enc_out_fn)(void *opaque, const void *buf, size_t len,
                              struct vms_error *err);

struct vms_filter {
    const char *name;
    enum vms_compression comp;  /* VMS_COMP_NONE for a container */
    int container;              /* 1: a header, then another filter */
    /* > 0 if the first bytes p[0..n) are this filter's (n may be short). */
    int (*bid)(const uint8_t *p, size_t n);
    /* Take over the source: decode (a filter) or read the header (a
     * container).  0, or -1 after latching the source's error. */
    int (*open)(struct vms_src *s);
    /* A container: is the payload filter (NULL = raw) the one the header
     * names?  0, or -1 after latching the source's error. */
    int (*check)(struct vms_src *s, const struct vms_filter *payload);

    /* Output side (filters only).  level 0 = the default of the program
     * libvirt runs for this compression. */
    void *(*enc_new)(int level, struct vms_error *err);
    /* Compress buf[0..len); finish = 1 ends the stream. */
    int (*enc_write)(void *enc, const void *buf, size_t len, int finish,
                     vms_enc_out_fn out, void *opaque,
                     struct vms_error *err);
    void (*enc_free)(void *enc);
    /* Optional: repeat an input's header (vms_src_comp_header) where it
     * describes what this encoder writes; ignored otherwise. */
    void (*enc_like)(void *enc, const uint8_t *hdr, size_t len);
};

/* The best bidder for p[0..n) (containers and filters), or NULL. */
const struct vms_filter *vms_filter_bid(const uint8_t *p, size_t n);
/* The filter of a compression; NULL for VMS_COMP_NONE. */
const struct vms_filter *vms_filter_of(enum vms_compression c);
/* "none", "gzip", "zstd", "bzip2", "xz", "lzop". */
const char *vms_compression_name(enum vms_compression c);
/* The compression of a name above; -1 if unknown. */
int vms_compression_parse(const char *name);

/* The filters, one per file. */
extern const struct vms_filter vms_filter_gzip;
extern const struct vms_filter vms_filter_zstd;
extern const struct vms_filter vms_filter_bzip2;
extern const struct vms_filter vms_filter_xz;
extern const struct vms_filter vms_filter_lzop;
extern const struct vms_filter vms_filter_libvirt;

/* Shared by the bids: p starts with magic[0..mlen). */
static inline int vms_filter_magic(const uint8_t *p, size_t n,
                                   const void *magic, size_t mlen)
{
    const uint8_t *m = magic;
    size_t i;

    if (n < mlen) {
        return 0;
    }
    for (i = 0; i < mlen; i++) {
        if (p[i] != m[i]) {
            return 0;
        }
    }
    return (int)(8 * mlen);     /* bits checked: the bid */
}

#endif
