/*
 * forensics.h - the subcommands that take the guest out of a stream
 * (extract, core, diff) and what they share: progress on a terminal.
 */
#ifndef VMS_CLI_FORENSICS_H
#define VMS_CLI_FORENSICS_H

#include <stdint.h>
#include <time.h>

int cmd_extract(int argc, char **argv);
int cmd_core(int argc, char **argv);
int cmd_diff(int argc, char **argv);

/* --progress: a line on stderr, at most ~6 times a second, only when
 * stderr is a terminal. */
struct cli_progress {
    const char *what;       /* "extract" */
    const char *path;       /* input, for its size (0: unknown) */
    uint64_t size;
    struct timespec start, last;
    int shown;
};

/* Returns 1 (and fills p) if progress should be shown. */
int cli_progress_init(struct cli_progress *p, int wanted, const char *what,
                      const char *path);
/* A vms_parse_opts.progress callback. */
int cli_progress_show(void *opaque, uint64_t off, uint64_t raw_off);
/* Clear the line if anything was shown. */
void cli_progress_done(struct cli_progress *p);

#endif
