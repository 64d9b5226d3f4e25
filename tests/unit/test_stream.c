/*
 * test_stream.c - the whole-stream reader on every real stream of the
 * corpus (real-v22, real-v23, real-v23/det-v22-stock; .mig.zst and .mig.gz,
 * decompressed by the library itself): framing, the section table (offsets,
 * lengths, footers, xxh3) checked against the bytes, RAM page counts and
 * block lists, section order, cpu section offsets and cpreg counts from the
 * MANIFESTs, the decoded registers against the independent decoder's
 * *.cpu.json ground truth, and the same parse read from a pipe.
 */
#include "config.h"

#include <glob.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>
#include <cmocka.h>

#include "armcpu.h"
#include "error.h"
#include "libvirt.h"
#include "src.h"
#include "stream.h"
#include "testutil.h"
#include "wire.h"

/* ---- the corpus --------------------------------------------------------- */

struct vec {
    char rel[512];          /* relative to tests/vectors */
    char dir[64];           /* "real-v22", "real-v23", ".../det-v22-stock" */
    char name[256];         /* file name without .zst/.gz: "X.mig" */
    int layout;             /* cpu section layout of the directory */
    int ncpu;
    int ncpreg;             /* by CPU model, as the MANIFESTs say */
    enum vms_compression comp;
};

static const char *const dirs[] = {
    "real-v22", "real-v23", "real-v23/det-v22-stock",
};

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);

    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void describe(struct vec *v, const char *rel)
{
    const char *slash = strrchr(rel, '/'), *p;

    snprintf(v->rel, sizeof(v->rel), "%s", rel);
    snprintf(v->dir, sizeof(v->dir), "%.*s", (int)(slash - rel), rel);
    snprintf(v->name, sizeof(v->name), "%s", slash + 1);
    if (ends_with(v->name, ".zst")) {
        v->name[strlen(v->name) - 4] = '\0';
        v->comp = VMS_COMP_ZSTD;
    } else if (ends_with(v->name, ".gz")) {
        v->name[strlen(v->name) - 3] = '\0';
        v->comp = VMS_COMP_GZIP;
    } else {
        v->comp = VMS_COMP_NONE;
    }
    v->layout = strcmp(v->dir, "real-v23") == 0 ? 23 : 22;
    p = strstr(v->name, "cpu");
    v->ncpu = 0;
    while (p && p > v->name && p[-1] >= '0' && p[-1] <= '9') {
        p--;
    }
    if (p && p > v->name && p[-1] == '-') {
        v->ncpu = atoi(p);
    }
    if (strstr(v->name, "-max-")) {
        v->ncpreg = 304;
    } else if (strstr(v->name, "cortex-a15")) {
        v->ncpreg = 197;
    } else if (strstr(v->name, "cortex-a53") ||
               strstr(v->name, "cortex-a57") ||
               strstr(v->name, "cortex-a72")) {
        v->ncpreg = 258;
    } else {
        fail_msg("%s: unknown CPU model", rel);
    }
    if (v->ncpu < 1 || v->ncpu > 8) {
        fail_msg("%s: cannot tell the vCPU count from the name", rel);
    }
}

/* Every *.mig.zst and *.mig.gz of the three directories. */
static struct vec *corpus(size_t *n)
{
    static const char *const pats[] = { "*.mig.zst", "*.mig.gz" };
    struct vec *v = NULL;
    size_t k = 0, d, p, i, per_dir[3] = { 0, 0, 0 };

    for (d = 0; d < 3; d++) {
        for (p = 0; p < 2; p++) {
            char pat[4096];
            glob_t g;
            size_t skip = strlen(tu_vectors_dir()) + 1;
            int rc;

            snprintf(pat, sizeof(pat), "%s/%s/%s", tu_vectors_dir(), dirs[d],
                     pats[p]);
            rc = glob(pat, 0, NULL, &g);
            if (rc == GLOB_NOMATCH) {
                continue;
            }
            assert_int_equal(rc, 0);
            v = realloc(v, (k + g.gl_pathc) * sizeof(*v));
            assert_non_null(v);
            for (i = 0; i < g.gl_pathc; i++) {
                memset(&v[k], 0, sizeof(v[k]));
                describe(&v[k++], g.gl_pathv[i] + skip);
            }
            per_dir[d] += g.gl_pathc;
            globfree(&g);
        }
    }
    /* 17 .zst + 2 .gz, 17, 3: fail loudly if vectors went missing */
    assert_true(per_dir[0] >= 19);
    assert_true(per_dir[1] >= 17);
    assert_true(per_dir[2] >= 3);
    *n = k;
    return v;
}

static void abs_path(const struct vec *v, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", tu_vectors_dir(), v->rel);
}

/* ---- MANIFEST.md reading ------------------------------------------------ */

static char *load_text(const char *rel)
{
    size_t len;
    uint8_t *d = tu_load(rel, &len);
    char *s = malloc(len + 1);

    assert_non_null(s);
    memcpy(s, d, len);
    s[len] = '\0';
    free(d);
    return s;
}

#define MAXCOLS 16
#define CELL 192

struct row {
    int n;
    char cell[MAXCOLS][CELL];
};

static void trim_cell(char *c)
{
    char *r = c, *w = c;
    size_t l;

    while (*r == ' ') {
        r++;
    }
    for (; *r; r++) {
        if (*r != '`') {
            *w++ = *r;
        }
    }
    *w = '\0';
    l = strlen(c);
    while (l > 0 && c[l - 1] == ' ') {
        c[--l] = '\0';
    }
}

/* Markdown table rows whose first cell (backticks stripped) is key. */
static size_t md_rows(const char *md, const char *key, struct row *out,
                      size_t max)
{
    const char *p = md;
    size_t k = 0;

    while (*p) {
        const char *eol = strchr(p, '\n');

        if (!eol) {
            eol = p + strlen(p);
        }
        if (*p == '|') {
            struct row r;
            const char *c = p + 1;

            memset(&r, 0, sizeof(r));
            while (c < eol && r.n < MAXCOLS) {
                const char *bar = memchr(c, '|', (size_t)(eol - c));
                size_t l;

                if (!bar) {
                    break;
                }
                l = (size_t)(bar - c);
                if (l >= CELL) {
                    l = CELL - 1;
                }
                memcpy(r.cell[r.n], c, l);
                r.cell[r.n][l] = '\0';
                trim_cell(r.cell[r.n]);
                r.n++;
                c = bar + 1;
            }
            if (r.n > 0 && strcmp(r.cell[0], key) == 0 && k < max) {
                out[k++] = r;
            }
        }
        p = *eol ? eol + 1 : eol;
    }
    return k;
}

