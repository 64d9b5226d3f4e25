#include "config.h"
#include "stream.h"

#include <stdlib.h>
#include <string.h>

#include "stream_impl.h"
#include "vmdesc_json.h"
#include "wire.h"

void vms_stream_init(struct vms_stream *st)
{
    memset(st, 0, sizeof(*st));
}

void vms_stream_fini(struct vms_stream *st)
{
    size_t i;

    for (i = 0; i < st->n_caps; i++) {
        free(st->caps[i]);
    }
    free(st->caps);
    free(st->sections);
    free(st->blocks);
    free(st->cmds);
    vms_stream_region_free(st);
    for (i = 0; i < st->n_packages; i++) {
        free(st->packages[i]);
    }
    free(st->packages);
    vms_vmdesc_free(st->vmdesc);
    memset(st, 0, sizeof(*st));
}

const struct vms_section *vms_stream_find(const struct vms_stream *st,
                                          const char *idstr,
                                          uint32_t instance_id)
{
    size_t i;

    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];

        if ((s->type == VMS_REC_FULL || s->type == VMS_REC_START) &&
            s->instance_id == instance_id && strcmp(s->idstr, idstr) == 0) {
            return s;
        }
    }
    return NULL;
}

const uint8_t *vms_section_body(const struct vms_section *s)
{
    return s->bytes ? s->bytes + (s->body_offset - s->offset) : NULL;
}

struct vms_section *vms_stream_new_section(struct vms_parser *p, uint64_t off)
{
    struct vms_stream *st = p->st;
    struct vms_section *s;

    if (st->n_sections == st->cap_sections) {
        size_t cap = st->cap_sections ? st->cap_sections * 2 : 64;
        struct vms_section *n;

        if (cap > VMS_MAX_SECTIONS) {
            vms_error_set(p->err, VMS_E_LIMIT, off,
                          "more than %u sections", VMS_MAX_SECTIONS);
            return NULL;
        }
        n = realloc(st->sections, cap * sizeof(*n));
        if (!n) {
            vms_error_set_nooff(p->err, VMS_E_NOMEM, "out of memory");
            return NULL;
        }
        st->sections = n;
        st->cap_sections = cap;
    }
    s = &st->sections[st->n_sections++];
    memset(s, 0, sizeof(*s));
    s->offset = off;
    s->vmdesc_dev = -1;
    return s;
}

int vms_stream_parse_records(struct vms_parser *p, struct vms_src *src,
                             int package, int streaming)
{
    struct vms_stream *st = p->st;

    for (;;) {
        const uint8_t *b;
        int rc;

        if (vms_error_isset(p->err)) {
            return -1;
        }
        if (p->ob->progress && streaming &&
            p->ob->progress(p->ob->opaque, vms_src_offset(src),
                           vms_src_raw_offset(src)) < 0) {
            return -1;
        }
        b = vms_src_peek(src, 1, NULL);
        if (!b) {
            if (vms_error_isset(p->err)) {
                return -1;
            }
            if (package) {
                return 0;
            }
            if (!streaming) {
                return 0;   /* region: the caller checks for EOF */
            }
            vms_error_set(p->err, VMS_E_TRUNCATED, vms_src_offset(src),
                          "stream ends without QEMU_VM_EOF");
            return -1;
        }
        switch (b[0]) {
        case VMS_REC_EOF:
            if (package) {
                vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src),
                              "QEMU_VM_EOF inside a PACKAGED command");
                return -1;
            }
            if (streaming) {
                /* EOF straight after RAM: keep the trailer with it. */
                return vms_stream_enter_region(p, src, package);
            }
            st->has_eof = 1;
            st->eof_offset = vms_src_offset(src);
            vms_src_consume(src, 1);
            return vms_stream_trailer(p, src);
        case VMS_REC_START:
        case VMS_REC_FULL:
            rc = vms_stream_full_or_start(p, src, package, streaming);
            if (rc == 1) {
                return vms_stream_enter_region(p, src, package);
            }
            break;
        case VMS_REC_PART:
        case VMS_REC_END:
            rc = vms_stream_part_or_end(p, src, package, streaming);
            break;
        case VMS_REC_COMMAND:
            rc = vms_stream_command(p, src, streaming);
            break;
        default:
            vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src),
                          "unknown record type 0x%02x where a section, "
                          "command or EOF was expected (QEMU: \"Unknown "
                          "savevm section type %d\")", b[0], b[0]);
            return -1;
        }
        if (rc < 0) {
            return -1;
        }
    }
}

int vms_stream_parse(struct vms_src *src, const struct vms_parse_opts *o,
                     struct vms_stream *st, struct vms_error *err)
{
    static const struct vms_parse_opts none;
    static const struct vms_stream_observer nobody;
    struct vms_parser p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.st = st;
    p.o = o ? o : &none;
    p.ob = p.o->observer ? p.o->observer : &nobody;
    p.err = err;

    vms_ram_ctx_init(&p.ram, 4096);
    p.ram.page_fn = p.ob->page;
    p.ram.page_opaque = p.ob->opaque;
    if (p.ob->consumed) {
        vms_src_set_tee(src, p.ob->consumed, p.ob->opaque);
    }
    rc = vms_stream_read_header(&p, src);
    if (rc == 0) {
        p.ram.page_size = st->page_size;
        rc = vms_stream_parse_records(&p, src, 0, 1);
    }
    if (rc == 0 && vms_src_tee_flush(src) < 0) {
        rc = -1;
    }
    st->total_len = vms_src_offset(src);
    vms_ram_ctx_fini(&p.ram);
    if (vms_error_isset(err)) {
        rc = -1;
    }
    return rc;
}
