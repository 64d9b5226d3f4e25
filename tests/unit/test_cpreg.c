/*
 * test_cpreg.c - register ids: every id of the real TCG streams and of the
 * KVM register lists has a name, the names that matter are the expected
 * ones in both contexts, sizes/slots, decode, reverse lookup, the compiled
 * table's order.
 */
#include "config.h"

#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cpreg.h"
#include "testutil.h"

/* A growable list of ids with the context they are named in. */
struct idlist {
    uint64_t *ids;
    size_t n, cap;
};

static void push(struct idlist *l, uint64_t id)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 512;
        l->ids = realloc(l->ids, l->cap * sizeof(*l->ids));
        assert_non_null(l->ids);
    }
    l->ids[l->n++] = id;
}

static uint64_t parse_id(const char *s, const char *where)
{
    char *end;
    unsigned long long v;

    if (!s || strncmp(s, "0x", 2) != 0) {
        fail_msg("%s: bad id '%s'", where, s ? s : "(null)");
    }
    v = strtoull(s, &end, 16);
    if (*end != '\0' && *end != '\t' && *end != '\n') {
        fail_msg("%s: bad id '%s'", where, s);
    }
    return (uint64_t)v;
}

/* Column col (0-based) of every non-comment line of a TSV vector. */
static size_t load_tsv_ids(const char *rel, int col, struct idlist *l)
{
    size_t len, before = l->n;
    uint8_t *d = tu_load(rel, &len);
    char *s = malloc(len + 1), *line, *save = NULL;

    assert_non_null(s);
    memcpy(s, d, len);
    s[len] = '\0';
    free(d);
    for (line = strtok_r(s, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *f = line;
        int c;

        if (line[0] == '#' || line[0] == '\0') {
            continue;
        }
        for (c = 0; c < col && f; c++) {
            f = strchr(f, '\t');
            f = f ? f + 1 : NULL;
        }
        if (!f) {
            fail_msg("%s: short line '%s'", rel, line);
        }
        push(l, parse_id(f, rel));
    }
    free(s);
    return l->n - before;
}

/* The "cpregs" ids of every vCPU in a real-v22 *.cpu.json(.zst). */
static size_t load_cpu_json_ids(const char *rel, struct idlist *l)
{
    size_t len, before = l->n, i, k;
    uint8_t *d = tu_load(rel, &len);
    struct json_tokener *tok = json_tokener_new();
    struct json_object *root;

    assert_non_null(tok);
    root = json_tokener_parse_ex(tok, (const char *)d, (int)len);
    if (!root || !json_object_is_type(root, json_type_array)) {
        fail_msg("%s: not a JSON array", rel);
    }
    for (i = 0; i < json_object_array_length(root); i++) {
        struct json_object *cpu = json_object_array_get_idx(root, i);
        struct json_object *regs;

        if (!json_object_object_get_ex(cpu, "cpregs", &regs)) {
            fail_msg("%s: vCPU %zu has no cpregs", rel, i);
        }
        for (k = 0; k < json_object_array_length(regs); k++) {
            struct json_object *t = json_object_array_get_idx(regs, k);
            struct json_object *idj = json_object_array_get_idx(t, 0);
            struct json_object *dec = json_object_array_get_idx(t, 2);
            uint64_t id = parse_id(json_object_get_string(idj), rel);
            char want[128], got[VMS_CPREG_NAME_MAX];
            char *p;

            /* the corpus decoder's form, minus its " (64-bit)" */
            snprintf(want, sizeof(want), "%s", json_object_get_string(dec));
            p = strstr(want, " (64-bit)");
            if (p) {
                memmove(p, p + 9, strlen(p + 9) + 1);
            }
            vms_cpreg_decode(id, got, sizeof(got));
            if (strcmp(got, want) != 0) {
                fail_msg("%s: 0x%016llx decodes to '%s', corpus says '%s'",
                         rel, (unsigned long long)id, got, want);
            }
            push(l, id);
        }
    }
    json_object_put(root);
    json_tokener_free(tok);
    free(d);
    return l->n - before;
}

/* Count (and print) the ids of l that have no name in ctx. */
static size_t count_unnamed(const char *what, const struct idlist *l,
                            enum vms_cpreg_ctx ctx)
{
    size_t i, bad = 0;

    for (i = 0; i < l->n; i++) {
        char buf[VMS_CPREG_NAME_MAX];

        if (!vms_cpreg_name(l->ids[i], ctx, buf, sizeof(buf))) {
            print_message("%s: unnamed id 0x%016llx (%s)\n", what,
                          (unsigned long long)l->ids[i], buf);
            bad++;
        }
    }
    return bad;
}

/*
 * name -> lookup gives the id back.  Where the name is shared, the decoded
 * form must: lookup refuses the AArch32 names of two views ("PAR"), and
 * KVM CORE names like FPSR or SP_EL1 look up the system register.
 */
static void check_round_trip(const struct idlist *l, enum vms_cpreg_ctx ctx)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        char name[VMS_CPREG_NAME_MAX], dec[VMS_CPREG_NAME_MAX + 8];
        uint64_t id = l->ids[i], got = 0;

        vms_cpreg_name(id, ctx, name, sizeof(name));
        if (vms_cpreg_lookup(name, ctx, &got) == 0) {
            if (got != id && ((id >> 16) & 0xfff) != VMS_CPREG_GRP_CORE) {
                fail_msg("lookup(\"%s\", %s) = 0x%016llx, not 0x%016llx",
                         name, vms_cpreg_ctx_name(ctx),
                         (unsigned long long)got, (unsigned long long)id);
            }
            if (got == id) {
                continue;
            }
        }
        vms_cpreg_decode(id, dec, sizeof(dec));
        if (vms_cpreg_is_aarch32(id) &&
            !(id & (VMS_CPREG_AA32_QEMU_NS | VMS_CPREG_AA32_KVM_SECURE))) {
            strcat(dec, " ns=0");
        }
        if (vms_cpreg_lookup(dec, ctx, &got) != 0 || got != id) {
            fail_msg("neither \"%s\" nor \"%s\" looks up 0x%016llx (%s)",
                     name, dec, (unsigned long long)id,
                     vms_cpreg_ctx_name(ctx));
        }
    }
}

