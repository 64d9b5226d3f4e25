/*
 * test_armcpu.c - the Arm cpu section model: every cpu section of every
 * real stream decodes and re-encodes byte-exactly in its own layout and
 * survives v22 -> v23 -> v22 (or back) through vms_convert_cpu; converted
 * sections equal the real sections QEMU wrote in the other layout (paired
 * paused streams); the running guest's register values (guest/README.md)
 * with their cpreg names; hand-built v23 models with wide registers, which
 * v22 cannot carry unless they are dropped.
 */
#include "config.h"

#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "armcpu.h"
#include "convert.h"
#include "cpreg.h"
#include "error.h"
#include "src.h"
#include "stream.h"
#include "testutil.h"
#include "wire.h"

static void fail_err(const char *what, const struct vms_error *err)
{
    char msg[800];

    vms_error_format(err, msg, sizeof(msg));
    fail_msg("%s: %s (%s)", what, msg, vms_status_name(err->code));
}

static void parse_rel(const char *rel, struct vms_stream *st)
{
    char path[4096];
    struct vms_error err;
    struct vms_src *src;

    snprintf(path, sizeof(path), "%s/%s", tu_vectors_dir(), rel);
    vms_error_clear(&err);
    src = vms_src_open_path(path, &err);
    if (!src) {
        fail_err(rel, &err);
    }
    vms_stream_init(st);
    if (vms_stream_parse(src, NULL, st, &err) != 0) {
        fail_err(rel, &err);
    }
    vms_src_free(src);
}

/* Every stream of the three directories (relative paths). */
static char **all_streams(size_t *n)
{
    static const char *const pats[] = {
        "real-v22/*.mig.zst", "real-v22/*.mig.gz", "real-v23/*.mig.zst",
        "real-v23/*.mig.gz", "real-v23/det-v22-stock/*.mig.zst",
        "real-v23/det-v22-stock/*.mig.gz",
    };
    char **out = NULL;
    size_t k = 0, p, i, skip = strlen(tu_vectors_dir()) + 1;

    for (p = 0; p < sizeof(pats) / sizeof(pats[0]); p++) {
        char pat[4096];
        glob_t g;
        int rc;

        snprintf(pat, sizeof(pat), "%s/%s", tu_vectors_dir(), pats[p]);
        rc = glob(pat, 0, NULL, &g);
        if (rc == GLOB_NOMATCH) {
            continue;
        }
        assert_int_equal(rc, 0);
        out = realloc(out, (k + g.gl_pathc + 1) * sizeof(*out));
        assert_non_null(out);
        for (i = 0; i < g.gl_pathc; i++) {
            out[k++] = strdup(g.gl_pathv[i] + skip);
        }
        globfree(&g);
    }
    assert_true(k >= 39);
    out[k] = NULL;
    *n = k;
    return out;
}

static int dir_layout(const char *rel)
{
    return strncmp(rel, "real-v23/", 9) == 0 &&
                   strncmp(rel, "real-v23/det-v22-stock/", 23) != 0
               ? 23
               : 22;
}

static void decode_section(const char *what, const struct vms_section *s,
                           struct vms_armcpu *c)
{
    struct vms_error err;

    vms_error_clear(&err);
    if (vms_armcpu_from_section(s, c, &err) != 0) {
        fail_err(what, &err);
    }
}

/* Fail with the first differing byte. */
static void expect_bytes(const char *what, const uint8_t *got, size_t glen,
                         const uint8_t *want, size_t wlen)
{
    size_t i = 0;

    if (glen == wlen && memcmp(got, want, wlen) == 0) {
        return;
    }
    while (i < glen && i < wlen && got[i] == want[i]) {
        i++;
    }
    fail_msg("%s: bytes differ at %zu (lengths %zu vs %zu)", what, i, glen,
             wlen);
}

static uint8_t *encode(const char *what, const struct vms_armcpu *c,
                       int layout, size_t *len)
{
    struct vms_error err;
    uint8_t *b;

    vms_error_clear(&err);
    b = vms_armcpu_encode(c, layout, len, &err);
    if (!b) {
        fail_err(what, &err);
    }
    assert_false(vms_error_isset(&err));
    return b;
}

/* vms_convert_cpu with --drop given as register ids. */
static int convert_drop(struct vms_armcpu *c, int to, const uint64_t *ids,
                        size_t n, size_t *dropped, struct vms_error *err)
{
    char text[8][24];
    const char *names[8];
    struct vms_drop d = { names, n, NULL };
    size_t i;

    assert_true(n <= 8);
    for (i = 0; i < n; i++) {
        snprintf(text[i], sizeof(text[i]), "0x%016llx",
                 (unsigned long long)ids[i]);
        names[i] = text[i];
    }
    return vms_convert_cpu(c, to, &d, dropped, err);
}

