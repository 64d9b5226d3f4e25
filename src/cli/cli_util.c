#include "config.h"
#include "cli.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "src.h"
#include "twin.h"

const char *cli_progname = "vmstream";

int cli_exit_code(const struct vms_error *e)
{
    switch (e->code) {
    case VMS_OK:
        return CLI_EXIT_OK;
    case VMS_E_IO:
    case VMS_E_NOMEM:
    case VMS_E_USAGE:
        return CLI_EXIT_USAGE;
    default:
        return CLI_EXIT_INVALID;
    }
}

int cli_report(const char *path, const struct vms_error *e)
{
    char msg[1024];

    vms_error_format(e, msg, sizeof(msg));
    if (path && strcmp(path, "-") == 0) {
        path = "<stdin>";
    }
    fprintf(stderr, "%s: %s%s%s\n", cli_progname, path ? path : "",
            path ? ": " : "", msg);
    return cli_exit_code(e);
}

void cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s %s: ", cli_progname, cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s %s --help'.\n", cli_progname, cmd);
}

struct vms_twin *cli_twin;

static void twin_warn(void *opaque, const char *msg)
{
    (void)opaque;
    fprintf(stderr, "%s: warning: %s\n", cli_progname, msg);
}

int cli_take_vmdesc_from(int *argc, char **argv)
{
    static const char opt[] = "--vmdesc-from";
    const char *path = NULL;
    struct vms_error err;
    int i, j;

    for (i = 1; i < *argc && strcmp(argv[i], "--") != 0;) {
        size_t n = sizeof(opt) - 1;
        int take = 0;

        if (strcmp(argv[i], opt) == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "%s: --vmdesc-from needs a STREAM\n",
                        cli_progname);
                return CLI_EXIT_USAGE;
            }
            path = argv[i + 1];
            take = 2;
        } else if (strncmp(argv[i], opt, n) == 0 && argv[i][n] == '=') {
            path = argv[i] + n + 1;
            take = 1;
        }
        if (!take) {
            i++;
            continue;
        }
        for (j = i; j + take <= *argc; j++) {
            argv[j] = argv[j + take];
        }
        *argc -= take;
    }
    if (!path) {
        return 0;
    }
    vms_error_clear(&err);
    cli_twin = vms_twin_load(path, &err);
    if (!cli_twin) {
        char msg[1024];

        vms_error_format(&err, msg, sizeof(msg));
        fprintf(stderr, "%s: --vmdesc-from %s: %s\n", cli_progname, path,
                msg);
        return CLI_EXIT_USAGE;
    }
    cli_twin->warn = twin_warn;
    return 0;
}

int cli_load(struct cli_stream *cs, const char *path,
             const struct vms_parse_opts *o)
{
    struct vms_parse_opts po;

    memset(&po, 0, sizeof(po));
    if (o) {
        po = *o;
    }
    if (!po.twin) {
        po.twin = cli_twin;
    }
    o = &po;
    memset(cs, 0, sizeof(*cs));
    cs->path = path;
    vms_stream_init(&cs->st);
    cs->src = vms_src_open_path(path, &cs->err);
    if (!cs->src) {
        return cli_report(path, &cs->err);
    }
    if (vms_stream_parse(cs->src, o, &cs->st, &cs->err) < 0) {
        return cli_report(path, &cs->err);
    }
    return 0;
}

void cli_close(struct cli_stream *cs)
{
    vms_stream_fini(&cs->st);
    vms_src_free(cs->src);
    cs->src = NULL;
}

void cli_print_json(struct json_object *o)
{
    fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                JSON_C_TO_STRING_NOSLASHESCAPE),
          stdout);
    fputc('\n', stdout);
}

struct json_object *cli_json_hex(uint64_t v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)v);
    return json_object_new_string(buf);
}

const char *cli_delim_name(int delim)
{
    switch (delim) {
    case VMS_DELIM_RAM: return "ram";
    case VMS_DELIM_VMDESC: return "vmdesc";
    case VMS_DELIM_BUILTIN: return "builtin";
    case VMS_DELIM_FOOTER: return "footer";
    }
    return "?";
}

const char *cli_comp_name(int comp)
{
    switch (comp) {
    case VMS_COMP_GZIP: return "gzip";
    case VMS_COMP_ZSTD: return "zstd";
    }
    return "none";
}
