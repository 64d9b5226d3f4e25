#include "config.h"
#include "layout.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "layout_table.h"

/* The builtin vmsds, built from the flat table on first use.  A build
 * that runs out of memory is undone and retried by the next lookup. */
static struct vms_vmsd *builtin;
static size_t n_builtin;
static int builtin_built;
static pthread_mutex_t builtin_mu = PTHREAD_MUTEX_INITIALIZER;

void vms_vmsd_fini(struct vms_vmsd *v)
{
    size_t i;

    for (i = 0; i < v->n_fields; i++) {
        free(v->fields[i].name);
        free(v->fields[i].type);
        if (v->fields[i].sub) {
            vms_vmsd_fini(v->fields[i].sub);
            free(v->fields[i].sub);
        }
    }
    for (i = 0; i < v->n_subs; i++) {
        vms_vmsd_fini(&v->subs[i]);
    }
    free(v->fields);
    free(v->subs);
    free(v->name);
    memset(v, 0, sizeof(*v));
}

/* Section name a builtin vmsd describes: "cpu@v22" -> "cpu". */
static size_t base_len(const char *name)
{
    const char *at = strchr(name, '@');

    return at ? (size_t)(at - name) : strlen(name);
}

static struct vms_vmsd *find_flat(const char *name)
{
    size_t i;

    for (i = 0; i < n_builtin; i++) {
        if (strcmp(builtin[i].name, name) == 0) {
            return &builtin[i];
        }
    }
    return NULL;
}

static int add_row(const struct vms_layout_row *r)
{
    struct vms_vmsd *v = find_flat(r->vmsd);
    struct vms_field *f;
    size_t i;

    if (!v) {
        struct vms_vmsd *nb = realloc(builtin,
                                      (n_builtin + 1) * sizeof(*builtin));

        if (!nb) {
            return -1;
        }
        builtin = nb;
        v = &builtin[n_builtin];
        memset(v, 0, sizeof(*v));
        if (!(v->name = strdup(r->vmsd))) {
            return -1;
        }
        n_builtin++;
        v->version = r->version;
    }
    f = realloc(v->fields, (v->n_fields + 1) * sizeof(*v->fields));
    if (!f) {
        return -1;
    }
    v->fields = f;
    f = &v->fields[v->n_fields++];
    memset(f, 0, sizeof(*f));
    f->name = strdup(r->field);
    f->type = strdup(r->type);
    if (!f->name || !f->type) {
        return -1;
    }
    f->size = r->size;
    f->count = r->count_from ? 0 : r->count;
    f->count_from = -1;
    for (i = 0; r->count_from && i + 1 < v->n_fields; i++) {
        if (strcmp(v->fields[i].name, r->count_from) == 0) {
            f->count_from = (int)i;
        }
    }
    return 0;
}

/* Attach copies of every vmsd "parent/x" (one more component) as subs. */
static int link_subs(struct vms_vmsd *parent, const char *pname)
{
    size_t i, plen = strlen(pname);

    for (i = 0; i < n_builtin; i++) {
        const char *n = builtin[i].name;

        if (strncmp(n, pname, plen) == 0 && n[plen] == '/' &&
            !strchr(n + plen + 1, '/')) {
            struct vms_vmsd *s = realloc(parent->subs,
                                         (parent->n_subs + 1) * sizeof(*s));

            if (!s) {
                return -1;
            }
            parent->subs = s;
            s = &parent->subs[parent->n_subs++];
            *s = builtin[i];     /* shallow: shares fields, never freed */
            s->subs = NULL;
            s->n_subs = 0;
            if (link_subs(s, n) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* Free the shallow sub copies link_subs made (not the fields they share). */
static void unlink_subs(struct vms_vmsd *v)
{
    size_t i;

    for (i = 0; i < v->n_subs; i++) {
        unlink_subs(&v->subs[i]);
    }
    free(v->subs);
    v->subs = NULL;
    v->n_subs = 0;
}

static void free_builtin(void)
{
    size_t k;

    for (k = 0; k < n_builtin; k++) {
        unlink_subs(&builtin[k]);
    }
    for (k = 0; k < n_builtin; k++) {
        vms_vmsd_fini(&builtin[k]);
    }
    free(builtin);
    builtin = NULL;
    n_builtin = 0;
}

static int build_builtin(void)
{
    unsigned i;
    size_t k, n_flat;

    for (i = 0; i < vms_layout_nrows; i++) {
        if (add_row(&vms_layout_rows[i]) < 0) {
            return -1;
        }
    }
    n_flat = n_builtin;
    for (k = 0; k < n_flat; k++) {
        char pname[64];
        size_t bl = base_len(builtin[k].name);

        if (strchr(builtin[k].name, '/') || bl >= sizeof(pname)) {
            continue;
        }
        memcpy(pname, builtin[k].name, bl);
        pname[bl] = '\0';
        if (link_subs(&builtin[k], pname) < 0) {
            return -1;
        }
    }
    return 0;
}

const struct vms_vmsd *vms_builtin_vmsd(const char *name,
                                       struct vms_error *err)
{
    int ok;

    pthread_mutex_lock(&builtin_mu);
    if (!builtin_built) {
        if (build_builtin() == 0) {
            builtin_built = 1;
        } else {
            free_builtin();
        }
    }
    ok = builtin_built;
    pthread_mutex_unlock(&builtin_mu);
    if (!ok) {
        vms_error_set_nooff(err, VMS_E_NOMEM,
                            "out of memory building the builtin layouts");
        return NULL;
    }
    if (strchr(name, '/')) {
        return NULL;
    }
    return find_flat(name);
}