static void convert(const char *what, struct vms_armcpu *c, int to)
{
    struct vms_error err;
    size_t dropped = 0;

    vms_error_clear(&err);
    if (vms_convert_cpu(c, to, NULL, &dropped, &err) != 0) {
        fail_err(what, &err);
    }
    assert_int_equal(dropped, 0);
    assert_int_equal(c->layout, to);
}

/* The same registers, whatever the layout. */
static void same_model(const struct vms_armcpu *a, const struct vms_armcpu *b)
{
    int32_t i;

    assert_memory_equal(a->regs, b->regs, sizeof(a->regs));
    assert_memory_equal(a->xregs, b->xregs, sizeof(a->xregs));
    assert_int_equal(a->pc, b->pc);
    assert_int_equal(a->cpsr, b->cpsr);
    assert_int_equal(a->spsr, b->spsr);
    assert_memory_equal(a->banked_spsr, b->banked_spsr,
                        sizeof(a->banked_spsr));
    assert_memory_equal(a->elr_el, b->elr_el, sizeof(a->elr_el));
    assert_memory_equal(a->sp_el, b->sp_el, sizeof(a->sp_el));
    assert_int_equal(a->n, b->n);
    for (i = 0; i < a->n; i++) {
        uint32_t sa = a->value_idx ? a->value_idx[i] : (uint32_t)i;
        uint32_t sb = b->value_idx ? b->value_idx[i] : (uint32_t)i;

        assert_int_equal(a->ids[i], b->ids[i]);
        assert_int_equal(vms_armcpu_slots(a, i), vms_armcpu_slots(b, i));
        assert_int_equal(a->values[sa], b->values[sb]);
    }
    assert_int_equal(a->exclusive_addr, b->exclusive_addr);
    assert_int_equal(a->syndrome, b->syndrome);
    assert_memory_equal(a->gt_timer, b->gt_timer, sizeof(a->gt_timer));
    assert_int_equal(a->power_state, b->power_state);
    assert_int_equal(a->subs_len, b->subs_len);
    assert_memory_equal(a->subs, b->subs, a->subs_len);
    assert_int_equal(a->fpscr, b->fpscr);
    assert_memory_equal(a->vfp_d, b->vfp_d, sizeof(a->vfp_d));
}

/* ---- 1. every cpu section: own layout, other layout and back ------------ */

static void roundtrip_section(const char *rel, const struct vms_section *s)
{
    int own = dir_layout(rel), other = own == 22 ? 23 : 22;
    const uint8_t *body = vms_section_body(s);
    size_t blen = (size_t)s->body_len, l1, l2, l3;
    struct vms_armcpu c, orig, back;
    struct vms_error err;
    uint8_t *e1, *e2, *e3;
    char what[600];
    size_t n;

    snprintf(what, sizeof(what), "%s cpu/%u", rel, s->instance_id);
    assert_non_null(body);
    decode_section(what, s, &c);
    decode_section(what, s, &orig);
    assert_int_equal(c.layout, own);
    n = (size_t)c.n;

    /* own layout: the same bytes */
    e1 = encode(what, &c, own, &l1);
    expect_bytes(what, e1, l1, body, blen);

    /* the other layout: the cpreg block grows or shrinks by 4 + 4n */
    convert(what, &c, other);
    e2 = encode(what, &c, other, &l2);
    assert_int_equal(l2, other == 23 ? blen + 4 + 4 * n : blen - 4 - 4 * n);
    /* everything before the cpreg block is unchanged, and so is
     * everything from the tail fields on */
    assert_memory_equal(e2, body, VMS_ARMCPU_HEAD_LEN);
    assert_int_equal(vms_get_be32(e2 + VMS_ARMCPU_HEAD_LEN), n);
    {
        size_t tail = blen - (size_t)(orig.tail_offset - orig.body_offset);

        assert_memory_equal(e2 + l2 - tail, body + blen - tail, tail);
    }
    /* it decodes in that layout to the same registers (decode does not
     * clear the model: start from zero) */
    memset(&back, 0, sizeof(back));
    vms_error_clear(&err);
    if (vms_armcpu_decode(e2, l2, 0, other, &back, &err) != 0) {
        fail_err(what, &err);
    }
    same_model(&orig, &back);
    if (other == 23) {
        size_t k;

        assert_int_equal(back.m, back.n);
        for (k = 0; k < n; k++) {
            assert_int_equal(back.value_idx[k], k);
        }
    }
    vms_armcpu_fini(&back);

    /* and back: the original bytes */
    convert(what, &c, own);
    e3 = encode(what, &c, own, &l3);
    expect_bytes(what, e3, l3, body, blen);
    same_model(&orig, &c);

    free(e1);
    free(e2);
    free(e3);
    vms_armcpu_fini(&c);
    vms_armcpu_fini(&orig);
}

