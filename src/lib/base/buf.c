#include "config.h"
#include "buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"


int vms_buf_reserve(struct vms_buf *b, size_t more)
{
    size_t cap;
    uint8_t *p;

    if (b->nomem) {
        return -1;
    }
    if (more <= b->cap - b->len) {
        return 0;
    }
    cap = b->cap ? b->cap : 4096;
    while (cap - b->len < more) {
        if (cap > SIZE_MAX / 2) {
            b->nomem = 1;
            return -1;
        }
        cap *= 2;
    }
    p = realloc(b->p, cap);
    if (!p) {
        b->nomem = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void vms_buf_put(struct vms_buf *b, const void *d, size_t n)
{
    if (n > 0 && vms_buf_reserve(b, n) == 0) {
        memcpy(b->p + b->len, d, n);
        b->len += n;
    }
}

void vms_buf_puts(struct vms_buf *b, const char *s)
{
    vms_buf_put(b, s, strlen(s));
}

void vms_buf_putc(struct vms_buf *b, char c)
{
    vms_buf_put(b, &c, 1);
}

int vms_buf_check(const struct vms_buf *b, struct vms_error *err)
{
    if (b->nomem) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}

void vms_buf_free(struct vms_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}
