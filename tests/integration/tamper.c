/*
 * tests/integration/tamper.c - write a tampered copy of a real migration
 * stream, for the integration tests that compare `vmstream check` with what
 * QEMU does.
 *
 *   tamper IN OUT OP [ARGS]
 *
 * IN may be raw, gzip or zstd (it is decoded into memory first); OUT is
 * always raw.  OPs (every Arm "cpu" section is edited unless noted):
 *
 *   insert-mid ID         insert register ID (value 0) at its sorted
 *                         position, N+1 (ID must be absent and must not be
 *                         above the last id: use insert-end for that)
 *   insert-end ID         append register ID (value 0) after the last one
 *   len-plus-one          patch only the BE32 cpreg_vmstate_array_len to N+1
 *   swap IDX              swap ids IDX and IDX+1 (their values follow);
 *                         a negative IDX counts from the end (-2: last two)
 *   set-version N         section header version_id of every cpu section
 *   set-value ID VALUE    change register ID's value in every vCPU
 *   list operations (ids and values move together; a v23 register keeps
 *   all its value slots):
 *   drop ID[,ID...]       remove these registers (N-k); every one must be
 *                         in the list
 *   drop-at IDX           remove the register at list position IDX (N-1)
 *   dup IDX               insert a copy of the register at IDX right
 *                         after it (N+1)
 *   move FROM TO          move the register at FROM to position TO of the
 *                         result (move 0 -1: smallest to the end; move -1 0:
 *                         largest to the front)
 *   move-reg ID TO        move register ID to position TO
 *   rotate K              rotate the list by K positions: K > 0 to the
 *                         right (rotate 1: the last register comes first),
 *                         K < 0 to the left (rotate -1: the first goes last)
 *   reverse               reverse the whole list
 *   reverse-range FROM K  reverse the K registers from position FROM on
 *                         (reverse-range -3 3: the last three)
 *   v23 streams, vCPU 0 only (value-index array, doc/format.md §3):
 *   vidx-out-of-range     last value index = M (beyond the values)
 *   vidx-decrease         swap two value indexes in the middle
 *   vidx-slots-too-large  one extra value slot after a middle register:
 *                         that 64-bit register gets 2 slots, M+1
 *   vidx-zero-slots       remove a middle register's value slot: it gets
 *                         0 slots, M-1
 *
 * ID is a number (0x... hex or decimal) or a register name as
 * `vmstream` knows it in the TCG id space (SCTLR_EL1, CTR_EL0, TPIDRURW,
 * VBAR_S, ...).  VALUE is a number.  IDX, FROM and TO are list positions,
 * negative ones counting from the end (-1: the last register).  Ops that
 * change a count (insert-*, drop*, dup, vidx-slots-too-large,
 * vidx-zero-slots) re-encode the
 * section with vms_armcpu_encode() and rewrite the vmdesc JSON entry of that
 * cpu (array_len of cpreg_vmstate_indexes / _values / _value_indexes, with
 * QEMU's rules: count 1 = no array_len key, 0 = no entry) and the BE32 JSON
 * length, so that the stream is self-consistent except for the tamper.
 * len-plus-one, set-version, swap and set-value leave the vmdesc alone.
 *
 * Exit status: 0 written, 1 the op does not apply to this stream, 2 usage
 * or I/O error.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "armcpu.h"
#include "cpreg.h"
#include "error.h"
#include "src.h"
#include "stream.h"
#include "vmdesc_json.h"
#include "wire.h"

#define TAMPER_MAX_INPUT ((size_t)1 << 32)

enum op {
    OP_INSERT_MID,
    OP_INSERT_END,
    OP_LEN_PLUS_ONE,
    OP_SWAP,
    OP_SET_VERSION,
    OP_SET_VALUE,
    OP_VIDX_OUT_OF_RANGE,
    OP_VIDX_DECREASE,
    OP_VIDX_SLOTS_TOO_LARGE,
    OP_VIDX_ZERO_SLOTS,
    OP_DROP,
    OP_DROP_AT,
    OP_DUP,
    OP_MOVE,
    OP_MOVE_REG,
    OP_ROTATE,
    OP_REVERSE,
    OP_REVERSE_RANGE,
};

static const struct {
    const char *name;
    enum op op;
    int nargs;
    const char *args;
} ops[] = {
    { "insert-mid", OP_INSERT_MID, 1, " ID" },
    { "insert-end", OP_INSERT_END, 1, " ID" },
    { "len-plus-one", OP_LEN_PLUS_ONE, 0, "" },
    { "swap", OP_SWAP, 1, " IDX" },
    { "set-version", OP_SET_VERSION, 1, " N" },
    { "set-value", OP_SET_VALUE, 2, " ID VALUE" },
    { "vidx-out-of-range", OP_VIDX_OUT_OF_RANGE, 0, "" },
    { "vidx-decrease", OP_VIDX_DECREASE, 0, "" },
    { "vidx-slots-too-large", OP_VIDX_SLOTS_TOO_LARGE, 0, "" },
    { "vidx-zero-slots", OP_VIDX_ZERO_SLOTS, 0, "" },
    { "drop", OP_DROP, 1, " ID" },
    { "drop-at", OP_DROP_AT, 1, " IDX" },
    { "dup", OP_DUP, 1, " IDX" },
    { "move", OP_MOVE, 2, " FROM TO" },
    { "move-reg", OP_MOVE_REG, 2, " ID TO" },
    { "rotate", OP_ROTATE, 1, " K" },
    { "reverse", OP_REVERSE, 0, "" },
    { "reverse-range", OP_REVERSE_RANGE, 2, " FROM K" },
};

/* One byte range of the input replaced by new bytes in the output. */
struct patch {
    uint64_t off;
    uint64_t len;
    uint8_t *bytes;
    size_t n;
};

