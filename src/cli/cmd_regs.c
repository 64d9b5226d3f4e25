#include "config.h"

#include <limits.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "armcpu.h"
#include "cli.h"
#include "cli_opts.h"
#include "cpreg.h"
#include "regs.h"

struct args {
    long cpu;
    const char *diff;
    int json;
};

static const struct cli_opt opts[] = {
    CLI_OPT_NUM("cpu", 0, "N", "only vCPU (instance) N", struct args, cpu, 0,
                LONG_MAX),
    CLI_OPT_STR("diff", 0, "OTHER", "compare with another stream",
                struct args, diff),
    CLI_OPT_FLAG("json", 'j', "machine-readable output", struct args, json,
                 1),
    CLI_OPT_END,
};

static const struct cli_spec spec = {
    .name = "regs",
    .usage = "[--cpu N] [--json] STREAM\n--diff OTHER [--cpu N] [--json] "
             "STREAM",
    .about = "List every register of every Arm vCPU in STREAM: core "
             "registers (AArch64\nX0-X30, SP, PC, PSTATE, SP_ELx, ELR_ELx, "
             "SPSR_ELx; AArch32 R0-R15, CPSR and\nthe banked registers of "
             "each mode), FP/SIMD, timers, and every coprocessor\nregister "
             "by architectural name, id, size and value.  With --diff, "
             "compare\nSTREAM with OTHER vCPU by vCPU and name what differs, "
             "what is missing and\nwhat is extra.",
    .epilog = "Exit status: 0 ok (with --diff: no difference), 1 invalid "
              "stream (--diff:\nthe vCPUs differ), 2 usage or I/O error.",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .args_error = "expected one STREAM",
};

struct reg {
    char group[16];         /* core, fp, timer, cpreg, ... */
    char name[VMS_CPREG_NAME_MAX];
    int has_id;
    uint64_t id;
    unsigned size;          /* bytes */
    char value[560];        /* hex; multi-slot values joined by ':' */
    char note[64];          /* decoded view, e.g. PSTATE flags */
};

struct reglist {
    uint32_t instance;
    struct reg *r;
    size_t n, cap;
};

static void add(struct reglist *l, const char *group, const char *name,
                unsigned size, uint64_t v)
{
    struct reg *r;

    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 512;
        l->r = realloc(l->r, l->cap * sizeof(*l->r));
    }
    r = &l->r[l->n++];
    memset(r, 0, sizeof(*r));
    snprintf(r->group, sizeof(r->group), "%s", group);
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->size = size;
    snprintf(r->value, sizeof(r->value), "0x%0*" PRIx64, (int)size * 2, v);
}

/* name = prefix + i + suffix, e.g. "X" 3 "" -> "X3" */
static void addf(struct reglist *l, const char *group, unsigned size,
                 uint64_t v, const char *prefix, int i, const char *suffix)
{
    char name[64];

    snprintf(name, sizeof(name), "%s%d%s", prefix, i, suffix);
    add(l, group, name, size, v);
}

static void core_aarch64(struct reglist *l, const struct vms_armcpu *c)
{
    char pstate[64];
    int i;

    for (i = 0; i < 31; i++) {
        addf(l, "core", 8, c->xregs[i], "X", i, "");
    }
    add(l, "core", "SP", 8, c->xregs[31]);
    add(l, "core", "PC", 8, c->pc);
    add(l, "core", "PSTATE", 4, c->cpsr);
    snprintf(pstate, sizeof(pstate), "N%dZ%dC%dV%d DAIF=%x %s",
             (c->cpsr >> 31) & 1, (c->cpsr >> 30) & 1, (c->cpsr >> 29) & 1,
             (c->cpsr >> 28) & 1, (c->cpsr >> 6) & 0xf,
             vms_armcpu_mode_name(c));
    snprintf(l->r[l->n - 1].note, sizeof(l->r[l->n - 1].note), "%s",
             pstate);
    for (i = 0; i < 4; i++) {
        addf(l, "core", 8, c->sp_el[i], "SP_EL", i, "");
    }
    for (i = 1; i < 4; i++) {
        addf(l, "core", 8, c->elr_el[i], "ELR_EL", i, "");
    }
    add(l, "core", "SPSR_EL1", 8, c->banked_spsr[1]);
    add(l, "core", "SPSR_EL2", 8, c->banked_spsr[6]);
    add(l, "core", "SPSR_EL3", 8, c->banked_spsr[7]);
    for (i = 2; i < 6; i++) {
        char n[32];

        snprintf(n, sizeof(n), "SPSR_%s", vms_armcpu_bank_mode((unsigned)i));
        add(l, "core", n, 8, c->banked_spsr[i]);
    }
}

