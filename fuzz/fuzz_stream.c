/*
 * fuzz_stream.c - the stream reader and the "info" path.
 *
 * Input: a migration stream.  Plain inputs are parsed from memory
 * (vms_src_open_mem) and, as a differential check, again through a file
 * descriptor (vms_src_open_fd on a memfd: the refill/peek code the CLI
 * uses); both must agree.  Inputs that start with a magic of the filter
 * table (gzip, zstd, bzip2, xz, lzop, libvirt) go through the fd path
 * only (memory sources do not decompress).
 * After a successful parse every section is checked for consistent
 * offsets, every device section with a layout is walked again (as "dump"
 * does) and every cpu section is decoded (as "info" does), re-encoded in
 * both layouts and its views exercised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "armcpu.h"
#include "filter.h"
#include "fuzz_common.h"
#include "layout.h"
#include "src.h"
#include "stream.h"
#include "vcpus.h"

struct walk_count {
    size_t fields, subs, depth_max;
};

static int on_field(void *opaque, const struct vms_walk_field *f)
{
    struct walk_count *w = opaque;

    FUZZ_CHECK(f->path && f->field && f->data, "walk: empty field event");
    w->fields++;
    return 0;
}

static int on_sub(void *opaque, const struct vms_walk_sub *s)
{
    struct walk_count *w = opaque;

    FUZZ_CHECK(s->name && strlen(s->name) < 256, "walk: bad sub name");
    w->subs++;
    return 0;
}

static void check_sections(const struct vms_stream *st)
{
    size_t i;

    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];

        FUZZ_CHECK(s->length > 0, "section %zu has length 0", i);
        FUZZ_CHECK(s->offset + s->length <= st->total_len,
                   "section %zu ends at %llu, past the stream (%llu)", i,
                   (unsigned long long)(s->offset + s->length),
                   (unsigned long long)st->total_len);
        FUZZ_CHECK(s->body_offset >= s->offset &&
                       s->body_offset + s->body_len <=
                           s->offset + s->length,
                   "section %zu: body outside the section", i);
        FUZZ_CHECK(strlen(s->idstr) < VMS_IDSTR_BUF, "idstr");
        if (s->bytes) {
            const uint8_t *body = vms_section_body(s);
            struct walk_count wc = { 0 };
            static const struct vms_walk_ops ops = {
                .field = on_field,
                .subsection = on_sub,
            };
            struct vms_error e;
            size_t used = 0;

            FUZZ_CHECK(body == s->bytes + (s->body_offset - s->offset),
                       "body pointer");
            /* Touch every byte: ASan catches a section outside its
             * buffer. */
            {
                volatile uint8_t x = 0;
                size_t k;

                for (k = 0; k < s->length; k++) {
                    x ^= s->bytes[k];
                }
                (void)x;
            }
            if (s->layout) {
                vms_error_clear(&e);
                FUZZ_CHECK(vms_walk(s->layout, body, (size_t)s->body_len,
                                    s->body_offset,
                                    s->delim == VMS_DELIM_BUILTIN, &ops,
                                    &wc, &used, &e) == 0,
                           "section %zu (%s) no longer walks with the "
                           "layout that delimited it: %s", i, s->idstr,
                           e.msg);
                FUZZ_CHECK(used == s->body_len,
                           "section %zu: walk used %zu of %llu", i, used,
                           (unsigned long long)s->body_len);
            }
        } else {
            FUZZ_CHECK(s->delim == VMS_DELIM_RAM,
                       "section %zu not in memory but not RAM", i);
        }
    }
    for (i = 0; i < st->n_blocks; i++) {
        FUZZ_CHECK(st->blocks[i].name[0] != '\0', "empty block name");
    }
}

