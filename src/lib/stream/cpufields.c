/*
 * cpufields.c - the registers of a vCPU that is not Arm, as its vmdesc
 * names them: every integer field of the section (main body, members of
 * struct fields such as x86's env.segs[i], and subsections), one value
 * per element.  x86's env.regs get their architectural names.
 */
#include "config.h"
#include "cpuarch.h"

#include <stdio.h>
#include <string.h>

struct cf {
    const struct vms_cpu_kind *kind;
    vms_cpu_field_fn fn;
    void *opaque;
    char prefix[8][96];     /* struct element / subsection names */
    int top;
    int stop;
};

static int int_type(const char *t)
{
    return strncmp(t, "int", 3) == 0 || strncmp(t, "uint", 4) == 0 ||
           strcmp(t, "bool") == 0;
}

static const char *x86_gpr(const struct vms_cpu_kind *k, uint32_t i)
{
    static const char *const r64[] = {
        "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
        "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
    };
    static const char *const r32[] = {
        "EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI",
    };

    if (strcmp(k->name, "x86_64") == 0 && i < 16) {
        return r64[i];
    }
    if (strcmp(k->name, "i386") == 0 && i < 8) {
        return r32[i];
    }
    return NULL;
}

static const char *group_of(const char *name, int in_sub)
{
    if (in_sub) {
        return "sub";
    }
    if (strcmp(name, "env.regs") == 0 || strcmp(name, "env.eip") == 0 ||
        strcmp(name, "env.eflags") == 0) {
        return "core";
    }
    if (strncmp(name, "env.cr", 6) == 0) {
        return "ctrl";
    }
    if (strncmp(name, "env.segs", 8) == 0 ||
        strncmp(name, "env.ldt", 7) == 0 || strncmp(name, "env.tr", 6) == 0 ||
        strncmp(name, "env.gdt", 7) == 0 || strncmp(name, "env.idt", 7) == 0) {
        return "seg";
    }
    return "field";
}

static int on_field(void *opaque, const struct vms_walk_field *f)
{
    struct cf *c = opaque;
    const char *pre = c->top > 0 ? c->prefix[c->top - 1] : "";
    uint32_t i, k;

    if (f->field->sub || !int_type(f->field->type) || f->elem_size == 0 ||
        f->elem_size > 8 || c->stop) {
        return 0;
    }
    for (i = 0; i < f->count; i++) {
        char name[160];
        const char *arch = NULL;
        uint64_t v = 0;
        int in_sub = c->top > 0 && strchr(pre, '/') != NULL;
        int arr = f->count > 1 || f->field->count_from >= 0;

        for (k = 0; k < f->elem_size; k++) {
            v = (v << 8) | f->data[(size_t)i * f->elem_size + k];
        }
        if (c->top == 0 && strcmp(f->field->name, "env.regs") == 0) {
            arch = x86_gpr(c->kind, i);
        }
        if (arch) {
            snprintf(name, sizeof(name), "%s", arch);
        } else if (f->field->has_index) {
            snprintf(name, sizeof(name), "%s%s%s[%u]", pre, *pre ? "." : "",
                     f->field->name, f->field->index);
        } else if (arr) {
            snprintf(name, sizeof(name), "%s%s%s[%u]", pre, *pre ? "." : "",
                     f->field->name, i);
        } else {
            snprintf(name, sizeof(name), "%s%s%s", pre, *pre ? "." : "",
                     f->field->name);
        }
        if (c->fn(c->opaque, arch ? "core" : group_of(name, in_sub), name,
                  f->elem_size, v) < 0) {
            c->stop = 1;
            return -1;
        }
    }
    return 0;
}

static int push(struct cf *c, const char *fmt_name, const char *sep,
                const char *name, int has_idx, uint32_t idx)
{
    const char *pre = c->top > 0 ? c->prefix[c->top - 1] : "";

    if (c->top >= 8) {
        return 0;           /* deeper levels keep the last prefix */
    }
    if (has_idx) {
        snprintf(c->prefix[c->top], sizeof(c->prefix[0]), "%s%s%s[%u]", pre,
                 *pre ? sep : "", name, idx);
    } else {
        snprintf(c->prefix[c->top], sizeof(c->prefix[0]), "%s%s%s", pre,
                 *pre ? sep : "", name);
    }
    (void)fmt_name;
    c->top++;
    return 0;
}

static int on_sub(void *opaque, const struct vms_walk_sub *s)
{
    struct cf *c = opaque;

    return push(c, NULL, ".", s->name, 0, 0);
}

static int on_sub_end(void *opaque, const struct vms_walk_sub *s)
{
    struct cf *c = opaque;

    (void)s;
    if (c->top > 0) {
        c->top--;
    }
    return 0;
}

static int on_struct(void *opaque, const struct vms_walk_field *f,
                     uint32_t k)
{
    struct cf *c = opaque;
    int idx = f->count > 1 || f->field->has_index;

    return push(c, NULL, ".", f->field->name, idx,
                f->field->has_index ? f->field->index : k);
}

static int on_struct_end(void *opaque, const struct vms_walk_field *f,
                         uint32_t k)
{
    struct cf *c = opaque;

    (void)f;
    (void)k;
    if (c->top > 0) {
        c->top--;
    }
    return 0;
}

int vms_cpu_fields(const struct vms_stream *st, const struct vms_section *s,
                   vms_cpu_field_fn fn, void *opaque, struct vms_error *err)
{
    static const struct vms_walk_ops ops = {
        .field = on_field,
        .subsection = on_sub,
        .subsection_end = on_sub_end,
        .struct_begin = on_struct,
        .struct_end = on_struct_end,
    };
    struct vms_cpu_kind kind = vms_section_cpu_kind(st, s);
    struct cf c;
    size_t used;

    memset(&c, 0, sizeof(c));
    c.kind = &kind;
    c.fn = fn;
    c.opaque = opaque;
    if (!s->layout || s->delim != VMS_DELIM_VMDESC) {
        vms_error_set(err, VMS_E_UNSUPPORTED, s->offset,
                      "vCPU %u is an %s vCPU (%s) and the stream has "
                      "no vmdesc to name its fields: vmstream decodes Arm "
                      "vCPUs only without one (--vmdesc-from a stream saved "
                      "by the same QEMU and command line gives the names)",
                      s->instance_id, kind.name, kind.why);
        return -1;
    }
    if (vms_walk(s->layout, vms_section_body(s), (size_t)s->body_len,
                 s->body_offset, 0, &ops, &c, &used, err) < 0) {
        vms_error_section(err, s->idstr, s->section_id, s->instance_id);
        return -1;
    }
    return 0;
}