static void core_aarch32(struct reglist *l, const struct vms_armcpu *c)
{
    char n[64];
    int i;

    for (i = 0; i < 16; i++) {
        addf(l, "core", 4, c->regs[i], "R", i, "");
    }
    add(l, "core", "CPSR", 4, c->cpsr);
    snprintf(l->r[l->n - 1].note, sizeof(l->r[l->n - 1].note), "mode %s",
             vms_armcpu_mode_name(c));
    add(l, "core", "SPSR(current)", 4, c->spsr);
    for (i = 0; i < 8; i++) {
        const char *m = vms_armcpu_bank_mode((unsigned)i);

        snprintf(n, sizeof(n), "R13_%s", m);
        add(l, "core", n, 4, c->banked_r13[i]);
        /* Hyp shares LR with usr: banked_r14[6] is unused */
        if (i == 6) {
            snprintf(n, sizeof(n), "R14_hyp(unused)");
        } else {
            snprintf(n, sizeof(n), "R14_%s", m);
        }
        add(l, "core", n, 4, c->banked_r14[i]);
        if (i > 0) {
            snprintf(n, sizeof(n), "SPSR_%s", m);
            add(l, "core", n, 4, c->banked_spsr[i]);
        }
    }
    for (i = 0; i < 5; i++) {
        addf(l, "core", 4, c->usr_regs[i], "R", 8 + i, "_usr(banked)");
        addf(l, "core", 4, c->fiq_regs[i], "R", 8 + i, "_fiq(banked)");
    }
    for (i = 1; i < 4; i++) {
        addf(l, "core", 8, c->elr_el[i], "ELR_EL", i, "");
    }
}

static void cpregs(struct reglist *l, const struct vms_armcpu *c)
{
    enum vms_cpreg_ctx ctx = vms_cpreg_guess_ctx(c->ids, (size_t)c->n);
    int32_t v;

    for (v = 0; v < c->n; v++) {
        struct reg *r;
        char name[VMS_CPREG_NAME_MAX];
        int64_t slots = vms_armcpu_slots(c, v), k;
        uint32_t first = c->layout == 23 ? c->value_idx[v] : (uint32_t)v;
        size_t used = 0;

        vms_cpreg_name(c->ids[v], ctx, name, sizeof(name));
        add(l, "cpreg", name, vms_cpreg_size(c->ids[v]), 0);
        r = &l->r[l->n - 1];
        r->has_id = 1;
        r->id = c->ids[v];
        r->value[0] = '\0';
        for (k = 0; k < slots && k < 16 && (int64_t)first + k < (int64_t)c->m; k++) {
            used += (size_t)snprintf(r->value + used, sizeof(r->value) - used,
                                     "%s0x%016" PRIx64, k ? ":" : "",
                                     c->values[first + k]);
            if (used >= sizeof(r->value)) {
                break;
            }
        }
        if (r->size == 4 && slots == 1 && !(c->values[first] >> 32)) {
            snprintf(r->value, sizeof(r->value), "0x%08" PRIx64,
                     c->values[first]);
        }
    }
}

