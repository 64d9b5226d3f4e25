/*
 * proxy.h - a converter on the wire: QEMU migrates to LISTEN, the proxy
 * connects to the destination's -incoming address CONNECT, one outgoing
 * connection per accepted one, in the same order.
 *
 * Owns: QEMU-style addresses (tcp:HOST:PORT, tcp:[V6]:PORT, unix:PATH),
 * listening and connecting, telling channels apart by their first bytes
 * (the stream magic "QEVM" is the main channel, 0x11223344 a multifd
 * channel, anything else is passed through as an unknown kind), moving
 * bytes: the main channel's stream through vms_convert (ending at its
 * vmdesc, see vms_convert_opts.end_at_trailer), the other channels
 * unchanged (splice(2) through a pipe: back-pressure, no user-space
 * copy), every byte coming back from the destination unchanged and at
 * once (a 16 KiB buffer: it is little, return-path messages), watching
 * the return path for the destination's verdict (MIG_RP_MSG_SHUT), and
 * failing
 * closed: a refused stream never reaches QEMU_VM_EOF and every connection
 * of the migration is shut down, which is what makes a source with a
 * return path fail its migration and run on.
 * Threads: one per direction and channel, blocking I/O; the caller's
 * thread accepts.  Memory: per channel a kernel pipe and a 16 KiB buffer
 * for the bytes coming back; the main channel the converter's own (its
 * input buffer and the device state, never RAM).
 * Does not own: printing (notes and progress go to callbacks), options.
 */
#ifndef VMS_PROXY_H
#define VMS_PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "convert.h"
#include "error.h"

/* Connections one migration may open (QEMU: multifd-channels <= 255,
 * plus the main and a postcopy-preempt channel); more are refused. */
#define VMS_PROXY_MAX_CHANNELS 512

enum vms_proxy_af {
    VMS_PROXY_TCP = 1,
    VMS_PROXY_UNIX,
};

struct vms_proxy_addr {
    enum vms_proxy_af af;
    char host[256];             /* tcp: without brackets; "" = any */
    char port[16];              /* tcp */
    char path[108];             /* unix: sizeof(sun_path) */
    char text[400];             /* as given, for messages */
};

/* Parse QEMU's syntax: tcp:HOST:PORT, tcp:[IPV6]:PORT, unix:PATH.  An
 * empty HOST (tcp::PORT) means every address and is only for listening
 * (for_listen).  -1 with a VMS_E_USAGE error naming what is wrong. */
int vms_proxy_addr_parse(const char *s, int for_listen,
                         struct vms_proxy_addr *a, struct vms_error *err);

enum vms_proxy_kind {
    VMS_PROXY_PENDING = 0,      /* no bytes from the source yet */
    VMS_PROXY_MAIN,             /* "QEVM": converted */
    VMS_PROXY_MULTIFD,          /* 0x11223344: passed through */
    VMS_PROXY_OTHER,            /* anything else: passed through */
    VMS_PROXY_REFUSED,          /* a second main channel: closed */
};
const char *vms_proxy_kind_name(enum vms_proxy_kind k);

enum vms_proxy_note {
    VMS_PROXY_NOTE_INFO,        /* what happens (listening, channels) */
    VMS_PROXY_NOTE_WARNING,     /* e.g. a stream without return path */
};

struct vms_proxy_chan_stats {
    unsigned idx;               /* 0.. in accept order */
    enum vms_proxy_kind kind;
    uint64_t up, down;          /* source->destination, and back */
    int open;
};

struct vms_proxy_opts {
    const char *listen, *connect;     /* QEMU syntax */
    /* to_layout, drop, verify (progress and end_at_trailer are the
     * proxy's own). */
    struct vms_convert_opts conv;
    /* Messages, one line each (no newline), from any thread but never
     * two at once. */
    void (*note)(void *opaque, enum vms_proxy_note kind, const char *msg);
    void *note_opaque;
    /* Called from the accepting thread every progress_ms (0: never). */
    void (*progress)(void *opaque, const struct vms_proxy_chan_stats *c,
                     size_t n);
    void *progress_opaque;
    unsigned progress_ms;
};

struct vms_proxy_result {
    size_t channels;            /* accepted */
    size_t passed;              /* of them passed through unchanged */
    int stream_done;            /* the converted stream went out whole */
    int return_path;            /* the stream opened one (-1: unknown) */
    int postcopy_started;       /* it switched to postcopy (PACKAGED) */
    int dest_shut;              /* MIG_RP_MSG_SHUT value, -1 none seen */
    int dest_failed;            /* the destination reported failure, or
                                   closed before confirming (return
                                   path) or before the end of the stream */
    struct vms_convert_result conv;
    uint64_t up, down;          /* bytes, all channels */
};

struct vms_proxy;

/* Parse both addresses and listen on LISTEN (a port or socket in use is
 * a VMS_E_IO error with EADDRINUSE).  Nothing is connected yet. */
struct vms_proxy *vms_proxy_new(const struct vms_proxy_opts *o,
                                struct vms_error *err);
/* The address actually listened on (tcp port 0 = the port chosen). */
const char *vms_proxy_listening(const struct vms_proxy *p);
/*
 * Serve one migration: accept until the main channel's stream has ended,
 * then wait for every channel to close.  0 if the converted stream went
 * out whole and, when the stream opened a return path, the destination
 * reported success; -1 otherwise, err saying why (the stream refused:
 * VMS_E_CONVERT/FORMAT/...; the network or a peer: VMS_E_IO).
 */
int vms_proxy_run(struct vms_proxy *p, struct vms_proxy_result *r,
                  struct vms_error *err);
/* From a signal handler: stop, shutting every connection down. */
void vms_proxy_cancel(struct vms_proxy *p);
void vms_proxy_free(struct vms_proxy *p);

/* The return path's message framing (be16 type, be16 length, data), fed
 * with the bytes as they pass: remembers the last SHUT value. */
struct vms_proxy_rp {
    uint8_t hdr[4];
    size_t have;                /* header bytes so far */
    uint16_t type;
    uint32_t left;              /* data bytes of this message to come */
    uint8_t data[4];
    size_t data_have;
    int shut;                   /* -1 none yet */
    uint64_t messages;
};
void vms_proxy_rp_init(struct vms_proxy_rp *rp);
void vms_proxy_rp_feed(struct vms_proxy_rp *rp, const uint8_t *buf,
                       size_t n);

#endif