/* The "- <prefix>..." line of the "### `name`" block, NUL-terminated
 * copy of what follows the prefix; NULL if there is no such block. */
static char *md_item(const char *md, const char *name, const char *prefix)
{
    char head[512];
    const char *b, *e, *l;

    snprintf(head, sizeof(head), "### `%s`\n", name);
    b = strstr(md, head);
    if (!b) {
        return NULL;
    }
    b += strlen(head);
    e = strstr(b, "\n#");
    if (!e) {
        e = b + strlen(b);
    }
    for (l = b; l < e;) {
        const char *eol = strchr(l, '\n');

        if (!eol || eol > e) {
            eol = e;
        }
        if (strncmp(l, prefix, strlen(prefix)) == 0) {
            size_t n = (size_t)(eol - l) - strlen(prefix);
            char *s = malloc(n + 1);

            assert_non_null(s);
            memcpy(s, l + strlen(prefix), n);
            s[n] = '\0';
            return s;
        }
        l = eol + 1;
    }
    fail_msg("MANIFEST block %s has no line '%s'", name, prefix);
    return NULL;
}

/* The v22 MANIFEST block that describes a stream: its own, else (for the
 * QEMU-gzipped copy, the v23 streams and the det-v22-stock streams, all
 * made with the same machine options) the cortex-a57 block with the same
 * vCPU count: those blocks show that the device list and the RAM blocks
 * depend only on the vCPU count, not on the CPU model. */
static void v22_block_name(const char *md, const struct vec *v, char *out,
                           size_t len)
{
    char *own;

    if (strcmp(v->dir, "real-v22") == 0) {
        own = md_item(md, v->name, "- RAM: ");
        if (own) {
            free(own);
            snprintf(out, len, "%s", v->name);
            return;
        }
    }
    snprintf(out, len, "aa64-virt72-cortex-a57-%dcpu.mig", v->ncpu);
}

/* ---- parsing helpers ---------------------------------------------------- */

static void fail_err(const char *what, const struct vms_error *err)
{
    char msg[800];

    vms_error_format(err, msg, sizeof(msg));
    fail_msg("%s: %s (%s)", what, msg, vms_status_name(err->code));
}

/* Parse the file itself (the library decompresses it). */
static void parse_path(const struct vec *v, struct vms_stream *st)
{
    char path[4096];
    struct vms_error err;
    struct vms_src *src;

    abs_path(v, path, sizeof(path));
    vms_error_clear(&err);
    src = vms_src_open_path(path, &err);
    if (!src) {
        fail_err(v->rel, &err);
    }
    assert_int_equal(vms_src_compression(src), v->comp);
    assert_false(vms_src_libvirt(src)->present);
    vms_stream_init(st);
    if (vms_stream_parse(src, NULL, st, &err) != 0) {
        fail_err(v->rel, &err);
    }
    assert_false(vms_error_isset(&err));
    /* read to the last byte */
    assert_true(vms_src_at_end(src));
    assert_int_equal(vms_src_offset(src), st->total_len);
    vms_src_free(src);
}

static int write_all(int fd, const uint8_t *d, size_t len, size_t chunk)
{
    while (len > 0) {
        size_t k = len < chunk ? len : chunk;
        ssize_t w = write(fd, d, k);

        if (w <= 0) {
            return -1;
        }
        d += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Parse bytes written into a pipe by a child process. */
static int parse_pipe(const uint8_t *d, size_t len, struct vms_stream *st,
                      struct vms_error *err, enum vms_compression *comp)
{
    int fds[2], status = 0, rc;
    pid_t pid;
    struct vms_src *src;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        _exit(write_all(fds[1], d, len, 4093) == 0 ? 0 : 1);
    }
    close(fds[1]);
    vms_error_clear(err);
    src = vms_src_open_fd(fds[0], 1, err);
    if (!src) {
        fail_err("pipe", err);
    }
    vms_stream_init(st);
    rc = vms_stream_parse(src, NULL, st, err);
    *comp = vms_src_compression(src);
    if (rc == 0) {
        assert_true(vms_src_at_end(src));
    }
    vms_src_free(src);              /* closes the read end */
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (rc == 0) {
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    return rc;
}

static size_t count_idstr(const struct vms_stream *st, const char *idstr)
{
    size_t i, k = 0;

    for (i = 0; i < st->n_sections; i++) {
        if (strcmp(st->sections[i].idstr, idstr) == 0) {
            k++;
        }
    }
    return k;
}

/* The cpu sections in stream order. */
static size_t cpu_sections(const struct vms_stream *st,
                           const struct vms_section **out, size_t max)
{
    size_t i, k = 0;

    for (i = 0; i < st->n_sections; i++) {
        if (strcmp(st->sections[i].idstr, "cpu") == 0 && k < max) {
            out[k++] = &st->sections[i];
        }
    }
    return k;
}

static void decode_cpu(const struct vec *v, const struct vms_section *s,
                       struct vms_armcpu *c)
{
    struct vms_error err;
    char what[700];

    vms_error_clear(&err);
    if (vms_armcpu_from_section(s, c, &err) != 0) {
        snprintf(what, sizeof(what), "%s cpu/%u", v->rel, s->instance_id);
        fail_err(what, &err);
    }
}

static uint64_t hexval(struct json_object *o)
{
    const char *s = json_object_get_string(o);
    char *end;
    unsigned long long v;

    assert_non_null(s);
    v = strtoull(s, &end, 16);
    assert_true(*end == '\0');
    return (uint64_t)v;
}

static uint64_t jget_hex(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v)) {
        fail_msg("cpu.json: no key %s", key);
    }
    if (json_object_is_type(v, json_type_array)) {
        assert_int_equal(json_object_array_length(v), 1);
        v = json_object_array_get_idx(v, 0);
    }
    return hexval(v);
}

static int64_t jget_int(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v)) {
        fail_msg("cpu.json: no key %s", key);
    }
    assert_true(json_object_is_type(v, json_type_int));
    return json_object_get_int64(v);
}

static struct json_object *jget_array(struct json_object *o, const char *key,
                                      size_t len)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v)) {
        fail_msg("cpu.json: no key %s", key);
    }
    assert_true(json_object_is_type(v, json_type_array));
    if (len) {
        assert_int_equal(json_object_array_length(v), len);
    }
    return v;
}

/* ---- 1. every stream: framing, section table, RAM, cpu sections --------- */