/* Every coprocessor register id of every stream has a name. */
static size_t count_unnamed(const char *rel, const struct vms_section *s)
{
    struct vms_armcpu c;
    struct vms_error err;
    size_t unnamed = 0;
    int32_t i;

    vms_error_clear(&err);
    if (vms_armcpu_from_section(s, &c, &err) != 0) {
        fail_err(rel, &err);
    }
    for (i = 0; i < c.n; i++) {
        char name[VMS_CPREG_NAME_MAX];

        if (!vms_cpreg_name(c.ids[i], vms_cpreg_guess_ctx(c.ids,
                                                          (size_t)c.n),
                            name, sizeof(name))) {
            print_message("%s: id 0x%016llx has no name (%s)\n", rel,
                          (unsigned long long)c.ids[i], name);
            unnamed++;
        }
    }
    vms_armcpu_fini(&c);
    return unnamed;
}

static void test_roundtrip_all(void **state)
{
    size_t n, i, cpus = 0, unnamed = 0;
    char **rels = all_streams(&n);

    (void)state;
    for (i = 0; i < n; i++) {
        struct vms_stream st;
        size_t k;

        parse_rel(rels[i], &st);
        for (k = 0; k < st.n_sections; k++) {
            if (strcmp(st.sections[k].idstr, "cpu") == 0) {
                roundtrip_section(rels[i], &st.sections[k]);
                unnamed += count_unnamed(rels[i], &st.sections[k]);
                cpus++;
            }
        }
        vms_stream_fini(&st);
    }
    /* 37 v22 + 37 v23 + 6 det-v22-stock vCPUs */
    assert_true(cpus >= 80);
    assert_int_equal(unnamed, 0);
    tu_free_list(rels);
}

/* ---- 2. converted sections equal what QEMU wrote in the other layout ---- */

/* Paused (-S) streams taken with the same command line by stock QEMU (v22)
 * and the patched build (v23): the cpu state is reproducible, so every
 * vCPU converted to the other layout must give exactly the other file's
 * cpu section body.  The det-* pairs are documented as identical up to
 * the vmdesc (real-v23/MANIFEST.md, "Deterministic pairs"). */
static void test_real_pairs(void **state)
{
    static const char *const pairs[][2] = {
        { "real-v23/det-v22-stock/det-aa64-virt72-cortex-a57-2cpu.mig.zst",
          "real-v23/det-aa64-virt72-cortex-a57-2cpu.mig.zst" },
        { "real-v23/det-v22-stock/det-aa64-virt72-max-2cpu.mig.zst",
          "real-v23/det-aa64-virt72-max-2cpu.mig.zst" },
        { "real-v23/det-v22-stock/det-arm-virt72-cortex-a15-2cpu.mig.zst",
          "real-v23/det-arm-virt72-cortex-a15-2cpu.mig.zst" },
        { "real-v22/aa64-virt72-cortex-a53-4cpu.mig.zst",
          "real-v23/aa64-virt72-cortex-a53-4cpu.mig.zst" },
        { "real-v22/aa64-virt72-cortex-a57-2cpu.mig.zst",
          "real-v23/aa64-virt72-cortex-a57-2cpu.mig.zst" },
        { "real-v22/aa64-virt72-cortex-a72-1cpu.mig.zst",
          "real-v23/aa64-virt72-cortex-a72-1cpu.mig.zst" },
        { "real-v22/aa64-virt72-max-4cpu.mig.zst",
          "real-v23/aa64-virt72-max-4cpu.mig.zst" },
        { "real-v22/arm-virt72-cortex-a15-1cpu.mig.zst",
          "real-v23/arm-virt72-cortex-a15-1cpu.mig.zst" },
    };
    size_t p;

    (void)state;
    for (p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
        struct vms_stream a, b;
        size_t i, k = 0;

        parse_rel(pairs[p][0], &a);
        parse_rel(pairs[p][1], &b);
        for (i = 0; i < a.n_sections; i++) {
            const struct vms_section *s22 = &a.sections[i], *s23;
            struct vms_armcpu c;
            uint8_t *e;
            size_t l;
            char what[600];

            if (strcmp(s22->idstr, "cpu") != 0) {
                continue;
            }
            s23 = vms_stream_find(&b, "cpu", s22->instance_id);
            assert_non_null(s23);
            assert_int_equal(s22->version_id, 22);
            assert_int_equal(s23->version_id, 23);
            snprintf(what, sizeof(what), "%s cpu/%u -> v23", pairs[p][0],
                     s22->instance_id);
            decode_section(what, s22, &c);
            convert(what, &c, 23);
            e = encode(what, &c, 23, &l);
            expect_bytes(what, e, l, vms_section_body(s23),
                         (size_t)s23->body_len);
            free(e);
            vms_armcpu_fini(&c);

            snprintf(what, sizeof(what), "%s cpu/%u -> v22", pairs[p][1],
                     s23->instance_id);
            decode_section(what, s23, &c);
            convert(what, &c, 22);
            e = encode(what, &c, 22, &l);
            expect_bytes(what, e, l, vms_section_body(s22),
                         (size_t)s22->body_len);
            free(e);
            vms_armcpu_fini(&c);
            k++;
        }
        assert_true(k >= 1);
        vms_stream_fini(&a);
        vms_stream_fini(&b);
    }
}

