#include "config.h"
#include "convert.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpuarch.h"
#include "buf.h"
#include "check.h"
#include "cpu_vmdesc.h"
#include "repair.h"
#include "cpreg.h"
#include "vmdesc_json.h"
#include "wire.h"

/* Append to b; -1 (VMS_E_NOMEM latched) once an append has failed. */
static int buf_put(struct vms_buf *b, const void *d, size_t n,
                   struct vms_error *err)
{
    vms_buf_put(b, d, n);
    return vms_buf_check(b, err);
}

struct conv {
    const struct vms_convert_opts *o;
    struct vms_sink *sink;
    struct vms_convert_result *r;
    struct vms_armcpu *cpus;       /* converted, for verify and vmdesc */
    size_t n_cpus;
    int *orig_layout;
    int32_t *orig_n, *orig_m;
    size_t *orig_subs;             /* subsection count before repair */

    /* The device state converted while the vmdesc was still arriving
     * (on_device_state): its output, result and what to undo if the end
     * of the input shows it was not the body after all. */
    struct vms_buf early_out;
    size_t early_written;       /* of early_out, already in the sink */
    int early;
    int early_rc;
    struct vms_error early_err;
    size_t early_first_cpu;
    struct vms_convert_result early_r0;
};

/* The vmdesc for the converted sections: the cpu entries that changed,
 * rewritten where they stand (cpu_vmdesc.h), text splice first. */
static int rewrite_vmdesc(struct conv *c, struct vms_stream *st,
                          struct vms_buf *out, struct vms_error *err)
{
    struct vms_cpu_vmdesc_edit *edits;
    size_t i, n = 0, len, mark = out->len;
    uint8_t hdr[5] = { VMS_REC_VMDESC, 0, 0, 0, 0 };
    char *text;
    int rc, subs = 0;

    edits = calloc(c->n_cpus + 1, sizeof(*edits));
    if (!edits) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    for (i = 0; i < c->n_cpus; i++) {
        const struct vms_armcpu *cpu = &c->cpus[i];
        struct vms_cpu_vmdesc_edit *e = &edits[n];

        if (cpu->n_subs != c->orig_subs[i]) {
            subs = 1;
        }
        if (cpu->layout == c->orig_layout[i] && cpu->n == c->orig_n[i] &&
            cpu->m == c->orig_m[i]) {
            continue;
        }
        e->instance = cpu->instance_id;
        e->from.layout = c->orig_layout[i];
        e->from.n = (uint32_t)c->orig_n[i];
        e->from.m = (uint32_t)c->orig_m[i];
        e->to.layout = cpu->layout;
        e->to.n = (uint32_t)cpu->n;
        e->to.m = (uint32_t)cpu->m;
        n++;
    }
    if (n == 0 && !subs) {
        free(edits);
        return buf_put(out, st->vmdesc_json - 5, st->vmdesc_len + 5u, err);
    }
    rc = buf_put(out, hdr, 5, err);        /* length filled in below */
    if (subs && rc == 0) {
        rc = 1;         /* subsections left out: edit the tree */
    } else if (rc == 0) {
        rc = vms_vmdesc_cpu_splice(st->vmdesc_json, st->vmdesc_len, edits,
                                   n, out, err);
    }
    if (rc == 0) {
        vms_put_be32(out->p + mark + 1, (uint32_t)(out->len - mark - 5));
    }
    if (rc != 1) {
        free(edits);
        return rc;
    }
    out->len = mark;
    if (!st->vmdesc) {
        st->vmdesc = vms_vmdesc_parse(st->vmdesc_json, st->vmdesc_len,
                                      st->vmdesc_offset + 5, err);
    }
    for (i = 0; st->vmdesc && i < n; i++) {
        int described = vms_vmdesc_cpu_layout(st->vmdesc->json,
                                              edits[i].instance, err);

        if (described < 0) {
            break;
        }
        if (described != edits[i].from.layout) {
            /* Rewriting it would describe the new bytes wrongly. */
            vms_error_set_nooff(err, VMS_E_CONVERT, "the vmdesc describes "
                                "cpu#%u in the v%d layout, but its section "
                                "is v%d: the stream contradicts itself",
                                edits[i].instance, described,
                                edits[i].from.layout);
            break;
        }
        if (vms_vmdesc_cpu_rewrite(st->vmdesc->json, edits[i].instance,
                                   &edits[i].from, &edits[i].to, err) < 0) {
            break;
        }
    }
    free(edits);
    for (i = 0; subs && st->vmdesc && !vms_error_isset(err) &&
                i < c->n_cpus; i++) {
        if (c->cpus[i].n_subs != c->orig_subs[i]) {
            vms_vmdesc_cpu_keep_subs(st->vmdesc->json,
                                     c->cpus[i].instance_id,
                                     (const char *const *)c->cpus[i].sub_names,
                                     c->cpus[i].n_subs, err);
        }
    }
    if (vms_error_isset(err)) {
        return -1;
    }
    text = vms_json_qemu_serialise(st->vmdesc->json, &len);
    if (!text) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    vms_put_be32(hdr + 1, (uint32_t)len);
    rc = buf_put(out, hdr, 5, err) < 0 || buf_put(out, text, len, err) < 0
             ? -1 : 0;
    free(text);
    return rc;
}

