#include "config.h"
#include "diff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layout.h"
#include "stream.h"

#define CHUNK (1024u * 1024u)
#define MAX_SHOWN 4096u            /* bytes of a value kept for display */

struct kv {
    char *name;
    char *value;
};

struct flat {
    struct kv *v;
    size_t n, cap;
    char prefix[512];              /* "sub/sub2/" */
    size_t plen[32];
    int depth;
    int failed;
};

static int is_int_type(const char *t, uint32_t size)
{
    static const char *const ints[] = {
        "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
        "uint64", "int32 le", "int32 equal", "uint32 equal", "uint8 equal",
        "uint16 equal", "int64 equal", "timer", "cpsr", "fpscr", "fpcr",
        "fpsr", "pstate64", "powered_off", "bool", "uint64 equal", NULL,
    };
    int i;

    for (i = 0; ints[i]; i++) {
        if (strcmp(t, ints[i]) == 0) {
            return size == 1 || size == 2 || size == 4 || size == 8;
        }
    }
    return 0;
}

static char *format_value(const struct vms_walk_field *f)
{
    size_t n = (size_t)f->count * f->elem_size, i, used = 0, cap;
    int integer = is_int_type(f->field->type, f->elem_size) &&
                  !f->field->sub;
    char *s;

    if (integer) {
        cap = (size_t)f->count * 20 + 1;
    } else {
        cap = 2 * (n < MAX_SHOWN ? n : MAX_SHOWN) + 32;
    }
    s = malloc(cap);
    if (!s) {
        return NULL;
    }
    s[0] = '\0';
    if (integer) {
        for (i = 0; i < f->count; i++) {
            const uint8_t *p = f->data + i * f->elem_size;
            uint64_t v = 0;
            uint32_t k;

            for (k = 0; k < f->elem_size; k++) {
                v = (v << 8) | p[k];
            }
            used += (size_t)snprintf(s + used, cap - used, "%s0x%llx",
                                     i ? " " : "", (unsigned long long)v);
        }
        return s;
    }
    for (i = 0; i < n && i < MAX_SHOWN; i++) {
        used += (size_t)snprintf(s + used, cap - used, "%02x", f->data[i]);
    }
    if (n > MAX_SHOWN) {
        snprintf(s + used, cap - used, "... (%zu bytes)", n);
    }
    return s;
}

static int add(struct flat *fl, char *name, char *value)
{
    if (!name || !value) {
        free(name);
        free(value);
        fl->failed = 1;
        return -1;
    }
    if (fl->n == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 64;
        struct kv *nv = realloc(fl->v, cap * sizeof(*nv));

        if (!nv) {
            free(name);
            free(value);
            fl->failed = 1;
            return -1;
        }
        fl->v = nv;
        fl->cap = cap;
    }
    fl->v[fl->n].name = name;
    fl->v[fl->n].value = value;
    fl->n++;
    return 0;
}

static int on_field(void *opaque, const struct vms_walk_field *f)
{
    struct flat *fl = opaque;
    char name[768];
    size_t i, dup = 0;

    if (f->field->sub) {
        return 0;       /* a struct: its members are compared one by one */
    }

    if (f->field->has_index) {
        snprintf(name, sizeof(name), "%s%s[%u]", fl->prefix, f->field->name,
                 f->field->index);
    } else {
        snprintf(name, sizeof(name), "%s%s", fl->prefix, f->field->name);
    }
    /* a name that repeats (same field twice) gets "#2", "#3" */
    for (i = 0; i < fl->n; i++) {
        if (strncmp(fl->v[i].name, name, strlen(name)) == 0 &&
            (fl->v[i].name[strlen(name)] == '\0' ||
             fl->v[i].name[strlen(name)] == '#')) {
            dup++;
        }
    }
    if (dup) {
        size_t l = strlen(name);

        snprintf(name + l, sizeof(name) - l, "#%zu", dup + 1);
    }
    return add(fl, strdup(name), format_value(f));
}

static int on_sub(void *opaque, const struct vms_walk_sub *s)
{
    struct flat *fl = opaque;
    size_t l = strlen(fl->prefix);

    if (fl->depth >= 31) {
        return -1;
    }
    fl->plen[fl->depth++] = l;
    snprintf(fl->prefix + l, sizeof(fl->prefix) - l, "%s/", s->name);
    return 0;
}

static int on_sub_end(void *opaque, const struct vms_walk_sub *s)
{
    struct flat *fl = opaque;

    if (fl->depth > 0) {
        fl->prefix[fl->plen[--fl->depth]] = '\0';
    }
    return 0;
}

/* Members of a struct field are named STRUCT[i].MEMBER (STRUCT.MEMBER for
 * a single element), as analyze-migration.py nests them. */
