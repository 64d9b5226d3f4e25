/* src_zstd.c - zstd byte source (streaming decompression). */
#include "config.h"

#include <stdlib.h>
#include <zstd.h>

#include "src_impl.h"

struct zs_state {
    ZSTD_DCtx *dctx;
    uint8_t in[VMS_SRC_RAWBUF];
    ZSTD_inBuffer ib;
    size_t last_rc;          /* 0 = a frame just ended */
};

static ssize_t zs_read(struct vms_src *s, uint8_t *dst, size_t cap)
{
    struct zs_state *z = s->codec;
    ZSTD_outBuffer ob = { dst, cap, 0 };

    while (ob.pos == 0) {
        size_t rc;

        if (z->ib.pos == z->ib.size) {
            ssize_t n = vms_src_raw_read(s, z->in, sizeof(z->in));

            if (n < 0) {
                return -1;
            }
            if (n == 0) {
                if (z->last_rc != 0) {
                    vms_error_set(s->err, VMS_E_TRUNCATED,
                                  s->buf_base + s->len,
                                  "zstd frame is incomplete (compressed "
                                  "input cut at byte %llu)",
                                  (unsigned long long)s->raw_off);
                    return -1;
                }
                return 0;
            }
            z->ib.src = z->in;
            z->ib.size = (size_t)n;
            z->ib.pos = 0;
        }
        rc = ZSTD_decompressStream(z->dctx, &ob, &z->ib);
        if (ZSTD_isError(rc)) {
            vms_error_set(s->err, VMS_E_FORMAT, s->buf_base + s->len,
                          "zstd data is corrupt near compressed byte %llu: "
                          "%s", (unsigned long long)s->raw_off,
                          ZSTD_getErrorName(rc));
            return -1;
        }
        z->last_rc = rc;
    }
    return (ssize_t)ob.pos;
}

static void zs_free(struct vms_src *s)
{
    struct zs_state *z = s->codec;

    if (z) {
        ZSTD_freeDCtx(z->dctx);
        free(z);
    }
}

static const struct vms_src_ops zstd_ops = {
    .name = "zstd",
    .read = zs_read,
    .free = zs_free,
};

int vms_src_zstd_init(struct vms_src *s)
{
    struct zs_state *z = calloc(1, sizeof(*z));

    if (!z || !(z->dctx = ZSTD_createDCtx())) {
        free(z);
        vms_error_set_nooff(s->err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    /* Bound the decoder's window: a crafted frame cannot make us
     * allocate more than 128 MiB (zstd -19 uses at most 8 MiB). */
    ZSTD_DCtx_setParameter(z->dctx, ZSTD_d_windowLogMax, 27);
    z->last_rc = 1;
    s->codec = z;
    s->ops = &zstd_ops;
    return 0;
}
