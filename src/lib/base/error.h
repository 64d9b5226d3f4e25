/*
 * error.h - the error latch shared by every reader and writer of a stream.
 *
 * Owns: struct vms_error and its formatting.  The first error wins; later
 * ones are ignored, so a decoder may read on and check at record boundaries.
 * Does not own: I/O, printing (the CLI prints), findings (see check.h).
 */
#ifndef VMS_ERROR_H
#define VMS_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

enum vms_status {
    VMS_OK = 0,
    VMS_E_IO,          /* read/write failure; sys_errno says why */
    VMS_E_TRUNCATED,   /* input ended inside a record */
    VMS_E_FORMAT,      /* bytes that a QEMU destination would not parse */
    VMS_E_LIMIT,       /* a documented resource limit was exceeded */
    VMS_E_NOMEM,
    VMS_E_UNSUPPORTED, /* valid QEMU stream we cannot handle (e.g. RDMA) */
    VMS_E_USAGE,       /* caller error: bad option, bad profile file */
    VMS_E_CONVERT,     /* stream readable, but cannot be converted */
};

struct vms_error {
    enum vms_status code;
    int sys_errno;
    int has_offset;
    uint64_t offset;        /* absolute offset in the decoded stream */
    int has_section;
    uint32_t section_id;
    uint32_t instance_id;
    char section[64];       /* idstr of the section being read */
    char msg[512];
};

void vms_error_clear(struct vms_error *e);
int vms_error_isset(const struct vms_error *e);

/* Latch an error at a stream offset; a no-op once an error is latched. */
void vms_error_set(struct vms_error *e, enum vms_status code, uint64_t off,
                   const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same, for errors that have no stream offset (files, options). */
void vms_error_set_nooff(struct vms_error *e, enum vms_status code,
                         const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vms_error_set_errno(struct vms_error *e, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Adopt the error of a speculative parse (one run against a scratch
 * latch): copies src into dst when src is set and dst is not, so the
 * first error still wins.  The one way to move an error between latches:
 * never assign one struct vms_error over another.  Returns -1 if dst is
 * set afterwards, else 0. */
int vms_error_adopt(struct vms_error *dst, const struct vms_error *src);
/* Attach section context if none is attached yet. */
void vms_error_section(struct vms_error *e, const char *idstr,
                       uint32_t section_id, uint32_t instance_id);

/* "offset 4660 (0x1234), section cpu#0 (id 8): msg" */
void vms_error_format(const struct vms_error *e, char *buf, size_t len);
const char *vms_status_name(enum vms_status code);

#endif
