/*
 * elf_impl.h - private to drivers/elfcore*.c: the ELF constants and the
 * dump's byte order, shared by the notes (elfcore_notes.c: registers as
 * the destination holds them, NT_PRSTATUS/NT_PRFPREG/NT_ARM_* notes) and
 * the file writer (elfcore.c: headers, PT_LOAD plan, pages).
 */
#ifndef VMS_ELF_IMPL_H
#define VMS_ELF_IMPL_H

#include <stdint.h>

struct vms_armcpu;

/* include/elf.h */
#define ET_CORE       4
#define EM_ARM        40
#define EM_AARCH64    183
#define PT_LOAD       1
#define PT_NOTE       4
#define SHT_STRTAB    3
#define PN_XNUM       0xffff
#define NT_PRSTATUS   1
#define NT_PRFPREG    2
#define NT_ARM_VFP    0x400
#define NT_ARM_SVE    0x405

#define ARM_MAX_VQ    16
#define FPSR_MASK     0xf800009fu
#define FPCR_MASK     0x07ff9f00u


/* ---- byte order of the dump ------------------------------------------ */

static inline void core_put16(uint8_t *p, uint16_t v, int be)
{
    p[be ? 0 : 1] = (uint8_t)(v >> 8);
    p[be ? 1 : 0] = (uint8_t)v;
}

static inline void core_put32(uint8_t *p, uint32_t v, int be)
{
    int i;

    for (i = 0; i < 4; i++) {
        p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
    }
}

static inline void core_put64(uint8_t *p, uint64_t v, int be)
{
    int i;

    for (i = 0; i < 8; i++) {
        p[be ? 7 - i : i] = (uint8_t)(v >> (8 * i));
    }
}

/* Host-order (little-endian) bytes of QEMU's uint64_t arrays. */
static inline void core_put64le(uint8_t *p, uint64_t v)
{
    core_put64(p, v, 0);
}


/* cp15.sctlr_el[1].EE: the byte order QEMU's cpu_get_dump_info picks. */
int core_cpu_big_endian(const struct vms_armcpu *c);

#endif
