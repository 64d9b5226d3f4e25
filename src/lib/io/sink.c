#include "config.h"
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define OUTBUF (256u * 1024u)

struct vms_sink {
    int fd;
    int is_file;               /* a regular file: temporary + rename */
    int owns_fd;               /* a FIFO, device or socket we opened */
    char *path;                /* final path (also for owns_fd) */
    char *tmp;                 /* temporary path, files only */
    char *backup;
    char *name;                /* vms_sink_open_fd: for messages */
    int is_socket;             /* send(MSG_NOSIGNAL): EPIPE, no SIGPIPE */
    enum vms_compression comp;
    z_stream zs;
    ZSTD_CStream *zc;
    uint8_t *out;              /* compressor output buffer */
    uint64_t bytes;            /* uncompressed bytes accepted */
    int failed;
};

static int write_fd(struct vms_sink *k, const void *buf, size_t len,
                    struct vms_error *err)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = k->is_socket ? send(k->fd, p, len, MSG_NOSIGNAL)
                                 : write(k->fd, p, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            k->failed = 1;
            vms_error_set_errno(err, errno, "write to %s failed",
                                k->path   ? k->path
                                : k->name ? k->name
                                          : "standard output");
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A path that exists and is not a regular file (through symlinks): a
 * FIFO, a device or a socket.  It is written as a stream, in place: a
 * temporary file renamed over it would replace it. */
static int open_special(struct vms_sink *k, const char *path,
                        const struct stat *sb, struct vms_error *err)
{
    int fd;

    if (S_ISDIR(sb->st_mode)) {
        vms_error_set_nooff(err, VMS_E_USAGE, "%s is a directory", path);
        return -1;
    }
    if (S_ISSOCK(sb->st_mode)) {
        struct sockaddr_un sa;

        if (strlen(path) >= sizeof(sa.sun_path)) {
            vms_error_set_nooff(err, VMS_E_USAGE, "socket path %s is too "
                                "long", path);
            return -1;
        }
        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            int e = errno;

            close(fd);
            fd = -1;
            errno = e;
        }
    } else {
        fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    }
    if (fd < 0) {
        vms_error_set_errno(err, errno, "cannot open %s for writing", path);
        return -1;
    }
    k->fd = fd;
    k->owns_fd = 1;
    k->is_socket = S_ISSOCK(sb->st_mode);
    k->path = strdup(path);
    if (!k->path) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}

struct vms_sink *vms_sink_open(const char *path,
                               const struct vms_sink_opts *o,
                               struct vms_error *err)
{
    struct vms_sink *k = calloc(1, sizeof(*k));
    struct stat sb;

    if (!k) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    k->fd = -1;
    k->comp = o ? o->comp : VMS_COMP_NONE;
    if (strcmp(path, "-") == 0) {
        k->fd = STDOUT_FILENO;
    } else if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        if (o && o->backup) {
            vms_error_set_nooff(err, VMS_E_USAGE, "%s is not a regular "
                                "file: it cannot be replaced in place",
                                path);
            vms_sink_abort(k);
            return NULL;
        }
        if (open_special(k, path, &sb, err) < 0) {
            vms_sink_abort(k);
            return NULL;
        }
    } else {
        size_t n = strlen(path) + 32;
        int fd;

        k->is_file = 1;
        k->path = strdup(path);
        k->tmp = malloc(n);
        if (!k->path || !k->tmp) {
            vms_sink_abort(k);
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            return NULL;
        }
        /* Same directory, so the final rename is atomic. */
        snprintf(k->tmp, n, "%s.vmstream-XXXXXX", path);
        fd = mkstemp(k->tmp);
        if (fd < 0) {
            vms_error_set_errno(err, errno, "cannot create a temporary "
                                "file next to %s", path);
            free(k->tmp);
            k->tmp = NULL;
            vms_sink_abort(k);
            return NULL;
        }
        k->fd = fd;
        /* mkstemp makes 0600: give the file the mode it replaces, or
         * what a plain creat() would. */
        {
            struct stat old;
            mode_t mask = umask(0);

            umask(mask);
            fchmod(fd, stat(path, &old) == 0 ? old.st_mode & 07777
                                             : 0666 & ~mask);
        }
        if (o && o->backup) {
            k->backup = strdup(o->backup);
        }
    }
    if (k->comp == VMS_COMP_GZIP) {
        int level = o && o->level ? o->level : Z_DEFAULT_COMPRESSION;

        if (deflateInit2(&k->zs, level, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "deflateInit2 failed");
            k->comp = VMS_COMP_NONE;
            vms_sink_abort(k);
            return NULL;
        }
    } else if (k->comp == VMS_COMP_ZSTD) {
        k->zc = ZSTD_createCStream();
        if (!k->zc) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            vms_sink_abort(k);
            return NULL;
        }
        ZSTD_CCtx_setParameter(k->zc, ZSTD_c_compressionLevel,
                               o && o->level ? o->level : 3);
    }
    if (k->comp != VMS_COMP_NONE && !(k->out = malloc(OUTBUF))) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        vms_sink_abort(k);
        return NULL;
    }
    return k;
}

struct vms_sink *vms_sink_open_fd(int fd, const char *name,
                                  struct vms_error *err)
{
    struct vms_sink *k = calloc(1, sizeof(*k));
    struct stat sb;

    if (!k || !(k->name = strdup(name))) {
        free(k);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    k->fd = fd;
    k->is_socket = fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode);
    return k;
}

int vms_sink_write_raw(struct vms_sink *k, const void *buf, size_t len,
                       struct vms_error *err)
{
    return write_fd(k, buf, len, err);
}