/* ---- 3. the running guest (guest/README.md) ----------------------------- */

struct sysreg {
    const char *name;
    uint64_t id;               /* "idx" column */
    uint64_t val[2];           /* CPU0, CPU1 */
};

static const struct sysreg guest_sysregs[] = {
    { "TPIDR_EL0", 0x603000000013de82ull,
      { 0x0123456789abcdefull, 0xfedcba9876543210ull } },
    { "TPIDRRO_EL0", 0x603000000013de83ull,
      { 0x7770000000000001ull, 0x7770000000000002ull } },
    { "TPIDR_EL1", 0x603000000013c684ull,
      { 0x1110000000000001ull, 0x1110000000000002ull } },
    { "CONTEXTIDR_EL1", 0x603000000013c681ull, { 0x00c0ffee, 0x00beef01 } },
    { "VBAR_EL1", 0x603000000013c600ull, { 0x40200800, 0x40200800 } },
    { "FAR_EL1", 0x603000000013c300ull,
      { 0xfa12345678900000ull, 0xfb12345678900000ull } },
    { "ESR_EL1", 0x603000000013c290ull, { 0x5600abcd, 0x5601abcd } },
    { "CNTKCTL_EL1", 0x603000000013c708ull, { 3, 1 } },
    { "CSSELR_EL1", 0x603000000013d000ull, { 2, 1 } },
    { "CNTV_CVAL_EL0", 0x603000000013df1aull, { 0x00ffffffffffffffull, 0 } },
    { "CNTV_CTL_EL0", 0x603000000013df19ull, { 3, 0 } },
    { "CNTP_CVAL_EL0", 0x603000000013df12ull, { 0x0000c0ffee000000ull, 0 } },
    { "CNTP_CTL_EL0", 0x603000000013df11ull, { 0, 0 } },
    { "MAIR_EL1", 0x603000000013c510ull, { 0x0444ff00, 0x0444ff00 } },
    { "TCR_EL1", 0x603000000013c102ull,
      { 0x0000000100993519ull, 0x0000000100993519ull } },
    { "TTBR0_EL1", 0x603000000013c100ull, { 0x40203000, 0x40203000 } },
    { "TTBR1_EL1", 0x603000000013c101ull,
      { 0x00ab000040ff0000ull, 0x00ab000040ff0000ull } },
    { "SCTLR_EL1", 0x603000000013c080ull, { 0x00c5183d, 0x00c5183d } },
    { "CPACR_EL1", 0x603000000013c082ull, { 0x00300000, 0x00300000 } },
    { "FPCR", 0x603000000013da20ull, { 0x03400000, 0x00c00000 } },
    { "FPSR", 0x603000000013da21ull, { 0x0800001f, 0x80 } },
};

static int64_t find_id(const struct vms_armcpu *c, uint64_t id)
{
    int32_t i;

    for (i = 0; i < c->n; i++) {
        if (c->ids[i] == id) {
            return i;
        }
    }
    return -1;
}

static uint64_t cpreg(const struct vms_armcpu *c, uint64_t id)
{
    int64_t i = find_id(c, id);

    if (i < 0) {
        fail_msg("vCPU %u: register 0x%016llx not in the list",
                 c->instance_id, (unsigned long long)id);
    }
    return c->values[i];
}