struct count_change {
    uint32_t instance_id;
    int32_t n, m;
    int layout;
};

static const char *prog = "tamper";

static void die(int rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void die(int rc, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(rc);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p) {
        die(2, "out of memory");
    }
    return p;
}

static uint64_t parse_u64(const char *s, const char *what)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || end == s || *end || *s == '-') {
        die(2, "bad %s '%s'", what, s);
    }
    return (uint64_t)v;
}

static long parse_long(const char *s, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 0);
    if (errno || end == s || *end) {
        die(2, "bad %s '%s'", what, s);
    }
    return v;
}

static uint64_t parse_reg(const char *s);

/* "ID,ID,...": a malloc'd array of ids, their count in *n. */
static uint64_t *parse_reg_list(const char *s, size_t *n)
{
    size_t cap = 1, k = 0;
    const char *p;
    uint64_t *ids;
    char *copy, *tok, *save = NULL;

    for (p = s; *p; p++) {
        cap += *p == ',';
    }
    ids = xmalloc(cap * sizeof(*ids));
    copy = strdup(s);
    if (!copy) {
        die(2, "out of memory");
    }
    for (tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        ids[k++] = parse_reg(tok);
    }
    free(copy);
    if (k == 0) {
        die(2, "empty register list '%s'", s);
    }
    *n = k;
    return ids;
}

/* A register id: a number, else a name in the TCG id space. */
static uint64_t parse_reg(const char *s)
{
    uint64_t id;

    if (*s >= '0' && *s <= '9') {
        return parse_u64(s, "register id");
    }
    if (vms_cpreg_lookup(s, VMS_CPREG_TCG, &id) < 0) {
        die(2, "unknown or ambiguous register name '%s'", s);
    }
    return id;
}

/* The whole decoded stream (gzip/zstd/libvirt containers undone). */
static uint8_t *read_stream(const char *path, size_t *len)
{
    struct vms_error err;
    struct vms_src *src;
    uint8_t *buf;
    char msg[1024];

    vms_error_clear(&err);
    src = vms_src_open_path(path, &err);
    if (!src) {
        vms_error_format(&err, msg, sizeof(msg));
        die(2, "%s: %s", path, msg);
    }
    buf = vms_src_slurp(src, TAMPER_MAX_INPUT, len);
    if (!buf) {
        vms_error_format(vms_src_error(src), msg, sizeof(msg));
        die(2, "%s: %s", path, msg);
    }
    vms_src_free(src);
    return buf;
}

