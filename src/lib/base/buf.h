/*
 * buf.h - one growable byte buffer for the whole library.
 *
 * Owns: appending bytes with doubling growth, overflow-checked, and a
 * sticky out-of-memory flag: once an allocation failed, every later append
 * is a no-op and the buffer reports the failure, so a writer may append a
 * whole record and check once (QEMU's first-error-wins, style.md B2).
 * Does not own: what the bytes mean.
 */
#ifndef VMS_BUF_H
#define VMS_BUF_H

#include <stddef.h>
#include <stdint.h>

struct vms_error;

struct vms_buf {
    uint8_t *p;
    size_t len, cap;
    int nomem;              /* an append failed: the contents are short */
};

/* Room for more bytes after len (the first allocation is at least 4 KiB);
 * 0, or -1 with nomem set. */
int vms_buf_reserve(struct vms_buf *b, size_t more);
void vms_buf_put(struct vms_buf *b, const void *d, size_t n);
void vms_buf_puts(struct vms_buf *b, const char *s);
void vms_buf_putc(struct vms_buf *b, char c);
/* 0, or -1 after latching VMS_E_NOMEM in err if an append failed. */
int vms_buf_check(const struct vms_buf *b, struct vms_error *err);
void vms_buf_free(struct vms_buf *b);

#endif
