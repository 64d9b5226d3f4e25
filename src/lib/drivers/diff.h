/*
 * diff.h - what differs between two saved VMs: device fields of a section
 * (walked with their layouts, named as `dump` names them) and the guest
 * RAM pages of two extracted blocks.
 *
 * Owns: flattening a device section into (name, value) pairs, comparing
 * two sections field by field, comparing two RAM block files page by page
 * (holes read as zero).  Memory: one section's fields, two 1 MiB buffers.
 * Does not own: reading the streams (stream.h, extract.h), registers
 * (armcpu.h; the CLI compares vCPUs as regs --diff does), output.
 */
#ifndef VMS_DIFF_H
#define VMS_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct vms_section;

/* A field that differs: name as `dump` prints it ("sub/field[3]"); value
 * NULL where the field is in one section only.  Values: "0x1 0x2" for
 * integers, hex bytes otherwise. */
typedef int (*vms_diff_field_fn)(void *opaque, const char *name,
                                 const char *a, const char *b);

/*
 * Compare sections a and b (same idstr/instance, both in memory).  Calls
 * fn for every field that differs and sets *n.  A section without a layout
 * (delimited by its footer) is one field named "(raw bytes)".
 */
int vms_diff_section(const struct vms_section *a, const struct vms_section *b,
                     vms_diff_field_fn fn, void *opaque, size_t *n,
                     struct vms_error *err);

/* A page that differs: its offset in the block. */
typedef int (*vms_diff_page_fn)(void *opaque, uint64_t offset);

/*
 * Compare fd_a and fd_b over [0, size) page by page (short files read as
 * zero).  Calls fn (may be NULL) for every page that differs, sets *n.
 */
int vms_diff_ram(int fd_a, int fd_b, uint64_t size, uint32_t page_size,
                 vms_diff_page_fn fn, void *opaque, uint64_t *n,
                 struct vms_error *err);

#endif