static void check_section_table(const struct vec *v, const uint8_t *d,
                                size_t len, const struct vms_stream *st)
{
    size_t i;
    uint64_t prev_end = 0;
    size_t jo, jl;

    assert_int_equal(st->total_len, len);
    assert_int_equal(st->file_version, 3);
    assert_true(st->has_config);
    assert_string_equal(st->machine, "virt-7.2");
    assert_true(st->has_page_bits);
    assert_int_equal(st->page_bits, 12);
    assert_int_equal(st->page_size, 4096);
    assert_int_equal(st->n_cmds, 0);
    assert_int_equal(st->n_packages, 0);

    /* EOF and the vmdesc trailer end the input */
    assert_true(st->has_eof);
    assert_true(st->has_vmdesc);
    assert_int_equal(d[st->eof_offset], VMS_REC_EOF);
    assert_int_equal(st->vmdesc_offset, st->eof_offset + 1);
    assert_int_equal(d[st->vmdesc_offset], VMS_REC_VMDESC);
    assert_int_equal(vms_get_be32(d + st->vmdesc_offset + 1),
                     st->vmdesc_len);
    assert_int_equal(st->vmdesc_offset + 5 + st->vmdesc_len, len);
    assert_int_equal(tu_find_vmdesc(d, len, &jo, &jl), 0);
    assert_int_equal(jo, st->vmdesc_offset + 5);
    assert_int_equal(jl, st->vmdesc_len);
    assert_memory_equal(st->vmdesc_json, d + jo, jl);
    assert_non_null(st->vmdesc);
    assert_int_equal(st->vmdesc->page_size, 4096);
    assert_int_equal(st->region_offset + st->region_len, len);
    assert_memory_equal(st->region, d + st->region_offset, st->region_len);

    assert_true(st->n_sections > 0);
    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];

        /* contiguous: no commands in these streams */
        if (i == 0) {
            assert_int_equal(d[s->offset], VMS_REC_START);
        } else {
            assert_int_equal(s->offset, prev_end);
        }
        prev_end = s->offset + s->length;
        assert_true(prev_end <= len);
        assert_int_equal(d[s->offset], s->type);
        assert_int_equal(vms_get_be32(d + s->offset + 1), s->section_id);
        assert_true(s->body_offset > s->offset);
        assert_true(s->body_offset + s->body_len <= s->offset + s->length);
        assert_int_equal(s->package, 0);
        if (s->type == VMS_REC_START || s->type == VMS_REC_FULL) {
            size_t n = d[s->offset + 5];

            assert_int_equal(strlen(s->idstr), n);
            assert_memory_equal(d + s->offset + 6, s->idstr, n);
            assert_int_equal(vms_get_be32(d + s->offset + 6 + n),
                             s->instance_id);
            assert_int_equal(vms_get_be32(d + s->offset + 10 + n),
                             s->version_id);
            assert_int_equal(s->body_offset, s->offset + 14 + n);
        } else {
            assert_int_equal(s->body_offset, s->offset + 5);
        }
        /* every section of these streams has its footer */
        assert_true(s->has_footer);
        assert_int_equal(s->body_offset + s->body_len + 5,
                         s->offset + s->length);
        assert_int_equal(d[s->body_offset + s->body_len], VMS_REC_FOOTER);
        assert_int_equal(vms_get_be32(d + s->body_offset + s->body_len + 1),
                         s->section_id);
        assert_int_equal(XXH3_64bits(d + s->offset, (size_t)s->length),
                         s->xxh3);
        if (strcmp(s->idstr, "ram") == 0) {
            assert_int_equal(s->delim, VMS_DELIM_RAM);
            assert_null(s->bytes);
            assert_null(vms_section_body(s));
            assert_int_equal(s->version_id, 4);
        } else {
            assert_int_equal(s->type, VMS_REC_FULL);
            assert_int_equal(s->delim, VMS_DELIM_VMDESC);
            assert_true(s->vmdesc_dev >= 0);
            assert_non_null(s->bytes);
            assert_memory_equal(s->bytes, d + s->offset, s->length);
            assert_ptr_equal(vms_section_body(s),
                             s->bytes + (s->body_offset - s->offset));
            assert_ptr_equal(vms_stream_find(st, s->idstr, s->instance_id),
                             s);
        }
    }
    assert_int_equal(prev_end, st->eof_offset);
    (void)v;
}

static void check_ram(const struct vec *v, const char *md,
                      const struct vms_stream *st)
{
    uint64_t z = 0, n = 0, x = 0, c = 0;
    unsigned ez, en, ex, ec, parts, want_parts;
    size_t i;
    char block[256], *line, *p, *blocks;
    const char *sep;

    for (i = 0; i < st->n_blocks; i++) {
        z += st->blocks[i].zero;
        n += st->blocks[i].normal;
        x += st->blocks[i].xbzrle;
        c += st->blocks[i].compressed;
    }
    assert_int_equal(st->ram_records, z + n + x + c);

    /* the stream types, as the brief and the MANIFEST give them */
    if (strstr(v->name, "-compress")) {
        ez = 40991, en = 5, ex = 0, ec = 62;
    } else if (strstr(v->name, "-xbzrle")) {
        ez = 49050, en = 329, ex = 3748, ec = 0;
    } else if (strncmp(v->name, "run-", 4) == 0) {
        ez = 49050, en = 329, ex = 0, ec = 0;
    } else {
        ez = 40991, en = 67, ex = 0, ec = 0;
    }
    assert_int_equal(z, ez);
    assert_int_equal(n, en);
    assert_int_equal(x, ex);
    assert_int_equal(c, ec);

    /* "- RAM: blocks a=1, b=2; N PART/END sections; Z zero-page, ..." */
    v22_block_name(md, v, block, sizeof(block));
    line = md_item(md, block, "- RAM: ");
    if (!line) {
        fail_msg("%s: no MANIFEST block %s", v->rel, block);
    }
    sep = strstr(line, " PART/END sections; ");
    assert_non_null(sep);
    while (sep > line && sep[-1] >= '0' && sep[-1] <= '9') {
        sep--;
    }
    assert_int_equal(sscanf(sep, "%u PART/END sections; %u zero-page, %u "
                            "normal, %u xbzrle, %u compressed", &parts, &ez,
                            &en, &ex, &ec), 5);
    if (strcmp(block, v->name) == 0) {
        /* the stream's own line: exact */
        assert_int_equal(z, ez);
        assert_int_equal(n, en);
        assert_int_equal(x, ex);
        assert_int_equal(c, ec);
    }
    want_parts = parts;
    parts = 0;
    for (i = 0; i < st->n_sections; i++) {
        if (strcmp(st->sections[i].idstr, "ram") == 0 &&
            (st->sections[i].type == VMS_REC_PART ||
             st->sections[i].type == VMS_REC_END)) {
            parts++;
        }
    }
    assert_int_equal(count_idstr(st, "ram"), parts + 1);
    if (strcmp(block, v->name) == 0) {
        assert_int_equal(parts, want_parts);
    }

    /* the block list, in stream order, with sizes */
    assert_true(strncmp(line, "blocks ", 7) == 0);
    blocks = line + 7;
    *strchr(blocks, ';') = '\0';
    i = 0;
    for (p = strtok(blocks, ","); p; p = strtok(NULL, ",")) {
        char *eq;

        while (*p == ' ') {
            p++;
        }
        eq = strrchr(p, '=');
        assert_non_null(eq);
        *eq = '\0';
        assert_true(i < st->n_blocks);
        /* paused and running streams list mach-virt.ram at different
         * places; compare by name */
        if (strcmp(block, v->name) == 0) {
            assert_string_equal(st->blocks[i].name, p);
        }
        {
            size_t k;
            int found = 0;

            for (k = 0; k < st->n_blocks; k++) {
                if (strcmp(st->blocks[k].name, p) == 0) {
                    /* RAM size differs between -m 32M and 64M streams */
                    if (strcmp(block, v->name) == 0 ||
                        strcmp(p, "mach-virt.ram") != 0) {
                        assert_int_equal(st->blocks[k].size,
                                         strtoull(eq + 1, NULL, 10));
                    }
                    found = 1;
                }
            }
            if (!found) {
                fail_msg("%s: RAM block %s missing", v->rel, p);
            }
        }
        i++;
    }
    assert_int_equal(i, st->n_blocks);
    free(line);
}

