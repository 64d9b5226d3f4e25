/*
 * fuzz_common.h - helpers shared by the libFuzzer harnesses (fuzz/).
 *
 * Owns: a failed property aborts with a message (so libFuzzer saves the
 * input as a crash), memfd-backed inputs for the fd code paths, capture of
 * what a "-" sink writes (standard output is a memfd in the harnesses),
 * parsing a stream from memory, and deep copies/compares of decoded vCPUs.
 */
#ifndef VMS_FUZZ_COMMON_H
#define VMS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "armcpu.h"
#include "error.h"
#include "stream.h"

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "."
#endif

/* A property of the library does not hold: print and abort(). */
void fuzz_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
#define FUZZ_CHECK(cond, ...)                                            \
    do {                                                                 \
        if (!(cond)) {                                                   \
            fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);                  \
        }                                                                \
    } while (0)

/* An error latch is consistent with a return code: rc < 0 <=> latched. */
void fuzz_check_rc(int rc, const struct vms_error *e, const char *what);

/* A memfd (created once per process) holding exactly data, positioned at
 * 0; the same fd is reused by every call. */
int fuzz_memfd_with(const uint8_t *data, size_t len);

/* Standard output becomes a memfd (once); fuzz_stdout_reset() empties it,
 * fuzz_stdout_take() returns a malloc'd copy of what was written. */
void fuzz_stdout_capture(void);
void fuzz_stdout_reset(void);
uint8_t *fuzz_stdout_take(size_t *len);

/* Parse data[0..len) from memory (no decompression); 0 or -1, err set. */
int fuzz_parse_mem(const uint8_t *data, size_t len, struct vms_stream *st,
                   struct vms_error *err);

/* Deep copy of a decoded vCPU (0, or -1 when out of memory). */
int fuzz_armcpu_copy(struct vms_armcpu *dst, const struct vms_armcpu *src);
/* 1 if two vCPUs hold the same registers, counts, lists and subsections
 * (stream offsets and section metadata are not compared). */
int fuzz_armcpu_same(const struct vms_armcpu *a, const struct vms_armcpu *b);

/* Exercise the read-only views of a decoded vCPU (names, EL, slots). */
void fuzz_armcpu_views(const struct vms_armcpu *c);

#endif
