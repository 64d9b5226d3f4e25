/*
 * filter.c - the table of input containers and filters, and the names of
 * the compressions.  Adding a compression: a filt_NAME.c defining
 * vms_filter_NAME (bid, open, encoder), one line here, one enum value in
 * src.h, one format code in libvirt.c if libvirt knows it.
 */
#include "config.h"

#include <string.h>

#include "filter.h"

static const struct vms_filter *const table[] = {
    &vms_filter_libvirt,
    &vms_filter_gzip,
    &vms_filter_zstd,
    &vms_filter_bzip2,
    &vms_filter_xz,
    &vms_filter_lzop,
};

#define N_TABLE (sizeof(table) / sizeof(table[0]))

const struct vms_filter *vms_filter_bid(const uint8_t *p, size_t n)
{
    const struct vms_filter *best = NULL;
    int best_bid = 0;
    size_t i;

    for (i = 0; i < N_TABLE; i++) {
        int b = table[i]->bid(p, n);

        if (b > best_bid) {
            best_bid = b;
            best = table[i];
        }
    }
    return best;
}

const struct vms_filter *vms_filter_of(enum vms_compression c)
{
    size_t i;

    for (i = 0; i < N_TABLE; i++) {
        if (!table[i]->container && table[i]->comp == c) {
            return table[i];
        }
    }
    return NULL;
}

const char *vms_compression_name(enum vms_compression c)
{
    const struct vms_filter *f = vms_filter_of(c);

    return f ? f->name : "none";
}

int vms_compression_parse(const char *name)
{
    size_t i;

    if (strcmp(name, "none") == 0 || strcmp(name, "raw") == 0) {
        return VMS_COMP_NONE;
    }
    for (i = 0; i < N_TABLE; i++) {
        if (!table[i]->container && strcmp(table[i]->name, name) == 0) {
            return (int)table[i]->comp;
        }
    }
    return -1;
}
