/*
 * test_proxy.c - vms_proxy without QEMU: the test plays the source (it
 * connects to LISTEN and writes real streams) and the destination (it
 * listens on CONNECT), over unix sockets in a temporary directory, with
 * the proxy running in a thread.
 *
 *  - addresses: QEMU's syntax, and what is refused with which message;
 *  - the return-path framing (SHUT found whatever the chunking);
 *  - a stream without return path converts byte for byte as
 *    vms_convert does, the source closing when done;
 *  - with a return path (the source keeps its socket open), a multifd
 *    channel and an unknown channel: the destination sees them in the
 *    source's order, the extra channels byte for byte both ways, the
 *    main channel converted, the destination's bytes back unchanged, its
 *    SHUT(0) taken as success;
 *  - a stream that advises postcopy ends at its final one-byte EOF;
 *  - refusal (a verify hook that says no): the destination never gets
 *    QEMU_VM_EOF, every connection is closed under the source and the
 *    destination;
 *  - the destination closing without SHUT: a failure, and the source
 *    sees its return path end; closing mid-stream: its refusal;
 *  - no destination listening: a clear error; a port or socket in use.
 * An alarm ends the test as a failure if anything blocks.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "convert.h"
#include "proxy.h"
#include "sink.h"
#include "src.h"
#include "stream.h"
#include "testutil.h"
#include "wire.h"

#define WATCHDOG 120

static char dir[64];
static char lpath[128], dpath[128];     /* unix:... addresses */

static void watchdog(int sig)
{
    static const char msg[] = "test_proxy: blocked (watchdog)\n";

    (void)sig;
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing else to report with */
    }
    _exit(1);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/vms-proxy-test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(lpath, sizeof(lpath), "unix:%s/p.sock", dir);
    snprintf(dpath, sizeof(dpath), "unix:%s/d.sock", dir);
    signal(SIGALRM, watchdog);
    signal(SIGPIPE, SIG_IGN);
    alarm(WATCHDOG);
    return 0;
}

static int teardown(void **state)
{
    char p[200];

    (void)state;
    snprintf(p, sizeof(p), "%s/p.sock", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/d.sock", dir);
    unlink(p);
    rmdir(dir);
    return 0;
}

/* ---- plumbing --------------------------------------------------------- */

static int unix_listen(const char *addr)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, addr + 5);
    unlink(sa.sun_path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    return fd;
}

static int unix_connect(const char *addr)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, addr + 5);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void write_all(int fd, const void *b, size_t n)
{
    const uint8_t *p = b;

    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

        if (k < 0 && errno == EINTR) {
            continue;
        }
        assert_true(k > 0);
        p += k;
        n -= (size_t)k;
    }
}

/* Read until EOF (or an error such as ECONNRESET) or max bytes. */
static uint8_t *read_upto(int fd, size_t max, size_t *len)
{
    uint8_t *b = malloc(max ? max : 1);
    size_t n = 0;

    assert_non_null(b);
    while (n < max) {
        ssize_t k = read(fd, b + n, max - n);

        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            break;
        }
        n += (size_t)k;
    }
    *len = n;
    return b;
}

/* The source's writes run in a thread: the proxy passes bytes on only
 * as fast as the test's destination reads them. */
struct writer {
    pthread_t t;
    int fd;
    const uint8_t *b;
    size_t n;
    int shut_wr;
};

static void *writer_thread(void *arg)
{
    struct writer *w = arg;
    const uint8_t *p = w->b;
    size_t n = w->n;

    while (n > 0) {
        ssize_t k = send(w->fd, p, n, MSG_NOSIGNAL);

        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            break;
        }
        p += k;
        n -= (size_t)k;
    }
    if (w->shut_wr) {
        shutdown(w->fd, SHUT_WR);
    }
    return NULL;
}

static void writer_start(struct writer *w, int fd, const uint8_t *b,
                         size_t n, int shut_wr)
{
    w->fd = fd;
    w->b = b;
    w->n = n;
    w->shut_wr = shut_wr;
    assert_int_equal(pthread_create(&w->t, NULL, writer_thread, w), 0);
}

static void writer_join(struct writer *w)
{
    assert_int_equal(pthread_join(w->t, NULL), 0);
}

