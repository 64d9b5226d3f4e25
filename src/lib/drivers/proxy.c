#include "config.h"
#include "proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sink.h"
#include "src.h"
#include "wire.h"

#define MULTIFD_MAGIC 0x11223344u   /* migration/multifd.c */
#define RP_MSG_SHUT 1               /* migration.c: MIG_RP_MSG_SHUT */
#define SPLICE_CHUNK (1u << 20)     /* asked of splice(2) per call */
#define PIPE_BYTES (256u * 1024u)   /* a pass-through pipe, if allowed */
#define BACK_BUF (16u * 1024u)      /* bytes from the destination */
#define SMALL_STACK (256u * 1024u)  /* threads that only move bytes */

struct chan {
    struct vms_proxy *p;
    unsigned idx;
    int src, dst;                   /* accepted / connected */
    _Atomic int kind;
    _Atomic uint64_t up, down;
    pthread_t up_t, down_t;
    int up_started, down_started;
    _Atomic int open;               /* directions still running */
    struct vms_src *conv_src;       /* main: the converter's input */
    int setup_seen;                 /* main: the commands before RAM */
    int rp, postcopy;               /* ... opened a return path, advised
                                       postcopy */
};

struct vms_proxy {
    struct vms_proxy_opts o;
    struct vms_proxy_addr la, ca;
    char listening[400];
    int lfd;
    int unlink_path;
    int wake[2];
    volatile sig_atomic_t cancelled;

    pthread_mutex_t mu;             /* everything below */
    pthread_cond_t cond;
    pthread_mutex_t note_mu;
    struct chan *chans[VMS_PROXY_MAX_CHANNELS];
    size_t n_chans;
    int live;                       /* channel threads running */
    int main_claimed, main_done, stream_done;
    int dest_closed;                /* main: the destination went first */
    int dest_failed;                /* see vms_proxy_result */
    int return_path;                /* -1 not known yet */
    int postcopy_started;
    _Atomic int aborting;           /* read without the lock too */
    struct vms_error err;           /* first error wins */
    struct vms_convert_result conv;
    struct vms_proxy_rp rp;
};

/* ---- small helpers ---------------------------------------------------- */

static void note(struct vms_proxy *p, enum vms_proxy_note kind,
                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void note(struct vms_proxy *p, enum vms_proxy_note kind,
                 const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    if (!p->o.note) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&p->note_mu);
    p->o.note(p->o.note_opaque, kind, msg);
    pthread_mutex_unlock(&p->note_mu);
}

static void wake(struct vms_proxy *p)
{
    char c = 0;

    if (write(p->wake[1], &c, 1) < 0) {
        /* full: the accepting thread is awake anyway */
    }
}

/* Shut every connection down (both directions): blocked threads wake. */
static void abort_all_locked(struct vms_proxy *p)
{
    size_t i;

    p->aborting = 1;
    for (i = 0; i < p->n_chans; i++) {
        shutdown(p->chans[i]->src, SHUT_RDWR);
        shutdown(p->chans[i]->dst, SHUT_RDWR);
    }
    pthread_cond_broadcast(&p->cond);
}

/* Latch e (first error wins) and shut the migration down. */
static void fail(struct vms_proxy *p, const struct vms_error *e)
{
    pthread_mutex_lock(&p->mu);
    if (!vms_error_isset(&p->err)) {
        p->err = *e;
    }
    abort_all_locked(p);
    pthread_mutex_unlock(&p->mu);
    wake(p);
}

