/*
 * libvirt.h - the libvirt save-image container (`virsh save`): the 92-byte
 * virQEMUSaveHeader, the domain XML, the cookie and the zero slack before
 * the QEMU stream (layout: doc/libvirt.md).
 *
 * Owns: parsing the header (either byte order, every length checked),
 * the XML and cookie inside it, the domain's name and UUID, the map
 * between libvirt's format codes and compressions, and building a new
 * header with another XML, compression or running flag the way
 * `virsh save-image-define` does.  As an input container it is one entry
 * of the filter table (filter.h).
 * Does not own: the payload's compression (filt_*.c), the QEMU stream.
 */
#ifndef VMS_LIBVIRT_H
#define VMS_LIBVIRT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "src.h"

#define VMS_LIBVIRT_HDR_LEN 92u
#define VMS_LIBVIRT_SLACK (64u * 1024u)      /* libvirt's padding */
#define VMS_LIBVIRT_MAX_DATA (64u << 20)     /* our limit on data_len */
#define VMS_LIBVIRT_VERSION 2u

/* virQEMUSaveFormat.  libvirt 9.0 knows 0..4; 5 and 6 came later. */
enum vms_libvirt_format {
    VMS_LV_RAW = 0,
    VMS_LV_GZIP = 1,
    VMS_LV_BZIP2 = 2,
    VMS_LV_XZ = 3,
    VMS_LV_LZOP = 4,
    VMS_LV_ZSTD = 5,
    VMS_LV_SPARSE = 6,
};
/* The highest format code Debian 12's libvirt 9.0 restores. */
#define VMS_LV_FORMAT_MAX_9_0 VMS_LV_LZOP

struct vms_libvirt_header {
    int present;
    uint32_t version;
    uint32_t data_len;     /* XML + NUL + cookie + NUL + zero slack */
    uint32_t was_running;  /* 1: `virsh restore` resumes the guest */
    uint32_t format;       /* enum vms_libvirt_format */
    uint32_t cookie_offset;/* from byte 92; 0: no cookie */
    int swapped;           /* header was in the other byte order */
    uint8_t *raw;          /* the header and data_len bytes, verbatim */
    size_t raw_len;
    const char *xml;       /* into raw: the XML as stored (NUL ends it) */
    size_t xml_len;        /* without the NUL */
    const char *cookie;    /* into raw, or NULL */
    size_t cookie_len;     /* without the NUL */
};

/*
 * Parse a whole header (92 bytes + data_len) from memory; h->raw is a
 * copy.  An unfinished save (LibvirtQemudPart) is a VMS_E_FORMAT error
 * saying so.  0, or -1 after latching err.  vms_libvirt_fini frees.
 */
int vms_libvirt_parse(const uint8_t *buf, size_t len,
                      struct vms_libvirt_header *h, struct vms_error *err);
/* The fixed 92 bytes only: fields, no XML (h->raw stays NULL). */
int vms_libvirt_parse_fixed(const uint8_t *hdr, struct vms_libvirt_header *h,
                            struct vms_error *err);
/* Take raw (92 + data_len bytes, malloc'd) and find XML and cookie. */
int vms_libvirt_adopt(struct vms_libvirt_header *h, uint8_t *raw,
                      struct vms_error *err);
void vms_libvirt_fini(struct vms_libvirt_header *h);

/* The compression of a format code; -1 for one vmstream cannot read. */
int vms_libvirt_comp(uint32_t format);
uint32_t vms_libvirt_format(enum vms_compression comp);
const char *vms_libvirt_format_name(uint32_t format);

/* The text of the first element TAG directly under <domain> (entities
 * decoded) into buf; 0, or -1 if there is none or it does not fit. */
int vms_libvirt_xml_field(const char *xml, size_t xml_len, const char *tag,
                          char *buf, size_t len);

/* What to change in vms_libvirt_build. */
struct vms_libvirt_edit {
    const char *xml;       /* new domain XML (no NUL inside), or NULL */
    size_t xml_len;
    int running;           /* 1 resume, 0 stay paused, -1 keep */
    enum vms_compression comp; /* the payload that follows */
};

/*
 * A new header as libvirt's save-image-define writes it: the same byte
 * order, version and unused words; the new XML, then the cookie kept
 * (cookie_offset moves), zeros up to the same data_len when XML + cookie
 * fit in it, otherwise data_len = XML + cookie + 64 KiB as a fresh
 * `virsh save` does.  *out (malloc'd) is 92 + data_len bytes.
 */
int vms_libvirt_build(const struct vms_libvirt_header *h,
                      const struct vms_libvirt_edit *e, uint8_t **out,
                      size_t *out_len, struct vms_error *err);

/*
 * May an image with header h be written with payload comp?  Refuses (a
 * VMS_E_CONVERT error saying how to insist) a format code above what
 * libvirt 9.0 restores (zstd = 5) unless the input already had that code
 * (the libvirt that wrote it knows it) or force is set.
 */
int vms_libvirt_check_format(const struct vms_libvirt_header *h,
                             enum vms_compression comp, int force,
                             struct vms_error *err);

#endif