/* The reference conversion, from memory. */
static uint8_t *reference(const uint8_t *d, size_t len, int to,
                          size_t *out_len)
{
    struct vms_error err;
    struct vms_src *src;
    struct vms_sink *sink;
    struct vms_convert_opts o = { 0 };
    struct vms_convert_result r;
    char *path = tu_write_temp((const uint8_t *)"", 0);
    uint8_t *out;

    vms_error_clear(&err);
    src = vms_src_open_mem(d, len, 0, &err);
    sink = vms_sink_open(path, NULL, &err);
    assert_non_null(src);
    assert_non_null(sink);
    o.to_layout = to;
    assert_int_equal(vms_convert(src, sink, &o, &r, &err), 0);
    assert_int_equal(vms_sink_commit(sink, &err), 0);
    vms_src_free(src);
    out = tu_load_path(path, out_len);
    unlink(path);
    free(path);
    return out;
}

struct run {
    struct vms_proxy *p;
    struct vms_proxy_result r;
    struct vms_error err;
    int rc;
    pthread_t t;
};

static void *run_thread(void *arg)
{
    struct run *x = arg;

    x->rc = vms_proxy_run(x->p, &x->r, &x->err);
    return NULL;
}

static int refuse_all(void *opaque, const struct vms_armcpu *cpus, size_t n,
                      struct vms_error *err)
{
    (void)opaque;
    (void)cpus;
    vms_error_set_nooff(err, VMS_E_CONVERT, "refused by the test (%zu "
                        "vCPUs)", n);
    return -1;
}

static void start(struct run *x, int to, int refuse)
{
    struct vms_proxy_opts o = { 0 };

    memset(x, 0, sizeof(*x));
    vms_error_clear(&x->err);
    o.listen = lpath;
    o.connect = dpath;
    o.conv.to_layout = to;
    if (refuse) {
        o.conv.verify = refuse_all;
    }
    x->p = vms_proxy_new(&o, &x->err);
    if (!x->p) {
        char m[700];

        vms_error_format(&x->err, m, sizeof(m));
        fail_msg("vms_proxy_new: %s", m);
    }
    assert_int_equal(pthread_create(&x->t, NULL, run_thread, x), 0);
}

static void finish(struct run *x)
{
    assert_int_equal(pthread_join(x->t, NULL), 0);
    vms_proxy_free(x->p);
}

/* ---- addresses and the return path ------------------------------------ */

static void test_addr(void **state)
{
    static const struct {
        const char *s;
        int listen;
        int ok;
        const char *host, *port, *path, *msg;
    } t[] = {
        { "tcp:127.0.0.1:4444", 0, 1, "127.0.0.1", "4444", "", NULL },
        { "tcp:localhost:1", 0, 1, "localhost", "1", "", NULL },
        { "tcp:[::1]:4444", 0, 1, "::1", "4444", "", NULL },
        { "tcp::4444", 1, 1, "", "4444", "", NULL },
        { "tcp:0.0.0.0:0", 1, 1, "0.0.0.0", "0", "", NULL },
        { "unix:/run/x.sock", 0, 1, "", "", "/run/x.sock", NULL },
        { "tcp::4444", 0, 0, NULL, NULL, NULL, "no host" },
        { "tcp:127.0.0.1:0", 0, 0, NULL, NULL, NULL, "port 0" },
        { "tcp:127.0.0.1", 0, 0, NULL, NULL, NULL, "no port" },
        { "tcp:::1:4444", 0, 0, NULL, NULL, NULL, "brackets" },
        { "tcp:[::1]4444", 0, 0, NULL, NULL, NULL, "tcp:[ADDR]:PORT" },
        { "tcp:[]:4444", 0, 0, NULL, NULL, NULL, "empty IPv6" },
        { "tcp:h:65536", 0, 0, NULL, NULL, NULL, "0..65535" },
        { "tcp:h:12a", 0, 0, NULL, NULL, NULL, "a number" },
        { "tcp:h:", 0, 0, NULL, NULL, NULL, "0..65535" },
        { "tcp:h:44,ipv4", 0, 0, NULL, NULL, NULL, "options" },
        { "unix:", 0, 0, NULL, NULL, NULL, "empty socket path" },
        { "exec:cat", 0, 0, NULL, NULL, NULL, "not an address" },
        { "fd:3", 0, 0, NULL, NULL, NULL, "not an address" },
    };
    size_t i;
    char longpath[200];

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct vms_proxy_addr a;
        struct vms_error err;
        int rc;

        vms_error_clear(&err);
        rc = vms_proxy_addr_parse(t[i].s, t[i].listen, &a, &err);
        if (t[i].ok) {
            if (rc != 0) {
                fail_msg("%s: %s", t[i].s, err.msg);
            }
            assert_string_equal(a.host, t[i].host);
            assert_string_equal(a.port, t[i].port);
            assert_string_equal(a.path, t[i].path);
            assert_int_equal(a.af, *t[i].path ? VMS_PROXY_UNIX
                                              : VMS_PROXY_TCP);
        } else {
            assert_int_equal(rc, -1);
            assert_int_equal(err.code, VMS_E_USAGE);
            if (!strstr(err.msg, t[i].msg) || !strstr(err.msg, t[i].s)) {
                fail_msg("%s: message '%s' lacks '%s'", t[i].s, err.msg,
                         t[i].msg);
            }
        }
    }
    memset(longpath, 'x', sizeof(longpath));
    memcpy(longpath, "unix:/", 6);
    longpath[sizeof(longpath) - 1] = '\0';
    {
        struct vms_proxy_addr a;
        struct vms_error err;

        vms_error_clear(&err);
        assert_int_equal(vms_proxy_addr_parse(longpath, 0, &a, &err), -1);
        assert_non_null(strstr(err.msg, "limit 107"));
    }
}

