#include "config.h"
#include "ramimage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"
#include "wire.h"

struct target {
    int known;
    int fd;
    uint64_t base;
    uint64_t high;          /* file offset past the last byte written */
};

struct vms_ramimg {
    vms_ramimg_target_fn target;
    void *opaque;
    struct target *t;       /* per block index */
    size_t n_t;
    uint8_t *buf;           /* coalesced writes: pend_fd at pend_off */
    size_t pend_len;
    int pend_fd;
    uint64_t pend_off;
    uint8_t *page;          /* read-back page for XBZRLE / zero checks */
    uint32_t page_size;
    int (*progress)(void *, uint64_t, uint64_t);
    void *progress_opaque;
};

static int img_progress(void *opaque, uint64_t off, uint64_t raw_off)
{
    struct vms_ramimg *img = opaque;

    return img->progress ? img->progress(img->progress_opaque, off, raw_off)
                         : 0;
}

void vms_ramimg_observer(struct vms_ramimg *img,
                         int (*progress)(void *, uint64_t, uint64_t),
                         void *progress_opaque,
                         struct vms_stream_observer *ob)
{
    img->progress = progress;
    img->progress_opaque = progress_opaque;
    memset(ob, 0, sizeof(*ob));
    ob->opaque = img;
    ob->page = vms_ramimg_page;
    ob->progress = img_progress;
}

int vms_is_zero(const uint8_t *buf, size_t len)
{
    return len == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0);
}

static int uleb128(const uint8_t *p, uint32_t *v)
{
    if (!(p[0] & 0x80)) {
        *v = p[0];
        return 1;
    }
    if (p[1] & 0x80) {
        return -1;
    }
    *v = (p[0] & 0x7fu) | ((uint32_t)p[1] << 7);
    return 2;
}

/* migration/xbzrle.c xbzrle_decode_buffer(), 7.2 */
int vms_xbzrle_apply(const uint8_t *delta, uint32_t len, uint8_t *page,
                     uint32_t page_size)
{
    uint32_t i = 0, d = 0, count;
    int k;

    while (i < len) {
        if (len - i < 2 || (k = uleb128(delta + i, &count)) < 0 ||
            (i && !count)) {
            return -1;
        }
        i += (uint32_t)k;
        d += count;
        if (d > page_size || len - i < 2 ||
            (k = uleb128(delta + i, &count)) < 0 || !count) {
            return -1;
        }
        i += (uint32_t)k;
        if (d + count > page_size || count > len - i) {
            return -1;
        }
        memcpy(page + d, delta + i, count);
        d += count;
        i += count;
    }
    return 0;
}

