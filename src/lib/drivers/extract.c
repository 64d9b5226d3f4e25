#include "config.h"
#include "extract.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "ramimage.h"
#include "ramlayout.h"
#include "sink.h"
#include "stream.h"

#define ENCODED_MAX 192

struct extractor {
    const struct vms_extract_opts *o;
    struct vms_sink **sinks;        /* by block index */
    size_t n_sinks;
};

void vms_extract_file_name(const char *block, char *buf, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    char enc[ENCODED_MAX + 4];
    size_t i, n = 0;
    int cut = 0;

    for (i = 0; block[i]; i++) {
        unsigned char ch = (unsigned char)block[i];
        int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || strchr("._:@+,=-", ch);

        if (i == 0 && ch == '.') {
            plain = 0;
        }
        if (n + (plain ? 1 : 3) > ENCODED_MAX) {
            cut = 1;
            break;
        }
        if (plain) {
            enc[n++] = (char)ch;
        } else {
            enc[n++] = '%';
            enc[n++] = hex[ch >> 4];
            enc[n++] = hex[ch & 15];
        }
    }
    enc[n] = '\0';
    if (cut) {
        snprintf(buf, len, "%s~%016llx.bin", enc,
                 (unsigned long long)XXH3_64bits(block, strlen(block)));
    } else {
        snprintf(buf, len, "%s.bin", enc);
    }
}

int vms_extract_block_gpa(const struct vms_stream *st, size_t b,
                          uint64_t *gpa, const char **source)
{
    const struct vms_ram_layout *r;

    if (st->blocks[b].has_gpa) {
        *gpa = st->blocks[b].gpa;
        *source = "stream";
        return 1;
    }
    r = vms_ramlayout_find(st->machine, st->blocks[b].name);
    if (r) {
        *gpa = r->gpa;
        *source = "ram-layouts";
        return 1;
    }
    return 0;
}

static int wanted(const struct extractor *x, const char *name)
{
    return !x->o->block || strcmp(x->o->block, name) == 0;
}

static char *path_for(const struct extractor *x, const char *name)
{
    char fname[VMS_EXTRACT_NAME_MAX];
    size_t n;
    char *p;

    if (x->o->block) {
        return strdup(x->o->file);
    }
    vms_extract_file_name(name, fname, sizeof(fname));
    n = strlen(x->o->dir) + strlen(fname) + 2;
    p = malloc(n);
    if (p) {
        snprintf(p, n, "%s/%s", x->o->dir, fname);
    }
    return p;
}

static struct vms_sink *open_block(struct extractor *x, size_t idx,
                                   const char *name, struct vms_error *err)
{
    struct vms_sink *k;
    char *path;

    if (idx >= x->n_sinks) {
        size_t n = idx + 1;
        struct vms_sink **ns = realloc(x->sinks, n * sizeof(*ns));

        if (!ns) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            return NULL;
        }
        memset(ns + x->n_sinks, 0, (n - x->n_sinks) * sizeof(*ns));
        x->sinks = ns;
        x->n_sinks = n;
    }
    if (x->sinks[idx]) {
        return x->sinks[idx];
    }
    path = path_for(x, name);
    if (!path) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    k = vms_sink_open(path, NULL, err);
    free(path);
    if (!k) {
        return NULL;
    }
    if (vms_sink_fd(k) < 0) {
        vms_sink_abort(k);
        vms_error_set_nooff(err, VMS_E_USAGE, "RAM goes to a regular file "
                            "(later copies of a page replace earlier "
                            "ones), not to standard output");
        return NULL;
    }
    x->sinks[idx] = k;
    return k;
}

static int target(void *opaque, const struct vms_ram_page *pg, int *fd,
                  uint64_t *base, struct vms_error *err)
{
    struct extractor *x = opaque;
    struct vms_sink *k;

    *base = 0;
    if (!wanted(x, pg->block->name)) {
        *fd = -1;
        return 0;
    }
    k = open_block(x, pg->block_index, pg->block->name, err);
    if (!k) {
        return -1;
    }
    *fd = vms_sink_fd(k);
    return 0;
}

static json_object *hex(uint64_t v)
{
    char b[24];

    snprintf(b, sizeof(b), "0x%llx", (unsigned long long)v);
    return json_object_new_string(b);
}

static int write_manifest(const struct vms_stream *st, const char *dir,
                          struct vms_error *err)
{
    json_object *root = json_object_new_object();
    json_object *arr = json_object_new_array();
    struct vms_sink *k;
    const char *text;
    size_t i, n = strlen(dir) + sizeof(VMS_EXTRACT_MANIFEST) + 1;
    char *path = malloc(n);
    int rc = -1;