static void feed(struct vms_proxy_rp *rp, const uint8_t *b, size_t n,
                 size_t step)
{
    size_t at;

    for (at = 0; at < n; at += step) {
        vms_proxy_rp_feed(rp, b + at, n - at < step ? n - at : step);
    }
}

static void test_rp_framing(void **state)
{
    /* PONG(1), REQ_PAGES, SHUT(0) | an unknown type, SHUT(1) */
    static const uint8_t msgs[] = {
        0, 2, 0, 4, 0, 0, 0, 1,
        0, 3, 0, 12, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 16, 0,
        0, 1, 0, 4, 0, 0, 0, 0,
        0x7f, 0x7f, 0, 3, 0, 1, 0,
        0, 1, 0, 4, 0, 0, 0, 1,
    };
    size_t step;

    (void)state;
    for (step = 1; step <= sizeof(msgs); step++) {
        struct vms_proxy_rp rp;

        vms_proxy_rp_init(&rp);
        feed(&rp, msgs, 32, step);
        assert_int_equal(rp.shut, 0);
        assert_int_equal(rp.messages, 3);
        feed(&rp, msgs + 32, sizeof(msgs) - 32, step);
        assert_int_equal(rp.shut, 1);
        assert_int_equal(rp.messages, 5);
    }
}

/* ---- the proxy with a test source and destination ---------------------- */

static const char a57[] = "real-v22/aa64-virt72-cortex-a57-2cpu.mig.zst";
static const char postcopy[] = "bad/ok-v22-postcopy.mig";  /* opens a RP */

/* No return path: the source writes and closes; byte-exact result. */
static void test_plain(void **state)
{
    struct run x;
    struct writer w;
    size_t len, ref_len, got_len;
    uint8_t *d = tu_load(a57, &len), *ref, *got;
    int l, s, c;

    (void)state;
    ref = reference(d, len, 23, &ref_len);
    l = unix_listen(dpath);
    start(&x, 23, 0);
    s = unix_connect(lpath);
    c = accept(l, NULL, NULL);
    assert_true(c >= 0);
    writer_start(&w, s, d, len, 1);
    got = read_upto(c, ref_len + 1, &got_len);
    writer_join(&w);
    close(c);
    close(s);
    finish(&x);
    assert_int_equal(x.rc, 0);
    assert_int_equal(got_len, ref_len);
    assert_memory_equal(got, ref, ref_len);
    assert_true(x.r.stream_done);
    assert_int_equal(x.r.return_path, 0);
    assert_int_equal(x.r.channels, 1);
    assert_int_equal(x.r.conv.converted, 2);
    close(l);
    free(got);
    free(ref);
    free(d);
}

static uint8_t *pattern(size_t n, uint32_t seed, uint32_t magic)
{
    uint8_t *b = malloc(n);
    size_t i;

    assert_non_null(b);
    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        b[i] = (uint8_t)(seed >> 16);
    }
    if (magic) {
        vms_put_be32(b, magic);
    }
    return b;
}