/* "- device sections (in stream order): timer/0 slirp/0 ..." */
static void check_order(const struct vec *v, const char *md,
                        const struct vms_stream *st)
{
    char block[256], *line, *tok, *save = NULL;
    size_t i = 0, k = 0;

    v22_block_name(md, v, block, sizeof(block));
    line = md_item(md, block, "- device sections (in stream order): ");
    assert_non_null(line);
    for (tok = strtok_r(line, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        char *slash = strrchr(tok, '/');

        assert_non_null(slash);
        *slash = '\0';
        while (i < st->n_sections &&
               strcmp(st->sections[i].idstr, "ram") == 0) {
            i++;
        }
        if (i >= st->n_sections) {
            fail_msg("%s: section %s/%s missing at the end", v->rel, tok,
                     slash + 1);
        }
        if (strcmp(st->sections[i].idstr, tok) != 0 ||
            st->sections[i].instance_id != strtoul(slash + 1, NULL, 10)) {
            fail_msg("%s: device section %zu is %s/%u, MANIFEST says %s/%s",
                     v->rel, k, st->sections[i].idstr,
                     st->sections[i].instance_id, tok, slash + 1);
        }
        i++;
        k++;
    }
    while (i < st->n_sections && strcmp(st->sections[i].idstr, "ram") == 0) {
        i++;
    }
    assert_int_equal(i, st->n_sections);
    assert_int_equal(k, 16u + 2u * (unsigned)v->ncpu);
    free(line);
}

/* cpreg count, layout and the vCPU count; the per-vCPU details. */
static void check_cpus(const struct vec *v, const struct vms_stream *st)
{
    const struct vms_section *cs[16];
    size_t n = cpu_sections(st, cs, 16), i;
    int32_t k;

    assert_int_equal(n, (size_t)v->ncpu);
    assert_int_equal(count_idstr(st, "cpu_common"), (size_t)v->ncpu);
    for (i = 0; i < n; i++) {
        struct vms_armcpu c;
        const struct vms_section *s = cs[i];

        assert_int_equal(s->instance_id, i);
        assert_int_equal(s->version_id, (unsigned)v->layout);
        assert_int_equal(vms_armcpu_layout_of(s), v->layout);
        /* each vCPU is cpu_common followed by cpu */
        assert_string_equal(s[-1].idstr, "cpu_common");
        assert_int_equal(s[-1].instance_id, i);
        decode_cpu(v, s, &c);
        assert_int_equal(c.layout, v->layout);
        assert_int_equal(c.instance_id, i);
        assert_int_equal(c.section_version, (unsigned)v->layout);
        assert_int_equal(c.n, v->ncpreg);
        assert_int_equal(c.m, v->ncpreg);
        assert_int_equal(c.body_offset, s->body_offset);
        assert_int_equal(c.end_offset, s->body_offset + s->body_len);
        assert_int_equal(c.n_offset, s->body_offset + VMS_ARMCPU_HEAD_LEN);
        if (v->layout == 23) {
            assert_non_null(c.value_idx);
            assert_int_equal(c.m_offset, c.n_offset + 4);
            assert_int_equal(c.ids_offset, c.n_offset + 8);
            for (k = 0; k < c.n; k++) {
                assert_int_equal(c.value_idx[k], k);
                assert_int_equal(vms_armcpu_slots(&c, k), 1);
            }
        } else {
            assert_null(c.value_idx);
            assert_int_equal(c.ids_offset, c.n_offset + 4);
        }
        /* "indexes strictly ascending: True" */
        for (k = 1; k < c.n; k++) {
            assert_true(c.ids[k - 1] < c.ids[k]);
        }
        /* -S streams: only vCPU 0 is powered on; run-*: all */
        assert_int_equal(c.power_state,
                         strncmp(v->name, "run-", 4) == 0 || i == 0 ? 0
                                                                     : 1);
        assert_true(c.has_vfp);
        assert_true(c.has_irq_line_state);
        assert_int_equal(c.has_sve, strstr(v->name, "-max-") != NULL);
        assert_true(vms_armcpu_is_aarch64(&c) ==
                    (strncmp(v->name, "arm-", 4) != 0 &&
                     strncmp(v->name, "det-arm-", 8) != 0));
        vms_armcpu_fini(&c);
    }
}

/* The v22 MANIFEST: sizes, cpregs per vCPU, subsections, cpu offsets. */
static void check_manifest_v22(const struct vec *v, const char *md,
                               const struct vms_stream *st)
{
    struct row rows[4];
    const struct vms_section *cs[16];
    size_t n = cpu_sections(st, cs, 16), i, nr;
    char *line, *p;

    nr = md_rows(md, v->name, rows, 4);
    if (nr == 0) {
        /* the .mig.gz rows name the container: it must decompress to the
         * stream of the same name (same MANIFEST row for the .mig) */
        char cont[300];

        snprintf(cont, sizeof(cont), "%s.gz", v->name);
        nr = md_rows(md, cont, rows, 4);
        assert_int_equal(nr, 1);
        assert_int_equal(rows[0].n, 10);
        assert_int_equal(atoi(rows[0].cell[4]), v->ncpu);
        assert_int_equal(atoi(rows[0].cell[7]), v->ncpreg);
        /* "inner stream 729227 bytes" */
        assert_non_null(strstr(md, "inner stream 729227 bytes"));
        assert_int_equal(st->total_len, 729227);
        return;
    }
    assert_int_equal(nr, 1);
    assert_int_equal(rows[0].n, 10);
    assert_int_equal(atoi(rows[0].cell[4]), v->ncpu);
    assert_int_equal(strtoull(rows[0].cell[6], NULL, 10), st->total_len);
    assert_int_equal(atoi(rows[0].cell[7]), v->ncpreg);

    /* "cpu subsections: cpu/vfp, cpu/irq-line-state" */
    for (i = 0; i < n; i++) {
        struct vms_armcpu c;
        char want[CELL], got[CELL] = "";
        size_t k;

        decode_cpu(v, cs[i], &c);
        for (k = 0; k < c.n_subs; k++) {
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
                     k ? ", " : "", c.sub_names[k]);
        }
        snprintf(want, sizeof(want), "%s", rows[0].cell[8]);
        assert_string_equal(got, want);
        vms_armcpu_fini(&c);
    }

    /* "- cpu section offsets: 0x9d63a, 0x9eb7b; powered_off ..." */
    line = md_item(md, v->name, "- cpu section offsets: ");
    assert_non_null(line);
    p = line;
    for (i = 0; i < n; i++) {
        char *end;
        unsigned long long off = strtoull(p, &end, 16);

        assert_true(end > p);
        if (off != cs[i]->offset) {
            fail_msg("%s: cpu/%zu at 0x%llx, MANIFEST says 0x%llx", v->rel,
                     i, (unsigned long long)cs[i]->offset, off);
        }
        p = end;
        if (*p == ',') {
            p += 2;
        }
    }
    assert_int_equal(*p, ';');
    free(line);

    /* "- cpregs per vCPU (vmdesc array_len): [258, 258]" */
    line = md_item(md, v->name, "- cpregs per vCPU (vmdesc array_len): ");
    assert_non_null(line);
    assert_int_equal(line[0], '[');
    p = line;
    for (i = 0; i < n; i++) {
        assert_int_equal(atoi(p + 1), v->ncpreg);
        p = strpbrk(p + 1, ",]");
        assert_non_null(p);
        if (*p == ',') {
            p++;
        }
    }
    assert_int_equal(*p, ']');
    free(line);
}

