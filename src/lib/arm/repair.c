/*
 * repair.c - convert --repair: rewrite cpu sections for a destination of
 * another QEMU release (repair.h).
 *
 * The recipe was proven by hand with real QEMU 7.2.22 and 10.0.2 in both
 * directions (doc/qemu-10.0.md section 6) and is tested with both in
 * tests/integration/releases.sh: every step is needed (not setting
 * ID_DFR0: EPERM; keeping 7.2's PAR for 10.0: "Invalid value 275 expecting
 * positive value <= 274"; not adding RMR_EL1: EPERM), and on a QEMU 10.0
 * TCG destination a register the stream lacks takes leftover memory
 * (0x190 seen on vCPU 1), so every destination register is sent.
 */
#include "config.h"
#include "repair.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

void vms_repair_init(struct vms_repair *rp, const struct vms_profile *dest,
                     const struct vms_dest_env *env)
{
    memset(rp, 0, sizeof(*rp));
    rp->dest = dest;
    rp->env = env;
}

void vms_repair_fini(struct vms_repair *rp)
{
    free(rp->changes);
    memset(rp, 0, sizeof(*rp));
}

const char *vms_repair_action_name(enum vms_repair_action a)
{
    switch (a) {
    case VMS_REPAIR_ADD: return "add";
    case VMS_REPAIR_DROP: return "drop";
    case VMS_REPAIR_SET: return "set";
    case VMS_REPAIR_DROP_SUB: return "drop-subsection";
    }
    return "?";
}

static const char *dest_release(const struct vms_repair *rp)
{
    if (rp->dest && rp->dest->release[0]) {
        return rp->dest->release;
    }
    return rp->env ? rp->env->release : "";
}

static struct vms_repair_change *add_change(struct vms_repair *rp,
                                            struct vms_error *err)
{
    struct vms_repair_change *ch;

    if (rp->n == rp->cap) {
        size_t cap = rp->cap ? rp->cap * 2 : 64;
        struct vms_repair_change *n = realloc(rp->changes,
                                              cap * sizeof(*n));

        if (!n) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            return NULL;
        }
        rp->changes = n;
        rp->cap = cap;
    }
    ch = &rp->changes[rp->n++];
    memset(ch, 0, sizeof(*ch));
    return ch;
}

static uint64_t size_mask(uint64_t id)
{
    uint32_t sz = vms_cpreg_size(id);

    return sz >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * sz)) - 1;
}

/* Index of id in c's list, or -1. */
static int32_t find_in(const struct vms_armcpu *c, uint64_t id)
{
    int32_t i;

    for (i = 0; i < c->n; i++) {
        if (c->ids[i] == id) {
            return i;
        }
    }
    return -1;
}

static int fixed_at_dest(const struct vms_repair *rp,
                         const struct vms_profile_reg *d)
{
    /* The profile's own judgement (vms_profile_from_cpu used the
     * release's table; builtin profiles leave L2CTLR, which encodes
     * -smp, unfixed on purpose). */
    (void)rp;
    return d->fixed;
}

/* Leave out the last subsection when it is an unarmed cpu/wfxt-timer:
 * VMSTATE_TIMER_PTR saves the expiry time, -1 when not armed. */
static int drop_wfxt(struct vms_armcpu *c, size_t k, struct vms_error *err)
{
    static const char name[] = "cpu/wfxt-timer";
    size_t nlen = sizeof(name) - 1, hlen = 2 + nlen + 4, start, i;

    if (k + 1 != c->n_subs || c->subs_len < hlen + 8) {
        goto refuse;
    }
    start = c->subs_len - hlen - 8;
    if (c->subs[start] != 0x05 || c->subs[start + 1] != nlen ||
        memcmp(c->subs + start + 2, name, nlen) != 0) {
        goto refuse;
    }
    for (i = c->subs_len - 8; i < c->subs_len; i++) {
        if (c->subs[i] != 0xff) {
            vms_error_set(err, VMS_E_CONVERT, c->subs_offset + start,
                          "vCPU %u: cpu/wfxt-timer is armed (a WFIT/WFET "
                          "wake-up is pending); the destination does not "
                          "know this subsection and leaving it out would "
                          "lose the wake-up: not repaired", c->instance_id);
            return -1;
        }
    }
    c->subs_len = start;
    free(c->sub_names[k]);
    c->n_subs--;
    return 0;
refuse:
    vms_error_set(err, VMS_E_CONVERT, c->subs_offset,
                  "vCPU %u: cpu/wfxt-timer is not the last subsection with "
                  "its 8 bytes; not repaired", c->instance_id);
    return -1;
}

static int repair_subs(struct vms_repair *rp, struct vms_armcpu *c,
                       struct vms_error *err)
{
    const char *rel = dest_release(rp);
    size_t k = c->n_subs;

