#include "config.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "armcpu.h"
#include "cli.h"
#include "cli_opts.h"
#include "src.h"
#include "wire.h"

struct args {
    int json, hash_ram;
    uint32_t page_size;
};

/* QEMU's target page sizes: a power of two, 1 KiB or more. */
static int set_page_size(void *dest, const char *arg, const char *cmd)
{
    unsigned long long v;

    if (cli_parse_u64(arg, &v) < 0 || v < 1024 || v > UINT32_MAX ||
        (v & (v - 1))) {
        cli_usage_error(cmd, "bad page size '%s'", arg);
        return -1;
    }
    *(uint32_t *)dest = (uint32_t)v;
    return 0;
}

static const struct cli_opt opts[] = {
    CLI_OPT_FLAG("json", 'j', "machine-readable output (doc/json-schema.md)",
                 struct args, json, 1),
    CLI_OPT_FLAG("hash-ram", 0, "also hash the RAM sections (reads every "
                 "page; their xxh3 is otherwise shown as - / null)",
                 struct args, hash_ram, 1),
    CLI_OPT_CALL("page-size", 'p', "N", "page size for streams without "
                 "target-page-bits (default 4096)", struct args, page_size,
                 set_page_size),
    CLI_OPT_END,
};

static const struct cli_spec spec = {
    .name = "info",
    .usage = "[--json] [--hash-ram] [--page-size N] STREAM",
    .about = "Read STREAM to its last byte and summarise it: header, machine "
             "type, page size,\ncapabilities, every section (id, name, "
             "instance, version, offset, length,\nxxh3-64 of its bytes), RAM "
             "blocks with page counts by kind, and each Arm vCPU\n(AArch64 or "
             "AArch32, exception level, PC, cpu layout v22/v23, number of\n"
             "coprocessor registers).",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .args_error = "expected one STREAM",
};

static const char *type_name(uint8_t t)
{
    switch (t) {
    case VMS_REC_START: return "start";
    case VMS_REC_PART: return "part";
    case VMS_REC_END: return "end";
    case VMS_REC_FULL: return "full";
    }
    return "?";
}

struct vcpu {
    struct vms_armcpu c;
    int ok;
    struct vms_error err;
};

static struct vcpu *decode_vcpus(const struct vms_stream *st, size_t *n)
{
    struct vcpu *v = NULL;
    size_t i, k = 0;

    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];

        if (strcmp(s->idstr, "cpu") != 0 || !s->bytes) {
            continue;
        }
        v = realloc(v, (k + 1) * sizeof(*v));
        memset(&v[k], 0, sizeof(v[k]));
        v[k].ok = vms_armcpu_from_section(s, &v[k].c, &v[k].err) == 0;
        v[k].c.instance_id = s->instance_id;
        k++;
    }
    *n = k;
    return v;
}

