#include "config.h"
#include "vmdesc_json.h"

#include <ctype.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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
static void put_quoted(struct vms_buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, used;
    char tmp[16];
    int cp;

    vms_buf_putc(b, '"');
    while (i < n) {
        cp = mod_utf8_cp(s + i, n - i, &used);
        i += used;
        switch (cp) {
        case '"':
            vms_buf_puts(b, "\\\"");
            break;
        case '\\':
            vms_buf_puts(b, "\\\\");
            break;
        case '\b':
            vms_buf_puts(b, "\\b");
            break;
        case '\f':
            vms_buf_puts(b, "\\f");
            break;
        case '\n':
            vms_buf_puts(b, "\\n");
            break;
        case '\r':
            vms_buf_puts(b, "\\r");
            break;
        case '\t':
            vms_buf_puts(b, "\\t");
            break;
        default:
            if (cp < 0) {
                cp = 0xFFFD;
            }
            if (cp > 0xFFFF) {
                snprintf(tmp, sizeof(tmp), "\\u%04X\\u%04X",
                         (unsigned)(0xD800 + ((cp - 0x10000) >> 10)),
                         (unsigned)(0xDC00 + ((cp - 0x10000) & 0x3FF)));
                vms_buf_puts(b, tmp);
            } else if (cp < 0x20 || cp >= 0x7F) {
                snprintf(tmp, sizeof(tmp), "\\u%04X", (unsigned)cp);
                vms_buf_puts(b, tmp);
            } else {
                vms_buf_putc(b, (char)cp);
            }
            break;
        }
    }
    vms_buf_putc(b, '"');
}

static void put_int(struct vms_buf *b, struct json_object *o)
{
    char tmp[32];
    int64_t v = json_object_get_int64(o);

    /* json-c saturates a uint64 above INT64_MAX to INT64_MAX here */
    if (v == INT64_MAX) {
        snprintf(tmp, sizeof(tmp), "%" PRIu64, json_object_get_uint64(o));
    } else {
        snprintf(tmp, sizeof(tmp), "%" PRId64, v);
    }
    vms_buf_puts(b, tmp);
}

static void put_double(struct vms_buf *b, double d)
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
    vms_buf_puts(b, tmp);
}

static void put_value(struct vms_buf *b, struct json_object *o)
{
    size_t i, n;
    int first;

    if (b->nomem) {
        return;
    }
    switch (json_object_get_type(o)) {
    case json_type_null:
        vms_buf_puts(b, "null");
        break;
    case json_type_boolean:
        vms_buf_puts(b, json_object_get_boolean(o) ? "true" : "false");
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
        vms_buf_putc(b, '{');
        first = 1;
        json_object_object_foreach(o, key, val) {
            if (!first) {
                vms_buf_puts(b, ", ");
            }
            first = 0;
            put_quoted(b, key, strlen(key));
            vms_buf_puts(b, ": ");
            put_value(b, val);
        }
        vms_buf_putc(b, '}');
        break;
    case json_type_array:
        vms_buf_putc(b, '[');
        n = json_object_array_length(o);
        for (i = 0; i < n; i++) {
            if (i) {
                vms_buf_puts(b, ", ");
            }
            put_value(b, json_object_array_get_idx(o, i));
        }
        vms_buf_putc(b, ']');
        break;
    }
}

char *vms_json_qemu_serialise(struct json_object *root, size_t *len)
{
    struct vms_buf b = { NULL, 0, 0, 0 };

    put_value(&b, root);
    vms_buf_putc(&b, '\0');
    if (b.nomem) {
        vms_buf_free(&b);
        return NULL;
    }
    if (len) {
        *len = b.len - 1;
    }
    return (char *)b.p;
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
