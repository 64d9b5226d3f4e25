/*
 * fuzz_check.c - "vmstream check": the cpu rules without a destination and
 * against destination profiles taken from real streams (a v22 and a v23
 * TCG build, AArch64 and AArch32), plus the profile text parser.
 *
 * Input: a migration stream (parsed from memory).  Every run checks it
 * with no destination and with each profile; the verdict must agree with
 * the findings.  The input is also fed to vms_profile_parse (profile text
 * seeds live in the same corpus).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fuzz_common.h"
#include "profile.h"
#include "stream.h"

static const char *const profile_streams[] = {
    "tests/vectors/real-v22/aa64-virt72-cortex-a57-1cpu.mig.zst",
    "tests/vectors/real-v23/aa64-virt72-cortex-a57-1cpu.mig.zst",
    "tests/vectors/real-v22/aa64-virt72-max-1cpu.mig.zst",
    "tests/vectors/real-v23/arm-virt72-cortex-a15-1cpu.mig.zst",
};
#define N_PROFILES (sizeof(profile_streams) / sizeof(profile_streams[0]))
static struct vms_profile *profiles[N_PROFILES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = getenv("VMSTREAM_SRCDIR");
    size_t i;

    (void)argc;
    (void)argv;
    if (!dir) {
        dir = FUZZ_SRCDIR;
    }
    for (i = 0; i < N_PROFILES; i++) {
        char path[4096];
        struct vms_error e;

        snprintf(path, sizeof(path), "%s/%s", dir, profile_streams[i]);
        vms_error_clear(&e);
        profiles[i] = vms_profile_from_stream(path, NULL, &e);
        if (!profiles[i]) {
            fprintf(stderr, "fuzz_check: cannot make a profile from %s: %s "
                    "(set VMSTREAM_SRCDIR to the source tree)\n", path,
                    e.msg);
            exit(1);
        }
    }
    return 0;
}

static void check_result(const struct vms_check_result *r)
{
    enum vms_verdict want = VMS_VERDICT_LOADS;
    size_t i;

    for (i = 0; i < r->n; i++) {
        const struct vms_finding *f = &r->findings[i];

        FUZZ_CHECK(memchr(f->message, 0, sizeof(f->message)) &&
                       memchr(f->reg, 0, sizeof(f->reg)),
                   "unterminated finding");
        if (f->severity == VMS_SEV_FATAL) {
            want = VMS_VERDICT_FAILS;
        } else if (f->severity == VMS_SEV_WARNING &&
                   want == VMS_VERDICT_LOADS) {
            want = VMS_VERDICT_LOSSY;
        }
    }
    FUZZ_CHECK(r->verdict == want, "verdict %d, findings say %d",
               r->verdict, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vms_stream st;
    struct vms_error err;
    struct vms_profile *p;
    size_t i;

    if (fuzz_parse_mem(data, size, &st, &err) == 0) {
        struct vms_check_result r = { 0 };

        FUZZ_CHECK(vms_check_stream(&st, NULL, &r, &err) == 0, "check");
        check_result(&r);
        vms_check_result_fini(&r);
        for (i = 0; i < N_PROFILES; i++) {
            memset(&r, 0, sizeof(r));
            FUZZ_CHECK(vms_check_stream(&st, profiles[i], &r, &err) == 0,
                       "check --dest");
            check_result(&r);
            vms_check_result_fini(&r);
        }
    }
    vms_stream_fini(&st);

    vms_error_clear(&err);
    p = vms_profile_parse((const char *)data, size, "fuzz", &err);
    fuzz_check_rc(p ? 0 : -1, &err, "vms_profile_parse");
    if (p) {
        FILE *f = fopen("/dev/null", "w");

        FUZZ_CHECK(p->layout == 22 || p->layout == 23, "profile layout");
        if (f) {
            vms_profile_write(p, f);
            fclose(f);
        }
        vms_profile_free(p);
    }
    return 0;
}
