#include "config.h"
#include "cli_opts.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
    MAX_ROWS = 64,          /* per command, includes flattened */
    VAL_BASE = 256,         /* getopt val of row i: VAL_BASE + i */
    HELP_VAL = VAL_BASE + MAX_ROWS,
    WRAP = 79,
    MAX_COL = 30,
};

struct row {
    const struct cli_opt *o;
    size_t off;             /* absolute offset in the args struct */
};

/* Flatten the table (includes in place); -1 if it has too many rows. */
static int flatten(const struct cli_opt *t, size_t base, struct row *rows,
                   size_t *n)
{
    for (; t && t->name; t++) {
        if (t->kind == CLI_ARG_INCLUDE) {
            if (flatten(t->sub, base + t->off, rows, n) < 0) {
                return -1;
            }
            continue;
        }
        if (*n == MAX_ROWS) {
            return -1;
        }
        rows[*n].o = t;
        rows[*n].off = base + t->off;
        (*n)++;
    }
    return 0;
}

int cli_parse_long(const char *s, int base, long min, long max, long *out)
{
    char *end;
    long v;

    if (!s || !*s || *s == ' ') {
        return -1;
    }
    errno = 0;
    v = strtol(s, &end, base);
    if (*end || errno || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_u64(const char *s, unsigned long long *out)
{
    char *end;
    unsigned long long v;

    if (!s || !*s || strchr(s, '-') || *s == ' ') {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 0);
    if (*end || errno) {
        return -1;
    }
    *out = v;
    return 0;
}

int cli_stop_code(int stop)
{
    return stop == CLI_STOP_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/* "  -j, --json", "      --cpu N" */
static void opt_label(const struct cli_opt *o, char *buf, size_t len)
{
    if (o->short_name) {
        snprintf(buf, len, "  -%c, --%s%s%s", o->short_name, o->name,
                 o->metavar ? " " : "", o->metavar ? o->metavar : "");
    } else {
        snprintf(buf, len, "      --%s%s%s", o->name,
                 o->metavar ? " " : "", o->metavar ? o->metavar : "");
    }
}

/* Print text from column col (the cursor is at column at), wrapped at
 * WRAP; '\n' in the text forces a break. */
static void wrap(FILE *f, const char *text, int col, int at)
{
    const char *p = text;

    if (at > col) {
        fprintf(f, "\n%*s", col, "");
    } else {
        fprintf(f, "%*s", col - at, "");
    }
    at = col;
    while (*p) {
        size_t w = strcspn(p, " \n");

        if (at > col && at + 1 + (int)w > WRAP) {
            fprintf(f, "\n%*s", col, "");
            at = col;
        } else if (at > col) {
            fputc(' ', f);
            at++;
        }
        fwrite(p, 1, w, f);
        at += (int)w;
        p += w;
        if (*p == '\n') {
            fprintf(f, "\n%*s", col, "");
            at = col;
            p++;
        } else {
            while (*p == ' ') {
                p++;
            }
        }
    }
    fputc('\n', f);
}

void cli_help(const struct cli_spec *spec, FILE *f)
{
    static const struct cli_opt help_row = {
        .name = "help", .short_name = 'h', .kind = CLI_ARG_NONE,
        .help = "this text",
    };
    struct row rows[MAX_ROWS + 1];
    char label[128];
    size_t n = 0, i;
    const char *u = spec->usage ? spec->usage : "";
    int col = 0;

    if (flatten(spec->opts, 0, rows, &n) < 0) {
        n = 0;
    }
    rows[n++].o = &help_row;
    /* Usage lines, one per alternative form. */
    for (i = 0; ; i++) {
        size_t w = strcspn(u, "\n");

        fprintf(f, "%s %s %s %.*s\n", i ? "      " : "Usage:", cli_progname,
                spec->name, (int)w, u);
        if (!u[w]) {
            break;
        }
        u += w + 1;
    }
    if (spec->about) {
        fprintf(f, "%s\n", spec->about);
    }
    for (i = 0; i < n; i++) {
        int w;

        opt_label(rows[i].o, label, sizeof(label));
        w = (int)strlen(label) + 2;
        if (w > col && w <= MAX_COL) {
            col = w;
        }
    }
    fprintf(f, "\nOptions:\n");
    for (i = 0; i < n; i++) {
        opt_label(rows[i].o, label, sizeof(label));
        fputs(label, f);
        wrap(f, rows[i].o->help ? rows[i].o->help : "", col,
             (int)strlen(label));
    }
    if (spec->epilog) {
        fprintf(f, "%s\n", spec->epilog);
    }
}

static int store(const struct cli_spec *spec, const struct row *r,
                 const char *arg, void *args)
{
    char *dest = (char *)args + r->off;
    const struct cli_opt *o = r->o;
    long v;

    switch (o->kind) {
    case CLI_ARG_NONE:
        *(int *)dest = o->value;
        return 0;
    case CLI_ARG_STRING:
        *(const char **)dest = arg;
        return 0;
    case CLI_ARG_NUMBER:
        if (cli_parse_long(arg, 10, o->min, o->max, &v) < 0) {
            if (o->max == LONG_MAX) {
                cli_usage_error(spec->name, "--%s takes a number of at "
                                "least %ld, not '%s'", o->name, o->min,
                                arg);
            } else {
                cli_usage_error(spec->name, "--%s takes %ld..%ld, not '%s'",
                                o->name, o->min, o->max, arg);
            }
            return -1;
        }
        *(long *)dest = v;
        return 0;
    case CLI_ARG_REPEAT: {
        struct cli_list *l = (struct cli_list *)dest;

        if (l->n == CLI_LIST_MAX) {
            cli_usage_error(spec->name, "too many --%s options (at most "
                            "%d)", o->name, CLI_LIST_MAX);
            return -1;
        }
        l->v[l->n++] = (char *)arg;
        return 0;
    }
    case CLI_ARG_CALL:
        return o->set(dest, arg, spec->name);
    case CLI_ARG_END:
    case CLI_ARG_INCLUDE:
        break;
    }
    return -1;
}

int cli_parse(const struct cli_spec *spec, int argc, char **argv,
              void *args)
{
    struct option longopts[MAX_ROWS + 2];
    char shorts[3 * MAX_ROWS + 4], *sp = shorts;
    struct row rows[MAX_ROWS];
    size_t n = 0, i;
    int c, nargs;

    if (flatten(spec->opts, 0, rows, &n) < 0) {
        cli_usage_error(spec->name, "internal error: option table too big");
        return CLI_STOP_USAGE;
    }
    *sp++ = ':';            /* ':' for a missing argument, '?' unknown */
    *sp++ = 'h';
    for (i = 0; i < n; i++) {
        const struct cli_opt *o = rows[i].o;
        int has_arg = o->kind == CLI_ARG_NONE ? no_argument
                                              : required_argument;

        longopts[i].name = o->name;
        longopts[i].has_arg = has_arg;
        longopts[i].flag = NULL;
        longopts[i].val = VAL_BASE + (int)i;
        if (o->short_name) {
            *sp++ = (char)o->short_name;
            if (has_arg == required_argument) {
                *sp++ = ':';
            }
        }
    }
    *sp = '\0';
    longopts[n].name = "help";
    longopts[n].has_arg = no_argument;
    longopts[n].flag = NULL;
    longopts[n].val = HELP_VAL;
    memset(&longopts[n + 1], 0, sizeof(longopts[n + 1]));

    optind = 0;             /* glibc: start afresh (tests parse twice) */
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
        const struct row *r = NULL;

        if (c == 'h' || c == HELP_VAL) {
            cli_help(spec, stdout);
            return CLI_STOP_HELP;
        }
        if (c == '?' || c == ':') {
            char name[64];

            if (optopt >= VAL_BASE && optopt < VAL_BASE + (int)n) {
                snprintf(name, sizeof(name), "--%s",
                         rows[optopt - VAL_BASE].o->name);
            } else if (optopt > 0 && optopt < VAL_BASE) {
                snprintf(name, sizeof(name), "-%c", optopt);
            } else {
                snprintf(name, sizeof(name), "%s", argv[optind - 1]);
            }
            if (c == ':') {
                cli_usage_error(spec->name, "option '%s' needs an argument",
                                name);
            } else {
                cli_usage_error(spec->name, "unknown option '%s'", name);
            }
            return CLI_STOP_USAGE;
        }
        if (c >= VAL_BASE && c < VAL_BASE + (int)n) {
            r = &rows[c - VAL_BASE];
        } else {
            for (i = 0; i < n; i++) {
                if (rows[i].o->short_name == c) {
                    r = &rows[i];
                    break;
                }
            }
        }
        if (!r || store(spec, r, optarg, args) < 0) {
            return CLI_STOP_USAGE;
        }
    }
    nargs = argc - optind;
    if (nargs < spec->min_args ||
        (spec->max_args >= 0 && nargs > spec->max_args)) {
        cli_usage_error(spec->name, "%s", spec->args_error
                                              ? spec->args_error
                                              : "wrong number of operands");
        return CLI_STOP_USAGE;
    }
    return optind;
}
