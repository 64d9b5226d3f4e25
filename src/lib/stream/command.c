#include "config.h"
#include "stream_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdesc_json.h"
#include "wire.h"

static int command_len_ok(uint16_t cmd, uint16_t len, const uint8_t *data)
{
    switch (cmd) {
    case VMS_CMD_OPEN_RETURN_PATH:
    case VMS_CMD_POSTCOPY_LISTEN:
    case VMS_CMD_POSTCOPY_RUN:
    case VMS_CMD_ENABLE_COLO:
    case VMS_CMD_POSTCOPY_RESUME:
    case VMS_CMD_SWITCHOVER_START:
        return len == 0;
    case VMS_CMD_PING:
    case VMS_CMD_PACKAGED:
        return len == 4;
    case VMS_CMD_POSTCOPY_ADVISE:
        return len == 0 || len == 16;
    case VMS_CMD_RECV_BITMAP:
        return len >= 1 && data[0] + 1u == len;
    case VMS_CMD_POSTCOPY_RAM_DISCARD:
        return len >= 3;
    }
    return 0;
}

static int packaged(struct vms_parser *p, struct vms_src *src,
                    struct vms_command *c, const uint8_t *hdr)
{
    struct vms_stream *st = p->st;
    uint8_t **pk, *blob;
    uint8_t hdr_copy[9];
    struct vms_src *m;
    size_t first;
    int rc, idx;
    /* c points into st->cmds, which the blob's own commands may move. */
    uint32_t len = c->packaged_len;

    if (p->in_package) {
        vms_error_set(p->err, VMS_E_FORMAT, c->offset,
                      "PACKAGED command inside a PACKAGED command (QEMU "
                      "never nests them; vmstream reads one level)");
        return -1;
    }
    if (c->packaged_len > VMS_MAX_PACKAGED) {
        vms_error_set(p->err, VMS_E_LIMIT, c->offset,
                      "PACKAGED command of %u bytes (limit %u)",
                      c->packaged_len, VMS_MAX_PACKAGED);
        return -1;
    }
    memcpy(hdr_copy, hdr, 9);
    pk = realloc(st->packages, (st->n_packages + 1) * sizeof(*pk));
    blob = malloc(c->packaged_len ? c->packaged_len : 1);
    if (!pk || !blob) {
        free(blob);
        if (pk) {
            st->packages = pk;
        }
        vms_error_set_nooff(p->err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    st->packages = pk;
    st->packages[st->n_packages++] = blob;
    idx = (int)st->n_packages;
    vms_src_consume(src, 9);
    if (vms_src_read(src, blob, c->packaged_len, "PACKAGED data") < 0) {
        return -1;
    }
    m = vms_src_open_mem(blob, c->packaged_len, c->offset + 9, p->err);
    if (!m) {
        return -1;
    }
    first = st->n_sections;
    p->in_package = 1;
    rc = vms_stream_parse_records(p, m, idx, 0);
    p->in_package = 0;
    vms_src_free(m);
    if (rc < 0) {
        return -1;
    }
    if (p->ob->packaged &&
        p->ob->packaged(p->ob->opaque, st, hdr_copy, 9, blob,
                       len, first, p->err) < 0) {
        return -1;
    }
    return 0;
}

int vms_stream_command(struct vms_parser *p, struct vms_src *src, int streaming)
{
    struct vms_stream *st = p->st;
    struct vms_command *c;
    const uint8_t *b;
    size_t avail;
    uint16_t cmd, len;

    b = vms_src_peek(src, 5, &avail);
    if (!b) {
        vms_error_set(p->err, VMS_E_TRUNCATED, vms_src_offset(src) + avail,
                      "stream ends inside a command header");
        return -1;
    }
    cmd = vms_get_be16(b + 1);
    len = vms_get_be16(b + 3);
    if (cmd == 0 || cmd >= VMS_CMD_MAX) {
        vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src),
                      "MIG_CMD 0x%x unknown (len 0x%x)", cmd, len);
        return -1;
    }
    b = vms_src_peek(src, 5u + len, &avail);
    if (!b) {
        vms_error_set(p->err, VMS_E_TRUNCATED, vms_src_offset(src) + avail,
                      "stream ends inside command %s", vms_cmd_name(cmd));
        return -1;
    }
    if (!command_len_ok(cmd, len, b + 5)) {
        vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src),
                      "%s received with bad length %u", vms_cmd_name(cmd),
                      len);
        return -1;
    }
    if (st->n_cmds == st->cap_cmds) {
        size_t cap = st->cap_cmds ? st->cap_cmds * 2 : 16;
        struct vms_command *n;

        if (cap > VMS_MAX_SECTIONS ||
            !(n = realloc(st->cmds, cap * sizeof(*n)))) {
            vms_error_set(p->err, VMS_E_LIMIT, vms_src_offset(src),
                          "too many commands");
            return -1;
        }
        st->cmds = n;
        st->cap_cmds = cap;
    }
    c = &st->cmds[st->n_cmds++];
    memset(c, 0, sizeof(*c));
    c->cmd = cmd;
    c->len = len;
    c->offset = vms_src_offset(src);
    if (cmd == VMS_CMD_POSTCOPY_ADVISE) {
        st->postcopy_advised = 1;
    }
    if (cmd == VMS_CMD_PACKAGED) {
        int rc;

        c->packaged_len = vms_get_be32(b + 5);
        if (streaming && vms_src_tee_pause(src) < 0) {
            return -1;
        }
        rc = packaged(p, src, c, b);
        if (streaming) {
            vms_src_tee_resume(src);
        }
        return rc;
    }
    vms_src_consume(src, 5u + len);
    return 0;
}