/* Return path, a multifd channel and an unknown one. */
static void test_channels_rp(void **state)
{
    static const uint8_t shut0[] = { 0, 2, 0, 4, 0, 0, 0, 1,
                                     0, 1, 0, 4, 0, 0, 0, 0 };
    struct run x;
    struct writer w[3];
    size_t len, ref_len, got_len, n_mfd = 3u << 20, n_other = 70001;
    uint8_t *d = tu_load(postcopy, &len), *ref, *got;
    uint8_t *mfd = pattern(n_mfd, 1, 0x11223344u);
    uint8_t *other = pattern(n_other, 2, 0), *back = pattern(5000, 3, 0);
    int l, s[3], c[3], i;

    (void)state;
    ref = reference(d, len, 23, &ref_len);
    l = unix_listen(dpath);
    start(&x, 23, 0);
    for (i = 0; i < 3; i++) {
        s[i] = unix_connect(lpath);
        c[i] = accept(l, NULL, NULL);      /* in the same order */
        assert_true(c[i] >= 0);
    }
    writer_start(&w[0], s[0], d, len, 0);      /* and keeps it open */
    writer_start(&w[1], s[1], mfd, n_mfd, 1);
    writer_start(&w[2], s[2], other, n_other, 1);
    /* destination: the main stream converted, ending without the
     * source closing; then the multifd and unknown bytes exactly */
    got = read_upto(c[0], ref_len, &got_len);
    assert_int_equal(got_len, ref_len);
    assert_memory_equal(got, ref, ref_len);
    free(got);
    got = read_upto(c[1], n_mfd + 1, &got_len);
    assert_int_equal(got_len, n_mfd);
    assert_memory_equal(got, mfd, n_mfd);
    free(got);
    got = read_upto(c[2], n_other + 1, &got_len);
    assert_int_equal(got_len, n_other);
    assert_memory_equal(got, other, n_other);
    free(got);
    for (i = 0; i < 3; i++) {
        writer_join(&w[i]);
    }
    /* back: bytes on the unknown channel, PONG + SHUT(0) on the main */
    write_all(c[2], back, 5000);
    close(c[2]);
    write_all(c[0], shut0, sizeof(shut0));
    close(c[0]);
    close(c[1]);
    got = read_upto(s[2], 5001, &got_len);
    assert_int_equal(got_len, 5000);
    assert_memory_equal(got, back, 5000);
    free(got);
    got = read_upto(s[0], sizeof(shut0) + 1, &got_len);
    assert_int_equal(got_len, sizeof(shut0));
    assert_memory_equal(got, shut0, sizeof(shut0));
    free(got);
    for (i = 0; i < 3; i++) {
        close(s[i]);
    }
    finish(&x);
    assert_int_equal(x.rc, 0);
    assert_true(x.r.stream_done);
    assert_int_equal(x.r.return_path, 1);
    assert_int_equal(x.r.dest_shut, 0);
    assert_int_equal(x.r.channels, 3);
    assert_int_equal(x.r.passed, 2);
    close(l);
    free(ref);
    free(d);
    free(mfd);
    free(other);
    free(back);
}

/* A stream that advises postcopy (MIG_CMD_POSTCOPY_ADVISE, as QEMU sends
 * it with the postcopy-ram capability): the proxy then looks at every
 * record for the switch, and must not wait for bytes after the final
 * one-byte QEMU_VM_EOF, which the source does not send before the
 * destination's SHUT. */
static void test_postcopy_advise(void **state)
{
    static const uint8_t shut0[] = { 0, 1, 0, 4, 0, 0, 0, 0 };
    static const uint8_t advise[21] = { 0x08, 0, 3, 0, 16,
                                        0, 0, 0, 0, 0, 0, 0x10, 0,
                                        0, 0, 0, 0, 0, 0, 0x10, 0 };
    struct run x;
    struct writer w;
    struct vms_error err;
    struct vms_src *src;
    struct vms_stream st;
    size_t len, ref_len, got_len, at;
    uint8_t *d = tu_load(postcopy, &len), *e, *ref, *got;
    int l, s, c;

    (void)state;
    /* after OPEN_RETURN_PATH and PING(1), before the RAM */
    vms_error_clear(&err);
    src = vms_src_open_mem(d, len, 0, &err);
    vms_stream_init(&st);
    assert_int_equal(vms_stream_parse(src, NULL, &st, &err), 0);
    assert_true(st.n_cmds >= 2 && st.cmds[1].cmd == VMS_CMD_PING);
    at = (size_t)st.cmds[1].offset + 9;
    assert_int_equal(st.postcopy_advised, 0);
    vms_stream_fini(&st);
    vms_src_free(src);
    e = malloc(len + sizeof(advise));
    assert_non_null(e);
    memcpy(e, d, at);
    memcpy(e + at, advise, sizeof(advise));
    memcpy(e + at + sizeof(advise), d + at, len - at);
    len += sizeof(advise);
    ref = reference(e, len, 23, &ref_len);
    assert_int_equal(ref[ref_len - 1], VMS_REC_EOF);
    l = unix_listen(dpath);
    start(&x, 23, 0);
    s = unix_connect(lpath);
    c = accept(l, NULL, NULL);
    writer_start(&w, s, e, len, 0);         /* keeps it open */
    got = read_upto(c, ref_len, &got_len);
    assert_int_equal(got_len, ref_len);
    assert_memory_equal(got, ref, ref_len);
    free(got);
    writer_join(&w);
    write_all(c, shut0, sizeof(shut0));
    close(c);
    got = read_upto(s, 100, &got_len);
    assert_int_equal(got_len, sizeof(shut0));
    free(got);
    close(s);
    finish(&x);
    assert_int_equal(x.rc, 0);
    assert_int_equal(x.r.dest_shut, 0);
    assert_true(x.r.postcopy_started);
    close(l);
    free(ref);
    free(e);
    free(d);
}