static void fail_msg(struct vms_proxy *p, enum vms_status code, int sys,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail_msg(struct vms_proxy *p, enum vms_status code, int sys,
                     const char *fmt, ...)
{
    struct vms_error e;
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    vms_error_clear(&e);
    if (sys) {
        vms_error_set_errno(&e, sys, "%s", msg);
    } else {
        vms_error_set_nooff(&e, code, "%s", msg);
    }
    fail(p, &e);
}

static void block_sigpipe(void)
{
    sigset_t s;

    /* splice(2) to a closed socket raises SIGPIPE (it has no
     * MSG_NOSIGNAL): thread-directed, so blocking it here is enough. */
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static int send_all(int fd, const uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);

        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0) {
            return -1;
        }
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

const char *vms_proxy_kind_name(enum vms_proxy_kind k)
{
    switch (k) {
    case VMS_PROXY_PENDING: return "pending";
    case VMS_PROXY_MAIN: return "main";
    case VMS_PROXY_MULTIFD: return "multifd";
    case VMS_PROXY_OTHER: return "unknown";
    case VMS_PROXY_REFUSED: return "refused";
    }
    return "?";
}

/* ---- the return path -------------------------------------------------- */

void vms_proxy_rp_init(struct vms_proxy_rp *rp)
{
    memset(rp, 0, sizeof(*rp));
    rp->shut = -1;
}

void vms_proxy_rp_feed(struct vms_proxy_rp *rp, const uint8_t *buf,
                       size_t n)
{
    while (n > 0) {
        if (rp->left > 0) {
            size_t k = n < rp->left ? n : rp->left;

            if (rp->type == RP_MSG_SHUT) {
                size_t i;

                for (i = 0; i < k && rp->data_have < sizeof(rp->data); i++) {
                    rp->data[rp->data_have++] = buf[i];
                }
            }
            buf += k;
            n -= k;
            rp->left -= (uint32_t)k;
            if (rp->left == 0 && rp->type == RP_MSG_SHUT &&
                rp->data_have == 4) {
                rp->shut = (int)vms_get_be32(rp->data);
            }
            continue;
        }
        rp->hdr[rp->have++] = *buf++;
        n--;
        if (rp->have < 4) {
            continue;
        }
        rp->have = 0;
        rp->messages++;
        rp->type = vms_get_be16(rp->hdr);
        rp->left = vms_get_be16(rp->hdr + 2);
        rp->data_have = 0;
        if (rp->type == RP_MSG_SHUT && rp->left != 4) {
            rp->type = 0;       /* QEMU sends 4 bytes; not a verdict */
        }
    }
}

/* ---- addresses -------------------------------------------------------- */

static int addr_err(struct vms_error *err, const char *s, const char *why)
{
    vms_error_set_nooff(err, VMS_E_USAGE, "'%s': %s", s, why);
    return -1;
}

int vms_proxy_addr_parse(const char *s, int for_listen,
                         struct vms_proxy_addr *a, struct vms_error *err)
{
    memset(a, 0, sizeof(*a));
    snprintf(a->text, sizeof(a->text), "%s", s);
    if (strncmp(s, "tcp:", 4) == 0) {
        const char *h = s + 4, *colon, *port;
        size_t hl, i;
        unsigned long v;
        char *end;

        if (*h == '[') {
            const char *e = strchr(h, ']');

            if (!e || e[1] != ':') {
                return addr_err(err, s, "an IPv6 address is written "
                                "tcp:[ADDR]:PORT");
            }
            h++;
            hl = (size_t)(e - h);
            colon = e + 1;
            if (hl == 0) {
                return addr_err(err, s, "empty IPv6 address");
            }
        } else {
            colon = strrchr(h, ':');
            if (!colon) {
                return addr_err(err, s, "no port: use tcp:HOST:PORT");
            }
            hl = (size_t)(colon - h);
            if (memchr(h, ':', hl)) {
                return addr_err(err, s, "an IPv6 address needs brackets: "
                                "tcp:[ADDR]:PORT");
            }
        }
        if (hl >= sizeof(a->host)) {
            return addr_err(err, s, "host name too long");
        }
        memcpy(a->host, h, hl);
        a->host[hl] = '\0';
        port = colon + 1;
        if (strchr(port, ',')) {
            return addr_err(err, s, "options after the address (',...') "
                            "are not supported");
        }
        for (i = 0; port[i]; i++) {
            if (port[i] < '0' || port[i] > '9') {
                return addr_err(err, s, "the port must be a number");
            }
        }
        v = strtoul(port, &end, 10);
        if (!*port || i > 5 || v > 65535) {
            return addr_err(err, s, "the port must be 0..65535");
        }
        if (v == 0 && !for_listen) {
            return addr_err(err, s, "cannot connect to port 0");
        }
        if (!*a->host && !for_listen) {
            return addr_err(err, s, "no host to connect to");
        }
        snprintf(a->port, sizeof(a->port), "%lu", v);
        a->af = VMS_PROXY_TCP;
        return 0;
    }
    if (strncmp(s, "unix:", 5) == 0) {
        const char *path = s + 5;

        if (!*path) {
            return addr_err(err, s, "empty socket path");
        }
        if (strchr(path, ',')) {
            return addr_err(err, s, "options after the path (',...') are "
                            "not supported");
        }
        if (strlen(path) >= sizeof(a->path)) {
            vms_error_set_nooff(err, VMS_E_USAGE, "'%s': socket path of "
                                "%zu bytes (limit %zu)", s, strlen(path),
                                sizeof(a->path) - 1);
            return -1;
        }
        strcpy(a->path, path);
        a->af = VMS_PROXY_UNIX;
        return 0;
    }
    return addr_err(err, s, "not an address: use tcp:HOST:PORT, "
                    "tcp:[IPV6]:PORT or unix:PATH");
}

static void tcp_nodelay(int fd)
{
    int one = 1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
        (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
        /* Return-path messages are small and urgent (postcopy). */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
}

static void format_bound(struct vms_proxy *p)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char host[INET6_ADDRSTRLEN];

    snprintf(p->listening, sizeof(p->listening), "%s", p->la.text);
    if (p->la.af != VMS_PROXY_TCP ||
        getsockname(p->lfd, (struct sockaddr *)&ss, &sl) != 0) {
        return;
    }
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(p->listening, sizeof(p->listening), "tcp:%s:%u", host,
                 ntohs(in->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(p->listening, sizeof(p->listening), "tcp:[%s]:%u", host,
                 ntohs(in6->sin6_port));
    }
}

static int listen_tcp(struct vms_proxy *p, struct vms_error *err)
{
    struct addrinfo hints, *res = NULL, *ai;
    int rc, e = 0, one = 1;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(*p->la.host ? p->la.host : NULL, p->la.port, &hints,
                     &res);
    if (rc != 0) {
        vms_error_set_nooff(err, VMS_E_USAGE, "cannot listen on %s: %s",
                            p->la.text, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        /* Non-blocking: a connection reset between poll(2) and
         * accept(2) must not block the accepting thread. */
        int fd = socket(ai->ai_family,
                        ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        ai->ai_protocol);

        if (fd < 0) {
            e = errno;
            continue;
        }
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            listen(fd, 64) == 0) {
            p->lfd = fd;
            break;
        }
        e = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (p->lfd < 0) {
        vms_error_set_errno(err, e, "cannot listen on %s%s", p->la.text,
                            e == EADDRINUSE ? " (the port is in use)"
                                            : "");
        return -1;
    }
    return 0;
}

static int listen_unix(struct vms_proxy *p, struct vms_error *err)
{
    struct sockaddr_un sa;
    int fd, e = 0;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, p->la.path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        vms_error_set_errno(err, errno, "cannot listen on %s", p->la.text);
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        /* A socket file nobody accepts on is left over: replace it.  One
         * that answers belongs to a live process. */
        int probe = -1;
        struct stat sb;

        e = errno;
        if (e == EADDRINUSE && lstat(p->la.path, &sb) == 0 &&
            S_ISSOCK(sb.st_mode) &&
            (probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
            connect(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
            errno == ECONNREFUSED) {
            unlink(p->la.path);
            e = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0;
        }
        if (probe >= 0) {
            close(probe);
        }
    }
    if (e == 0 && listen(fd, 64) < 0) {
        e = errno;
    }
    if (e != 0) {
        close(fd);
        vms_error_set_errno(err, e, "cannot listen on %s%s", p->la.text,
                            e == EADDRINUSE ? " (another process listens "
                                              "on it)"
                                            : "");
        return -1;
    }
    p->lfd = fd;
    p->unlink_path = 1;
    return 0;
}

/* A signal interrupted connect(2); the connection goes on in the
 * background: wait for it (0) unless the signal was a cancel (errno). */
static int connect_interrupted(struct vms_proxy *p, int fd)
{
    struct pollfd pf = { .fd = fd, .events = POLLOUT };
    socklen_t sl = sizeof(int);
    int e = 0;

    for (;;) {
        if (p->cancelled) {
            return EINTR;
        }
        if (poll(&pf, 1, -1) >= 0) {
            break;
        }
        if (errno != EINTR) {
            return errno;
        }
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0) {
        return errno;
    }
    return e;
}

/* Connect to CONNECT; -1 with err set. */
static int connect_dest(struct vms_proxy *p, struct vms_error *err)
{
    int fd = -1, e = 0;

    if (p->ca.af == VMS_PROXY_UNIX) {
        struct sockaddr_un sa;

        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        strcpy(sa.sun_path, p->ca.path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            e = errno == EINTR ? connect_interrupted(p, fd) : errno;
            if (e != 0) {
                close(fd);
                fd = -1;
            }
        } else if (fd < 0) {
            e = errno;
        }
    } else {
        struct addrinfo hints, *res = NULL, *ai;
        int rc;

        memset(&hints, 0, sizeof(hints));
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV;
        rc = getaddrinfo(p->ca.host, p->ca.port, &hints, &res);
        if (rc != 0) {
            vms_error_set_nooff(err, VMS_E_IO, "cannot connect to %s: %s",
                                p->ca.text, gai_strerror(rc));
            return -1;
        }
        for (ai = res; ai && fd < 0; ai = ai->ai_next) {
            fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                        ai->ai_protocol);
            if (fd < 0) {
                e = errno;
                continue;
            }
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
                e = errno == EINTR ? connect_interrupted(p, fd) : errno;
                if (e != 0) {
                    close(fd);
                    fd = -1;
                }
            }
        }
        freeaddrinfo(res);
    }
    if (fd < 0) {
        vms_error_set_errno(err, e, "cannot connect to the destination %s%s",
                            p->ca.text,
                            e == ECONNREFUSED || e == ENOENT
                                ? " (is its QEMU waiting with -incoming "
                                  "on this address?)"
                                : "");
        return -1;
    }
    tcp_nodelay(fd);
    return fd;
}

/* ---- moving bytes ----------------------------------------------------- */

/* in -> out until in ends (0) or fails (-1, errno kept); counts bytes. */
static int copy_loop(int in, int out, _Atomic uint64_t *count)
{
    uint8_t *buf = malloc(BACK_BUF);
    int rc = -1;

    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        ssize_t n = read(in, buf, BACK_BUF);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = n == 0 ? 0 : -1;
            break;
        }
        if (send_all(out, buf, (size_t)n) < 0) {
            break;
        }
        *count += (uint64_t)n;
    }
    free(buf);
    return rc;
}

