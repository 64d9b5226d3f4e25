/*
 * src.h - byte sources: where the decoded stream bytes come from.
 *
 * Owns: reading a path, stdin/pipe (never seeks), or memory; recognising
 * and decoding, through the filter table (filter.h), gzip, zstd, bzip2, xz,
 * lzop and the libvirt save-image container (libvirt.h) by their magic;
 * bounded look-ahead (peek/consume), the absolute decoded offset, and two
 * observers of consumed bytes: an XXH3 hash and a "tee" that forwards them
 * (used by convert to pass RAM through unchanged).
 * Does not own: any knowledge of QEMU records (see stream.h).
 */
#ifndef VMS_SRC_H
#define VMS_SRC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define VMS_PEEK_MAX (128u * 1024u)

enum vms_compression {
    VMS_COMP_NONE = 0,
    VMS_COMP_GZIP,
    VMS_COMP_ZSTD,
    VMS_COMP_BZIP2,
    VMS_COMP_XZ,
    VMS_COMP_LZOP,
};
#define VMS_COMP_COUNT 6

struct vms_libvirt_header;     /* libvirt.h */

struct vms_src;

/* Forward consumed bytes somewhere; return 0, or -1 after latching err. */
typedef int (*vms_tee_fn)(void *opaque, const uint8_t *buf, size_t len,
                          struct vms_error *err);

/* path "-" means standard input. */
struct vms_src *vms_src_open_path(const char *path, struct vms_error *err);
struct vms_src *vms_src_open_fd(int fd, int owns_fd, struct vms_error *err);
/* Reads buf[0..len) in place (no copy); offsets start at base_offset. */
struct vms_src *vms_src_open_mem(const uint8_t *buf, size_t len,
                                 uint64_t base_offset, struct vms_error *err);
void vms_src_free(struct vms_src *s);

/*
 * Pointer to at least n bytes (n <= VMS_PEEK_MAX) without consuming them.
 * Returns NULL if fewer than n remain; *avail (optional) then says how many.
 * Latches VMS_E_IO on read errors (never VMS_E_TRUNCATED: callers decide).
 */
const uint8_t *vms_src_peek(struct vms_src *s, size_t n, size_t *avail);
void vms_src_consume(struct vms_src *s, size_t n);
/* Exactly n bytes or a VMS_E_TRUNCATED error naming what was read. */
int vms_src_read(struct vms_src *s, void *dst, size_t n, const char *what);
int vms_src_skip(struct vms_src *s, uint64_t n, const char *what);
int vms_src_get_u8(struct vms_src *s, uint8_t *v, const char *what);
int vms_src_get_be16(struct vms_src *s, uint16_t *v, const char *what);
int vms_src_get_be32(struct vms_src *s, uint32_t *v, const char *what);
int vms_src_get_be64(struct vms_src *s, uint64_t *v, const char *what);
/* 1 if no byte is left (reads ahead to find out). */
int vms_src_at_end(struct vms_src *s);
uint64_t vms_src_offset(const struct vms_src *s);

/* Everything that is left, into a malloc'd buffer; error past cap. */
uint8_t *vms_src_slurp(struct vms_src *s, size_t cap, size_t *len);

/*
 * For a pipe from the QEMU that is migrating: keep the pipe at one page
 * (F_SETPIPE_SZ; retried after each read while the kernel refuses because
 * more is queued).  Then QEMU still has the vmdesc, which it writes last,
 * to write when vmstream decides after the device state: if vmstream
 * refuses and closes its input, QEMU's write fails, its migration fails
 * and it resumes the VM.  Returns 1 if the input is a pipe.
 */
int vms_src_shrink_pipe(struct vms_src *s);

enum vms_compression vms_src_compression(const struct vms_src *s);
/* The header of the compressed data as read, where a filter keeps it so
 * that an output in the same compression can repeat it (lzop: its mtime,
 * mode and name); NULL otherwise. */
const uint8_t *vms_src_comp_header(const struct vms_src *s, size_t *len);
const struct vms_libvirt_header *vms_src_libvirt(const struct vms_src *s);
/* Bytes read from the underlying file (compressed), for progress output. */
uint64_t vms_src_raw_offset(const struct vms_src *s);
struct vms_error *vms_src_error(struct vms_src *s);

void vms_src_set_tee(struct vms_src *s, vms_tee_fn fn, void *opaque);
/* Forward pending consumed bytes now (also done before blocking reads). */
int vms_src_tee_flush(struct vms_src *s);
/* Stop forwarding (pending bytes are flushed first) / start again here. */
int vms_src_tee_pause(struct vms_src *s);
void vms_src_tee_resume(struct vms_src *s);

void vms_src_hash_begin(struct vms_src *s);
uint64_t vms_src_hash_end(struct vms_src *s);

#endif
