#include "config.h"
#include "layout.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "layout_table.h"

/* The builtin vmsds, built once from the flat table. */
static struct vms_vmsd *builtin;
static size_t n_builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

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

static void add_row(const struct vms_layout_row *r)
{
    struct vms_vmsd *v = find_flat(r->vmsd);
    struct vms_field *f;
    size_t i;

    if (!v) {
        builtin = realloc(builtin, (n_builtin + 1) * sizeof(*builtin));
        v = &builtin[n_builtin++];
        memset(v, 0, sizeof(*v));
        v->name = strdup(r->vmsd);
        v->version = r->version;
    }
    v->fields = realloc(v->fields, (v->n_fields + 1) * sizeof(*v->fields));
    f = &v->fields[v->n_fields++];
    memset(f, 0, sizeof(*f));
    f->name = strdup(r->field);
    f->type = strdup(r->type);
    f->size = r->size;
    f->count = r->count_from ? 0 : r->count;
    f->count_from = -1;
    for (i = 0; r->count_from && i + 1 < v->n_fields; i++) {
        if (strcmp(v->fields[i].name, r->count_from) == 0) {
            f->count_from = (int)i;
        }
    }
}

/* Attach copies of every vmsd "parent/x" (one more component) as subs. */
static void link_subs(struct vms_vmsd *parent, const char *pname)
{
    size_t i, plen = strlen(pname);

    for (i = 0; i < n_builtin; i++) {
        const char *n = builtin[i].name;

        if (strncmp(n, pname, plen) == 0 && n[plen] == '/' &&
            !strchr(n + plen + 1, '/')) {
            struct vms_vmsd *s;

            parent->subs = realloc(parent->subs,
                                   (parent->n_subs + 1) * sizeof(*s));
            s = &parent->subs[parent->n_subs++];
            *s = builtin[i];     /* shallow: shares fields, never freed */
            s->subs = NULL;
            s->n_subs = 0;
            link_subs(s, n);
        }
    }
}

static void build_builtin(void)
{
    unsigned i;
    size_t k, n_flat;

    for (i = 0; i < vms_layout_nrows; i++) {
        add_row(&vms_layout_rows[i]);
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
        link_subs(&builtin[k], pname);
    }
}

const struct vms_vmsd *vms_builtin_vmsd(const char *name)
{
    pthread_once(&builtin_once, build_builtin);
    if (strchr(name, '/')) {
        return NULL;
    }
    return find_flat(name);
}