/* in -> pipe -> out with splice(2): the pipe is the only buffer, and a
 * slow reader stops the writer (back-pressure). */
static int pump(int in, int out, _Atomic uint64_t *count)
{
    int pfd[2], rc = -1, moved = 0;

    if (pipe2(pfd, O_CLOEXEC) < 0) {
        return copy_loop(in, out, count);
    }
#ifdef F_SETPIPE_SZ
    (void)fcntl(pfd[1], F_SETPIPE_SZ, PIPE_BYTES);
#endif
    for (;;) {
        ssize_t n = splice(in, NULL, pfd[1], NULL, SPLICE_CHUNK,
                           SPLICE_F_MOVE);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EINVAL && !moved) {
            close(pfd[0]);
            close(pfd[1]);
            return copy_loop(in, out, count);
        }
        if (n <= 0) {
            rc = n == 0 ? 0 : -1;
            break;
        }
        moved = 1;
        while (n > 0) {
            ssize_t m = splice(pfd[0], NULL, out, NULL, (size_t)n,
                               SPLICE_F_MOVE);

            if (m < 0 && errno == EINTR) {
                continue;
            }
            if (m <= 0) {
                int e = errno;

                close(pfd[0]);
                close(pfd[1]);
                errno = m == 0 ? EPIPE : e;
                return -1;
            }
            n -= m;
            *count += (uint64_t)m;
        }
    }
    {
        int e = errno;

        close(pfd[0]);
        close(pfd[1]);
        errno = e;
    }
    return rc;
}