static void test_every_id_named(void **state)
{
    struct idlist tcg = { 0 }, kvm = { 0 };
    char **files;
    size_t nfiles, i, bad = 0, n;

    (void)state;
    files = tu_glob("real-v22/*.cpu.json.zst", &nfiles);
    assert_true(nfiles >= 18);
    for (i = 0; i < nfiles; i++) {
        struct idlist one = { 0 };

        n = load_cpu_json_ids(files[i], &one);
        assert_true(n > 0);
        /* a TCG list: AArch32 ids with bit 29 and no KVM-only group */
        assert_int_equal(vms_cpreg_guess_ctx(one.ids, one.n), VMS_CPREG_TCG);
        for (n = 0; n < one.n; n++) {
            push(&tcg, one.ids[n]);
        }
        free(one.ids);
    }
    tu_free_list(files);
    assert_true(tcg.n > 1000);
    /* QEMU 7.2 TCG lists decoded from streams (cortex-a57: 258, max: 304) */
    files = tu_glob("kvm-reglists/tcg-*-cpregs.tsv", &nfiles);
    assert_true(nfiles >= 2);
    for (i = 0; i < nfiles; i++) {
        assert_true(load_tsv_ids(files[i], 1, &tcg) >= 258);
    }
    tu_free_list(files);

    files = tu_glob("kvm-reglists/kvm-cpreg-list-*.txt", &nfiles);
    assert_true(nfiles >= 3);
    for (i = 0; i < nfiles; i++) {
        struct idlist one = { 0 };

        assert_true(load_tsv_ids(files[i], 1, &one) >= 174);
        assert_int_equal(vms_cpreg_guess_ctx(one.ids, one.n), VMS_CPREG_KVM);
        for (n = 0; n < one.n; n++) {
            push(&kvm, one.ids[n]);
        }
        free(one.ids);
    }
    tu_free_list(files);
    /* all sublists, CORE and SVE included */
    assert_int_equal(load_tsv_ids("kvm-reglists/kvm-arm64-get-reg-list.txt",
                                  1, &kvm), 439);

    bad += count_unnamed("TCG", &tcg, VMS_CPREG_TCG);
    bad += count_unnamed("KVM", &kvm, VMS_CPREG_KVM);
    print_message("named %zu TCG and %zu KVM ids; table has %zu rows\n",
                  tcg.n, kvm.n, vms_cpreg_names_count);
    assert_int_equal(bad, 0);

    check_round_trip(&tcg, VMS_CPREG_TCG);
    check_round_trip(&kvm, VMS_CPREG_KVM);
    free(tcg.ids);
    free(kvm.ids);
}

