#include "config.h"
#include "vcpus.h"
#include "cpuarch.h"

#include <stdlib.h>
#include <string.h>

/* First error wins: copy src into dst only while dst is clear. */
static void latch(struct vms_error *dst, const struct vms_error *src)
{
    if (!vms_error_isset(dst) && vms_error_isset(src)) {
        *dst = *src;
    }
}

void vms_vcpus_init(struct vms_vcpus *it, const struct vms_stream *st)
{
    memset(it, 0, sizeof(*it));
    it->st = st;
    it->only = -1;
    vms_error_clear(&it->err);
    vms_error_clear(&it->first);
}

void vms_vcpus_only(struct vms_vcpus *it, long instance)
{
    it->only = instance;
}

static void drop_current(struct vms_vcpus *it)
{
    if (it->section) {
        vms_armcpu_fini(&it->cpu);
        it->section = NULL;
    }
    it->ok = 0;
}

int vms_vcpus_next(struct vms_vcpus *it)
{
    drop_current(it);
    while (it->st && it->next < it->st->n_sections) {
        const struct vms_section *s = &it->st->sections[it->next++];

        if (!s->bytes || !vms_section_is_arm_cpu(it->st, s) ||
            (it->only >= 0 && s->instance_id != (uint64_t)it->only)) {
            continue;
        }
        it->section = s;
        it->count++;
        vms_error_clear(&it->err);
        it->ok = vms_armcpu_from_section(s, &it->cpu, &it->err) == 0;
        it->cpu.instance_id = s->instance_id;
        if (!it->ok) {
            it->failed++;
            latch(&it->first, &it->err);
        }
        return 1;
    }
    return 0;
}

void vms_vcpus_take(struct vms_vcpus *it, struct vms_armcpu *out)
{
    *out = it->cpu;
    memset(&it->cpu, 0, sizeof(it->cpu));
    it->section = NULL;
    it->ok = 0;
}

void vms_vcpus_fini(struct vms_vcpus *it)
{
    drop_current(it);
}

static int cmp_cpu(const void *a, const void *b)
{
    const struct vms_armcpu *x = a, *y = b;

    return x->instance_id < y->instance_id ? -1
           : x->instance_id > y->instance_id;
}

void vms_vcpus_free(struct vms_armcpu *cpus, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        vms_armcpu_fini(&cpus[i]);
    }
    free(cpus);
}

int vms_vcpus_collect(const struct vms_stream *st, long instance,
                      struct vms_armcpu **out, size_t *n,
                      struct vms_error *err)
{
    struct vms_armcpu *v = NULL, *nv;
    struct vms_vcpus it;
    size_t k = 0;
    int rc = 0;

    *out = NULL;
    *n = 0;
    vms_vcpus_init(&it, st);
    vms_vcpus_only(&it, instance);
    while (vms_vcpus_next(&it)) {
        if (!it.ok) {
            latch(err, &it.err);
            rc = -1;
            break;
        }
        nv = realloc(v, (k + 1) * sizeof(*v));
        if (!nv) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            rc = -1;
            break;
        }
        v = nv;
        vms_vcpus_take(&it, &v[k++]);
    }
    vms_vcpus_fini(&it);
    if (rc < 0) {
        vms_vcpus_free(v, k);
        return -1;
    }
    if (k > 1) {
        qsort(v, k, sizeof(*v), cmp_cpu);
    }
    *out = v;
    *n = k;
    return 0;
}
