/*
 * stream.h - the whole-stream reader: framing of a QEMU migration stream.
 *
 * Owns: header, configuration section, commands (PACKAGED parsed
 * recursively), START/PART/END/FULL sections and their footers, EOF and the
 * vmdesc trailer; the table of sections with offsets, lengths and xxh3.
 * RAM sections are streamed through ram.c and never held.  Everything after
 * the RAM (device state, EOF, vmdesc) is buffered in memory (bounded), so
 * device sections can be walked with the vmdesc that arrives last; without
 * vmdesc, builtin layouts (cpu, cpu_common) or the footer delimit them.
 * Does not own: what a device's fields mean (armcpu.h), output.
 */
#ifndef VMS_STREAM_H
#define VMS_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "layout.h"
#include "ram.h"
#include "src.h"
#include "wire.h"

enum vms_delim {
    VMS_DELIM_RAM = 1,     /* RAM records up to EOS */
    VMS_DELIM_VMDESC,      /* walked with the vmdesc description */
    VMS_DELIM_BUILTIN,     /* walked with a builtin layout */
    VMS_DELIM_FOOTER,      /* found by searching for its footer */
};

struct vms_section {
    uint8_t type;          /* VMS_REC_START/PART/END/FULL */
    uint32_t section_id;
    uint32_t instance_id;  /* START/FULL; PART/END: copied from START */
    uint32_t version_id;
    char idstr[VMS_IDSTR_BUF];
    uint64_t offset;       /* stream offset of the type byte */
    uint64_t length;       /* header + body + footer */
    uint64_t body_offset;
    uint64_t body_len;
    uint64_t xxh3;         /* of all `length` bytes, if hashed */
    int hashed;            /* 0: a RAM section read with no_hash */
    int has_footer;
    enum vms_delim delim;
    const uint8_t *bytes;  /* in memory (device state): the type byte */
    int vmdesc_dev;        /* index in vmdesc devices, or -1 */
    const struct vms_vmsd *layout; /* what walked the body, or NULL */
    int package;           /* 0 top level, else 1 + index of PACKAGED */
};

struct vms_ramblock {
    char name[VMS_IDSTR_BUF];
    uint64_t size;         /* used_length */
    uint64_t page_size;    /* postcopy extra, or 0 */
    uint64_t gpa;          /* x-ignore-shared extra */
    int has_gpa;
    uint64_t zero, normal, xbzrle, compressed;
};

struct vms_command {
    uint16_t cmd;
    uint16_t len;
    uint64_t offset;
    uint32_t packaged_len; /* PACKAGED: bytes of the nested stream */
};

struct vms_stream {
    uint32_t file_version;
    int has_config;
    char machine[VMS_IDSTR_BUF];
    int has_page_bits;
    uint32_t page_bits;
    uint32_t page_size;
    char **caps;
    size_t n_caps;
    int has_uuid;
    uint8_t uuid[16];

    struct vms_section *sections;
    size_t n_sections, cap_sections;
    struct vms_ramblock *blocks;
    size_t n_blocks;
    struct vms_command *cmds;
    size_t n_cmds, cap_cmds;
    int postcopy_advised;

    uint8_t *region;       /* device state .. end of input (owned) */
    size_t region_len;
    size_t region_map;     /* > 0: region is a reservation of this size */
    size_t early_body_len; /* > 0: the observer's device_state saw exactly
                              these bytes */
    uint64_t region_offset;
    uint8_t **packages;    /* PACKAGED blobs (owned) */
    size_t n_packages;

    int has_eof;
    uint64_t eof_offset;
    int has_vmdesc;
    uint64_t vmdesc_offset;     /* of the 0x06 byte */
    const char *vmdesc_json;    /* inside region */
    uint32_t vmdesc_len;
    struct vms_vmdesc *vmdesc;
    int vmdesc_twin;            /* vmdesc is a twin's (has_vmdesc is 0) */
    size_t twin_disagreements;  /* vms_twin_compare() after the parse */
    uint64_t total_len;
    uint64_t ram_records;
};

/* Called when a PACKAGED blob has been read (tee is paused around it);
 * return -1 (error latched) to stop. */
typedef int (*vms_packaged_fn)(void *opaque, struct vms_stream *st,
                               const uint8_t *cmd_hdr, size_t hdr_len,
                               const uint8_t *blob, size_t len,
                               size_t first_section, struct vms_error *err);

/*
 * Who watches a parse.  Every callback is optional, gets the observer's
 * opaque and returns 0, or -1 (error latched in err) to stop the parse.
 */
struct vms_stream_observer {
    void *opaque;
    /* Consumed bytes up to the device state, forwarded as they are read
     * (convert passes RAM through this way). */
    vms_tee_fn consumed;
    /* A PACKAGED blob has been read (consumed bytes are paused around
     * it). */
    vms_packaged_fn packaged;
    /* The device state up to QEMU_VM_EOF has arrived and parses without
     * the vmdesc (lazy_vmdesc only), while the vmdesc is still being read:
     * st->region[0..body_len) and the sections in it stay valid.  If the
     * end of the input confirms that this was the body,
     * st->early_body_len == body_len after parsing; if not, the parse
     * starts over on the whole region and early_body_len is 0 (region.c
     * explains the re-parses).  Returning -1 stops the parse at once,
     * before the rest of the input is read: convert refuses there. */
    int (*device_state)(void *opaque, struct vms_stream *st,
                        size_t body_len, struct vms_error *err);
    /* Every RAM page record as it streams by (ram.h). */
    vms_ram_page_fn page;
    /* Now and then while streaming: stream and raw (compressed) offsets. */
    int (*progress)(void *opaque, uint64_t off, uint64_t raw_off);
};

struct vms_twin;

struct vms_parse_opts {
    uint32_t default_page_size;   /* when no target-page-bits: 0 = 4096 */
    int no_hash;                  /* skip xxh3 of streamed (RAM) sections */
    int lazy_vmdesc;              /* delimit device sections without the
                                     vmdesc when that works (builtin
                                     layouts, footers); parse the JSON only
                                     if it does not.  st->vmdesc may then
                                     stay NULL with has_vmdesc set. */
    const struct vms_stream_observer *observer;    /* or NULL */
    /* The input ends where QEMU's stream does, at the last byte of the
     * vmdesc (or, when no vmdesc follows, at a QEMU_VM_EOF that ends the
     * bytes read so far and completes a parse), without reading on until
     * the input closes (needs an observer's device_state).  For a socket
     * whose peer keeps it open until the destination answers (the return
     * path).  Nothing past that byte is consumed from the source. */
    int end_at_trailer;
    /* The description to use when the stream has no vmdesc of its own
     * (--vmdesc-from, twin.h); st->vmdesc_twin is then set. */
    const struct vms_twin *twin;
};

void vms_stream_init(struct vms_stream *st);
void vms_stream_fini(struct vms_stream *st);
int vms_stream_parse(struct vms_src *src, const struct vms_parse_opts *o,
                     struct vms_stream *st, struct vms_error *err);

/* Section lookup helpers. */
const struct vms_section *vms_stream_find(const struct vms_stream *st,
                                          const char *idstr,
                                          uint32_t instance_id);
/* Bytes of the body of an in-memory section (NULL for RAM). */
const uint8_t *vms_section_body(const struct vms_section *s);

#endif