static int on_struct(void *opaque, const struct vms_walk_field *f,
                     uint32_t k)
{
    struct flat *fl = opaque;
    size_t l = strlen(fl->prefix);

    if (fl->depth >= 31) {
        return -1;
    }
    fl->plen[fl->depth++] = l;
    if (f->count > 1) {
        snprintf(fl->prefix + l, sizeof(fl->prefix) - l, "%s[%u].",
                 f->field->name, k);
    } else if (f->field->has_index) {
        snprintf(fl->prefix + l, sizeof(fl->prefix) - l, "%s[%u].",
                 f->field->name, f->field->index);
    } else {
        snprintf(fl->prefix + l, sizeof(fl->prefix) - l, "%s.",
                 f->field->name);
    }
    return 0;
}

static int on_struct_end(void *opaque, const struct vms_walk_field *f,
                         uint32_t k)
{
    (void)f;
    (void)k;
    return on_sub_end(opaque, NULL);
}

static void flat_fini(struct flat *fl)
{
    size_t i;

    for (i = 0; i < fl->n; i++) {
        free(fl->v[i].name);
        free(fl->v[i].value);
    }
    free(fl->v);
}

static int flatten(const struct vms_section *s, struct flat *fl,
                   struct vms_error *err)
{
    static const struct vms_walk_ops ops = {
        .field = on_field,
        .subsection = on_sub,
        .subsection_end = on_sub_end,
        .struct_begin = on_struct,
        .struct_end = on_struct_end,
    };
    size_t used;

    memset(fl, 0, sizeof(*fl));
    if (vms_walk(s->layout, vms_section_body(s), (size_t)s->body_len,
                 s->body_offset, s->delim == VMS_DELIM_BUILTIN, &ops, fl,
                 &used, err) < 0) {
        vms_error_section(err, s->idstr, s->section_id, s->instance_id);
        return -1;
    }
    if (fl->failed) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}

static const char *lookup(const struct flat *fl, const char *name)
{
    size_t i;

    for (i = 0; i < fl->n; i++) {
        if (strcmp(fl->v[i].name, name) == 0) {
            return fl->v[i].value;
        }
    }
    return NULL;
}

int vms_diff_section(const struct vms_section *a, const struct vms_section *b,
                     vms_diff_field_fn fn, void *opaque, size_t *n,
                     struct vms_error *err)
{
    struct flat fa, fb;
    size_t i;
    int rc = 0;

    *n = 0;
    if (a->body_len == b->body_len &&
        memcmp(vms_section_body(a), vms_section_body(b),
               (size_t)a->body_len) == 0) {
        return 0;
    }
    if (!a->layout || !b->layout) {
        (*n)++;
        return fn(opaque, "(raw bytes)", "differ", "differ");
    }
    if (flatten(a, &fa, err) < 0) {
        flat_fini(&fa);
        return -1;
    }
    if (flatten(b, &fb, err) < 0) {
        flat_fini(&fa);
        flat_fini(&fb);
        return -1;
    }
    for (i = 0; i < fa.n && rc == 0; i++) {
        const char *vb = lookup(&fb, fa.v[i].name);

        if (!vb || strcmp(vb, fa.v[i].value) != 0) {
            (*n)++;
            rc = fn(opaque, fa.v[i].name, fa.v[i].value, vb);
        }
    }
    for (i = 0; i < fb.n && rc == 0; i++) {
        if (!lookup(&fa, fb.v[i].name)) {
            (*n)++;
            rc = fn(opaque, fb.v[i].name, NULL, fb.v[i].value);
        }
    }
    flat_fini(&fa);
    flat_fini(&fb);
    return rc;
}

static int read_at(int fd, uint8_t *buf, size_t len, uint64_t off,
                   struct vms_error *err)
{
    size_t got = 0;

    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + got));

        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            vms_error_set_errno(err, errno, "cannot read extracted RAM");
            return -1;
        }
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    memset(buf + got, 0, len - got);
    return 0;
}

int vms_diff_ram(int fd_a, int fd_b, uint64_t size, uint32_t page_size,
                 vms_diff_page_fn fn, void *opaque, uint64_t *n,
                 struct vms_error *err)
{
    uint8_t *x = malloc(CHUNK), *y = malloc(CHUNK);
    uint64_t off;
    int rc = 0;

    *n = 0;
    if (!x || !y || page_size == 0 || CHUNK % page_size) {
        free(x);
        free(y);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    for (off = 0; off < size && rc == 0; off += CHUNK) {
        size_t len = size - off < CHUNK ? (size_t)(size - off) : CHUNK, p;

        if (read_at(fd_a, x, len, off, err) < 0 ||
            read_at(fd_b, y, len, off, err) < 0) {
            rc = -1;
            break;
        }
        if (memcmp(x, y, len) == 0) {
            continue;
        }
        for (p = 0; p < len && rc == 0; p += page_size) {
            size_t l = len - p < page_size ? len - p : page_size;

            if (memcmp(x + p, y + p, l) != 0) {
                (*n)++;
                if (fn) {
                    rc = fn(opaque, off + p);
                }
            }
        }
    }
    free(x);
    free(y);
    return rc;
}
