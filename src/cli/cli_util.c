#include "config.h"
#include "cli.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli_opts.h"
#include "vmstream.h"

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

struct vms_twin *cli_twin;

static void twin_warn(void *opaque, const char *msg)
{
    (void)opaque;
    fprintf(stderr, "%s: warning: %s\n", cli_progname, msg);
}

static int set_vmdesc_from(void *dest, const char *arg, const char *cmd)
{
    struct cli_vmdesc_from *vf = dest;
    struct vms_error err;

    if (cli_twin) {
        cli_usage_error(cmd, "--vmdesc-from given twice");
        return -1;
    }
    vms_error_clear(&err);
    cli_twin = vms_twin_load(arg, &err);
    if (!cli_twin) {
        char msg[1024];

        vms_error_format(&err, msg, sizeof(msg));
        fprintf(stderr, "%s %s: --vmdesc-from %s: %s\n", cli_progname, cmd,
                arg, msg);
        return -1;
    }
    cli_twin->warn = twin_warn;
    vf->path = arg;
    return 0;
}

const struct cli_opt cli_vmdesc_from_opts[] = {
    CLI_OPT_CALL("vmdesc-from", 0, "TWIN",
                 "for a stream without vmdesc: the vmdesc of TWIN, a stream "
                 "saved by the same QEMU with the same command line (with "
                 "suppress-vmdesc=off); disagreements are warned about",
                 struct cli_vmdesc_from, path, set_vmdesc_from),
    CLI_OPT_END,
};

void cli_twin_free(void)
{
    vms_twin_free(cli_twin);
    cli_twin = NULL;
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
    return vms_compression_name((enum vms_compression)comp);
}
