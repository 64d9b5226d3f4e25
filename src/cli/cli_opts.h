/*
 * cli_opts.h - one option table per subcommand, one parser for all of
 * them (doc/style.md B7; how to use it: the comment below and
 * doc/architecture.md).
 *
 * A command declares a static table of rows: long name, optional short
 * letter, argument kind, metavariable, help text and where the value goes
 * (an offset into the command's own argument struct).  cli_parse() builds
 * getopt_long's tables from it, fills the struct, answers -h/--help with
 * the usage line(s), the description, one line per row and the epilogue,
 * and rejects an unknown option, a missing or bad argument and a wrong
 * number of operands with one line on stderr that names the command.
 *
 *     struct args { int json; long cpu; const char *diff; };
 *     static const struct cli_opt opts[] = {
 *         CLI_OPT_NUM("cpu", 0, "N", "only vCPU (instance) N",
 *                     struct args, cpu, 0, LONG_MAX),
 *         CLI_OPT_STR("diff", 0, "OTHER", "compare with another stream",
 *                     struct args, diff),
 *         CLI_OPT_FLAG("json", 'j', "machine-readable output",
 *                      struct args, json, 1),
 *         CLI_OPT_END,
 *     };
 *     static const struct cli_spec spec = {
 *         .name = "regs", .usage = "[--cpu N] [--json] STREAM",
 *         .about = "...", .opts = opts,
 *         .min_args = 1, .max_args = 1, .args_error = "expected one STREAM",
 *     };
 *     struct args a = { .cpu = -1 };
 *     int i = cli_parse(&spec, argc, argv, &a);
 *     if (i < 0)
 *         return cli_stop_code(i);
 *     ... argv[i] is the first operand ...
 */
#ifndef VMS_CLI_OPTS_H
#define VMS_CLI_OPTS_H

#include <stddef.h>
#include <stdio.h>

enum cli_arg {
    CLI_ARG_END = 0,    /* ends a table */
    CLI_ARG_NONE,       /* a flag: stores .value into an int */
    CLI_ARG_STRING,     /* stores the argument (const char *) */
    CLI_ARG_NUMBER,     /* decimal, in [.min, .max], stored as a long */
    CLI_ARG_REPEAT,     /* repeatable: appends to a struct cli_list */
    CLI_ARG_CALL,       /* .set(dest, arg, cmd) parses it (-1: refused) */
    CLI_ARG_INCLUDE,    /* the rows of .sub, at .off in the struct */
};

enum { CLI_LIST_MAX = 64 };

/* What a CLI_ARG_REPEAT row fills: the arguments in the order given. */
struct cli_list {
    size_t n;
    char *v[CLI_LIST_MAX];
};

struct cli_opt {
    const char *name;       /* long name, without "--" */
    int short_name;         /* letter, or 0 */
    enum cli_arg kind;
    const char *metavar;    /* "N", "PROFILE"; NULL for flags */
    const char *help;       /* wrapped to the terminal column at print */
    size_t off;             /* destination in the command's struct */
    int value;              /* CLI_ARG_NONE: what is stored */
    long min, max;          /* CLI_ARG_NUMBER: the range accepted */
    /* CLI_ARG_CALL: parse ARG into dest; print the error with
     * cli_usage_error(cmd, ...) and return -1 to refuse it. */
    int (*set)(void *dest, const char *arg, const char *cmd);
    const struct cli_opt *sub;  /* CLI_ARG_INCLUDE */
};

#define CLI_OPT_FLAG(n, s, h, type, field, v)                             \
    { .name = (n), .short_name = (s), .kind = CLI_ARG_NONE, .help = (h),  \
      .off = offsetof(type, field), .value = (v) }
#define CLI_OPT_STR(n, s, mv, h, type, field)                             \
    { .name = (n), .short_name = (s), .kind = CLI_ARG_STRING,             \
      .metavar = (mv), .help = (h), .off = offsetof(type, field) }
#define CLI_OPT_NUM(n, s, mv, h, type, field, lo, hi)                     \
    { .name = (n), .short_name = (s), .kind = CLI_ARG_NUMBER,             \
      .metavar = (mv), .help = (h), .off = offsetof(type, field),         \
      .min = (lo), .max = (hi) }
#define CLI_OPT_LIST(n, s, mv, h, type, field)                            \
    { .name = (n), .short_name = (s), .kind = CLI_ARG_REPEAT,             \
      .metavar = (mv), .help = (h), .off = offsetof(type, field) }
#define CLI_OPT_CALL(n, s, mv, h, type, field, fn)                        \
    { .name = (n), .short_name = (s), .kind = CLI_ARG_CALL,               \
      .metavar = (mv), .help = (h), .off = offsetof(type, field),         \
      .set = (fn) }
#define CLI_OPT_INCLUDE(rows, type, field)                                \
    { .name = "", .kind = CLI_ARG_INCLUDE, .off = offsetof(type, field),  \
      .sub = (rows) }
#define CLI_OPT_END { .name = NULL }

/* A subcommand: its table and the text around it in --help. */
struct cli_spec {
    const char *name;       /* "check" */
    const char *usage;      /* after "Usage: vmstream check "; '\n'
                             * separates alternative forms */
    const char *about;      /* description, printed as written */
    const char *epilog;     /* after the options ("Exit status: ...") */
    const struct cli_opt *opts;
    int min_args, max_args; /* operands; max_args < 0: not checked */
    const char *args_error; /* "expected one STREAM" */
};

/* cli_parse() results below 0: stop and return cli_stop_code(). */
enum {
    CLI_STOP_HELP = -1,     /* --help was printed to stdout: exit 0 */
    CLI_STOP_USAGE = -2,    /* a one-line error went to stderr: exit 2 */
};

/* Parse argv (argv[0] is the command's name) into args.  Returns the
 * index in argv of the first operand, or CLI_STOP_*. */
int cli_parse(const struct cli_spec *spec, int argc, char **argv,
              void *args);
int cli_stop_code(int stop);
/* Print --help (to stdout for --help, stderr otherwise). */
void cli_help(const struct cli_spec *spec, FILE *f);

/* Number helpers for tables' CLI_ARG_CALL rows and for commands. 0 ok,
 * -1 not a number or out of range (nothing is printed). */
int cli_parse_long(const char *s, int base, long min, long max, long *out);
int cli_parse_u64(const char *s, unsigned long long *out);  /* base 0 */

#endif
