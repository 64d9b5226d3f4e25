/*
 * stream_impl.h - what the files of the stream reader share (its .c
 * files only): the parser state and the steps one file hands to another.
 *
 *   stream.c   the record loop (vms_stream_parse), the stream's tables
 *   header.c   file magic, version, configuration section
 *   section.c  START/PART/END/FULL sections: headers, footers, delimiting
 *              device sections (vmdesc, builtin layout, footer)
 *   command.c  QEMU_VM_COMMAND, PACKAGED parsed recursively
 *   region.c   EOF, the vmdesc trailer and the device-state region with
 *              its early -> lazy -> full parses
 */
#ifndef VMS_STREAM_IMPL_H
#define VMS_STREAM_IMPL_H

#include "ram.h"
#include "stream.h"

struct vms_parser {
    struct vms_stream *st;
    const struct vms_parse_opts *o;
    const struct vms_stream_observer *ob;   /* never NULL */
    struct vms_error *err;
    struct vms_ram_ctx ram;
    size_t vmdesc_cursor;
    int in_package;        /* parsing a PACKAGED blob */
};

/* Records until EOF (streaming) or the end of the bytes (a region or a
 * PACKAGED blob). */
int vms_stream_parse_records(struct vms_parser *p, struct vms_src *src,
                             int package, int streaming);
struct vms_section *vms_stream_new_section(struct vms_parser *p,
                                           uint64_t off);
int vms_stream_read_header(struct vms_parser *p, struct vms_src *src);
/* Returns 1 when the device state begins (the caller enters the region). */
int vms_stream_full_or_start(struct vms_parser *p, struct vms_src *src,
                             int package, int streaming);
int vms_stream_part_or_end(struct vms_parser *p, struct vms_src *src,
                           int package, int streaming);
int vms_stream_command(struct vms_parser *p, struct vms_src *src,
                       int streaming);
int vms_stream_enter_region(struct vms_parser *p, struct vms_src *src,
                            int package);
int vms_stream_trailer(struct vms_parser *p, struct vms_src *src);
void vms_stream_region_free(struct vms_stream *st);

#endif
