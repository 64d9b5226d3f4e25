#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_conv.h"
#include "vmstream.h"

struct args {
    struct cli_conv conv;
    int once, progress, quiet;
};

static const struct cli_opt opts[] = {
    CLI_OPT_INCLUDE(cli_conv_opts, struct args, conv),
    CLI_OPT_FLAG("once", 0, "serve one migration, exit with its result (the "
                 "default)", struct args, once, 1),
    CLI_OPT_FLAG("progress", 0, "bytes and rate per channel on stderr "
                 "(terminal only)", struct args, progress, 1),
    CLI_OPT_FLAG("no-progress", 0, "no progress output (the default)",
                 struct args, progress, 0),
    CLI_OPT_FLAG("quiet", 'q', "print only warnings, errors and the address "
                 "listened on", struct args, quiet, 1),
    CLI_OPT_END,
};

static const struct cli_spec spec = {
    .name = "proxy",
    .usage = "--to v22|v23 [OPTIONS] LISTEN CONNECT\n"
             "--repair --dest PROFILE|--dest-stream S [OPTIONS] LISTEN "
             "CONNECT",
    .about = "Convert a live migration on the wire.  The source QEMU "
             "migrates to LISTEN\n(migrate tcp:... or unix:...); for every "
             "connection it opens, vmstream opens\none to the destination "
             "QEMU's -incoming address CONNECT, in the same order.\nThe main "
             "channel (it starts with the stream magic QEVM) is converted "
             "like\n'vmstream convert' does; multifd and any other channel, "
             "and everything the\ndestination sends back (the return path), "
             "pass through unchanged.  If the\nstream is refused, the "
             "destination never sees QEMU_VM_EOF and every connection\nis "
             "closed: with the 'return-path' capability the source's "
             "migration then\nfails and its VM runs on; without it the "
             "source stays paused (a warning\nsays so when the migration "
             "starts).\n"
             "LISTEN, CONNECT: tcp:HOST:PORT, tcp:[IPV6]:PORT or unix:PATH "
             "(tcp::PORT listens\non every address; port 0 picks a free "
             "one, printed when listening).",
    .epilog = "Exit status: 0 the converted stream went out whole (and, with "
              "a return path,\nthe destination reported success); 1 the "
              "stream was refused (conversion or\n--dest) or the destination "
              "failed to load it; 2 usage, address or network\nerror (port "
              "in use, connection refused, a peer gone mid-stream).",
    .opts = opts,
    .min_args = 2,
    .max_args = 2,
    .args_error = "expected LISTEN and CONNECT",
};

static struct vms_proxy *volatile running;

static void on_signal(int sig)
{
    (void)sig;
    if (running) {
        vms_proxy_cancel(running);
    }
}

struct ui {
    int quiet;
    int progress;
    int progress_line;          /* a progress line is on the screen */
    struct timespec start, last;
    uint64_t last_up[VMS_PROXY_MAX_CHANNELS];
};

static void end_progress_line(struct ui *u)
{
    if (u->progress_line) {
        fputc('\n', stderr);
        u->progress_line = 0;
    }
}