static void test_running_guest(void **state)
{
    static const char *const rels[] = {
        "real-v22/run-aa64-virt72-cortex-a57-2cpu-1s.mig.zst",
        "real-v22/run-aa64-virt72-cortex-a57-2cpu-xbzrle.mig.zst",
    };
    size_t r;

    (void)state;
    for (r = 0; r < 2; r++) {
        struct vms_stream st;
        unsigned cpu;

        parse_rel(rels[r], &st);
        for (cpu = 0; cpu < 2; cpu++) {
            const struct vms_section *s = vms_stream_find(&st, "cpu", cpu);
            struct vms_armcpu c;
            uint64_t tag = cpu ? 0xB000000000000000ull
                               : 0xA000000000000000ull;
            size_t i, k;

            assert_non_null(s);
            decode_section(rels[r], s, &c);
            assert_int_equal(c.n, 258);
            assert_int_equal(vms_cpreg_guess_ctx(c.ids, (size_t)c.n),
                             VMS_CPREG_TCG);

            /* x0-x18, x24-x28: tag | i<<48 | i*0x01010101 */
            for (i = 0; i <= 28; i++) {
                if (i >= 19 && i <= 23) {
                    continue;
                }
                assert_int_equal(c.xregs[i],
                                 tag | (uint64_t)i << 48 |
                                     (uint64_t)i * 0x01010101u);
            }
            assert_int_equal(c.xregs[5], cpu ? 0xb005000005050505ull
                                             : 0xa005000005050505ull);
            assert_int_equal(c.xregs[19], cpu ? 0x40204040 : 0x40204000);
            assert_int_equal(c.xregs[20], cpu ? 0 : 0x09000000);
            assert_int_equal(c.xregs[29], cpu ? 0xb0ba00002929ffffull
                                              : 0xa0aa00002929ffffull);
            assert_int_equal(c.xregs[30], cpu ? 0xb0bb00003030ffffull
                                              : 0xa0ab00003030ffffull);
            /* the live SP (SP_EL1, since the guest runs at EL1h) */
            assert_int_equal(c.xregs[31], cpu ? 0x40209000 : 0x40207000);
            assert_int_equal(c.sp_el[0], cpu ? 0xdead5e01 : 0xdead5e00);
            assert_int_equal(c.sp_el[1], 0);   /* stale, MANIFEST note */
            assert_int_equal(c.elr_el[1], cpu ? 0xe2e2e2e0 : 0xe1e1e1e0);
            assert_int_equal(c.banked_spsr[1], cpu ? 0x900003c5
                                                   : 0x600003c5);
            assert_string_equal(vms_armcpu_spsr_bank_name(1, 1), "SPSR_EL1");
            assert_int_equal(c.syndrome, cpu ? 0 : 0x5a000000);
            assert_int_equal(c.gt_timer[1], cpu ? 0xffffffffffffffffull
                                                : 0x0ffffffffffffff0ull);
            assert_int_equal(c.power_state, 0);
            /* PSTATE 0x?00003c5: AArch64 EL1h, DAIF masked */
            assert_int_equal(c.cpsr & 0x0fffffff, 0x3c5);
            assert_true(vms_armcpu_is_aarch64(&c));
            assert_int_equal(vms_armcpu_el(&c), 1);
            assert_string_equal(vms_armcpu_mode_name(&c), "EL1h");
            assert_int_equal(vms_armcpu_pc(&c), c.pc);
            if (cpu == 0) {
                assert_in_range(c.pc, 0x402001a4, 0x4020028c);
                assert_int_equal(c.pc, 0x402001d0);
            } else {
                assert_in_range(c.pc, 0x402003a4, 0x402003bc);
            }

            /* FP/SIMD: q_i = F1.. | i<<40 | i*0x0101 : F0.. (E1/E0) */
            assert_true(c.has_vfp);
            for (i = 0; i < 32; i++) {
                uint64_t hi = (cpu ? 0xE100000000000000ull
                                   : 0xF100000000000000ull) |
                              (uint64_t)i << 40 | i * 0x0101u;
                uint64_t lo = (cpu ? 0xE000000000000000ull
                                   : 0xF000000000000000ull) |
                              (uint64_t)i << 40 | i * 0x0101u;

                assert_int_equal(c.vfp_d[i][1], hi);
                assert_int_equal(c.vfp_d[i][0], lo);
            }
            assert_int_equal(c.vfp_d[3][1], cpu ? 0xe100030000000303ull
                                                : 0xf100030000000303ull);
            assert_int_equal(c.vfp_d[3][0], cpu ? 0xe000030000000303ull
                                                : 0xf000030000000303ull);
            assert_int_equal(c.fpscr, cpu ? 0x00c00080 : 0x0b40001f);

            /* system registers: id by name, name by id, value */
            for (k = 0; k < sizeof(guest_sysregs) / sizeof(guest_sysregs[0]);
                 k++) {
                const struct sysreg *g = &guest_sysregs[k];
                uint64_t id = 0;
                char name[VMS_CPREG_NAME_MAX];

                if (vms_cpreg_lookup(g->name, VMS_CPREG_TCG, &id) != 0) {
                    fail_msg("lookup of %s failed", g->name);
                }
                assert_int_equal(id, g->id);
                assert_int_equal(vms_cpreg_name(g->id, VMS_CPREG_TCG, name,
                                                sizeof(name)), 1);
                assert_string_equal(name, g->name);
                assert_true(find_id(&c, g->id) >= 0);
                if (cpreg(&c, g->id) != g->val[cpu]) {
                    fail_msg("%s vCPU %u: %s = 0x%llx, README says 0x%llx",
                             rels[r], cpu, g->name,
                             (unsigned long long)cpreg(&c, g->id),
                             (unsigned long long)g->val[cpu]);
                }
            }
            /* PAR_EL1 only via its AArch32 views, both equal */
            assert_int_equal(cpreg(&c, 0x40200000200f3a00ull),
                             cpu ? 0x23456000 : 0x12345000);
            assert_int_equal(cpreg(&c, 0x40300000200f0380ull),
                             cpu ? 0x23456000 : 0x12345000);
            /* AArch32 NS views: low 32 bits of the AArch64 registers */
            assert_int_equal(cpreg(&c, 0x40200000200f6802ull),
                             cpreg(&c, 0x603000000013de82ull) & 0xffffffff);
            assert_int_equal(cpreg(&c, 0x40200000200f6803ull),
                             cpreg(&c, 0x603000000013de83ull) & 0xffffffff);
            assert_int_equal(cpreg(&c, 0x40200000200f6804ull),
                             cpreg(&c, 0x603000000013c684ull) & 0xffffffff);
            assert_int_equal(cpreg(&c, 0x40200000200f6801ull),
                             cpu ? 0xbeef01 : 0xc0ffee);
            if (cpu == 0) {
                assert_int_equal(cpreg(&c, 0x40200000200f6802ull),
                                 0x89abcdef);
            }
            vms_armcpu_fini(&c);
        }
        vms_stream_fini(&st);
    }
}

