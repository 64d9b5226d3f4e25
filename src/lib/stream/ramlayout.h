/*
 * ramlayout.h - where a machine type puts its RAM blocks (guest-physical
 * addresses), which the stream itself does not say.
 *
 * Owns: the table compiled from formats/ram-layouts.tsv
 * (gen/ram_layouts.c) and the lookup by machine type and block name.
 * Does not own: RAM contents (ramimage.h), ELF output (elfcore.h).
 */
#ifndef VMS_RAMLAYOUT_H
#define VMS_RAMLAYOUT_H

#include <stddef.h>
#include <stdint.h>

struct vms_ram_layout {
    const char *machine;    /* fnmatch pattern on the stream's machine */
    const char *block;
    uint64_t gpa;
    int in_dump;            /* QEMU's dump-guest-memory writes it */
};

extern const struct vms_ram_layout vms_ram_layouts[];
extern const size_t vms_ram_layouts_count;

/* The row for (machine, block), or NULL when its address is unknown. */
const struct vms_ram_layout *vms_ramlayout_find(const char *machine,
                                                const char *block);

#endif