static void on_note(void *opaque, enum vms_proxy_note kind, const char *msg)
{
    struct ui *u = opaque;

    if (kind == VMS_PROXY_NOTE_INFO && u->quiet) {
        return;
    }
    end_progress_line(u);
    fprintf(stderr, "%s proxy: %s%s\n", cli_progname,
            kind == VMS_PROXY_NOTE_WARNING ? "warning: " : "", msg);
}

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) +
           (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void on_progress(void *opaque, const struct vms_proxy_chan_stats *c,
                        size_t n)
{
    struct ui *u = opaque;
    struct timespec now;
    double dt;
    size_t i;

    clock_gettime(CLOCK_MONOTONIC, &now);
    dt = since(&u->last, &now);
    u->last = now;
    if (n == 0) {
        return;
    }
    fputc('\r', stderr);
    for (i = 0; i < n && i < 8; i++) {
        uint64_t d = c[i].up - u->last_up[c[i].idx];

        fprintf(stderr, "%s#%u %s %.1f MiB %.0f MiB/s", i ? " | " : "",
                c[i].idx, vms_proxy_kind_name(c[i].kind),
                (double)c[i].up / 1048576.0,
                dt > 0 ? (double)d / 1048576.0 / dt : 0.0);
        u->last_up[c[i].idx] = c[i].up;
    }
    for (; i < n; i++) {
        u->last_up[c[i].idx] = c[i].up;
    }
    if (n > 8) {
        fprintf(stderr, " | +%zu channels", n - 8);
    }
    fprintf(stderr, "  ");
    u->progress_line = 1;
}

/* "vmstream proxy: offset N (0x..), section ...: message" */
static int report(const struct vms_error *e)
{
    char msg[1024];

    vms_error_format(e, msg, sizeof(msg));
    fprintf(stderr, "%s proxy: %s\n", cli_progname, msg);
    return cli_exit_code(e);
}

int cmd_proxy(int argc, char **argv)
{
    struct args a;
    struct vms_proxy_opts po = { 0 };
    struct vms_proxy_result r;
    struct vms_error err;
    struct vms_proxy *p;
    struct ui *u;
    int arg, rc;

    u = calloc(1, sizeof(*u));
    if (!u) {
        return CLI_EXIT_USAGE;
    }
    memset(&a, 0, sizeof(a));
    vms_error_clear(&err);
    cli_conv_init(&a.conv, spec.name);
    arg = cli_parse(&spec, argc, argv, &a);
    if (arg < 0) {
        rc = cli_stop_code(arg);
        goto out;
    }
    u->progress = a.progress;
    u->quiet = a.quiet;
    rc = cli_conv_ready(&a.conv, &po.conv);
    if (rc != 0) {
        goto out;
    }
    po.listen = argv[arg];
    po.connect = argv[arg + 1];
    po.note = on_note;
    po.note_opaque = u;
    if (u->progress && isatty(STDERR_FILENO)) {
        clock_gettime(CLOCK_MONOTONIC, &u->start);
        u->last = u->start;
        po.progress = on_progress;
        po.progress_opaque = u;
        po.progress_ms = 250;
    }
    signal(SIGPIPE, SIG_IGN);
    p = vms_proxy_new(&po, &err);
    if (!p) {
        cli_report(NULL, &err);
        rc = CLI_EXIT_USAGE;    /* addresses, ports: never the stream */
        goto out;
    }
    /* Always (also with -q): port 0 is only known from this line. */
    fprintf(stderr, "%s proxy: listening on %s, destination %s\n",
            cli_progname, vms_proxy_listening(p), po.connect);
    running = p;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    rc = vms_proxy_run(p, &r, &err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    running = NULL;
    end_progress_line(u);
    if (rc == 0) {
        cli_conv_warnings(&a.conv);
        cli_conv_report(&a.conv);
        if (!u->quiet) {
            fprintf(stderr, "%s proxy: migration passed: %zu channel(s) "
                    "(%zu passed through), %llu bytes from the source; "
                    "%s\n", cli_progname, r.channels, r.passed,
                    (unsigned long long)r.up,
                    r.return_path == 1
                        ? "the destination reported success"
                        : "no return path: the destination's verdict is "
                          "not known here");
        }
    } else if (r.dest_failed) {
        /* The destination decided (it refused the stream, or failed). */
        report(&err);
        rc = CLI_EXIT_INVALID;
    } else if (err.code == VMS_E_TRUNCATED || err.code == VMS_E_IO ||
               err.code == VMS_E_NOMEM) {
        /* A peer or the network went away: not the stream's fault. */
        report(&err);
        rc = CLI_EXIT_USAGE;
    } else {
        /* vmstream refused the stream (conversion, --dest). */
        rc = report(&err);
        fprintf(stderr, "%s proxy: refused: the destination did not get "
                "QEMU_VM_EOF%s\n", cli_progname,
                r.postcopy_started
                    ? "; the source had switched to postcopy: its VM "
                      "stays stopped ('postcopy-paused', or 'postcopy-active' "
                      "for good when it had sent everything)"
                : r.return_path == 1
                    ? "; the source's migration fails and its VM runs on"
                : r.return_path == 0
                    ? "; without a return path the source reports "
                      "'completed' and stays paused"
                    : "");
    }
    vms_proxy_free(p);
out:
    cli_conv_fini(&a.conv);
    free(u);
    return rc;
}
