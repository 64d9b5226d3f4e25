#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_conv.h"
#include "convert.h"
#include "sink.h"

struct args {
    struct cli_conv conv;
    int in_place, progress, force, comp;
};

static int set_comp(void *dest, const char *s, const char *cmd)
{
    int *comp = dest;

    if (strcmp(s, "auto") == 0) {
        *comp = -1;
    } else if (strcmp(s, "none") == 0) {
        *comp = VMS_COMP_NONE;
    } else if (strcmp(s, "gzip") == 0) {
        *comp = VMS_COMP_GZIP;
    } else if (strcmp(s, "zstd") == 0) {
        *comp = VMS_COMP_ZSTD;
    } else {
        cli_usage_error(cmd, "--compress takes auto, none, gzip or zstd");
        return -1;
    }
    return 0;
}

static const struct cli_opt opts[] = {
    CLI_OPT_INCLUDE(cli_conv_opts, struct args, conv),
    CLI_OPT_FLAG("in-place", 0, "replace FILE, keeping the original as "
                 "FILE.bak (refused if FILE.bak exists)",
                 struct args, in_place, 1),
    CLI_OPT_CALL("compress", 0, "MODE", "auto (as the input), none, gzip, "
                 "zstd", struct args, comp, set_comp),
    CLI_OPT_FLAG("progress", 0, "bytes and rate on stderr (terminal only)",
                 struct args, progress, 1),
    CLI_OPT_FLAG("no-progress", 0, "no progress output (the default)",
                 struct args, progress, 0),
    CLI_OPT_FLAG("force", 'f', "write to a terminal anyway",
                 struct args, force, 1),
    CLI_OPT_END,
};

static const struct cli_spec spec = {
    .name = "convert",
    .usage = "--to v22|v23 [OPTIONS] IN OUT\n"
             "--to v22|v23 --in-place [OPTIONS] FILE\n"
             "--repair --dest PROFILE|--dest-stream S [--to v22|v23] "
             "[OPTIONS] IN OUT",
    .about = "Rewrite every Arm cpu section of IN into the v22 (stock QEMU) "
             "or v23\n(cpreg_value_indexes series) layout, with the vmdesc "
             "JSON and any PACKAGED\nlength to match; every other byte is "
             "copied unchanged.  IN and OUT may be '-'\n(a pipe: RAM passes "
             "through as it arrives, device state is held until the\nstream "
             "ends).  If conversion fails nothing after the RAM is written, "
             "so a\ndestination never sees QEMU_VM_EOF; a file OUT is only "
             "created on success.\nWith --dest or --dest-stream the result "
             "is checked against the destination\nfirst (as 'vmstream "
             "check' does) and refused if it would fail to load.",
    .epilog = "Exit status: 0 converted, 1 invalid stream or conversion "
              "refused, 2 usage\nor I/O error.",
    .opts = opts,
    .min_args = 1,
    .max_args = 2,
    .args_error = "expected IN and OUT",
};

/* A copy of the sink's temporary path: the sink frees its own on commit
 * or abort, before temp_to_remove is cleared. */
static char temp_path[4096];
static const char *volatile temp_to_remove;

