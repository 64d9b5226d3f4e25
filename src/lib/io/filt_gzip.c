/*
 * filt_gzip.c - gzip (zlib): decoding (concatenated members) and encoding
 * (level 6 as `gzip -c`; mtime 0, OS 3 like gzip from a pipe).
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <zlib.h>

#include "src_impl.h"

struct gz_state {
    z_stream zs;
    uint8_t in[VMS_SRC_RAWBUF];
    int member_done;
};

static ssize_t gz_read(struct vms_src *s, uint8_t *dst, size_t cap)
{
    struct gz_state *g = s->codec;

    g->zs.next_out = dst;
    g->zs.avail_out = (uInt)cap;
    while (g->zs.avail_out == cap) {
        int rc;

        if (g->zs.avail_in == 0) {
            ssize_t n = vms_src_raw_read(s, g->in, sizeof(g->in));

            if (n < 0) {
                return -1;
            }
            if (n == 0) {
                if (!g->member_done) {
                    vms_error_set(s->err, VMS_E_TRUNCATED,
                                  s->buf_base + s->len,
                                  "gzip data ends without its trailer "
                                  "(compressed input cut at byte %llu)",
                                  (unsigned long long)s->raw_off);
                    return -1;
                }
                return 0;
            }
            g->zs.next_in = g->in;
            g->zs.avail_in = (uInt)n;
        }
        if (g->member_done) {
            /* Another gzip member follows (gzip concatenation). */
            if (inflateReset(&g->zs) != Z_OK) {
                return -1;
            }
            g->member_done = 0;
        }
        rc = inflate(&g->zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            g->member_done = 1;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            vms_error_set(s->err, VMS_E_FORMAT, s->buf_base + s->len,
                          "gzip data is corrupt near compressed byte %llu: "
                          "%s", (unsigned long long)s->raw_off,
                          g->zs.msg ? g->zs.msg : "inflate failed");
            return -1;
        }
    }
    return (ssize_t)(cap - g->zs.avail_out);
}

static void gz_free(struct vms_src *s)
{
    struct gz_state *g = s->codec;

    if (g) {
        inflateEnd(&g->zs);
        free(g);
    }
}

static const struct vms_src_ops gzip_ops = {
    .name = "gzip",
    .read = gz_read,
    .free = gz_free,
};

static int gz_open(struct vms_src *s)
{
    struct gz_state *g = calloc(1, sizeof(*g));

    if (!g) {
        vms_error_set_nooff(s->err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    if (inflateInit2(&g->zs, 15 + 16) != Z_OK) {
        free(g);
        vms_error_set_nooff(s->err, VMS_E_NOMEM, "inflateInit2 failed");
        return -1;
    }
    s->codec = g;
    s->ops = &gzip_ops;
    return 0;
}

static int gz_bid(const uint8_t *p, size_t n)
{
    static const uint8_t magic[3] = { 0x1f, 0x8b, 0x08 };

    return vms_filter_magic(p, n, magic, sizeof(magic));
}

struct gz_enc {
    z_stream zs;
    uint8_t out[VMS_SRC_RAWBUF];
};

static void *gz_enc_new(int level, struct vms_error *err)
{
    struct gz_enc *g = calloc(1, sizeof(*g));

    if (!g) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    if (deflateInit2(&g->zs, level ? level : 6, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        free(g);
        vms_error_set_nooff(err, VMS_E_NOMEM, "deflateInit2 failed");
        return NULL;
    }
    return g;
}

static int gz_enc_write(void *enc, const void *buf, size_t len, int finish,
                        vms_enc_out_fn out, void *opaque,
                        struct vms_error *err)
{
    struct gz_enc *g = enc;
    const uint8_t *p = buf;

    do {
        size_t chunk = len > UINT_MAX / 2 ? UINT_MAX / 2 : len;
        int flush = finish && chunk == len ? Z_FINISH : Z_NO_FLUSH;

        g->zs.next_in = (Bytef *)p;
        g->zs.avail_in = (uInt)chunk;
        for (;;) {
            int rc;

            g->zs.next_out = g->out;
            g->zs.avail_out = sizeof(g->out);
            rc = deflate(&g->zs, flush);
            if (rc == Z_STREAM_ERROR) {
                vms_error_set_nooff(err, VMS_E_IO, "gzip compression "
                                    "failed");
                return -1;
            }
            if (out(opaque, g->out, sizeof(g->out) - g->zs.avail_out,
                    err) < 0) {
                return -1;
            }
            if (flush == Z_FINISH ? rc == Z_STREAM_END
                                  : (g->zs.avail_in == 0 &&
                                     g->zs.avail_out != 0)) {
                break;
            }
        }
        p += chunk;
        len -= chunk;
    } while (len > 0);
    return 0;
}

static void gz_enc_free(void *enc)
{
    struct gz_enc *g = enc;

    if (g) {
        deflateEnd(&g->zs);
        free(g);
    }
}

const struct vms_filter vms_filter_gzip = {
    .name = "gzip",
    .comp = VMS_COMP_GZIP,
    .bid = gz_bid,
    .open = gz_open,
    .enc_new = gz_enc_new,
    .enc_write = gz_enc_write,
    .enc_free = gz_enc_free,
};
