#include "config.h"
#include "vmdesc_json.h"

#include <ctype.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* ---------------------------------------------------------------------- */
/* Parsing                                                                */
/* ---------------------------------------------------------------------- */

struct json_object *vms_json_parse(const char *text, size_t len,
                                   size_t max_len, uint64_t stream_offset,
                                   struct vms_error *err)
{
    return vms_json_parse_ex(text, len, max_len, VMS_JSON_MAX_DEPTH,
                             stream_offset, err);
}

struct json_object *vms_json_parse_ex(const char *text, size_t len,
                                      size_t max_len, int max_depth,
                                      uint64_t stream_offset,
                                      struct vms_error *err)
{
    struct json_tokener *tok;
    struct json_object *root;
    enum json_tokener_error jerr;
    const char *nul;
    size_t end;

    if (len > max_len) {
        vms_error_set(err, VMS_E_LIMIT, stream_offset,
                      "vmdesc JSON is %zu bytes (limit %zu)", len, max_len);
        return NULL;
    }
    if (len > (size_t)INT_MAX - 1) {
        /* json_tokener_parse_ex() takes an int length */
        vms_error_set(err, VMS_E_LIMIT, stream_offset,
                      "vmdesc JSON is %zu bytes (limit %d)", len,
                      INT_MAX - 1);
        return NULL;
    }
    if (max_depth < 1) {
        vms_error_set_nooff(err, VMS_E_USAGE,
                            "bad JSON nesting limit %d", max_depth);
        return NULL;
    }
    if (len == 0) {
        vms_error_set(err, VMS_E_TRUNCATED, stream_offset,
                      "vmdesc JSON is empty");
        return NULL;
    }
    /* QEMU cannot write a NUL; json-c would take it for the end. */
    nul = memchr(text, 0, len);
    if (nul) {
        vms_error_set(err, VMS_E_FORMAT,
                      stream_offset + (uint64_t)(nul - text),
                      "NUL byte inside the vmdesc JSON");
        return NULL;
    }

    tok = json_tokener_new_ex(max_depth);
    if (!tok) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
                                JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);

    if (!root) {
        if (jerr == json_tokener_continue) {
            size_t i = 0;

            while (i < len && (text[i] == ' ' || text[i] == '\t' ||
                               text[i] == '\n' || text[i] == '\r')) {
                i++;
            }
            if (i < len && text[i] != '{') {
                vms_error_set(err, VMS_E_FORMAT, stream_offset,
                              "vmdesc JSON is not an object");
            } else {
                vms_error_set(err, VMS_E_TRUNCATED, stream_offset + len,
                              "vmdesc JSON ends inside a value "
                              "(truncated)");
            }
        } else if (jerr == json_tokener_error_depth) {
            /* end is the first byte of the value that went too deep */
            vms_error_set(err, VMS_E_LIMIT, stream_offset + end,
                          "vmdesc JSON nests values deeper than %d "
                          "levels",
                          max_depth);
        } else if (jerr == json_tokener_success) {
            /* a top-level "null" */
            vms_error_set(err, VMS_E_FORMAT, stream_offset,
                          "vmdesc JSON is not an object");
        } else {
            vms_error_set(err, VMS_E_FORMAT, stream_offset + end,
                          "bad vmdesc JSON: %s",
                          json_tokener_error_desc(jerr));
        }
        return NULL;
    }
    if (end < len) {
        /* only reachable if json-c stops early without an error */
        vms_error_set(err, VMS_E_FORMAT, stream_offset + end,
                      "%zu trailing bytes after the vmdesc JSON",
                      len - end);
        json_object_put(root);
        return NULL;
    }
    if (!json_object_is_type(root, json_type_object)) {
        vms_error_set(err, VMS_E_FORMAT, stream_offset,
                      "vmdesc JSON is not an object");
        json_object_put(root);
        return NULL;
    }
    return root;
}

/* ---------------------------------------------------------------------- */
/* QEMU-format serialising                                                */
/* ---------------------------------------------------------------------- */

struct obuf {
    char *p;
    size_t len;
    size_t cap;
    int oom;
};