/* The v23 MANIFEST: sizes, n / m, and the cpreg field offsets. */
static void check_manifest_v23(const struct vec *v, const char *md,
                               const struct vms_stream *st)
{
    struct row rows[32];
    const struct vms_section *cs[16];
    size_t n = cpu_sections(st, cs, 16), nr, i, files = 0, cpus = 0;
    char nm[64];

    snprintf(nm, sizeof(nm), "%d / %d", v->ncpreg, v->ncpreg);
    nr = md_rows(md, v->name, rows, 32);
    for (i = 0; i < nr; i++) {
        const struct row *r = &rows[i];

        if (r->n == 7 && (strcmp(r->cell[1], "aarch64") == 0 ||
                          strcmp(r->cell[1], "arm") == 0)) {
            /* | file | bin | cpu | vCPUs | size | sha256 | n / m | */
            files++;
            assert_int_equal(atoi(r->cell[3]), v->ncpu);
            assert_int_equal(strtoull(r->cell[4], NULL, 10), st->total_len);
            assert_string_equal(r->cell[6], nm);
        } else if (r->n == 11) {
            /* | file | cpu | section | array_len @ | value_array_len @ |
             *   indexes @ | values @ | vi @ | next field @ | n / m |
             *   ident | */
            size_t k = strtoul(r->cell[1], NULL, 10);
            struct vms_armcpu c;

            cpus++;
            assert_true(k < n);
            assert_int_equal(cs[k]->offset, strtoull(r->cell[2], NULL, 16));
            decode_cpu(v, cs[k], &c);
            assert_int_equal(c.n_offset, strtoull(r->cell[3], NULL, 16));
            assert_int_equal(c.m_offset, strtoull(r->cell[4], NULL, 16));
            assert_int_equal(c.ids_offset, strtoull(r->cell[5], NULL, 16));
            assert_int_equal(c.values_offset,
                             strtoull(r->cell[6], NULL, 16));
            assert_int_equal(c.vidx_offset, strtoull(r->cell[7], NULL, 16));
            assert_int_equal(c.tail_offset, strtoull(r->cell[8], NULL, 16));
            assert_string_equal(r->cell[9], nm);
            assert_string_equal(r->cell[10], "True");
            vms_armcpu_fini(&c);
        }
    }
    assert_int_equal(files, 1);
    assert_int_equal(cpus, n);
}

/* det-v22-stock: only the sizes are in the (v23) MANIFEST. */
static void check_manifest_det(const struct vec *v, const char *md,
                               const struct vms_stream *st)
{
    char key[400];
    const char *p;

    snprintf(key, sizeof(key), "`det-v22-stock/%s` (sha256 `", v->name);
    p = strstr(md, key);
    if (!p) {
        fail_msg("%s: not in the real-v23 MANIFEST", v->rel);
    }
    p = strstr(p, "`, ");
    assert_non_null(p);
    assert_int_equal(strtoull(p + 3, NULL, 10), st->total_len);
}

static void test_every_stream(void **state)
{
    size_t n, i;
    struct vec *vs = corpus(&n);
    char *md22 = load_text("real-v22/MANIFEST.md");
    char *md23 = load_text("real-v23/MANIFEST.md");

    (void)state;
    for (i = 0; i < n; i++) {
        const struct vec *v = &vs[i];
        struct vms_stream st;
        size_t len;
        uint8_t *d = tu_load(v->rel, &len);

        parse_path(v, &st);
        check_section_table(v, d, len, &st);
        check_ram(v, md22, &st);
        check_order(v, md22, &st);
        check_cpus(v, &st);
        if (strcmp(v->dir, "real-v22") == 0) {
            check_manifest_v22(v, md22, &st);
        } else if (strcmp(v->dir, "real-v23") == 0) {
            check_manifest_v23(v, md23, &st);
        } else {
            check_manifest_det(v, md23, &st);
        }
        vms_stream_fini(&st);
        free(d);
    }
    free(md22);
    free(md23);
    free(vs);
}