/* ---- 4. hand-built v23 models ------------------------------------------- */

#define ID_SCTLR 0x603000000013c080ull   /* 64-bit: 1 slot */
#define ID_TPIDR 0x603000000013de82ull   /* 64-bit: 1 slot */
#define ID_V0 0x6040000000100054ull      /* KVM CORE V0, 128-bit: 2 slots */
#define ID_V1 0x6040000000100058ull      /* V1, 2 slots */
#define ID_Z0 0x6080000000150000ull      /* SVE Z0 slice 0, 2048: 32 */

/* A v23 vCPU with the given registers; slot values are
 * 0x1000 * (register + 1) + slot-in-register. */
static void build_v23(struct vms_armcpu *c, const uint64_t *ids, int32_t n)
{
    int32_t i, m = 0;
    uint32_t k;

    memset(c, 0, sizeof(*c));
    c->layout = 23;
    c->section_version = 23;
    c->instance_id = 1;
    c->pc = 0x40200000;
    c->cpsr = 0x3c5;
    c->xregs[31] = 0x40207000;
    c->gt_timer[0] = c->gt_timer[1] = UINT64_MAX;
    for (i = 0; i < n; i++) {
        m += (int32_t)vms_cpreg_slots(ids[i]);
    }
    c->n = n;
    c->m = m;
    c->ids = malloc(((size_t)n + 1) * 8);
    c->values = malloc(((size_t)m + 1) * 8);
    c->value_idx = malloc(((size_t)n + 1) * 4);
    assert_true(c->ids && c->values && c->value_idx);
    m = 0;
    for (i = 0; i < n; i++) {
        c->ids[i] = ids[i];
        c->value_idx[i] = (uint32_t)m;
        for (k = 0; k < vms_cpreg_slots(ids[i]); k++) {
            c->values[m++] = 0x1000u * (uint64_t)(i + 1) + k;
        }
    }
    /* an irq-line-state subsection, kept verbatim */
    c->subs_len = 2 + 18 + 4 + 4;
    c->subs = malloc(c->subs_len);
    assert_non_null(c->subs);
    c->subs[0] = VMS_REC_SUBSECTION;
    c->subs[1] = 18;
    memcpy(c->subs + 2, "cpu/irq-line-state", 18);
    vms_put_be32(c->subs + 20, 1);
    vms_put_be32(c->subs + 24, 0x5);
}

/* Refused: VMS_E_CONVERT, the message names every wide register (name
 * and id) and none of the others. */
static void expect_refused(struct vms_armcpu *c, const uint64_t *drop,
                           size_t n_drop, const uint64_t *wide, size_t n_wide,
                           const uint64_t *narrow, size_t n_narrow)
{
    struct vms_error err;
    size_t dropped = 0, i;
    enum vms_cpreg_ctx ctx = vms_cpreg_guess_ctx(c->ids, (size_t)c->n);

    vms_error_clear(&err);
    assert_int_not_equal(convert_drop(c, 22, drop, n_drop, &dropped,
                                      &err), 0);
    assert_int_equal(err.code, VMS_E_CONVERT);
    assert_true(err.msg[0] != '\0');
    for (i = 0; i < n_wide; i++) {
        char name[VMS_CPREG_NAME_MAX], hex[32];

        assert_int_equal(vms_cpreg_name(wide[i], ctx, name, sizeof(name)),
                         1);
        snprintf(hex, sizeof(hex), "0x%016llx", (unsigned long long)wide[i]);
        if (!strstr(err.msg, name) || !strstr(err.msg, hex)) {
            fail_msg("refusal does not name %s (%s): %s", name, hex,
                     err.msg);
        }
    }
    for (i = 0; i < n_narrow; i++) {
        char hex[32];

        snprintf(hex, sizeof(hex), "0x%016llx",
                 (unsigned long long)narrow[i]);
        if (strstr(err.msg, hex)) {
            fail_msg("refusal names the 1-slot register %s: %s", hex,
                     err.msg);
        }
    }
}