static int obuf_reserve(struct obuf *b, size_t more)
{
    size_t cap;
    char *p;

    if (b->oom) {
        return -1;
    }
    if (more < b->cap - b->len) {
        return 0;   /* strictly less: keeps room for the final NUL */
    }
    cap = b->cap ? b->cap : 4096;
    while (cap - b->len <= more) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void obuf_put(struct obuf *b, const char *s, size_t n)
{
    if (obuf_reserve(b, n) == 0) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    }
}

static void obuf_puts(struct obuf *b, const char *s)
{
    obuf_put(b, s, strlen(s));
}

static void obuf_putc(struct obuf *b, char c)
{
    obuf_put(b, &c, 1);
}

/*
 * QEMU's mod_utf8_codepoint() (util/unicode.c) on a counted buffer: bytes
 * past the end read as NUL, as the C string's terminator would.  Returns the
 * code point or -1 for an invalid sequence; *used is the number of bytes
 * QEMU would step over (>= 1).  Modified UTF-8: "\xC0\x80" is U+0000.
 */
static int mod_utf8_cp(const unsigned char *s, size_t avail, size_t *used)
{
    static const int min_cp[5] = { 0x80, 0x800, 0x10000, 0x200000,
                                   0x4000000 };
    unsigned byte = s[0], mask, len, i;
    int cp;

    *used = 1;
    if (byte < 0x80) {
        return (int)byte;
    }
    if (byte >= 0xFE || (byte & 0x40) == 0) {
        return -1;      /* impossible byte or stray continuation byte */
    }
    len = 0;
    for (mask = 0x80; byte & mask; mask >>= 1) {
        len++;
    }
    cp = (int)(byte & (mask - 1));
    for (i = 1; i < len; i++) {
        unsigned c = i < avail ? s[i] : 0;

        if ((c & 0xC0) != 0x80) {
            *used = i;
            return -1;  /* continuation byte missing */
        }
        cp = (cp << 6) | (int)(c & 0x3F);
    }
    *used = len;
    if (cp > 0x10FFFF) {
        return -1;
    }
    if ((cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE) {
        return -1;      /* noncharacter */
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
        return -1;      /* surrogate */
    }
    if (cp < min_cp[len - 2] && !(cp == 0 && len == 2)) {
        return -1;      /* overlong, other than \xC0\x80 */
    }
    return cp;
}

/*
 * 7.2 qobject/json-writer.c quoted_str(): the two-character escapes for
 * " \ \b \f \n \r \t, "\uXXXX" (upper-case hex) for every other code point
 * below 0x20 or from 0x7F up, a surrogate pair beyond the BMP, U+FFFD for
 * each invalid sequence; '/' is not escaped.  A NUL byte (json-c keeps
 * "\u0000" as one) is written as \u0000, which is what QEMU writes for the
 * "\xC0\x80" that must have produced it.
 */
static void put_quoted(struct obuf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, used;
    char tmp[16];
    int cp;

    obuf_putc(b, '"');
    while (i < n) {
        cp = mod_utf8_cp(s + i, n - i, &used);
        i += used;
        switch (cp) {
        case '"':
            obuf_puts(b, "\\\"");
            break;
        case '\\':
            obuf_puts(b, "\\\\");
            break;
        case '\b':
            obuf_puts(b, "\\b");
            break;
        case '\f':
            obuf_puts(b, "\\f");
            break;
        case '\n':
            obuf_puts(b, "\\n");
            break;
        case '\r':
            obuf_puts(b, "\\r");
            break;
        case '\t':
            obuf_puts(b, "\\t");
            break;
        default:
            if (cp < 0) {
                cp = 0xFFFD;
            }
            if (cp > 0xFFFF) {
                snprintf(tmp, sizeof(tmp), "\\u%04X\\u%04X",
                         (unsigned)(0xD800 + ((cp - 0x10000) >> 10)),
                         (unsigned)(0xDC00 + ((cp - 0x10000) & 0x3FF)));
                obuf_puts(b, tmp);
            } else if (cp < 0x20 || cp >= 0x7F) {
                snprintf(tmp, sizeof(tmp), "\\u%04X", (unsigned)cp);
                obuf_puts(b, tmp);
            } else {
                obuf_putc(b, (char)cp);
            }
            break;
        }
    }
    obuf_putc(b, '"');
}

static void put_int(struct obuf *b, struct json_object *o)
{
    char tmp[32];
    int64_t v = json_object_get_int64(o);

    /* json-c saturates a uint64 above INT64_MAX to INT64_MAX here */
    if (v == INT64_MAX) {
        snprintf(tmp, sizeof(tmp), "%" PRIu64, json_object_get_uint64(o));
    } else {
        snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    }
    obuf_puts(b, tmp);
}

static void put_double(struct obuf *b, double d)
{
    char tmp[64];
    size_t i;

    /* QEMU: "%.17g", meant to be in the C locale */
    snprintf(tmp, sizeof(tmp), "%.17g", d);
    for (i = 0; tmp[i]; i++) {
        if (!isalnum((unsigned char)tmp[i]) && tmp[i] != '-' &&
            tmp[i] != '+') {
            tmp[i] = '.';
        }
    }
    obuf_puts(b, tmp);
}

static void put_value(struct obuf *b, struct json_object *o)
{
    size_t i, n;
    int first;

    if (b->oom) {
        return;
    }
    switch (json_object_get_type(o)) {
    case json_type_null:
        obuf_puts(b, "null");
        break;
    case json_type_boolean:
        obuf_puts(b, json_object_get_boolean(o) ? "true" : "false");
        break;
    case json_type_int:
        put_int(b, o);
        break;
    case json_type_double:
        put_double(b, json_object_get_double(o));
        break;
    case json_type_string:
        put_quoted(b, json_object_get_string(o),
                   (size_t)json_object_get_string_len(o));
        break;
    case json_type_object:
        obuf_putc(b, '{');
        first = 1;
        json_object_object_foreach(o, key, val) {
            if (!first) {
                obuf_puts(b, ", ");
            }
            first = 0;
            put_quoted(b, key, strlen(key));
            obuf_puts(b, ": ");
            put_value(b, val);
        }
        obuf_putc(b, '}');
        break;
    case json_type_array:
        obuf_putc(b, '[');
        n = json_object_array_length(o);
        for (i = 0; i < n; i++) {
            if (i) {
                obuf_puts(b, ", ");
            }
            put_value(b, json_object_array_get_idx(o, i));
        }
        obuf_putc(b, ']');
        break;
    }
}

char *vms_json_qemu_serialise(struct json_object *root, size_t *len)
{
    struct obuf b = { NULL, 0, 0, 0 };

    put_value(&b, root);
    if (obuf_reserve(&b, 1) != 0) {
        free(b.p);
        return NULL;
    }
    b.p[b.len] = '\0';
    if (len) {
        *len = b.len;
    }
    return b.p;
}

int vms_json_text_uint(const char **p, const char *end, int max_digits,
                       uint64_t *v)
{
    const char *q = *p;
    int digits = 0;

    *v = 0;
    while (q < end && *q >= '0' && *q <= '9' && digits < max_digits) {
        *v = *v * 10 + (uint64_t)(*q++ - '0');
        digits++;
    }
    *p = q;
    return digits;
}

int vms_json_roundtrips(struct json_object *root, const char *text,
                        size_t len)
{
    size_t n;
    char *s = vms_json_qemu_serialise(root, &n);
    int same;

    if (!s) {
        return 0;
    }
    same = n == len && memcmp(s, text, len) == 0;
    free(s);
    return same;
}

/* ---------------------------------------------------------------------- */
/* Arm "cpu" entries: v22 <-> v23 cpreg fields                             */
/* ---------------------------------------------------------------------- */

#define CPREG_PREFIX "cpreg_vmstate_"

static const char f_len[] = "cpreg_vmstate_array_len";
static const char f_vlen[] = "cpreg_vmstate_value_array_len";
static const char f_idx[] = "cpreg_vmstate_indexes";
static const char f_val[] = "cpreg_vmstate_values";
static const char f_vidx[] = "cpreg_vmstate_value_indexes";

/* The cpreg block of one "cpu" device entry. */
struct cpu_block {
    struct json_object *dev;
    struct json_object *fields;
    size_t start;       /* index of cpreg_vmstate_array_len */
    size_t end;         /* one past the last cpreg field */
    int v23;
    uint32_t n;
    uint32_t m;
};

/* The string member key of o, or NULL (also if it holds a NUL byte). */
static const char *get_str(struct json_object *o, const char *key)
{
    struct json_object *v;
    const char *s;

    if (!json_object_is_type(o, json_type_object) ||
        !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string)) {
        return NULL;
    }
    s = json_object_get_string(v);
    if (strlen(s) != (size_t)json_object_get_string_len(v)) {
        return NULL;
    }
    return s;
}

