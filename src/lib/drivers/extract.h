/*
 * extract.h - guest RAM out of a stream: one file per RAM block, or one
 * block into one file, with the bytes the destination would hold after
 * loading the whole stream (ramimage.h), sparse where they are zero.
 *
 * Owns: choosing file names for block names (any byte but NUL may appear
 * in a block name, '/' included), the manifest (DIR/manifest.json),
 * publishing every file through a sink (temporary file, fsync, rename) only
 * once the whole stream has been read without error.
 * Does not own: page decoding (ramimage.c), addresses (ramlayout.h).
 */
#ifndef VMS_EXTRACT_H
#define VMS_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "src.h"

struct vms_stream;
struct vms_twin;

#define VMS_EXTRACT_MANIFEST "manifest.json"
/* Longest file name vms_extract_file_name() makes, with its NUL. */
#define VMS_EXTRACT_NAME_MAX 208

struct vms_extract_opts {
    const char *dir;        /* every block into DIR (made if missing) */
    const char *block;      /* or: only this block ... */
    const char *file;       /* ... into this file (a regular file) */
    const struct vms_twin *twin;    /* --vmdesc-from, or NULL */
    int (*progress)(void *opaque, uint64_t off, uint64_t raw_off);
    void *progress_opaque;
};

/*
 * Read the whole stream from src (st must be vms_stream_init'ed; the
 * caller finis it) and write the RAM.  Nothing appears at the destination
 * unless everything succeeded.  Returns 0 or -1 (error latched).
 */
int vms_extract(struct vms_src *src, const struct vms_extract_opts *o,
                struct vms_stream *st, struct vms_error *err);

/*
 * File name for a block, ending in ".bin": bytes other than
 * [A-Za-z0-9._:@+,=-] (and a leading '.') become %XX, so names with '/'
 * stay one file and distinct blocks get distinct files.  An encoding
 * longer than 192 bytes is cut and followed by '~' and the XXH3 of the
 * whole name.
 */
void vms_extract_file_name(const char *block, char *buf, size_t len);

/* Guest-physical address of block b, if known: from the stream
 * (x-ignore-shared) or formats/ram-layouts.tsv.  *source is "stream" or
 * "ram-layouts". Returns 1 if known. */
int vms_extract_block_gpa(const struct vms_stream *st, size_t b,
                          uint64_t *gpa, const char **source);

#endif