static void test_hand_v23(void **state)
{
    static const uint64_t ids[] = { ID_SCTLR, ID_TPIDR, ID_V0, ID_V1 };
    static const uint64_t narrow[] = { ID_SCTLR, ID_TPIDR };
    static const uint64_t v0[] = { ID_V0 }, v1[] = { ID_V1 };
    static const uint64_t both[] = { ID_V0, ID_V1 };
    struct vms_armcpu c, d;
    struct vms_error err;
    size_t len, len2, dropped;
    uint8_t *b, *b2;

    (void)state;
    build_v23(&c, ids, 4);
    assert_int_equal(c.m, 6);
    assert_int_equal(vms_armcpu_slots(&c, 0), 1);
    assert_int_equal(vms_armcpu_slots(&c, 1), 1);
    assert_int_equal(vms_armcpu_slots(&c, 2), 2);
    assert_int_equal(vms_armcpu_slots(&c, 3), 2);

    /* v23 encodes and decodes back */
    b = encode("hand v23", &c, 23, &len);
    assert_int_equal(len, VMS_ARMCPU_HEAD_LEN + 8 + 12 * 4 + 8 * 6 +
                              VMS_ARMCPU_TAIL_LEN + c.subs_len);
    assert_int_equal(vms_get_be32(b + VMS_ARMCPU_HEAD_LEN), 4);
    assert_int_equal(vms_get_be32(b + VMS_ARMCPU_HEAD_LEN + 4), 6);
    memset(&d, 0, sizeof(d));
    vms_error_clear(&err);
    assert_int_equal(vms_armcpu_decode(b, len, 1000, 23, &d, &err), 0);
    assert_int_equal(d.n, 4);
    assert_int_equal(d.m, 6);
    assert_int_equal(d.value_idx[3], 4);
    assert_int_equal(d.n_offset, 1000 + VMS_ARMCPU_HEAD_LEN);
    assert_true(d.has_irq_line_state);
    assert_int_equal(d.irq_line_state, 5);
    same_model(&c, &d);
    vms_armcpu_fini(&d);
    free(b);

    /* v22 encoding refuses the slot map */
    vms_error_clear(&err);
    assert_null(vms_armcpu_encode(&c, 22, &len, &err));
    assert_int_equal(err.code, VMS_E_CONVERT);

    /* conversion to v22 refuses, naming V0 and V1 */
    expect_refused(&c, NULL, 0, both, 2, narrow, 2);
    assert_int_equal(c.layout, 23);
    assert_int_equal(c.n, 4);
    /* dropping only V0 still leaves V1 */
    vms_armcpu_fini(&c);
    build_v23(&c, ids, 4);
    expect_refused(&c, v0, 1, v1, 1, narrow, 2);
    vms_armcpu_fini(&c);
    build_v23(&c, ids, 4);
    expect_refused(&c, v1, 1, v0, 1, narrow, 2);
    vms_armcpu_fini(&c);

    /* dropping both converts: the narrow values stay with their ids */
    build_v23(&c, ids, 4);
    vms_error_clear(&err);
    dropped = 0;
    assert_int_equal(convert_drop(&c, 22, both, 2, &dropped, &err), 0);
    assert_false(vms_error_isset(&err));
    assert_int_equal(dropped, 2);
    assert_int_equal(c.layout, 22);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.m, 2);
    assert_null(c.value_idx);
    assert_int_equal(c.ids[0], ID_SCTLR);
    assert_int_equal(c.ids[1], ID_TPIDR);
    assert_int_equal(c.values[0], 0x1000);
    assert_int_equal(c.values[1], 0x2000);
    b = encode("dropped v22", &c, 22, &len);
    assert_int_equal(len, VMS_ARMCPU_HEAD_LEN + 4 + 16 * 2 +
                              VMS_ARMCPU_TAIL_LEN + c.subs_len);
    memset(&d, 0, sizeof(d));
    vms_error_clear(&err);
    assert_int_equal(vms_armcpu_decode(b, len, 0, 22, &d, &err), 0);
    same_model(&c, &d);
    assert_int_equal(d.pc, 0x40200000);
    vms_armcpu_fini(&d);
    /* and on to v23 again: identity slots */
    convert("dropped v23", &c, 23);
    assert_int_equal(c.m, 2);
    assert_int_equal(c.value_idx[0], 0);
    assert_int_equal(c.value_idx[1], 1);
    b2 = encode("dropped v23", &c, 23, &len2);
    assert_int_equal(len2, len + 4 + 4 * 2);
    free(b2);
    free(b);
    vms_armcpu_fini(&c);
}

/* A wide register between narrow ones, and a 32-slot SVE register: the
 * drop must move the later values down to the right slots. */