/* Integer member key of o in [lo, hi]: 0 and *out, else -1. */
static int get_int(struct json_object *o, const char *key, int64_t lo,
                   int64_t hi, int64_t *out)
{
    struct json_object *v;
    int64_t x;

    if (!json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_int)) {
        return -1;
    }
    x = json_object_get_int64(v);
    if (x < lo || x > hi) {
        return -1;
    }
    *out = x;
    return 0;
}

static struct json_object *find_cpu(struct json_object *root,
                                    uint32_t instance_id,
                                    struct vms_error *err)
{
    struct json_object *devs, *found = NULL;
    size_t i, n;

    if (!json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "devices", &devs) ||
        !json_object_is_type(devs, json_type_array)) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc JSON has no \"devices\" array");
        return NULL;
    }
    n = json_object_array_length(devs);
    for (i = 0; i < n; i++) {
        struct json_object *d = json_object_array_get_idx(devs, i);
        const char *name = get_str(d, "name");
        int64_t id;

        if (!name || strcmp(name, "cpu") != 0 ||
            get_int(d, "instance_id", 0, UINT32_MAX, &id) != 0 ||
            (uint32_t)id != instance_id) {
            continue;
        }
        if (found) {
            vms_error_set_nooff(err, VMS_E_FORMAT,
                                "vmdesc lists device cpu#%u twice",
                                instance_id);
            return NULL;
        }
        found = d;
    }
    if (!found) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc has no entry for device cpu#%u",
                            instance_id);
    }
    return found;
}

