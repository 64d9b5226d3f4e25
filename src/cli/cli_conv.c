#include "config.h"
#include "cli_conv.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vmstream.h"

void cli_conv_init(struct cli_conv *c, const char *cmd)
{
    memset(c, 0, sizeof(*c));
    c->cmd = cmd;
    c->to_layout = -1;
}

static int set_layout(void *dest, const char *s, const char *cmd)
{
    int *to = dest;

    if (strcmp(s, "v22") == 0 || strcmp(s, "22") == 0) {
        *to = 22;
    } else if (strcmp(s, "v23") == 0 || strcmp(s, "23") == 0) {
        *to = 23;
    } else {
        cli_usage_error(cmd, "--to takes v22 or v23, not '%s'", s);
        return -1;
    }
    return 0;
}

/* --drop NAME[,NAME...]: every name must denote a cpreg-list register;
 * the stream decides which registers it matches (vms_drop_matches). */
static int set_drop(void *dest, const char *arg, const char *cmd)
{
    struct cli_conv *c = (struct cli_conv *)((char *)dest -
                                             offsetof(struct cli_conv, drop));
    char *copy = strdup(arg), *save = NULL, *tok;
    int rc = 0;

    if (!copy) {
        return -1;
    }
    for (tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int kind = vms_cpreg_name_kind(tok);
        char **nn;

        if (kind <= 0) {
            cli_usage_error(cmd, kind < 0
                                ? "--drop %s: not a register of the cpreg "
                                  "list (core, FP/SIMD and SVE registers "
                                  "are fields of the cpu section and cannot "
                                  "be dropped)"
                                : "--drop %s: no register of that name "
                                  "(names as 'vmstream regs' prints them, "
                                  "S3_x_Cx_Cx_x, p15,... or a 0x id)",
                            tok);
            rc = -1;
            break;
        }
        nn = realloc(c->drop, (c->n_drop + 1) * sizeof(*nn));
        if (!nn || !(nn[c->n_drop] = strdup(tok))) {
            if (nn) {
                c->drop = nn;
            }
            cli_usage_error(cmd, "out of memory");
            rc = -1;
            break;
        }
        c->drop = nn;
        c->n_drop++;
    }
    free(copy);
    return rc;
}

const struct cli_opt cli_dest_opts[] = {
    CLI_OPT_STR("dest", 0, "PROFILE",
                "the destination: a builtin profile ('vmstream profile "
                "--list') or a profile file",
                struct cli_dest, profile),
    CLI_OPT_STR("dest-stream", 0, "STREAM",
                "... or a stream the destination build saved (e.g. a "
                "paused VM with the same command line)",
                struct cli_dest, stream),
    CLI_OPT_END,
};

const struct cli_opt cli_conv_opts[] = {
    CLI_OPT_CALL("to", 't', "v22|v23", "target layout (required)",
                 struct cli_conv, to_layout, set_layout),
    CLI_OPT_CALL("drop", 'd', "REG[,REG...]",
                 "leave these cpreg-list registers out (a name as "
                 "'vmstream regs' prints it, S3_x_Cx_Cx_x, p15,... or a 0x "
                 "id; repeatable).  What the destination then holds in "
                 "them: QEMU 7.2 TCG 0 (a constant register fails the "
                 "load), KVM its reset value; 'vmstream check' says which",
                 struct cli_conv, drop, set_drop),
    CLI_OPT_INCLUDE(cli_dest_opts, struct cli_conv, dest_opt),
    CLI_OPT_STR("dest-vmstate", 0, "FILE",
                "the destination's 'qemu-system-aarch64 -dump-vmstate FILE' "
                "(its machine type, for --repair)",
                struct cli_conv, dest_vmstate),
    CLI_OPT_FLAG("repair", 0,
                 "rewrite the cpu sections for a destination of another "
                 "QEMU release (--dest or --dest-stream needed): drop the "
                 "registers it lacks, add the ones it has with its value, "
                 "set the ones it fixes; every change on stderr; refuses "
                 "what cannot be repaired (machine type).  --to defaults to "
                 "the destination's layout",
                 struct cli_conv, repair, 1),
    CLI_OPT_STR("report", 0, "FILE",
                "write the repair report as JSON to FILE",
                struct cli_conv, report),
    CLI_OPT_FLAG("json", 0, "the repair report as JSON on stderr",
                 struct cli_conv, json, 1),
    CLI_OPT_END,
};