static void chan_thread_done(struct chan *c)
{
    struct vms_proxy *p = c->p;

    pthread_mutex_lock(&p->mu);
    c->open--;
    p->live--;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    wake(p);
}

/* End of one direction: a clean end is passed on (half-close), an error
 * closes the pair. */
static void direction_end(struct chan *c, int rc, int to_fd, const char *dir)
{
    if (rc == 0) {
        shutdown(to_fd, SHUT_WR);
        return;
    }
    if (errno != EPIPE && errno != ECONNRESET && errno != ENOTCONN &&
        !c->p->aborting) {
        note(c->p, VMS_PROXY_NOTE_WARNING, "channel %u (%s): %s: %s", c->idx,
             vms_proxy_kind_name((enum vms_proxy_kind)c->kind), dir,
             strerror(errno));
    }
    shutdown(c->src, SHUT_RDWR);
    shutdown(c->dst, SHUT_RDWR);
}

/* The converter calls this before every record of the main stream.  The
 * commands between the configuration and the first section say how the
 * migration was set up (migration_thread): OPEN_RETURN_PATH if it has a
 * return path, POSTCOPY_ADVISE if it may switch to postcopy. */
static int main_progress(void *opaque, uint64_t off, uint64_t raw)
{
    struct chan *c = opaque;
    struct vms_proxy *p = c->p;
    const uint8_t *b;

    (void)off;
    c->up = raw;
    if (c->setup_seen && !c->postcopy) {
        return 0;
    }
    /* One byte first: the next record may be the final QEMU_VM_EOF, one
     * byte with nothing after it until the destination answers.  A
     * command comes whole, so its 5-byte header can be waited for. */
    b = vms_src_peek(c->conv_src, 1, NULL);
    if (b && b[0] == VMS_REC_COMMAND) {
        b = vms_src_peek(c->conv_src, 5, NULL);
    }
    if (c->setup_seen) {
        /* The switch to postcopy: the device state in a PACKAGED command,
         * sent after the source stopped its VM for good. */
        if (b && b[0] == VMS_REC_COMMAND &&
            vms_get_be16(b + 1) == VMS_CMD_PACKAGED) {
            pthread_mutex_lock(&p->mu);
            p->postcopy_started = 1;
            pthread_mutex_unlock(&p->mu);
            note(p, VMS_PROXY_NOTE_INFO, "channel %u (main): the stream "
                 "switches to postcopy (the device state in a PACKAGED "
                 "command)", c->idx);
        }
        return 0;
    }
    if (b && b[0] == VMS_REC_COMMAND) {
        uint16_t cmd = vms_get_be16(b + 1);

        c->rp |= cmd == VMS_CMD_OPEN_RETURN_PATH;
        c->postcopy |= cmd == VMS_CMD_POSTCOPY_ADVISE;
        return 0;
    }
    c->setup_seen = 1;
    pthread_mutex_lock(&p->mu);
    p->return_path = c->rp;
    pthread_mutex_unlock(&p->mu);
    if (c->rp) {
        note(p, VMS_PROXY_NOTE_INFO, "the stream opens a return path: "
             "if vmstream refuses it, the source's migration fails and its "
             "VM runs on");
    } else {
        note(p, VMS_PROXY_NOTE_WARNING, "the stream opens no return "
             "path (MIG_CMD_OPEN_RETURN_PATH): if vmstream refuses it, "
             "the destination fails but the source cannot learn it and "
             "stays paused ('completed'); enable the 'return-path' "
             "migration capability on both sides");
    }
    if (c->postcopy) {
        note(p, VMS_PROXY_NOTE_WARNING, "the stream may switch to "
             "postcopy (MIG_CMD_POSTCOPY_ADVISE): its device state then "
             "arrives after the source has stopped its VM for good, and a "
             "refusal leaves the source in 'postcopy-paused' with its VM "
             "stopped; check the destination before migrating");
    }
    return 0;
}