static void add_patch(struct patch **p, size_t *np, uint64_t off, uint64_t len,
                      uint8_t *bytes, size_t n)
{
    struct patch *q = realloc(*p, (*np + 1) * sizeof(**p));

    if (!q) {
        die(2, "out of memory");
    }
    q[*np].off = off;
    q[*np].len = len;
    q[*np].bytes = bytes;
    q[*np].n = n;
    *p = q;
    (*np)++;
}

static int cmp_patch(const void *a, const void *b)
{
    const struct patch *x = a, *y = b;

    return x->off < y->off ? -1 : x->off > y->off;
}

/* Insert a register (1 slot) at list position pos with value val. */
static void insert_reg(struct vms_armcpu *c, int32_t pos, uint64_t id,
                       uint64_t val)
{
    size_t n = (size_t)c->n, m = (size_t)c->m, k;
    uint64_t *ids = xmalloc((n + 1) * sizeof(*ids));
    uint64_t *vals = xmalloc((m + 1) * sizeof(*vals));

    memcpy(ids, c->ids, (size_t)pos * sizeof(*ids));
    ids[pos] = id;
    memcpy(ids + pos + 1, c->ids + pos, (n - (size_t)pos) * sizeof(*ids));
    if (c->layout == 23) {
        uint32_t *vi = xmalloc((n + 1) * sizeof(*vi));
        uint32_t slot = (size_t)pos < n ? c->value_idx[pos] : (uint32_t)m;

        memcpy(vals, c->values, slot * sizeof(*vals));
        vals[slot] = val;
        memcpy(vals + slot + 1, c->values + slot, (m - slot) * sizeof(*vals));
        for (k = 0; k < n + 1; k++) {
            if (k < (size_t)pos) {
                vi[k] = c->value_idx[k];
            } else if (k == (size_t)pos) {
                vi[k] = slot;
            } else {
                vi[k] = c->value_idx[k - 1] + 1;
            }
        }
        free(c->value_idx);
        c->value_idx = vi;
    } else {
        memcpy(vals, c->values, (size_t)pos * sizeof(*vals));
        vals[pos] = val;
        memcpy(vals + pos + 1, c->values + pos,
               (n - (size_t)pos) * sizeof(*vals));
    }
    free(c->ids);
    free(c->values);
    c->ids = ids;
    c->values = vals;
    c->n++;
    c->m++;
}

static int32_t find_reg(const struct vms_armcpu *c, uint64_t id)
{
    int32_t v;

    for (v = 0; v < c->n; v++) {
        if (c->ids[v] == id) {
            return v;
        }
    }
    return -1;
}

static uint32_t slot_of(const struct vms_armcpu *c, int32_t v)
{
    return c->layout == 23 ? c->value_idx[v] : (uint32_t)v;
}

/* List position pos (negative: from the end) of a list of n, or -1. */
static int32_t position(long pos, int32_t n)
{
    long k = pos < 0 ? (long)n + pos : pos;

    return k >= 0 && k < (long)n ? (int32_t)k : -1;
}

/*
 * Rebuild c's register list from sel[0..nsel): entry k of the result is
 * register sel[k] of the old list, with its id and all its value slots
 * (a register may appear twice or not at all).
 */
static void select_regs(struct vms_armcpu *c, const int32_t *sel,
                        size_t nsel)
{
    size_t k, m = 0, at = 0;
    uint64_t *ids, *vals;
    uint32_t *vi = NULL;

    for (k = 0; k < nsel; k++) {
        int64_t ns = vms_armcpu_slots(c, sel[k]);

        if (ns < 0) {
            die(1, "cpu %u: register %d has a bad value index",
                c->instance_id, sel[k]);
        }
        m += (size_t)ns;
    }
    if (nsel > INT32_MAX || m > INT32_MAX) {
        die(2, "list too long");
    }
    ids = xmalloc(nsel * sizeof(*ids));
    vals = xmalloc(m * sizeof(*vals));
    if (c->layout == 23) {
        vi = xmalloc(nsel * sizeof(*vi));
    }
    for (k = 0; k < nsel; k++) {
        size_t ns = (size_t)vms_armcpu_slots(c, sel[k]);

        ids[k] = c->ids[sel[k]];
        memcpy(vals + at, c->values + slot_of(c, sel[k]),
               ns * sizeof(*vals));
        if (vi) {
            vi[k] = (uint32_t)at;
        }
        at += ns;
    }
    free(c->ids);
    free(c->values);
    free(c->value_idx);
    c->ids = ids;
    c->values = vals;
    c->value_idx = vi;
    c->n = (int32_t)nsel;
    c->m = (int32_t)m;
}

