/*
 * convert.h - rewriting the Arm cpu sections of a stream between the v22
 * and v23 layouts, as a filter.
 *
 * Owns: the conversion pipeline: every byte before the device state is
 * forwarded as it is read (RAM streams through); the device state, EOF and
 * vmdesc are held until the input ends, every cpu section is re-encoded in
 * the target layout (optionally dropping named registers), the vmdesc JSON
 * is rewritten to match and PACKAGED lengths are fixed.  Nothing of the
 * device state (so no QEMU_VM_EOF) is written unless every section
 * converted and the optional verifier accepted the result.
 * Does not own: files and compression (sink.h), destination rules (check.h).
 */
#ifndef VMS_CONVERT_H
#define VMS_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "armcpu.h"
#include "cpreg.h"
#include "error.h"
#include "sink.h"
#include "src.h"
#include "stream.h"

/* Registers to leave out, as the user named them: a name as `vmstream
 * regs` prints it (every register of that name: "PAR" is both views), any
 * name vms_cpreg_lookup() accepts, or an id.  hits[k] (optional) counts the
 * registers names[k] removed, over all vCPUs. */
struct vms_drop {
    const char *const *names;
    size_t n;
    size_t *hits;
};

struct vms_twin;

struct vms_convert_opts {
    int to_layout;                 /* 22 or 23 */
    struct vms_drop drop;
    /* Called with every converted vCPU before anything is written; return
     * -1 (error latched) to refuse the output. */
    int (*verify)(void *opaque, const struct vms_armcpu *cpus, size_t n,
                  struct vms_error *err);
    void *verify_opaque;
    /* Called with every decoded vCPU (in the v22 layout) before it is
     * converted: may rewrite it (convert --repair, arm/repair.h); return
     * -1 (error latched) to refuse the output. */
    int (*repair)(void *opaque, const struct vms_stream *st,
                  struct vms_armcpu *c, struct vms_error *err);
    void *repair_opaque;
    int (*progress)(void *opaque, uint64_t off, uint64_t raw_off);
    void *progress_opaque;
    uint32_t default_page_size;
    /* The stream ends at its vmdesc (or final QEMU_VM_EOF), not when the
     * input closes (vms_parse_opts.end_at_trailer): for sockets. */
    int end_at_trailer;
    /* --vmdesc-from: the description of a stream without vmdesc. */
    const struct vms_twin *twin;
};

struct vms_convert_result {
    size_t cpus;                   /* Arm cpu sections seen */
    size_t other_cpus;             /* vCPUs of another architecture (x86),
                                      copied unchanged */
    size_t converted;              /* re-encoded in another layout */
    size_t dropped;                /* registers left out, all vCPUs */
    uint64_t out_bytes;
};

/* Read src, write the converted stream to sink (not committed here). */
int vms_convert(struct vms_src *src, struct vms_sink *sink,
                const struct vms_convert_opts *o,
                struct vms_convert_result *r, struct vms_error *err);

/* Re-encode one decoded vCPU for the target layout (drops applied).
 * The input must be a cpu QEMU could have written (vms_check_cpus without
 * a destination finds nothing fatal or malformed): convert never passes
 * on a stream no destination can load correctly.  On refusal the error
 * names the register(s) that block it. */
int vms_convert_cpu(struct vms_armcpu *c, int to_layout,
                    const struct vms_drop *drop, size_t *dropped,
                    struct vms_error *err);

/* 1 if a --drop name denotes register id of a list in naming ctx. */
int vms_drop_matches(const char *name, uint64_t id, enum vms_cpreg_ctx ctx);

#endif
