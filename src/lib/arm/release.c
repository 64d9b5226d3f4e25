/*
 * release.c - release-level destination rules (release.h).
 *
 * What each rule says QEMU does was run against real QEMU 7.2.22 and
 * 10.0.2 (doc/qemu-10.0.md, tests/integration/releases.sh):
 * - configuration section: "Machine type received is 'X' and local is
 *   'Y'" (EINVAL), and 7.2 cannot start -M virt-10.0 at all;
 * - a section version above the destination's: "savevm: unsupported
 *   version V for 'NAME' vD"; below its minimum: "incoming version_id V is
 *   too old for local minimum version_id M";
 * - an unknown subsection: ENOENT ("No such file or directory"), with no
 *   line naming it (QEMU 10.0's max sends cpu/wfxt-timer; 7.2 refuses it).
 */
#include "config.h"
#include "release.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_impl.h"
#include "src.h"

void vms_dest_env_init(struct vms_dest_env *e)
{
    memset(e, 0, sizeof(*e));
}

void vms_dest_env_fini(struct vms_dest_env *e)
{
    size_t i;

    for (i = 0; i < e->n_cpu_subs; i++) {
        free(e->cpu_subs[i]);
    }
    free(e->cpu_subs);
    free(e->secs);
    vms_vmstate_free(e->dump);
    memset(e, 0, sizeof(*e));
}

/* Top-level cpu subsections of vmstate_arm_cpu (target/arm/machine.c). */
static const char *const subs72[] = {
    "cpu/vfp", "cpu/iwmmxt", "cpu/m", "cpu/thumb2ee", "cpu/pmsav7-rnr",
    "cpu/pmsav7", "cpu/pmsav8", "cpu/m-security", "cpu/sve", "cpu/za",
    "cpu/serror", "cpu/irq-line-state", NULL,
};
/* Added since 7.2 (10.0's max always sends cpu/wfxt-timer). */
static const char *const subs100[] = {
    "cpu/wfxt-timer", "cpu/pmsav8r", NULL,
};

static int in_list(const char *const *l, const char *name)
{
    for (; *l; l++) {
        if (strcmp(*l, name) == 0) {
            return 1;
        }
    }
    return 0;
}

int vms_release_knows_cpu_sub(const char *release,
                              const struct vms_dest_env *env,
                              const char *name)
{
    size_t i;

    for (i = 0; env && i < env->n_cpu_subs; i++) {
        if (strcmp(env->cpu_subs[i], name) == 0) {
            return 1;
        }
    }
    if (!release || !release[0]) {
        return -1;
    }
    if (in_list(subs72, name)) {
        return 1;
    }
    if (strcmp(release, "7.2") == 0) {
        return 0;
    }
    if (strcmp(release, "10.0") == 0 && in_list(subs100, name)) {
        return 1;
    }
    return -1;
}

/* "X.Y" -> X * 1000 + Y; -1 if not a release number. */
static long release_num(const char *s)
{
    char *end;
    long a, b;

    if (!s || !s[0]) {
        return -1;
    }
    a = strtol(s, &end, 10);
    if (*end != '.') {
        return -1;
    }
    b = strtol(end + 1, &end, 10);
    if (*end != '\0' && *end != '+') {
        return -1;
    }
    /* "MAJOR.MINOR" of a real release; anything larger is not one (and
     * would overflow) */
    if (a < 0 || a > 100000 || b < 0 || b > 999) {
        return -1;
    }
    return a * 1000 + b;
}

int vms_release_has_machine(const char *release, const char *m)
{
    long r = release_num(release), v;
    const char *dash = strrchr(m, '-');

    if (r < 0 || !dash || dash == m) {
        return -1;
    }
    v = release_num(dash + 1);
    if (v < 0) {
        return -1;
    }
    return v <= r;
}

int vms_release_machine_ok(const char *sm, const struct vms_dest_env *env,
                           struct vms_error *err)
{
    if (env->release[0] && vms_release_has_machine(env->release, sm) == 0) {
        vms_error_set_nooff(err, VMS_E_CONVERT, "machine type '%s': QEMU %s "
                            "has no such machine (\"unsupported machine "
                            "type\"); no rewrite of the stream can change "
                            "the machine a VM runs on", sm, env->release);
        return -1;
    }
    if (env->machine[0] && strcmp(env->machine, sm) != 0) {
        vms_error_set_nooff(err, VMS_E_CONVERT, "machine type '%s' but the "
                            "destination runs '%s': QEMU refuses the "
                            "configuration section (\"Machine type received "
                            "is '%s' and local is '%s'\"); the machine "
                            "cannot be repaired", sm, env->machine, sm,
                            env->machine);
        return -1;
    }
    return 0;
}

