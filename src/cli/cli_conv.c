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

static int parse_drop(struct cli_conv *c, const char *arg)
{
    char *copy = strdup(arg), *save = NULL, *tok;
    int rc = 0;

    if (!copy) {
        return -1;
    }
    for (tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        uint64_t id;
        uint64_t *nids;

        if (vms_cpreg_lookup(tok, VMS_CPREG_TCG, &id) < 0) {
            cli_usage_error(c->cmd, "unknown register '%s' for --drop",
                            tok);
            rc = -1;
            break;
        }
        nids = realloc(c->drop, (c->n_drop + 1) * sizeof(*c->drop));
        if (!nids) {
            rc = -1;
            break;
        }
        c->drop = nids;
        c->drop[c->n_drop++] = id;
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
    co->drop = c->drop;
    co->n_drop = c->n_drop;
    if (c->dest_name || c->dest_stream) {
        vms_error_clear(&err);
        c->dest = c->dest_name ? vms_profile_load(c->dest_name, &err)
                               : vms_profile_from_stream(c->dest_stream,
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
    vms_check_result_fini(&c->cv.result);
    vms_profile_free(c->dest);
    free(c->drop);
    memset(c, 0, sizeof(*c));
}