struct want_name {
    uint64_t id;
    enum vms_cpreg_ctx ctx;
    int named;
    const char *name;
};

static const struct want_name want_names[] = {
    /* the guest's registers (tests/vectors/guest/README.md) */
    { UINT64_C(0x603000000013de82), VMS_CPREG_TCG, 1, "TPIDR_EL0" },
    { UINT64_C(0x603000000013de83), VMS_CPREG_TCG, 1, "TPIDRRO_EL0" },
    { UINT64_C(0x603000000013c684), VMS_CPREG_TCG, 1, "TPIDR_EL1" },
    { UINT64_C(0x603000000013c681), VMS_CPREG_TCG, 1, "CONTEXTIDR_EL1" },
    { UINT64_C(0x603000000013c600), VMS_CPREG_TCG, 1, "VBAR_EL1" },
    { UINT64_C(0x603000000013c300), VMS_CPREG_TCG, 1, "FAR_EL1" },
    { UINT64_C(0x603000000013c290), VMS_CPREG_TCG, 1, "ESR_EL1" },
    { UINT64_C(0x603000000013c708), VMS_CPREG_TCG, 1, "CNTKCTL_EL1" },
    { UINT64_C(0x603000000013d000), VMS_CPREG_TCG, 1, "CSSELR_EL1" },
    { UINT64_C(0x603000000013df19), VMS_CPREG_TCG, 1, "CNTV_CTL_EL0" },
    { UINT64_C(0x603000000013df12), VMS_CPREG_TCG, 1, "CNTP_CVAL_EL0" },
    { UINT64_C(0x603000000013df11), VMS_CPREG_TCG, 1, "CNTP_CTL_EL0" },
    { UINT64_C(0x603000000013c510), VMS_CPREG_TCG, 1, "MAIR_EL1" },
    { UINT64_C(0x603000000013c102), VMS_CPREG_TCG, 1, "TCR_EL1" },
    { UINT64_C(0x603000000013c100), VMS_CPREG_TCG, 1, "TTBR0_EL1" },
    { UINT64_C(0x603000000013c101), VMS_CPREG_TCG, 1, "TTBR1_EL1" },
    { UINT64_C(0x603000000013c080), VMS_CPREG_TCG, 1, "SCTLR_EL1" },
    { UINT64_C(0x603000000013c082), VMS_CPREG_TCG, 1, "CPACR_EL1" },
    { UINT64_C(0x603000000013da20), VMS_CPREG_TCG, 1, "FPCR" },
    { UINT64_C(0x603000000013da21), VMS_CPREG_TCG, 1, "FPSR" },
    { UINT64_C(0x40200000200f3a00), VMS_CPREG_TCG, 1, "PAR" },
    { UINT64_C(0x40300000200f0380), VMS_CPREG_TCG, 1, "PAR" },
    { UINT64_C(0x40200000200f6802), VMS_CPREG_TCG, 1, "TPIDRURW" },
    { UINT64_C(0x40200000200f6803), VMS_CPREG_TCG, 1, "TPIDRURO" },
    { UINT64_C(0x40200000200f6804), VMS_CPREG_TCG, 1, "TPIDRPRW" },
    /* the KVM timer swap, both ways */
    { UINT64_C(0x603000000013df1a), VMS_CPREG_TCG, 1, "CNTV_CVAL_EL0" },
    { UINT64_C(0x603000000013df02), VMS_CPREG_TCG, 1, "CNTVCT_EL0" },
    { UINT64_C(0x603000000013df1a), VMS_CPREG_KVM, 1,
      "KVM_REG_ARM_TIMER_CNT (CNTVCT_EL0)" },
    { UINT64_C(0x603000000013df02), VMS_CPREG_KVM, 1,
      "KVM_REG_ARM_TIMER_CVAL (CNTV_CVAL_EL0)" },
    { UINT64_C(0x603000000013df19), VMS_CPREG_KVM, 1, "CNTV_CTL_EL0" },
    /* AArch32 banks: QEMU's bit 29 under TCG, KVM's bit 28 */
    { UINT64_C(0x40200000200f6801), VMS_CPREG_TCG, 1, "CONTEXTIDR" },
    { UINT64_C(0x40200000000f6801), VMS_CPREG_TCG, 1, "CONTEXTIDR_S" },
    { UINT64_C(0x40200000000f6800), VMS_CPREG_TCG, 1, "FCSEIDR_S" },
    { UINT64_C(0x40200000000f6801), VMS_CPREG_KVM, 1, "CONTEXTIDR" },
    { UINT64_C(0x40200000100f6801), VMS_CPREG_KVM, 1, "CONTEXTIDR_S" },
    { UINT64_C(0x40200000000f5100), VMS_CPREG_TCG, 1, "PRRR_S/MAIR0_S" },
    { UINT64_C(0x40200000200e0000), VMS_CPREG_TCG, 1, "DBGDIDR" },
    /* QEMU quirks */
    { UINT64_C(0x40200000200e3802), VMS_CPREG_TCG, 1, "DBGDEVID" },
    { UINT64_C(0x40200000200e3801), VMS_CPREG_TCG, 1, "DBGDEVID1" },
    { UINT64_C(0x40200000200e3800), VMS_CPREG_TCG, 1, "DBGDEVID2" },
    { UINT64_C(0x40200000200e3907), VMS_CPREG_TCG, 1, "DBGDEVID" },
    { UINT64_C(0x40200000200e0298), VMS_CPREG_TCG, 1, "DBGDTRTX" },
    { UINT64_C(0x603000000013cf80), VMS_CPREG_TCG, 1, "L2ACTLR_EL1" },
    { UINT64_C(0x40200000200f7808), VMS_CPREG_TCG, 1, "L2ACTLR" },
    { UINT64_C(0x603000000013c01b), VMS_CPREG_TCG, 1, "S3_0_C0_C3_3" },
    /* KVM pseudo-registers and computed families */
    { UINT64_C(0x6030000000140000), VMS_CPREG_KVM, 1,
      "KVM_REG_ARM_PSCI_VERSION" },
    { UINT64_C(0x6030000000140003), VMS_CPREG_KVM, 1,
      "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3" },
    { UINT64_C(0x6030000000160003), VMS_CPREG_KVM, 1,
      "KVM_REG_ARM_VENDOR_HYP_BMAP_2" },
    { UINT64_C(0x4030000000140000), VMS_CPREG_KVM, 1,
      "KVM_REG_ARM_PSCI_VERSION" },
    { UINT64_C(0x6020000000110002), VMS_CPREG_KVM, 1, "CCSIDR[csselr=0x2]" },
    { UINT64_C(0x6080000000150060), VMS_CPREG_KVM, 1, "Z3" },
    { UINT64_C(0x6080000000150061), VMS_CPREG_KVM, 1, "Z3[1]" },
    { UINT64_C(0x60500000001505e0), VMS_CPREG_KVM, 1, "P15" },
    { UINT64_C(0x6050000000150600), VMS_CPREG_KVM, 1, "FFR" },
    { UINT64_C(0x606000000015ffff), VMS_CPREG_KVM, 1, "SVE_VLS" },
    { UINT64_C(0x6030000000100000), VMS_CPREG_KVM, 1, "X0" },
    { UINT64_C(0x603000000010003c), VMS_CPREG_KVM, 1, "X30" },
    { UINT64_C(0x6030000000100040), VMS_CPREG_KVM, 1, "PC" },
    { UINT64_C(0x6030000000100042), VMS_CPREG_KVM, 1, "PSTATE" },
    { UINT64_C(0x603000000010004a), VMS_CPREG_KVM, 1, "SPSR_abt" },
    { UINT64_C(0x6040000000100054), VMS_CPREG_KVM, 1, "V0" },
    { UINT64_C(0x60400000001000d0), VMS_CPREG_KVM, 1, "V31" },
    { UINT64_C(0x60200000001000d4), VMS_CPREG_KVM, 1, "FPSR" },
    { UINT64_C(0x4020000000100010), VMS_CPREG_KVM, 1, "CPSR" },
    { UINT64_C(0x4020000000121001), VMS_CPREG_KVM, 1, "FPSCR" },
    /* no name: the decoded form */
    { UINT64_C(0x603000000013fd11), VMS_CPREG_TCG, 0, "S3_7_C10_C2_1" },
    { UINT64_C(0x603000000013c791), VMS_CPREG_KVM, 0, "S3_0_C15_C2_1" },
    { UINT64_C(0x40200000200f7fbf), VMS_CPREG_TCG, 0, "p15,7,c15,c15,7 ns=1" },
    { UINT64_C(0x40300000000f07f8), VMS_CPREG_KVM, 0, "p15,15,c15" },
    { UINT64_C(0x6020000000110020), VMS_CPREG_KVM, 0, "CCSIDR[csselr=0x20]" },
    { UINT64_C(0x6030000000140004), VMS_CPREG_KVM, 0, "FW_REG(4)" },
    { UINT64_C(0x6030000000160004), VMS_CPREG_KVM, 0, "FW_FEAT_BMAP_REG(4)" },
    { UINT64_C(0x6030000000100001), VMS_CPREG_KVM, 0, "CORE(0x1)" },
    { UINT64_C(0x6080000000150400), VMS_CPREG_KVM, 0, "SVE_PREG(0,0)" },
    { UINT64_C(0x6030000000170000), VMS_CPREG_KVM, 0, "0x6030000000170000" },
    { UINT64_C(0x7030000000130000), VMS_CPREG_KVM, 0, "0x7030000000130000" },
    { UINT64_C(0x6030000100130000), VMS_CPREG_KVM, 0, "0x6030000100130000" },
};

