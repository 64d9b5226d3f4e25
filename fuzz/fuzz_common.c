/* fuzz_common.c - see fuzz_common.h. */
#define _GNU_SOURCE
#include "fuzz_common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpreg.h"
#include "src.h"

void fuzz_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "\n==FUZZ== property failed at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    abort();
}

void fuzz_check_rc(int rc, const struct vms_error *e, const char *what)
{
    FUZZ_CHECK(rc == 0 || rc == -1, "%s returned %d", what, rc);
    FUZZ_CHECK((rc < 0) == (vms_error_isset(e) != 0),
               "%s returned %d but the error latch is %s (%s)", what, rc,
               vms_error_isset(e) ? "set" : "clear", e->msg);
    if (rc < 0) {
        FUZZ_CHECK(e->msg[0] != '\0', "%s failed without a message", what);
        FUZZ_CHECK(memchr(e->msg, '\0', sizeof(e->msg)) != NULL,
                   "%s: unterminated message", what);
    }
}

static int memfd_get(int *fd, const char *name)
{
    if (*fd < 0) {
        *fd = memfd_create(name, MFD_CLOEXEC);
        if (*fd < 0) {
            fuzz_fail(__FILE__, __LINE__, "memfd_create: %s",
                      strerror(errno));
        }
    }
    return *fd;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);

        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            fuzz_fail(__FILE__, __LINE__, "memfd write: %s",
                      strerror(errno));
        }
        p += k;
        n -= (size_t)k;
    }
}

static int in_fd = -1;

int fuzz_memfd_with(const uint8_t *data, size_t len)
{
    int fd = memfd_get(&in_fd, "fuzz-input");

    if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        fuzz_fail(__FILE__, __LINE__, "memfd reset: %s", strerror(errno));
    }
    write_all(fd, data, len);
    if (lseek(fd, 0, SEEK_SET) < 0) {
        fuzz_fail(__FILE__, __LINE__, "memfd seek: %s", strerror(errno));
    }
    return fd;
}

static int out_fd = -1;

void fuzz_stdout_capture(void)
{
    if (out_fd >= 0) {
        return;
    }
    fflush(stdout);
    memfd_get(&out_fd, "fuzz-stdout");
    if (dup2(out_fd, STDOUT_FILENO) < 0) {
        fuzz_fail(__FILE__, __LINE__, "dup2: %s", strerror(errno));
    }
}

void fuzz_stdout_reset(void)
{
    if (ftruncate(STDOUT_FILENO, 0) < 0 ||
        lseek(STDOUT_FILENO, 0, SEEK_SET) < 0) {
        fuzz_fail(__FILE__, __LINE__, "stdout reset: %s", strerror(errno));
    }
}

uint8_t *fuzz_stdout_take(size_t *len)
{
    off_t end = lseek(STDOUT_FILENO, 0, SEEK_CUR);
    uint8_t *buf;
    size_t have = 0;

    if (end < 0) {
        fuzz_fail(__FILE__, __LINE__, "stdout tell: %s", strerror(errno));
    }
    buf = malloc((size_t)end + 1);
    if (!buf) {
        fuzz_fail(__FILE__, __LINE__, "out of memory");
    }
    while (have < (size_t)end) {
        ssize_t k = pread(STDOUT_FILENO, buf + have, (size_t)end - have,
                          (off_t)have);

        if (k <= 0) {
            fuzz_fail(__FILE__, __LINE__, "stdout read: %s",
                      strerror(errno));
        }
        have += (size_t)k;
    }
    *len = have;
    fuzz_stdout_reset();
    return buf;
}

int fuzz_parse_mem(const uint8_t *data, size_t len, struct vms_stream *st,
                   struct vms_error *err)
{
    struct vms_src *src;
    int rc;

    vms_error_clear(err);
    vms_stream_init(st);
    src = vms_src_open_mem(data, len, 0, err);
    FUZZ_CHECK(src != NULL, "vms_src_open_mem failed: %s", err->msg);
    rc = vms_stream_parse(src, NULL, st, err);
    fuzz_check_rc(rc, err, "vms_stream_parse");
    vms_src_free(src);
    return rc;
}

static void *dup_mem(const void *p, size_t n)
{
    void *d = malloc(n ? n : 1);

    if (d && n) {
        memcpy(d, p, n);
    }
    return d;
}