/*
 * Check a compressed-array field entry as vmsd_desc_field_start/_end write
 * it: name, [array_len >= 2], type, size and nothing else.  Sets *count
 * (1 when there is no array_len).
 */
static int check_field(struct json_object *f, const char *type,
                       int64_t size, uint32_t *count, uint32_t instance_id,
                       struct vms_error *err)
{
    const char *name = get_str(f, "name");
    const char *t = get_str(f, "type");
    struct json_object *v;
    int64_t x;
    int keys = 3;

    if (!name || !t || strcmp(t, type) != 0 ||
        get_int(f, "size", size, size, &x) != 0 ||
        json_object_object_get_ex(f, "index", &v) ||
        json_object_object_get_ex(f, "struct", &v)) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc cpu#%u: field %s is not a \"%s\" "
                            "of size %" PRId64, instance_id,
                            name ? name : "?", type, size);
        return -1;
    }
    *count = 1;
    if (json_object_object_get_ex(f, "array_len", &v)) {
        if (get_int(f, "array_len", 2, INT32_MAX, &x) != 0) {
            vms_error_set_nooff(err, VMS_E_FORMAT,
                                "vmdesc cpu#%u: field %s has a bad "
                                "array_len", instance_id, name);
            return -1;
        }
        *count = (uint32_t)x;
        keys++;
    }
    if (json_object_object_length(f) != keys) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc cpu#%u: field %s has unexpected keys",
                            instance_id, name);
        return -1;
    }
    return 0;
}

/* Name of fields[i] if it is named name, else 0. */
static int field_is(struct json_object *fields, size_t i, const char *name)
{
    const char *s;

    if (i >= json_object_array_length(fields)) {
        return 0;
    }
    s = get_str(json_object_array_get_idx(fields, i), "name");
    return s && strcmp(s, name) == 0;
}

static int cpu_block_find(struct json_object *root, uint32_t instance_id,
                          struct cpu_block *cb, struct vms_error *err)
{
    const char *vmsd;
    uint32_t cnt, vals = 0, vidx = 0;
    int64_t version;
    size_t i, k, nf;

