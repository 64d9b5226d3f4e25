/*
 * release_regs.c - which release a TCG register list comes from and which
 * registers each release fixes (release.h).  Uses the generated tables
 * only, so that profile.c can use it.
 */
#include "config.h"
#include "release.h"

#include <string.h>

extern const uint64_t vms_tcg_const_ids[];
extern const unsigned vms_tcg_const_nids;
extern const uint64_t vms_tcg10_const_ids[];
extern const unsigned vms_tcg10_const_nids;

static int has_id(const struct vms_armcpu *c, uint64_t id)
{
    int32_t i;

    for (i = 0; i < c->n; i++) {
        if (c->ids[i] == id) {
            return 1;
        }
    }
    return 0;
}

const char *vms_release_of_cpu(const struct vms_armcpu *c)
{
    if (c->layout != 22 ||
        vms_cpreg_guess_ctx(c->ids, (size_t)c->n) != VMS_CPREG_TCG) {
        return "";
    }
    /* DBGOSECCR and DBGVCR (AArch32 debug, ARM_CP_CONST in 10.0's
     * debug_helper.c) are in every 10.0 TCG list seen (a57, a53, max,
     * a15) and in no 7.2 one. */
    if (has_id(c, UINT64_C(0x40200000200e0302)) ||
        has_id(c, UINT64_C(0x40200000200e0380))) {
        return "10.0";
    }
    return "7.2";
}

static int find_u64(const uint64_t *a, unsigned n, uint64_t id)
{
    unsigned lo = 0, hi = n;

    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;

        if (a[mid] == id) {
            return 1;
        }
        if (a[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return 0;
}

int vms_release_tcg_fixed(const char *release, uint64_t id)
{
    if (find_u64(vms_tcg_const_ids, vms_tcg_const_nids, id)) {
        return 1;
    }
    return release && strcmp(release, "10.0") == 0 &&
           find_u64(vms_tcg10_const_ids, vms_tcg10_const_nids, id);
}

