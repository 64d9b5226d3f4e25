/*
 * filt_bzip2.c - bzip2 (libbz2): decoding (concatenated streams; at most
 * ~3.7 MB of decoder state whatever the input says) and encoding (900k
 * blocks, as `bzip2 -c`, which libvirt runs: byte-identical output).
 */
#include "config.h"

#include <bzlib.h>
#include <limits.h>
#include <stdlib.h>

#include "src_impl.h"

struct bz_state {
    bz_stream bs;
    uint8_t in[VMS_SRC_RAWBUF];
    int stream_done;
    int inited;
};

static ssize_t bz_read(struct vms_src *s, uint8_t *dst, size_t cap)
{
    struct bz_state *b = s->codec;

    if (cap > UINT_MAX) {
        cap = UINT_MAX;
    }
    b->bs.next_out = (char *)dst;
    b->bs.avail_out = (unsigned)cap;
    while (b->bs.avail_out == cap) {
        int rc;

        if (b->bs.avail_in == 0) {
            ssize_t n = vms_src_raw_read(s, b->in, sizeof(b->in));

            if (n < 0) {
                return -1;
            }
            if (n == 0) {
                if (!b->stream_done) {
                    vms_error_set(s->err, VMS_E_TRUNCATED,
                                  s->buf_base + s->len,
                                  "bzip2 data ends before its end-of-stream "
                                  "marker (compressed input cut at byte "
                                  "%llu)", (unsigned long long)s->raw_off);
                    return -1;
                }
                return 0;
            }
            b->bs.next_in = (char *)b->in;
            b->bs.avail_in = (unsigned)n;
        }
        if (b->stream_done) {
            /* Another bzip2 stream follows (bzip2 concatenation). */
            char *ni = b->bs.next_in;
            unsigned ai = b->bs.avail_in;

            BZ2_bzDecompressEnd(&b->bs);
            b->inited = 0;
            if (BZ2_bzDecompressInit(&b->bs, 0, 0) != BZ_OK) {
                vms_error_set_nooff(s->err, VMS_E_NOMEM, "out of memory");
                return -1;
            }
            b->inited = 1;
            b->bs.next_in = ni;
            b->bs.avail_in = ai;
            b->bs.next_out = (char *)dst;
            b->bs.avail_out = (unsigned)cap;
            b->stream_done = 0;
        }
        rc = BZ2_bzDecompress(&b->bs);
        if (rc == BZ_STREAM_END) {
            b->stream_done = 1;
        } else if (rc != BZ_OK) {
            vms_error_set(s->err, rc == BZ_MEM_ERROR ? VMS_E_NOMEM
                                                     : VMS_E_FORMAT,
                          s->buf_base + s->len,
                          "bzip2 data is corrupt near compressed byte %llu "
                          "(libbz2 error %d)",
                          (unsigned long long)s->raw_off, rc);
            return -1;
        }
    }
    return (ssize_t)(cap - b->bs.avail_out);
}

static void bz_free(struct vms_src *s)
{
    struct bz_state *b = s->codec;

    if (b) {
        if (b->inited) {
            BZ2_bzDecompressEnd(&b->bs);
        }
        free(b);
    }
}

static const struct vms_src_ops bzip2_ops = {
    .name = "bzip2",
    .read = bz_read,
    .free = bz_free,
};

static int bz_open(struct vms_src *s)
{
    struct bz_state *b = calloc(1, sizeof(*b));

    if (!b || BZ2_bzDecompressInit(&b->bs, 0, 0) != BZ_OK) {
        free(b);
        vms_error_set_nooff(s->err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    b->inited = 1;
    s->codec = b;
    s->ops = &bzip2_ops;
    return 0;
}

/* "BZh" and a block size digit 1-9. */
static int bz_bid(const uint8_t *p, size_t n)
{
    if (n < 4 || !vms_filter_magic(p, n, "BZh", 3) || p[3] < '1' ||
        p[3] > '9') {
        return 0;
    }
    return 32;
}

struct bz_enc {
    bz_stream bs;
    char out[VMS_SRC_RAWBUF];
};

static void *bz_enc_new(int level, struct vms_error *err)
{
    struct bz_enc *b = calloc(1, sizeof(*b));

    if (!b || BZ2_bzCompressInit(&b->bs, level ? level : 9, 0, 0) != BZ_OK) {
        free(b);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    return b;
}

static int bz_enc_write(void *enc, const void *buf, size_t len, int finish,
                        vms_enc_out_fn out, void *opaque,
                        struct vms_error *err)
{
    struct bz_enc *b = enc;
    const char *p = buf;

    do {
        size_t chunk = len > UINT_MAX / 2 ? UINT_MAX / 2 : len;
        int action = finish && chunk == len ? BZ_FINISH : BZ_RUN;

        b->bs.next_in = (char *)p;
        b->bs.avail_in = (unsigned)chunk;
        for (;;) {
            int rc;

            b->bs.next_out = b->out;
            b->bs.avail_out = sizeof(b->out);
            rc = BZ2_bzCompress(&b->bs, action);
            if (rc != BZ_RUN_OK && rc != BZ_FINISH_OK &&
                rc != BZ_STREAM_END) {
                vms_error_set_nooff(err, VMS_E_IO, "bzip2 compression "
                                    "failed (libbz2 error %d)", rc);
                return -1;
            }
            if (out(opaque, b->out, sizeof(b->out) - b->bs.avail_out,
                    err) < 0) {
                return -1;
            }
            if (action == BZ_FINISH ? rc == BZ_STREAM_END
                                    : b->bs.avail_in == 0) {
                break;
            }
        }
        p += chunk;
        len -= chunk;
    } while (len > 0);
    return 0;
}

static void bz_enc_free(void *enc)
{
    struct bz_enc *b = enc;

    if (b) {
        BZ2_bzCompressEnd(&b->bs);
        free(b);
    }
}

const struct vms_filter vms_filter_bzip2 = {
    .name = "bzip2",
    .comp = VMS_COMP_BZIP2,
    .bid = bz_bid,
    .open = bz_open,
    .enc_new = bz_enc_new,
    .enc_write = bz_enc_write,
    .enc_free = bz_enc_free,
};
