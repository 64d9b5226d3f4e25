/*
 * wire.h - QEMU migration stream constants, big-endian helpers and limits.
 *
 * Owns: the numbers of the wire format (../doc/format.md) and the resource
 * limits vmstream enforces on untrusted input.  No I/O, no state.
 */
#ifndef VMS_WIRE_H
#define VMS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define VMS_FILE_MAGIC      0x5145564Du /* QEMU_VM_FILE_MAGIC "QEVM" */
#define VMS_FILE_VERSION    3u          /* QEMU_VM_FILE_VERSION */
#define VMS_FILE_VERSION_COMPAT 2u      /* obsolete */

enum vms_rec {
    VMS_REC_EOF = 0x00,          /* QEMU_VM_EOF */
    VMS_REC_START = 0x01,        /* QEMU_VM_SECTION_START */
    VMS_REC_PART = 0x02,         /* QEMU_VM_SECTION_PART */
    VMS_REC_END = 0x03,          /* QEMU_VM_SECTION_END */
    VMS_REC_FULL = 0x04,         /* QEMU_VM_SECTION_FULL */
    VMS_REC_SUBSECTION = 0x05,   /* QEMU_VM_SUBSECTION */
    VMS_REC_VMDESC = 0x06,       /* QEMU_VM_VMDESCRIPTION */
    VMS_REC_CONFIG = 0x07,       /* QEMU_VM_CONFIGURATION */
    VMS_REC_COMMAND = 0x08,      /* QEMU_VM_COMMAND */
    VMS_REC_FOOTER = 0x7E,       /* QEMU_VM_SECTION_FOOTER */
};

enum vms_cmd {
    VMS_CMD_OPEN_RETURN_PATH = 1,
    VMS_CMD_PING = 2,
    VMS_CMD_POSTCOPY_ADVISE = 3,
    VMS_CMD_POSTCOPY_LISTEN = 4,
    VMS_CMD_POSTCOPY_RUN = 5,
    VMS_CMD_POSTCOPY_RAM_DISCARD = 6,
    VMS_CMD_PACKAGED = 7,
    VMS_CMD_ENABLE_COLO = 8,
    VMS_CMD_POSTCOPY_RESUME = 9,
    VMS_CMD_RECV_BITMAP = 10,
    VMS_CMD_SWITCHOVER_START = 11,
    VMS_CMD_MAX = 12,
};

/* RAM_SAVE_FLAG_* (migration/ram.c) */
#define VMS_RAM_FULL          0x001u
#define VMS_RAM_ZERO          0x002u
#define VMS_RAM_MEM_SIZE      0x004u
#define VMS_RAM_PAGE          0x008u
#define VMS_RAM_EOS           0x010u
#define VMS_RAM_CONTINUE      0x020u
#define VMS_RAM_XBZRLE        0x040u
#define VMS_RAM_HOOK          0x080u
#define VMS_RAM_COMPRESS_PAGE 0x100u
#define VMS_RAM_MULTIFD_FLUSH 0x200u
#define VMS_XBZRLE_ENCODING   0x01u

#define VMS_RAM_SECTION_VERSION 4u
#define VMS_PAGE_BITS_MIN 10u          /* Arm TARGET_PAGE_BITS_MIN */
#define VMS_PAGE_BITS_MAX 16u          /* 64 KiB: largest target page */

/* Resource limits on untrusted input (documented in doc/limits.md). */
#define VMS_MAX_IDSTR        255u        /* u8 length on the wire */
#define VMS_IDSTR_BUF        256
#define VMS_MAX_SECTIONS     (1u << 22)  /* sections in one stream */
#define VMS_MAX_RAMBLOCKS    4096u
#define VMS_MAX_CAPS         64u
#define VMS_MAX_VMDESC       (64u << 20) /* JSON trailer bytes */
#define VMS_MAX_DEVICE_STATE (256u << 20)/* buffered non-RAM state */
#define VMS_MAX_CPREGS       65536       /* cpreg_vmstate_array_len */
#define VMS_MAX_CPREG_SLOTS  (1 << 20)   /* v23 value_array_len */
#define VMS_MAX_NESTING      16u         /* subsection / struct depth */
#define VMS_MAX_PACKAGED     (256u << 20)/* MIG_CMD_PACKAGED blob */
#define VMS_MAX_FIELDS       65536u      /* fields in one vmdesc device */

static inline uint16_t vms_get_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t vms_get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t vms_get_be64(const uint8_t *p)
{
    return ((uint64_t)vms_get_be32(p) << 32) | vms_get_be32(p + 4);
}

static inline void vms_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void vms_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void vms_put_be64(uint8_t *p, uint64_t v)
{
    vms_put_be32(p, (uint32_t)(v >> 32));
    vms_put_be32(p + 4, (uint32_t)v);
}

const char *vms_rec_name(unsigned type);
const char *vms_cmd_name(unsigned cmd);

#endif
