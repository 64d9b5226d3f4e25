#include "config.h"
#include "stream_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdesc_json.h"
#include "wire.h"

static int read_counted(struct vms_src *src, char *out, const char *what,
                        struct vms_error *err)
{
    uint8_t len;

    if (vms_src_get_u8(src, &len, what) < 0 ||
        vms_src_read(src, out, len, what) < 0) {
        return -1;
    }
    out[len] = '\0';
    return 0;
}

static int config_subsection(struct vms_parser *p, struct vms_src *src)
{
    struct vms_stream *st = p->st;
    uint64_t off = vms_src_offset(src);
    char name[VMS_IDSTR_BUF];
    uint32_t version;

    vms_src_consume(src, 1);
    if (read_counted(src, name, "configuration subsection name",
                     p->err) < 0 ||
        vms_src_get_be32(src, &version, "subsection version") < 0) {
        return -1;
    }
    if (strcmp(name, "configuration/target-page-bits") == 0) {
        if (vms_src_get_be32(src, &st->page_bits, "target_page_bits") < 0) {
            return -1;
        }
        if (st->page_bits < VMS_PAGE_BITS_MIN ||
            st->page_bits > VMS_PAGE_BITS_MAX) {
            vms_error_set(p->err, VMS_E_FORMAT, vms_src_offset(src) - 4,
                          "target page bits %u out of range %u..%u",
                          st->page_bits, VMS_PAGE_BITS_MIN,
                          VMS_PAGE_BITS_MAX);
            return -1;
        }
        st->has_page_bits = 1;
    } else if (strcmp(name, "configuration/capabilities") == 0) {
        uint32_t n, i;

        if (vms_src_get_be32(src, &n, "capability count") < 0) {
            return -1;
        }
        if (n > VMS_MAX_CAPS) {
            vms_error_set(p->err, VMS_E_LIMIT, vms_src_offset(src) - 4,
                          "%u capabilities (limit %u)", n, VMS_MAX_CAPS);
            return -1;
        }
        /* A repeated subsection replaces the list (QEMU loads it again). */
        for (i = 0; i < st->n_caps; i++) {
            free(st->caps[i]);
        }
        free(st->caps);
        st->n_caps = 0;
        p->ram.ignore_shared = p->ram.mapped_ram = 0;
        st->caps = calloc(n ? n : 1, sizeof(*st->caps));
        if (!st->caps) {
            vms_error_set(p->err, VMS_E_NOMEM, off,
                          "out of memory for %u capabilities", n);
            return -1;
        }
        for (i = 0; i < n; i++) {
            char cap[VMS_IDSTR_BUF];

            if (read_counted(src, cap, "capability name", p->err) < 0) {
                return -1;
            }
            if (!(st->caps[st->n_caps] = strdup(cap))) {
                vms_error_set(p->err, VMS_E_NOMEM, off,
                              "out of memory for capability \"%s\"", cap);
                return -1;
            }
            st->n_caps++;
            if (strcmp(cap, "x-ignore-shared") == 0) {
                p->ram.ignore_shared = 1;
            } else if (strcmp(cap, "mapped-ram") == 0) {
                p->ram.mapped_ram = 1;
            }
        }
    } else if (strcmp(name, "configuration/uuid") == 0) {
        if (vms_src_read(src, st->uuid, 16, "uuid") < 0) {
            return -1;
        }
        st->has_uuid = 1;
    } else {
        vms_error_set(p->err, VMS_E_FORMAT, off,
                      "unknown configuration subsection \"%s\"", name);
        return -1;
    }
    return 0;
}

static int read_config(struct vms_parser *p, struct vms_src *src)
{
    struct vms_stream *st = p->st;
    uint32_t len;
    const uint8_t *b;

    vms_src_consume(src, 1);
    if (vms_src_get_be32(src, &len, "machine type length") < 0) {
        return -1;
    }
    if (len > VMS_MAX_IDSTR) {
        vms_error_set(p->err, VMS_E_LIMIT, vms_src_offset(src) - 4,
                      "machine type name of %u bytes (limit %u)", len,
                      VMS_MAX_IDSTR);
        return -1;
    }
    if (vms_src_read(src, st->machine, len, "machine type") < 0) {
        return -1;
    }
    st->machine[len] = '\0';
    st->has_config = 1;
    while ((b = vms_src_peek(src, 1, NULL)) && b[0] == VMS_REC_SUBSECTION) {
        if (config_subsection(p, src) < 0) {
            return -1;
        }
    }
    return vms_error_isset(p->err) ? -1 : 0;
}

int vms_stream_read_header(struct vms_parser *p, struct vms_src *src)
{
    uint32_t magic, version;
    const uint8_t *b;

    if (vms_src_get_be32(src, &magic, "file magic") < 0) {
        return -1;
    }
    if (magic != VMS_FILE_MAGIC) {
        vms_error_set(p->err, VMS_E_FORMAT, 0,
                      "not a QEMU migration stream (magic 0x%08x, expected "
                      "0x%08x \"QEVM\")", magic, VMS_FILE_MAGIC);
        return -1;
    }
    if (vms_src_get_be32(src, &version, "file version") < 0) {
        return -1;
    }
    p->st->file_version = version;
    if (version != VMS_FILE_VERSION) {
        vms_error_set(p->err, VMS_E_FORMAT, 4,
                      version == VMS_FILE_VERSION_COMPAT
                          ? "stream version %u: SaveVM v2 format is "
                            "obsolete"
                          : "unsupported migration stream version %u",
                      version);
        return -1;
    }
    b = vms_src_peek(src, 1, NULL);
    if (b && b[0] == VMS_REC_CONFIG && read_config(p, src) < 0) {
        return -1;
    }
    p->st->page_size = p->st->has_page_bits
                           ? 1u << p->st->page_bits
                           : (p->o->default_page_size
                                  ? p->o->default_page_size : 4096);
    return 0;
}
