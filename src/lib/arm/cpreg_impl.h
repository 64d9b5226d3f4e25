/*
 * cpreg_impl.h - what the register-id files share (cpreg.c: decoding and
 * names; cpreg_lookup.c: names typed by users back to ids; cpreg_class.c:
 * size, slots, context and identification registers from the id alone).
 */
#ifndef VMS_CPREG_IMPL_H
#define VMS_CPREG_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "cpreg.h"

#define ARCH_OF(id)     ((id) & VMS_CPREG_ARCH_MASK)
#define GROUP_OF(id)    ((unsigned)(((id) & VMS_CPREG_GROUP_MASK) >> \
                                    VMS_CPREG_GROUP_SHIFT))
#define SIZE_CODE(id)   ((unsigned)(((id) >> VMS_CPREG_SIZE_SHIFT) & 0xf))
#define INDEX_OF(id)    ((unsigned)((id) & 0xffff))

/* KVM size codes (KVM_REG_SIZE_U32 ...) */
#define SZ_U32  2u
#define SZ_U64  3u
#define SZ_U128 4u
#define SZ_U256 5u
#define SZ_U512 6u
#define SZ_U2048 8u

/* Bits 51..28 must be 0 for arm64; arm allows 28 (KVM) and 29 (QEMU). */
#define ARM64_RESERVED  UINT64_C(0x000ffffff0000000)
#define ARM_RESERVED    UINT64_C(0x000fffffc0000000)
#define AA32_BANK_BITS  (VMS_CPREG_AA32_KVM_SECURE | VMS_CPREG_AA32_QEMU_NS)

/* KVM_REG_ARM_DEMUX: CSSELR values KVM accepts (CSSELR_MAX). */
#define DEMUX_CSSELR_MAX 14u

uint64_t cpreg_make_id(uint64_t arch, unsigned size_code, unsigned group,
                       unsigned index);
/* ASCII case-insensitive equality (of a[0..alen) and b). */
int cpreg_eq_ci(const char *a, const char *b);
int cpreg_eq_ci_n(const char *a, size_t alen, const char *b);
/* The name table: how well row r names its id in ctx, and the best row. */
int cpreg_row_rank(const struct vms_cpreg_name *r, enum vms_cpreg_ctx ctx);
const struct vms_cpreg_name *cpreg_table_find(uint64_t key,
                                              enum vms_cpreg_ctx ctx);
/* Computed names of KVM CORE, VFP and SVE registers (0: no name). */
unsigned cpreg_core64_name(unsigned idx, char *buf, size_t len);
int cpreg_core32_name(unsigned idx, char *buf, size_t len);
unsigned cpreg_vfp_name(unsigned idx, char *buf, size_t len);
unsigned cpreg_sve_name(unsigned idx, char *buf, size_t len);
int cpreg_computed_name(uint64_t id, char *buf, size_t len);

#endif
