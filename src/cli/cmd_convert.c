#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_conv.h"
#include "vmstream.h"

struct args {
    struct cli_conv conv;
    int in_place, progress, force, comp;
    const char *xml;           /* libvirt: --xml FILE */
    int running;               /* libvirt: 1 --running, 0 --paused, -1 */
    int force_format;
    struct cli_vmdesc_from vf;
};

static int set_comp(void *dest, const char *s, const char *cmd)
{
    int *comp = dest;

    if (strcmp(s, "auto") == 0) {
        *comp = -1;
        return 0;
    }
    *comp = vms_compression_parse(s);
    if (*comp < 0) {
        cli_usage_error(cmd, "--compress takes auto, none, gzip, zstd, "
                        "bzip2, xz or lzop");
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
                 "zstd, bzip2, xz, lzop", struct args, comp, set_comp),
    CLI_OPT_STR("xml", 0, "FILE", "libvirt save image: store FILE as the "
                "domain XML, as virsh save-image-define does",
                struct args, xml),
    CLI_OPT_FLAG("running", 0, "libvirt save image: virsh restore resumes "
                 "the guest", struct args, running, 1),
    CLI_OPT_FLAG("paused", 0, "libvirt save image: virsh restore leaves the "
                 "guest paused", struct args, running, 0),
    CLI_OPT_FLAG("force-format", 0, "libvirt save image: write a format "
                 "code libvirt 9.0 cannot restore (zstd)",
                 struct args, force_format, 1),
    CLI_OPT_FLAG("progress", 0, "bytes and rate on stderr (terminal only)",
                 struct args, progress, 1),
    CLI_OPT_FLAG("no-progress", 0, "no progress output (the default)",
                 struct args, progress, 0),
    CLI_OPT_FLAG("force", 'f', "write to a terminal anyway",
                 struct args, force, 1),
    CLI_OPT_INCLUDE(cli_vmdesc_from_opts, struct args, vf),
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
             "check' does) and refused if it would fail to load.\nA libvirt "
             "save image keeps its container: header, XML, cookie and\n"
             "compression (see --xml, --running, --paused, --compress).",
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

/* The whole of a small file (the domain XML). */
static char *read_small(const char *path, size_t cap, size_t *len,
                        struct vms_error *err)
{
    FILE *f = fopen(path, "rb");
    char *b;
    size_t n;

    if (!f) {
        vms_error_set_errno(err, errno, "cannot open %s", path);
        return NULL;
    }
    b = malloc(cap + 1);
    if (!b) {
        fclose(f);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    n = fread(b, 1, cap + 1, f);
    if (ferror(f) || n > cap) {
        vms_error_set_nooff(err, ferror(f) ? VMS_E_IO : VMS_E_LIMIT,
                            ferror(f) ? "cannot read %s"
                                      : "%s is too long for a domain XML",
                            path);
        fclose(f);
        free(b);
        return NULL;
    }
    fclose(f);
    *len = n;
    return b;
}

/* A new domain XML must name a domain; a UUID other than the image's
 * is allowed (as a copy of a guest) but said. */
static int check_xml(const char *path, const char *xml, size_t len,
                     const struct vms_libvirt_header *h)
{
    char name[256], uuid[64], old[64];

    if (vms_libvirt_xml_field(xml, len, "name", name, sizeof(name)) < 0 ||
        name[0] == '\0') {
        cli_usage_error("convert", "%s: no <name> directly under <domain>: "
                        "not a libvirt domain XML", path);
        return -1;
    }
    if (vms_libvirt_xml_field(xml, len, "uuid", uuid, sizeof(uuid)) == 0 &&
        vms_libvirt_xml_field(h->xml, h->xml_len, "uuid", old,
                              sizeof(old)) == 0 &&
        strcmp(uuid, old) != 0) {
        fprintf(stderr, "%s convert: warning: %s has UUID %s, the image "
                "%s\n", cli_progname, path, uuid, old);
    }
    return 0;
}

/* The libvirt header of the output: the input's, with what was asked. */
static int write_libvirt_header(struct vms_sink *sink,
                                const struct vms_libvirt_header *h,
                                const struct vms_libvirt_edit *ed,
                                int force_format, struct vms_error *err)
{
    uint8_t *raw;
    size_t len;
    int rc;

    if (vms_libvirt_check_format(h, ed->comp, force_format, err) < 0 ||
        vms_libvirt_build(h, ed, &raw, &len, err) < 0) {
        return -1;
    }
    rc = vms_sink_write_raw(sink, raw, len, err);
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
    struct vms_libvirt_edit ed = { NULL, 0, -1, VMS_COMP_NONE };
    char *backup = NULL, *xml = NULL;
    int i, in_place, force, rc;

    memset(&a, 0, sizeof(a));
    a.comp = -1;
    a.running = -1;
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
    ed.comp = so.comp;
    if (so.comp == vms_src_compression(src)) {
        so.like_header = vms_src_comp_header(src, &so.like_header_len);
    }
    ed.running = a.running;
    if (!vms_src_libvirt(src)->present &&
        (a.xml || a.running >= 0 || a.force_format)) {
        cli_usage_error("convert", "--xml, --running, --paused and "
                        "--force-format are for libvirt save images");
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (a.xml) {
        xml = read_small(a.xml, VMS_LIBVIRT_MAX_DATA - VMS_LIBVIRT_SLACK,
                         &ed.xml_len, &err);
        if (!xml) {
            rc = cli_report(a.xml, &err);
            goto out;
        }
        ed.xml = xml;
        if (check_xml(a.xml, xml, ed.xml_len, vms_src_libvirt(src)) < 0) {
            rc = CLI_EXIT_USAGE;
            goto out;
        }
    }
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
        write_libvirt_header(sink, vms_src_libvirt(src), &ed,
                             a.force_format, &err) < 0) {
        rc = cli_report(out, &err);
        goto out;
    }
    co.twin = cli_twin;
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
        if (res.other_cpus) {
            fprintf(stderr, "%s: %zu vCPU(s) of another architecture than "
                    "Arm copied unchanged\n", out, res.other_cpus);
        }
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
    free(xml);
    return rc;
}
