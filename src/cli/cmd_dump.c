#include "config.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "layout.h"
#include "wire.h"

struct args {
    int json;
    struct cli_list sections;
};

static const struct cli_opt opts[] = {
    CLI_OPT_FLAG("json", 'j', "machine-readable output", struct args, json,
                 1),
    CLI_OPT_LIST("section", 's', "NAME[:INSTANCE]", "only this section "
                 "(repeatable)", struct args, sections),
    CLI_OPT_END,
};

static const struct cli_spec spec = {
    .name = "dump",
    .usage = "[--json] [--section NAME[:INSTANCE]]... STREAM",
    .about = "Decode the device state of STREAM field by field, as the "
             "vmdesc names the fields\n(or the builtin layout of cpu and "
             "cpu_common when the stream has no vmdesc).\nRAM is not dumped; "
             "see 'vmstream info' for its blocks.",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .args_error = "expected one STREAM",
};

enum { MAX_FILTERS = CLI_LIST_MAX };

struct filter {
    const char *name;
    long instance;      /* -1: any */
};

struct dump {
    int json;
    json_object *stack[VMS_MAX_NESTING + 4];  /* "fields" arrays */
    json_object *subs[VMS_MAX_NESTING + 4];   /* "subsections" arrays */
    int top;
};

static int is_int_type(const char *t, uint32_t size)
{
    static const char *const ints[] = {
        "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
        "uint64", "int32 le", "int32 equal", "uint32 equal", "uint8 equal",
        "uint16 equal", "int64 equal", "timer", "cpsr", "fpscr", "fpcr",
        "fpsr", "pstate64", "powered_off", "bool", "uint64 equal", NULL,
    };
    int i;

    for (i = 0; ints[i]; i++) {
        if (strcmp(t, ints[i]) == 0) {
            return size == 1 || size == 2 || size == 4 || size == 8;
        }
    }
    return 0;
}

static uint64_t get_be(const uint8_t *p, uint32_t size)
{
    uint64_t v = 0;
    uint32_t i;

    for (i = 0; i < size; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void print_hex_bytes(const uint8_t *p, size_t n)
{
    size_t i, shown = n > 64 ? 64 : n;

    for (i = 0; i < shown; i++) {
        printf("%02x", p[i]);
    }
    if (shown < n) {
        printf("... (%zu bytes)", n);
    }
}

static json_object *hex_bytes(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 1);
    size_t i;
    json_object *o;

    for (i = 0; i < n; i++) {
        snprintf(s + 2 * i, 3, "%02x", p[i]);
    }
    s[2 * n] = '\0';
    o = json_object_new_string(s);
    free(s);
    return o;
}

static json_object *int_value(const char *type, uint64_t v)
{
    if (strcmp(type, "bool") == 0) {
        return json_object_new_boolean(v != 0);
    }
    return cli_json_hex(v);
}

static int on_field(void *opaque, const struct vms_walk_field *f)
{
    struct dump *d = opaque;
    const char *type = f->field->type;
    int integer = is_int_type(type, f->elem_size) && !f->field->sub;
    uint32_t i;

    if (d->json) {
        json_object *o = json_object_new_object(), *val;

        json_object_object_add(o, "name",
                               json_object_new_string(f->field->name));
        json_object_object_add(o, "type", json_object_new_string(type));
        json_object_object_add(o, "offset",
                               json_object_new_int64((int64_t)f->offset));
        if (f->field->has_index) {
            json_object_object_add(o, "index",
                                   json_object_new_int64(f->field->index));
        }
        if (integer) {
            if (f->count == 1 && !f->field->has_index &&
                f->field->count == 1 && f->field->count_from < 0) {
                val = int_value(type, get_be(f->data, f->elem_size));
            } else {
                val = json_object_new_array();
                for (i = 0; i < f->count; i++) {
                    json_object_array_add(val, int_value(type,
                        get_be(f->data + (size_t)i * f->elem_size,
                               f->elem_size)));
                }
            }
        } else {
            val = hex_bytes(f->data, (size_t)f->count * f->elem_size);
        }
        json_object_object_add(o, "value", val);
        json_object_array_add(d->stack[d->top], o);
        return 0;
    }
    printf("%*s%s", 2 + 2 * d->top, "", f->field->name);
    if (f->field->has_index) {
        printf("[%u]", f->field->index);
    } else if (f->count != 1 || f->field->count_from >= 0) {
        printf("[%u]", f->count);
    }
    printf(" (%s, %u bytes @%" PRIu64 ") =", type, f->elem_size, f->offset);
    if (integer) {
        for (i = 0; i < f->count; i++) {
            printf(" 0x%" PRIx64, get_be(f->data + (size_t)i * f->elem_size,
                                          f->elem_size));
        }
    } else {
        printf(" ");
        print_hex_bytes(f->data, (size_t)f->count * f->elem_size);
    }
    printf("\n");
    return 0;
}

static int on_sub(void *opaque, const struct vms_walk_sub *s)
{
    struct dump *d = opaque;

    if (d->top + 1 >= (int)(sizeof(d->stack) / sizeof(d->stack[0]))) {
        return -1;
    }
    if (d->json) {
        json_object *o = json_object_new_object();
        json_object *fields = json_object_new_array();
        json_object *subs = json_object_new_array();

        json_object_object_add(o, "name", json_object_new_string(s->name));
        json_object_object_add(o, "version",
                               json_object_new_int64(s->version));
        json_object_object_add(o, "offset",
                               json_object_new_int64((int64_t)s->offset));
        json_object_object_add(o, "fields", fields);
        json_object_object_add(o, "subsections", subs);
        json_object_array_add(d->subs[d->top], o);
        d->top++;
        d->stack[d->top] = fields;
        d->subs[d->top] = subs;
        return 0;
    }
    printf("%*ssubsection %s v%u @%" PRIu64 "\n", 2 + 2 * d->top, "",
           s->name, s->version, s->offset);
    d->top++;
    return 0;
}

static int on_sub_end(void *opaque, const struct vms_walk_sub *s)
{
    struct dump *d = opaque;

    d->top--;
    return 0;
}

static int wanted(const struct vms_section *s, const struct filter *f,
                  int nf)
{
    int i;

    if (nf == 0) {
        return 1;
    }
    for (i = 0; i < nf; i++) {
        if (strcmp(f[i].name, s->idstr) == 0 &&
            (f[i].instance < 0 || f[i].instance == (long)s->instance_id)) {
            return 1;
        }
    }
    return 0;
}

static int dump_section(const struct vms_section *s, struct dump *d,
                        json_object *list, struct vms_error *err)
{
    static const struct vms_walk_ops ops = { on_field, on_sub, on_sub_end };
    const uint8_t *body = vms_section_body(s);
    json_object *o = NULL;
    size_t used;
    int rc = 0;

    if (d->json) {
        o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(s->idstr));
        json_object_object_add(o, "instance",
                               json_object_new_int64(s->instance_id));
        json_object_object_add(o, "version",
                               json_object_new_int64(s->version_id));
        json_object_object_add(o, "offset",
                               json_object_new_int64((int64_t)s->offset));
        json_object_object_add(o, "delimited_by", json_object_new_string(
            cli_delim_name(s->delim)));
        json_object_array_add(list, o);
    } else {
        printf("%s#%u (id %u, version %u, %" PRIu64 " bytes @%" PRIu64
               ", %s)\n", s->idstr, s->instance_id, s->section_id,
               s->version_id, s->length, s->offset,
               s->delim == VMS_DELIM_VMDESC ? "fields from the vmdesc"
               : s->delim == VMS_DELIM_BUILTIN ? "builtin layout"
                                               : "no layout: delimited by "
                                                 "its footer");
    }
    if (!s->layout) {
        if (d->json) {
            json_object_object_add(o, "raw", hex_bytes(body,
                                                       (size_t)s->body_len));
        } else {
            printf("  raw: ");
            print_hex_bytes(body, (size_t)s->body_len);
            printf("\n");
        }
        return 0;
    }
    d->top = 0;
    if (d->json) {
        d->stack[0] = json_object_new_array();
        d->subs[0] = json_object_new_array();
        json_object_object_add(o, "fields", d->stack[0]);
        json_object_object_add(o, "subsections", d->subs[0]);
    }
    rc = vms_walk(s->layout, body, (size_t)s->body_len, s->body_offset,
                  s->delim == VMS_DELIM_BUILTIN, &ops, d, &used, err);
    if (rc < 0) {
        vms_error_section(err, s->idstr, s->section_id, s->instance_id);
    }
    return rc;
}

