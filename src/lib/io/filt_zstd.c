/*
 * filt_zstd.c - zstd: streaming decoding (window bounded to 128 MiB) and
 * encoding (level 3 unless told, as the `zstd` program).
 */
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

static int zs_open(struct vms_src *s)
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

static int zs_bid(const uint8_t *p, size_t n)
{
    static const uint8_t magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

    return vms_filter_magic(p, n, magic, sizeof(magic));
}

struct zs_enc {
    ZSTD_CStream *zc;
    uint8_t out[VMS_SRC_RAWBUF];
};

static void *zs_enc_new(int level, struct vms_error *err)
{
    struct zs_enc *z = calloc(1, sizeof(*z));

    if (!z || !(z->zc = ZSTD_createCStream())) {
        free(z);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    ZSTD_CCtx_setParameter(z->zc, ZSTD_c_compressionLevel, level ? level : 3);
    return z;
}

static int zs_enc_write(void *enc, const void *buf, size_t len, int finish,
                        vms_enc_out_fn out, void *opaque,
                        struct vms_error *err)
{
    struct zs_enc *z = enc;
    ZSTD_inBuffer ib = { buf, len, 0 };
    ZSTD_EndDirective end = finish ? ZSTD_e_end : ZSTD_e_continue;

    for (;;) {
        ZSTD_outBuffer ob = { z->out, sizeof(z->out), 0 };
        size_t rc = ZSTD_compressStream2(z->zc, &ob, &ib, end);

        if (ZSTD_isError(rc)) {
            vms_error_set_nooff(err, VMS_E_IO, "zstd compression failed: "
                                "%s", ZSTD_getErrorName(rc));
            return -1;
        }
        if (out(opaque, z->out, ob.pos, err) < 0) {
            return -1;
        }
        if (end == ZSTD_e_end ? rc == 0 : ib.pos == ib.size) {
            return 0;
        }
    }
}

static void zs_enc_free(void *enc)
{
    struct zs_enc *z = enc;

    if (z) {
        ZSTD_freeCStream(z->zc);
        free(z);
    }
}

const struct vms_filter vms_filter_zstd = {
    .name = "zstd",
    .comp = VMS_COMP_ZSTD,
    .bid = zs_bid,
    .open = zs_open,
    .enc_new = zs_enc_new,
    .enc_write = zs_enc_write,
    .enc_free = zs_enc_free,
};