    if (!root || !arr || !path) {
        json_object_put(root);
        json_object_put(arr);
        free(path);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    snprintf(path, n, "%s/%s", dir, VMS_EXTRACT_MANIFEST);
    json_object_object_add(root, "machine",
                           json_object_new_string(st->machine));
    json_object_object_add(root, "page_size",
                           json_object_new_int64(st->page_size));
    json_object_object_add(root, "stream_bytes",
                           json_object_new_int64((int64_t)st->total_len));
    json_object_object_add(root, "blocks", arr);
    for (i = 0; i < st->n_blocks; i++) {
        const struct vms_ramblock *b = &st->blocks[i];
        json_object *o = json_object_new_object();
        json_object *pages = json_object_new_object();
        char fname[VMS_EXTRACT_NAME_MAX];
        const char *src = NULL;
        uint64_t gpa;
        int known = vms_extract_block_gpa(st, i, &gpa, &src);

        vms_extract_file_name(b->name, fname, sizeof(fname));
        json_object_object_add(o, "name", json_object_new_string(b->name));
        json_object_object_add(o, "file", json_object_new_string(fname));
        json_object_object_add(o, "size", json_object_new_int64(
                                              (int64_t)b->size));
        json_object_object_add(o, "gpa", known ? hex(gpa) : NULL);
        json_object_object_add(o, "gpa_from",
                               known ? json_object_new_string(src) : NULL);
        json_object_object_add(pages, "zero",
                               json_object_new_int64((int64_t)b->zero));
        json_object_object_add(pages, "normal",
                               json_object_new_int64((int64_t)b->normal));
        json_object_object_add(pages, "xbzrle",
                               json_object_new_int64((int64_t)b->xbzrle));
        json_object_object_add(pages, "compressed", json_object_new_int64(
                                                 (int64_t)b->compressed));
        json_object_object_add(o, "page_records", pages);
        json_object_array_add(arr, o);
    }
    text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                          JSON_C_TO_STRING_SPACED |
                                          JSON_C_TO_STRING_NOSLASHESCAPE);
    k = vms_sink_open(path, NULL, err);
    if (k) {
        if (vms_sink_write(k, text, strlen(text), err) < 0 ||
            vms_sink_write(k, "\n", 1, err) < 0) {
            vms_sink_abort(k);
        } else {
            rc = vms_sink_commit(k, err);
        }
    }
    json_object_put(root);
    free(path);
    return rc;
}

int vms_extract(struct vms_src *src, const struct vms_extract_opts *o,
                struct vms_stream *st, struct vms_error *err)
{
    struct extractor x = { o, NULL, 0 };
    struct vms_parse_opts po;
    struct vms_stream_observer ob;
    struct vms_ramimg *img;
    size_t i;
    int rc = -1, found = 0;

    if (o->dir && mkdir(o->dir, 0777) < 0 && errno != EEXIST) {
        vms_error_set_errno(err, errno, "cannot make directory %s", o->dir);
        return -1;
    }
    img = vms_ramimg_new(target, &x, err);
    if (!img) {
        return -1;
    }
    memset(&po, 0, sizeof(po));
    po.no_hash = 1;
    po.twin = o->twin;
    vms_ramimg_observer(img, o->progress, o->progress_opaque, &ob);
    po.observer = &ob;
    if (vms_stream_parse(src, &po, st, err) < 0 ||
        vms_ramimg_flush(img, err) < 0) {
        goto out;
    }
    /* Blocks with no page record at all are all zero: files all hole. */
    for (i = 0; i < st->n_blocks; i++) {
        struct vms_sink *k;

        if (!wanted(&x, st->blocks[i].name)) {
            continue;
        }
        found = 1;
        k = open_block(&x, i, st->blocks[i].name, err);
        if (!k) {
            goto out;
        }
        if (ftruncate(vms_sink_fd(k), (off_t)st->blocks[i].size) < 0) {
            vms_error_set_errno(err, errno, "cannot set the length of the "
                                "file for RAM block \"%s\"",
                                st->blocks[i].name);
            goto out;
        }
    }
    if (o->block && !found) {
        vms_error_set_nooff(err, VMS_E_USAGE, "the stream has no RAM block "
                            "named \"%s\"", o->block);
        goto out;
    }
    for (i = 0; i < x.n_sinks; i++) {
        if (x.sinks[i]) {
            struct vms_sink *k = x.sinks[i];

            x.sinks[i] = NULL;
            if (vms_sink_commit(k, err) < 0) {
                goto out;
            }
        }
    }
    if (o->dir && write_manifest(st, o->dir, err) < 0) {
        goto out;
    }
    rc = 0;
out:
    for (i = 0; i < x.n_sinks; i++) {
        vms_sink_abort(x.sinks[i]);
    }
    free(x.sinks);
    vms_ramimg_free(img);
    return rc;
}
