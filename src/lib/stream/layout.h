/*
 * layout.h - vmstate layouts: what fields a device section body holds.
 *
 * Owns: struct vms_vmsd (a VMStateDescription as seen on the wire: fields
 * with element size and count, nested structs, subsections), built either
 * from the vmdesc JSON QEMU appends after EOF (vmdesc.c) or from the tables
 * in formats/cpu-layouts.tsv compiled in (builtin layouts), and the walker
 * that lays a layout over section bytes (walker.c).
 * Does not own: stream framing (stream.h) or device semantics (armcpu.h).
 */
#ifndef VMS_LAYOUT_H
#define VMS_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct vms_vmsd;

struct vms_field {
    char *name;            /* as QEMU names it, e.g. "env.xregs" */
    char *type;            /* vmdesc "type": "uint64", "int32 le", ... */
    uint32_t size;         /* bytes of one element (struct: incl. subs) */
    uint32_t count;        /* elements: "array_len", else 1 */
    int has_index;         /* vmdesc "index": one entry per element */
    uint32_t index;
    int count_from;        /* builtin: index of an earlier field holding
                              the count, or -1 when count is fixed */
    struct vms_vmsd *sub;  /* type "struct": the element's layout */
};

struct vms_vmsd {
    char *name;            /* vmsd_name, e.g. "cpu", "cpu/vfp" */
    uint32_t version;
    struct vms_field *fields;
    size_t n_fields;
    struct vms_vmsd *subs; /* subsections that may follow the fields */
    size_t n_subs;
    int opaque;            /* old-style device: only "size" is known */
};

/* One entry of vmdesc "devices", in stream order. */
struct vms_vmdesc_dev {
    char *name;            /* section idstr */
    uint32_t instance_id;
    int has_vmsd;          /* vmsd_name/version present */
    struct vms_vmsd vmsd;
};

struct vms_vmdesc {
    uint32_t page_size;
    int has_configuration; /* QEMU >= 8.2 describes it under that key */
    struct vms_vmdesc_dev *devs;
    size_t n_devs;
    void *json;            /* struct json_object *, kept for rewriting */
};

/* Parse the vmdesc JSON (len bytes, not NUL-terminated). */
struct vms_vmdesc *vms_vmdesc_parse(const char *text, size_t len,
                                    uint64_t offset, struct vms_error *err);
void vms_vmdesc_free(struct vms_vmdesc *d);
void vms_vmsd_fini(struct vms_vmsd *v);

/* Builtin layouts (formats/cpu-layouts.tsv): "cpu@v22", "cpu@v23",
 * "cpu_common".  Returns NULL for an unknown name, or NULL after latching
 * VMS_E_NOMEM in err when the tables could not be built (the next call
 * tries again).  Builtin subsections are reached through the subs of
 * their parent. */
const struct vms_vmsd *vms_builtin_vmsd(const char *name,
                                       struct vms_error *err);

/* Events the walker reports for each field element group. */
struct vms_walk_field {
    const char *path;        /* "cpu/vfp.env.vfp.xregs" style, see dump */
    const struct vms_field *field;
    const uint8_t *data;     /* first byte of this field's data */
    uint64_t offset;         /* stream offset of data */
    uint32_t count;          /* elements */
    uint32_t elem_size;
    int depth;
};

struct vms_walk_sub {
    const char *name;
    uint32_t version;
    uint64_t offset;         /* of the 0x05 byte */
    int depth;
};

struct vms_walk_ops {
    /* Both optional; return -1 to stop the walk (error latched by caller) */
    int (*field)(void *opaque, const struct vms_walk_field *f);
    int (*subsection)(void *opaque, const struct vms_walk_sub *s);
    int (*subsection_end)(void *opaque, const struct vms_walk_sub *s);
    /* Around each element of a struct field (not with builtin layouts):
     * its members and the subsections of the member's vmsd come between
     * (QEMU's vmdesc and analyze-migration.py nest them there). */
    int (*struct_begin)(void *opaque, const struct vms_walk_field *f,
                        uint32_t element);
    int (*struct_end)(void *opaque, const struct vms_walk_field *f,
                      uint32_t element);
};

/*
 * Walk body[0..len) with layout v; body_off is the stream offset of body[0].
 * On success returns 0 and sets *used to the bytes the body occupies (the
 * section footer, if any, starts there).  Fails with a latched error if the
 * bytes do not fit the layout.  builtin != 0 allows only builtin subsections.
 */
int vms_walk(const struct vms_vmsd *v, const uint8_t *body, size_t len,
             uint64_t body_off, int builtin, const struct vms_walk_ops *ops,
             void *opaque, size_t *used, struct vms_error *err);

#endif