static void others(struct reglist *l, const struct vms_armcpu *c)
{
    int i;

    if (c->has_vfp) {
        for (i = 0; i < 32; i++) {
            struct reg *r;
            char n[8];

            snprintf(n, sizeof(n), "Q%d", i);
            add(l, "fp", n, 16, 0);
            r = &l->r[l->n - 1];
            snprintf(r->value, sizeof(r->value), "0x%016" PRIx64 "%016"
                     PRIx64, c->vfp_d[i][1], c->vfp_d[i][0]);
        }
        add(l, "fp", "FPSCR", 4, c->fpscr);
        add(l, "fp", "FPSID", 4, c->fpsid);
        add(l, "fp", "MVFR2", 4, c->vfp_xregs[3]);
        add(l, "fp", "MVFR1", 4, c->vfp_xregs[4]);
        add(l, "fp", "MVFR0", 4, c->vfp_xregs[5]);
        add(l, "fp", "FPEXC", 4, c->vfp_xregs[6]);
    }
    if (c->has_sve) {
        for (i = 0; i < 33 + 16; i++) {
            struct reg *r;
            char n[8];
            size_t used = 2;
            int j;

            if (i < 32) {
                /* Zn = the high 14 doublewords, then Qn (low 128 bits) */
                snprintf(n, sizeof(n), "Z%d", i);
                add(l, "sve", n, 256, 0);
                r = &l->r[l->n - 1];
                strcpy(r->value, "0x");
                for (j = 13; j >= 0; j--) {
                    used += (size_t)snprintf(r->value + used,
                                             sizeof(r->value) - used,
                                             "%016" PRIx64,
                                             c->sve_z_hi[i][j]);
                }
                snprintf(r->value + used, sizeof(r->value) - used,
                         "%016" PRIx64 "%016" PRIx64, c->vfp_d[i][1],
                         c->vfp_d[i][0]);
            } else if (i - 32 < 17) {
                int k = i - 32;

                if (k < 16) {
                    snprintf(n, sizeof(n), "P%d", k);
                } else {
                    snprintf(n, sizeof(n), "FFR");
                }
                add(l, "sve", n, 32, 0);
                r = &l->r[l->n - 1];
                snprintf(r->value, sizeof(r->value),
                         "0x%016" PRIx64 "%016" PRIx64 "%016" PRIx64
                         "%016" PRIx64, c->sve_p[k][3], c->sve_p[k][2],
                         c->sve_p[k][1], c->sve_p[k][0]);
            }
        }
    }
    add(l, "timer", "CNTP expiry (gt_timer[0])", 8, c->gt_timer[0]);
    add(l, "timer", "CNTV expiry (gt_timer[1])", 8, c->gt_timer[1]);
    add(l, "state", "exclusive_addr", 8, c->exclusive_addr);
    add(l, "state", "exclusive_val", 8, c->exclusive_val);
    add(l, "state", "exclusive_high", 8, c->exclusive_high);
    add(l, "state", "exception.syndrome", 4, c->syndrome);
    add(l, "state", "exception.fsr", 4, c->fsr);
    add(l, "state", "exception.vaddress", 8, c->vaddress);
    add(l, "state", "power_state (1 = off)", 1, c->power_state);
    if (c->has_irq_line_state) {
        add(l, "state", "irq_line_state", 4, c->irq_line_state);
    }
}

static void build(struct reglist *l, const struct vms_armcpu *c)
{
    l->instance = c->instance_id;
    if (vms_armcpu_is_aarch64(c)) {
        core_aarch64(l, c);
    } else {
        core_aarch32(l, c);
    }
    others(l, c);
    cpregs(l, c);
}

/* All vCPUs of a stream as register lists. */
static int load_lists(const char *path, long only, struct reglist **out,
                      size_t *n)
{
    struct cli_stream cs;
    size_t i;
    int rc = cli_load(&cs, path, NULL);

    *out = NULL;
    *n = 0;
    if (rc) {
        cli_close(&cs);
        return rc;
    }
    for (i = 0; i < cs.st.n_sections; i++) {
        const struct vms_section *s = &cs.st.sections[i];
        struct vms_armcpu c;

        if (strcmp(s->idstr, "cpu") || !s->bytes ||
            (only >= 0 && s->instance_id != (uint32_t)only)) {
            continue;
        }
        if (vms_armcpu_from_section(s, &c, &cs.err) < 0) {
            rc = cli_report(path, &cs.err);
            vms_armcpu_fini(&c);
            break;
        }
        *out = realloc(*out, (*n + 1) * sizeof(**out));
        memset(&(*out)[*n], 0, sizeof(**out));
        build(&(*out)[(*n)++], &c);
        vms_armcpu_fini(&c);
    }
    cli_close(&cs);
    if (rc == 0 && only >= 0 && *n == 0) {
        fprintf(stderr, "%s regs: %s has no vCPU %ld\n", cli_progname, path,
                only);
        rc = CLI_EXIT_USAGE;
    }
    return rc;
}

