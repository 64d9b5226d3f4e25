/*
 * elfcore.h - an ELF core file of the saved guest, as QEMU's QMP
 * dump-guest-memory (paging=false, format elf) writes one for the same VM.
 *
 * Owns: the ELF layout (header, two section headers, PT_NOTE, one PT_LOAD
 * per RAM block with a known guest-physical address that QEMU dumps), the
 * per-vCPU notes of QEMU 7.2 target/arm/arch_dump.c (AArch64: NT_PRSTATUS
 * with pid = vCPU index + 1, NT_PRFPREG, NT_ARM_SVE when the cpu has SVE;
 * AArch32: NT_PRSTATUS, NT_ARM_VFP when it has VFP), register values as a
 * destination restores them from the cpu sections.
 * Layout difference to QEMU (documented in doc/vmstream.1): the registers
 * come after the RAM in the stream, so the notes follow the memory instead
 * of preceding it, and the memory starts 64 KiB-aligned; e_ehsize is the
 * real header size (QEMU 7.2 writes sizeof(pointer) = 8).
 * Does not own: page decoding (ramimage.h), the address table
 * (ramlayout.h), register decoding (armcpu.h).
 */
#ifndef VMS_ELFCORE_H
#define VMS_ELFCORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "src.h"

struct vms_stream;
struct vms_armcpu;

#define VMS_CORE_MEM_ALIGN 0x10000u

struct vms_twin;

struct vms_core_opts {
    /* SVE: the cpu's sve-max-vq, not in the stream (0: 16, the default of
     * QEMU 7.2 TCG "max"); lengths 1..max are taken as supported. */
    unsigned sve_max_vq;
    const struct vms_twin *twin;    /* --vmdesc-from, or NULL */
    /* Addresses for blocks the table does not know (e.g. a RAM block
     * named after -machine memory-backend=ID): names[i] at gpas[i]. */
    const char *const *map_names;
    const uint64_t *map_gpas;
    size_t n_map;
    int (*progress)(void *opaque, uint64_t off, uint64_t raw_off);
    void *progress_opaque;
};

struct vms_core_block {
    char name[256];
    uint64_t size;
    int included;           /* a PT_LOAD */
    uint64_t gpa;           /* if known */
    int has_gpa;
    const char *why;        /* left out: reason */
};

struct vms_core_result {
    int elf64;              /* ELFCLASS64/EM_AARCH64, else ELF32/EM_ARM */
    int big_endian;         /* SCTLR_EL1.EE of the first vCPU */
    unsigned n_vcpus;
    unsigned n_loads;
    uint64_t note_size;
    uint64_t file_size;
    struct vms_core_block *blocks;  /* every RAM block of the stream */
    size_t n_blocks;
};

/*
 * Read the whole stream from src and write the core to path (a regular
 * file; temporary file + rename).  st must be vms_stream_init'ed (caller
 * finis it); r is filled (free with vms_core_result_fini).
 */
int vms_core_write(struct vms_src *src, const char *path,
                   const struct vms_core_opts *o, struct vms_stream *st,
                   struct vms_core_result *r, struct vms_error *err);
void vms_core_result_fini(struct vms_core_result *r);

/*
 * The notes of one vCPU (index = its cpu instance id), little or big
 * endian, ELF64 (AArch64 feature) or ELF32: appended to *buf (realloc'd).
 */
int vms_core_cpu_notes(const struct vms_armcpu *c, int elf64, int big_endian,
                       unsigned sve_max_vq, uint8_t **buf, size_t *len,
                       struct vms_error *err);
/* 1 if the cpu has the AArch64 feature (ID_AA64ISAR0_EL1 in its list). */
int vms_core_cpu_is_aarch64(const struct vms_armcpu *c);

#endif
