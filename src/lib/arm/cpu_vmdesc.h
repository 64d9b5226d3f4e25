/*
 * cpu_vmdesc.h - the one home of the Arm "cpu" entry of the vmdesc JSON.
 *
 * Owns: the cpreg fields of a "cpu" device entry (doc/format.md §4 and §5)
 * in both layouts, from one field table: reading the layout
 * and counts an entry describes, rewriting it in a json-c tree, and the
 * same rewrite as a text splice on QEMU-canonical vmdesc text (no JSON
 * parse; convert's fast path).  Both produce exactly the text QEMU's
 * JSONWriter writes for the new layout and counts.
 * Does not own: JSON parsing and serialising (vmdesc_json.h), the section
 * bytes (armcpu.h).
 */
#ifndef VMS_CPU_VMDESC_H
#define VMS_CPU_VMDESC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct json_object;
struct vms_error;

/* The cpreg fields of one entry: layout 22 or 23, N registers, M value
 * slots (M = N for v22). */
struct vms_cpu_shape {
    int layout;
    uint32_t n, m;
};

/*
 * The cpreg layout described by the vmdesc entry of Arm device "cpu" with
 * the given instance_id: *v23 = 0 or 1, *n = cpreg_vmstate_array_len (N),
 * *m = number of 64-bit value slots (M; equals N for v22).  Counts are taken
 * from the entries themselves (absent = 0, no "array_len" = 1).
 * Returns 0, or -1 after latching err (VMS_E_FORMAT) when there is no such
 * entry or it does not look like a consistent v22 or v23 "cpu" entry.
 * Any output pointer may be NULL.
 */
int vms_vmdesc_cpu_get_layout(struct json_object *root, uint32_t instance_id,
                              int *v23, uint32_t *n, uint32_t *m,
                              struct vms_error *err);
/* The layout (22 or 23) the entry describes; -1 after latching err. */
int vms_vmdesc_cpu_layout(struct json_object *root, uint32_t instance_id,
                          struct vms_error *err);

/*
 * Rewrite the entry of cpu instance_id, which must describe `from` (else
 * VMS_E_CONVERT), to describe `to`: "version" becomes to->layout and the
 * cpreg fields are those QEMU writes for to's counts (entries of count 0
 * omitted, count 1 without "array_len", key order name, array_len, type,
 * size).  A failure changes nothing.  Returns 0, or -1 after latching err:
 * VMS_E_FORMAT (entry missing or malformed), VMS_E_CONVERT, VMS_E_NOMEM.
 */
int vms_vmdesc_cpu_rewrite(struct json_object *root, uint32_t instance_id,
                           const struct vms_cpu_shape *from,
                           const struct vms_cpu_shape *to,
                           struct vms_error *err);
/* The layout change alone: from is the entry's own shape, which must have
 * n (and m, for a v23 entry) registers; to keeps the counts (M = N for
 * v22, which needs m == n). */
int vms_vmdesc_cpu_set_layout(struct json_object *root, uint32_t instance_id,
                              int v23, uint32_t n, uint32_t m,
                              struct vms_error *err);

/* One cpu entry to rewrite in vmdesc text. */
struct vms_cpu_vmdesc_edit {
    uint32_t instance;
    struct vms_cpu_shape from, to;
};

/*
 * The text path, one linear pass: copy json[0..len) to out with each
 * edited entry's head and cpreg fields replaced, as QEMU would have written
 * them.  The edit is made only where the reverse edit would undo it
 * exactly (one head per instance, its version and old cpreg text as QEMU
 * writes them for `from`, in text order).  Returns 0 done, 1 the text is
 * not in that form (out unchanged: parse the JSON and use the tree path),
 * -1 after latching err.
 */
int vms_vmdesc_cpu_splice(const char *json, size_t len,
                          const struct vms_cpu_vmdesc_edit *edits,
                          size_t n_edits, struct vms_buf *out,
                          struct vms_error *err);

#endif
