#include "config.h"
#include "profile.h"
#include "release.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cpuarch.h"
#include "armcpu.h"
#include "src.h"
#include "stream.h"
#include "vcpus.h"

struct vms_builtin_profile {
    const char *name;
    const char *text;
};
extern const struct vms_builtin_profile vms_builtin_profiles[];
extern const uint64_t vms_tcg_const_ids[];
extern const unsigned vms_tcg_const_nids;
extern const uint64_t vms_tcg_mask_ids[], vms_tcg_mask_bits[];
extern const unsigned vms_tcg_mask_nids;
extern const uint64_t vms_tcg_alias_ids[], vms_tcg_alias_storage[];
extern const uint64_t vms_tcg_alias_shift[];
extern const unsigned vms_tcg_alias_nids;

#define PROFILE_MAX_BYTES (4u << 20)

void vms_profile_free(struct vms_profile *p)
{
    if (p) {
        free(p->regs);
        free(p);
    }
}

/* Index of id in a sorted array, or -1. */
static long find_sorted(const uint64_t *ids, unsigned n, uint64_t id)
{
    unsigned lo = 0, hi = n;

    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;

        if (ids[mid] == id) {
            return (long)mid;
        }
        if (ids[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

int vms_profile_tcg_fixed(uint64_t id)
{
    return find_sorted(vms_tcg_const_ids, vms_tcg_const_nids, id) >= 0;
}

uint64_t vms_profile_tcg_dropped_bits(uint64_t id)
{
    long i = find_sorted(vms_tcg_mask_ids, vms_tcg_mask_nids, id);

    return i >= 0 ? vms_tcg_mask_bits[i] : 0;
}

const char *vms_absent_name(enum vms_absent a)
{
    switch (a) {
    case VMS_ABSENT_ZERO: return "zero";
    case VMS_ABSENT_RESET: return "reset";
    case VMS_ABSENT_UNDEFINED: return "undefined";
    }
    return "?";
}

enum vms_absent vms_absent_default(enum vms_cpreg_ctx accel)
{
    return accel == VMS_CPREG_KVM ? VMS_ABSENT_RESET : VMS_ABSENT_ZERO;
}

int vms_profile_find(const struct vms_profile *p, uint64_t id,
                     const struct vms_profile_reg **reg)
{
    size_t lo = 0, hi = p->n_regs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (p->regs[mid].id == id) {
            if (reg) {
                *reg = &p->regs[mid];
            }
            return 1;
        }
        if (p->regs[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return 0;
}

uint64_t vms_profile_tcg_storage(uint64_t id, unsigned *shift)
{
    long i;

    /* kvm_to_cpreg_id() sets the NS bit of every AArch32 id. */
    if (vms_cpreg_is_aarch32(id)) {
        id |= VMS_CPREG_AA32_QEMU_NS;
    }
    i = find_sorted(vms_tcg_alias_ids, vms_tcg_alias_nids, id);
    *shift = i >= 0 ? (unsigned)vms_tcg_alias_shift[i] : 0;
    return i >= 0 ? vms_tcg_alias_storage[i] : id;
}

const char *const *vms_profile_builtin_names(void)
{
    static const char *names[64];
    size_t i;

    for (i = 0; vms_builtin_profiles[i].name && i < 63; i++) {
        names[i] = vms_builtin_profiles[i].name;
    }
    names[i] = NULL;
    return names;
}

/* AArch32 ACTLR, NSACR and WFAR are constant on v8 CPUs under TCG (writes
 * ignored) but writable on v7 ones such as cortex-a15. */
static int v8_only_fixed(uint64_t id)
{
    return id == UINT64_C(0x40200000200f0801) ||
           id == UINT64_C(0x40200000200f0882) ||
           id == UINT64_C(0x40200000200f3001);
}

static int is_v8(const struct vms_armcpu *c)
{
    int32_t v;

    for (v = 0; v < c->n; v++) {
        if (c->ids[v] == UINT64_C(0x603000000013c030)) {  /* ID_AA64ISAR0 */
            return 1;
        }
    }
    return 0;
}

struct vms_profile *vms_profile_from_cpu(const struct vms_armcpu *c,
                                         const char *name,
                                         struct vms_error *err)
{
    struct vms_profile *p = calloc(1, sizeof(*p));
    int32_t v;
    int v8 = is_v8(c);

    if (!p || !(p->regs = calloc((size_t)c->n + 1, sizeof(*p->regs)))) {
        free(p);
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->layout = c->layout;
    p->accel = vms_cpreg_guess_ctx(c->ids, (size_t)c->n);
    p->absent = vms_absent_default(p->accel);
    /* The release the list comes from (release_regs.c); QEMU 10.0 TCG
     * leaves a register the stream lacks with leftover memory
     * (doc/qemu-10.0.md section 5). */
    snprintf(p->release, sizeof(p->release), "%s", vms_release_of_cpu(c));
    if (p->accel == VMS_CPREG_TCG && strcmp(p->release, "10.0") == 0) {
        p->absent = VMS_ABSENT_UNDEFINED;
    }
    p->count = c->n;
    p->slots = c->m;
    for (v = 0; v < c->n; v++) {
        struct vms_profile_reg *r = &p->regs[v];

        r->id = c->ids[v];
        r->size = vms_cpreg_size(r->id);
        /* TCG: what QEMU 7.2 really refuses (a v7 MIDR, say, reads back
         * whatever is written); KVM: the invariant ID registers. */
        r->fixed = p->accel == VMS_CPREG_TCG
                       ? vms_release_tcg_fixed(p->release, r->id) ||
                             (v8 && v8_only_fixed(r->id))
                       : vms_cpreg_is_id_register(r->id);
        r->value = vms_armcpu_value(c, v);
        r->has_own = 1;
        r->own = r->value;
    }
    p->n_regs = (size_t)c->n;
    return p;
}

struct vms_profile *vms_profile_from_stream(const char *path,
                                            const struct vms_twin *twin,
                                            struct vms_error *err)
{
    struct vms_stream st;
    struct vms_src *src;
    struct vms_profile *p = NULL;
    int rc;

    vms_stream_init(&st);
    src = vms_src_open_path(path, err);
    if (!src) {
        return NULL;
    }
    {
        struct vms_parse_opts po;

        memset(&po, 0, sizeof(po));
        po.twin = twin;
        rc = vms_stream_parse(src, &po, &st, err);
    }
    if (rc == 0) {
        struct vms_vcpus it;

        /* The first vCPU: a profile describes the cpu model, which every
         * vCPU of a machine shares. */
        vms_vcpus_init(&it, &st);
        if (vms_vcpus_next(&it)) {
            if (it.ok) {
                p = vms_profile_from_cpu(&it.cpu, path, err);
            } else if (!vms_error_isset(err)) {
                vms_error_adopt(err, &it.err);
            }
        }
        vms_vcpus_fini(&it);
        if (!p && !vms_error_isset(err)) {
            vms_error_set_nooff(err, VMS_E_FORMAT, "%s has no Arm cpu "
                                "section to take a profile from", path);
        }
    }
    vms_stream_fini(&st);
    vms_src_free(src);
    return p;
}

int vms_profile_write(const struct vms_profile *p, FILE *f)
{
    size_t i;

    fprintf(f, "# vmstream destination profile (see doc/profile.md)\n"
               "vmstream-profile 2\n"
               "name %s\n",
            p->name);
    if (p->release[0]) {
        fprintf(f, "release %s\n", p->release);
    }
    fprintf(f, "layout v%d\n"
               "accel %s\n"
               "absent %s\n"
               "registers %d\n"
               "slots %d\n"
               "# reg  id  size  fixed-value|-  own-value|-  name\n",
            p->layout, p->accel == VMS_CPREG_KVM ? "kvm" : "tcg",
            vms_absent_name(p->absent), p->count, p->slots);
    for (i = 0; i < p->n_regs; i++) {
        const struct vms_profile_reg *r = &p->regs[i];
        char name[VMS_CPREG_NAME_MAX], val[24] = "-", own[24] = "-";

        vms_cpreg_name(r->id, p->accel, name, sizeof(name));
        if (r->fixed) {
            snprintf(val, sizeof(val), "0x%" PRIx64, r->value);
        }
        if (r->has_own) {
            snprintf(own, sizeof(own), "0x%" PRIx64, r->own);
        }
        fprintf(f, "reg 0x%016" PRIx64 " %u %s %s %s\n", r->id, r->size,
                val, own, name);
    }
    return ferror(f) ? -1 : 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;

    errno = 0;
    *v = strtoull(s, &end, 0);
    return errno || end == s || *end ? -1 : 0;
}

struct vms_profile *vms_profile_parse(const char *text, size_t len,
                                      const char *origin,
                                      struct vms_error *err)
{
    struct vms_profile *p = calloc(1, sizeof(*p));
    size_t pos = 0, cap = 0, line = 0;
    int version = 0, have_absent = 0;

    if (!p) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    p->layout = 22;
    while (pos < len) {
        char buf[512], *tok[7], *save = NULL;
        size_t e = pos, n;
        int nt = 0;

        while (e < len && text[e] != '\n') {
            e++;
        }
        line++;
        n = e - pos < sizeof(buf) - 1 ? e - pos : sizeof(buf) - 1;
        memcpy(buf, text + pos, n);
        buf[n] = '\0';
        pos = e + 1;
        if (buf[0] == '#' || strspn(buf, " \t\r") == n) {
            continue;
        }
        for (tok[nt] = strtok_r(buf, " \t\r", &save); tok[nt] && nt < 6;
             tok[++nt] = strtok_r(NULL, " \t\r", &save)) {
        }
        if (!tok[0]) {
            goto bad;       /* a NUL byte before any word */
        }
        if (strcmp(tok[0], "vmstream-profile") == 0 && nt >= 2) {
            version = strcmp(tok[1], "1") == 0   ? 1
                      : strcmp(tok[1], "2") == 0 ? 2
                                                 : 0;
        } else if (strcmp(tok[0], "name") == 0 && nt >= 2) {
            snprintf(p->name, sizeof(p->name), "%s", tok[1]);
        } else if (strcmp(tok[0], "release") == 0 && nt >= 2) {
            snprintf(p->release, sizeof(p->release), "%s", tok[1]);
        } else if (strcmp(tok[0], "absent") == 0 && nt >= 2 &&
                   (!strcmp(tok[1], "zero") || !strcmp(tok[1], "reset") ||
                    !strcmp(tok[1], "undefined"))) {
            p->absent = tok[1][0] == 'z'   ? VMS_ABSENT_ZERO
                        : tok[1][0] == 'r' ? VMS_ABSENT_RESET
                                           : VMS_ABSENT_UNDEFINED;
            have_absent = 1;
        } else if (strcmp(tok[0], "layout") == 0 && nt >= 2 &&
                   (!strcmp(tok[1], "v22") || !strcmp(tok[1], "v23"))) {
            p->layout = tok[1][2] == '2' ? 22 : 23;
        } else if (strcmp(tok[0], "accel") == 0 && nt >= 2 &&
                   (!strcmp(tok[1], "tcg") || !strcmp(tok[1], "kvm"))) {
            p->accel = strcmp(tok[1], "kvm") == 0 ? VMS_CPREG_KVM
                                                  : VMS_CPREG_TCG;
        } else if ((strcmp(tok[0], "registers") == 0 ||
                    strcmp(tok[0], "slots") == 0) && nt >= 2) {
            uint64_t v;

            if (parse_u64(tok[1], &v) < 0 || v > VMS_MAX_CPREG_SLOTS) {
                goto bad;
            }
            if (tok[0][0] == 'r') {
                p->count = (int32_t)v;
            } else {
                p->slots = (int32_t)v;
            }
        } else if (strcmp(tok[0], "reg") == 0 &&
                   nt >= (version >= 2 ? 5 : 4)) {
            struct vms_profile_reg r = { 0 };
            uint64_t size;

            if (parse_u64(tok[1], &r.id) < 0 ||
                parse_u64(tok[2], &size) < 0 || size > 256) {
                goto bad;
            }
            r.size = (uint32_t)size;
            if (strcmp(tok[3], "-") != 0) {
                if (parse_u64(tok[3], &r.value) < 0) {
                    goto bad;
                }
                r.fixed = 1;
            }
            /* Version 2: the destination's own value (or -). */
            if (version >= 2 && strcmp(tok[4], "-") != 0) {
                if (parse_u64(tok[4], &r.own) < 0) {
                    goto bad;
                }
                r.has_own = 1;
            } else if (r.fixed) {
                r.has_own = 1;
                r.own = r.value;
            }
            if (p->n_regs && r.id <= p->regs[p->n_regs - 1].id) {
                vms_error_set_nooff(err, VMS_E_USAGE, "%s:%zu: register "
                                    "ids must be strictly ascending",
                                    origin, line);
                vms_profile_free(p);
                return NULL;
            }
            if (p->n_regs == cap) {
                struct vms_profile_reg *nr;

                cap = cap ? cap * 2 : 256;
                if (cap > VMS_MAX_CPREGS) {
                    goto bad;
                }
                if (!(nr = realloc(p->regs, cap * sizeof(*nr)))) {
                    vms_error_set_nooff(err, VMS_E_NOMEM, "%s:%zu: out of "
                                        "memory", origin, line);
                    vms_profile_free(p);
                    return NULL;
                }
                p->regs = nr;
            }
            p->regs[p->n_regs++] = r;
        } else {
            goto bad;
        }
    }
    if (!version) {
        vms_error_set_nooff(err, VMS_E_USAGE, "%s is not a vmstream "
                            "profile (no 'vmstream-profile 1' or "
                            "'vmstream-profile 2' line)", origin);
        vms_profile_free(p);
        return NULL;
    }
    if (!have_absent) {
        p->absent = vms_absent_default(p->accel);
    }
    if (p->count == 0) {
        p->count = (int32_t)p->n_regs;
    }
    if (p->slots == 0) {
        p->slots = p->count;
    }
    if (!p->name[0]) {
        snprintf(p->name, sizeof(p->name), "%s", origin);
    }
    return p;
bad:
    vms_error_set_nooff(err, VMS_E_USAGE, "%s:%zu: cannot read this line "
                        "of the profile", origin, line);
    vms_profile_free(p);
    return NULL;
}

struct vms_profile *vms_profile_load(const char *name, struct vms_error *err)
{
    size_t i;
    FILE *f;
    char *text;
    size_t len;
    struct vms_profile *p;

    for (i = 0; vms_builtin_profiles[i].name; i++) {
        if (strcmp(vms_builtin_profiles[i].name, name) == 0) {
            return vms_profile_parse(vms_builtin_profiles[i].text,
                                     strlen(vms_builtin_profiles[i].text),
                                     name, err);
        }
    }
    f = fopen(name, "rb");
    if (!f) {
        vms_error_set_errno(err, errno, "'%s' is neither a builtin profile "
                            "(see 'vmstream profile --list') nor a readable "
                            "file", name);
        return NULL;
    }
    text = malloc(PROFILE_MAX_BYTES);
    len = text ? fread(text, 1, PROFILE_MAX_BYTES, f) : 0;
    fclose(f);
    if (!text) {
        vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
        return NULL;
    }
    if (len == PROFILE_MAX_BYTES) {
        free(text);
        vms_error_set_nooff(err, VMS_E_LIMIT, "%s: profile larger than %u "
                            "bytes", name, PROFILE_MAX_BYTES);
        return NULL;
    }
    p = vms_profile_parse(text, len, name, err);
    free(text);
    return p;
}