    memset(cb, 0, sizeof(*cb));
    cb->dev = find_cpu(root, instance_id, err);
    if (!cb->dev) {
        return -1;
    }
    vmsd = get_str(cb->dev, "vmsd_name");
    if (!vmsd || strcmp(vmsd, "cpu") != 0 ||
        get_int(cb->dev, "version", INT64_MIN, INT64_MAX, &version) != 0 ||
        !json_object_object_get_ex(cb->dev, "fields", &cb->fields) ||
        !json_object_is_type(cb->fields, json_type_array)) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc cpu#%u is not a vmsd \"cpu\" entry "
                            "with version and fields", instance_id);
        return -1;
    }
    nf = json_object_array_length(cb->fields);

    /* The block starts at the first cpreg_vmstate_* field. */
    for (i = 0; i < nf; i++) {
        const char *s = get_str(json_object_array_get_idx(cb->fields, i),
                                "name");

        if (s && strncmp(s, CPREG_PREFIX, strlen(CPREG_PREFIX)) == 0) {
            break;
        }
    }
    if (i == nf || !field_is(cb->fields, i, f_len)) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc cpu#%u: no %s field where the cpreg "
                            "list starts", instance_id, f_len);
        return -1;
    }
    cb->start = i;
    if (check_field(json_object_array_get_idx(cb->fields, i), "int32 le",
                    4, &cnt, instance_id, err) != 0) {
        return -1;
    }
    k = i + 1;
    if (field_is(cb->fields, k, f_vlen)) {
        cb->v23 = 1;
        if (check_field(json_object_array_get_idx(cb->fields, k),
                        "int32 le", 4, &cnt, instance_id, err) != 0) {
            return -1;
        }
        k++;
    }
    if (field_is(cb->fields, k, f_idx)) {
        if (check_field(json_object_array_get_idx(cb->fields, k),
                        "uint64", 8, &cb->n, instance_id, err) != 0) {
            return -1;
        }
        k++;
    }
    if (field_is(cb->fields, k, f_val)) {
        if (check_field(json_object_array_get_idx(cb->fields, k),
                        "uint64", 8, &vals, instance_id, err) != 0) {
            return -1;
        }
        k++;
    }
    if (cb->v23 && field_is(cb->fields, k, f_vidx)) {
        if (check_field(json_object_array_get_idx(cb->fields, k),
                        "uint32", 4, &vidx, instance_id, err) != 0) {
            return -1;
        }
        k++;
    }
    cb->end = k;
    for (i = k; i < nf; i++) {
        const char *s = get_str(json_object_array_get_idx(cb->fields, i),
                                "name");

        if (s && strncmp(s, CPREG_PREFIX, strlen(CPREG_PREFIX)) == 0) {
            vms_error_set_nooff(err, VMS_E_FORMAT,
                                "vmdesc cpu#%u: field %s out of place in "
                                "the %s cpreg layout", instance_id, s,
                                cb->v23 ? "v23" : "v22");
            return -1;
        }
    }
    if (cb->v23) {
        if (vidx != cb->n) {
            vms_error_set_nooff(err, VMS_E_FORMAT,
                                "vmdesc cpu#%u: %u indexes but %u value "
                                "indexes", instance_id, cb->n, vidx);
            return -1;
        }
        cb->m = vals;
    } else {
        if (vals != cb->n) {
            vms_error_set_nooff(err, VMS_E_FORMAT,
                                "vmdesc cpu#%u: %u indexes but %u values",
                                instance_id, cb->n, vals);
            return -1;
        }
        cb->m = cb->n;
    }
    if (version != (cb->v23 ? 23 : 22)) {
        vms_error_set_nooff(err, VMS_E_FORMAT,
                            "vmdesc cpu#%u: version %" PRId64 " with the "
                            "%s cpreg field layout", instance_id, version,
                            cb->v23 ? "v23" : "v22");
        return -1;
    }
    return 0;
}

int vms_vmdesc_cpu_get_layout(struct json_object *root, uint32_t instance_id,
                              int *v23, uint32_t *n, uint32_t *m,
                              struct vms_error *err)
{
    struct cpu_block cb;

    if (cpu_block_find(root, instance_id, &cb, err) != 0) {
        return -1;
    }
    if (v23) {
        *v23 = cb.v23;
    }
    if (n) {
        *n = cb.n;
    }
    if (m) {
        *m = cb.m;
    }
    return 0;
}

/*
 * Append the entry QEMU writes for count elements of a compressible field
 * to arr: none for 0, no "array_len" for 1.  Returns 0 or -1 (no memory).
 */