static void test_names(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(want_names) / sizeof(want_names[0]); i++) {
        const struct want_name *w = &want_names[i];
        char buf[VMS_CPREG_NAME_MAX];
        int r = vms_cpreg_name(w->id, w->ctx, buf, sizeof(buf));

        if (r != w->named || strcmp(buf, w->name) != 0) {
            fail_msg("0x%016llx (%s): got %d \"%s\", want %d \"%s\"",
                     (unsigned long long)w->id, vms_cpreg_ctx_name(w->ctx),
                     r, buf, w->named, w->name);
        }
    }
}

static void test_decode_and_truncation(void **state)
{
    char buf[VMS_CPREG_NAME_MAX], small[6];

    (void)state;
    vms_cpreg_decode(UINT64_C(0x40200000200f6801), buf, sizeof(buf));
    assert_string_equal(buf, "p15,0,c13,c0,1 ns=1");
    vms_cpreg_decode(UINT64_C(0x40200000000f6801), buf, sizeof(buf));
    assert_string_equal(buf, "p15,0,c13,c0,1");
    vms_cpreg_decode(UINT64_C(0x40300000200f0100), buf, sizeof(buf));
    assert_string_equal(buf, "p15,0,c2 ns=1");
    vms_cpreg_decode(UINT64_C(0x603000000013c080), buf, sizeof(buf));
    assert_string_equal(buf, "S3_0_C1_C0_0");
    vms_cpreg_decode(UINT64_C(0x6030000000140003), buf, sizeof(buf));
    assert_string_equal(buf, "FW_REG(3)");
    vms_cpreg_decode(UINT64_C(0x6080000000150021), buf, sizeof(buf));
    assert_string_equal(buf, "SVE_ZREG(1,1)");
    vms_cpreg_decode(UINT64_C(0x6030000000100040), buf, sizeof(buf));
    assert_string_equal(buf, "CORE(0x40)");
    vms_cpreg_decode(UINT64_C(0x1234), buf, sizeof(buf));
    assert_string_equal(buf, "0x0000000000001234");

    /* truncated, still terminated; len 0 writes nothing */
    assert_int_equal(vms_cpreg_name(UINT64_C(0x603000000013c080),
                                    VMS_CPREG_TCG, small, sizeof(small)), 1);
    assert_string_equal(small, "SCTLR");
    assert_int_equal(vms_cpreg_name(UINT64_C(0x40200000000f6801),
                                    VMS_CPREG_TCG, small, sizeof(small)), 1);
    assert_string_equal(small, "CONTE");
    small[0] = 'x';
    assert_int_equal(vms_cpreg_name(UINT64_C(0x603000000013c080),
                                    VMS_CPREG_TCG, small, 0), 1);
    assert_int_equal(small[0], 'x');
    vms_cpreg_decode(UINT64_C(0x603000000013c080), NULL, 0);
}