    while (k-- > 0) {
        struct vms_repair_change *ch;
        int known = vms_release_knows_cpu_sub(rel, rp->env, c->sub_names[k]);

        if (known != 0) {
            continue;
        }
        if (strcmp(c->sub_names[k], "cpu/wfxt-timer") != 0) {
            vms_error_set(err, VMS_E_CONVERT, c->subs_offset,
                          "vCPU %u: QEMU %s does not know subsection %s "
                          "(the load fails with ENOENT) and vmstream cannot "
                          "prove its content is the default: not repaired",
                          c->instance_id, rel, c->sub_names[k]);
            return -1;
        }
        if (drop_wfxt(c, k, err) < 0) {
            return -1;
        }
        if (!(ch = add_change(rp, err))) {
            return -1;
        }
        ch->vcpu = c->instance_id;
        ch->action = VMS_REPAIR_DROP_SUB;
        snprintf(ch->name, sizeof(ch->name), "cpu/wfxt-timer");
        ch->observable = 0;
        snprintf(ch->why, sizeof(ch->why), "QEMU %s does not know it; the "
                 "timer was not armed (expiry -1), which is the default",
                 rel);
    }
    return 0;
}

int vms_repair_cpu(struct vms_repair *rp, struct vms_armcpu *c,
                   struct vms_error *err)
{
    const struct vms_profile *p = rp->dest;
    const char *rel = dest_release(rp), *src_rel;
    enum vms_cpreg_ctx ctx;
    uint64_t *ids, *vals;
    size_t i, n = p->n_regs;
    int32_t v;

    if (c->layout != 22 || c->value_idx || c->m != c->n) {
        vms_error_set_nooff(err, VMS_E_CONVERT, "vCPU %u: --repair works on "
                            "the v22 layout", c->instance_id);
        return -1;
    }
    for (v = 1; v < c->n; v++) {
        if (c->ids[v] <= c->ids[v - 1]) {
            vms_error_set(err, VMS_E_CONVERT, c->ids_offset + 8ull * v,
                          "vCPU %u: the register list is not sorted; no "
                          "QEMU writes that: not repaired", c->instance_id);
            return -1;
        }
    }
    {
        size_t r = 0, w = 0, again = 0;

        for (r = 0; r < rp->n; r++) {
            if (rp->changes[r].vcpu == c->instance_id) {
                again = 1;
            } else {
                rp->changes[w++] = rp->changes[r];
            }
        }
        rp->n = w;
        rp->vcpus += !again;
    }
    ctx = vms_cpreg_guess_ctx(c->ids, (size_t)c->n);
    src_rel = vms_release_of_cpu(c);
    ids = calloc(n + 1, sizeof(*ids));
    vals = calloc(n + 1, sizeof(*vals));
    if (!ids || !vals) {
        free(ids);
        free(vals);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    /* Registers only in the stream: left out. */
    for (v = 0; v < c->n; v++) {
        struct vms_repair_change *ch;
        unsigned shift;
        uint64_t st;

        if (vms_profile_find(p, c->ids[v], NULL)) {
            continue;
        }
        if (!(ch = add_change(rp, err))) {
            goto fail;
        }
        ch->vcpu = c->instance_id;
        ch->action = VMS_REPAIR_DROP;
        ch->has_reg = 1;
        ch->id = c->ids[v];
        vms_cpreg_name(ch->id, ctx, ch->name, sizeof(ch->name));
        ch->has_old = 1;
        ch->old_value = c->values[v];
        st = vms_profile_tcg_storage(ch->id, &shift);
        if (st != ch->id && vms_profile_find(p, st, NULL) &&
            find_in(c, st) >= 0) {
            char sn[VMS_CPREG_NAME_MAX];

            vms_cpreg_name(st, ctx, sn, sizeof(sn));
            ch->observable = 0;
            snprintf(ch->why, sizeof(ch->why), "not in QEMU %s's list; its "
                     "state is %s's, which the stream carries", rel, sn);
        } else if (src_rel[0] && vms_release_tcg_fixed(src_rel, ch->id)) {
            ch->observable = 0;
            snprintf(ch->why, sizeof(ch->why), "not in QEMU %s's list; "
                     "constant on the source (QEMU %s): no guest state is "
                     "lost", rel, src_rel);
        } else {
            ch->observable = 1;
            snprintf(ch->why, sizeof(ch->why), "not in QEMU %s's list: "
                     "the destination has no such register state", rel);
        }
    }
    for (i = 0; i < n; i++) {
        const struct vms_profile_reg *d = &p->regs[i];
        int32_t at = find_in(c, d->id);
        struct vms_repair_change *ch = NULL;
        int fixed = fixed_at_dest(rp, d);
        uint64_t dv = d->fixed ? d->value : d->has_own ? d->own : 0;

        ids[i] = d->id;
        if (at >= 0) {
            vals[i] = c->values[at];
            if (fixed && (vals[i] & size_mask(d->id)) !=
                             (dv & size_mask(d->id))) {
                if (!(ch = add_change(rp, err))) {
                    goto fail;
                }
                ch->action = VMS_REPAIR_SET;
                ch->has_old = 1;
                ch->old_value = vals[i];
                ch->observable = 1;
                snprintf(ch->why, sizeof(ch->why), "QEMU %s fixes it for "
                         "this CPU model: the guest reads the destination "
                         "CPU's value", rel);
                vals[i] = dv;
            }
        } else {
            unsigned shift;
            uint64_t st = vms_profile_tcg_storage(d->id, &shift);
            int32_t sat = st != d->id ? find_in(c, st) : -1;

            if (!(ch = add_change(rp, err))) {
                goto fail;
            }
            ch->action = VMS_REPAIR_ADD;
            if (!fixed && sat >= 0) {
                char sn[VMS_CPREG_NAME_MAX];

                /* A view of a register the stream carries: its value,
                 * which is what the destination re-saves anyway. */
                vals[i] = (c->values[sat] >> shift) & size_mask(d->id);
                vms_cpreg_name(st, ctx, sn, sizeof(sn));
                ch->observable = 0;
                snprintf(ch->why, sizeof(ch->why), "a view of %s, which "
                         "the stream carries: set from it", sn);
            } else {
                vals[i] = dv;
                ch->observable = !fixed;
                if (fixed) {
                    snprintf(ch->why, sizeof(ch->why), "constant on QEMU "
                             "%s: the destination's value", rel);
                } else {
                    snprintf(ch->why, sizeof(ch->why), "not in the "
                             "stream: set to QEMU %s's own value; any value "
                             "the guest had there is not carried", rel);
                }
            }
        }
        if (ch) {
            ch->vcpu = c->instance_id;
            ch->has_reg = 1;
            ch->id = d->id;
            vms_cpreg_name(d->id, ctx, ch->name, sizeof(ch->name));
            ch->has_new = 1;
            ch->new_value = vals[i];
        }
    }
    free(c->ids);
    free(c->values);
    c->ids = ids;
    c->values = vals;
    c->n = c->m = (int32_t)n;
    return repair_subs(rp, c, err);
fail:
    free(ids);
    free(vals);
    return -1;
}

int vms_repair_hook(void *opaque, const struct vms_stream *st,
                    struct vms_armcpu *c, struct vms_error *err)
{
    struct vms_repair *rp = opaque;