/* The position of QEMU_VM_EOF in the converted stream. */
static size_t eof_at(const uint8_t *d, size_t len)
{
    struct vms_error err;
    struct vms_src *src;
    struct vms_stream st;
    size_t at;

    vms_error_clear(&err);
    src = vms_src_open_mem(d, len, 0, &err);
    vms_stream_init(&st);
    assert_int_equal(vms_stream_parse(src, NULL, &st, &err), 0);
    at = (size_t)st.eof_offset;
    vms_stream_fini(&st);
    vms_src_free(src);
    return at;
}

/* Refused (with and without a return path): no EOF, all closed. */
static void refusal(const char *vector)
{
    struct run x;
    struct writer w;
    size_t len, ref_len, got_len, eof;
    uint8_t *d = tu_load(vector, &len), *ref, *got, *mfd;
    int l, s[2], c[2], i;

    ref = reference(d, len, 23, &ref_len);
    eof = eof_at(ref, ref_len);
    mfd = pattern(4096, 5, 0x11223344u);
    l = unix_listen(dpath);
    start(&x, 23, 1);
    for (i = 0; i < 2; i++) {
        s[i] = unix_connect(lpath);
        c[i] = accept(l, NULL, NULL);
        assert_true(c[i] >= 0);
    }
    write_all(s[1], mfd, 4096);            /* keeps both open */
    writer_start(&w, s[0], d, len, 0);
    /* the destination: a prefix of the stream without its EOF, then the
     * connection ends under it, on every channel */
    got = read_upto(c[0], ref_len, &got_len);
    assert_true(got_len <= eof);
    assert_memory_equal(got, ref, got_len);
    free(got);
    /* the multifd channel: cut too (what was in flight may be lost) */
    got = read_upto(c[1], 8192, &got_len);
    assert_true(got_len <= 4096);
    assert_memory_equal(got, mfd, got_len);
    free(got);
    writer_join(&w);
    /* the source: its connections end without it closing them */
    for (i = 0; i < 2; i++) {
        got = read_upto(s[i], 16, &got_len);
        assert_int_equal(got_len, 0);
        free(got);
        close(s[i]);
        close(c[i]);
    }
    finish(&x);
    assert_int_equal(x.rc, -1);
    assert_int_equal(x.err.code, VMS_E_CONVERT);
    assert_non_null(strstr(x.err.msg, "refused by the test"));
    assert_false(x.r.stream_done);
    close(l);
    free(ref);
    free(d);
    free(mfd);
}

static void test_refusal(void **state)
{
    (void)state;
    refusal(a57);           /* no return path */
    refusal(postcopy);      /* a return path */
}

/* The destination closes without SHUT: a failure the source sees. */
static void test_dest_closes(void **state)
{
    struct run x;
    size_t len, ref_len, got_len;
    uint8_t *d = tu_load(postcopy, &len), *ref, *got;
    int l, s, c;

    (void)state;
    ref = reference(d, len, 23, &ref_len);
    l = unix_listen(dpath);
    start(&x, 23, 0);
    s = unix_connect(lpath);
    c = accept(l, NULL, NULL);
    write_all(s, d, len);
    got = read_upto(c, ref_len, &got_len);
    assert_int_equal(got_len, ref_len);
    free(got);
    write_all(c, "\0\2\0\4\0\0\0\1", 8);      /* PONG(1), no SHUT */
    close(c);
    got = read_upto(s, 100, &got_len);
    assert_int_equal(got_len, 8);           /* PONG, then the end */
    free(got);
    close(s);
    finish(&x);
    assert_int_equal(x.rc, -1);
    assert_true(x.r.stream_done);
    assert_true(x.r.dest_failed);
    assert_int_equal(x.r.dest_shut, -1);
    assert_non_null(strstr(x.err.msg, "without reporting success"));
    close(l);
    free(ref);
    free(d);
}