static int add_cpu(struct conv *c, struct vms_armcpu *cpu, int layout,
                   int32_t n0, int32_t m0, size_t subs0,
                   struct vms_error *err)
{
    size_t n = c->n_cpus + 1;
    size_t *os = realloc(c->orig_subs, n * sizeof(*os));

    if (os) {
        c->orig_subs = os;
    }
    struct vms_armcpu *cp = realloc(c->cpus, n * sizeof(*cp));
    int *ol = realloc(c->orig_layout, n * sizeof(*ol));
    int32_t *on = realloc(c->orig_n, n * sizeof(*on));
    int32_t *om = realloc(c->orig_m, n * sizeof(*om));

    if (cp) {
        c->cpus = cp;
    }
    if (ol) {
        c->orig_layout = ol;
    }
    if (on) {
        c->orig_n = on;
    }
    if (om) {
        c->orig_m = om;
    }
    if (!cp || !ol || !on || !om || !os) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    c->orig_layout[c->n_cpus] = layout;
    c->orig_n[c->n_cpus] = n0;
    c->orig_m[c->n_cpus] = m0;
    c->orig_subs[c->n_cpus] = subs0;
    c->cpus[c->n_cpus++] = *cpu;
    return 0;
}

/* --repair: to v22 first (the repair works on that layout), then the
 * hook. */
static int repair_one(struct conv *c, const struct vms_stream *st,
                      struct vms_armcpu *cpu, struct vms_error *err)
{
    if (cpu->layout == 23) {
        struct vms_drop none = { NULL, 0, NULL };
        size_t dropped = 0;

        if (vms_convert_cpu(cpu, 22, &none, &dropped, err) < 0) {
            return -1;
        }
    }
    return c->o->repair(c->o->repair_opaque, st, cpu, err);
}

/* Re-encode the sections [first, last) whose bytes lie in
 * data[0..len) (stream offset base) into out. */