int cli_dest_load(const char *cmd, const struct cli_dest *d,
                  struct vms_profile **out)
{
    struct vms_error err;

    *out = NULL;
    if (d->profile && d->stream) {
        cli_usage_error(cmd, "give --dest or --dest-stream, not both");
        return CLI_EXIT_USAGE;
    }
    if (!d->profile && !d->stream) {
        return 0;
    }
    vms_error_clear(&err);
    *out = d->profile ? vms_profile_load(d->profile, &err)
                      : vms_profile_from_stream(d->stream, NULL, &err);
    if (!*out) {
        cli_report(d->profile ? d->profile : d->stream, &err);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int cli_conv_ready(struct cli_conv *c, struct vms_convert_opts *co)
{
    struct vms_error err;
    int rc;

    if (c->repair && !c->dest_opt.profile && !c->dest_opt.stream) {
        cli_usage_error(c->cmd, c->dest_vmstate
                        ? "--repair needs --dest or --dest-stream for the "
                          "cpu registers: -dump-vmstate does not list the "
                          "cpu"
                        : "--repair needs --dest or --dest-stream");
        return CLI_EXIT_USAGE;
    }
    if ((c->report || c->json) && !c->repair) {
        cli_usage_error(c->cmd, "--report and --json report a --repair");
        return CLI_EXIT_USAGE;
    }
    if (c->to_layout < 0 && !c->repair) {
        cli_usage_error(c->cmd, "--to v22 or --to v23 is required");
        return CLI_EXIT_USAGE;
    }
    if (c->n_drop) {
        c->drop_hits = calloc(c->n_drop, sizeof(*c->drop_hits));
        if (!c->drop_hits) {
            fprintf(stderr, "%s %s: out of memory\n", cli_progname, c->cmd);
            return CLI_EXIT_USAGE;
        }
    }
    co->drop.names = (const char *const *)c->drop;
    co->drop.n = c->n_drop;
    co->drop.hits = c->drop_hits;
    rc = cli_dest_load(c->cmd, &c->dest_opt, &c->dest);
    if (rc) {
        return rc;
    }
    if (c->dest) {
        c->cv.dest = c->dest;
        co->verify = check_verify_cpus;
        co->verify_opaque = &c->cv;
    }
    if (c->to_layout < 0) {
        c->to_layout = c->dest->layout;
    }
    co->to_layout = c->to_layout;
    vms_dest_env_init(&c->env);
    vms_error_clear(&err);
    if (c->dest_opt.stream &&
        vms_dest_env_from_path(&c->env, c->dest_opt.stream, &err) < 0) {
        cli_report(c->dest_opt.stream, &err);
        return CLI_EXIT_USAGE;
    }
    if (c->dest_vmstate &&
        vms_dest_env_from_vmstate(&c->env, c->dest_vmstate, &err) < 0) {
        cli_report(c->dest_vmstate, &err);
        return CLI_EXIT_USAGE;
    }
    if (c->dest) {
        vms_dest_env_set_release(&c->env, c->dest->release);
    }
    if (c->repair) {
        vms_repair_init(&c->rp, c->dest, &c->env);
        co->repair = vms_repair_hook;
        co->repair_opaque = &c->rp;
    }
    return 0;
}

void cli_conv_warnings(const struct cli_conv *c)
{
    size_t i;

    for (i = 0; c->dest && i < c->cv.result.n; i++) {
        const struct vms_finding *f = &c->cv.result.findings[i];

        if (f->severity == VMS_SEV_WARNING) {
            fprintf(stderr, "%s %s: warning: vcpu %lld %s: %s\n",
                    cli_progname, c->cmd, (long long)f->vcpu, f->reg,
                    f->message);
        }
    }
}

static json_object *report_json(const struct cli_conv *c)
{
    json_object *o = json_object_new_object(), *a = json_object_new_array();
    size_t i;

    json_object_object_add(o, "destination",
                           json_object_new_string(c->dest->name));
    json_object_object_add(o, "release", c->rp.dest && c->env.release[0]
        ? json_object_new_string(c->env.release) : NULL);
    json_object_object_add(o, "machine", c->env.machine[0]
        ? json_object_new_string(c->env.machine) : NULL);
    json_object_object_add(o, "vcpus",
                           json_object_new_int64((int64_t)c->rp.vcpus));
    json_object_object_add(o, "changes",
                           json_object_new_int64((int64_t)c->rp.n));
    for (i = 0; i < c->rp.n; i++) {
        const struct vms_repair_change *ch = &c->rp.changes[i];
        json_object *j = json_object_new_object();

        json_object_object_add(j, "vcpu", json_object_new_int64(ch->vcpu));
        json_object_object_add(j, "action", json_object_new_string(
            vms_repair_action_name(ch->action)));
        json_object_object_add(j, ch->has_reg ? "register" : "subsection",
                               json_object_new_string(ch->name));
        json_object_object_add(j, "id", ch->has_reg ? cli_json_hex(ch->id)
                                                    : NULL);
        json_object_object_add(j, "old", ch->has_old
            ? cli_json_hex(ch->old_value) : NULL);
        json_object_object_add(j, "new", ch->has_new
            ? cli_json_hex(ch->new_value) : NULL);
        json_object_object_add(j, "observable",
                               json_object_new_boolean(ch->observable));
        json_object_object_add(j, "why", json_object_new_string(ch->why));
        json_object_array_add(a, j);
    }
    json_object_object_add(o, "list", a);
    return o;
}

int cli_conv_report(const struct cli_conv *c)
{
    json_object *o;
    size_t i;
    int rc = 0;

    if (!c->repair) {
        return 0;
    }
    if (!c->json) {
        for (i = 0; i < c->rp.n; i++) {
            const struct vms_repair_change *ch = &c->rp.changes[i];
            char ov[24] = "-", nv[24] = "-";

            if (ch->has_old) {
                snprintf(ov, sizeof(ov), "0x%llx",
                         (unsigned long long)ch->old_value);
            }
            if (ch->has_new) {
                snprintf(nv, sizeof(nv), "0x%llx",
                         (unsigned long long)ch->new_value);
            }
            fprintf(stderr, "%s %s: repair: vcpu %u %s %s: %s -> %s "
                    "(guest-observable: %s; %s)\n", cli_progname, c->cmd,
                    ch->vcpu, vms_repair_action_name(ch->action), ch->name,
                    ov, nv, ch->observable ? "yes" : "no", ch->why);
        }
        fprintf(stderr, "%s %s: repair for %s%s%s: %zu change(s) over %zu "
                "vCPU(s)\n", cli_progname, c->cmd, c->dest->name,
                c->env.release[0] ? ", QEMU " : "", c->env.release,
                c->rp.n, c->rp.vcpus);
    }
    if (!c->json && !c->report) {
        return 0;
    }
    o = report_json(c);
    if (c->json) {
        fprintf(stderr, "%s\n", json_object_to_json_string_ext(o,
                JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    }
    if (c->report) {
        FILE *f = fopen(c->report, "w");

        if (!f || fprintf(f, "%s\n", json_object_to_json_string_ext(o,
                          JSON_C_TO_STRING_PRETTY |
                          JSON_C_TO_STRING_NOSLASHESCAPE)) < 0 ||
            fclose(f) != 0) {
            fprintf(stderr, "%s %s: %s: cannot write the report\n",
                    cli_progname, c->cmd, c->report);
            rc = CLI_EXIT_USAGE;
        }
    }
    json_object_put(o);
    return rc;
}

void cli_conv_fini(struct cli_conv *c)
{
    size_t i;

    vms_check_result_fini(&c->cv.result);
    vms_profile_free(c->dest);
    vms_repair_fini(&c->rp);
    vms_dest_env_fini(&c->env);
    for (i = 0; i < c->n_drop; i++) {
        free(c->drop[i]);
    }
    free(c->drop);
    free(c->drop_hits);
    memset(c, 0, sizeof(*c));
}