/*
 * The selection for a list operation on a list of n registers (a malloc'd
 * array, its length in *nsel).  Dies with status 1 when the op does not
 * apply.
 */
static int32_t *list_op(const struct vms_armcpu *c, enum op op,
                        const uint64_t *idv, size_t nid, long a, long b,
                        size_t *nsel)
{
    int32_t n = c->n, i, k, from, to, drop = -1, dup = -1;
    int32_t *sel = xmalloc(((size_t)n + 1) * sizeof(*sel));
    unsigned char *gone = NULL;
    size_t j = 0, q;

    switch (op) {
    case OP_DROP:
        gone = calloc((size_t)n + 1, 1);
        if (!gone) {
            free(sel);
            die(2, "out of memory");
        }
        for (q = 0; q < nid; q++) {
            int32_t at = find_reg(c, idv[q]);

            if (at < 0) {
                free(gone);
                free(sel);
                die(1, "cpu %u has no register 0x%016" PRIx64,
                    c->instance_id, idv[q]);
            }
            gone[at] = 1;
        }
        for (i = 0; i < n; i++) {
            if (!gone[i]) {
                sel[j++] = i;
            }
        }
        free(gone);
        *nsel = j;
        return sel;
    case OP_DROP_AT:
        drop = position(a, n);
        break;
    case OP_DUP:
        dup = position(a, n);
        break;
    default:
        break;
    }
    switch (op) {
    case OP_DROP_AT:
    case OP_DUP:
        if (drop < 0 && dup < 0) {
            free(sel);
            die(1, "%ld: cpu %u has %d registers", a, c->instance_id, n);
        }
        for (i = 0; i < n; i++) {
            if (i != drop) {
                sel[j++] = i;
            }
            if (i == dup) {
                sel[j++] = i;
            }
        }
        break;
    case OP_MOVE:
    case OP_MOVE_REG:
        from = op == OP_MOVE_REG ? find_reg(c, idv[0]) : position(a, n);
        to = position(b, n);
        if (op == OP_MOVE_REG && from < 0) {
            free(sel);
            die(1, "cpu %u has no register 0x%016" PRIx64, c->instance_id,
                idv[0]);
        }
        if (from < 0 || to < 0 || n < 2) {
            free(sel);
            die(1, "move %ld %ld: cpu %u has %d registers", a, b,
                c->instance_id, n);
        }
        /* the list without FROM, with FROM put back at TO */
        for (i = 0, k = 0; k < n; k++) {
            if (k == to) {
                sel[j++] = from;
                continue;
            }
            if (i == from) {
                i++;
            }
            sel[j++] = i++;
        }
        break;
    case OP_ROTATE:
        if (n < 1) {
            free(sel);
            die(1, "rotate: cpu %u has no registers", c->instance_id);
        }
        /* result[k] = old[(k - K) mod n] */
        for (k = 0; k < n; k++) {
            long s = ((long)k - a) % n;

            sel[j++] = (int32_t)(s < 0 ? s + n : s);
        }
        break;
    case OP_REVERSE:
        for (k = 0; k < n; k++) {
            sel[j++] = n - 1 - k;
        }
        break;
    case OP_REVERSE_RANGE:
        from = position(a, n);
        if (from < 0 || b < 2 || b > (long)n - from) {
            free(sel);
            die(1, "reverse-range %ld %ld: cpu %u has %d registers", a, b,
                c->instance_id, n);
        }
        for (k = 0; k < n; k++) {
            sel[j++] = k >= from && k < from + (int32_t)b
                           ? from + (int32_t)b - 1 - (k - from) : k;
        }
        break;
    default:
        free(sel);
        die(2, "internal error: not a list op");
    }
    *nsel = j;
    return sel;
}

/* --- vmdesc JSON ------------------------------------------------------- */

static struct json_object *cpu_entry(struct json_object *root, uint32_t inst)
{
    struct json_object *devs, *d, *x;
    size_t i;

