/* layout_table.h - rows of formats/cpu-layouts.tsv, compiled in. */
#ifndef VMS_LAYOUT_TABLE_H
#define VMS_LAYOUT_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct vms_layout_row {
    const char *vmsd;
    uint32_t version;
    const char *field;
    const char *type;
    uint32_t size;
    uint32_t count;
    const char *count_from;   /* NULL: count is fixed */
};

extern const struct vms_layout_row vms_layout_rows[];
extern const unsigned vms_layout_nrows;

#endif
