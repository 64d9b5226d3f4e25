#include "config.h"
#include "cli_conv.h"

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
    int rc;

    if (c->to_layout < 0) {
        cli_usage_error(c->cmd, "--to v22 or --to v23 is required");
        return CLI_EXIT_USAGE;
    }
    co->to_layout = c->to_layout;
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

void cli_conv_fini(struct cli_conv *c)
{
    size_t i;

    vms_check_result_fini(&c->cv.result);
    vms_profile_free(c->dest);
    for (i = 0; i < c->n_drop; i++) {
        free(c->drop[i]);
    }
    free(c->drop);
    free(c->drop_hits);
    memset(c, 0, sizeof(*c));
}
