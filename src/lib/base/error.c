#include "config.h"
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void vms_error_clear(struct vms_error *e)
{
    memset(e, 0, sizeof(*e));
}

int vms_error_isset(const struct vms_error *e)
{
    return e->code != VMS_OK;
}

int vms_error_adopt(struct vms_error *dst, const struct vms_error *src)
{
    if (dst != src && dst->code == VMS_OK && src->code != VMS_OK) {
        memcpy(dst, src, sizeof(*dst));
    }
    return dst->code != VMS_OK ? -1 : 0;
}

static void set_v(struct vms_error *e, enum vms_status code, int has_off,
                  uint64_t off, const char *fmt, va_list ap)
{
    if (e->code != VMS_OK) {
        return;
    }
    e->code = code;
    e->has_offset = has_off;
    e->offset = off;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

void vms_error_set(struct vms_error *e, enum vms_status code, uint64_t off,
                   const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_v(e, code, 1, off, fmt, ap);
    va_end(ap);
}

void vms_error_set_nooff(struct vms_error *e, enum vms_status code,
                         const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_v(e, code, 0, 0, fmt, ap);
    va_end(ap);
}

void vms_error_set_errno(struct vms_error *e, int err, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    if (e->code != VMS_OK) {
        return;
    }
    va_start(ap, fmt);
    set_v(e, VMS_E_IO, 0, 0, fmt, ap);
    va_end(ap);
    e->sys_errno = err;
    n = strlen(e->msg);
    snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(err));
}

void vms_error_section(struct vms_error *e, const char *idstr,
                       uint32_t section_id, uint32_t instance_id)
{
    if (e->code == VMS_OK || e->has_section) {
        return;
    }
    e->has_section = 1;
    e->section_id = section_id;
    e->instance_id = instance_id;
    snprintf(e->section, sizeof(e->section), "%s", idstr ? idstr : "");
}

void vms_error_format(const struct vms_error *e, char *buf, size_t len)
{
    size_t n = 0;

    buf[0] = '\0';
    if (e->has_offset) {
        n += snprintf(buf + n, len - n, "offset %llu (0x%llx)",
                      (unsigned long long)e->offset,
                      (unsigned long long)e->offset);
    }
    if (e->has_section && n < len) {
        n += snprintf(buf + n, len - n, "%ssection %s#%u (id %u)",
                      n ? ", " : "", e->section, e->instance_id,
                      e->section_id);
    }
    if (n < len) {
        snprintf(buf + n, len - n, "%s%s", n ? ": " : "", e->msg);
    }
}

const char *vms_status_name(enum vms_status code)
{
    switch (code) {
    case VMS_OK: return "ok";
    case VMS_E_IO: return "io";
    case VMS_E_TRUNCATED: return "truncated";
    case VMS_E_FORMAT: return "format";
    case VMS_E_LIMIT: return "limit";
    case VMS_E_NOMEM: return "nomem";
    case VMS_E_UNSUPPORTED: return "unsupported";
    case VMS_E_USAGE: return "usage";
    case VMS_E_CONVERT: return "convert";
    }
    return "unknown";
}
