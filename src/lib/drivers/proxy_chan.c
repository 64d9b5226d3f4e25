#include "config.h"
#include "proxy_impl.h"

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
        if (proxy_send_all(out, buf, (size_t)n) < 0) {
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
    proxy_wake(p);
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
        proxy_note(c->p, VMS_PROXY_NOTE_WARNING, "channel %u (%s): %s: %s", c->idx,
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
            proxy_note(p, VMS_PROXY_NOTE_INFO, "channel %u (main): the stream "
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
        proxy_note(p, VMS_PROXY_NOTE_INFO, "the stream opens a return path: "
             "if vmstream refuses it, the source's migration fails and its "
             "VM runs on");
    } else {
        proxy_note(p, VMS_PROXY_NOTE_WARNING, "the stream opens no return "
             "path (MIG_CMD_OPEN_RETURN_PATH): if vmstream refuses it, "
             "the destination fails but the source cannot learn it and "
             "stays paused ('completed'); enable the 'return-path' "
             "migration capability on both sides");
    }
    if (c->postcopy) {
        proxy_note(p, VMS_PROXY_NOTE_WARNING, "the stream may switch to "
             "postcopy (MIG_CMD_POSTCOPY_ADVISE): its device state then "
             "arrives after the source has stopped its VM for good, and a "
             "refusal leaves the source's VM stopped for good "
             "('postcopy-paused' or stuck 'postcopy-active'); check the "
             "destination before migrating");
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
    proxy_wake(p);
    if (rc < 0) {
        /* Nothing of QEMU_VM_EOF went out: close every connection, so
         * that a source with a return path fails and runs on. */
        proxy_fail(p, &e);
        return;
    }
    proxy_note(p, VMS_PROXY_NOTE_INFO, "channel %u (main): the converted stream "
         "went out whole (%llu bytes in, %llu out; %zu cpu section(s), "
         "%zu converted to v%d)", c->idx, (unsigned long long)c->up,
         (unsigned long long)res.out_bytes, res.cpus, res.converted,
         co.to_layout);
    /* QEMU sends nothing after the stream; pass on whatever comes. */
    rc = pump(c->src, c->dst, &c->up);
    direction_end(c, rc, c->dst, "from the source");
}

void *proxy_up_thread(void *arg)
{
    struct chan *c = arg;
    struct vms_proxy *p = c->p;
    uint8_t magic[4];
    ssize_t n;
    uint32_t m = 0;
    int kind = VMS_PROXY_OTHER, rc;

    proxy_block_sigpipe();
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
        proxy_note(p, VMS_PROXY_NOTE_INFO, "channel %u: main (QEVM): converting "
             "to v%d", c->idx, p->o.conv.to_layout);
        run_main(c);
        break;
    case VMS_PROXY_REFUSED:
        proxy_note(p, VMS_PROXY_NOTE_WARNING, "channel %u: a second main channel "
             "(QEVM) in one migration: closed (vmstream serves one "
             "migration per run; postcopy recovery is not supported)",
             c->idx);
        shutdown(c->src, SHUT_RDWR);
        shutdown(c->dst, SHUT_RDWR);
        break;
    default:
        if (kind == VMS_PROXY_MULTIFD) {
            proxy_note(p, VMS_PROXY_NOTE_INFO, "channel %u: multifd: passed "
                 "through", c->idx);
        } else if (n == (ssize_t)sizeof(magic) && magic[0] == 0x16 &&
                   magic[1] == 0x03) {
            /* A TLS handshake record: tls-creds migration. */
            proxy_note(p, VMS_PROXY_NOTE_WARNING, "channel %u: this looks like "
                 "TLS (first bytes %02x %02x %02x %02x): an encrypted "
                 "migration cannot be converted; passed through unchanged",
                 c->idx, magic[0], magic[1], magic[2], magic[3]);
        } else if (n == (ssize_t)sizeof(magic)) {
            proxy_note(p, VMS_PROXY_NOTE_INFO, "channel %u: unknown kind (first "
                 "bytes %02x %02x %02x %02x): passed through unchanged",
                 c->idx, magic[0], magic[1], magic[2], magic[3]);
        } else {
            proxy_note(p, VMS_PROXY_NOTE_INFO, "channel %u: fewer than 4 bytes "
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
void *proxy_down_thread(void *arg)
{
    struct chan *c = arg;
    struct vms_proxy *p = c->p;
    uint8_t buf[BACK_BUF];
    int rc = -1, e = 0;

    proxy_block_sigpipe();
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
        if (proxy_send_all(c->src, buf, (size_t)n) < 0) {
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
            proxy_fail_msg(p, VMS_E_IO, 0, "%s",
                     shut > 0 ? "the destination reported on the return "
                                "path that it failed to load the stream"
                              : "the destination closed the return path "
                                "without reporting success (it failed to "
                                "load the stream)");
        } else if (done && rc < 0 && !p->aborting) {
            proxy_fail_msg(p, VMS_E_IO, e, "the main channel from the "
                     "destination failed");
        }
    } else {
        errno = e;
        direction_end(c, rc, c->src, "from the destination");
    }
    chan_thread_done(c);
    return NULL;
}
