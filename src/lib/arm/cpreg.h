/*
 * cpreg.h - Arm register ids (KVM ONE_REG / QEMU cpreg list) and their names.
 *
 * Owns: decoding a 64-bit register id (KVM_REG_ARM / KVM_REG_ARM64 layout,
 * plus QEMU TCG's NS bit 29 on AArch32 ids) into fields, size and v23 value
 * slots; its architectural name in a naming context (TCG or KVM: the KVM
 * timer ids are swapped, AArch32 bit 29 means Secure/Non-secure only under
 * TCG); the reverse lookup of names typed on the command line; which ids
 * are fixed identification registers.  The names come from the tables in
 * formats/ compiled by formats/cpreg2c.awk into gen/cpreg_names.c
 * (vms_cpreg_names[]); CORE, DEMUX, VFP and SVE names are computed.
 * Does not own: register values or lists (armcpu.h), policy (check.h).
 * Never prints, never allocates, never fails: unknown ids are decoded.
 */
#ifndef VMS_CPREG_H
#define VMS_CPREG_H

#include <stddef.h>
#include <stdint.h>

/* Id layout (include/uapi/linux/kvm.h, arch/arm64/include/uapi/asm/kvm.h). */
#define VMS_CPREG_ARCH_MASK     UINT64_C(0xff00000000000000)
#define VMS_CPREG_ARCH_ARM      UINT64_C(0x4000000000000000) /* KVM_REG_ARM */
#define VMS_CPREG_ARCH_ARM64    UINT64_C(0x6000000000000000) /* KVM_REG_ARM64 */
#define VMS_CPREG_SIZE_SHIFT    52          /* KVM_REG_SIZE_SHIFT */
#define VMS_CPREG_GROUP_SHIFT   16          /* KVM_REG_ARM_COPROC_SHIFT */
#define VMS_CPREG_GROUP_MASK    UINT64_C(0x000000000fff0000)
/* AArch32 bank bits: KVM_REG_ARM_SECURE_MASK, QEMU's 1 << CP_REG_NS_SHIFT */
#define VMS_CPREG_AA32_KVM_SECURE UINT64_C(0x10000000)
#define VMS_CPREG_AA32_QEMU_NS  UINT64_C(0x20000000)

/* Register groups ("coprocessors"), bits 27..16. */
enum vms_cpreg_group {
    VMS_CPREG_GRP_CP14 = 0x000e,     /* AArch32 cp14 */
    VMS_CPREG_GRP_CP15 = 0x000f,     /* AArch32 cp15 */
    VMS_CPREG_GRP_CORE = 0x0010,     /* KVM_REG_ARM_CORE */
    VMS_CPREG_GRP_DEMUX = 0x0011,    /* KVM_REG_ARM_DEMUX (CCSIDR) */
    VMS_CPREG_GRP_VFP = 0x0012,      /* KVM_REG_ARM_VFP (32-bit arm) */
    VMS_CPREG_GRP_SYSREG = 0x0013,   /* KVM_REG_ARM64_SYSREG */
    VMS_CPREG_GRP_FW = 0x0014,       /* KVM_REG_ARM_FW */
    VMS_CPREG_GRP_SVE = 0x0015,      /* KVM_REG_ARM64_SVE */
    VMS_CPREG_GRP_FW_FEAT_BMAP = 0x0016, /* KVM_REG_ARM_FW_FEAT_BMAP */
};

/* Which id space a list comes from: decides names that differ. */
enum vms_cpreg_ctx { VMS_CPREG_TCG = 0, VMS_CPREG_KVM = 1 };

/* Longest string vms_cpreg_name()/vms_cpreg_decode() write, with NUL. */
#define VMS_CPREG_NAME_MAX 96

/*
 * Architectural name of id into buf ("SCTLR_EL1", "CONTEXTIDR_S",
 * "KVM_REG_ARM_PSCI_VERSION", ...).  If no name is known, writes the
 * decoded fields instead (vms_cpreg_decode) and returns 0; returns 1 when
 * named.  Never fails, never prints; truncates to len.
 * AArch32: under TCG, bit 29 set is the Non-secure/common instance (NAME),
 * clear the Secure bank (NAME_S); under KVM, bit 28 set is NAME_S.
 * The 32- and 64-bit views of one AArch32 register share its name (PAR).
 */
int vms_cpreg_name(uint64_t id, enum vms_cpreg_ctx ctx, char *buf, size_t len);

/*
 * Decoded fields only: AArch64 sysreg "S3_0_C15_C2_1"; AArch32 32-bit
 * "p15,0,c13,c0,1", 64-bit "p15,0,c2", each + " ns=1" when QEMU's bit 29
 * is set (+ " s=1" for KVM's secure bit 28); "CCSIDR[csselr=0x2]";
 * "FW_REG(3)"; "FW_FEAT_BMAP_REG(3)"; "SVE_ZREG(n,slice)",
 * "SVE_PREG(n,slice)", "SVE_FFR(slice)", "SVE_VLS"; "CORE(0x40)";
 * "VFP(0x1001)"; anything else (unknown arch, group or stray bits):
 * "0x%016llx".  vms_cpreg_lookup() accepts these forms (the KVM group
 * forms as arm64 ids; not "SVE(0x...)", whose size is unknown).
 */