/* The a57-2cpu line of the brief, spelled out (the MANIFEST-driven check
 * above covers every stream; this one does not depend on the parser of
 * the MANIFEST). */
static void test_a57_2cpu_order(void **state)
{
    static const char *const want[] = {
        "timer/0", "slirp/0", "pflash_cfi01/0", "pflash_cfi01/1",
        "cpu_common/0", "cpu/0", "cpu_common/1", "cpu/1", "arm_gic/0",
        "pl011/0", "pl031/0", "0000:00:00.0/gpex_root/0", "PCIHost/0",
        "PCIBUS/0", "0000:00:01.0/virtio-net/0", "pl061/0", "gpio-key/0",
        "fw_cfg/0", "virt_acpi_build/0", "globalstate/0",
    };
    static const char *const files[] = {
        "real-v22/aa64-virt72-cortex-a57-2cpu.mig.zst",
        "real-v22/aa64-virt72-cortex-a57-2cpu.mig.gz",
        "real-v23/aa64-virt72-cortex-a57-2cpu.mig.zst",
    };
    size_t f;

    (void)state;
    for (f = 0; f < 3; f++) {
        struct vec v;
        struct vms_stream st;
        size_t i, k = 0;

        memset(&v, 0, sizeof(v));
        describe(&v, files[f]);
        parse_path(&v, &st);
        /* ram START, PART, END first */
        assert_string_equal(st.sections[0].idstr, "ram");
        assert_int_equal(st.sections[0].type, VMS_REC_START);
        assert_int_equal(st.sections[0].offset, 61);
        assert_int_equal(st.sections[1].type, VMS_REC_PART);
        assert_int_equal(st.sections[2].type, VMS_REC_END);
        for (i = 0; i < st.n_sections; i++) {
            char got[300];

            if (strcmp(st.sections[i].idstr, "ram") == 0) {
                continue;
            }
            assert_true(k < 20);
            snprintf(got, sizeof(got), "%s/%u", st.sections[i].idstr,
                     st.sections[i].instance_id);
            assert_string_equal(got, want[k]);
            k++;
        }
        assert_int_equal(k, 20);
        assert_int_equal(st.total_len, f < 2 ? 729227 : 731623);
        vms_stream_fini(&st);
    }
}

/* ---- 2. the same parse from a pipe -------------------------------------- */

static void same_stream(const char *what, const struct vms_stream *a,
                        const struct vms_stream *b)
{
    size_t i;

    assert_int_equal(a->total_len, b->total_len);
    assert_int_equal(a->page_size, b->page_size);
    assert_string_equal(a->machine, b->machine);
    assert_int_equal(a->has_eof, b->has_eof);
    assert_int_equal(a->eof_offset, b->eof_offset);
    assert_int_equal(a->has_vmdesc, b->has_vmdesc);
    assert_int_equal(a->vmdesc_offset, b->vmdesc_offset);
    assert_int_equal(a->vmdesc_len, b->vmdesc_len);
    assert_int_equal(a->region_offset, b->region_offset);
    assert_int_equal(a->region_len, b->region_len);
    assert_memory_equal(a->region, b->region, a->region_len);
    assert_int_equal(a->ram_records, b->ram_records);
    assert_int_equal(a->n_blocks, b->n_blocks);
    for (i = 0; i < a->n_blocks; i++) {
        const struct vms_ramblock *x = &a->blocks[i], *y = &b->blocks[i];

        assert_string_equal(x->name, y->name);
        assert_int_equal(x->size, y->size);
        assert_int_equal(x->zero, y->zero);
        assert_int_equal(x->normal, y->normal);
        assert_int_equal(x->xbzrle, y->xbzrle);
        assert_int_equal(x->compressed, y->compressed);
    }
    assert_int_equal(a->n_sections, b->n_sections);
    for (i = 0; i < a->n_sections; i++) {
        const struct vms_section *x = &a->sections[i], *y = &b->sections[i];

        if (x->xxh3 != y->xxh3 || x->offset != y->offset ||
            x->length != y->length) {
            fail_msg("%s: section %zu (%s) differs: offset %llu/%llu "
                     "length %llu/%llu xxh3 %016llx/%016llx", what, i,
                     x->idstr, (unsigned long long)x->offset,
                     (unsigned long long)y->offset,
                     (unsigned long long)x->length,
                     (unsigned long long)y->length,
                     (unsigned long long)x->xxh3,
                     (unsigned long long)y->xxh3);
        }
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->section_id, y->section_id);
        assert_int_equal(x->instance_id, y->instance_id);
        assert_int_equal(x->version_id, y->version_id);
        assert_string_equal(x->idstr, y->idstr);
        assert_int_equal(x->body_offset, y->body_offset);
        assert_int_equal(x->body_len, y->body_len);
        assert_int_equal(x->has_footer, y->has_footer);
        assert_int_equal(x->delim, y->delim);
        assert_int_equal(x->vmdesc_dev, y->vmdesc_dev);
        assert_int_equal(x->package, y->package);
        assert_int_equal(x->bytes != NULL, y->bytes != NULL);
        if (x->bytes) {
            assert_memory_equal(x->bytes, y->bytes, x->length);
        }
    }
}

static void test_pipe(void **state)
{
    size_t n, i;
    struct vec *vs = corpus(&n);

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    for (i = 0; i < n; i++) {
        const struct vec *v = &vs[i];
        struct vms_stream a, b, c;
        struct vms_error err;
        enum vms_compression comp;
        char path[4096];
        size_t len, zlen;
        uint8_t *d = tu_load(v->rel, &len), *z;

        parse_path(v, &a);
        /* the decompressed bytes through a pipe */
        if (parse_pipe(d, len, &b, &err, &comp) != 0) {
            fail_err(v->rel, &err);
        }
        assert_int_equal(comp, VMS_COMP_NONE);
        same_stream(v->rel, &a, &b);
        check_cpus(v, &b);
        /* and the compressed file's bytes through a pipe */
        abs_path(v, path, sizeof(path));
        {
            FILE *f = fopen(path, "rb");

            assert_non_null(f);
            assert_int_equal(fseek(f, 0, SEEK_END), 0);
            zlen = (size_t)ftell(f);
            rewind(f);
            z = malloc(zlen);
            assert_non_null(z);
            assert_int_equal(fread(z, 1, zlen, f), zlen);
            fclose(f);
        }
        if (parse_pipe(z, zlen, &c, &err, &comp) != 0) {
            fail_err(v->rel, &err);
        }
        assert_int_equal(comp, v->comp);
        same_stream(v->rel, &a, &c);
        vms_stream_fini(&a);
        vms_stream_fini(&b);
        vms_stream_fini(&c);
        free(z);
        free(d);
    }
    free(vs);
}

