#include "config.h"

#include <limits.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "vmstream.h"
#include "cli.h"
#include "cli_opts.h"
#include "cli_regs.h"

struct args {
    long cpu;
    const char *diff;
    int json;
    struct cli_vmdesc_from vf;
};

static const struct cli_opt opts[] = {
    CLI_OPT_NUM("cpu", 0, "N", "only vCPU (instance) N", struct args, cpu, 0,
                LONG_MAX),
    CLI_OPT_STR("diff", 0, "OTHER", "compare with another stream",
                struct args, diff),
    CLI_OPT_FLAG("json", 'j', "machine-readable output", struct args, json,
                 1),
    CLI_OPT_INCLUDE(cli_vmdesc_from_opts, struct args, vf),
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
             "what is missing and\nwhat is extra.\nA vCPU of another architecture (x86) is shown as its "
             "vmdesc names it: every\ninteger field (x86: RAX..R15, env.eip, "
             "env.eflags, env.cr, segments, MSRs in\nsubsections); without a "
             "vmdesc only Arm vCPUs are decoded (see --vmdesc-from).",
    .epilog = "Exit status: 0 ok (with --diff: no difference), 1 invalid "
              "stream (--diff:\nthe vCPUs differ), 2 usage or I/O error.",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .args_error = "expected one STREAM",
};

static json_object *reg_json(const struct vms_reg *r)
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

/* Print one vCPU's list (into root when JSON). */
static void print_list(const struct vms_reglist *lp, json_object *root)
{
    const struct vms_reglist l = *lp;
    size_t k;
    int json = root != NULL;

    {
        json_object *regs = NULL;

        if (json) {
            json_object *v = json_object_new_object();

            regs = json_object_new_array();
            json_object_object_add(v, "vcpu",
                                   json_object_new_int64(l.instance));
            json_object_object_add(v, "registers", regs);
            json_object_array_add(root, v);
        } else {
            printf("vCPU %u:\n", l.instance);
        }
        for (k = 0; k < l.n; k++) {
            const struct vms_reg *r = &l.r[k];

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
}

/* Print every register of the vCPUs, Arm ones then the others' fields;
 * -1 out of memory (err set). */
static int print_regs(const struct vms_armcpu *cpus, size_t n,
                      const struct vms_reglist *others, size_t no, int json,
                      struct vms_error *err)
{
    json_object *root = json ? json_object_new_array() : NULL;
    size_t i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        struct vms_reglist l;

        if (vms_regs_list(&cpus[i], &l, err) < 0) {
            rc = -1;
            break;
        }
        print_list(&l, root);
        vms_reglist_fini(&l);
    }
    for (i = 0; i < no && rc == 0; i++) {
        print_list(&others[i], root);
    }
    if (json && rc == 0) {
        cli_print_json(root);
    }
    json_object_put(root);
    return rc;
}

/*
 * Print the differences of `regs --diff OTHER STREAM`: human lines on
 * stdout, or entries added to arr (JSON; whole-vCPU changes are counted,
 * not listed).  Returns the number of differences.
 */
size_t cli_regs_print_diff(const struct vms_regdiff *d, json_object *arr)
{
    size_t i;

    for (i = 0; i < d->n; i++) {
        const struct vms_reg_delta *x = &d->d[i];
        const struct vms_reg *r = &x->reg;
        const char *what = vms_reg_change_name(x->change);

        if (!x->has_reg) {
            if (!arr) {
                printf("vcpu %u: %s\n", x->vcpu,
                       x->change == VMS_REG_VCPU_EXTRA
                           ? "not in the other stream"
                           : "only in the other stream");
            }
            continue;
        }
        if (arr) {
            json_object *j = reg_json(r);

            json_object_object_add(j, "vcpu", json_object_new_int64(x->vcpu));
            json_object_object_add(j, "change", json_object_new_string(what));
            if (x->change != VMS_REG_MISSING) {
                json_object_object_add(j, "other_value", x->has_other
                    ? json_object_new_string(x->other_value) : NULL);
            }
            json_object_array_add(arr, j);
        } else if (x->change == VMS_REG_DIFFERS) {
            printf("vcpu %u %-8s %s: %s (other) -> %s\n", x->vcpu, what,
                   r->name, x->other_value, r->value);
        } else if (x->change == VMS_REG_EXTRA) {
            printf("vcpu %u %-8s %s", x->vcpu, what, r->name);
            if (r->has_id) {
                printf(" (0x%016" PRIx64 ")", r->id);
            }
            printf(" = %s, not in the other stream\n", r->value);
        } else {
            printf("vcpu %u %-8s %s = %s in the other stream only\n",
                   x->vcpu, what, r->name, r->value);
        }
    }
    return d->n;
}

static void free_others(struct vms_reglist *o, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        vms_reglist_fini(&o[i]);
    }
    free(o);
}

