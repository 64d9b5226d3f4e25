/*
 * cli_conv.h - the conversion options that `convert` and `proxy` share:
 * --to, --drop, --dest and --dest-stream, parsed the same way and turned
 * into the same struct vms_convert_opts (the --dest check as its verify
 * hook), and the warnings a destination check leaves behind.
 */
#ifndef VMS_CLI_CONV_H
#define VMS_CLI_CONV_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "convert.h"
#include "profile.h"
#include "release.h"
#include "repair.h"

/* getopt_long values of the shared options. */
enum {
    CLI_CONV_TO = 't',
    CLI_CONV_DROP = 'd',
    CLI_CONV_DEST = 'P',
    CLI_CONV_DEST_STREAM = 'S',
    CLI_CONV_REPAIR = 0x200,
    CLI_CONV_DEST_VMSTATE,
    CLI_CONV_REPORT,
    CLI_CONV_JSON,
};

#define CLI_CONV_LONGOPTS                                                 \
    { "to", required_argument, NULL, CLI_CONV_TO },                       \
    { "drop", required_argument, NULL, CLI_CONV_DROP },                   \
    { "dest", required_argument, NULL, CLI_CONV_DEST },                   \
    { "dest-stream", required_argument, NULL, CLI_CONV_DEST_STREAM },     \
    { "dest-vmstate", required_argument, NULL, CLI_CONV_DEST_VMSTATE },   \
    { "repair", no_argument, NULL, CLI_CONV_REPAIR },                     \
    { "report", required_argument, NULL, CLI_CONV_REPORT },               \
    { "json", no_argument, NULL, CLI_CONV_JSON }

#define CLI_CONV_HELP                                                     \
    "  --to v22|v23          target layout\n"                             \
    "  --drop REG[,REG...]   leave these cpreg-list registers out (a "    \
    "name as\n"                                                           \
    "                        'vmstream regs' prints it, S3_x_Cx_Cx_x, "   \
    "p15,... or a\n"                                                      \
    "                        0x id).  What the destination then holds "   \
    "in them:\n"                                                          \
    "                        QEMU 7.2 TCG 0 (a constant register fails "  \
    "the load),\n"                                                        \
    "                        KVM its reset value; 'vmstream check' says " \
    "which\n"                                                             \
    "  --dest PROFILE        check the result against a destination "     \
    "profile first\n"                                                     \
    "  --dest-stream STREAM  ... or against a stream the destination "    \
    "saved\n"                                                             \
    "  --dest-vmstate FILE   the destination's 'qemu-system-aarch64 "     \
    "-dump-vmstate FILE'\n"                                               \
    "                        (machine type, device versions)\n"           \
    "  --repair              rewrite the cpu sections for a destination "  \
    "of another\n"                                                        \
    "                        QEMU release (--dest or --dest-stream "      \
    "needed): drop the\n"                                                 \
    "                        registers it lacks, add the ones it has "    \
    "with its value,\n"                                                   \
    "                        set the ones it fixes; every change on "     \
    "stderr; refuses\n"                                                   \
    "                        what cannot be repaired (machine type). "    \
    "--to defaults\n"                                                     \
    "                        to the destination's layout\n"               \
    "  --report FILE         write the repair report as JSON to FILE\n"   \
    "  --json                the repair report as JSON on stderr\n"

struct cli_conv {
    const char *cmd;            /* "convert", "proxy": for messages */
    int to_layout;              /* -1 until --to */
    char **drop;                /* --drop names, as given */
    size_t n_drop;
    size_t *drop_hits;          /* registers each name removed */
    const char *dest_name, *dest_stream, *dest_vmstate;
    struct vms_profile *dest;
    struct check_verify cv;
    int repair, json;
    const char *report;
    struct vms_dest_env env;
    struct vms_repair rp;
};

void cli_conv_init(struct cli_conv *c, const char *cmd);
/* Handle one getopt_long result: 1 it was one of ours, 0 it was not,
 * -1 bad argument (the usage error is printed). */
int cli_conv_option(struct cli_conv *c, int opt, const char *arg);
/* After parsing: require --to, load the destination profile, fill the
 * conversion options.  0, or the exit code (the error is printed). */
int cli_conv_ready(struct cli_conv *c, struct vms_convert_opts *co);
/* The destination check passed: print what the destination will lose
 * (its warnings), one line each on stderr. */
void cli_conv_warnings(const struct cli_conv *c);
/* After a successful conversion: the repair report (stderr, --json,
 * --report FILE).  0, or the exit code. */
int cli_conv_report(const struct cli_conv *c);
void cli_conv_fini(struct cli_conv *c);

#endif
