#include "config.h"

#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "profile.h"

struct args {
    const char *name, *show;
    int list;
};

static const struct cli_opt opts[] = {
    CLI_OPT_STR("name", 0, "NAME", "name recorded in the profile (default: "
                "the stream's path)", struct args, name),
    CLI_OPT_FLAG("list", 0, "list the builtin profiles", struct args, list,
                 1),
    CLI_OPT_STR("show", 0, "NAME", "print a builtin profile", struct args,
                show),
    CLI_OPT_END,
};

static const struct cli_spec spec = {
    .name = "profile",
    .usage = "[--name NAME] STREAM > FILE\n--list | --show NAME",
    .about = "Write a destination profile (doc/profile.md) taken from "
             "STREAM, a stream saved by\nthe destination build (e.g. a "
             "paused VM with the destination's command line):\nits cpu "
             "layout, accelerator (inferred from the register ids), and "
             "every\nregister's id, size and name, with its value where the "
             "CPU model fixes it.\nUse it with 'vmstream check --dest FILE' "
             "or 'vmstream convert --dest FILE'.",
    .opts = opts,
    .min_args = 0,
    .max_args = -1,
};

int cmd_profile(int argc, char **argv)
{
    struct args a = { 0 };
    struct vms_profile *p;
    struct vms_error err;
    int i;

    vms_error_clear(&err);
    i = cli_parse(&spec, argc, argv, &a);
    if (i < 0) {
        return cli_stop_code(i);
    }
    if (a.list) {
        const char *const *n = vms_profile_builtin_names();

        for (; *n; n++) {
            printf("%s\n", *n);
        }
        return CLI_EXIT_OK;
    }
    if (a.show) {
        p = vms_profile_load(a.show, &err);
    } else {
        if (i != argc - 1) {
            cli_usage_error("profile", "expected one STREAM");
            return CLI_EXIT_USAGE;
        }
        p = vms_profile_from_stream(argv[i], &err);
        if (p && a.name) {
            snprintf(p->name, sizeof(p->name), "%s", a.name);
        }
    }
    if (!p) {
        return cli_report(a.show ? a.show : argv[i], &err);
    }
    if (vms_profile_write(p, stdout) < 0 || fflush(stdout) != 0) {
        vms_profile_free(p);
        fprintf(stderr, "%s profile: write error\n", cli_progname);
        return CLI_EXIT_USAGE;
    }
    vms_profile_free(p);
    return CLI_EXIT_OK;
}
