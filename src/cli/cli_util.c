#include "config.h"
#include "cli.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "src.h"

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
    fprintf(stderr, " (try '%s %s --help')\n", cli_progname, cmd);
}

int cli_load(struct cli_stream *cs, const char *path,
             const struct vms_parse_opts *o)
{
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