static void test_hand_v23_middle(void **state)
{
    /* Sorted, as QEMU writes its lists: the size is in the id's high
     * bits, so 64-bit registers sort below the 128- and 2048-bit ones. */
    static const uint64_t ids[] = { ID_SCTLR, 0x603000000013c100ull,
                                    ID_TPIDR, ID_V0, ID_Z0 };
    static const uint64_t drop[] = { ID_V0, ID_Z0 };
    static const uint64_t z0[] = { ID_Z0 }, v0[] = { ID_V0 };
    static const uint64_t narrow[] = { ID_SCTLR, 0x603000000013c100ull,
                                       ID_TPIDR };
    static const uint64_t wide[] = { ID_V0, ID_Z0 };
    struct vms_armcpu c;
    struct vms_error err;
    size_t dropped = 0;
    int32_t k;

    (void)state;
    build_v23(&c, ids, 5);
    assert_int_equal(c.m, 1 + 1 + 1 + 2 + 32);
    assert_int_equal(vms_armcpu_slots(&c, 4), 32);
    expect_refused(&c, NULL, 0, wide, 2, narrow, 3);
    vms_armcpu_fini(&c);

    /* dropping the SVE register only: V0 still blocks */
    build_v23(&c, ids, 5);
    expect_refused(&c, z0, 1, &wide[0], 1, narrow, 3);
    vms_armcpu_fini(&c);

    build_v23(&c, ids, 5);
    vms_error_clear(&err);
    assert_int_equal(convert_drop(&c, 22, drop, 2, &dropped, &err), 0);
    assert_int_equal(dropped, 2);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.m, 3);
    assert_int_equal(c.ids[0], ID_SCTLR);
    assert_int_equal(c.ids[1], 0x603000000013c100ull);
    assert_int_equal(c.ids[2], ID_TPIDR);
    assert_int_equal(c.values[0], 0x1000);
    assert_int_equal(c.values[1], 0x2000);
    assert_int_equal(c.values[2], 0x3000);
    vms_armcpu_fini(&c);

    /* dropping V0 within v23 moves Z0's 32 slots down past it */
    build_v23(&c, ids, 5);
    dropped = 0;
    vms_error_clear(&err);
    assert_int_equal(convert_drop(&c, 23, v0, 1, &dropped, &err), 0);
    assert_int_equal(dropped, 1);
    assert_int_equal(c.layout, 23);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.m, 35);
    for (k = 0; k < 4; k++) {
        assert_int_equal(c.value_idx[k], k);
    }
    assert_int_equal(c.values[2], 0x3000);
    for (k = 0; k < 32; k++) {
        assert_int_equal(c.values[3 + k], 0x5000 + k);
    }
    vms_armcpu_fini(&c);
}

/* Slot maps that do not describe the values are refused before anything
 * is moved. */
static void test_hand_v23_bad_slots(void **state)
{
    static const uint64_t ids[] = { ID_SCTLR, ID_TPIDR, ID_V0 };
    struct vms_armcpu c;
    struct vms_error err;
    size_t dropped = 0;
    int t;

    (void)state;
    for (t = 0; t < 4; t++) {
        build_v23(&c, ids, 3);
        switch (t) {
        case 0:
            c.value_idx[0] = 1;        /* does not start at slot 0 */
            break;
        case 1:
            c.value_idx[2] = 1;        /* goes backwards */
            break;
        case 2:
            c.value_idx[2] = 7;        /* beyond the values */
            break;
        case 3:
            c.m = 3;                   /* V0 would have 1 slot... */
            c.value_idx[2] = 3;        /* ... or none */
            break;
        }
        vms_error_clear(&err);
        assert_int_not_equal(vms_convert_cpu(&c, 22, NULL, &dropped,
                                             &err), 0);
        assert_int_equal(err.code, VMS_E_FORMAT);   /* no QEMU wrote it */
        assert_true(err.msg[0] != '\0');
        vms_armcpu_fini(&c);
    }
}

/* The codec follows formats/cpu-layouts.tsv: every fixed row has its place
 * in the model, and the fixed parts are what doc/format.md §3 measures on
 * real streams (568 bytes before the cpreg list, 65 after). */
static void test_layout_from_table(void **state)
{
    (void)state;
    assert_true(vms_armcpu_layout_ok());
    assert_int_equal(VMS_ARMCPU_HEAD_LEN, 568);
    assert_int_equal(VMS_ARMCPU_TAIL_LEN, 65);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_from_table),
        cmocka_unit_test(test_roundtrip_all),
        cmocka_unit_test(test_real_pairs),
        cmocka_unit_test(test_running_guest),
        cmocka_unit_test(test_hand_v23),
        cmocka_unit_test(test_hand_v23_middle),
        cmocka_unit_test(test_hand_v23_bad_slots),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
