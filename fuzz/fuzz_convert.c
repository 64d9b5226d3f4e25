/*
 * fuzz_convert.c - "vmstream convert" and its round-trip property.
 *
 * Input: a migration stream.  vms_convert runs from a memory source into a
 * "-" sink (standard output is a memfd here, see fuzz_common.c).  Checks:
 *  - a failure latches an error, a success leaves none;
 *  - convert parses with lazy_vmdesc (the JSON is read only when the cpu
 *    sections cannot be delimited without it, or the text splice fails),
 *    so "parses" below means parses that way; a stream whose vmdesc is
 *    also valid must still have a valid vmdesc after conversion;
 *  - converting to a stream's own layout changes nothing when every cpu
 *    section's version already names its layout (and a stream without cpu
 *    sections is copied byte for byte);
 *  - the output of a successful conversion parses, and every cpu section
 *    in it decodes in the target layout;
 *  - round trip: x (all cpu sections in layout L) -> L' -> L gives x back,
 *    or one of the steps fails cleanly.  Where the first conversion also
 *    normalises the input (a vmdesc that is not QEMU-canonical and must be
 *    rewritten, a section version that does not match its body), the
 *    round trip must at least be stable from then on: y -> L -> L' == y.
 */
#include <stdlib.h>
#include <string.h>

#include "armcpu.h"
#include "convert.h"
#include "fuzz_common.h"
#include "layout.h"
#include "sink.h"
#include "src.h"
#include "stream.h"
#include "vcpus.h"
#include "vmdesc_json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_stdout_capture();
    return 0;
}

/* Convert data to layout; the output (malloc'd) or NULL on a clean
 * failure. */
static uint8_t *convert(const uint8_t *data, size_t size, int layout,
                        size_t *out_len, struct vms_convert_result *res)
{
    struct vms_convert_opts o = { 0 };
    struct vms_error err;
    struct vms_src *src;
    struct vms_sink *sink;
    uint8_t *out;
    int rc;

    vms_error_clear(&err);
    fuzz_stdout_reset();
    src = vms_src_open_mem(data, size, 0, &err);
    FUZZ_CHECK(src != NULL, "open_mem");
    sink = vms_sink_open("-", NULL, &err);
    FUZZ_CHECK(sink != NULL, "sink: %s", err.msg);
    o.to_layout = layout;
    rc = vms_convert(src, sink, &o, res, &err);
    fuzz_check_rc(rc, &err, "vms_convert");
    vms_src_free(src);
    if (rc < 0) {
        vms_sink_abort(sink);
        fuzz_stdout_reset();
        return NULL;
    }
    FUZZ_CHECK(vms_sink_commit(sink, &err) == 0, "commit: %s", err.msg);
    out = fuzz_stdout_take(out_len);
    FUZZ_CHECK(res->out_bytes == *out_len, "out_bytes %llu, wrote %zu",
               (unsigned long long)res->out_bytes, *out_len);
    return out;
}

/* Parse as vms_convert does (lazy vmdesc, no RAM hashes), or strictly. */
static int parse_as(const uint8_t *data, size_t size, int lazy,
                    struct vms_stream *st, struct vms_error *err)
{
    struct vms_parse_opts po = { 0 };
    struct vms_src *src;
    int rc;

    po.lazy_vmdesc = lazy;
    po.no_hash = lazy;
    vms_error_clear(err);
    vms_stream_init(st);
    src = vms_src_open_mem(data, size, 0, err);
    FUZZ_CHECK(src != NULL, "open_mem");
    rc = vms_stream_parse(src, &po, st, err);
    fuzz_check_rc(rc, err, "vms_stream_parse");
    vms_src_free(src);
    return rc;
}

struct shape {
    int ok;            /* parsed (lazily, as convert does) */
    int strict_ok;     /* parsed with the vmdesc */
    int layout;        /* common layout of all cpu sections, 0 none, -1 mixed
                          or undecodable */
    size_t cpus;
    int versions_match;   /* and nothing else convert normalises */
    int vmdesc_canonical;
};

