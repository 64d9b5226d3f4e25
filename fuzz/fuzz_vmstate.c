/*
 * fuzz_vmstate.c - the -dump-vmstate JSON reader (stream/vmstate_json.c)
 * and the release facts that read strings (arm/release.c).
 *
 * Input: -dump-vmstate JSON text.  Checks:
 *  - vms_vmstate_parse: an error is latched iff NULL;
 *  - a parsed dump: the machine name is NUL-terminated within its buffer,
 *    every device is found again by its name, its subsections by theirs;
 *  - vms_release_has_machine and vms_release_machine_ok on the machine
 *    name, against both releases: no crash, -1/0/1 only, and a refusal
 *    latches an error.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "release.h"
#include "vmstate_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const rels[] = { "7.2", "10.0" };
    struct vms_error err;
    struct vms_vmstate_dump *d;
    size_t i, k;

    vms_error_clear(&err);
    d = vms_vmstate_parse((const char *)data, size, &err);
    FUZZ_CHECK(!d == vms_error_isset(&err),
               "vms_vmstate_parse: NULL iff an error is latched");
    if (!d) {
        return 0;
    }
    FUZZ_CHECK(memchr(d->machine, '\0', sizeof(d->machine)) != NULL,
               "machine name not terminated");
    for (i = 0; i < d->n_devs; i++) {
        const struct vms_vmstate_dev *v = vms_vmstate_find(d,
                                                           d->devs[i].name);

        FUZZ_CHECK(v == &d->devs[i], "device %zu not found by its name", i);
        for (k = 0; k < v->n_subs; k++) {
            FUZZ_CHECK(vms_vmstate_has_sub(v, v->subs[k]),
                       "subsection not found by its name");
        }
    }
    for (i = 0; i < 2; i++) {
        struct vms_dest_env env;
        int has = vms_release_has_machine(rels[i], d->machine), rc;

        FUZZ_CHECK(has >= -1 && has <= 1, "has_machine gave %d", has);
        vms_dest_env_init(&env);
        vms_dest_env_set_release(&env, rels[i]);
        vms_error_clear(&err);
        rc = vms_release_machine_ok(d->machine, &env, &err);
        FUZZ_CHECK((rc < 0) == vms_error_isset(&err),
                   "machine_ok: -1 iff an error is latched");
        FUZZ_CHECK((rc < 0) == (has == 0), "machine_ok disagrees with "
                   "has_machine");
        vms_dest_env_fini(&env);
    }
    vms_vmstate_free(d);
    return 0;
}
