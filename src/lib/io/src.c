#include "config.h"
#include "src.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src_impl.h"
#include "wire.h"

static ssize_t plain_read(struct vms_src *s, uint8_t *dst, size_t cap)
{
    return vms_src_raw_read(s, dst, cap);
}

static const struct vms_src_ops plain_ops = {
    .name = "raw",
    .read = plain_read,
};

/*
 * Ask the filter table (filter.h) who recognises the first bytes: at most
 * one container (libvirt), then at most one filter; nothing = raw.  src.c
 * names no filter.
 */
static int choose_decoder(struct vms_src *s)
{
    const struct vms_filter *f;
    size_t have;

    have = vms_src_sniff(s, VMS_FILTER_BID_LEN);
    if (vms_error_isset(s->err)) {
        return -1;
    }
    f = vms_filter_bid(s->pushback + s->pb_pos, have);
    if (f && f->container) {
        if (s->container) {     /* a container inside a container */
            vms_error_set(s->err, VMS_E_FORMAT, 0, "a %s inside a %s: "
                          "not something libvirt writes", f->name,
                          s->container->name);
            return -1;
        }
        s->container = f;
        if (f->open(s) < 0) {
            return -1;
        }
        return choose_decoder(s);
    }
    if (s->container && s->container->check(s, f) < 0) {
        return -1;
    }
    if (f) {
        s->comp = f->comp;
        return f->open(s);
    }
    s->ops = &plain_ops;
    return 0;
}

/*
 * Map the window of the file that starts at the next unread byte.  Returns
 * the bytes it adds to what was unread, 0 at the end of the file, -1 after
 * latching an error.  The old window is unmapped only after the new one
 * exists, and only after pending tee output went out (refill flushes).
 */
static ssize_t map_window(struct vms_src *s)
{
    uint64_t cur = s->buf_base + s->pos;
    uint64_t f = cur + s->file_delta, start;
    size_t unread = s->len - s->pos, len;
    long page = sysconf(_SC_PAGESIZE);
    uint8_t *m;

    if (f + VMS_SRC_MAP_WINDOW > s->file_size) {
        struct stat sb;     /* a file still being written may have grown */

        if (fstat(s->fd, &sb) == 0 && (uint64_t)sb.st_size > s->file_size) {
            s->file_size = (uint64_t)sb.st_size;
        }
    }
    if (page <= 0) {
        page = 4096;
    }
    start = f & ~((uint64_t)page - 1);
    if (start >= s->file_size) {
        return 0;
    }
    len = s->file_size - start < VMS_SRC_MAP_WINDOW
              ? (size_t)(s->file_size - start)
              : VMS_SRC_MAP_WINDOW;
    if (start + len <= f + unread) {
        return 0;           /* the window already reaches the end */
    }
    m = mmap(NULL, len, PROT_READ, MAP_SHARED, s->fd, (off_t)start);
    if (m == MAP_FAILED) {
        vms_error_set_errno(s->err, errno, "cannot map input at byte %llu",
                            (unsigned long long)start);
        return -1;
    }
    (void)madvise(m, len, MADV_SEQUENTIAL);
    if (s->map) {
        munmap(s->map, s->map_len);
    }
    s->map = m;
    s->map_len = len;
    s->buf = m + (f - start);
    s->buf_base = cur;
    s->pos = 0;
    s->tee_mark = 0;
    s->len = len - (size_t)(f - start);
    return (ssize_t)(s->len - unread);
}

/* Switch a plain regular file to the mapped mode; stays in read mode
 * (nothing consumed yet) if the file cannot be mapped. */
static void try_map(struct vms_src *s)
{
    struct stat sb;
    off_t at;
    struct vms_error scratch, *real = s->err;
    uint8_t *own = s->buf;

    if (fstat(s->fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
        getenv("VMSTREAM_NO_MMAP")) {
        return;
    }
    at = lseek(s->fd, 0, SEEK_CUR);
    if (at < 0 || (uint64_t)at < s->pb_len - s->pb_pos) {
        return;
    }
    s->file_size = (uint64_t)sb.st_size;
    s->file_delta = (uint64_t)at - (s->pb_len - s->pb_pos);
    vms_error_clear(&scratch);
    s->err = &scratch;
    s->buf_base = 0;
    s->pos = s->len = 0;
    if (map_window(s) <= 0) {   /* cannot map, or nothing to map */
        s->err = real;
        s->buf = own;
        s->buf_base = 0;
        s->pos = s->len = 0;
        return;
    }
    s->err = real;
    s->mapped = 1;
    s->pb_pos = s->pb_len = 0;
    free(own);
}

static struct vms_src *src_new(struct vms_error *err)
{
    struct vms_src *s = calloc(1, sizeof(*s));

    if (!s) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    s->fd = -1;
    s->err = err;
    return s;
}

struct vms_src *vms_src_open_fd(int fd, int owns_fd, struct vms_error *err)
{
    struct vms_src *s = src_new(err);

    if (!s) {
        return NULL;
    }
    s->fd = fd;
    s->owns_fd = owns_fd;
    s->buf = malloc(VMS_SRC_BUFSZ);
    if (!s->buf) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        vms_src_free(s);
        return NULL;
    }
    if (choose_decoder(s) < 0) {
        vms_src_free(s);
        return NULL;
    }
    if (s->ops == &plain_ops) {
        try_map(s);
    }
    return s;
}

