/*
 * src_raw.c - the undecoded bytes under every source: read(2) from the
 * fd with the bytes sniffed for bidding pushed back first, and keeping an
 * input pipe at one page.  The filters (filt_*.c) and the libvirt
 * container read through here; src.c sits on top.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src_impl.h"

/* The kernel refuses to shrink a pipe below what it holds (EBUSY): try
 * again after each read until it takes. */
void vms_src_try_shrink(struct vms_src *s)
{
#ifdef F_SETPIPE_SZ
    long page = sysconf(_SC_PAGESIZE);

    if (fcntl(s->fd, F_SETPIPE_SZ, page > 0 ? (int)page : 4096) >= 0 ||
        errno != EBUSY) {
        s->shrink_pipe = 0;
    }
#else
    s->shrink_pipe = 0;
#endif
}

int vms_src_shrink_pipe(struct vms_src *s)
{
    struct stat sb;

    if (s->mem || fstat(s->fd, &sb) < 0 || !S_ISFIFO(sb.st_mode)) {
        return 0;
    }
    s->shrink_pipe = 1;
    vms_src_try_shrink(s);
    return 1;
}

ssize_t vms_src_raw_read(struct vms_src *s, uint8_t *dst, size_t cap)
{
    ssize_t n;

    if (s->pb_pos < s->pb_len) {
        size_t k = s->pb_len - s->pb_pos;

        if (k > cap) {
            k = cap;
        }
        memcpy(dst, s->pushback + s->pb_pos, k);
        s->pb_pos += k;
        return (ssize_t)k;
    }
    do {
        n = read(s->fd, dst, cap);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        vms_error_set_errno(s->err, errno, "read failed at input byte %llu",
                            (unsigned long long)s->raw_off);
        return -1;
    }
    s->raw_off += (uint64_t)n;
    if (s->shrink_pipe) {
        vms_src_try_shrink(s);
    }
    return n;
}

size_t vms_src_sniff(struct vms_src *s, size_t n)
{
    if (n > sizeof(s->pushback)) {
        n = sizeof(s->pushback);
    }
    if (s->pb_pos > 0) {        /* keep the unread bytes at the front */
        memmove(s->pushback, s->pushback + s->pb_pos, s->pb_len - s->pb_pos);
        s->pb_len -= s->pb_pos;
        s->pb_pos = 0;
    }
    while (s->pb_len < n) {
        ssize_t k;

        do {
            k = read(s->fd, s->pushback + s->pb_len, n - s->pb_len);
        } while (k < 0 && errno == EINTR);
        if (k < 0) {
            vms_error_set_errno(s->err, errno, "read failed at input byte "
                                "%llu", (unsigned long long)s->raw_off);
            break;
        }
        if (k == 0) {
            break;
        }
        s->pb_len += (size_t)k;
        s->raw_off += (uint64_t)k;
    }
    return s->pb_len;
}

void vms_src_sniff_drop(struct vms_src *s, size_t n)
{
    if (n > s->pb_len - s->pb_pos) {
        n = s->pb_len - s->pb_pos;
    }
    s->pb_pos += n;
}
