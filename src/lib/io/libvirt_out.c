#include "config.h"
#include "libvirt_out.h"

#include <stdlib.h>
#include <string.h>

/* The libvirt header names the payload's compression: keep it true. */
int vms_libvirt_write_header(struct vms_sink *sink,
                             const struct vms_libvirt_header *h,
                             enum vms_compression comp,
                             struct vms_error *err)
{
    uint8_t *raw;
    uint32_t format = comp == VMS_COMP_GZIP   ? 1
                      : comp == VMS_COMP_ZSTD ? 5
                                              : 0;
    int rc;

    if (h->raw_len < 32) {
        vms_error_set_nooff(err, VMS_E_FORMAT, "libvirt header of %zu "
                            "bytes is too short to hold its format field",
                            h->raw_len);
        return -1;
    }
    raw = malloc(h->raw_len);
    if (!raw) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    memcpy(raw, h->raw, h->raw_len);
    if (h->swapped) {
        format = (format >> 24) | ((format >> 8) & 0xff00u) |
                 ((format << 8) & 0xff0000u) | (format << 24);
    }
    memcpy(raw + 28, &format, 4);    /* virQEMUSaveHeader.format */
    rc = vms_sink_write_raw(sink, raw, h->raw_len, err);
    free(raw);
    return rc;
}