int fuzz_armcpu_copy(struct vms_armcpu *dst, const struct vms_armcpu *src)
{
    size_t i;

    *dst = *src;
    dst->ids = dup_mem(src->ids, (size_t)src->n * 8);
    dst->values = dup_mem(src->values, (size_t)src->m * 8);
    dst->value_idx = src->value_idx
                         ? dup_mem(src->value_idx, (size_t)src->n * 4)
                         : NULL;
    dst->subs = dup_mem(src->subs, src->subs_len);
    dst->sub_names = calloc(src->n_subs ? src->n_subs : 1,
                            sizeof(*dst->sub_names));
    if (!dst->ids || !dst->values || !dst->subs || !dst->sub_names ||
        (src->value_idx && !dst->value_idx)) {
        return -1;
    }
    for (i = 0; i < src->n_subs; i++) {
        dst->sub_names[i] = strdup(src->sub_names[i]);
    }
    return 0;
}

int fuzz_armcpu_same(const struct vms_armcpu *a, const struct vms_armcpu *b)
{
    size_t i;

#define SAME(f) (memcmp(&a->f, &b->f, sizeof(a->f)) == 0)
    if (!SAME(regs) || !SAME(xregs) || !SAME(pc) || !SAME(cpsr) ||
        !SAME(spsr) || !SAME(banked_spsr) || !SAME(banked_r13) ||
        !SAME(banked_r14) || !SAME(usr_regs) || !SAME(fiq_regs) ||
        !SAME(elr_el) || !SAME(sp_el) || !SAME(n) || !SAME(m) ||
        !SAME(exclusive_addr) || !SAME(exclusive_val) ||
        !SAME(exclusive_high) || !SAME(unused) || !SAME(syndrome) ||
        !SAME(fsr) || !SAME(vaddress) || !SAME(gt_timer) ||
        !SAME(power_state) || !SAME(subs_len) || !SAME(has_vfp) ||
        !SAME(has_sve) || !SAME(has_irq_line_state) || !SAME(n_subs)) {
        return 0;
    }
    if (a->has_vfp && (!SAME(vfp_d) || !SAME(fpsid) || !SAME(vfp_xregs) ||
                       !SAME(fpscr))) {
        return 0;
    }
    if (a->has_irq_line_state && !SAME(irq_line_state)) {
        return 0;
    }
#undef SAME
    if (memcmp(a->ids, b->ids, (size_t)a->n * 8) != 0 ||
        memcmp(a->values, b->values, (size_t)a->m * 8) != 0 ||
        memcmp(a->subs, b->subs, a->subs_len) != 0) {
        return 0;
    }
    for (i = 0; i < (size_t)a->n; i++) {
        uint32_t x = a->value_idx ? a->value_idx[i] : (uint32_t)i;
        uint32_t y = b->value_idx ? b->value_idx[i] : (uint32_t)i;

        if (x != y) {
            return 0;
        }
    }
    for (i = 0; i < a->n_subs; i++) {
        if (strcmp(a->sub_names[i], b->sub_names[i]) != 0) {
            return 0;
        }
    }
    return 1;
}

void fuzz_armcpu_views(const struct vms_armcpu *c)
{
    char name[VMS_CPREG_NAME_MAX];
    enum vms_cpreg_ctx ctx;
    int32_t i;
    unsigned b;

    (void)vms_armcpu_is_aarch64(c);
    FUZZ_CHECK(vms_armcpu_el(c) <= 3, "EL %u", vms_armcpu_el(c));
    (void)vms_armcpu_pc(c);
    FUZZ_CHECK(vms_armcpu_mode_name(c) != NULL, "no mode name");
    for (b = 0; b < 9; b++) {
        FUZZ_CHECK(vms_armcpu_spsr_bank_name(b, 0) &&
                       vms_armcpu_spsr_bank_name(b, 1) &&
                       vms_armcpu_bank_mode(b),
                   "bank name");
    }
    ctx = vms_cpreg_guess_ctx(c->ids, (size_t)c->n);
    for (i = 0; i < c->n; i++) {
        uint64_t id;

        (void)vms_armcpu_slots(c, i);
        vms_cpreg_name(c->ids[i], ctx, name, sizeof(name));
        FUZZ_CHECK(memchr(name, '\0', sizeof(name)) != NULL,
                   "unterminated register name");
        (void)vms_cpreg_size(c->ids[i]);
        (void)vms_cpreg_slots(c->ids[i]);
        (void)vms_cpreg_is_id_register(c->ids[i]);
        /* Reverse lookup of the decoded form: costly (a scan of the name
         * table), so only for a few registers per vCPU. */
        if (i < 4) {
            vms_cpreg_decode(c->ids[i], name, sizeof(name));
            if (vms_cpreg_lookup(name, ctx, &id) == 0) {
                (void)id;
            }
        }
    }
}