static json_object *info_json(const struct cli_stream *cs, struct vcpu *v,
                              size_t nv)
{
    const struct vms_stream *st = &cs->st;
    const struct vms_libvirt_header *lv = vms_src_libvirt(cs->src);
    json_object *o = json_object_new_object(), *a;
    size_t i;

    json_object_object_add(o, "file_version",
                           json_object_new_int(st->file_version));
    json_object_object_add(o, "compression", json_object_new_string(
        cli_comp_name(vms_src_compression(cs->src))));
    json_object_object_add(o, "libvirt", json_object_new_boolean(
        lv->present));
    json_object_object_add(o, "length", json_object_new_int64(
        (int64_t)st->total_len));
    json_object_object_add(o, "machine", st->has_config
        ? json_object_new_string(st->machine) : NULL);
    json_object_object_add(o, "page_size",
                           json_object_new_int(st->page_size));
    a = json_object_new_array();
    for (i = 0; i < st->n_caps; i++) {
        json_object_array_add(a, json_object_new_string(st->caps[i]));
    }
    json_object_object_add(o, "capabilities", a);
    json_object_object_add(o, "vmdesc",
                           json_object_new_boolean(st->has_vmdesc));
    json_object_object_add(o, "eof", json_object_new_boolean(st->has_eof));
    a = json_object_new_array();
    for (i = 0; i < st->n_cmds; i++) {
        json_object *c = json_object_new_object();

        json_object_object_add(c, "command", json_object_new_string(
            vms_cmd_name(st->cmds[i].cmd)));
        json_object_object_add(c, "offset", json_object_new_int64(
            (int64_t)st->cmds[i].offset));
        json_object_array_add(a, c);
    }
    json_object_object_add(o, "commands", a);
    a = json_object_new_array();
    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];
        json_object *j = json_object_new_object();
        char h[20];

        snprintf(h, sizeof(h), "%016" PRIx64, s->xxh3);
        json_object_object_add(j, "id", json_object_new_int64(s->section_id));
        json_object_object_add(j, "type",
                               json_object_new_string(type_name(s->type)));
        json_object_object_add(j, "name", json_object_new_string(s->idstr));
        json_object_object_add(j, "instance",
                               json_object_new_int64(s->instance_id));
        json_object_object_add(j, "version",
                               json_object_new_int64(s->version_id));
        json_object_object_add(j, "offset",
                               json_object_new_int64((int64_t)s->offset));
        json_object_object_add(j, "length",
                               json_object_new_int64((int64_t)s->length));
        json_object_object_add(j, "xxh3", s->hashed
                                              ? json_object_new_string(h)
                                              : NULL);
        json_object_object_add(j, "delimited_by", json_object_new_string(
            cli_delim_name(s->delim)));
        json_object_array_add(a, j);
    }
    json_object_object_add(o, "sections", a);
    a = json_object_new_array();
    for (i = 0; i < st->n_blocks; i++) {
        const struct vms_ramblock *b = &st->blocks[i];
        json_object *j = json_object_new_object(), *p;

        json_object_object_add(j, "name", json_object_new_string(b->name));
        json_object_object_add(j, "size",
                               json_object_new_int64((int64_t)b->size));
        p = json_object_new_object();
        json_object_object_add(p, "zero",
                               json_object_new_int64((int64_t)b->zero));
        json_object_object_add(p, "normal",
                               json_object_new_int64((int64_t)b->normal));
        json_object_object_add(p, "xbzrle",
                               json_object_new_int64((int64_t)b->xbzrle));
        json_object_object_add(p, "compressed", json_object_new_int64(
            (int64_t)b->compressed));
        json_object_object_add(j, "pages", p);
        json_object_array_add(a, j);
    }
    json_object_object_add(o, "ram_blocks", a);
    a = json_object_new_array();
    for (i = 0; i < nv; i++) {
        json_object *j = json_object_new_object();
        const struct vms_armcpu *c = &v[i].c;

        json_object_object_add(j, "instance",
                               json_object_new_int64(c->instance_id));
        if (!v[i].ok) {
            char msg[1024];

            vms_error_format(&v[i].err, msg, sizeof(msg));
            json_object_object_add(j, "error", json_object_new_string(msg));
            json_object_array_add(a, j);
            continue;
        }
        json_object_object_add(j, "arch", json_object_new_string(
            vms_armcpu_is_aarch64(c) ? "aarch64" : "aarch32"));
        json_object_object_add(j, "el",
                               json_object_new_int(vms_armcpu_el(c)));
        json_object_object_add(j, "mode", json_object_new_string(
            vms_armcpu_mode_name(c)));
        json_object_object_add(j, "pc", cli_json_hex(vms_armcpu_pc(c)));
        json_object_object_add(j, "layout", json_object_new_string(
            c->layout == 23 ? "v23" : "v22"));
        json_object_object_add(j, "cpregs", json_object_new_int(c->n));
        if (c->layout == 23) {
            json_object_object_add(j, "value_slots",
                                   json_object_new_int(c->m));
        }
        json_object_object_add(j, "powered_off",
                               json_object_new_boolean(c->power_state));
        {
            json_object *subs = json_object_new_array();
            size_t k;

            for (k = 0; k < c->n_subs; k++) {
                json_object_array_add(subs,
                                      json_object_new_string(c->sub_names[k]));
            }
            json_object_object_add(j, "subsections", subs);
        }
        json_object_array_add(a, j);
    }
    json_object_object_add(o, "vcpus", a);
    return o;
}

