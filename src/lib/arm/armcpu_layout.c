#include "config.h"
#include "armcpu_impl.h"

#include <stddef.h>
#include <string.h>

#include "layout_table.h"
#include "wire.h"

/*
 * The fixed fields around the cpreg list, as formats/cpu-layouts.tsv
 * describes the cpu@v22 / cpu@v23 bodies (the one definition of the
 * layout, compiled into gen/cpu_layouts.c): each row names a field, its
 * element size and count; this table says where the model keeps it.
 */
static const struct vms_armcpu_binding {
    const char *field;
    size_t off;             /* in struct vms_armcpu */
    unsigned size;          /* bytes of one element, as on the wire */
    int raw;                /* bytes kept verbatim (unused_buffer) */
} bindings[] = {
    { "env.regs", offsetof(struct vms_armcpu, regs), 4, 0 },
    { "env.xregs", offsetof(struct vms_armcpu, xregs), 8, 0 },
    { "env.pc", offsetof(struct vms_armcpu, pc), 8, 0 },
    { "cpsr", offsetof(struct vms_armcpu, cpsr), 4, 0 },
    { "env.spsr", offsetof(struct vms_armcpu, spsr), 4, 0 },
    { "env.banked_spsr", offsetof(struct vms_armcpu, banked_spsr), 8, 0 },
    { "env.banked_r13", offsetof(struct vms_armcpu, banked_r13), 4, 0 },
    { "env.banked_r14", offsetof(struct vms_armcpu, banked_r14), 4, 0 },
    { "env.usr_regs", offsetof(struct vms_armcpu, usr_regs), 4, 0 },
    { "env.fiq_regs", offsetof(struct vms_armcpu, fiq_regs), 4, 0 },
    { "env.elr_el", offsetof(struct vms_armcpu, elr_el), 8, 0 },
    { "env.sp_el", offsetof(struct vms_armcpu, sp_el), 8, 0 },
    { "env.exclusive_addr", offsetof(struct vms_armcpu, exclusive_addr), 8,
      0 },
    { "env.exclusive_val", offsetof(struct vms_armcpu, exclusive_val), 8, 0 },
    { "env.exclusive_high", offsetof(struct vms_armcpu, exclusive_high), 8,
      0 },
    { "unused", offsetof(struct vms_armcpu, unused), 8, 1 },
    { "env.exception.syndrome", offsetof(struct vms_armcpu, syndrome), 4, 0 },
    { "env.exception.fsr", offsetof(struct vms_armcpu, fsr), 4, 0 },
    { "env.exception.vaddress", offsetof(struct vms_armcpu, vaddress), 8,
      0 },
    { "gt_timer[0]", offsetof(struct vms_armcpu, gt_timer), 8, 0 },
    { "gt_timer[1]", offsetof(struct vms_armcpu, gt_timer) + 8, 8, 0 },
    { "power_state", offsetof(struct vms_armcpu, power_state), 1, 0 },
};

#define N_BINDINGS (sizeof(bindings) / sizeof(bindings[0]))

/* The fixed fields before (head) and after (tail) the cpreg list. */
static struct vms_armcpu_fixed codecs[2];   /* [0] v22, [1] v23 */

static const struct vms_armcpu_binding *binding_for(const char *field)
{
    size_t k;

    for (k = 0; k < N_BINDINGS; k++) {
        if (strcmp(bindings[k].field, field) == 0) {
            return &bindings[k];
        }
    }
    return NULL;
}

/* Build the codec of cpu@vNN from the table; -1 if a row has no place in
 * the model (a bad formats/cpu-layouts.tsv; test_armcpu checks it). */