static void test_sizes(void **state)
{
    (void)state;
    /* U32 */
    assert_int_equal(vms_cpreg_size(UINT64_C(0x40200000200f6801)), 4);
    assert_int_equal(vms_cpreg_slots(UINT64_C(0x40200000200f6801)), 1);
    /* U64 */
    assert_int_equal(vms_cpreg_size(UINT64_C(0x603000000013c080)), 8);
    assert_int_equal(vms_cpreg_slots(UINT64_C(0x603000000013c080)), 1);
    /* U128: a V register */
    assert_int_equal(vms_cpreg_size(UINT64_C(0x6040000000100054)), 16);
    assert_int_equal(vms_cpreg_slots(UINT64_C(0x6040000000100054)), 2);
    /* U256 / U512 */
    assert_int_equal(vms_cpreg_slots(UINT64_C(0x6050000000150400)), 4);
    assert_int_equal(vms_cpreg_slots(UINT64_C(0x606000000015ffff)), 8);
    /* U2048: an SVE Z register */
    assert_int_equal(vms_cpreg_size(UINT64_C(0x6080000000150000)), 256);
    assert_int_equal(vms_cpreg_slots(UINT64_C(0x6080000000150000)), 32);
    /* U8 / U16 still take one slot */
    assert_int_equal(vms_cpreg_size(UINT64_C(0x6000000000130000)), 1);
    assert_int_equal(vms_cpreg_slots(UINT64_C(0x6000000000130000)), 1);
    assert_int_equal(vms_cpreg_slots(UINT64_C(0x6010000000130000)), 1);
    /* size code 9 and 15: invalid */
    assert_int_equal(vms_cpreg_size(UINT64_C(0x6090000000150000)), 0);
    assert_int_equal(vms_cpreg_slots(UINT64_C(0x6090000000150000)), 0);
    assert_int_equal(vms_cpreg_size(UINT64_C(0x60f0000000130000)), 0);
    assert_int_equal(vms_cpreg_slots(UINT64_C(0x60f0000000130000)), 0);

    assert_true(vms_cpreg_is_aarch32(UINT64_C(0x40300000200f0380)));
    assert_false(vms_cpreg_is_aarch32(UINT64_C(0x603000000013c080)));
    assert_false(vms_cpreg_is_aarch32(UINT64_C(0x2030000000130000)));
}