static void on_signal(int sig)
{
    if (temp_to_remove) {
        unlink(temp_to_remove);
    }
    if (sig == SIGBUS) {
        cli_input_vanished(sig);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* As a filter between two QEMUs: a 1 MiB output pipe (the unprivileged
 * maximum by default) takes the held vmdesc in one write, so the end of
 * the stream waits for no reader wake-ups.  Best effort.  (A wider input
 * pipe would only let more bytes queue in front of vmstream.) */
static void widen_pipe(int fd)
{
#ifdef F_SETPIPE_SZ
    struct stat sb;

    if (fstat(fd, &sb) == 0 && S_ISFIFO(sb.st_mode)) {
        (void)fcntl(fd, F_SETPIPE_SZ, 1 << 20);
    }
#else
    (void)fd;
#endif
}

struct progress {
    int on;
    struct timespec start, last;
};

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) +
           (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static int show_progress(void *opaque, uint64_t off, uint64_t raw_off)
{
    struct progress *p = opaque;
    struct timespec now;
    double t;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (since(&p->last, &now) < 1.0 / 6) {
        return 0;
    }
    p->last = now;
    t = since(&p->start, &now);
    fprintf(stderr, "\rvmstream convert: %.1f MiB read, %.1f MiB/s   ",
            (double)off / 1048576.0,
            t > 0 ? (double)off / 1048576.0 / t : 0.0);
    return 0;
}

/* The libvirt header names the payload's compression: keep it true. */
static int write_libvirt_header(struct vms_sink *sink,
                                const struct vms_libvirt_header *h,
                                enum vms_compression comp,
                                struct vms_error *err)
{
    uint8_t *raw = malloc(h->raw_len);
    uint32_t format = comp == VMS_COMP_GZIP   ? 1
                      : comp == VMS_COMP_ZSTD ? 5
                                              : 0;
    int rc;

    if (!raw) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    memcpy(raw, h->raw, h->raw_len);
    if (h->swapped) {
        format = (format >> 24) | ((format >> 8) & 0xff00u) |
                 ((format << 8) & 0xff0000u) | (format << 24);
    }
    memcpy(raw + 28, &format, 4);    /* virQEMUSaveHeader.format */
    rc = vms_sink_write_raw(sink, raw, h->raw_len, err);
    free(raw);
    return rc;
}

int cmd_convert(int argc, char **argv)
{
    struct args a;
    struct vms_convert_opts co = { 0 };
    struct vms_convert_result res;
    struct vms_sink_opts so = { 0 };
    struct progress prog = { 0 };
    struct vms_error err;
    struct vms_src *src = NULL;
    struct vms_sink *sink = NULL;
    const char *in, *out;
    char *backup = NULL;
    int i, in_place, force, rc;

    memset(&a, 0, sizeof(a));
    a.comp = -1;
    vms_error_clear(&err);
    cli_conv_init(&a.conv, spec.name);
    i = cli_parse(&spec, argc, argv, &a);
    if (i < 0) {
        cli_conv_fini(&a.conv);
        return cli_stop_code(i);
    }
    in_place = a.in_place;
    force = a.force;
    prog.on = a.progress;
    rc = CLI_EXIT_USAGE;
    if (a.conv.to_layout < 0 && !a.conv.repair) {
        cli_usage_error("convert", "--to v22 or --to v23 is required");
        goto out;
    }
    if (in_place ? i != argc - 1 : i != argc - 2) {
        cli_usage_error("convert", in_place ? "--in-place takes one FILE"
                                            : "expected IN and OUT");
        goto out;
    }
    in = argv[i];
    out = in_place ? in : argv[i + 1];
    if (in_place && strcmp(in, "-") == 0) {
        cli_usage_error("convert", "--in-place needs a file, not '-'");
        goto out;
    }
    if (strcmp(out, "-") == 0 && isatty(STDOUT_FILENO) && !force) {
        fprintf(stderr, "%s convert: refusing to write a binary stream to "
                "a terminal (use -f)\n", cli_progname);
        goto out;
    }
    if (strcmp(out, "-") != 0 && strcmp(in, out) == 0 && !in_place) {
        cli_usage_error("convert", "IN and OUT are the same file; use "
                        "--in-place");
        goto out;
    }
    rc = cli_conv_ready(&a.conv, &co);
    if (rc != 0) {
        goto out;
    }
    if (prog.on && isatty(STDERR_FILENO)) {
        clock_gettime(CLOCK_MONOTONIC, &prog.start);
        co.progress = show_progress;
        co.progress_opaque = &prog;
    }
    if (strcmp(out, "-") == 0) {
        widen_pipe(STDOUT_FILENO);
    }
    src = vms_src_open_path(in, &err);
    if (!src) {
        rc = cli_report(in, &err);
        goto out;
    }
    /* A refusal must reach a source QEMU while it still writes. */
    vms_src_shrink_pipe(src);
    so.comp = a.comp >= 0 ? (enum vms_compression)a.comp
                        : vms_src_compression(src);
    if (in_place) {
        size_t n = strlen(in) + 5;

        struct stat sb;

        backup = malloc(n);
        if (!backup) {
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        snprintf(backup, n, "%s.bak", in);
        if (lstat(backup, &sb) == 0) {
            fprintf(stderr, "%s convert: %s exists: it may be the only copy "
                    "of an original; move it away first (vmstream never "
                    "overwrites a backup)\n", cli_progname, backup);
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        so.backup = backup;
    }
    sink = vms_sink_open(out, &so, &err);
    if (!sink) {
        rc = cli_report(out, &err);
        goto out;
    }
    if (vms_sink_temp_path(sink) &&
        strlen(vms_sink_temp_path(sink)) < sizeof(temp_path)) {
        strcpy(temp_path, vms_sink_temp_path(sink));
        temp_to_remove = temp_path;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGBUS, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (vms_src_libvirt(src)->present &&
        write_libvirt_header(sink, vms_src_libvirt(src), so.comp,
                             &err) < 0) {
        rc = cli_report(out, &err);
        goto out;
    }
    if (vms_convert(src, sink, &co, &res, &err) < 0) {
        rc = cli_report(in, &err);
        goto out;
    }
    if (vms_sink_commit(sink, &err) < 0) {
        sink = NULL;
        rc = cli_report(out, &err);
        goto out;
    }
    sink = NULL;
    if (prog.on && isatty(STDERR_FILENO)) {
        fprintf(stderr, "\n");
    }
    /* Loads, but say what the destination will lose. */
    cli_conv_warnings(&a.conv);
    rc = cli_conv_report(&a.conv);
    if (rc) {
        goto out;
    }
    if (strcmp(out, "-") != 0 && !a.conv.json) {   /* --json: only JSON */
        fprintf(stderr, "%s: %zu cpu section(s), %zu converted to v%d, "
                "%zu register(s) dropped, %llu bytes written\n", out,
                res.cpus, res.converted, co.to_layout, res.dropped,
                (unsigned long long)res.out_bytes);
    }
    rc = CLI_EXIT_OK;
out:
    if (sink) {
        vms_sink_abort(sink);
    }
    temp_to_remove = NULL;
    vms_src_free(src);
    cli_conv_fini(&a.conv);
    free(backup);
    return rc;
}
