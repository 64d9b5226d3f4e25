/* src_gzip.c - gzip byte source (zlib inflate, concatenated members). */
#include "config.h"

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

int vms_src_gzip_init(struct vms_src *s)
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