/* The peer of fd has closed or reset it (whether or not a read saw it
 * yet): a write that failed there was the destination going away. */
static int peer_gone(int fd)
{
    struct pollfd pf = { .fd = fd, .events = POLLRDHUP };

    return poll(&pf, 1, 0) == 1 &&
           (pf.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

static void run_main(struct chan *c)
{
    struct vms_proxy *p = c->p;
    struct vms_convert_opts co = p->o.conv;
    struct vms_convert_result res;
    struct vms_error e;
    struct vms_src *src;
    struct vms_sink *sink = NULL;
    int rc = -1, gone;

    memset(&res, 0, sizeof(res));
    vms_error_clear(&e);
    src = vms_src_open_fd(c->src, 0, &e);
    if (src) {
        sink = vms_sink_open_fd(c->dst, p->ca.text, &e);
    }
    if (src && sink) {
        c->conv_src = src;
        co.end_at_trailer = 1;
        co.progress = main_progress;
        co.progress_opaque = c;
        rc = vms_convert(src, sink, &co, &res, &e);
        if (rc == 0) {
            rc = vms_sink_commit(sink, &e);
        } else {
            vms_sink_abort(sink);
        }
        c->up = vms_src_raw_offset(src);
    } else if (sink) {
        vms_sink_abort(sink);
    }
    vms_src_free(src);
    c->conv_src = NULL;

    gone = rc < 0 && e.code == VMS_E_IO && peer_gone(c->dst);
    pthread_mutex_lock(&p->mu);
    p->conv = res;
    p->main_done = 1;
    p->stream_done = rc == 0;
    if (rc < 0 && (p->dest_closed || gone) && !vms_error_isset(&p->err)) {
        p->dest_failed = 1;
        vms_error_clear(&e);
        vms_error_set_nooff(&e, VMS_E_IO, "the destination closed the main "
                            "channel before the end of the stream (it "
                            "refused it, or failed)");
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    wake(p);
    if (rc < 0) {
        /* Nothing of QEMU_VM_EOF went out: close every connection, so
         * that a source with a return path fails and runs on. */
        fail(p, &e);
        return;
    }
    note(p, VMS_PROXY_NOTE_INFO, "channel %u (main): the converted stream "
         "went out whole (%llu bytes in, %llu out; %zu cpu section(s), "
         "%zu converted to v%d)", c->idx, (unsigned long long)c->up,
         (unsigned long long)res.out_bytes, res.cpus, res.converted,
         co.to_layout);
    /* QEMU sends nothing after the stream; pass on whatever comes. */
    rc = pump(c->src, c->dst, &c->up);
    direction_end(c, rc, c->dst, "from the source");
}

static void *up_thread(void *arg)
{
    struct chan *c = arg;
    struct vms_proxy *p = c->p;
    uint8_t magic[4];
    ssize_t n;
    uint32_t m = 0;
    int kind = VMS_PROXY_OTHER, rc;

    block_sigpipe();
    do {
        n = recv(c->src, magic, sizeof(magic), MSG_PEEK | MSG_WAITALL);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(magic)) {
        m = vms_get_be32(magic);
    }
    if (n == (ssize_t)sizeof(magic) && m == VMS_FILE_MAGIC) {
        pthread_mutex_lock(&p->mu);
        kind = p->main_claimed ? VMS_PROXY_REFUSED : VMS_PROXY_MAIN;
        p->main_claimed = 1;
        pthread_mutex_unlock(&p->mu);
    } else if (n == (ssize_t)sizeof(magic) && m == MULTIFD_MAGIC) {
        kind = VMS_PROXY_MULTIFD;
    }
    c->kind = kind;
    switch (kind) {
    case VMS_PROXY_MAIN:
        note(p, VMS_PROXY_NOTE_INFO, "channel %u: main (QEVM): converting "
             "to v%d", c->idx, p->o.conv.to_layout);
        run_main(c);
        break;
    case VMS_PROXY_REFUSED:
        note(p, VMS_PROXY_NOTE_WARNING, "channel %u: a second main channel "
             "(QEVM) in one migration: closed (vmstream serves one "
             "migration per run; postcopy recovery is not supported)",
             c->idx);
        shutdown(c->src, SHUT_RDWR);
        shutdown(c->dst, SHUT_RDWR);
        break;
    default:
        if (kind == VMS_PROXY_MULTIFD) {
            note(p, VMS_PROXY_NOTE_INFO, "channel %u: multifd: passed "
                 "through", c->idx);
        } else if (n == (ssize_t)sizeof(magic) && magic[0] == 0x16 &&
                   magic[1] == 0x03) {
            /* A TLS handshake record: tls-creds migration. */
            note(p, VMS_PROXY_NOTE_WARNING, "channel %u: this looks like "
                 "TLS (first bytes %02x %02x %02x %02x): an encrypted "
                 "migration cannot be converted; passed through unchanged",
                 c->idx, magic[0], magic[1], magic[2], magic[3]);
        } else if (n == (ssize_t)sizeof(magic)) {
            note(p, VMS_PROXY_NOTE_INFO, "channel %u: unknown kind (first "
                 "bytes %02x %02x %02x %02x): passed through unchanged",
                 c->idx, magic[0], magic[1], magic[2], magic[3]);
        } else {
            note(p, VMS_PROXY_NOTE_INFO, "channel %u: fewer than 4 bytes "
                 "from the source: passed through unchanged", c->idx);
        }
        rc = pump(c->src, c->dst, &c->up);
        direction_end(c, rc, c->dst, "from the source");
        break;
    }
    chan_thread_done(c);
    return NULL;
}

/* Bytes from the destination (the return path on the main channel) go
 * back unchanged, each chunk as soon as it is read. */
static void *down_thread(void *arg)
{
    struct chan *c = arg;
    struct vms_proxy *p = c->p;
    uint8_t buf[BACK_BUF];
    int rc = -1, e = 0;

    block_sigpipe();
    for (;;) {
        ssize_t n = read(c->dst, buf, sizeof(buf));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = n == 0 ? 0 : -1;
            e = errno;
            break;
        }
        if (c->kind == VMS_PROXY_MAIN) {
            pthread_mutex_lock(&p->mu);
            vms_proxy_rp_feed(&p->rp, buf, (size_t)n);
            pthread_mutex_unlock(&p->mu);
        }
        if (send_all(c->src, buf, (size_t)n) < 0) {
            e = errno;
            break;
        }
        c->down += (uint64_t)n;
    }
    if (c->kind == VMS_PROXY_MAIN) {
        int done, shut, rpath;

        /* The destination has gone.  If the stream is still being read,
         * stop it (the converter fails, and says the destination went);
         * else the stream's end and the destination's close crossed. */
        pthread_mutex_lock(&p->mu);
        p->dest_closed = 1;
        pthread_mutex_unlock(&p->mu);
        if (rc == 0) {
            shutdown(c->src, SHUT_WR);
        }
        pthread_mutex_lock(&p->mu);
        if (!p->main_done) {
            shutdown(c->src, SHUT_RD);
        }
        while (!p->main_done) {
            pthread_cond_wait(&p->cond, &p->mu);
        }
        done = p->stream_done;
        shut = p->rp.shut;
        rpath = p->return_path;
        pthread_mutex_unlock(&p->mu);
        if (done && rpath == 1 && shut != 0) {
            pthread_mutex_lock(&p->mu);
            p->dest_failed = 1;
            pthread_mutex_unlock(&p->mu);
            fail_msg(p, VMS_E_IO, 0, "%s",
                     shut > 0 ? "the destination reported on the return "
                                "path that it failed to load the stream"
                              : "the destination closed the return path "
                                "without reporting success (it failed to "
                                "load the stream)");
        } else if (done && rc < 0 && !p->aborting) {
            fail_msg(p, VMS_E_IO, e, "the main channel from the "
                     "destination failed");
        }
    } else {
        errno = e;
        direction_end(c, rc, c->src, "from the destination");
    }
    chan_thread_done(c);
    return NULL;
}

/* ---- accepting -------------------------------------------------------- */

static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg,
                        size_t stack)
{
    pthread_attr_t a;
    int rc;

    pthread_attr_init(&a);
    if (stack) {
        pthread_attr_setstacksize(&a, stack);
    }
    rc = pthread_create(t, &a, fn, arg);
    pthread_attr_destroy(&a);
    return rc;
}

static void accept_one(struct vms_proxy *p)
{
    struct vms_error e;
    struct chan *c;
    int fd, dst;

    do {
        fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);  /* blocking */
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != ECONNABORTED) {
            fail_msg(p, VMS_E_IO, errno, "accept on %s failed",
                     p->listening);
        }
        return;
    }
    if (p->n_chans == VMS_PROXY_MAX_CHANNELS) {
        note(p, VMS_PROXY_NOTE_WARNING, "more than %d connections: one "
             "refused", VMS_PROXY_MAX_CHANNELS);
        close(fd);
        return;
    }
    tcp_nodelay(fd);
    /* In accept order: QEMU 7.2 takes the first connection as the main
     * channel, so the destination must see them in the source's order. */
    vms_error_clear(&e);
    dst = connect_dest(p, &e);
    if (dst < 0) {
        close(fd);
        fail(p, &e);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        close(dst);
        fail_msg(p, VMS_E_NOMEM, 0, "out of memory");
        return;
    }
    c->p = p;
    c->src = fd;
    c->dst = dst;
    pthread_mutex_lock(&p->mu);
    c->idx = (unsigned)p->n_chans;
    p->chans[p->n_chans++] = c;
    if (p->aborting) {
        shutdown(fd, SHUT_RDWR);
        shutdown(dst, SHUT_RDWR);
    }
    c->open = 2;
    p->live += 2;
    pthread_mutex_unlock(&p->mu);
    note(p, VMS_PROXY_NOTE_INFO, "channel %u: accepted, connected to %s",
         c->idx, p->ca.text);
    c->up_started = start_thread(&c->up_t, up_thread, c, 0) == 0;
    c->down_started = c->up_started &&
                      start_thread(&c->down_t, down_thread, c,
                                   SMALL_STACK) == 0;
    if (!c->up_started || !c->down_started) {
        pthread_mutex_lock(&p->mu);
        p->live -= (c->up_started ? 1 : 2);
        c->open -= (c->up_started ? 1 : 2);
        pthread_mutex_unlock(&p->mu);
        fail_msg(p, VMS_E_NOMEM, 0, "cannot start a thread for channel %u",
                 c->idx);
    }
}