struct vms_src *vms_src_open_path(const char *path, struct vms_error *err)
{
    int fd;

    if (strcmp(path, "-") == 0) {
        return vms_src_open_fd(STDIN_FILENO, 0, err);
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        vms_error_set_errno(err, errno, "cannot open %s", path);
        return NULL;
    }
    return vms_src_open_fd(fd, 1, err);
}

struct vms_src *vms_src_open_mem(const uint8_t *buf, size_t len,
                                 uint64_t base_offset, struct vms_error *err)
{
    struct vms_src *s = src_new(err);

    if (!s) {
        return NULL;
    }
    s->mem = buf;
    s->mem_len = len;
    s->buf = (uint8_t *)buf;    /* never written through for memory */
    s->len = len;
    s->buf_base = base_offset;
    s->eof = 1;
    return s;
}

void vms_src_free(struct vms_src *s)
{
    if (!s) {
        return;
    }
    if (s->ops && s->ops->free) {
        s->ops->free(s);
    }
    if (s->owns_fd && s->fd >= 0) {
        close(s->fd);
    }
    if (s->map) {
        munmap(s->map, s->map_len);
    } else if (!s->mem) {
        free(s->buf);
    }
    vms_libvirt_fini(&s->libvirt);
    if (s->hash) {
        XXH3_freeState(s->hash);
    }
    free(s);
}

struct vms_error *vms_src_error(struct vms_src *s)
{
    return s->err;
}

int vms_src_tee_flush(struct vms_src *s)
{
    if (s->tee_on && s->pos > s->tee_mark) {
        if (s->tee(s->tee_opaque, s->buf + s->tee_mark, s->pos - s->tee_mark,
                   s->err) < 0) {
            s->tee_mark = s->pos;
            return -1;
        }
    }
    s->tee_mark = s->pos;
    return 0;
}

/* Make room and read more; returns bytes added, 0 at end, -1 on error. */
static ssize_t refill(struct vms_src *s)
{
    ssize_t n;

    if (s->eof || vms_error_isset(s->err)) {
        return 0;
    }
    /* Never block on input while holding output that is due. */
    if (vms_src_tee_flush(s) < 0) {
        return -1;
    }
    if (s->mapped) {
        n = map_window(s);
        if (n == 0) {
            s->eof = 1;
        }
        return n;
    }
    if (s->pos > 0 && (s->len == VMS_SRC_BUFSZ || s->pos >= VMS_PEEK_MAX)) {
        memmove(s->buf, s->buf + s->pos, s->len - s->pos);
        s->buf_base += s->pos;
        s->len -= s->pos;
        s->tee_mark -= s->pos;
        s->pos = 0;
    }
    n = s->ops->read(s, s->buf + s->len, VMS_SRC_BUFSZ - s->len);
    if (n < 0) {
        return -1;
    }
    if (n == 0) {
        s->eof = 1;
        return 0;
    }
    s->len += (size_t)n;
    return n;
}

const uint8_t *vms_src_peek(struct vms_src *s, size_t n, size_t *avail)
{
    while (s->len - s->pos < n) {
        if (n > VMS_PEEK_MAX && !s->mem) {
            break;
        }
        if (refill(s) <= 0) {
            break;
        }
    }
    if (avail) {
        *avail = s->len - s->pos;
    }
    if (s->len - s->pos < n) {
        return NULL;
    }
    return s->buf + s->pos;
}

void vms_src_consume(struct vms_src *s, size_t n)
{
    if (n > s->len - s->pos) {
        n = s->len - s->pos;
    }
    if (s->hash_on) {
        XXH3_64bits_update(s->hash, s->buf + s->pos, n);
    }
    s->pos += n;
}

uint64_t vms_src_offset(const struct vms_src *s)
{
    return s->buf_base + s->pos;
}

uint64_t vms_src_raw_offset(const struct vms_src *s)
{
    if (s->mapped) {
        return vms_src_offset(s) + s->file_delta;
    }
    return s->mem ? vms_src_offset(s) : s->raw_off;
}

int vms_src_at_end(struct vms_src *s)
{
    size_t avail;

    vms_src_peek(s, 1, &avail);
    return avail == 0;
}

static void truncated(struct vms_src *s, size_t want, size_t got,
                      const char *what)
{
    if (vms_error_isset(s->err)) {
        return;
    }
    vms_error_set(s->err, VMS_E_TRUNCATED, s->buf_base + s->len,
                  "stream ends after %zu of %zu bytes of %s", got, want,
                  what);
}