/* The vCPUs of other architectures as the fields their vmdesc names. */
static int load_others(const struct vms_stream *st, long only,
                       struct vms_reglist **out, size_t *n,
                       struct vms_error *err)
{
    size_t i;

    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];
        struct vms_reglist *no;

        if (!vms_section_is_other_cpu(st, s) ||
            (only >= 0 && s->instance_id != (uint32_t)only)) {
            continue;
        }
        no = realloc(*out, (*n + 1) * sizeof(*no));
        if (!no) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            return -1;
        }
        *out = no;
        if (vms_regs_list_fields(st, s, &no[*n], err) < 0) {
            return -1;
        }
        (*n)++;
    }
    return 0;
}

/* The vCPUs of a stream (only one with only >= 0), sorted by index; with
 * others, also those of other architectures. */
static int load_cpus(const char *path, long only, struct vms_armcpu **out,
                     size_t *n, struct vms_reglist **others, size_t *no)
{
    struct cli_stream cs;
    int rc = cli_load(&cs, path, NULL);

    *out = NULL;
    *n = 0;
    if (rc == 0 && vms_vcpus_collect(&cs.st, only, out, n, &cs.err) < 0) {
        rc = cli_report(path, &cs.err);
    }
    if (rc == 0 && others &&
        load_others(&cs.st, only, others, no, &cs.err) < 0) {
        rc = cli_report(path, &cs.err);
    }
    cli_close(&cs);
    if (rc == 0 && only >= 0 && *n == 0 && (!no || *no == 0)) {
        fprintf(stderr, "%s regs: %s has no vCPU %ld\n", cli_progname, path,
                only);
        rc = CLI_EXIT_USAGE;
    }
    return rc;
}

int cmd_regs(int argc, char **argv)
{
    struct args args = { .cpu = -1 };
    struct vms_armcpu *a = NULL, *b = NULL;
    struct vms_regdiff d;
    struct vms_error err;
    struct vms_reglist *others = NULL;
    size_t na = 0, nb = 0, no = 0, diffs;
    int arg, rc;

    arg = cli_parse(&spec, argc, argv, &args);
    if (arg < 0) {
        return cli_stop_code(arg);
    }
    vms_error_clear(&err);
    rc = load_cpus(argv[arg], args.cpu, &b, &nb,
                   args.diff ? NULL : &others, &no);
    if (rc == 0 && args.diff) {
        rc = load_cpus(args.diff, args.cpu, &a, &na, NULL, NULL);
    }
    if (rc == 0 && !args.diff) {
        if (print_regs(b, nb, others, no, args.json, &err) < 0) {
            rc = cli_report(NULL, &err);
        }
    } else if (rc == 0) {
        if (vms_regs_diff(a, na, b, nb, &d, &err) < 0) {
            rc = cli_report(NULL, &err);
        } else {
            json_object *root = args.json ? json_object_new_object() : NULL;
            json_object *arr = args.json ? json_object_new_array() : NULL;

            diffs = cli_regs_print_diff(&d, arr);
            if (args.json) {
                json_object_object_add(root, "differences",
                    json_object_new_int64((int64_t)diffs));
                json_object_object_add(root, "registers", arr);
                cli_print_json(root);
                json_object_put(root);
            } else {
                printf("%zu difference%s\n", diffs, diffs == 1 ? "" : "s");
            }
            vms_regdiff_fini(&d);
            rc = diffs ? CLI_EXIT_INVALID : CLI_EXIT_OK;
        }
    }
    vms_vcpus_free(a, na);
    vms_vcpus_free(b, nb);
    free_others(others, no);
    return rc;
}
