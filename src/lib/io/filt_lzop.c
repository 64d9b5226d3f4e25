/*
 * filt_lzop.c - the lzop file format over liblzo2 (why not the `lzop`
 * program libvirt runs: doc/libvirt.md).
 *
 * File: magic 89 'LZO' 00 0d 0a 1a 0a; header (big endian): version,
 * lib_version, version_needed (if version >= 0x0940), method, level (if
 * version >= 0x0940), flags, filter (if F_H_FILTER), mode, mtime_low,
 * mtime_high (if version >= 0x0940), name length + name, header checksum
 * (adler32, or crc32 if F_H_CRC32), extra field (if F_H_EXTRA_FIELD).
 * Then blocks: dst_len (0 ends the file), src_len, checksum of the
 * decompressed data (F_ADLER32_D / F_CRC32_D), checksum of the compressed
 * data if src_len < dst_len (F_ADLER32_C / F_CRC32_C), src_len bytes
 * (stored as is when src_len == dst_len).  Every method (LZO1X-1, -1(15),
 * -999) decodes with lzo1x_decompress_safe.  Blocks are capped at 64 MiB
 * as lzop caps them; lzop writes 256 KiB, as this encoder does (LZO1X-1,
 * the header of `lzop -c` from a pipe, but mtime 0).
 */
#include "config.h"

#include <lzo/lzo1x.h>
#include <stdlib.h>
#include <string.h>

#include "src_impl.h"
#include "wire.h"

#define LZOP_MAGIC_LEN 9u
#define LZOP_BLOCK (256u * 1024u)
#define LZOP_MAX_BLOCK (64u << 20)

#define F_ADLER32_D 0x00000001u
#define F_ADLER32_C 0x00000002u
#define F_STDIN 0x00000004u
#define F_STDOUT 0x00000008u
#define F_H_EXTRA_FIELD 0x00000040u
#define F_CRC32_D 0x00000100u
#define F_CRC32_C 0x00000200u
#define F_MULTIPART 0x00000400u
#define F_H_FILTER 0x00000800u
#define F_H_CRC32 0x00001000u
#define F_OS_UNIX 0x03000000u

static const uint8_t lzop_magic[LZOP_MAGIC_LEN] = {
    0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a,
};

struct lz_state {
    uint8_t in[VMS_SRC_RAWBUF];
    size_t in_pos, in_len;
    uint64_t comp_off;          /* compressed bytes taken from in[] */
    int header_done, end;
    uint32_t flags;
    uint8_t *cbuf, *ubuf;       /* one block, compressed / decompressed */
    size_t ccap, ucap;
    size_t u_pos, u_len;        /* unread = ubuf[u_pos..u_len) */
};

/* Exactly n raw bytes (n may be 0); -1 after latching an error. */
static int take(struct vms_src *s, struct lz_state *z, void *dst, size_t n,
                const char *what)
{
    uint8_t *d = dst;

    while (n > 0) {
        size_t k;

        if (z->in_pos == z->in_len) {
            ssize_t r = vms_src_raw_read(s, z->in, sizeof(z->in));

            if (r < 0) {
                return -1;
            }
            if (r == 0) {
                vms_error_set(s->err, VMS_E_TRUNCATED, s->buf_base + s->len,
                              "lzop data ends inside %s (compressed input "
                              "cut at byte %llu)", what,
                              (unsigned long long)s->raw_off);
                return -1;
            }
            z->in_pos = 0;
            z->in_len = (size_t)r;
        }
        k = z->in_len - z->in_pos < n ? z->in_len - z->in_pos : n;
        if (d) {
            memcpy(d, z->in + z->in_pos, k);
            d += k;
        }
        z->in_pos += k;
        z->comp_off += k;
        n -= k;
    }
    return 0;
}

static int take_be32(struct vms_src *s, struct lz_state *z, uint32_t *v,
                     const char *what)
{
    uint8_t b[4];

    if (take(s, z, b, 4, what) < 0) {
        return -1;
    }
    *v = vms_get_be32(b);
    return 0;
}