void vms_cpreg_decode(uint64_t id, char *buf, size_t len);

/* Bytes: 1 << ((id >> 52) & 0xf); 0 if the size code is above 8 (U2048). */
unsigned vms_cpreg_size(uint64_t id);
/* v23 8-byte value slots: 1 for size codes 0..3, size/8 for 4..8, else 0. */
unsigned vms_cpreg_slots(uint64_t id);
/* 1 if id is KVM_REG_ARM (top byte 0x40): an AArch32 register. */
int vms_cpreg_is_aarch32(uint64_t id);

/*
 * Which id space a list comes from: KVM if any id is in a group only KVM
 * lists (CORE, DEMUX, VFP, FW, SVE, FW_FEAT_BMAP), else TCG if any AArch32
 * id has bit 29 set; default TCG.
 */
enum vms_cpreg_ctx vms_cpreg_guess_ctx(const uint64_t *ids, size_t n);
/* "tcg" or "kvm". */
const char *vms_cpreg_ctx_name(enum vms_cpreg_ctx ctx);

/*
 * Reverse lookup for command-line use: name -> id.  Case-insensitive.
 * Accepts table names and aliases ("sctlr_el1", "psci_version"), the
 * decoded forms ("S3_0_C1_C0_0", "p15,0,c13,c0,1", "CCSIDR[csselr=0x2]",
 * "FW_REG(1)", "CORE(0x40)", ...), "0x603000000013c080" (any 64-bit hex
 * id), NAME_S for the Secure bank of an AArch32 register, NAME_32 /
 * NAME_64 (and NAME_32_S ...) to pick one view of an AArch32 register,
 * and computed names (X0..X30, PC, PSTATE, V0..V31, Z0..Z31, P0..P15, FFR;
 * table names win, so the CORE FPSR or SP_EL1 need "CORE(0xd4)" ...).
 * A context-specific name wins in its context (KVM: "CNTVCT_EL0" is
 * ...df1a; TCG: DBGDEVID is QEMU's misencoded p14,0,c7,c0,2).  AArch32
 * results carry bit 29 under TCG unless the name asks for the Secure bank
 * (NAME_S, "ns=0").
 * Returns 0 and sets *id, or -1 (*id untouched) if the name is unknown
 * or ambiguous (e.g. "PAR": use PAR_32 or PAR_64).
 */
int vms_cpreg_lookup(const char *name, enum vms_cpreg_ctx ctx, uint64_t *id);

/*
 * What a register name typed by a user denotes: 1 a register of a cpreg
 * list (also a name several list registers share, such as "PAR", and
 * NAME_S), -1 a register that is not in any cpreg list (core, VFP and SVE
 * registers: X0, PC, V0, Z0, ...), 0 no register.
 */
int vms_cpreg_name_kind(const char *name);

/*
 * 1 if id is an identification / read-only constant register whose value
 * is fixed by the CPU model (a TCG destination refuses another value):
 * AArch64 op0=3 op1=0 CRn=0 (MIDR_EL1, REVIDR_EL1, ID_*, MVFR*, reserved
 * ID slots; not MPIDR_EL1, which depends on the vCPU index), CTR_EL0,
 * DCZID_EL0, CCSIDR_EL1, CCSIDR2_EL1, CLIDR_EL1, GMID_EL1, SMIDR_EL1,
 * AIDR_EL1, MDRAR_EL1, KVM DEMUX CCSIDR; the AArch32 p15 views (MIDR and
 * its aliases, CTR, TCMTR, TLBTR, REVIDR, ID_*, MVFR*, RAZ ID slots,
 * CCSIDR, CCSIDR2, CLIDR, AIDR; not MPIDR) and cp14 DBGDIDR, DBGDRAR,
 * DBGDSAR, DBGDEVID/1/2 (architectural and QEMU 7.2 encodings), JIDR.
 */
int vms_cpreg_is_id_register(uint64_t id);

/* The compiled name table (gen/cpreg_names.c, from formats/). */
enum vms_cpreg_row_ctx {
    VMS_CPREG_ROW_ANY = 0,  /* name in every context */
    VMS_CPREG_ROW_TCG = 1,  /* overrides an ANY row under TCG */
    VMS_CPREG_ROW_KVM = 2,  /* overrides an ANY row under KVM */
};

struct vms_cpreg_name {
    uint64_t id;            /* AArch32 rows: bits 28 and 29 clear */
    unsigned char ctx;      /* enum vms_cpreg_row_ctx */
    const char *name;
    const char *aliases;    /* "A,B": more names lookup accepts, or NULL */
};

/* Sorted by (id, ctx); ids repeat only with different ctx. */
extern const struct vms_cpreg_name vms_cpreg_names[];
extern const size_t vms_cpreg_names_count;

#endif