struct want_lookup {
    const char *name;
    enum vms_cpreg_ctx ctx;
    int rc;
    uint64_t id;
};

static const struct want_lookup want_lookups[] = {
    { "SCTLR_EL1", VMS_CPREG_TCG, 0, UINT64_C(0x603000000013c080) },
    { "sctlr_el1", VMS_CPREG_KVM, 0, UINT64_C(0x603000000013c080) },
    { "  Tpidr_El0 ", VMS_CPREG_TCG, 0, UINT64_C(0x603000000013de82) },
    { "S3_0_C1_C0_0", VMS_CPREG_TCG, 0, UINT64_C(0x603000000013c080) },
    { "s3_0_c1_c0_0", VMS_CPREG_TCG, 0, UINT64_C(0x603000000013c080) },
    { "S3_7_C10_C2_1", VMS_CPREG_TCG, 0, UINT64_C(0x603000000013fd11) },
    { "0x603000000013c080", VMS_CPREG_TCG, 0, UINT64_C(0x603000000013c080) },
    { "0X603000000013C080", VMS_CPREG_KVM, 0, UINT64_C(0x603000000013c080) },
    /* AArch32: TCG ids carry bit 29, the Secure bank is NAME_S */
    { "CONTEXTIDR", VMS_CPREG_TCG, 0, UINT64_C(0x40200000200f6801) },
    { "CONTEXTIDR", VMS_CPREG_KVM, 0, UINT64_C(0x40200000000f6801) },
    { "contextidr_s", VMS_CPREG_TCG, 0, UINT64_C(0x40200000000f6801) },
    { "CONTEXTIDR_S", VMS_CPREG_KVM, 0, UINT64_C(0x40200000100f6801) },
    { "TPIDRURW", VMS_CPREG_TCG, 0, UINT64_C(0x40200000200f6802) },
    { "MAIR0", VMS_CPREG_TCG, 0, UINT64_C(0x40200000200f5100) },
    { "PAR", VMS_CPREG_TCG, -1, 0 },
    { "PAR_32", VMS_CPREG_TCG, 0, UINT64_C(0x40200000200f3a00) },
    { "PAR_64", VMS_CPREG_TCG, 0, UINT64_C(0x40300000200f0380) },
    { "PAR_64_S", VMS_CPREG_TCG, 0, UINT64_C(0x40300000000f0380) },
    { "par_32_s", VMS_CPREG_KVM, 0, UINT64_C(0x40200000100f3a00) },
    { "PAR_S", VMS_CPREG_TCG, -1, 0 },
    { "SCTLR_EL1_S", VMS_CPREG_TCG, -1, 0 },
    { "p15,0,c13,c0,1", VMS_CPREG_TCG, 0, UINT64_C(0x40200000200f6801) },
    { "p15,0,c13,c0,1 ns=0", VMS_CPREG_TCG, 0, UINT64_C(0x40200000000f6801) },
    { "p15,0,c7", VMS_CPREG_KVM, 0, UINT64_C(0x40300000000f0380) },
    { "DBGDEVID", VMS_CPREG_TCG, 0, UINT64_C(0x40200000200e3802) },
    { "DBGDEVID", VMS_CPREG_KVM, 0, UINT64_C(0x40200000000e3907) },
    /* ID_PFR0 is the AArch32 name, and QEMU's for ID_PFR0_EL1 */
    { "ID_PFR0", VMS_CPREG_TCG, 0, UINT64_C(0x40200000200f0080) },
    { "RES_0_C0_C3_3", VMS_CPREG_TCG, 0, UINT64_C(0x603000000013c01b) },
    /* the timer swap */
    { "CNTV_CVAL_EL0", VMS_CPREG_TCG, 0, UINT64_C(0x603000000013df1a) },
    { "CNTV_CVAL_EL0", VMS_CPREG_KVM, 0, UINT64_C(0x603000000013df02) },
    { "CNTVCT_EL0", VMS_CPREG_KVM, 0, UINT64_C(0x603000000013df1a) },
    { "KVM_REG_ARM_TIMER_CNT", VMS_CPREG_TCG, 0,
      UINT64_C(0x603000000013df1a) },
    /* KVM groups */
    { "psci_version", VMS_CPREG_KVM, 0, UINT64_C(0x6030000000140000) },
    { "KVM_REG_ARM_STD_HYP_BMAP", VMS_CPREG_KVM, 0,
      UINT64_C(0x6030000000160001) },
    { "FW_REG(2)", VMS_CPREG_KVM, 0, UINT64_C(0x6030000000140002) },
    { "CCSIDR[csselr=0x1]", VMS_CPREG_KVM, 0, UINT64_C(0x6020000000110001) },
    { "X29", VMS_CPREG_KVM, 0, UINT64_C(0x603000000010003a) },
    { "V1", VMS_CPREG_KVM, 0, UINT64_C(0x6040000000100058) },
    { "CORE(0xd5)", VMS_CPREG_KVM, 0, UINT64_C(0x60200000001000d5) },
    { "Z31", VMS_CPREG_KVM, 0, UINT64_C(0x60800000001503e0) },
    { "SVE_PREG(1,0)", VMS_CPREG_KVM, 0, UINT64_C(0x6050000000150420) },
    /* not names */
    { "", VMS_CPREG_TCG, -1, 0 },
    { "NO_SUCH_REG", VMS_CPREG_TCG, -1, 0 },
    { "S4_0_C1_C0_0", VMS_CPREG_TCG, -1, 0 },
    { "0x", VMS_CPREG_TCG, -1, 0 },
    { "0x12345678901234567", VMS_CPREG_TCG, -1, 0 },
    { "p15,0,c13,c0,1 junk", VMS_CPREG_TCG, -1, 0 },
    { "CORE(0x1)", VMS_CPREG_KVM, -1, 0 },
};

