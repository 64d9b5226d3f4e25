#include "config.h"
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "filter.h"

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
    const struct vms_filter *enc;  /* the compression's encoder */
    void *enc_state;
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
    if (k->comp != VMS_COMP_NONE) {
        k->enc = vms_filter_of(k->comp);
        k->enc_state = k->enc ? k->enc->enc_new(o ? o->level : 0, err)
                              : NULL;
        if (k->enc_state && k->enc->enc_like && o && o->like_header) {
            k->enc->enc_like(k->enc_state, o->like_header,
                             o->like_header_len);
        }
        if (!k->enc_state) {
            if (!vms_error_isset(err)) {
                vms_error_set_nooff(err, VMS_E_USAGE, "no encoder for "
                                    "compression %d", (int)k->comp);
            }
            k->enc = NULL;
            vms_sink_abort(k);
            return NULL;
        }
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

/* The encoders' output goes to the fd. */
static int enc_out(void *opaque, const void *buf, size_t len,
                   struct vms_error *err)
{
    return write_fd(opaque, buf, len, err);
}

int vms_sink_write(struct vms_sink *k, const void *buf, size_t len,
                   struct vms_error *err)
{
    if (k->failed) {
        return -1;
    }
    k->bytes += len;
    if (k->enc) {
        if (k->enc->enc_write(k->enc_state, buf, len, 0, enc_out, k,
                              err) < 0) {
            k->failed = 1;
            return -1;
        }
        return 0;
    }
    return write_fd(k, buf, len, err);
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
    if (k->enc) {
        k->enc->enc_free(k->enc_state);
    }
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
    if (k->enc) {
        rc = k->enc->enc_write(k->enc_state, NULL, 0, 1, enc_out, k, err);
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