static void stats(struct vms_proxy *p, struct vms_proxy_chan_stats *s,
                  size_t *n)
{
    size_t i;

    pthread_mutex_lock(&p->mu);
    for (i = 0; i < p->n_chans; i++) {
        s[i].idx = p->chans[i]->idx;
        s[i].kind = (enum vms_proxy_kind)p->chans[i]->kind;
        s[i].up = p->chans[i]->up;
        s[i].down = p->chans[i]->down;
        s[i].open = p->chans[i]->open > 0;
    }
    *n = p->n_chans;
    pthread_mutex_unlock(&p->mu);
}

static void stop_listening(struct vms_proxy *p)
{
    if (p->lfd >= 0) {
        close(p->lfd);
        p->lfd = -1;
    }
    if (p->unlink_path) {
        unlink(p->la.path);
        p->unlink_path = 0;
    }
}

static uint64_t now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

int vms_proxy_run(struct vms_proxy *p, struct vms_proxy_result *r,
                  struct vms_error *err)
{
    struct vms_proxy_chan_stats *s = NULL;
    uint64_t next = 0;
    size_t i, n;
    int rc;

    memset(r, 0, sizeof(*r));
    if (p->o.progress && p->o.progress_ms) {
        s = calloc(VMS_PROXY_MAX_CHANNELS, sizeof(*s));
        next = now_ms() + p->o.progress_ms;
    }
    for (;;) {
        struct pollfd pf[2];
        int timeout = -1, nf = 0, done;

        pthread_mutex_lock(&p->mu);
        if (p->cancelled && !p->aborting) {
            struct vms_error e;

            vms_error_clear(&e);
            vms_error_set_nooff(&e, VMS_E_IO, "interrupted");
            if (!vms_error_isset(&p->err)) {
                p->err = e;
            }
            abort_all_locked(p);
        }
        if (p->main_done || p->aborting) {
            stop_listening(p);
        }
        done = p->live == 0 && (p->main_done || p->aborting);
        pthread_mutex_unlock(&p->mu);
        if (done) {
            break;
        }
        pf[nf].fd = p->wake[0];
        pf[nf++].events = POLLIN;
        if (p->lfd >= 0) {
            pf[nf].fd = p->lfd;
            pf[nf++].events = POLLIN;
        }
        if (s) {
            uint64_t t = now_ms();

            timeout = next > t ? (int)(next - t) : 0;
        }
        if (poll(pf, (nfds_t)nf, timeout) < 0 && errno != EINTR) {
            fail_msg(p, VMS_E_IO, errno, "poll failed");
            continue;
        }
        if (pf[0].revents & POLLIN) {
            char buf[64];

            while (read(p->wake[0], buf, sizeof(buf)) > 0) {
            }
        }
        if (nf > 1 && (pf[1].revents & POLLIN)) {
            accept_one(p);
        }
        if (s && now_ms() >= next) {
            stats(p, s, &n);
            p->o.progress(p->o.progress_opaque, s, n);
            next = now_ms() + p->o.progress_ms;
        }
    }
    if (s) {
        stats(p, s, &n);
        p->o.progress(p->o.progress_opaque, s, n);
    }
    free(s);
    for (i = 0; i < p->n_chans; i++) {
        struct chan *c = p->chans[i];

        if (c->up_started) {
            pthread_join(c->up_t, NULL);
        }
        if (c->down_started) {
            pthread_join(c->down_t, NULL);
        }
        r->up += c->up;
        r->down += c->down;
        if (c->kind == VMS_PROXY_MULTIFD || c->kind == VMS_PROXY_OTHER) {
            r->passed++;
        }
        note(p, VMS_PROXY_NOTE_INFO, "channel %u (%s): %llu bytes from the "
             "source, %llu from the destination", c->idx,
             vms_proxy_kind_name((enum vms_proxy_kind)c->kind),
             (unsigned long long)c->up, (unsigned long long)c->down);
        close(c->src);
        close(c->dst);
        free(c);
        p->chans[i] = NULL;
    }
    r->channels = p->n_chans;
    p->n_chans = 0;
    r->stream_done = p->stream_done;
    r->return_path = p->return_path;
    r->dest_shut = p->rp.shut;
    r->dest_failed = p->dest_failed;
    r->postcopy_started = p->postcopy_started;
    r->conv = p->conv;
    rc = p->stream_done && !vms_error_isset(&p->err) ? 0 : -1;
    if (rc < 0) {
        if (!vms_error_isset(&p->err)) {
            vms_error_set_nooff(&p->err, VMS_E_IO, "the migration ended "
                                "before its stream did");
        }
        *err = p->err;
    }
    return rc;
}