/* The options convert uses: lazy_vmdesc (builtin layouts and footers
 * first, the JSON only if they fail) and no_hash (no xxh3 of RAM) must
 * find exactly the same sections and the same cpu state. */
static void test_lazy_vmdesc(void **state)
{
    size_t n, i;
    struct vec *vs = corpus(&n);

    (void)state;
    for (i = 0; i < n; i++) {
        const struct vec *v = &vs[i];
        struct vms_stream a, b;
        struct vms_parse_opts o;
        struct vms_error err;
        struct vms_src *src;
        char path[4096];
        size_t k;

        parse_path(v, &a);
        memset(&o, 0, sizeof(o));
        o.lazy_vmdesc = 1;
        o.no_hash = 1;
        abs_path(v, path, sizeof(path));
        vms_error_clear(&err);
        src = vms_src_open_path(path, &err);
        assert_non_null(src);
        vms_stream_init(&b);
        if (vms_stream_parse(src, &o, &b, &err) != 0) {
            fail_err(v->rel, &err);
        }
        vms_src_free(src);
        assert_int_equal(b.total_len, a.total_len);
        assert_true(b.has_eof);
        assert_true(b.has_vmdesc);
        assert_int_equal(b.vmdesc_offset, a.vmdesc_offset);
        assert_int_equal(b.ram_records, a.ram_records);
        assert_int_equal(b.n_sections, a.n_sections);
        for (k = 0; k < a.n_sections; k++) {
            const struct vms_section *x = &a.sections[k];
            const struct vms_section *y = &b.sections[k];

            assert_string_equal(x->idstr, y->idstr);
            assert_int_equal(x->instance_id, y->instance_id);
            assert_int_equal(x->offset, y->offset);
            assert_int_equal(x->length, y->length);
            assert_int_equal(x->body_offset, y->body_offset);
            assert_int_equal(x->body_len, y->body_len);
            assert_int_equal(x->has_footer, y->has_footer);
            if (strcmp(x->idstr, "ram") != 0) {
                assert_int_equal(x->xxh3, y->xxh3);
                assert_true(y->delim == VMS_DELIM_VMDESC ||
                            y->delim == VMS_DELIM_BUILTIN ||
                            y->delim == VMS_DELIM_FOOTER);
            }
            if (strcmp(x->idstr, "cpu") == 0) {
                struct vms_armcpu c1, c2;
                size_t l1, l2;
                uint8_t *e1, *e2;

                assert_int_equal(vms_armcpu_layout_of(y), v->layout);
                decode_cpu(v, x, &c1);
                decode_cpu(v, y, &c2);
                vms_error_clear(&err);
                e1 = vms_armcpu_encode(&c1, v->layout, &l1, &err);
                e2 = vms_armcpu_encode(&c2, v->layout, &l2, &err);
                assert_true(e1 && e2);
                assert_int_equal(l1, l2);
                assert_memory_equal(e1, e2, l1);
                free(e1);
                free(e2);
                vms_armcpu_fini(&c1);
                vms_armcpu_fini(&c2);
            }
        }
        vms_stream_fini(&a);
        vms_stream_fini(&b);
    }
    free(vs);
}

/* ---- 3. cpu section offsets and decoded registers vs ground truth ------- */

