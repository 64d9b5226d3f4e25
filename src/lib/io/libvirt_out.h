/*
 * libvirt_out.h - writing a libvirt save image's header back out.
 *
 * Owns: copying the header and domain XML of an input save image
 * (vms_src_libvirt) verbatim to a sink, with virQEMUSaveHeader.format set
 * to the compression the payload is written with, in the header's own
 * byte order.  Does not own: reading the header (src.c), the payload.
 */
#ifndef VMS_LIBVIRT_OUT_H
#define VMS_LIBVIRT_OUT_H

#include "error.h"
#include "sink.h"
#include "src.h"

/* 0, or -1 with err set. */
int vms_libvirt_write_header(struct vms_sink *sink,
                             const struct vms_libvirt_header *h,
                             enum vms_compression comp,
                             struct vms_error *err);

#endif