static int add_str(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 1) * sizeof(**v));

    if (!nv) {
        return -1;
    }
    *v = nv;
    if (!(nv[*n] = strdup(s))) {
        return -1;
    }
    (*n)++;
    return 0;
}

int vms_dest_env_from_stream(struct vms_dest_env *e,
                             const struct vms_stream *st,
                             struct vms_error *err)
{
    size_t i, k;
    int first_cpu = 1;

    e->from = "stream";
    if (st->has_config) {
        snprintf(e->machine, sizeof(e->machine), "%s", st->machine);
    }
    e->secs = calloc(st->n_sections + 1, sizeof(*e->secs));
    if (!e->secs) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return -1;
    }
    e->has_secs = 1;
    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];
        struct vms_armcpu c;
        struct vms_error ce;

        if (s->type != VMS_REC_FULL && s->type != VMS_REC_START) {
            continue;
        }
        snprintf(e->secs[e->n_secs].name, sizeof(e->secs[0].name), "%s",
                 s->idstr);
        e->secs[e->n_secs++].version = s->version_id;
        if (strcmp(s->idstr, "cpu") != 0 || !s->bytes) {
            continue;
        }
        vms_error_clear(&ce);
        if (vms_armcpu_from_section(s, &c, &ce) == 0) {
            if (first_cpu && !e->release[0]) {
                snprintf(e->release, sizeof(e->release), "%s",
                         vms_release_of_cpu(&c));
            }
            first_cpu = 0;
            for (k = 0; k < c.n_subs; k++) {
                if (vms_release_knows_cpu_sub(NULL, e, c.sub_names[k]) != 1 &&
                    add_str(&e->cpu_subs, &e->n_cpu_subs,
                            c.sub_names[k]) < 0) {
                    vms_armcpu_fini(&c);
                    vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
                    return -1;
                }
            }
        }
        vms_armcpu_fini(&c);
    }
    return 0;
}

int vms_dest_env_from_path(struct vms_dest_env *e, const char *path,
                           struct vms_error *err)
{
    struct vms_stream st;
    struct vms_src *src;
    int rc = -1;

    vms_stream_init(&st);
    src = vms_src_open_path(path, err);
    if (!src) {
        return -1;
    }
    if (vms_stream_parse(src, NULL, &st, err) == 0) {
        rc = vms_dest_env_from_stream(e, &st, err);
    }
    vms_stream_fini(&st);
    vms_src_free(src);
    return rc;
}

int vms_dest_env_from_vmstate(struct vms_dest_env *e, const char *path,
                              struct vms_error *err)
{
    vms_vmstate_free(e->dump);
    e->dump = vms_vmstate_load(path, err);
    if (!e->dump) {
        return -1;
    }
    if (!e->from) {
        e->from = "dump-vmstate";
    }
    if (e->dump->machine[0]) {
        snprintf(e->machine, sizeof(e->machine), "%s", e->dump->machine);
    }
    return 0;
}

void vms_dest_env_set_release(struct vms_dest_env *e, const char *release)
{
    if (!e->release[0] && release) {
        snprintf(e->release, sizeof(e->release), "%s", release);
    }
}

static const char *vmsd_of(const char *idstr)
{
    const char *slash = strrchr(idstr, '/');

    return slash ? slash + 1 : idstr;
}