static void shape_of(const uint8_t *data, size_t size, struct shape *sh)
{
    struct vms_stream st;
    struct vms_error err;
    struct vms_vcpus it;
    size_t i;

    memset(sh, 0, sizeof(*sh));
    sh->versions_match = 1;
    sh->vmdesc_canonical = 1;
    if (parse_as(data, size, 1, &st, &err) < 0) {
        vms_stream_fini(&st);
        return;
    }
    sh->ok = 1;
    vms_stream_fini(&st);
    {
        struct vms_stream lazy;
        struct vms_error e2;

        parse_as(data, size, 1, &lazy, &e2);
        if (parse_as(data, size, 0, &st, &err) < 0) {
            /* cpu sections as convert sees them */
            vms_stream_fini(&st);
            parse_as(data, size, 1, &st, &err);
        } else {
            /* The vmdesc must delimit every section as the builtin
             * layouts and footers do: otherwise it only happens to fit
             * the data (a field size that lies, say), and convert, which
             * does not read it, keeps that lie in its output. */
            sh->strict_ok = st.n_sections == lazy.n_sections;
            /* Two vmdesc entries for one device: the text splice edits
             * the first, the walk uses the one after the cursor (a known
             * convert bug, doc/fuzzing.md). */
            for (i = 0; sh->strict_ok && st.vmdesc &&
                        i < st.vmdesc->n_devs; i++) {
                size_t k;

                for (k = i + 1; k < st.vmdesc->n_devs; k++) {
                    if (st.vmdesc->devs[i].instance_id ==
                            st.vmdesc->devs[k].instance_id &&
                        strcmp(st.vmdesc->devs[i].name,
                               st.vmdesc->devs[k].name) == 0) {
                        sh->strict_ok = 0;
                        break;
                    }
                }
            }
            for (i = 0; sh->strict_ok && i < st.n_sections; i++) {
                sh->strict_ok = st.sections[i].length ==
                                lazy.sections[i].length;
            }
        }
        vms_stream_fini(&lazy);
    }
    vms_vcpus_init(&it, &st);
    while (vms_vcpus_next(&it)) {
        const struct vms_section *s = it.section;
        const struct vms_armcpu *c = &it.cpu;

        sh->cpus++;
        if (!it.ok) {
            sh->layout = -1;
        } else if (sh->layout == 0) {
            sh->layout = c->layout;
        } else if (sh->layout != c->layout) {
            sh->layout = -1;
        }
        if (s->version_id != (uint32_t)c->layout) {
            sh->versions_match = 0;
        }
        /* v23 without registers: its value slots belong to none, and
         * vms_convert_cpu drops them (nothing reads them). */
        if (c->layout == 23 && c->n == 0 && c->m > 0) {
            sh->versions_match = 0;
        }
    }
    vms_vcpus_fini(&it);
    if (st.has_vmdesc && !st.vmdesc) {
        sh->vmdesc_canonical = 0;     /* not valid JSON at all */
    } else if (st.vmdesc) {
        sh->vmdesc_canonical = vms_json_roundtrips(st.vmdesc->json,
                                                   st.vmdesc_json,
                                                   st.vmdesc_len);
    }
    vms_stream_fini(&st);
}

/* Every cpu section of a converted stream is in layout `layout`. */
static void check_output(const uint8_t *out, size_t len, int layout,
                         size_t cpus, int strict)
{
    struct vms_stream st;
    struct vms_error err;
    struct vms_vcpus it;
    size_t seen = 0;

    if (strict) {
        FUZZ_CHECK(parse_as(out, len, 0, &st, &err) == 0,
                   "converted stream's vmdesc is broken: %s", err.msg);
        vms_stream_fini(&st);
    }
    FUZZ_CHECK(parse_as(out, len, 1, &st, &err) == 0,
               "converted stream does not parse: %s", err.msg);
    vms_vcpus_init(&it, &st);
    while (vms_vcpus_next(&it)) {
        const struct vms_section *s = it.section;

        seen++;
        FUZZ_CHECK(it.ok, "converted cpu#%u does not decode: %s",
                   s->instance_id, it.err.msg);
        FUZZ_CHECK(it.cpu.layout == layout &&
                       s->version_id == (uint32_t)layout,
                   "converted cpu#%u is v%d (section version %u), asked "
                   "for v%d", s->instance_id, it.cpu.layout, s->version_id,
                   layout);
    }
    vms_vcpus_fini(&it);
    FUZZ_CHECK(seen == cpus, "%zu cpu sections in, %zu out", cpus, seen);
    vms_stream_fini(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vms_convert_result r1, r2, r3;
    struct shape sh;
    uint8_t *y, *z, *y2;
    size_t ylen, zlen, y2len;
    int l, other;

    shape_of(data, size, &sh);

    /* Conversion to each layout: clean failure, or a good stream. */
    for (l = 22; l <= 23; l++) {
        y = convert(data, size, l, &ylen, &r1);
        FUZZ_CHECK(!y || sh.ok, "conversion of an unparseable stream "
                   "succeeded");
        if (y) {
            FUZZ_CHECK(r1.cpus == sh.cpus, "convert saw %zu cpus, parse %zu",
                       r1.cpus, sh.cpus);
            check_output(y, ylen, l, sh.cpus, sh.strict_ok);
            if ((sh.cpus == 0 || (sh.layout == l && sh.versions_match))) {
                FUZZ_CHECK(ylen == size && memcmp(y, data, size) == 0,
                           "converting to the stream's own layout v%d "
                           "changed it", l);
            }
        }
        free(y);
    }

    if (!sh.ok || sh.layout <= 0) {
        return 0;
    }
    /* The round trip L -> L' -> L. */
    other = sh.layout == 22 ? 23 : 22;
    y = convert(data, size, other, &ylen, &r1);
    if (!y) {
        return 0;
    }
    z = convert(y, ylen, sh.layout, &zlen, &r2);
    if (z) {
        if (sh.vmdesc_canonical && sh.versions_match) {
            FUZZ_CHECK(zlen == size && memcmp(z, data, size) == 0,
                       "v%d -> v%d -> v%d does not give the input back",
                       sh.layout, other, sh.layout);
        }
        y2 = convert(z, zlen, other, &y2len, &r3);
        FUZZ_CHECK(y2 != NULL, "the round trip refuses its own output");
        FUZZ_CHECK(y2len == ylen && memcmp(y2, y, ylen) == 0,
                   "round trip not stable after normalisation");
        free(y2);
    } else {
        /* A v22 -> v23 result must always convert back. */
        FUZZ_CHECK(sh.layout == 23, "v22 -> v23 output cannot be converted "
                   "back to v22");
    }
    free(z);
    free(y);
    return 0;
}