    if (!json_object_object_get_ex(root, "devices", &devs) ||
        !json_object_is_type(devs, json_type_array)) {
        return NULL;
    }
    for (i = 0; i < json_object_array_length(devs); i++) {
        d = json_object_array_get_idx(devs, i);
        if (!json_object_object_get_ex(d, "name", &x) ||
            strcmp(json_object_get_string(x), "cpu") != 0) {
            continue;
        }
        if (json_object_object_get_ex(d, "instance_id", &x) &&
            (uint32_t)json_object_get_int64(x) == inst) {
            return d;
        }
    }
    return NULL;
}

static struct json_object *field_entry(const char *name, int64_t count,
                                       const char *type, int size)
{
    struct json_object *f = json_object_new_object();

    json_object_object_add(f, "name", json_object_new_string(name));
    if (count != 1) {
        json_object_object_add(f, "array_len", json_object_new_int64(count));
    }
    json_object_object_add(f, "type", json_object_new_string(type));
    json_object_object_add(f, "size", json_object_new_int(size));
    return f;
}

static int field_is(struct json_object *f, const char *name)
{
    struct json_object *x;

    return json_object_object_get_ex(f, "name", &x) &&
           strcmp(json_object_get_string(x), name) == 0;
}

/*
 * Set the element count of the cpu field `name` (entry present iff
 * count > 0; inserted after the field `after` if it was absent).
 * Rebuilds the fields array, as json-c arrays cannot insert in place.
 */
static void set_count(struct json_object *dev, const char *name,
                      const char *after, int64_t count, const char *type,
                      int size)
{
    struct json_object *fields, *nf;
    size_t i, len;
    int done = 0;

    if (!json_object_object_get_ex(dev, "fields", &fields) ||
        !json_object_is_type(fields, json_type_array)) {
        die(1, "vmdesc cpu entry has no fields array");
    }
    nf = json_object_new_array();
    len = json_object_array_length(fields);
    for (i = 0; i < len; i++) {
        struct json_object *f = json_object_array_get_idx(fields, i);

        if (field_is(f, name)) {
            if (count > 0 && !done) {
                json_object_array_add(nf, field_entry(name, count, type,
                                                      size));
            }
            done = 1;
            continue;
        }
        json_object_array_add(nf, json_object_get(f));
        if (!done && count > 0 && field_is(f, after)) {
            int present = 0;
            size_t j;

            for (j = i + 1; j < len; j++) {
                present |= field_is(json_object_array_get_idx(fields, j),
                                    name);
            }
            if (!present) {
                json_object_array_add(nf, field_entry(name, count, type,
                                                      size));
                done = 1;
            }
        }
    }
    if (!done && count > 0) {
        die(1, "vmdesc cpu entry: no place for %s", name);
    }
    json_object_object_add(dev, "fields", nf);
}

static void rewrite_vmdesc(const uint8_t *buf, const struct vms_stream *st,
                           const struct count_change *cc, size_t ncc,
                           struct patch **p, size_t *np)
{
    struct vms_error err;
    struct json_object *root;
    char msg[1024];
    size_t i, len;
    char *text;
    uint8_t *out;

    if (!st->has_vmdesc || !st->vmdesc_json) {
        fprintf(stderr, "%s: note: no vmdesc, nothing to rewrite\n", prog);
        return;
    }
    vms_error_clear(&err);
    root = vms_json_parse(st->vmdesc_json, st->vmdesc_len,
                          VMS_MAX_VMDESC, st->vmdesc_offset + 5, &err);
    if (!root) {
        vms_error_format(&err, msg, sizeof(msg));
        die(1, "vmdesc: %s", msg);
    }
    if (!vms_json_roundtrips(root, st->vmdesc_json, st->vmdesc_len)) {
        die(1, "vmdesc does not re-serialise byte-exactly; refusing to "
               "rewrite it");
    }
    for (i = 0; i < ncc; i++) {
        struct json_object *dev = cpu_entry(root, cc[i].instance_id);

        if (!dev) {
            die(1, "vmdesc has no cpu entry for instance %u",
                cc[i].instance_id);
        }
        set_count(dev, "cpreg_vmstate_indexes",
                  cc[i].layout == 23 ? "cpreg_vmstate_value_array_len"
                                     : "cpreg_vmstate_array_len",
                  cc[i].n, "uint64", 8);
        set_count(dev, "cpreg_vmstate_values", "cpreg_vmstate_indexes",
                  cc[i].m, "uint64", 8);
        if (cc[i].layout == 23) {
            set_count(dev, "cpreg_vmstate_value_indexes",
                      "cpreg_vmstate_values", cc[i].n, "uint32", 4);
        }
    }
    text = vms_json_qemu_serialise(root, &len);
    json_object_put(root);
    if (!text) {
        die(2, "out of memory");
    }
    out = xmalloc(4 + len);
    vms_put_be32(out, (uint32_t)len);
    memcpy(out + 4, text, len);
    free(text);
    /* the BE32 length and the JSON text after the 0x06 byte */
    add_patch(p, np, st->vmdesc_offset + 1, 4 + (uint64_t)st->vmdesc_len,
              out, 4 + len);
    (void)buf;
}