int vms_src_read(struct vms_src *s, void *dst, size_t n, const char *what)
{
    uint8_t *d = dst;
    size_t done = 0;

    while (done < n) {
        size_t avail, k;

        vms_src_peek(s, 1, &avail);
        if (avail == 0) {
            truncated(s, n, done, what);
            return -1;
        }
        k = n - done < avail ? n - done : avail;
        memcpy(d + done, s->buf + s->pos, k);
        vms_src_consume(s, k);
        done += k;
    }
    return 0;
}

int vms_src_skip(struct vms_src *s, uint64_t n, const char *what)
{
    uint64_t done = 0;

    while (done < n) {
        size_t avail, k;

        if (s->len - s->pos == 0) {
            vms_src_peek(s, 1, &avail);
        }
        avail = s->len - s->pos;
        if (avail == 0) {
            if (!vms_error_isset(s->err)) {
                vms_error_set(s->err, VMS_E_TRUNCATED, vms_src_offset(s),
                              "stream ends after %llu of %llu bytes of %s",
                              (unsigned long long)done,
                              (unsigned long long)n, what);
            }
            return -1;
        }
        k = n - done < avail ? (size_t)(n - done) : avail;
        vms_src_consume(s, k);
        done += k;
    }
    return 0;
}

int vms_src_get_u8(struct vms_src *s, uint8_t *v, const char *what)
{
    const uint8_t *p = vms_src_peek(s, 1, NULL);

    if (!p) {
        truncated(s, 1, 0, what);
        return -1;
    }
    *v = p[0];
    vms_src_consume(s, 1);
    return 0;
}

#define GET_BE(bits, nbytes)                                              \
    int vms_src_get_be##bits(struct vms_src *s, uint##bits##_t *v,        \
                             const char *what)                            \
    {                                                                     \
        size_t avail;                                                     \
        const uint8_t *p = vms_src_peek(s, nbytes, &avail);               \
        if (!p) {                                                         \
            truncated(s, nbytes, avail, what);                            \
            return -1;                                                    \
        }                                                                 \
        *v = vms_get_be##bits(p);                                         \
        vms_src_consume(s, nbytes);                                       \
        return 0;                                                         \
    }

GET_BE(16, 2)
GET_BE(32, 4)
GET_BE(64, 8)

uint8_t *vms_src_slurp(struct vms_src *s, size_t cap, size_t *len)
{
    size_t have = 0, size = 64 * 1024;
    uint8_t *out = malloc(size);

    if (!out) {
        vms_error_set_nooff(s->err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    for (;;) {
        size_t avail, k;

        vms_src_peek(s, 1, &avail);
        if (vms_error_isset(s->err)) {
            free(out);
            return NULL;
        }
        if (avail == 0) {
            break;
        }
        if (have + avail > cap) {
            vms_error_set(s->err, VMS_E_LIMIT, vms_src_offset(s),
                          "device state after the RAM exceeds the limit of "
                          "%zu bytes", cap);
            free(out);
            return NULL;
        }
        if (have + avail > size) {
            uint8_t *n;

            while (have + avail > size) {
                size *= 2;
            }
            n = realloc(out, size);
            if (!n) {
                vms_error_set_nooff(s->err, VMS_E_NOMEM, "out of memory");
                free(out);
                return NULL;
            }
            out = n;
        }
        k = avail;
        memcpy(out + have, s->buf + s->pos, k);
        vms_src_consume(s, k);
        have += k;
    }
    *len = have;
    return out;
}

enum vms_compression vms_src_compression(const struct vms_src *s)
{
    return s->comp;
}

const uint8_t *vms_src_comp_header(const struct vms_src *s, size_t *len)
{
    *len = s->comp_hdr_len;
    return s->comp_hdr_len ? s->comp_hdr : NULL;
}

const struct vms_libvirt_header *vms_src_libvirt(const struct vms_src *s)
{
    return &s->libvirt;
}

void vms_src_set_tee(struct vms_src *s, vms_tee_fn fn, void *opaque)
{
    s->tee = fn;
    s->tee_opaque = opaque;
    s->tee_on = fn != NULL;
    s->tee_mark = s->pos;
}

int vms_src_tee_pause(struct vms_src *s)
{
    int rc = vms_src_tee_flush(s);

    s->tee_on = 0;
    return rc;
}

void vms_src_tee_resume(struct vms_src *s)
{
    s->tee_on = s->tee != NULL;
    s->tee_mark = s->pos;
}

void vms_src_hash_begin(struct vms_src *s)
{
    if (!s->hash) {
        s->hash = XXH3_createState();
    }
    if (s->hash) {
        XXH3_64bits_reset(s->hash);
        s->hash_on = 1;
    }
}

uint64_t vms_src_hash_end(struct vms_src *s)
{
    int was_on = s->hash_on;

    s->hash_on = 0;
    return was_on && s->hash ? XXH3_64bits_digest(s->hash) : 0;
}