static void free_lists(struct reglist *l, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(l[i].r);
    }
    free(l);
}

static json_object *reg_json(const struct reg *r)
{
    json_object *j = json_object_new_object();

    json_object_object_add(j, "group", json_object_new_string(r->group));
    json_object_object_add(j, "name", json_object_new_string(r->name));
    json_object_object_add(j, "id", r->has_id ? cli_json_hex(r->id) : NULL);
    json_object_object_add(j, "size", json_object_new_int(r->size));
    json_object_object_add(j, "value", json_object_new_string(r->value));
    if (r->note[0]) {
        json_object_object_add(j, "decoded", json_object_new_string(r->note));
    }
    return j;
}

static void print_regs(struct reglist *l, size_t n, int json)
{
    json_object *root = json ? json_object_new_array() : NULL;
    size_t i, k;

    for (i = 0; i < n; i++) {
        json_object *regs = NULL;

        if (json) {
            json_object *v = json_object_new_object();

            regs = json_object_new_array();
            json_object_object_add(v, "vcpu",
                                   json_object_new_int64(l[i].instance));
            json_object_object_add(v, "registers", regs);
            json_object_array_add(root, v);
        } else {
            printf("vCPU %u:\n", l[i].instance);
        }
        for (k = 0; k < l[i].n; k++) {
            const struct reg *r = &l[i].r[k];

            if (json) {
                json_object_array_add(regs, reg_json(r));
            } else if (r->has_id) {
                printf("  %-5s %-28s 0x%016" PRIx64 " %2u %s\n", r->group,
                       r->name, r->id, r->size, r->value);
            } else {
                printf("  %-5s %-47s %2u %s%s%s%s\n", r->group, r->name,
                       r->size, r->value, r->note[0] ? " (" : "", r->note,
                       r->note[0] ? ")" : "");
            }
        }
    }
    if (json) {
        cli_print_json(root);
        json_object_put(root);
    }
}

static const struct reg *find(const struct reglist *l, const struct reg *r)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        const struct reg *o = &l->r[i];

        if (r->has_id ? (o->has_id && o->id == r->id)
                      : (!o->has_id && strcmp(o->group, r->group) == 0 &&
                         strncmp(o->name, r->name, 6) == 0 &&
                         strcmp(o->name, r->name) == 0)) {
            return o;
        }
    }
    return NULL;
}

static const char *key_name(const struct reg *r)
{
    return r->name;
}

/* Compare b (STREAM) against a (OTHER); returns the number of findings. */
static size_t diff_one(const struct reglist *a, const struct reglist *b,
                       json_object *arr)
{
    size_t i, n = 0;

    for (i = 0; i < b->n; i++) {
        const struct reg *r = &b->r[i], *o = find(a, r);
        const char *what = NULL;

        if (!o) {
            what = "extra";
        } else if (strcmp(o->value, r->value) != 0) {
            what = "differs";
        }
        if (!what) {
            continue;
        }
        n++;
        if (arr) {
            json_object *j = reg_json(r);

            json_object_object_add(j, "vcpu",
                                   json_object_new_int64(b->instance));
            json_object_object_add(j, "change",
                                   json_object_new_string(what));
            json_object_object_add(j, "other_value", o
                ? json_object_new_string(o->value) : NULL);
            json_object_array_add(arr, j);
        } else if (o) {
            printf("vcpu %u %-8s %s%s: %s (other) -> %s\n", b->instance,
                   what, key_name(r), r->has_id ? "" : "", o->value,
                   r->value);
        } else {
            printf("vcpu %u %-8s %s", b->instance, what, key_name(r));
            if (r->has_id) {
                printf(" (0x%016" PRIx64 ")", r->id);
            }
            printf(" = %s, not in the other stream\n", r->value);
        }
    }
    for (i = 0; i < a->n; i++) {
        const struct reg *r = &a->r[i];

        if (find(b, r)) {
            continue;
        }
        n++;
        if (arr) {
            json_object *j = reg_json(r);

            json_object_object_add(j, "vcpu",
                                   json_object_new_int64(b->instance));
            json_object_object_add(j, "change",
                                   json_object_new_string("missing"));
            json_object_array_add(arr, j);
        } else {
            printf("vcpu %u %-8s %s%s = %s in the other stream only\n",
                   b->instance, "missing", key_name(r),
                   r->has_id ? "" : "", r->value);
        }
    }
    return n;
}