static void info_cpus(const struct vms_stream *st)
{
    struct vms_vcpus it;
    size_t i;

    for (i = 0; i < st->n_sections; i++) {
        int layout = vms_armcpu_layout_of(&st->sections[i]);

        FUZZ_CHECK(layout == -1 || layout == 22 || layout == 23,
                   "layout_of %d", layout);
    }
    vms_vcpus_init(&it, st);
    while (vms_vcpus_next(&it)) {
        const struct vms_section *s = it.section;
        const struct vms_armcpu *c = &it.cpu;
        int l;

        if (!it.ok) {
            fuzz_check_rc(-1, &it.err, "vms_armcpu_from_section");
            continue;
        }
        FUZZ_CHECK(!vms_error_isset(&it.err), "decoded with an error set");
        FUZZ_CHECK(c->layout == 22 || c->layout == 23, "layout %d",
                   c->layout);
        FUZZ_CHECK(c->subs_offset + c->subs_len == c->end_offset,
                   "subsections do not end the body");
        fuzz_armcpu_views(c);
        for (l = 22; l <= 23; l++) {
            struct vms_error e2;
            size_t len = 0;
            uint8_t *out;

            vms_error_clear(&e2);
            out = vms_armcpu_encode(c, l, &len, &e2);
            FUZZ_CHECK(out || vms_error_isset(&e2),
                       "encode failed without an error");
            if (out && l == c->layout) {
                FUZZ_CHECK(len == s->body_len &&
                               memcmp(out, vms_section_body(s), len) == 0,
                           "cpu#%u: re-encoding in its own layout "
                           "changes the body", s->instance_id);
            }
            free(out);
        }
    }
    FUZZ_CHECK(it.failed == 0 || vms_error_isset(&it.first),
               "a vCPU failed but the iterator latched no error");
    vms_vcpus_fini(&it);
}

/* Anything the filter table bids on (a compression or the libvirt
 * container): the same decision vms_src_open_fd makes. */
static int is_container(const uint8_t *d, size_t n)
{
    return vms_filter_bid(d, n < VMS_FILTER_BID_LEN ? n
                                                   : VMS_FILTER_BID_LEN) !=
           NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vms_stream st, st2;
    struct vms_error err, err2;
    struct vms_src *src;
    int rc = -1, rc2;
    int container = is_container(data, size);

    if (!container) {
        rc = fuzz_parse_mem(data, size, &st, &err);
        if (rc == 0) {
            check_sections(&st);
            info_cpus(&st);
        }
    }

    /* The file-descriptor path (what the CLI reads through): always for
     * containers, and as a differential check for one plain input in four
     * (chosen by content, so a crash reproduces): it costs a 512 KiB
     * buffer per run. */
    if (!container && (size == 0 || (data[size / 2] & 3) != 0)) {
        vms_stream_fini(&st);
        return 0;
    }
    vms_error_clear(&err2);
    vms_stream_init(&st2);
    src = vms_src_open_fd(fuzz_memfd_with(data, size), 0, &err2);
    if (src) {
        rc2 = vms_stream_parse(src, NULL, &st2, &err2);
        fuzz_check_rc(rc2, &err2, "vms_stream_parse (fd)");
        if (rc2 == 0 && container) {
            check_sections(&st2);
            info_cpus(&st2);
        }
        if (!container) {
            FUZZ_CHECK(rc == rc2, "memory parse %d, fd parse %d (%s | %s)",
                       rc, rc2, err.msg, err2.msg);
            FUZZ_CHECK(err.code == err2.code &&
                           strcmp(err.msg, err2.msg) == 0 &&
                           err.offset == err2.offset,
                       "memory and fd parse disagree: \"%s\" @%llu vs "
                       "\"%s\" @%llu", err.msg,
                       (unsigned long long)err.offset, err2.msg,
                       (unsigned long long)err2.offset);
            if (rc == 0) {
                size_t i;

                FUZZ_CHECK(st.n_sections == st2.n_sections &&
                               st.total_len == st2.total_len,
                           "section tables differ");
                for (i = 0; i < st.n_sections; i++) {
                    FUZZ_CHECK(st.sections[i].xxh3 == st2.sections[i].xxh3 &&
                                   st.sections[i].length ==
                                       st2.sections[i].length,
                               "section %zu differs", i);
                }
            }
        }
        vms_src_free(src);
    } else {
        FUZZ_CHECK(vms_error_isset(&err2), "open_fd failed silently");
    }
    vms_stream_fini(&st2);
    if (!container) {
        vms_stream_fini(&st);
    }
    return 0;
}
