/*
 * vmstate_json.h - the JSON that `qemu-system-* -dump-vmstate FILE` writes:
 * the machine type and, for every device with a VMStateDescription, its
 * version range and subsection names.
 *
 * Owns: reading that file (plain or compressed, through io/src) under
 * size and depth limits into a small index by vmsd name (the name a
 * migration section's idstr ends with).
 * Does not own: what a destination does with it (arm/release.h).
 * QEMU does not list `cpu`, `ram`, `timer`, ... there (doc/qemu-10.0.md
 * section 8): the cpu rules need a profile or a stream.
 */
#ifndef VMS_VMSTATE_JSON_H
#define VMS_VMSTATE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct vms_vmstate_dev {
    char *name;             /* Description.name: the vmsd name */
    int32_t version;        /* version_id */
    int32_t minimum;        /* minimum_version_id */
    char **subs;            /* top-level subsection names */
    size_t n_subs;
};

struct vms_vmstate_dump {
    char machine[128];      /* vmschkmachine.Name, "" if absent */
    struct vms_vmstate_dev *devs;
    size_t n_devs;
};

/* Largest -dump-vmstate file read (QEMU 10.0 aarch64: 2 MB). */
#define VMS_MAX_VMSTATE_JSON (64u << 20)

/* Parse text[0..len). */
struct vms_vmstate_dump *vms_vmstate_parse(const char *text, size_t len,
                                           struct vms_error *err);
/* Read and parse a file (gzip/zstd accepted). */
struct vms_vmstate_dump *vms_vmstate_load(const char *path,
                                          struct vms_error *err);
void vms_vmstate_free(struct vms_vmstate_dump *d);
/* The device whose vmsd name is name, or NULL. */
const struct vms_vmstate_dev *vms_vmstate_find(
    const struct vms_vmstate_dump *d, const char *name);
/* 1 if dev lists subsection sub. */
int vms_vmstate_has_sub(const struct vms_vmstate_dev *dev, const char *sub);

#endif