static int transform(struct conv *c, struct vms_stream *st, size_t first,
                     size_t last, const uint8_t *data, size_t len,
                     uint64_t base, struct vms_buf *out, struct vms_error *err)
{
    size_t i, pos = 0;

    for (i = first; i < last; i++) {
        const struct vms_section *s = &st->sections[i];
        struct vms_armcpu cpu;
        size_t hdr_len, body_len, at;
        uint8_t *body, hdr[VMS_IDSTR_BUF + 16];
        int orig;
        int32_t n0, m0;
        size_t subs0;

        if (s->offset < base || s->offset - base >= len) {
            continue;
        }
        if (!vms_section_is_arm_cpu(st, s)) {
            struct vms_cpu_kind kind = vms_section_cpu_kind(st, s);

            if (kind.arch == VMS_CPU_OTHER) {
                /* neither Arm's nor x86's: copying it unconverted could
                 * pass on an Arm vCPU the stream only disguises (fail
                 * closed) */
                vms_error_set(err, VMS_E_FORMAT, s->offset,
                              "cpu section %u is neither Arm's nor x86's "
                              "(%s): convert refuses to copy it unconverted",
                              s->instance_id, kind.why);
                return -1;
            }
            /* another architecture's vCPU (x86): copied as it is */
            c->r->other_cpus += kind.arch == VMS_CPU_X86;
            continue;
        }
        c->r->cpus++;
        if (vms_armcpu_from_section(s, &cpu, err) < 0) {
            vms_armcpu_fini(&cpu);
            return -1;
        }
        orig = cpu.layout;
        n0 = cpu.n;
        m0 = cpu.m;
        subs0 = cpu.n_subs;
        if (c->o->repair && repair_one(c, st, &cpu, err) < 0) {
            vms_error_section(err, s->idstr, s->section_id, s->instance_id);
            vms_armcpu_fini(&cpu);
            return -1;
        }
        if (vms_convert_cpu(&cpu, c->o->to_layout, &c->o->drop,
                            &c->r->dropped, err) < 0) {
            vms_error_section(err, s->idstr, s->section_id, s->instance_id);
            vms_armcpu_fini(&cpu);
            return -1;
        }
        if (cpu.layout != orig) {
            c->r->converted++;
        }
        body = vms_armcpu_encode(&cpu, cpu.layout, &body_len, err);
        if (!body) {
            vms_error_section(err, s->idstr, s->section_id, s->instance_id);
            vms_armcpu_fini(&cpu);
            return -1;
        }
        at = (size_t)(s->offset - base);
        hdr_len = (size_t)(s->body_offset - s->offset);
        memcpy(hdr, s->bytes, hdr_len);
        if (s->type == VMS_REC_FULL || s->type == VMS_REC_START) {
            vms_put_be32(hdr + hdr_len - 4, (uint32_t)cpu.layout);
        }
        if (buf_put(out, data + pos, at - pos, err) < 0 ||
            buf_put(out, hdr, hdr_len, err) < 0 ||
            buf_put(out, body, body_len, err) < 0 ||
            buf_put(out, s->bytes + hdr_len + s->body_len,
                    (size_t)(s->length - hdr_len - s->body_len), err) < 0) {
            free(body);
            vms_armcpu_fini(&cpu);
            return -1;
        }
        free(body);
        pos = at + (size_t)s->length;
        if (add_cpu(c, &cpu, orig, n0, m0, subs0, err) < 0) {
            vms_armcpu_fini(&cpu);
            return -1;
        }
    }
    return buf_put(out, data + pos, len - pos, err);
}

static int verify(struct conv *c, struct vms_error *err)
{
    const struct vms_drop *d = &c->o->drop;
    size_t k;

    for (k = 0; d->hits && k < d->n; k++) {
        if (d->hits[k] == 0) {
            vms_error_set_nooff(err, VMS_E_USAGE, "--drop %s: no register "
                                "of that name in the stream's cpu sections "
                                "(see 'vmstream regs'); nothing was "
                                "converted", d->names[k]);
            return -1;
        }
    }
    if (!c->o->verify) {
        return 0;
    }
    return c->o->verify(c->o->verify_opaque, c->cpus, c->n_cpus, err);
}

static int on_packaged(void *opaque, struct vms_stream *st,
                       const uint8_t *cmd_hdr, size_t hdr_len,
                       const uint8_t *blob, size_t len, size_t first,
                       struct vms_error *err)
{
    struct conv *c = opaque;
    struct vms_buf out = { 0 };
    uint8_t hdr[16];
    size_t k = st->n_cmds;
    int rc;