/* --- main -------------------------------------------------------------- */

static void usage(void)
{
    size_t i;

    fprintf(stderr, "usage: %s IN OUT OP [ARGS]\nOPs:", prog);
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        fprintf(stderr, "%s%s%s", i % 4 ? " | " : "\n  ", ops[i].name,
                ops[i].args);
    }
    fputc('\n', stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *in, *outp, *opname;
    enum op op = OP_INSERT_MID;
    struct vms_stream st;
    struct vms_error err;
    struct vms_src *src;
    struct patch *patches = NULL;
    struct count_change *cc = NULL;
    size_t npatches = 0, ncc = 0, len, i, ncpu = 0;
    uint64_t arg_id = 0, arg_val = 0, *arg_ids = NULL;
    size_t arg_nids = 0;
    long arg_idx = 0, arg_idx2 = 0;
    uint8_t *buf;
    char msg[1024];
    FILE *f;
    int found = 0;

    if (argc < 4) {
        usage();
    }
    in = argv[1];
    outp = argv[2];
    opname = argv[3];
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(ops[i].name, opname) == 0) {
            op = ops[i].op;
            found = 1;
            if (argc != 4 + ops[i].nargs) {
                usage();
            }
            break;
        }
    }
    if (!found) {
        usage();
    }
    switch (op) {
    case OP_INSERT_MID:
    case OP_INSERT_END:
        arg_id = parse_reg(argv[4]);
        break;
    case OP_DROP:
        arg_ids = parse_reg_list(argv[4], &arg_nids);
        break;
    case OP_MOVE_REG:
        arg_ids = xmalloc(sizeof(*arg_ids));
        arg_ids[0] = parse_reg(argv[4]);
        arg_nids = 1;
        arg_idx2 = parse_long(argv[5], "index");
        break;
    case OP_SWAP:
    case OP_DROP_AT:
    case OP_DUP:
    case OP_ROTATE:
        arg_idx = parse_long(argv[4], "index");
        break;
    case OP_MOVE:
    case OP_REVERSE_RANGE:
        arg_idx = parse_long(argv[4], "index");
        arg_idx2 = parse_long(argv[5], "index");
        break;
    case OP_SET_VERSION:
        arg_val = parse_u64(argv[4], "version");
        if (arg_val > UINT32_MAX) {
            die(2, "version %s out of range", argv[4]);
        }
        break;
    case OP_SET_VALUE:
        arg_id = parse_reg(argv[4]);
        arg_val = parse_u64(argv[5], "value");
        break;
    default:
        break;
    }

    buf = read_stream(in, &len);
    vms_error_clear(&err);
    src = vms_src_open_mem(buf, len, 0, &err);
    if (!src) {
        die(2, "out of memory");
    }
    vms_stream_init(&st);
    if (vms_stream_parse(src, NULL, &st, &err) < 0) {
        vms_error_format(&err, msg, sizeof(msg));
        die(1, "%s: %s", in, msg);
    }

    for (i = 0; i < st.n_sections; i++) {
        const struct vms_section *s = &st.sections[i];
        struct vms_armcpu c;
        int32_t v, mid;
        int reencode = 0, counts = 0;

        if (strcmp(s->idstr, "cpu") != 0 || !s->bytes) {
            continue;
        }
        if (s->package) {
            die(1, "cpu section %u is inside a PACKAGED command: not "
                   "supported", s->instance_id);
        }
        if (s->type != VMS_REC_FULL && s->type != VMS_REC_START) {
            die(1, "cpu section %u is not a FULL section", s->instance_id);
        }
        ncpu++;
        if (op == OP_SET_VERSION) {
            /* type, section id, idstr length + idstr, instance, version */
            uint64_t at = s->offset + 1 + 4 + 1 + strlen(s->idstr) + 4;
            uint8_t *b = xmalloc(4);

            vms_put_be32(b, (uint32_t)arg_val);
            add_patch(&patches, &npatches, at, 4, b, 4);
            continue;
        }
        vms_error_clear(&err);
        if (vms_armcpu_from_section(s, &c, &err) < 0) {
            vms_error_format(&err, msg, sizeof(msg));
            die(1, "cpu %u: %s", s->instance_id, msg);
        }
        mid = c.n / 2;
        switch (op) {
        case OP_LEN_PLUS_ONE: {
            uint8_t *b = xmalloc(4);

            vms_put_be32(b, (uint32_t)(c.n + 1));
            add_patch(&patches, &npatches, c.n_offset, 4, b, 4);
            break;
        }
        case OP_INSERT_MID:
        case OP_INSERT_END:
            if (find_reg(&c, arg_id) >= 0) {
                die(1, "cpu %u already has register 0x%016" PRIx64,
                    c.instance_id, arg_id);
            }
            if (op == OP_INSERT_END) {
                v = c.n;
                if (c.n > 0 && arg_id < c.ids[c.n - 1]) {
                    fprintf(stderr, "%s: note: 0x%016" PRIx64 " is below the "
                            "last id: the list is no longer sorted\n", prog,
                            arg_id);
                }
            } else {
                for (v = 0; v < c.n && c.ids[v] < arg_id; v++) {
                }
                if (v == c.n) {
                    die(1, "0x%016" PRIx64 " is above cpu %u's last id "
                           "0x%016" PRIx64 ": use insert-end", arg_id,
                        c.instance_id, c.ids[c.n - 1]);
                }
            }
            insert_reg(&c, v, arg_id, 0);
            reencode = counts = 1;
            break;
        case OP_SWAP: {
            long k = arg_idx < 0 ? c.n + arg_idx : arg_idx;
            uint32_t s0, s1;
            uint64_t t;

            if (k < 0 || k + 1 >= c.n) {
                die(1, "swap %ld: cpu %u has %d registers", arg_idx,
                    c.instance_id, c.n);
            }
            s0 = slot_of(&c, (int32_t)k);
            s1 = slot_of(&c, (int32_t)k + 1);
            if (c.layout == 23 &&
                (vms_armcpu_slots(&c, (int32_t)k) != 1 ||
                 vms_armcpu_slots(&c, (int32_t)k + 1) != 1)) {
                die(1, "swap %ld: registers with more than one slot", k);
            }
            t = c.ids[k];
            c.ids[k] = c.ids[k + 1];
            c.ids[k + 1] = t;
            t = c.values[s0];
            c.values[s0] = c.values[s1];
            c.values[s1] = t;
            reencode = 1;
            break;
        }
        case OP_DROP:
        case OP_DROP_AT:
        case OP_DUP:
        case OP_MOVE:
        case OP_MOVE_REG:
        case OP_ROTATE:
        case OP_REVERSE:
        case OP_REVERSE_RANGE: {
            size_t nsel;
            int32_t *sel = list_op(&c, op, arg_ids, arg_nids, arg_idx,
                                   arg_idx2, &nsel);

            counts = nsel != (size_t)c.n;
            select_regs(&c, sel, nsel);
            free(sel);
            reencode = 1;
            break;
        }
        case OP_SET_VALUE:
            v = find_reg(&c, arg_id);
            if (v < 0) {
                die(1, "cpu %u has no register 0x%016" PRIx64,
                    c.instance_id, arg_id);
            }
            c.values[slot_of(&c, v)] = arg_val;
            reencode = 1;
            break;
        case OP_VIDX_OUT_OF_RANGE:
        case OP_VIDX_DECREASE:
        case OP_VIDX_SLOTS_TOO_LARGE:
        case OP_VIDX_ZERO_SLOTS:
            if (c.layout != 23) {
                die(1, "%s needs a v23 stream (cpu %u is v%d)", opname,
                    c.instance_id, c.layout);
            }
            if (c.n < 4) {
                die(1, "%s: cpu %u has too few registers", opname,
                    c.instance_id);
            }
            if (ncpu > 1) {
                break;      /* vCPU 0 (the first cpu section) only */
            }
            if (op == OP_VIDX_OUT_OF_RANGE) {
                c.value_idx[c.n - 1] = (uint32_t)c.m;
            } else if (op == OP_VIDX_DECREASE) {
                uint32_t t = c.value_idx[mid];

                c.value_idx[mid] = c.value_idx[mid + 1];
                c.value_idx[mid + 1] = t;
            } else if (op == OP_VIDX_SLOTS_TOO_LARGE) {
                /* a second (zero) slot after register mid's */
                uint32_t at = c.value_idx[mid + 1];
                uint64_t *vals = xmalloc(((size_t)c.m + 1) * sizeof(*vals));

                memcpy(vals, c.values, at * sizeof(*vals));
                vals[at] = 0;
                memcpy(vals + at + 1, c.values + at,
                       ((size_t)c.m - at) * sizeof(*vals));
                free(c.values);
                c.values = vals;
                c.m++;
                for (v = mid + 1; v < c.n; v++) {
                    c.value_idx[v]++;
                }
                counts = 1;
            } else {
                /* drop register mid's slot: its index equals the next */
                uint32_t at = c.value_idx[mid];

                memmove(c.values + at, c.values + at + 1,
                        ((size_t)c.m - at - 1) * sizeof(*c.values));
                c.m--;
                for (v = mid + 1; v < c.n; v++) {
                    c.value_idx[v]--;
                }
                counts = 1;
            }
            reencode = 1;
            break;
        default:
            break;
        }
        if (reencode) {
            size_t blen;
            uint8_t *body;

            vms_error_clear(&err);
            body = vms_armcpu_encode(&c, c.layout, &blen, &err);
            if (!body) {
                vms_error_format(&err, msg, sizeof(msg));
                die(1, "cpu %u: encode: %s", c.instance_id, msg);
            }
            add_patch(&patches, &npatches, s->body_offset, s->body_len, body,
                      blen);
        }
        if (counts) {
            struct count_change *q = realloc(cc, (ncc + 1) * sizeof(*cc));

            if (!q) {
                die(2, "out of memory");
            }
            cc = q;
            cc[ncc].instance_id = c.instance_id;
            cc[ncc].n = c.n;
            cc[ncc].m = c.m;
            cc[ncc].layout = c.layout;
            ncc++;
        }
        vms_armcpu_fini(&c);
    }
    if (ncpu == 0) {
        die(1, "%s has no Arm cpu section", in);
    }
    if (ncc > 0) {
        rewrite_vmdesc(buf, &st, cc, ncc, &patches, &npatches);
    }

    qsort(patches, npatches, sizeof(*patches), cmp_patch);
    f = strcmp(outp, "-") == 0 ? stdout : fopen(outp, "wb");
    if (!f) {
        die(2, "%s: %s", outp, strerror(errno));
    }
    {
        uint64_t at = 0;

        for (i = 0; i < npatches; i++) {
            if (patches[i].off < at || patches[i].off + patches[i].len > len) {
                die(2, "internal error: overlapping patches");
            }
            if (fwrite(buf + at, 1, patches[i].off - at, f) !=
                    patches[i].off - at ||
                fwrite(patches[i].bytes, 1, patches[i].n, f) != patches[i].n) {
                die(2, "%s: write error", outp);
            }
            at = patches[i].off + patches[i].len;
            free(patches[i].bytes);
        }
        if (fwrite(buf + at, 1, len - at, f) != len - at) {
            die(2, "%s: write error", outp);
        }
    }
    if ((f != stdout && fclose(f) != 0) || (f == stdout && fflush(f) != 0)) {
        die(2, "%s: %s", outp, strerror(errno));
    }
    free(patches);
    free(cc);
    free(arg_ids);
    vms_stream_fini(&st);
    vms_src_free(src);
    free(buf);
    return 0;
}
