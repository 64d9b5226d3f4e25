/*
 * test_trailer.c - vms_convert with end_at_trailer on a socket whose peer
 * never closes (as a QEMU source with a return path does until the
 * destination answers): the conversion must end at the last byte of the
 * vmdesc, or at QEMU_VM_EOF when the stream has no vmdesc (postcopy,
 * suppress-vmdesc), and give exactly what the same conversion gives on
 * the whole input.  The peer is a child process that writes the stream
 * (at once, or its device state in small pieces) and then waits for the
 * test to finish; if vms_convert waited for the input to close, the
 * alarm ends the test as a failure.  Bytes after the vmdesc mean the
 * stream did not end there: vms_convert reads on, to the input's end.
 * Also: a sink on a socket (vms_sink_open_fd) whose peer has gone.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "convert.h"
#include "sink.h"
#include "src.h"
#include "stream.h"
#include "testutil.h"

#define WAIT_LIMIT 60      /* seconds: far above the few ms it takes */

static void waited_too_long(int sig)
{
    static const char msg[] = "test_trailer: vms_convert did not return "
                              "while the peer kept the socket open\n";

    (void)sig;
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing else to report with */
    }
    _exit(1);
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);

        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            _exit(3);
        }
        p += k;
        n -= (size_t)k;
    }
}

/*
 * Child: write d[0..split) at once, then the rest in pieces of `piece`
 * bytes, 1 ms apart (0: all at once); then close the socket at once if
 * close_after, else keep it open until the parent closes `hold`.
 */