static int add_field(struct json_object *arr, const char *name,
                     uint32_t count, const char *type, int size)
{
    struct json_object *f, *v;

    if (count == 0) {
        return 0;
    }
    f = json_object_new_object();
    if (!f) {
        return -1;
    }
    if (json_object_array_add(arr, f) != 0) {
        json_object_put(f);
        return -1;
    }
    v = json_object_new_string(name);
    if (!v || json_object_object_add(f, "name", v) != 0) {
        json_object_put(v);
        return -1;
    }
    if (count > 1) {
        v = json_object_new_int64(count);
        if (!v || json_object_object_add(f, "array_len", v) != 0) {
            json_object_put(v);
            return -1;
        }
    }
    v = json_object_new_string(type);
    if (!v || json_object_object_add(f, "type", v) != 0) {
        json_object_put(v);
        return -1;
    }
    v = json_object_new_int(size);
    if (!v || json_object_object_add(f, "size", v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

/* Append a new reference to fields[i] for i in [from, to). */
static int copy_range(struct json_object *dst, struct json_object *src,
                      size_t from, size_t to)
{
    size_t i;

    for (i = from; i < to; i++) {
        struct json_object *e = json_object_array_get_idx(src, i);

        if (json_object_array_add(dst, json_object_get(e)) != 0) {
            json_object_put(e);
            return -1;
        }
    }
    return 0;
}

int vms_vmdesc_cpu_layout(struct json_object *root, uint32_t instance_id,
                          struct vms_error *err)
{
    struct cpu_block cb;

    if (cpu_block_find(root, instance_id, &cb, err) != 0) {
        return -1;
    }
    return cb.v23 ? 23 : 22;
}

int vms_vmdesc_cpu_set_layout(struct json_object *root, uint32_t instance_id,
                              int v23, uint32_t n, uint32_t m,
                              struct vms_error *err)
{
    struct cpu_block cb;
    struct json_object *nf, *ver;
    int bad;

    if (cpu_block_find(root, instance_id, &cb, err) != 0) {
        return -1;
    }
    if (cb.n != n) {
        vms_error_set_nooff(err, VMS_E_CONVERT,
                            "vmdesc cpu#%u describes %u cpregs, the stream "
                            "has %u", instance_id, cb.n, n);
        return -1;
    }
    if (cb.v23 && cb.m != m) {
        vms_error_set_nooff(err, VMS_E_CONVERT,
                            "vmdesc cpu#%u describes %u cpreg value slots, "
                            "the stream has %u", instance_id, cb.m, m);
        return -1;
    }
    if (!v23 && m != n) {
        vms_error_set_nooff(err, VMS_E_CONVERT,
                            "cpu#%u: v22 needs one value slot per cpreg "
                            "(N = %u, M = %u)", instance_id, n, m);
        return -1;
    }
    if (n > INT32_MAX || m > INT32_MAX) {
        vms_error_set_nooff(err, VMS_E_CONVERT,
                            "cpu#%u: cpreg counts %u/%u exceed int32",
                            instance_id, n, m);
        return -1;
    }

    /* Build the whole new list first so that a failure changes nothing. */
    nf = json_object_new_array();
    if (!nf) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    bad = copy_range(nf, cb.fields, 0, cb.start) != 0 ||
          add_field(nf, f_len, 1, "int32 le", 4) != 0 ||
          (v23 && add_field(nf, f_vlen, 1, "int32 le", 4) != 0) ||
          add_field(nf, f_idx, n, "uint64", 8) != 0 ||
          add_field(nf, f_val, v23 ? m : n, "uint64", 8) != 0 ||
          (v23 && add_field(nf, f_vidx, n, "uint32", 4) != 0) ||
          copy_range(nf, cb.fields, cb.end,
                     json_object_array_length(cb.fields)) != 0;
    ver = bad ? NULL : json_object_new_int(v23 ? 23 : 22);
    if (!ver) {
        json_object_put(nf);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    /* json-c replaces an existing key's value in place: order is kept. */
    if (json_object_object_add(cb.dev, "version", ver) != 0) {
        json_object_put(ver);
        json_object_put(nf);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    if (json_object_object_add(cb.dev, "fields", nf) != 0) {
        json_object_put(nf);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}