static void test_lookup(void **state)
{
    size_t i;
    uint64_t id;

    (void)state;
    for (i = 0; i < sizeof(want_lookups) / sizeof(want_lookups[0]); i++) {
        const struct want_lookup *w = &want_lookups[i];
        int rc;

        id = UINT64_C(0xdeadbeef);
        rc = vms_cpreg_lookup(w->name, w->ctx, &id);
        if (rc != w->rc || (rc == 0 && id != w->id)) {
            fail_msg("lookup(\"%s\", %s) = %d 0x%016llx, want %d 0x%016llx",
                     w->name, vms_cpreg_ctx_name(w->ctx), rc,
                     (unsigned long long)id, w->rc,
                     (unsigned long long)w->id);
        }
    }
    assert_int_equal(vms_cpreg_lookup(NULL, VMS_CPREG_TCG, &id), -1);
    assert_int_equal(vms_cpreg_lookup("SCTLR_EL1", VMS_CPREG_TCG, NULL), -1);
}

/* The compiled table: sorted by (id, ctx), AArch32 ids without bank bits. */
static void test_table(void **state)
{
    size_t i;

    (void)state;
    assert_true(vms_cpreg_names_count > 1800);
    for (i = 0; i < vms_cpreg_names_count; i++) {
        const struct vms_cpreg_name *r = &vms_cpreg_names[i];

        assert_non_null(r->name);
        assert_true(r->ctx <= VMS_CPREG_ROW_KVM);
        if (vms_cpreg_is_aarch32(r->id)) {
            assert_int_equal(r->id & (VMS_CPREG_AA32_QEMU_NS |
                                      VMS_CPREG_AA32_KVM_SECURE), 0);
        }
        if (i > 0) {
            const struct vms_cpreg_name *p = &vms_cpreg_names[i - 1];

            assert_true(p->id < r->id || (p->id == r->id && p->ctx < r->ctx));
        }
    }
}