/* The destination goes away in the middle of the stream (it refused a
 * section, say): whichever the proxy notices first, its write failing or
 * the connection's end, the result is the destination's refusal. */
static void test_dest_closes_early(void **state)
{
    struct run x;
    struct writer w;
    size_t len, got_len;
    uint8_t *d = tu_load(a57, &len), *got;
    int l, s, c, i;

    (void)state;
    for (i = 0; i < 3; i++) {
        l = unix_listen(dpath);
        start(&x, 23, 0);
        s = unix_connect(lpath);
        c = accept(l, NULL, NULL);
        writer_start(&w, s, d, len, 0);
        got = read_upto(c, 100000u * (unsigned)(i + 1), &got_len);
        free(got);
        close(c);                   /* unread bytes: a reset */
        got = read_upto(s, 16, &got_len);   /* the source's side ends */
        assert_int_equal(got_len, 0);
        free(got);
        writer_join(&w);
        close(s);
        finish(&x);
        assert_int_equal(x.rc, -1);
        assert_false(x.r.stream_done);
        assert_true(x.r.dest_failed);
        assert_non_null(strstr(x.err.msg, "the destination closed the main "
                                          "channel before the end"));
        close(l);
    }
    free(d);
}

/* Nobody listens at CONNECT. */
static void test_connect_refused(void **state)
{
    struct run x;
    size_t got_len;
    uint8_t *got;
    int s;
    char p[200];

    (void)state;
    snprintf(p, sizeof(p), "%s/d.sock", dir);
    unlink(p);
    start(&x, 22, 0);
    s = unix_connect(lpath);
    got = read_upto(s, 16, &got_len);
    assert_int_equal(got_len, 0);
    free(got);
    close(s);
    finish(&x);
    assert_int_equal(x.rc, -1);
    assert_int_equal(x.err.code, VMS_E_IO);
    assert_non_null(strstr(x.err.msg, "cannot connect to the destination"));
    assert_non_null(strstr(x.err.msg, dpath));
}

/* A socket or port in use; a stale socket file is replaced. */
static void test_in_use(void **state)
{
    struct vms_proxy_opts o = { 0 };
    struct vms_proxy *p;
    struct vms_error err;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    char tcp[64];
    int l, t;

    (void)state;
    o.listen = lpath;
    o.connect = dpath;
    o.conv.to_layout = 22;
    l = unix_listen(lpath);                 /* live */
    vms_error_clear(&err);
    assert_null(vms_proxy_new(&o, &err));
    assert_int_equal(err.sys_errno, EADDRINUSE);
    close(l);                               /* now stale */
    vms_error_clear(&err);
    p = vms_proxy_new(&o, &err);
    assert_non_null(p);
    vms_proxy_free(p);

    t = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(t, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(t, 1), 0);
    assert_int_equal(getsockname(t, (struct sockaddr *)&sa, &sl), 0);
    snprintf(tcp, sizeof(tcp), "tcp:127.0.0.1:%u", ntohs(sa.sin_port));
    o.listen = tcp;
    vms_error_clear(&err);
    assert_null(vms_proxy_new(&o, &err));
    assert_int_equal(err.sys_errno, EADDRINUSE);
    assert_non_null(strstr(err.msg, "the port is in use"));
    close(t);
    /* port 0: the kernel's choice, reported */
    o.listen = "tcp:127.0.0.1:0";
    vms_error_clear(&err);
    p = vms_proxy_new(&o, &err);
    assert_non_null(p);
    assert_true(strncmp(vms_proxy_listening(p), "tcp:127.0.0.1:", 14) == 0);
    assert_string_not_equal(vms_proxy_listening(p), "tcp:127.0.0.1:0");
    vms_proxy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr),
        cmocka_unit_test(test_rp_framing),
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_channels_rp),
        cmocka_unit_test(test_postcopy_advise),
        cmocka_unit_test(test_refusal),
        cmocka_unit_test(test_dest_closes),
        cmocka_unit_test(test_dest_closes_early),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_in_use),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