    if (!rp->machine_checked) {
        struct vms_dest_env tmp;
        const struct vms_dest_env *env = rp->env;

        rp->machine_checked = 1;
        if (!env) {
            vms_dest_env_init(&tmp);
            vms_dest_env_set_release(&tmp, dest_release(rp));
            env = &tmp;
        }
        if (st->has_config &&
            vms_release_machine_ok(st->machine, env, err) < 0) {
            return -1;
        }
    }
    return vms_repair_cpu(rp, c, err);
}

int vms_vmdesc_cpu_keep_subs(struct json_object *root, uint32_t instance,
                             const char *const *names, size_t n,
                             struct vms_error *err)
{
    json_object *devs, *subs;
    size_t i, k, len;

    if (!json_object_object_get_ex(root, "devices", &devs) ||
        !json_object_is_type(devs, json_type_array)) {
        vms_error_set_nooff(err, VMS_E_FORMAT, "vmdesc without devices");
        return -1;
    }
    len = json_object_array_length(devs);
    for (i = 0; i < len; i++) {
        json_object *d = json_object_array_get_idx(devs, i), *x, *ni;

        if (!json_object_object_get_ex(d, "name", &x) ||
            strcmp(json_object_get_string(x), "cpu") != 0 ||
            !json_object_object_get_ex(d, "instance_id", &ni) ||
            json_object_get_int64(ni) != (int64_t)instance) {
            continue;
        }
        if (!json_object_object_get_ex(d, "subsections", &subs) ||
            !json_object_is_type(subs, json_type_array)) {
            return 0;
        }
        for (k = json_object_array_length(subs); k-- > 0;) {
            json_object *sub = json_object_array_get_idx(subs, k), *vn;
            size_t j;
            int keep = 0;

            if (!json_object_object_get_ex(sub, "vmsd_name", &vn)) {
                continue;
            }
            for (j = 0; j < n; j++) {
                keep |= strcmp(names[j], json_object_get_string(vn)) == 0;
            }
            if (!keep) {
                json_object_array_del_idx(subs, k, 1);
            }
        }
        if (json_object_array_length(subs) == 0) {
            json_object_object_del(d, "subsections");
        }
        return 0;
    }
    return 0;
}