static void check_cpu_json(const char *rel, const struct vms_stream *st,
                           const struct vec *v)
{
    size_t len, i, k;
    uint8_t *d = tu_load(rel, &len);
    struct json_tokener *tok = json_tokener_new();
    struct json_object *root;
    const struct vms_section *cs[16];
    size_t n = cpu_sections(st, cs, 16);

    assert_non_null(tok);
    root = json_tokener_parse_ex(tok, (const char *)d, (int)len);
    if (!root || !json_object_is_type(root, json_type_array)) {
        fail_msg("%s: not a JSON array", rel);
    }
    assert_int_equal(json_object_array_length(root), n);
    for (i = 0; i < n; i++) {
        struct json_object *j = json_object_array_get_idx(root, i), *a, *e;
        const struct vms_section *s = NULL;
        struct vms_armcpu c;
        uint32_t inst = (uint32_t)jget_int(j, "instance_id");
        size_t q;

        for (k = 0; k < n; k++) {
            if (cs[k]->instance_id == inst) {
                s = cs[k];
            }
        }
        if (!s) {
            fail_msg("%s: no cpu section for instance %u", rel, inst);
        }
        /* framing */
        assert_int_equal(s->section_id, jget_int(j, "section_id"));
        assert_int_equal(s->version_id, jget_int(j, "version"));
        assert_int_equal(s->offset, jget_int(j, "section_offset"));
        assert_int_equal(s->body_offset, jget_int(j, "data_offset"));
        assert_int_equal(s->body_offset + s->body_len,
                         jget_int(j, "data_end"));
        assert_int_equal(s->body_offset + s->body_len,
                         jget_int(j, "footer_offset"));
        decode_cpu(v, s, &c);
        assert_int_equal(c.n_offset,
                         jget_int(j, "cpreg_vmstate_array_len_offset"));
        assert_int_equal(c.ids_offset,
                         jget_int(j, "cpreg_vmstate_indexes_offset"));
        assert_int_equal(c.values_offset,
                         jget_int(j, "cpreg_vmstate_values_offset"));
        assert_int_equal(c.n, jget_int(j, "cpreg_vmstate_array_len"));

        /* core registers */
        assert_int_equal(c.pc, jget_hex(j, "pc"));
        assert_int_equal(c.cpsr, jget_hex(j, "cpsr"));
        a = jget_array(j, "xregs", 32);
        for (k = 0; k < 32; k++) {
            assert_int_equal(c.xregs[k],
                             hexval(json_object_array_get_idx(a, k)));
        }
        a = jget_array(j, "regs", 16);
        for (k = 0; k < 16; k++) {
            assert_int_equal(c.regs[k],
                             hexval(json_object_array_get_idx(a, k)));
        }
        assert_int_equal(c.spsr, jget_hex(j, "env.spsr"));
        a = jget_array(j, "env.banked_spsr", 8);
        for (k = 0; k < 8; k++) {
            assert_int_equal(c.banked_spsr[k],
                             hexval(json_object_array_get_idx(a, k)));
        }
        a = jget_array(j, "env.elr_el", 4);
        for (k = 0; k < 4; k++) {
            assert_int_equal(c.elr_el[k],
                             hexval(json_object_array_get_idx(a, k)));
        }
        a = jget_array(j, "env.sp_el", 4);
        for (k = 0; k < 4; k++) {
            assert_int_equal(c.sp_el[k],
                             hexval(json_object_array_get_idx(a, k)));
        }
        assert_int_equal(c.syndrome, jget_hex(j, "env.exception.syndrome"));
        assert_int_equal(c.gt_timer[0], jget_hex(j, "gt_timer[0]"));
        assert_int_equal(c.gt_timer[1], jget_hex(j, "gt_timer[1]"));
        assert_int_equal(c.power_state,
                         jget_int(j, "power_state(powered_off)"));

        /* FP/SIMD */
        assert_true(c.has_vfp);
        assert_int_equal(c.fpscr, jget_hex(j, "vfp.fpscr"));
        a = jget_array(j, "vfp.q(hi:lo)", 32);
        for (q = 0; q < 32; q++) {
            const char *s2 = json_object_get_string(
                json_object_array_get_idx(a, q));
            char hi[17], lo[17];

            assert_int_equal(strlen(s2), 34);
            memcpy(hi, s2 + 2, 16);
            hi[16] = '\0';
            memcpy(lo, s2 + 18, 16);
            lo[16] = '\0';
            assert_int_equal(c.vfp_d[q][1], strtoull(hi, NULL, 16));
            assert_int_equal(c.vfp_d[q][0], strtoull(lo, NULL, 16));
        }

        /* subsections: "cpu/vfp v3 @0x1b6c79" */
        a = jget_array(j, "subsections", c.n_subs);
        for (k = 0; k < c.n_subs; k++) {
            char name[128];
            unsigned ver;
            unsigned long long off;
            size_t at, nl;

            assert_int_equal(sscanf(json_object_get_string(
                                        json_object_array_get_idx(a, k)),
                                    "%127s v%u @%llx", name, &ver, &off),
                             3);
            assert_string_equal(c.sub_names[k], name);
            if (k == 0) {
                assert_int_equal(c.subs_offset, off);
            }
            at = (size_t)(off - c.subs_offset);
            nl = strlen(name);
            assert_true(at + 6 + nl <= c.subs_len);
            assert_int_equal(c.subs[at], VMS_REC_SUBSECTION);
            assert_int_equal(c.subs[at + 1], nl);
            assert_memory_equal(c.subs + at + 2, name, nl);
            assert_int_equal(vms_get_be32(c.subs + at + 2 + nl), ver);
        }

        /* every cpreg id and value, in order */
        a = jget_array(j, "cpregs", (size_t)c.n);
        for (k = 0; k < (size_t)c.n; k++) {
            e = json_object_array_get_idx(a, k);
            if (c.ids[k] != hexval(json_object_array_get_idx(e, 0)) ||
                c.values[k] != hexval(json_object_array_get_idx(e, 1))) {
                fail_msg("%s vCPU %u cpreg %zu: 0x%016llx = 0x%016llx, "
                         "ground truth %s = %s", rel, inst, k,
                         (unsigned long long)c.ids[k],
                         (unsigned long long)c.values[k],
                         json_object_get_string(
                             json_object_array_get_idx(e, 0)),
                         json_object_get_string(
                             json_object_array_get_idx(e, 1)));
            }
        }
        vms_armcpu_fini(&c);
    }
    json_object_put(root);
    json_tokener_free(tok);
    free(d);
}

static void test_cpu_ground_truth(void **state)
{
    size_t n, i, done = 0;
    struct vec *vs = corpus(&n);

    (void)state;
    for (i = 0; i < n; i++) {
        const struct vec *v = &vs[i];
        struct vms_stream st;
        char rel[600];

        if (strcmp(v->dir, "real-v22") != 0) {
            continue;
        }
        snprintf(rel, sizeof(rel), "%s/%.*s.cpu.json.zst", v->dir,
                 (int)(strlen(v->name) - 4), v->name);
        parse_path(v, &st);
        check_cpu_json(rel, &st, v);
        vms_stream_fini(&st);
        done++;
    }
    assert_true(done >= 19);
    free(vs);
}

/* A few streams by hand: cpu section offsets as the MANIFESTs list them
 * (the MANIFEST-driven check covers all of them; these do not depend on
 * that parser). */
static void test_cpu_offsets(void **state)
{
    static const struct {
        const char *rel;
        uint64_t off[4];
    } t[] = {
        { "real-v22/aa64-virt72-cortex-a53-4cpu.mig.zst",
          { 0x9d63a, 0x9eb7b, 0xa00bc, 0xa15fd } },
        { "real-v22/aa64-virt72-max-2cpu.mig.zst", { 0x9d63a, 0x9fe88 } },
        { "real-v22/arm-virt72-cortex-a15-2cpu.mig.zst",
          { 0x9d63a, 0x9e7c5 } },
        { "real-v22/aa64-virt72-cortex-a57-1cpu-compress.mig.zst",
          { 0x8cda9 } },
        { "real-v22/run-aa64-virt72-cortex-a57-2cpu-1s.mig.zst",
          { 0x1b59cb, 0x1b6f0c } },
        { "real-v22/run-aa64-virt72-cortex-a57-2cpu-xbzrle.mig.zst",
          { 0x1c32c3, 0x1c4804 } },
        { "real-v23/aa64-virt72-max-4cpu.mig.zst",
          { 0x9d63a, 0xa034c, 0xa305e, 0xa5d70 } },
        { "real-v23/det-arm-virt72-cortex-a15-2cpu.mig.zst",
          { 0x9d63a, 0x9eadd } },
    };
    size_t i, k;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct vec v;
        struct vms_stream st;
        const struct vms_section *cs[16];
        size_t n;

        memset(&v, 0, sizeof(v));
        describe(&v, t[i].rel);
        parse_path(&v, &st);
        n = cpu_sections(&st, cs, 16);
        assert_int_equal(n, (size_t)v.ncpu);
        for (k = 0; k < n; k++) {
            assert_int_equal(cs[k]->offset, t[i].off[k]);
        }
        vms_stream_fini(&st);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_stream),
        cmocka_unit_test(test_a57_2cpu_order),
        cmocka_unit_test(test_pipe),
        cmocka_unit_test(test_lazy_vmdesc),
        cmocka_unit_test(test_cpu_ground_truth),
        cmocka_unit_test(test_cpu_offsets),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