static int bad(struct vms_src *s, struct lz_state *z, enum vms_status code,
               const char *msg)
{
    vms_error_set(s->err, code, s->buf_base + s->len,
                  "lzop data at compressed byte %llu: %s",
                  (unsigned long long)z->comp_off, msg);
    return -1;
}

static int read_header(struct vms_src *s, struct lz_state *z)
{
    uint8_t h[64 + 255];
    size_t n = 0;
    uint16_t version;
    uint32_t sum, want;

    if (take(s, z, h, LZOP_MAGIC_LEN, "its magic") < 0) {
        return -1;
    }
    if (memcmp(h, lzop_magic, LZOP_MAGIC_LEN) != 0) {
        return bad(s, z, VMS_E_FORMAT, "not the lzop magic");
    }
    /* version, lib_version */
    if (take(s, z, h, 4, "its header") < 0) {
        return -1;
    }
    n = 4;
    version = vms_get_be16(h);
    if (version < 0x0900) {
        return bad(s, z, VMS_E_UNSUPPORTED, "lzop version before 0.90");
    }
    if (version >= 0x0940) {        /* version_needed, method, level */
        if (take(s, z, h + n, 4, "its header") < 0) {
            return -1;
        }
        n += 4;
    } else {                        /* method */
        if (take(s, z, h + n, 1, "its header") < 0) {
            return -1;
        }
        n += 1;
    }
    if (h[version >= 0x0940 ? 6 : 4] < 1 || h[version >= 0x0940 ? 6 : 4] > 3) {
        return bad(s, z, VMS_E_UNSUPPORTED, "compression method other than "
                   "LZO1X (1, 2 or 3)");
    }
    if (take(s, z, h + n, 4, "its header") < 0) {  /* flags */
        return -1;
    }
    z->flags = vms_get_be32(h + n);
    n += 4;
    if (z->flags & F_H_FILTER) {
        return bad(s, z, VMS_E_UNSUPPORTED, "lzop filters (F_H_FILTER) are "
                   "not supported");
    }
    if (z->flags & F_MULTIPART) {
        return bad(s, z, VMS_E_UNSUPPORTED, "multi-part lzop files are not "
                   "supported");
    }
    /* mode, mtime_low, mtime_high, name length */
    if (take(s, z, h + n, version >= 0x0940 ? 13 : 9, "its header") < 0) {
        return -1;
    }
    n += version >= 0x0940 ? 13 : 9;
    if (take(s, z, h + n, h[n - 1], "its file name") < 0) {
        return -1;
    }
    n += h[n - 1];
    sum = (z->flags & F_H_CRC32) ? lzo_crc32(0, h, (lzo_uint)n)
                                 : lzo_adler32(1, h, (lzo_uint)n);
    if (take_be32(s, z, &want, "its header checksum") < 0) {
        return -1;
    }
    if (sum != want) {
        return bad(s, z, VMS_E_FORMAT, "header checksum mismatch");
    }
    /* kept for an output in lzop (lz_enc_like) */
    if (LZOP_MAGIC_LEN + n + 4 <= sizeof(s->comp_hdr)) {
        memcpy(s->comp_hdr, lzop_magic, LZOP_MAGIC_LEN);
        memcpy(s->comp_hdr + LZOP_MAGIC_LEN, h, n);
        vms_put_be32(s->comp_hdr + LZOP_MAGIC_LEN + n, want);
        s->comp_hdr_len = LZOP_MAGIC_LEN + n + 4;
    }
    if (z->flags & F_H_EXTRA_FIELD) {
        uint32_t len;

        if (take_be32(s, z, &len, "its extra field") < 0) {
            return -1;
        }
        if (len > LZOP_MAX_BLOCK) {
            return bad(s, z, VMS_E_FORMAT, "extra field too long");
        }
        if (take(s, z, NULL, (size_t)len + 4, "its extra field") < 0) {
            return -1;
        }
    }
    z->header_done = 1;
    return 0;
}