static pid_t peer(const int sv[2], const int hold[2], const uint8_t *d,
                  size_t len, size_t split, size_t piece, int close_after)
{
    pid_t pid = fork();
    int sock = sv[1];
    char c;

    assert_true(pid >= 0);
    if (pid > 0) {
        return pid;
    }
    close(sv[0]);
    close(hold[1]);
    write_all(sock, d, split);
    while (split < len) {
        size_t n = piece && len - split > piece ? piece : len - split;
        struct timespec ms = { 0, 1000000 };

        write_all(sock, d + split, n);
        split += n;
        if (piece) {
            nanosleep(&ms, NULL);
        }
    }
    if (close_after) {
        close(sock);
    }
    while (read(hold[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    return tu_load_path(path, len);
}

/* Convert src to a temporary file; returns rc, the output in *out. */
static int convert_to_buf(struct vms_src *src, int to, int end_at_trailer,
                          uint8_t **out, size_t *out_len,
                          struct vms_error *err)
{
    char *path = tu_write_temp((const uint8_t *)"", 0);
    struct vms_sink *sink = vms_sink_open(path, NULL, err);
    struct vms_convert_opts o = { 0 };
    struct vms_convert_result r;
    int rc;

    assert_non_null(sink);
    o.to_layout = to;
    o.end_at_trailer = end_at_trailer;
    rc = vms_convert(src, sink, &o, &r, err);
    if (rc == 0) {
        rc = vms_sink_commit(sink, err);
    } else {
        vms_sink_abort(sink);
    }
    *out = NULL;
    *out_len = 0;
    if (rc == 0) {
        *out = read_file(path, out_len);
    }
    unlink(path);
    free(path);
    return rc;
}

/* The reference: the same bytes converted from memory. */
static uint8_t *reference(const uint8_t *d, size_t len, int to,
                          size_t *out_len)
{
    struct vms_error err;
    struct vms_src *src;
    uint8_t *out;

    vms_error_clear(&err);
    src = vms_src_open_mem(d, len, 0, &err);
    assert_non_null(src);
    assert_int_equal(convert_to_buf(src, to, 0, &out, out_len, &err), 0);
    vms_src_free(src);
    return out;
}

/* Where the device state starts (the first byte after the RAM). */
static size_t region_start(const uint8_t *d, size_t len)
{
    struct vms_error err;
    struct vms_src *src;
    struct vms_stream st;
    size_t at;

    vms_error_clear(&err);
    src = vms_src_open_mem(d, len, 0, &err);
    assert_non_null(src);
    vms_stream_init(&st);
    assert_int_equal(vms_stream_parse(src, NULL, &st, &err), 0);
    at = (size_t)st.region_offset;
    vms_stream_fini(&st);
    vms_src_free(src);
    return at;
}

/*
 * Stream d[0..len) through a socket with end_at_trailer; expect success
 * and the reference output (expect_ok), or an error.
 */
static void run(const uint8_t *d, size_t len, size_t piece, int to,
                int close_after, int expect_ok)
{
    int sv[2], hold[2], status;
    struct vms_error err;
    struct vms_src *src;
    uint8_t *out, *ref = NULL;
    size_t out_len, ref_len = 0;
    pid_t pid;
    int rc;

    if (expect_ok) {
        ref = reference(d, len, to, &ref_len);
    }
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(pipe(hold), 0);
    pid = peer(sv, hold, d, len, piece ? region_start(d, len) : len, piece,
               close_after);
    close(sv[1]);
    close(hold[0]);
    signal(SIGALRM, waited_too_long);
    alarm(WAIT_LIMIT);
    vms_error_clear(&err);
    src = vms_src_open_fd(sv[0], 1, &err);
    assert_non_null(src);
    rc = convert_to_buf(src, to, 1, &out, &out_len, &err);
    alarm(0);
    vms_src_free(src);
    close(hold[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (expect_ok) {
        if (rc != 0) {
            char m[700];

            vms_error_format(&err, m, sizeof(m));
            fail_msg("vms_convert failed: %s", m);
        }
        assert_int_equal(out_len, ref_len);
        assert_memory_equal(out, ref, ref_len);
    } else {
        assert_int_equal(rc, -1);
        assert_true(vms_error_isset(&err));
    }
    free(out);
    free(ref);
}

static const char a57[] = "real-v22/aa64-virt72-cortex-a57-2cpu.mig.zst";
static const char a57_v23[] = "real-v23/aa64-virt72-cortex-a57-2cpu.mig.zst";

/* The stream ends with its vmdesc, the peer keeps the socket open. */
static void test_vmdesc_open_peer(void **state)
{
    size_t len;
    uint8_t *d = tu_load(a57, &len);

    (void)state;
    run(d, len, 0, 23, 0, 1);
    run(d, len, 509, 23, 0, 1);
    free(d);
    d = tu_load(a57_v23, &len);
    run(d, len, 0, 22, 0, 1);
    run(d, len, 4093, 22, 0, 1);
    free(d);
}

/* No vmdesc (the stream cut right after QEMU_VM_EOF, as suppress-vmdesc
 * writes it): the stream ends at EOF. */
static void test_eof_open_peer(void **state)
{
    size_t len, json_off, json_len;
    uint8_t *d = tu_load(a57, &len);

    (void)state;
    assert_int_equal(tu_find_vmdesc(d, len, &json_off, &json_len), 0);
    len = json_off - 5;            /* ... 00 | 06 len JSON */
    assert_int_equal(d[len - 1], 0);
    run(d, len, 0, 23, 0, 1);
    run(d, len, 97, 23, 0, 1);
    free(d);
}

/* Postcopy: the device state travels in PACKAGED, the stream ends with
 * RAM END and EOF. */
static void test_postcopy_open_peer(void **state)
{
    size_t len;
    uint8_t *d = tu_load("bad/ok-v22-postcopy.mig", &len);

    (void)state;
    run(d, len, 0, 23, 0, 1);
    free(d);
    d = tu_load("bad/ok-v23-postcopy.mig", &len);
    run(d, len, 0, 22, 0, 1);
    free(d);
}

/* Bytes after the vmdesc: not the end; the input's end decides, and
 * these bytes make the stream invalid as before. */
static void test_bytes_after_vmdesc(void **state)
{
    size_t len;
    uint8_t *d = tu_load(a57, &len), *e = malloc(len + 3);

    (void)state;
    assert_non_null(e);
    memcpy(e, d, len);
    memcpy(e + len, "\x02\x00\x00", 3);
    run(e, len + 3, 0, 23, 1, 0);
    free(e);
    free(d);
}

/* A sink on a socket whose peer has gone: EPIPE latched, no SIGPIPE
 * (which would kill this test), the fd left open. */
static void test_sink_fd_closed_peer(void **state)
{
    int sv[2];
    struct vms_error err;
    struct vms_sink *k;
    uint8_t buf[4096] = { 0 };
    char m[700];

    (void)state;
    signal(SIGPIPE, SIG_DFL);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    vms_error_clear(&err);
    k = vms_sink_open_fd(sv[0], "the destination", &err);
    assert_non_null(k);
    assert_int_equal(vms_sink_write(k, buf, sizeof(buf), &err), -1);
    assert_int_equal(err.code, VMS_E_IO);
    assert_int_equal(err.sys_errno, EPIPE);
    vms_error_format(&err, m, sizeof(m));
    assert_non_null(strstr(m, "the destination"));
    vms_sink_abort(k);
    assert_int_equal(close(sv[0]), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vmdesc_open_peer),
        cmocka_unit_test(test_eof_open_peer),
        cmocka_unit_test(test_postcopy_open_peer),
        cmocka_unit_test(test_bytes_after_vmdesc),
        cmocka_unit_test(test_sink_fd_closed_peer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