int cmd_dump(int argc, char **argv)
{
    struct args a;
    struct filter filters[MAX_FILTERS];
    struct dump d = { 0 };
    struct cli_stream cs;
    json_object *root = NULL, *list = NULL;
    int nf = 0, arg, rc, matched = 0;
    size_t i;

    memset(&a, 0, sizeof(a));
    arg = cli_parse(&spec, argc, argv, &a);
    if (arg < 0) {
        return cli_stop_code(arg);
    }
    d.json = a.json;
    for (i = 0; i < a.sections.n; i++) {
        char *sec = a.sections.v[i], *colon = strrchr(sec, ':');

        filters[nf].name = sec;
        filters[nf].instance = -1;
        if (colon && colon[1] && strspn(colon + 1, "0123456789") ==
                                     strlen(colon + 1)) {
            *colon = '\0';
            filters[nf].instance = strtol(colon + 1, NULL, 10);
        }
        nf++;
    }
    rc = cli_load(&cs, argv[arg], NULL);
    if (rc) {
        cli_close(&cs);
        return rc;
    }
    if (d.json) {
        root = json_object_new_object();
        list = json_object_new_array();
        json_object_object_add(root, "vmdesc",
                               json_object_new_boolean(cs.st.has_vmdesc));
        json_object_object_add(root, "sections", list);
    }
    for (i = 0; i < cs.st.n_sections && rc == 0; i++) {
        const struct vms_section *s = &cs.st.sections[i];

        if (!s->bytes || !wanted(s, filters, nf)) {
            continue;
        }
        matched++;
        if (dump_section(s, &d, list, &cs.err) < 0) {
            rc = cli_report(cs.path, &cs.err);
        }
    }
    if (d.json) {
        cli_print_json(root);
        json_object_put(root);
    }
    if (rc == 0 && nf && !matched) {
        fprintf(stderr, "%s dump: no section matches the --section "
                "filter\n", cli_progname);
        rc = CLI_EXIT_USAGE;
    }
    cli_close(&cs);
    return rc;
}
