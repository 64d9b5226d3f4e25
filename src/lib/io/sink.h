/*
 * sink.h - where converted streams go: a pipe/stdout, or a file that
 * appears only when complete (temporary file, fsync, rename), optionally
 * compressed (any compression of filter.h).
 *
 * Owns: output buffering, compression, atomic publication, clean-up of
 * temporary files on failure.  Nothing is visible at the destination path
 * before vms_sink_commit() succeeds.
 */
#ifndef VMS_SINK_H
#define VMS_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "src.h"

struct vms_sink;

struct vms_sink_opts {
    enum vms_compression comp;
    int level;                 /* 0: default of the compressor */
    /* The header of an input in the same compression, to repeat where
     * the encoder can (vms_src_comp_header), or NULL. */
    const uint8_t *like_header;
    size_t like_header_len;
    const char *backup;        /* in-place: link the old file here first */
};

/* path "-" is standard output (written as it comes, never renamed). */
struct vms_sink *vms_sink_open(const char *path,
                               const struct vms_sink_opts *o,
                               struct vms_error *err);
/* An fd the caller owns (a pipe or socket), uncompressed, written as it
 * comes; name is for messages.  Commit and abort leave the fd open.  On
 * a socket a closed peer is EPIPE, never SIGPIPE. */
struct vms_sink *vms_sink_open_fd(int fd, const char *name,
                                  struct vms_error *err);
/* Raw bytes before the compressed payload (libvirt save header). */
int vms_sink_write_raw(struct vms_sink *k, const void *buf, size_t len,
                       struct vms_error *err);
int vms_sink_write(struct vms_sink *k, const void *buf, size_t len,
                   struct vms_error *err);
/* Finish compression, fsync and rename into place. */
int vms_sink_commit(struct vms_sink *k, struct vms_error *err);
/* Drop everything: the temporary file is removed, the target untouched. */
void vms_sink_abort(struct vms_sink *k);
uint64_t vms_sink_bytes(const struct vms_sink *k);
/* The temporary path while writing a file (for signal clean-up). */
const char *vms_sink_temp_path(const struct vms_sink *k);

/* The temporary file's descriptor of an uncompressed file sink, for a
 * writer that places bytes itself (pwrite, lseek over holes, ftruncate)
 * before vms_sink_commit(); -1 for standard output or a compressed sink. */
int vms_sink_fd(const struct vms_sink *k);

/* A tee callback (src.h) that writes into a sink. */
int vms_sink_tee(void *sink, const uint8_t *buf, size_t len,
                 struct vms_error *err);

#endif
