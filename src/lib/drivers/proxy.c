#include "config.h"
#include "proxy_impl.h"

/* ---- small helpers ---------------------------------------------------- */

void proxy_note(struct vms_proxy *p, enum vms_proxy_note kind,
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

void proxy_wake(struct vms_proxy *p)
{
    char c = 0;

    if (write(p->wake[1], &c, 1) < 0) {
        /* full: the accepting thread is awake anyway */
    }
}

/* Shut every connection down (both directions): blocked threads proxy_wake. */
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
void proxy_fail(struct vms_proxy *p, const struct vms_error *e)
{
    pthread_mutex_lock(&p->mu);
    vms_error_adopt(&p->err, e);
    abort_all_locked(p);
    pthread_mutex_unlock(&p->mu);
    proxy_wake(p);
}

void proxy_fail_msg(struct vms_proxy *p, enum vms_status code, int sys,
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
    proxy_fail(p, &e);
}

void proxy_block_sigpipe(void)
{
    sigset_t s;

    /* splice(2) to a closed socket raises SIGPIPE (it has no
     * MSG_NOSIGNAL): thread-directed, so blocking it here is enough. */
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
}

int proxy_send_all(int fd, const uint8_t *b, size_t n)
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
            proxy_fail_msg(p, VMS_E_IO, errno, "accept on %s failed",
                     p->listening);
        }
        return;
    }
    if (p->n_chans == VMS_PROXY_MAX_CHANNELS) {
        proxy_note(p, VMS_PROXY_NOTE_WARNING, "more than %d connections: one "
             "refused", VMS_PROXY_MAX_CHANNELS);
        close(fd);
        return;
    }
    proxy_tcp_nodelay(fd);
    /* In accept order: QEMU 7.2 takes the first connection as the main
     * channel, so the destination must see them in the source's order. */
    vms_error_clear(&e);
    dst = proxy_connect_dest(p, &e);
    if (dst < 0) {
        close(fd);
        proxy_fail(p, &e);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        close(dst);
        proxy_fail_msg(p, VMS_E_NOMEM, 0, "out of memory");
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
    proxy_note(p, VMS_PROXY_NOTE_INFO, "channel %u: accepted, connected to %s",
         c->idx, p->ca.text);
    c->up_started = start_thread(&c->up_t, proxy_up_thread, c, 0) == 0;
    c->down_started = c->up_started &&
                      start_thread(&c->down_t, proxy_down_thread, c,
                                   SMALL_STACK) == 0;
    if (!c->up_started || !c->down_started) {
        pthread_mutex_lock(&p->mu);
        p->live -= (c->up_started ? 1 : 2);
        c->open -= (c->up_started ? 1 : 2);
        pthread_mutex_unlock(&p->mu);
        proxy_fail_msg(p, VMS_E_NOMEM, 0, "cannot start a thread for channel %u",
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
            vms_error_set_nooff(&p->err, VMS_E_IO, "interrupted");
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
            proxy_fail_msg(p, VMS_E_IO, errno, "poll failed");
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
        proxy_note(p, VMS_PROXY_NOTE_INFO, "channel %u (%s): %llu bytes from the "
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
        vms_error_adopt(err, &p->err);
    }
    return rc;
}

void vms_proxy_cancel(struct vms_proxy *p)
{
    p->cancelled = 1;
    proxy_wake(p);
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
    if ((p->la.af == VMS_PROXY_TCP ? proxy_listen_tcp(p, err)
                                   : proxy_listen_unix(p, err)) < 0) {
        vms_proxy_free(p);
        return NULL;
    }
    proxy_format_bound(p);
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
