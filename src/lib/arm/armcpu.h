/*
 * armcpu.h - the Arm "cpu" section model, v22 and v23 layouts.
 *
 * Owns: decoding a cpu section body into one model per vCPU (core
 * registers, the cpreg list with v23 value slots, the tail fields, the
 * subsections kept verbatim and FP/SIMD decoded), and encoding that model
 * back in either layout byte-exactly.  Also the architectural views:
 * AArch64/AArch32 state, EL, PSTATE/CPSR fields, banked register names.
 * Does not own: register names (cpreg.h), policy (check.h, convert.h).
 */
#ifndef VMS_ARMCPU_H
#define VMS_ARMCPU_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct vms_stream;
struct vms_section;

/* Bytes before (env.regs .. env.sp_el: 568) and after (exclusive_addr ..
 * power_state: 65) the cpreg list, from formats/cpu-layouts.tsv, the one
 * definition of the body layout, which the codec follows. */
size_t vms_armcpu_head_len(void);
size_t vms_armcpu_tail_len(void);
#define VMS_ARMCPU_HEAD_LEN (vms_armcpu_head_len())
#define VMS_ARMCPU_TAIL_LEN (vms_armcpu_tail_len())
/* 1 if every fixed row of cpu@v22 and cpu@v23 in the table has its place
 * in struct vms_armcpu and both layouts agree around the cpreg list. */
int vms_armcpu_layout_ok(void);

struct vms_armcpu {
    uint32_t instance_id;
    uint32_t section_version;      /* from the section header */
    int layout;                    /* 22 or 23 */

    uint32_t regs[16];
    uint64_t xregs[32];
    uint64_t pc;
    uint32_t cpsr;
    uint32_t spsr;
    uint64_t banked_spsr[8];
    uint32_t banked_r13[8];
    uint32_t banked_r14[8];
    uint32_t usr_regs[5];
    uint32_t fiq_regs[5];
    uint64_t elr_el[4];
    uint64_t sp_el[4];

    int32_t n;                     /* cpreg_vmstate_array_len */
    int32_t m;                     /* v23 value_array_len (v22: = n) */
    uint64_t *ids;                 /* n */
    uint64_t *values;              /* m */
    uint32_t *value_idx;           /* n, v23 only (NULL for v22) */

    uint64_t exclusive_addr, exclusive_val, exclusive_high;
    uint8_t unused[8];
    uint32_t syndrome, fsr;
    uint64_t vaddress;
    uint64_t gt_timer[2];
    uint8_t power_state;

    uint8_t *subs;                 /* subsections, verbatim */
    size_t subs_len;

    /* decoded from subsections, where present */
    int has_vfp;
    uint64_t vfp_d[32][2];         /* Q0..Q31: [0] low, [1] high */
    uint32_t fpsid;
    uint32_t vfp_xregs[14];        /* xregs[2..15] */
    uint32_t fpscr;
    int has_sve;
    uint64_t sve_z_hi[32][14];     /* Zn bits 2047..128: d[2..15] */
    uint64_t sve_p[17][4];         /* P0..P15, FFR */
    int has_irq_line_state;
    uint32_t irq_line_state;
    char **sub_names;
    size_t n_subs;

    /* stream offsets, for findings */
    uint64_t body_offset;
    uint64_t n_offset;
    uint64_t m_offset;
    uint64_t ids_offset;
    uint64_t values_offset;
    uint64_t vidx_offset;
    uint64_t tail_offset;
    uint64_t subs_offset;
    uint64_t end_offset;
};

void vms_armcpu_fini(struct vms_armcpu *c);
/*
 * Decode body[0..len) in the given layout (22 or 23), reading the counts
 * from the bytes as QEMU does.  Fails (error latched) if the bytes do not
 * fit that layout exactly up to len.
 */
int vms_armcpu_decode(const uint8_t *body, size_t len, uint64_t body_off,
                      int layout, struct vms_armcpu *c,
                      struct vms_error *err);
/* The layout of a parsed cpu section: from its vmdesc or builtin layout,
 * else by trying both on the bytes.  Returns 22, 23, or -1. */
int vms_armcpu_layout_of(const struct vms_section *s);
/* Decode the cpu section s of a parsed stream. */
int vms_armcpu_from_section(const struct vms_section *s,
                            struct vms_armcpu *c, struct vms_error *err);
/* Encode c's body in layout 22 or 23 (malloc'd). v22 needs one slot per
 * register (value_idx the identity and m == n). */
uint8_t *vms_armcpu_encode(const struct vms_armcpu *c, int layout,
                           size_t *len, struct vms_error *err);

/* Architectural views. */
int vms_armcpu_is_aarch64(const struct vms_armcpu *c);
unsigned vms_armcpu_el(const struct vms_armcpu *c);
uint64_t vms_armcpu_pc(const struct vms_armcpu *c);
/* "EL1h", "EL0t"; AArch32: "svc", "usr", ... */
const char *vms_armcpu_mode_name(const struct vms_armcpu *c);
/* banked_spsr[] index -> "SPSR_EL1" (AArch64) or "SPSR_svc" (AArch32). */
const char *vms_armcpu_spsr_bank_name(unsigned bank, int aarch64);
/* AArch32 mode name for a bank index: usr svc abt und irq fiq hyp mon. */
const char *vms_armcpu_bank_mode(unsigned bank);
/* First value slot of register i (v22: i; v23: its value index). */
uint32_t vms_armcpu_slot(const struct vms_armcpu *c, int32_t i);
/* Its first 8-byte value, or 0 when the slot lies outside the values. */
uint64_t vms_armcpu_value(const struct vms_armcpu *c, int32_t i);
/* Slot count of register i: v22 1; v23 from value indexes (-1: bad). */
int64_t vms_armcpu_slots(const struct vms_armcpu *c, int32_t i);

#endif
