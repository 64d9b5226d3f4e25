#include "config.h"
#include "cli_conv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cpreg.h"

void cli_conv_init(struct cli_conv *c, const char *cmd)
{
    memset(c, 0, sizeof(*c));
    c->cmd = cmd;
    c->to_layout = -1;
}

static int parse_layout(const char *s)
{
    if (strcmp(s, "v22") == 0 || strcmp(s, "22") == 0) {
        return 22;
    }
    if (strcmp(s, "v23") == 0 || strcmp(s, "23") == 0) {
        return 23;
    }
    return -1;
}

/* --drop NAME[,NAME...]: every name must denote a cpreg-list register;
 * the stream decides which registers it matches (vms_drop_matches). */
static int parse_drop(struct cli_conv *c, const char *arg)
{
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
            cli_usage_error(c->cmd, kind < 0
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
            rc = -1;
            break;
        }
        c->drop = nn;
        c->n_drop++;
    }
    free(copy);
    return rc;
}

int cli_conv_option(struct cli_conv *c, int opt, const char *arg)
{
    switch (opt) {
    case CLI_CONV_TO:
        c->to_layout = parse_layout(arg);
        if (c->to_layout < 0) {
            cli_usage_error(c->cmd, "--to takes v22 or v23, not '%s'", arg);
            return -1;
        }
        return 1;
    case CLI_CONV_DROP:
        return parse_drop(c, arg) < 0 ? -1 : 1;
    case CLI_CONV_DEST:
        c->dest_name = arg;
        return 1;
    case CLI_CONV_DEST_STREAM:
        c->dest_stream = arg;
        return 1;
    }
    return 0;
}

int cli_conv_ready(struct cli_conv *c, struct vms_convert_opts *co)
{
    struct vms_error err;

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
    if (c->dest_name || c->dest_stream) {
        vms_error_clear(&err);
        c->dest = c->dest_name ? vms_profile_load(c->dest_name, &err)
                               : vms_profile_from_stream(c->dest_stream, NULL,
                                                         &err);
        if (!c->dest) {
            cli_report(c->dest_name ? c->dest_name : c->dest_stream, &err);
            return CLI_EXIT_USAGE;
        }
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