void vms_proxy_cancel(struct vms_proxy *p)
{
    p->cancelled = 1;
    wake(p);
}

struct vms_proxy *vms_proxy_new(const struct vms_proxy_opts *o,
                                struct vms_error *err)
{
    struct vms_proxy *p = calloc(1, sizeof(*p));

    if (!p) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    p->o = *o;
    p->lfd = -1;
    p->wake[0] = p->wake[1] = -1;
    p->return_path = -1;
    vms_proxy_rp_init(&p->rp);
    vms_error_clear(&p->err);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->note_mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    if (vms_proxy_addr_parse(o->listen, 1, &p->la, err) < 0 ||
        vms_proxy_addr_parse(o->connect, 0, &p->ca, err) < 0) {
        vms_proxy_free(p);
        return NULL;
    }
    if (o->conv.to_layout != 22 && o->conv.to_layout != 23) {
        vms_error_set_nooff(err, VMS_E_USAGE, "the target layout must be "
                            "22 or 23");
        vms_proxy_free(p);
        return NULL;
    }
    if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        vms_error_set_errno(err, errno, "pipe");
        vms_proxy_free(p);
        return NULL;
    }
    if ((p->la.af == VMS_PROXY_TCP ? listen_tcp(p, err)
                                   : listen_unix(p, err)) < 0) {
        vms_proxy_free(p);
        return NULL;
    }
    format_bound(p);
    return p;
}

const char *vms_proxy_listening(const struct vms_proxy *p)
{
    return p->listening;
}

void vms_proxy_free(struct vms_proxy *p)
{
    size_t i;

    if (!p) {
        return;
    }
    stop_listening(p);
    for (i = 0; i < p->n_chans; i++) {
        /* only after a failed run: threads are joined there */
        free(p->chans[i]);
    }
    if (p->wake[0] >= 0) {
        close(p->wake[0]);
        close(p->wake[1]);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->note_mu);
    pthread_cond_destroy(&p->cond);
    free(p);
}
