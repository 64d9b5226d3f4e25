/*
 * proxy_impl.h - private to the proxy (proxy.c: channels, the run loop and
 * the return path; proxy_net.c: addresses, listening, connecting;
 * proxy_chan.c: the threads that move each channel's bytes and the main
 * channel's conversion).
 */
#ifndef VMS_PROXY_IMPL_H
#define VMS_PROXY_IMPL_H

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

/* proxy.c */
void proxy_note(struct vms_proxy *p, enum vms_proxy_note kind,
                const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void proxy_fail(struct vms_proxy *p, const struct vms_error *e);
void proxy_fail_msg(struct vms_proxy *p, enum vms_status code, int sys,
                    const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void proxy_wake(struct vms_proxy *p);
void proxy_block_sigpipe(void);
int proxy_send_all(int fd, const uint8_t *b, size_t n);

/* proxy_net.c */
void proxy_tcp_nodelay(int fd);
void proxy_format_bound(struct vms_proxy *p);
int proxy_listen_tcp(struct vms_proxy *p, struct vms_error *err);
int proxy_listen_unix(struct vms_proxy *p, struct vms_error *err);
int proxy_connect_dest(struct vms_proxy *p, struct vms_error *err);

/* proxy_chan.c: thread bodies, one per direction of a channel */
void *proxy_up_thread(void *arg);
void *proxy_down_thread(void *arg);

#endif
