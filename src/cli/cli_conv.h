/*
 * cli_conv.h - options that several commands share, as row sets to
 * include in a command's table (cli_opts.h, CLI_OPT_INCLUDE):
 *
 *   cli_dest_opts  --dest PROFILE, --dest-stream STREAM (check, and
 *                  through cli_conv_opts convert and proxy), loaded by
 *                  cli_dest_load();
 *   cli_conv_opts  --to, --drop and the cli_dest rows (convert, proxy),
 *                  turned into one struct vms_convert_opts (the --dest
 *                  check as its verify hook) by cli_conv_ready(), and the
 *                  warnings a destination check leaves behind.
 */
#ifndef VMS_CLI_CONV_H
#define VMS_CLI_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "vmstream.h"
#include "cli_opts.h"

/* Where a destination comes from: at most one of the two. */
struct cli_dest {
    const char *profile;        /* --dest */
    const char *stream;         /* --dest-stream */
};

extern const struct cli_opt cli_dest_opts[];

/* Load the destination named by d into *out (NULL when none was given).
 * 0, or the exit code (the error is printed, naming cmd). */
int cli_dest_load(const char *cmd, const struct cli_dest *d,
                  struct vms_profile **out);

struct cli_conv {
    const char *cmd;            /* "convert", "proxy": for messages */
    int to_layout;              /* -1 until --to */
    char **drop;                /* --drop names, as given */
    size_t n_drop;
    size_t *drop_hits;          /* registers each name removed */
    struct cli_dest dest_opt;
    struct vms_profile *dest;
    struct check_verify cv;
    const char *dest_vmstate;   /* --dest-vmstate */
    int repair, json;           /* --repair, --json (its report) */
    const char *report;         /* --report FILE */
    struct vms_dest_env env;
    struct vms_repair rp;
};

extern const struct cli_opt cli_conv_opts[];

void cli_conv_init(struct cli_conv *c, const char *cmd);
/* After parsing: require --to (unless --repair: then the destination's
 * layout), load the destination profile (and --dest-vmstate), fill the
 * conversion options (the repair hook with --repair).  0, or the exit
 * code (the error is printed). */
int cli_conv_ready(struct cli_conv *c, struct vms_convert_opts *co);
/* The destination check passed: print what the destination will lose
 * (its warnings), one line each on stderr. */
void cli_conv_warnings(const struct cli_conv *c);
/* After a successful conversion: the repair report (stderr lines, or
 * JSON with --json, and --report FILE).  0, or the exit code. */
int cli_conv_report(const struct cli_conv *c);
void cli_conv_fini(struct cli_conv *c);

#endif