int cmd_regs(int argc, char **argv)
{
    struct args args = { .cpu = -1 };
    struct reglist *a = NULL, *b = NULL;
    size_t na = 0, nb = 0, i, k, diffs = 0;
    const char *other;
    long only;
    int json, arg, rc;

    arg = cli_parse(&spec, argc, argv, &args);
    if (arg < 0) {
        return cli_stop_code(arg);
    }
    other = args.diff;
    only = args.cpu;
    json = args.json;
    rc = load_lists(argv[arg], only, &b, &nb);
    if (rc == 0 && other) {
        rc = load_lists(other, only, &a, &na);
    }
    if (rc) {
        free_lists(a, na);
        free_lists(b, nb);
        return rc;
    }
    if (!other) {
        print_regs(b, nb, json);
        free_lists(b, nb);
        return CLI_EXIT_OK;
    }
    {
        json_object *root = json ? json_object_new_object() : NULL;
        json_object *arr = json ? json_object_new_array() : NULL;

        for (i = 0; i < nb; i++) {
            const struct reglist *match = NULL;

            for (k = 0; k < na; k++) {
                if (a[k].instance == b[i].instance) {
                    match = &a[k];
                }
            }
            if (!match) {
                diffs++;
                if (!json) {
                    printf("vcpu %u: not in the other stream\n",
                           b[i].instance);
                }
                continue;
            }
            diffs += diff_one(match, &b[i], arr);
        }
        for (k = 0; k < na; k++) {
            int found = 0;

            for (i = 0; i < nb; i++) {
                found |= a[k].instance == b[i].instance;
            }
            if (!found) {
                diffs++;
                if (!json) {
                    printf("vcpu %u: only in the other stream\n",
                           a[k].instance);
                }
            }
        }
        if (json) {
            json_object_object_add(root, "differences",
                                   json_object_new_int64((int64_t)diffs));
            json_object_object_add(root, "registers", arr);
            cli_print_json(root);
            json_object_put(root);
        } else {
            printf("%zu difference%s\n", diffs, diffs == 1 ? "" : "s");
        }
    }
    free_lists(a, na);
    free_lists(b, nb);
    return diffs ? CLI_EXIT_INVALID : CLI_EXIT_OK;
}

/*
 * Compare the vCPUs of two decoded streams as `regs --diff OTHER STREAM`
 * does (a = OTHER, b = STREAM): human lines on stdout, or entries added
 * to arr (JSON).  Returns the number of differences.
 */
size_t cli_regs_diff_cpus(const struct vms_armcpu *a, size_t na,
                          const struct vms_armcpu *b, size_t nb,
                          json_object *arr)
{
    size_t i, k, diffs = 0;

    for (i = 0; i < nb; i++) {
        struct reglist lb = { 0 }, la = { 0 };

        for (k = 0; k < na && a[k].instance_id != b[i].instance_id; k++) {
        }
        if (k == na) {
            diffs++;
            if (!arr) {
                printf("vcpu %u: not in the other stream\n",
                       b[i].instance_id);
            }
            continue;
        }
        build(&lb, &b[i]);
        build(&la, &a[k]);
        diffs += diff_one(&la, &lb, arr);
        free(la.r);
        free(lb.r);
    }
    for (k = 0; k < na; k++) {
        for (i = 0; i < nb && a[k].instance_id != b[i].instance_id; i++) {
        }
        if (i == nb) {
            diffs++;
            if (!arr) {
                printf("vcpu %u: only in the other stream\n",
                       a[k].instance_id);
            }
        }
    }
    return diffs;
}
