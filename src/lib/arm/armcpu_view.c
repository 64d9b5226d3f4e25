/* armcpu_view.c - architectural views of a decoded vCPU (armcpu.h):
 * AArch64 or AArch32, exception level, PC, mode and banked names. */
#include "config.h"
#include "armcpu.h"

int vms_armcpu_is_aarch64(const struct vms_armcpu *c)
{
    return !(c->cpsr & 0x10);
}

unsigned vms_armcpu_el(const struct vms_armcpu *c)
{
    if (vms_armcpu_is_aarch64(c)) {
        return (c->cpsr >> 2) & 3;
    }
    switch (c->cpsr & 0x1f) {
    case 0x10:
        return 0;
    case 0x1a:
        return 2;
    case 0x16:
        return 3;
    }
    return 1;
}

uint64_t vms_armcpu_pc(const struct vms_armcpu *c)
{
    return vms_armcpu_is_aarch64(c) ? c->pc : c->regs[15];
}

const char *vms_armcpu_mode_name(const struct vms_armcpu *c)
{
    static const char *const aa64[] = { "EL0t", "?", "?", "?",
                                        "EL1t", "EL1h", "?", "?",
                                        "EL2t", "EL2h", "?", "?",
                                        "EL3t", "EL3h", "?", "?" };

    if (vms_armcpu_is_aarch64(c)) {
        return aa64[c->cpsr & 0xf];
    }
    switch (c->cpsr & 0x1f) {
    case 0x10: return "usr";
    case 0x11: return "fiq";
    case 0x12: return "irq";
    case 0x13: return "svc";
    case 0x16: return "mon";
    case 0x17: return "abt";
    case 0x1a: return "hyp";
    case 0x1b: return "und";
    case 0x1f: return "sys";
    }
    return "?";
}

const char *vms_armcpu_bank_mode(unsigned bank)
{
    static const char *const m[] = { "usr", "svc", "abt", "und",
                                     "irq", "fiq", "hyp", "mon" };

    return bank < 8 ? m[bank] : "?";
}

const char *vms_armcpu_spsr_bank_name(unsigned bank, int aarch64)
{
    static const char *const a32[] = { "SPSR_usr(unused)", "SPSR_svc",
                                       "SPSR_abt", "SPSR_und", "SPSR_irq",
                                       "SPSR_fiq", "SPSR_hyp", "SPSR_mon" };
    static const char *const a64[] = { "SPSR_bank0(unused)", "SPSR_EL1",
                                       "SPSR_abt", "SPSR_und", "SPSR_irq",
                                       "SPSR_fiq", "SPSR_EL2", "SPSR_EL3" };

    if (bank >= 8) {
        return "?";
    }
    return aarch64 ? a64[bank] : a32[bank];
}