static int grow(struct vms_src *s, uint8_t **p, size_t *cap, size_t n)
{
    uint8_t *q;

    if (*cap >= n) {
        return 0;
    }
    q = realloc(*p, n);
    if (!q) {
        vms_error_set_nooff(s->err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    *p = q;
    *cap = n;
    return 0;
}

/* The next block into ubuf; 0 at the end marker, -1 on error, 1 else. */
static int next_block(struct vms_src *s, struct lz_state *z)
{
    uint32_t dst_len, src_len;
    /* the checksums come before the data: keep them */
    uint32_t sums[4];
    size_t nsums = 0, i;
    lzo_uint out_len;

    if (take_be32(s, z, &dst_len, "a block header") < 0) {
        return -1;
    }
    if (dst_len == 0) {
        return 0;
    }
    if (take_be32(s, z, &src_len, "a block header") < 0) {
        return -1;
    }
    if (dst_len > LZOP_MAX_BLOCK) {
        return bad(s, z, VMS_E_FORMAT, "block longer than lzop's 64 MiB");
    }
    if (src_len == 0 || src_len > dst_len) {
        return bad(s, z, VMS_E_FORMAT, "compressed block length is 0 or "
                   "more than its decompressed length");
    }
    if (z->flags & F_ADLER32_D) {
        nsums++;
    }
    if (z->flags & F_CRC32_D) {
        nsums++;
    }
    if (src_len < dst_len) {
        nsums += (z->flags & F_ADLER32_C) ? 1 : 0;
        nsums += (z->flags & F_CRC32_C) ? 1 : 0;
    }
    for (i = 0; i < nsums; i++) {
        if (take_be32(s, z, &sums[i], "a block checksum") < 0) {
            return -1;
        }
    }
    if (grow(s, &z->ubuf, &z->ucap, dst_len) < 0 ||
        grow(s, &z->cbuf, &z->ccap, src_len) < 0) {
        return -1;
    }
    if (take(s, z, src_len < dst_len ? z->cbuf : z->ubuf, src_len,
             "a block") < 0) {
        return -1;
    }
    i = 0;
    {
        uint32_t d_adler = 0, d_crc = 0, c_adler = 0, c_crc = 0;
        int has_da = 0, has_dc = 0, has_ca = 0, has_cc = 0;

        if (z->flags & F_ADLER32_D) {
            d_adler = sums[i++];
            has_da = 1;
        }
        if (z->flags & F_CRC32_D) {
            d_crc = sums[i++];
            has_dc = 1;
        }
        if (src_len < dst_len) {
            if (z->flags & F_ADLER32_C) {
                c_adler = sums[i++];
                has_ca = 1;
            }
            if (z->flags & F_CRC32_C) {
                c_crc = sums[i++];
                has_cc = 1;
            }
            if ((has_ca && lzo_adler32(1, z->cbuf, src_len) != c_adler) ||
                (has_cc && lzo_crc32(0, z->cbuf, src_len) != c_crc)) {
                return bad(s, z, VMS_E_FORMAT, "checksum of a compressed "
                           "block mismatch");
            }
            out_len = dst_len;
            if (lzo1x_decompress_safe(z->cbuf, src_len, z->ubuf, &out_len,
                                      NULL) != LZO_E_OK ||
                out_len != dst_len) {
                return bad(s, z, VMS_E_FORMAT, "corrupt compressed block");
            }
        }
        if ((has_da && lzo_adler32(1, z->ubuf, dst_len) != d_adler) ||
            (has_dc && lzo_crc32(0, z->ubuf, dst_len) != d_crc)) {
            return bad(s, z, VMS_E_FORMAT, "checksum of a decompressed "
                       "block mismatch");
        }
    }
    z->u_pos = 0;
    z->u_len = dst_len;
    return 1;
}

static ssize_t lz_read(struct vms_src *s, uint8_t *dst, size_t cap)
{
    struct lz_state *z = s->codec;
    size_t k;

    if (!z->header_done && read_header(s, z) < 0) {
        return -1;
    }
    while (z->u_pos == z->u_len) {
        int rc;

        if (z->end) {
            return 0;
        }
        rc = next_block(s, z);
        if (rc < 0) {
            return -1;
        }
        if (rc == 0) {
            uint8_t extra;
            ssize_t r;

            z->end = 1;
            /* nothing may follow the end marker */
            if (z->in_pos < z->in_len) {
                return bad(s, z, VMS_E_FORMAT, "bytes after the end of "
                           "the lzop data");
            }
            r = vms_src_raw_read(s, &extra, 1);
            if (r < 0) {
                return -1;
            }
            if (r > 0) {
                return bad(s, z, VMS_E_FORMAT, "bytes after the end of "
                           "the lzop data");
            }
            return 0;
        }
    }
    k = z->u_len - z->u_pos < cap ? z->u_len - z->u_pos : cap;
    memcpy(dst, z->ubuf + z->u_pos, k);
    z->u_pos += k;
    return (ssize_t)k;
}

static void lz_free(struct vms_src *s)
{
    struct lz_state *z = s->codec;

    if (z) {
        free(z->cbuf);
        free(z->ubuf);
        free(z);
    }
}

static const struct vms_src_ops lzop_ops = {
    .name = "lzop",
    .read = lz_read,
    .free = lz_free,
};

static int lz_open(struct vms_src *s)
{
    struct lz_state *z;

    if (lzo_init() != LZO_E_OK) {
        vms_error_set_nooff(s->err, VMS_E_UNSUPPORTED, "liblzo2 failed to "
                            "initialise");
        return -1;
    }
    z = calloc(1, sizeof(*z));
    if (!z) {
        vms_error_set_nooff(s->err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    s->codec = z;
    s->ops = &lzop_ops;
    /* The header now, so that it is known before the first read (an
     * output in lzop repeats it). */
    return read_header(s, z);
}

static int lz_bid(const uint8_t *p, size_t n)
{
    return vms_filter_magic(p, n, lzop_magic, LZOP_MAGIC_LEN);
}

/* ---- encoder ------------------------------------------------------------ */

struct lz_enc {
    int header_done;
    uint8_t like[LZOP_MAGIC_LEN + 29 + 255];   /* header to repeat */
    size_t like_len;
    size_t fill;
    uint8_t block[LZOP_BLOCK];
    uint8_t out[12 + LZOP_BLOCK + LZOP_BLOCK / 16 + 64 + 3];
    uint8_t wrk[LZO1X_1_MEM_COMPRESS];
};

static void *lz_enc_new(int level, struct vms_error *err)
{
    struct lz_enc *z;

    if (lzo_init() != LZO_E_OK) {
        vms_error_set_nooff(err, VMS_E_UNSUPPORTED, "liblzo2 failed to "
                            "initialise");
        return NULL;
    }
    z = calloc(1, sizeof(*z));
    if (!z) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
    }
    return z;
}

static int lz_header(struct lz_enc *z, vms_enc_out_fn out, void *opaque,
                     struct vms_error *err)
{
    uint8_t h[LZOP_MAGIC_LEN + 30];
    uint8_t *p = h + LZOP_MAGIC_LEN;
    uint32_t sum;

    z->header_done = 1;
    if (z->like_len) {
        return out(opaque, z->like, z->like_len, err);
    }
    memcpy(h, lzop_magic, LZOP_MAGIC_LEN);
    vms_put_be16(p, 0x1040);                   /* as lzop 1.04 */
    vms_put_be16(p + 2, (uint16_t)(lzo_version() & 0xffff));
    vms_put_be16(p + 4, 0x0940);
    p[6] = 1;                                  /* M_LZO1X_1 */
    p[7] = 5;                                  /* as lzop -c writes */
    vms_put_be32(p + 8, F_OS_UNIX | F_ADLER32_D | F_STDIN | F_STDOUT);
    vms_put_be32(p + 12, 0);                   /* mode */
    vms_put_be32(p + 16, 0);                   /* mtime (lzop: now) */
    vms_put_be32(p + 20, 0);
    p[24] = 0;                                 /* no name */
    sum = lzo_adler32(1, p, 25);
    vms_put_be32(p + 25, sum);
    return out(opaque, h, LZOP_MAGIC_LEN + 29, err);
}

static int lz_flush_block(struct lz_enc *z, vms_enc_out_fn out, void *opaque,
                          struct vms_error *err)
{
    lzo_uint clen = sizeof(z->out) - 12;
    uint8_t *o = z->out;
    size_t hdr = 12;

    if (lzo1x_1_compress(z->block, z->fill, o + 12, &clen, z->wrk) !=
        LZO_E_OK) {
        vms_error_set_nooff(err, VMS_E_IO, "lzo compression failed");
        return -1;
    }
    vms_put_be32(o, (uint32_t)z->fill);
    vms_put_be32(o + 8, lzo_adler32(1, z->block, z->fill));
    if (clen >= z->fill) {                     /* stored */
        vms_put_be32(o + 4, (uint32_t)z->fill);
        if (out(opaque, o, hdr, err) < 0 ||
            out(opaque, z->block, z->fill, err) < 0) {
            return -1;
        }
    } else {
        vms_put_be32(o + 4, (uint32_t)clen);
        if (out(opaque, o, hdr + clen, err) < 0) {
            return -1;
        }
    }
    z->fill = 0;
    return 0;
}

static int lz_enc_write(void *enc, const void *buf, size_t len, int finish,
                        vms_enc_out_fn out, void *opaque,
                        struct vms_error *err)
{
    struct lz_enc *z = enc;
    const uint8_t *p = buf;

    if (!z->header_done && lz_header(z, out, opaque, err) < 0) {
        return -1;
    }
    while (len > 0) {
        size_t k = LZOP_BLOCK - z->fill < len ? LZOP_BLOCK - z->fill : len;

        memcpy(z->block + z->fill, p, k);
        z->fill += k;
        p += k;
        len -= k;
        if (z->fill == LZOP_BLOCK && lz_flush_block(z, out, opaque, err) < 0) {
            return -1;
        }
    }
    if (finish) {
        static const uint8_t end[4] = { 0, 0, 0, 0 };

        if (z->fill > 0 && lz_flush_block(z, out, opaque, err) < 0) {
            return -1;
        }
        return out(opaque, end, sizeof(end), err);
    }
    return 0;
}

/*
 * Repeat an input's header when it says what this encoder writes: version
 * >= 0.94, LZO1X-1, adler32 of each block and no other checksum, filter,
 * extra field or multi-part (lzop -c's; the OS, stdin/stdout and
 * name-default bits, mode, mtime and name are the input's).  Then a
 * file from `lzop -c` round-trips byte for byte.
 */
static void lz_enc_like(void *enc, const uint8_t *hdr, size_t len)
{
    struct lz_enc *z = enc;
    const uint8_t *p = hdr + LZOP_MAGIC_LEN;
    uint32_t flags, keep = 0xff000000u | F_STDIN | F_STDOUT | 0x10u;

    if (len < LZOP_MAGIC_LEN + 29 || len > sizeof(z->like) ||
        memcmp(hdr, lzop_magic, LZOP_MAGIC_LEN) != 0 ||
        vms_get_be16(p) < 0x0940 || p[6] != 1) {
        return;
    }
    flags = vms_get_be32(p + 8);
    if ((flags & ~keep) != F_ADLER32_D ||
        len != LZOP_MAGIC_LEN + 29 + (size_t)p[24]) {
        return;
    }
    memcpy(z->like, hdr, len);
    z->like_len = len;
}

static void lz_enc_free(void *enc)
{
    free(enc);
}

const struct vms_filter vms_filter_lzop = {
    .name = "lzop",
    .comp = VMS_COMP_LZOP,
    .bid = lz_bid,
    .open = lz_open,
    .enc_new = lz_enc_new,
    .enc_write = lz_enc_write,
    .enc_free = lz_enc_free,
    .enc_like = lz_enc_like,
};