static void test_id_registers_and_ctx(void **state)
{
    static const uint64_t yes[] = {
        UINT64_C(0x603000000013c000),   /* MIDR_EL1 */
        UINT64_C(0x603000000013c006),   /* REVIDR_EL1 */
        UINT64_C(0x603000000013c020),   /* ID_AA64PFR0_EL1 */
        UINT64_C(0x603000000013c01b),   /* reserved ID slot */
        UINT64_C(0x603000000013c018),   /* MVFR0_EL1 */
        UINT64_C(0x603000000013c800),   /* CCSIDR_EL1 */
        UINT64_C(0x603000000013c801),   /* CLIDR_EL1 */
        UINT64_C(0x603000000013c807),   /* AIDR_EL1 */
        UINT64_C(0x603000000013d801),   /* CTR_EL0 */
        UINT64_C(0x603000000013d807),   /* DCZID_EL0 */
        UINT64_C(0x6020000000110000),   /* DEMUX CCSIDR */
        UINT64_C(0x40200000200f0000),   /* MIDR */
        UINT64_C(0x40200000200f0001),   /* CTR */
        UINT64_C(0x40200000200f0080),   /* ID_PFR0 */
        UINT64_C(0x40200000200f0780),   /* RAZ_C0_C15_0 */
        UINT64_C(0x40200000200f0008),   /* CCSIDR */
        UINT64_C(0x40200000200f0009),   /* CLIDR */
        UINT64_C(0x40200000200f000f),   /* AIDR */
        UINT64_C(0x40200000200e0000),   /* DBGDIDR */
        UINT64_C(0x40200000200e0800),   /* DBGDRAR (32-bit) */
        UINT64_C(0x40300000200e0080),   /* DBGDRAR (64-bit) */
        UINT64_C(0x40300000200e0100),   /* DBGDSAR (64-bit) */
        UINT64_C(0x40200000200e3802),   /* DBGDEVID, QEMU 7.2 */
        UINT64_C(0x40200000200e3907),   /* DBGDEVID */
    };
    static const uint64_t no[] = {
        UINT64_C(0x603000000013c005),   /* MPIDR_EL1 */
        UINT64_C(0x40200000200f0005),   /* MPIDR */
        UINT64_C(0x603000000013d000),   /* CSSELR_EL1 */
        UINT64_C(0x40200000200f0010),   /* CSSELR */
        UINT64_C(0x603000000013c080),   /* SCTLR_EL1 */
        UINT64_C(0x40200000200e0004),   /* DBGBVR0 */
        UINT64_C(0x6030000000140000),   /* PSCI_VERSION */
        UINT64_C(0x40300000200f0380),   /* PAR (64-bit) */
    };
    static const uint64_t kvm_list[] = {
        UINT64_C(0x603000000013c080), UINT64_C(0x6030000000140000),
    };
    static const uint64_t tcg_list[] = {
        UINT64_C(0x40200000200f6801), UINT64_C(0x603000000013c080),
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (!vms_cpreg_is_id_register(yes[i])) {
            fail_msg("0x%016llx should be an ID register",
                     (unsigned long long)yes[i]);
        }
    }
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        if (vms_cpreg_is_id_register(no[i])) {
            fail_msg("0x%016llx is not an ID register",
                     (unsigned long long)no[i]);
        }
    }
    assert_int_equal(vms_cpreg_guess_ctx(kvm_list, 2), VMS_CPREG_KVM);
    assert_int_equal(vms_cpreg_guess_ctx(tcg_list, 2), VMS_CPREG_TCG);
    assert_int_equal(vms_cpreg_guess_ctx(NULL, 0), VMS_CPREG_TCG);
    assert_string_equal(vms_cpreg_ctx_name(VMS_CPREG_KVM), "kvm");
    assert_string_equal(vms_cpreg_ctx_name(VMS_CPREG_TCG), "tcg");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_decode_and_truncation),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_id_registers_and_ctx),
        cmocka_unit_test(test_every_id_named),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
