/*
 * cli.h - what the subcommands share: exit codes, option parsing helpers,
 * loading a stream with errors reported the same way everywhere.
 */
#ifndef VMS_CLI_H
#define VMS_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "cli_opts.h"
#include "vmstream.h"

enum {
    CLI_EXIT_OK = 0,        /* success / will load */
    CLI_EXIT_INVALID = 1,   /* invalid stream / will fail */
    CLI_EXIT_USAGE = 2,     /* usage or I/O error */
    CLI_EXIT_LOSSY = 3,     /* check: will load but loses state */
};

extern const char *cli_progname;

struct cli_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

int cmd_info(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_regs(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_proxy(int argc, char **argv);
int cmd_xml(int argc, char **argv);

/* --vmdesc-from TWIN, a row of every reading command's table
 * (CLI_OPT_INCLUDE(cli_vmdesc_from_opts, struct args, vf)): the twin is
 * loaded while the options are parsed, into cli_twin, which cli_load and
 * the commands pass to the library (NULL when not given). */
struct vms_twin;
extern struct vms_twin *cli_twin;
struct cli_vmdesc_from {
    const char *path;
};
extern const struct cli_opt cli_vmdesc_from_opts[];
void cli_twin_free(void);

/* A parsed stream and the source it came from. */
struct cli_stream {
    const char *path;
    struct vms_src *src;
    struct vms_stream st;
    struct vms_error err;
};

/* Parse a whole stream; on failure prints the error and returns the exit
 * code to use (1 invalid stream, 2 I/O); 0 on success. */
int cli_load(struct cli_stream *cs, const char *path,
             const struct vms_parse_opts *o);
void cli_close(struct cli_stream *cs);
/* Print "vmstream: PATH: offset ..., section ...: message" to stderr and
 * return the exit code that fits the error. */
int cli_report(const char *path, const struct vms_error *e);
int cli_exit_code(const struct vms_error *e);
void cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* JSON output (json-c objects, printed pretty with a final newline). */
struct json_object;
void cli_print_json(struct json_object *o);
struct json_object *cli_json_hex(uint64_t v);
const char *cli_delim_name(int delim);
const char *cli_comp_name(int comp);

/* SIGBUS handler: a mapped input file shrank; message, exit 2. */
void cli_input_vanished(int sig);

#endif
