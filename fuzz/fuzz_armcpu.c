/*
 * fuzz_armcpu.c - the Arm cpu section codec, v22 and v23.
 *
 * Input: a raw cpu section body.  For each layout L in 22, 23 that it
 * decodes in:
 *  - encode(decode(x), L) == x byte for byte, and decoding that again gives
 *    the same model (decode(encode(c)) == c);
 *  - the other layout L': if encode(c, L') succeeds, it decodes in L' and
 *    encodes back to x;
 *  - vms_convert_cpu to L' (no drops) then back to L: either a clean
 *    refusal or the body x again (a v23 vCPU without registers may lose its
 *    orphan value slots: nothing reads them);
 *  - check: the stream's own rules, and a destination profile made from
 *    this vCPU, which it must satisfy structurally.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "armcpu.h"
#include "check.h"
#include "convert.h"
#include "fuzz_common.h"
#include "profile.h"

static void check_cpu(const struct vms_armcpu *c)
{
    struct vms_check_result r = { 0 };
    struct vms_profile *p;
    struct vms_error e;
    size_t i;

    vms_check_cpus(c, 1, NULL, &r);
    for (i = 0; i < r.n; i++) {
        FUZZ_CHECK(memchr(r.findings[i].message, 0,
                          sizeof(r.findings[i].message)) != NULL,
                   "finding message");
        if (r.findings[i].severity == VMS_SEV_FATAL) {
            FUZZ_CHECK(r.verdict == VMS_VERDICT_FAILS, "verdict");
        }
    }
    vms_check_result_fini(&r);
    vms_error_clear(&e);
    p = vms_profile_from_cpu(c, "self", &e);
    FUZZ_CHECK(p != NULL, "profile_from_cpu: %s", e.msg);
    memset(&r, 0, sizeof(r));
    vms_check_cpus(c, 1, p, &r);
    vms_check_result_fini(&r);
    vms_profile_free(p);
}

static void one_layout(const uint8_t *data, size_t size, int layout)
{
    struct vms_armcpu c, c2, c3;
    struct vms_error e;
    uint8_t *out, *back;
    size_t len, blen;
    int other = layout == 22 ? 23 : 22, rc;

    memset(&c, 0, sizeof(c));
    vms_error_clear(&e);
    rc = vms_armcpu_decode(data, size, 100, layout, &c, &e);
    fuzz_check_rc(rc, &e, "vms_armcpu_decode");
    if (rc < 0) {
        vms_armcpu_fini(&c);
        return;
    }
    FUZZ_CHECK(c.n >= 0 && c.m >= 0, "negative counts");
    FUZZ_CHECK(layout == 23 || c.m == c.n, "v22 with m != n");
    fuzz_armcpu_views(&c);

    /* encode(decode(x)) == x */
    out = vms_armcpu_encode(&c, layout, &len, &e);
    FUZZ_CHECK(out != NULL, "cannot encode a decoded vCPU: %s", e.msg);
    FUZZ_CHECK(len == size && memcmp(out, data, size) == 0,
               "v%d: encode(decode(x)) != x (%zu vs %zu bytes)", layout,
               len, size);
    /* decode(encode(c)) == c */
    memset(&c2, 0, sizeof(c2));
    FUZZ_CHECK(vms_armcpu_decode(out, len, 100, layout, &c2, &e) == 0,
               "re-decode: %s", e.msg);
    FUZZ_CHECK(fuzz_armcpu_same(&c, &c2), "decode(encode(c)) != c");
    vms_armcpu_fini(&c2);
    free(out);

    /* The other layout, straight through the codec. */
    vms_error_clear(&e);
    out = vms_armcpu_encode(&c, other, &len, &e);
    FUZZ_CHECK(out || vms_error_isset(&e), "encode failed silently");
    if (out) {
        memset(&c2, 0, sizeof(c2));
        vms_error_clear(&e);
        FUZZ_CHECK(vms_armcpu_decode(out, len, 100, other, &c2, &e) == 0,
                   "v%d -> v%d body does not decode: %s", layout, other,
                   e.msg);
        back = vms_armcpu_encode(&c2, layout, &blen, &e);
        FUZZ_CHECK(back != NULL, "v%d -> v%d -> v%d refused: %s", layout,
                   other, layout, e.msg);
        FUZZ_CHECK(blen == size && memcmp(back, data, size) == 0,
                   "v%d -> v%d -> v%d changes the body", layout, other,
                   layout);
        free(back);
        vms_armcpu_fini(&c2);
        free(out);
    }

    /* The converter's re-encoding, both ways. */
    FUZZ_CHECK(fuzz_armcpu_copy(&c3, &c) == 0, "copy");
    {
        size_t dropped = 0;

        vms_error_clear(&e);
        rc = vms_convert_cpu(&c3, other, NULL, &dropped, &e);
        fuzz_check_rc(rc, &e, "vms_convert_cpu");
        if (rc == 0) {
            FUZZ_CHECK(c3.layout == other && dropped == 0, "convert");
            rc = vms_convert_cpu(&c3, layout, NULL, &dropped, &e);
            fuzz_check_rc(rc, &e, "vms_convert_cpu back");
            FUZZ_CHECK(rc == 0, "converted vCPU cannot be converted back: "
                       "%s", e.msg);
            out = vms_armcpu_encode(&c3, layout, &len, &e);
            FUZZ_CHECK(out != NULL, "encode after convert: %s", e.msg);
            if (!(layout == 23 && c.n == 0 && c.m > 0)) {
                FUZZ_CHECK(len == size && memcmp(out, data, size) == 0,
                           "vms_convert_cpu v%d -> v%d -> v%d changes the "
                           "body", layout, other, layout);
            }
            free(out);
        }
    }
    vms_armcpu_fini(&c3);

    /* Dropping the first register (as --drop does). */
    if (c.n > 0) {
        size_t dropped = 0;
        uint64_t id = c.ids[0];
        char idtext[24];
        const char *names[1] = { idtext };
        struct vms_drop drop = { names, 1, NULL };

        snprintf(idtext, sizeof(idtext), "0x%016llx",
                 (unsigned long long)id);
        FUZZ_CHECK(fuzz_armcpu_copy(&c3, &c) == 0, "copy");
        vms_error_clear(&e);
        rc = vms_convert_cpu(&c3, layout, &drop, &dropped, &e);
        fuzz_check_rc(rc, &e, "vms_convert_cpu --drop");
        if (rc == 0) {
            int32_t i;

            FUZZ_CHECK(dropped >= 1 && c3.n == c.n - (int32_t)dropped,
                       "drop count");
            for (i = 0; i < c3.n; i++) {
                FUZZ_CHECK(c3.ids[i] != id, "dropped id still there");
            }
            out = vms_armcpu_encode(&c3, layout, &len, &e);
            FUZZ_CHECK(out != NULL, "encode after drop: %s", e.msg);
            memset(&c2, 0, sizeof(c2));
            FUZZ_CHECK(vms_armcpu_decode(out, len, 0, layout, &c2, &e) ==
                           0,
                       "body after drop does not decode: %s", e.msg);
            vms_armcpu_fini(&c2);
            free(out);
        }
        vms_armcpu_fini(&c3);
    }

    check_cpu(&c);
    vms_armcpu_fini(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one_layout(data, size, 22);
    one_layout(data, size, 23);
    return 0;
}