static void info_human(const struct cli_stream *cs, struct vcpu *v,
                       size_t nv)
{
    const struct vms_stream *st = &cs->st;
    const struct vms_libvirt_header *lv = vms_src_libvirt(cs->src);
    size_t i;

    printf("stream:       %s\n", strcmp(cs->path, "-") ? cs->path
                                                        : "<stdin>");
    if (lv->present) {
        printf("container:    libvirt save image v%u (%u bytes of XML, "
               "format %u)\n", lv->version, lv->data_len, lv->format);
    }
    if (vms_src_compression(cs->src) != VMS_COMP_NONE) {
        printf("compression:  %s\n",
               cli_comp_name(vms_src_compression(cs->src)));
    }
    printf("format:       QEMU migration stream v%u, %" PRIu64 " bytes\n",
           st->file_version, st->total_len);
    printf("machine:      %s\n", st->has_config ? st->machine
                                               : "(no configuration)");
    if (st->has_page_bits) {
        printf("page size:    %u (target-page-bits %u)\n", st->page_size,
               st->page_bits);
    } else {
        printf("page size:    %u (assumed: no target-page-bits)\n",
               st->page_size);
    }
    printf("capabilities:");
    for (i = 0; i < st->n_caps; i++) {
        printf(" %s", st->caps[i]);
    }
    printf("%s\n", st->n_caps ? "" : " none");
    for (i = 0; i < st->n_cmds; i++) {
        printf("command:      %s at %" PRIu64 "\n",
               vms_cmd_name(st->cmds[i].cmd), st->cmds[i].offset);
    }
    if (st->has_vmdesc) {
        printf("vmdesc:       yes, %u bytes of JSON at %" PRIu64 "\n",
               st->vmdesc_len, st->vmdesc_offset);
    } else {
        printf("vmdesc:       no (device sections delimited by builtin "
               "layouts or footers)\n");
    }
    printf("\nsections:\n  %4s %-5s %-28s %4s %4s %10s %9s %-16s %s\n", "id",
           "type", "name", "inst", "ver", "offset", "length", "xxh3",
           "delimited by");
    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *s = &st->sections[i];

        char h[20] = "-";

        if (s->hashed) {
            snprintf(h, sizeof(h), "%016" PRIx64, s->xxh3);
        }
        printf("  %4u %-5s %-28s %4u %4u %10" PRIu64 " %9" PRIu64
               " %-16s %s\n", s->section_id, type_name(s->type),
               s->idstr, s->instance_id, s->version_id, s->offset,
               s->length, h, cli_delim_name(s->delim));
    }
    printf("\nRAM blocks:\n  %-34s %12s %8s %8s %8s %10s\n", "name", "size",
           "zero", "normal", "xbzrle", "compressed");
    for (i = 0; i < st->n_blocks; i++) {
        const struct vms_ramblock *b = &st->blocks[i];

        printf("  %-34s %12" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
               " %10" PRIu64 "\n", b->name, b->size, b->zero, b->normal,
               b->xbzrle, b->compressed);
    }
    printf("\nvCPUs:\n  %4s %-7s %-4s %-18s %-6s %6s %s\n", "inst", "arch",
           "mode", "pc", "layout", "cpregs", "state");
    for (i = 0; i < nv; i++) {
        const struct vms_armcpu *c = &v[i].c;

        if (!v[i].ok) {
            char msg[1024];

            vms_error_format(&v[i].err, msg, sizeof(msg));
            printf("  %4u cannot decode: %s\n", c->instance_id, msg);
            continue;
        }
        printf("  %4u %-7s %-4s 0x%016" PRIx64 " %-6s %6d %s\n",
               c->instance_id,
               vms_armcpu_is_aarch64(c) ? "aarch64" : "aarch32",
               vms_armcpu_mode_name(c), vms_armcpu_pc(c),
               c->layout == 23 ? "v23" : "v22", c->n,
               c->power_state ? "powered off" : "on");
    }
}

int cmd_info(int argc, char **argv)
{
    struct args a = { 0 };
    struct vms_parse_opts po = { 0 };
    struct cli_stream cs;
    struct vcpu *v;
    size_t nv, i;
    int json, arg, rc;

    arg = cli_parse(&spec, argc, argv, &a);
    if (arg < 0) {
        return cli_stop_code(arg);
    }
    json = a.json;
    /* RAM section hashes depend on when QEMU cut its iterations, so they
     * rarely compare across streams; reading every page for them would
     * make info several times slower. */
    po.no_hash = !a.hash_ram;
    po.default_page_size = a.page_size;
    rc = cli_load(&cs, argv[arg], &po);
    if (rc) {
        cli_close(&cs);
        return rc;
    }
    v = decode_vcpus(&cs.st, &nv);
    if (json) {
        json_object *o = info_json(&cs, v, nv);

        cli_print_json(o);
        json_object_put(o);
    } else {
        info_human(&cs, v, nv);
    }
    rc = CLI_EXIT_OK;
    for (i = 0; i < nv; i++) {
        if (!v[i].ok) {
            rc = cli_report(cs.path, &v[i].err);
        }
        vms_armcpu_fini(&v[i].c);
    }
    free(v);
    cli_close(&cs);
    return rc;
}