static void check_versions(struct check_ctx *x, const struct vms_stream *st,
                           const struct vms_dest_env *env)
{
    size_t i, k;

    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];
        const struct vms_vmstate_dev *d;

        if (s->type != VMS_REC_FULL && s->type != VMS_REC_START) {
            continue;
        }
        x->vcpu = -1;
        d = env->dump ? vms_vmstate_find(env->dump, vmsd_of(s->idstr))
                      : NULL;
        if (d && strcmp(s->idstr, "cpu") != 0) {
            if ((int64_t)s->version_id > d->version) {
                check_add(x, VMS_SEV_FATAL, 0, 0, s->offset,
                    "section %s version %u: the destination's is %d "
                    "(\"savevm: unsupported version %u for '%s' v%d\")",
                    s->idstr, s->version_id, d->version, s->version_id,
                    s->idstr, d->version);
            } else if ((int64_t)s->version_id < d->minimum) {
                check_add(x, VMS_SEV_FATAL, 0, 0, s->offset,
                    "section %s version %u is below the destination's "
                    "minimum %d (\"incoming version_id %u is too old for "
                    "local minimum version_id %d\")", s->idstr,
                    s->version_id, d->minimum, s->version_id, d->minimum);
            }
            if (st->vmdesc && s->vmdesc_dev >= 0 &&
                (size_t)s->vmdesc_dev < st->vmdesc->n_devs) {
                const struct vms_vmsd *v =
                    &st->vmdesc->devs[s->vmdesc_dev].vmsd;

                for (k = 0; k < v->n_subs; k++) {
                    if (!vms_vmstate_has_sub(d, v->subs[k].name)) {
                        check_add(x, VMS_SEV_FATAL, 0, 0, s->offset,
                            "section %s carries subsection %s, which the "
                            "destination does not know: the load fails "
                            "(\"No such file or directory\")", s->idstr,
                            v->subs[k].name);
                    }
                }
            }
        }
        if (env->has_secs) {
            int found = 0;

            for (k = 0; k < env->n_secs; k++) {
                if (strcmp(env->secs[k].name, s->idstr) != 0) {
                    continue;
                }
                found = 1;
                if (s->version_id > env->secs[k].version) {
                    check_add(x, VMS_SEV_FATAL, 0, 0, s->offset,
                        "section %s version %u: the destination saves "
                        "version %u (\"savevm: unsupported version %u for "
                        "'%s' v%u\")", s->idstr, s->version_id,
                        env->secs[k].version, s->version_id, s->idstr,
                        env->secs[k].version);
                } else if (s->version_id < env->secs[k].version) {
                    check_add(x, VMS_SEV_INFO, 0, 0, s->offset,
                        "section %s version %u, the destination's is %u: "
                        "it loads if that is not below the destination's "
                        "minimum (give --dest-vmstate to know it)",
                        s->idstr, s->version_id, env->secs[k].version);
                }
                break;
            }
            if (!found) {
                check_add(x, VMS_SEV_FATAL, 0, 0, s->offset,
                    "section %s: the destination's stream has none; QEMU "
                    "refuses a section it does not have (\"Unknown savevm "
                    "section or instance\")", s->idstr);
            }
        }
    }
}

static void check_cpu_subs(struct check_ctx *x, const struct vms_stream *st,
                           const struct vms_dest_env *env)
{
    size_t i, k;

    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];
        struct vms_armcpu c;
        struct vms_error e;

        if (strcmp(s->idstr, "cpu") != 0 || !s->bytes) {
            continue;
        }
        vms_error_clear(&e);
        if (vms_armcpu_from_section(s, &c, &e) < 0) {
            vms_armcpu_fini(&c);
            continue;       /* check_stream reports it */
        }
        x->vcpu = s->instance_id;
        for (k = 0; k < c.n_subs; k++) {
            int known = vms_release_knows_cpu_sub(env->release, env,
                                                  c.sub_names[k]);

            if (known == 0) {
                check_add(x, VMS_SEV_FATAL, 0, 0, c.subs_offset,
                    "subsection %s: QEMU %s does not know it, the load "
                    "fails (\"No such file or directory\", no line naming "
                    "it)%s", c.sub_names[k], env->release,
                    strcmp(c.sub_names[k], "cpu/wfxt-timer") == 0
                        ? "; convert --repair leaves it out when the timer "
                          "is not armed"
                        : "");
            } else if (known < 0) {
                check_add(x, VMS_SEV_INFO, 0, 0, c.subs_offset,
                    "subsection %s: whether the destination knows it is "
                    "not known to vmstream", c.sub_names[k]);
            }
        }
        vms_armcpu_fini(&c);
    }
}

void vms_check_release(const struct vms_stream *st,
                       const struct vms_dest_env *env,
                       struct vms_check_result *r)
{
    struct check_ctx x = { r, -1, VMS_CPREG_TCG };
    struct vms_error e;

    if (st->has_config) {
        vms_error_clear(&e);
        if (vms_release_machine_ok(st->machine, env, &e) < 0) {
            check_add(&x, VMS_SEV_FATAL, 0, 0, 0, "%s", e.msg);
        } else if (!env->machine[0]) {
            check_add(&x, VMS_SEV_INFO, 0, 0, 0, "machine type '%s': the "
                      "destination's is not known (--dest-stream or "
                      "--dest-vmstate tell it); QEMU refuses another one",
                      st->machine);
        }
    }
    check_versions(&x, st, env);
    if (env->release[0]) {
        check_cpu_subs(&x, st, env);
    }
}
