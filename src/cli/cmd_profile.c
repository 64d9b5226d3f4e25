#include "config.h"

#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "profile.h"

static void help(FILE *f)
{
    fprintf(f,
            "Usage: vmstream profile [--name NAME] STREAM > FILE\n"
            "       vmstream profile --list | --show NAME\n"
            "Write a destination profile (doc/profile.md) taken from STREAM, "
            "a stream saved by\nthe destination build (e.g. a paused VM "
            "with the destination's command line):\nits cpu layout, "
            "accelerator (inferred from the register ids), and every\n"
            "register's id, size and name, with its value where the CPU "
            "model fixes it.\nUse it with 'vmstream check --dest FILE' or "
            "'vmstream convert --dest FILE'.\n\n"
            "  --name NAME   name recorded in the profile (default: the "
            "stream's path)\n"
            "  --list        list the builtin profiles\n"
            "  --show NAME   print a builtin profile\n"
            "  -h, --help    this text\n");
}

int cmd_profile(int argc, char **argv)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' },
        { "list", no_argument, NULL, 'l' },
        { "show", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *name = NULL, *show = NULL;
    struct vms_profile *p;
    struct vms_error err;
    int c, list = 0;

    vms_error_clear(&err);
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            name = optarg;
            break;
        case 'l':
            list = 1;
            break;
        case 's':
            show = optarg;
            break;
        case 'h':
            help(stdout);
            return CLI_EXIT_OK;
        default:
            help(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (list) {
        const char *const *n = vms_profile_builtin_names();

        for (; *n; n++) {
            printf("%s\n", *n);
        }
        return CLI_EXIT_OK;
    }
    if (show) {
        p = vms_profile_load(show, &err);
    } else {
        if (optind != argc - 1) {
            cli_usage_error("profile", "expected one STREAM");
            return CLI_EXIT_USAGE;
        }
        p = vms_profile_from_stream(argv[optind], cli_twin, &err);
        if (p && name) {
            snprintf(p->name, sizeof(p->name), "%s", name);
        }
    }
    if (!p) {
        return cli_report(show ? show : argv[optind], &err);
    }
    if (vms_profile_write(p, stdout) < 0 || fflush(stdout) != 0) {
        vms_profile_free(p);
        fprintf(stderr, "%s profile: write error\n", cli_progname);
        return CLI_EXIT_USAGE;
    }
    vms_profile_free(p);
    return CLI_EXIT_OK;
}
