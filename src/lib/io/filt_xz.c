/*
 * filt_xz.c - xz (liblzma): decoding (concatenated streams, decoder
 * memory capped at 256 MiB; `xz -9` needs 65 MiB) and encoding (preset 3,
 * CRC64, as libvirt's `xz -c -3`: byte-identical output).
 */
#include "config.h"

#include <lzma.h>
#include <stdlib.h>

#include "src_impl.h"

#define XZ_MEMLIMIT (256u << 20)

struct xz_state {
    lzma_stream ls;
    uint8_t in[VMS_SRC_RAWBUF];
    int finishing;              /* input ended: LZMA_FINISH */
    int done;
};

static ssize_t xz_read(struct vms_src *s, uint8_t *dst, size_t cap)
{
    struct xz_state *x = s->codec;

    if (x->done) {
        return 0;
    }
    x->ls.next_out = dst;
    x->ls.avail_out = cap;
    while (x->ls.avail_out == cap) {
        lzma_ret rc;

        if (x->ls.avail_in == 0 && !x->finishing) {
            ssize_t n = vms_src_raw_read(s, x->in, sizeof(x->in));

            if (n < 0) {
                return -1;
            }
            if (n == 0) {
                x->finishing = 1;
            }
            x->ls.next_in = x->in;
            x->ls.avail_in = (size_t)n;
        }
        rc = lzma_code(&x->ls, x->finishing ? LZMA_FINISH : LZMA_RUN);
        if (rc == LZMA_STREAM_END) {
            x->done = 1;
            break;
        }
        if (rc == LZMA_BUF_ERROR && x->finishing) {
            vms_error_set(s->err, VMS_E_TRUNCATED, s->buf_base + s->len,
                          "xz data ends before the end of its stream "
                          "(compressed input cut at byte %llu)",
                          (unsigned long long)s->raw_off);
            return -1;
        }
        if (rc != LZMA_OK) {
            vms_error_set(s->err, rc == LZMA_MEM_ERROR ? VMS_E_NOMEM
                                  : rc == LZMA_MEMLIMIT_ERROR ? VMS_E_LIMIT
                                                               : VMS_E_FORMAT,
                          s->buf_base + s->len,
                          "xz data near compressed byte %llu: %s",
                          (unsigned long long)s->raw_off,
                          rc == LZMA_MEMLIMIT_ERROR
                              ? "needs more than 256 MiB to decode"
                          : rc == LZMA_DATA_ERROR ? "corrupt data"
                          : rc == LZMA_FORMAT_ERROR ? "not xz"
                          : rc == LZMA_OPTIONS_ERROR ? "unsupported options"
                                                     : "decoding failed");
            return -1;
        }
    }
    return (ssize_t)(cap - x->ls.avail_out);
}

static void xz_free(struct vms_src *s)
{
    struct xz_state *x = s->codec;

    if (x) {
        lzma_end(&x->ls);
        free(x);
    }
}

static const struct vms_src_ops xz_ops = {
    .name = "xz",
    .read = xz_read,
    .free = xz_free,
};

static int xz_open(struct vms_src *s)
{
    struct xz_state *x = calloc(1, sizeof(*x));
    lzma_stream init = LZMA_STREAM_INIT;

    if (!x) {
        vms_error_set_nooff(s->err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    x->ls = init;
    if (lzma_stream_decoder(&x->ls, XZ_MEMLIMIT, LZMA_CONCATENATED) !=
        LZMA_OK) {
        free(x);
        vms_error_set_nooff(s->err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    s->codec = x;
    s->ops = &xz_ops;
    return 0;
}

static int xz_bid(const uint8_t *p, size_t n)
{
    static const uint8_t magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };

    return vms_filter_magic(p, n, magic, sizeof(magic));
}

struct xz_enc {
    lzma_stream ls;
    uint8_t out[VMS_SRC_RAWBUF];
};

static void *xz_enc_new(int level, struct vms_error *err)
{
    struct xz_enc *x = calloc(1, sizeof(*x));
    lzma_stream init = LZMA_STREAM_INIT;

    if (!x) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    x->ls = init;
    if (lzma_easy_encoder(&x->ls, (uint32_t)(level ? level : 3),
                          LZMA_CHECK_CRC64) != LZMA_OK) {
        free(x);
        vms_error_set_nooff(err, VMS_E_USAGE, "xz: cannot set up preset %d",
                            level ? level : 3);
        return NULL;
    }
    return x;
}

static int xz_enc_write(void *enc, const void *buf, size_t len, int finish,
                        vms_enc_out_fn out, void *opaque,
                        struct vms_error *err)
{
    struct xz_enc *x = enc;
    lzma_action action = finish ? LZMA_FINISH : LZMA_RUN;

    x->ls.next_in = buf;
    x->ls.avail_in = len;
    for (;;) {
        lzma_ret rc;

        x->ls.next_out = x->out;
        x->ls.avail_out = sizeof(x->out);
        rc = lzma_code(&x->ls, action);
        if (rc != LZMA_OK && rc != LZMA_STREAM_END) {
            vms_error_set_nooff(err, rc == LZMA_MEM_ERROR ? VMS_E_NOMEM
                                                          : VMS_E_IO,
                                "xz compression failed (liblzma error %d)",
                                (int)rc);
            return -1;
        }
        if (out(opaque, x->out, sizeof(x->out) - x->ls.avail_out, err) < 0) {
            return -1;
        }
        if (finish ? rc == LZMA_STREAM_END : x->ls.avail_in == 0) {
            return 0;
        }
    }
}

static void xz_enc_free(void *enc)
{
    struct xz_enc *x = enc;

    if (x) {
        lzma_end(&x->ls);
        free(x);
    }
}

const struct vms_filter vms_filter_xz = {
    .name = "xz",
    .comp = VMS_COMP_XZ,
    .bid = xz_bid,
    .open = xz_open,
    .enc_new = xz_enc_new,
    .enc_write = xz_enc_write,
    .enc_free = xz_enc_free,
};