    /* The blob's own commands (LISTEN, PING, RUN) come after it in
     * st->cmds; packages do not nest, so the last PACKAGED is this one. */
    while (k > 0 && st->cmds[k - 1].cmd != VMS_CMD_PACKAGED) {
        k--;
    }
    if (k == 0 || st->region) {
        /* After the device state started, the package's bytes are part of
         * the held region and would be written twice. */
        vms_error_set_nooff(err, VMS_E_UNSUPPORTED, "a PACKAGED command "
                            "after the device state cannot be converted");
        return -1;
    }
    rc = transform(c, st, first, st->n_sections, blob, len,
                   st->cmds[k - 1].offset + hdr_len, &out, err);
    if (rc == 0) {
        rc = verify(c, err);
    }
    if (rc == 0 && out.len > UINT32_MAX) {
        vms_error_set_nooff(err, VMS_E_LIMIT, "PACKAGED data grows beyond "
                            "4 GiB");
        rc = -1;
    }
    if (rc == 0) {
        memcpy(hdr, cmd_hdr, hdr_len);
        vms_put_be32(hdr + 5, (uint32_t)out.len);
        rc = vms_sink_write(c->sink, hdr, hdr_len, err);
    }
    if (rc == 0) {
        rc = vms_sink_write(c->sink, out.p, out.len, err);
    }
    free(out.p);
    return rc;
}

/* RAM and everything before the device state passes through as read. */
static int on_consumed(void *opaque, const uint8_t *buf, size_t len,
                       struct vms_error *err)
{
    struct conv *c = opaque;

    return vms_sink_write(c->sink, buf, len, err);
}

static int on_progress(void *opaque, uint64_t off, uint64_t raw_off)
{
    struct conv *c = opaque;

    return c->o->progress ? c->o->progress(c->o->progress_opaque, off,
                                           raw_off)
                          : 0;
}

static int on_device_state(void *opaque, struct vms_stream *st,
                           size_t body_len, struct vms_error *err)
{
    struct conv *c = opaque;

    c->early = 1;
    c->early_first_cpu = c->n_cpus;
    c->early_r0 = *c->r;
    vms_error_clear(&c->early_err);
    c->early_out.len = 0;
    c->early_rc = transform(c, st, 0, st->n_sections, st->region, body_len,
                            st->region_offset, &c->early_out,
                            &c->early_err);
    if (c->early_rc == 0) {
        c->early_rc = verify(c, &c->early_err);
    }
    if (c->early_rc != 0) {
        /* Refused: stop reading now.  The source QEMU is still writing
         * the vmdesc; with the input pipe kept small (vms_src_shrink_pipe)
         * its write fails when we close, so its migration fails and it
         * resumes the VM instead of pausing it for good. */
        vms_error_adopt(err, &c->early_err);
        return -1;
    }
    if (c->early_out.len == 0 ||
        c->early_out.p[c->early_out.len - 1] != VMS_REC_EOF) {
        return 0;
    }
    /* The converted device state goes out now: the destination loads it
     * while the vmdesc arrives.  EOF stays behind until the vmdesc is
     * converted too, so a failure still leaves the destination without
     * QEMU_VM_EOF (it fails the migration; the source keeps running). */
    if (vms_sink_write(c->sink, c->early_out.p, c->early_out.len - 1,
                       err) < 0) {
        return -1;
    }
    c->early_written = c->early_out.len - 1;
    /* The vmdesc length is in its header, which has arrived: make room
     * for it now (allocated and touched), not after the input ended. */
    {
        size_t want = (size_t)vms_get_be32(st->region + body_len + 1);

        if (want <= VMS_MAX_VMDESC) {
            want = 5 + want + want / 8 + 4096;
            if (vms_buf_reserve(&c->early_out, want) == 0) {
                /* Not 0: malloc + memset(0) may become calloc, which
                 * leaves fresh pages untouched. */
                memset(c->early_out.p + c->early_out.len, 0xa5, want);
            }
        }
    }
    return 0;
}

