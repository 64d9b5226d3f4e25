/*
 * twin.h - the vmdesc of a twin stream, for a stream saved without one.
 *
 * Owns: loading the vmdesc JSON of another stream (saved by the same QEMU
 * with the same command line, suppress-vmdesc=off), and saying where the
 * stream being read and that description disagree (devices, instances,
 * versions).  Machine types <= 2.3 write neither vmdesc nor section
 * footers (pc-i440fx-2.0..2.2 on QEMU 7.2): without a description nothing
 * delimits their device sections.
 * Does not own: parsing (stream.h takes it through vms_parse_opts.twin).
 */
#ifndef VMS_TWIN_H
#define VMS_TWIN_H

#include <stddef.h>

#include "error.h"

struct vms_stream;

struct vms_twin {
    char *path;
    char *json;            /* the twin's vmdesc JSON text (owned) */
    size_t len;
    /* Told (optional) when a stream read with this description disagrees
     * with it, and when a stream has a vmdesc of its own. */
    void (*warn)(void *opaque, const char *msg);
    void *warn_opaque;
};

/* Read the stream at path to its end and keep its vmdesc. */
struct vms_twin *vms_twin_load(const char *path, struct vms_error *err);
void vms_twin_free(struct vms_twin *t);

/* Compare the device sections of st (read with t's description) with the
 * devices the description lists; calls t->warn for the disagreements (at
 * most a few, then a count).  Returns their number. */
size_t vms_twin_compare(const struct vms_twin *t,
                        const struct vms_stream *st);

#endif