static int gz_push(struct vms_sink *k, const void *buf, size_t len,
                   int flush, struct vms_error *err)
{
    k->zs.next_in = (Bytef *)buf;
    k->zs.avail_in = (uInt)len;
    for (;;) {
        int rc;

        k->zs.next_out = k->out;
        k->zs.avail_out = OUTBUF;
        rc = deflate(&k->zs, flush);
        if (rc == Z_STREAM_ERROR) {
            vms_error_set_nooff(err, VMS_E_IO, "gzip compression failed");
            return -1;
        }
        if (write_fd(k, k->out, OUTBUF - k->zs.avail_out, err) < 0) {
            return -1;
        }
        if (flush == Z_FINISH ? rc == Z_STREAM_END
                              : (k->zs.avail_in == 0 && k->zs.avail_out)) {
            return 0;
        }
    }
}

static int zstd_push(struct vms_sink *k, const void *buf, size_t len,
                     ZSTD_EndDirective end, struct vms_error *err)
{
    ZSTD_inBuffer ib = { buf, len, 0 };

    for (;;) {
        ZSTD_outBuffer ob = { k->out, OUTBUF, 0 };
        size_t rc = ZSTD_compressStream2(k->zc, &ob, &ib, end);

        if (ZSTD_isError(rc)) {
            vms_error_set_nooff(err, VMS_E_IO, "zstd compression failed: "
                                "%s", ZSTD_getErrorName(rc));
            return -1;
        }
        if (write_fd(k, k->out, ob.pos, err) < 0) {
            return -1;
        }
        if (end == ZSTD_e_end ? rc == 0 : ib.pos == ib.size) {
            return 0;
        }
    }
}

int vms_sink_write(struct vms_sink *k, const void *buf, size_t len,
                   struct vms_error *err)
{
    if (k->failed) {
        return -1;
    }
    k->bytes += len;
    switch (k->comp) {
    case VMS_COMP_GZIP:
        while (len > UINT_MAX / 2) {
            if (gz_push(k, buf, UINT_MAX / 2, Z_NO_FLUSH, err) < 0) {
                return -1;
            }
            buf = (const uint8_t *)buf + UINT_MAX / 2;
            len -= UINT_MAX / 2;
        }
        return gz_push(k, buf, len, Z_NO_FLUSH, err);
    case VMS_COMP_ZSTD:
        return zstd_push(k, buf, len, ZSTD_e_continue, err);
    default:
        return write_fd(k, buf, len, err);
    }
}

int vms_sink_tee(void *sink, const uint8_t *buf, size_t len,
                 struct vms_error *err)
{
    return vms_sink_write(sink, buf, len, err);
}

uint64_t vms_sink_bytes(const struct vms_sink *k)
{
    return k->bytes;
}

int vms_sink_fd(const struct vms_sink *k)
{
    return k->is_file && k->comp == VMS_COMP_NONE && !k->failed ? k->fd
                                                                : -1;
}

const char *vms_sink_temp_path(const struct vms_sink *k)
{
    return k->tmp;
}

static void release(struct vms_sink *k)
{
    if (k->comp == VMS_COMP_GZIP) {
        deflateEnd(&k->zs);
    }
    ZSTD_freeCStream(k->zc);
    free(k->out);
    free(k->path);
    free(k->tmp);
    free(k->backup);
    free(k->name);
    free(k);
}

int vms_sink_commit(struct vms_sink *k, struct vms_error *err)
{
    int rc = 0;

    if (k->failed) {
        vms_sink_abort(k);
        return -1;
    }
    if (k->comp == VMS_COMP_GZIP) {
        rc = gz_push(k, NULL, 0, Z_FINISH, err);
    } else if (k->comp == VMS_COMP_ZSTD) {
        rc = zstd_push(k, NULL, 0, ZSTD_e_end, err);
    }
    if (rc == 0 && k->is_file) {
        if (fsync(k->fd) < 0) {
            vms_error_set_errno(err, errno, "fsync of %s failed", k->tmp);
            rc = -1;
        } else if (close(k->fd) < 0) {
            vms_error_set_errno(err, errno, "close of %s failed", k->tmp);
            k->fd = -1;
            rc = -1;
        } else {
            k->fd = -1;
            /* An existing backup is never replaced: it may be the only
             * copy of the original. */
            if (k->backup && link(k->path, k->backup) < 0 &&
                errno != ENOENT) {
                vms_error_set_errno(err, errno, "cannot keep a backup of "
                                    "%s as %s%s", k->path, k->backup,
                                    errno == EEXIST ? " (it exists; "
                                    "vmstream never overwrites a backup)"
                                                    : "");
                rc = -1;
            }
            if (rc == 0 && rename(k->tmp, k->path) < 0) {
                vms_error_set_errno(err, errno, "cannot rename %s to %s",
                                    k->tmp, k->path);
                rc = -1;
            }
        }
    }
    if (rc == 0 && k->owns_fd) {
        if (close(k->fd) < 0) {
            vms_error_set_errno(err, errno, "close of %s failed", k->path);
            rc = -1;
        }
        k->fd = -1;
    }
    if (rc < 0) {
        vms_sink_abort(k);
        return -1;
    }
    release(k);
    return 0;
}

void vms_sink_abort(struct vms_sink *k)
{
    if (!k) {
        return;
    }
    if ((k->is_file || k->owns_fd) && k->fd >= 0) {
        close(k->fd);
    }
    if (k->is_file && k->tmp) {
        unlink(k->tmp);
    }
    release(k);
}