struct vms_ramimg *vms_ramimg_new(vms_ramimg_target_fn target,
                                  void *opaque, struct vms_error *err)
{
    struct vms_ramimg *img = calloc(1, sizeof(*img));

    if (!img || !(img->buf = malloc(VMS_RAMIMG_BUF))) {
        free(img);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    img->target = target;
    img->opaque = opaque;
    img->pend_fd = -1;
    return img;
}

void vms_ramimg_free(struct vms_ramimg *img)
{
    if (!img) {
        return;
    }
    free(img->t);
    free(img->buf);
    free(img->page);
    free(img);
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, uint64_t off,
                      struct vms_error *err)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            vms_error_set_errno(err, errno, "cannot write guest RAM to the "
                                "output file at offset %llu",
                                (unsigned long long)off);
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int vms_ramimg_flush(struct vms_ramimg *img, struct vms_error *err)
{
    int rc = 0;

    if (img->pend_len) {
        rc = pwrite_all(img->pend_fd, img->buf, img->pend_len,
                        img->pend_off, err);
    }
    img->pend_len = 0;
    img->pend_fd = -1;
    return rc;
}

/* Read back the page at file offset off (holes and past-EOF are zero). */
static int read_page(struct vms_ramimg *img, const struct target *t,
                     uint64_t off, struct vms_error *err)
{
    size_t got = 0;

    if (off >= t->high) {
        memset(img->page, 0, img->page_size);
        return 0;
    }
    while (got < img->page_size) {
        ssize_t n = pread(t->fd, img->page + got, img->page_size - got,
                          (off_t)(off + got));

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            vms_error_set_errno(err, errno, "cannot read back guest RAM "
                                "from the output file at offset %llu",
                                (unsigned long long)off);
            return -1;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    memset(img->page + got, 0, img->page_size - got);
    return 0;
}

/* The page at off becomes zero: a hole, unless it holds data now. */
static int zero_page(struct vms_ramimg *img, struct target *t, uint64_t off,
                     struct vms_error *err)
{
    off_t d;

    if (off >= t->high) {
        return 0;           /* nothing was ever written there */
    }
    if (vms_ramimg_flush(img, err) < 0) {
        return -1;
    }
    d = lseek(t->fd, (off_t)off, SEEK_DATA);
    if ((d < 0 && errno == ENXIO) ||
        (d >= 0 && (uint64_t)d >= off + img->page_size)) {
        return 0;           /* a hole already */
    }
    if (read_page(img, t, off, err) < 0) {
        return -1;
    }
    if (vms_is_zero(img->page, img->page_size)) {
        return 0;
    }
    if (fallocate(t->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)off, img->page_size) == 0) {
        return 0;
    }
    memset(img->page, 0, img->page_size);
    return pwrite_all(t->fd, img->page, img->page_size, off, err);
}

static int data_page(struct vms_ramimg *img, struct target *t, uint64_t off,
                     const uint8_t *p, struct vms_error *err)
{
    uint32_t ps = img->page_size;

    if (vms_is_zero(p, ps)) {
        return zero_page(img, t, off, err);
    }
    if (img->pend_len && (img->pend_fd != t->fd ||
                          img->pend_off + img->pend_len != off ||
                          img->pend_len + ps > VMS_RAMIMG_BUF)) {
        if (vms_ramimg_flush(img, err) < 0) {
            return -1;
        }
    }
    if (ps > VMS_RAMIMG_BUF) {
        return pwrite_all(t->fd, p, ps, off, err);
    }
    if (!img->pend_len) {
        img->pend_fd = t->fd;
        img->pend_off = off;
    }
    memcpy(img->buf + img->pend_len, p, ps);
    img->pend_len += ps;
    if (off + ps > t->high) {
        t->high = off + ps;
    }
    return 0;
}

static struct target *target_of(struct vms_ramimg *img,
                                const struct vms_ram_page *pg,
                                struct vms_error *err)
{
    struct target *t;

    if (pg->block_index >= img->n_t) {
        size_t n = pg->block_index + 1;
        struct target *nt = realloc(img->t, n * sizeof(*nt));

        if (!nt) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            return NULL;
        }
        memset(nt + img->n_t, 0, (n - img->n_t) * sizeof(*nt));
        img->t = nt;
        img->n_t = n;
    }
    t = &img->t[pg->block_index];
    if (!t->known) {
        t->fd = -1;
        if (img->target(img->opaque, pg, &t->fd, &t->base, err) < 0) {
            return NULL;
        }
        t->known = 1;
        t->high = t->base;
    }
    return t;
}

int vms_ramimg_page(void *opaque, const struct vms_ram_page *pg,
                    struct vms_error *err)
{
    struct vms_ramimg *img = opaque;
    uint32_t ps = pg->st->page_size;
    struct target *t;
    uint64_t off;

    if (!img->page || img->page_size != ps) {
        free(img->page);
        img->page_size = ps;
        if (ps == 0 || !(img->page = malloc(ps))) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            return -1;
        }
    }
    t = target_of(img, pg, err);
    if (!t) {
        return -1;
    }
    if (t->fd < 0) {
        return 0;
    }
    off = t->base + pg->offset;
    switch (pg->kind) {
    case VMS_RAM_ZERO:
        if (pg->fill == 0) {
            return zero_page(img, t, off, err);
        }
        memset(img->page, pg->fill, ps);
        return data_page(img, t, off, img->page, err);
    case VMS_RAM_PAGE:
    case VMS_RAM_COMPRESS_PAGE:
        return data_page(img, t, off, pg->data, err);
    case VMS_RAM_XBZRLE:
        if (vms_ramimg_flush(img, err) < 0 || read_page(img, t, off, err)) {
            return -1;
        }
        if (vms_xbzrle_apply(pg->data, pg->len, img->page, ps) < 0) {
            vms_error_set(err, VMS_E_FORMAT, pg->rec_offset,
                          "XBZRLE data does not decode");
            return -1;
        }
        return data_page(img, t, off, img->page, err);
    }
    vms_error_set(err, VMS_E_FORMAT, pg->rec_offset,
                  "unexpected RAM page kind 0x%x", pg->kind);
    return -1;
}
