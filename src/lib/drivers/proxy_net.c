#include "config.h"
#include "proxy_impl.h"

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

void proxy_tcp_nodelay(int fd)
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

void proxy_format_bound(struct vms_proxy *p)
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

int proxy_listen_tcp(struct vms_proxy *p, struct vms_error *err)
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

int proxy_listen_unix(struct vms_proxy *p, struct vms_error *err)
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
int proxy_connect_dest(struct vms_proxy *p, struct vms_error *err)
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
    proxy_tcp_nodelay(fd);
    return fd;
}