static int build_codec(struct vms_armcpu_fixed *k, const char *vmsd)
{
    unsigned i;
    int after = 0, any = 0;

    memset(k, 0, sizeof(*k));
    for (i = 0; i < vms_layout_nrows; i++) {
        const struct vms_layout_row *row = &vms_layout_rows[i];
        const struct vms_armcpu_binding *b;
        struct vms_armcpu_field *f;

        if (strcmp(row->vmsd, vmsd) != 0) {
            continue;
        }
        any = 1;
        if (strncmp(row->field, "cpreg_vmstate_", 14) == 0) {
            after = 1;
            continue;
        }
        b = binding_for(row->field);
        if (!b || row->size != b->size || row->count_from ||
            (after ? k->n_tail : k->n_head) == VMS_ARMCPU_MAX_FIXED ||
            (b->raw ? row->count != 1
                    : (size_t)row->count * b->size >
                          sizeof(struct vms_armcpu) - b->off)) {
            return -1;
        }
        f = after ? &k->tail[k->n_tail++] : &k->head[k->n_head++];
        f->b = b;
        f->count = row->count;
        if (after) {
            k->tail_len += (size_t)row->count * row->size;
        } else {
            k->head_len += (size_t)row->count * row->size;
        }
    }
    return any && after ? 0 : -1;
}

const struct vms_armcpu_fixed *vms_armcpu_fixed(int layout)
{
    struct vms_armcpu_fixed *k = &codecs[layout == 23];

    if (!k->ready) {
        k->ready = build_codec(k, layout == 23 ? "cpu@v23" : "cpu@v22") == 0
                       ? 1 : -1;
    }
    return k->ready == 1 ? k : NULL;
}

size_t vms_armcpu_head_len(void)
{
    const struct vms_armcpu_fixed *k = vms_armcpu_fixed(22);

    return k ? k->head_len : 0;
}

size_t vms_armcpu_tail_len(void)
{
    const struct vms_armcpu_fixed *k = vms_armcpu_fixed(22);

    return k ? k->tail_len : 0;
}

int vms_armcpu_layout_ok(void)
{
    const struct vms_armcpu_fixed *a = vms_armcpu_fixed(22), *b = vms_armcpu_fixed(23);

    return a && b && a->head_len == b->head_len &&
           a->tail_len == b->tail_len;
}

void vms_armcpu_fixed_decode(const struct vms_armcpu_fixed *k, int tail,
                             const uint8_t *src, struct vms_armcpu *c)
{
    const struct vms_armcpu_field *f = tail ? k->tail : k->head;
    size_t i, n = tail ? k->n_tail : k->n_head;
    uint32_t e;

    for (i = 0; i < n; i++) {
        uint8_t *dst = (uint8_t *)c + f[i].b->off;

        for (e = 0; e < f[i].count; e++) {

            if (f[i].b->raw || f[i].b->size == 1) {
                memcpy(dst, src, f[i].b->size);
            } else if (f[i].b->size == 4) {
                uint32_t v = vms_get_be32(src);

                memcpy(dst, &v, 4);
            } else {
                uint64_t v = vms_get_be64(src);

                memcpy(dst, &v, 8);
            }
            dst += f[i].b->size;
            src += f[i].b->size;
        }
    }
}

uint8_t *vms_armcpu_fixed_encode(const struct vms_armcpu_fixed *k, int tail,
                                 uint8_t *p, const struct vms_armcpu *c)
{
    const struct vms_armcpu_field *f = tail ? k->tail : k->head;
    size_t i, n = tail ? k->n_tail : k->n_head;
    uint32_t e;

    for (i = 0; i < n; i++) {
        const uint8_t *src = (const uint8_t *)c + f[i].b->off;

        for (e = 0; e < f[i].count; e++) {
            if (f[i].b->raw || f[i].b->size == 1) {
                memcpy(p, src, f[i].b->size);
            } else if (f[i].b->size == 4) {
                uint32_t v;

                memcpy(&v, src, 4);
                vms_put_be32(p, v);
            } else {
                uint64_t v;

                memcpy(&v, src, 8);
                vms_put_be64(p, v);
            }
            src += f[i].b->size;
            p += f[i].b->size;
        }
    }
    return p;
}