/* Undo on_device_state: the parse started over on the whole region. */
static void forget_early(struct conv *c)
{
    size_t i;

    for (i = c->early_first_cpu; i < c->n_cpus; i++) {
        vms_armcpu_fini(&c->cpus[i]);
    }
    c->n_cpus = c->early_first_cpu;
    *c->r = c->early_r0;
    c->early = 0;       /* early_out is kept: early_written bytes are out */
}

int vms_convert(struct vms_src *src, struct vms_sink *sink,
                const struct vms_convert_opts *o,
                struct vms_convert_result *r, struct vms_error *err)
{
    struct conv c;
    struct vms_parse_opts po = { 0 };
    struct vms_stream_observer ob = { 0 };
    struct vms_stream st;
    struct vms_buf out = { 0 };
    size_t body_len, i, out_from = 0;
    int rc;

    memset(&c, 0, sizeof(c));
    c.o = o;
    c.sink = sink;
    c.r = r;

    memset(r, 0, sizeof(*r));
    vms_stream_init(&st);
    po.default_page_size = o->default_page_size;
    po.no_hash = 1;
    po.lazy_vmdesc = 1;
    ob.opaque = &c;
    ob.consumed = on_consumed;
    ob.packaged = on_packaged;
    ob.device_state = on_device_state;
    ob.progress = on_progress;
    po.observer = &ob;
    po.end_at_trailer = o->end_at_trailer;
    po.twin = o->twin;
    rc = vms_stream_parse(src, &po, &st, err);
    if (rc == 0 && st.region && c.early && st.early_body_len) {
        /* Converted while the vmdesc arrived: only the vmdesc is left. */
        rc = c.early_rc;
        if (rc < 0) {
            vms_error_adopt(err, &c.early_err);
        }
        out = c.early_out;
        c.early_out.p = NULL;
        out_from = c.early_written;
    } else if (rc == 0 && st.region) {
        if (c.early) {
            forget_early(&c);
        }
        body_len = st.has_vmdesc
                       ? (size_t)(st.vmdesc_offset - st.region_offset)
                       : st.region_len;
        /* One allocation up front: a v23 section is 4 + 4N bytes larger,
         * so a quarter more than the input covers any conversion. */
        (void)vms_buf_reserve(&out, st.region_len + st.region_len / 4 +
                                        65536);
        rc = transform(&c, &st, 0, st.n_sections, st.region, body_len,
                       st.region_offset, &out, err);
        if (rc == 0) {
            rc = verify(&c, err);
        }
    }
    if (rc == 0 && st.region) {
        if (rc == 0 && st.has_vmdesc) {
            rc = rewrite_vmdesc(&c, &st, &out, err);
        }
        /* Bytes written early must be what the whole conversion gives.
         * They are unless the vmdesc contradicts the sections' footers
         * (a repeated section id, say): QEMU never writes such a stream. */
        if (rc == 0 && !st.early_body_len && c.early_written) {
            if (out.len < c.early_written ||
                memcmp(out.p, c.early_out.p, c.early_written) != 0) {
                vms_error_set_nooff(err, VMS_E_CONVERT, "the vmdesc "
                                    "delimits the device sections "
                                    "differently from their footers, and "
                                    "the sections converted by footers "
                                    "were already sent: the stream "
                                    "contradicts itself");
                rc = -1;
            }
            out_from = c.early_written;
        }
        /* Only now, with everything converted, does EOF go out. */
        if (rc == 0) {
            rc = vms_sink_write(sink, out.p + out_from, out.len - out_from,
                                err);
        }
    }
    r->out_bytes = vms_sink_bytes(sink);
    free(out.p);
    free(c.early_out.p);
    for (i = 0; i < c.n_cpus; i++) {
        vms_armcpu_fini(&c.cpus[i]);
    }
    free(c.cpus);
    free(c.orig_layout);
    free(c.orig_n);
    free(c.orig_m);
    free(c.orig_subs);
    vms_stream_fini(&st);
    return rc;
}
