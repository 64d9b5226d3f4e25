#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "armcpu.h"
#include "cli.h"
#include "cli_opts.h"
#include "diff.h"
#include "extract.h"
#include "forensics.h"
#include "regs.h"
#include "src.h"
#include "stream.h"

struct args {
    int json, pages, clocks, progress;
    const char *tmpdir;
};

static const struct cli_opt opts[] = {
    CLI_OPT_FLAG("json", 'j', "machine-readable output (doc/json-schema.md)",
                 struct args, json, 1),
    CLI_OPT_FLAG("pages", 0, "list the pages that differ", struct args,
                 pages, 1),
    CLI_OPT_FLAG("clocks", 0, "count clock bookkeeping as differences "
                 "(timer#0 cpu_clock_offset, cpu_ticks_offset; pl031 tick "
                 "offsets); by default the summary only says how far QEMU's "
                 "virtual clock moved", struct args, clocks, 1),
    CLI_OPT_STR("tmpdir", 0, "DIR", "where the RAM of both streams is "
                "unpacked (default $TMPDIR or /tmp)", struct args, tmpdir),
    CLI_OPT_FLAG("progress", 0, "progress on stderr (when it is a terminal)",
                 struct args, progress, 1),
    CLI_OPT_FLAG("no-progress", 0, "no progress output (the default)",
                 struct args, progress, 0),
    CLI_OPT_END,
};

static const struct cli_spec spec = {
    .name = "diff",
    .usage = "[--json] [--pages] [--clocks] [--tmpdir DIR] [--progress] A B",
    .about = "What differs between two saved VMs of the same machine: "
             "sections present in\none stream only, device fields that "
             "differ (named as `dump` prints them;\ncpu sections are "
             "compared as registers instead), registers per vCPU (as\n"
             "`regs --diff`: \"A (other) -> B\"), and guest RAM pages that "
             "differ per block\n(counts; with --pages the guest-physical "
             "page addresses, or block offsets\nwhere the address is not "
             "known).  Each stream is read once; its RAM goes to\nsparse "
             "temporary files under DIR (default $TMPDIR or /tmp), removed "
             "at the\nend.",
    .epilog = "Exit status: 0 same state, 1 differences, 2 usage or I/O "
              "error or an invalid\nstream.",
    .opts = opts,
    .min_args = 2,
    .max_args = 2,
    .args_error = "expected two streams A and B",
};

struct side {
    const char *path;
    char dir[4096];
    struct vms_stream st;
    struct vms_armcpu *cpus;
    size_t n_cpus;
    int loaded;
};

struct ctx {
    int json, pages, clocks;
    int clock_moved;            /* timer#0 cpu_clock_offset differs */
    unsigned clock_fields;      /* clock fields that differ, not counted */
    char clock_a[32], clock_b[32];
    uint64_t diffs;
    json_object *root, *only_a, *only_b, *fields, *regs, *ram;
    /* current RAM block */
    const char *block;
    int has_gpa;
    uint64_t gpa;
    json_object *page_list;
};

static int remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[8192];

    if (!d) {
        return errno == ENOENT ? 0 : -1;
    }
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    return rmdir(dir);
}

static int cmp_cpu(const void *a, const void *b)
{
    const struct vms_armcpu *x = a, *y = b;

    return x->instance_id < y->instance_id ? -1
           : x->instance_id > y->instance_id;
}

static int load_side(struct side *s, struct cli_progress *prog,
                     struct vms_error *err)
{
    struct vms_extract_opts eo;
    struct vms_src *src;
    size_t i;
    int rc;

    memset(&eo, 0, sizeof(eo));
    eo.dir = s->dir;
    if (prog->what) {
        eo.progress = cli_progress_show;
        eo.progress_opaque = prog;
    }
    src = vms_src_open_path(s->path, err);
    if (!src) {
        return -1;
    }
    vms_stream_init(&s->st);
    s->loaded = 1;
    rc = vms_extract(src, &eo, &s->st, err);
    vms_src_free(src);
    if (rc < 0) {
        return -1;
    }
    for (i = 0; i < s->st.n_sections; i++) {
        const struct vms_section *sec = &s->st.sections[i];
        struct vms_armcpu *nc;

        if (strcmp(sec->idstr, "cpu") != 0 || !sec->bytes) {
            continue;
        }
        nc = realloc(s->cpus, (s->n_cpus + 1) * sizeof(*nc));
        if (!nc) {
            vms_error_set_nooff(err, VMS_E_NOMEM, "out of memory");
            return -1;
        }
        s->cpus = nc;
        memset(&nc[s->n_cpus], 0, sizeof(*nc));
        if (vms_armcpu_from_section(sec, &nc[s->n_cpus], err) < 0) {
            vms_armcpu_fini(&nc[s->n_cpus]);
            return -1;
        }
        s->n_cpus++;
    }
    qsort(s->cpus, s->n_cpus, sizeof(*s->cpus), cmp_cpu);
    return 0;
}

static void free_side(struct side *s)
{
    size_t i;

    for (i = 0; i < s->n_cpus; i++) {
        vms_armcpu_fini(&s->cpus[i]);
    }
    free(s->cpus);
    if (s->loaded) {
        vms_stream_fini(&s->st);
    }
}

static const struct vms_section *find_sec(const struct vms_stream *st,
                                          const struct vms_section *s)
{
    size_t i;

    for (i = 0; i < st->n_sections; i++) {
        const struct vms_section *o = &st->sections[i];

        if (o->bytes && o->instance_id == s->instance_id &&
            strcmp(o->idstr, s->idstr) == 0) {
            return o;
        }
    }
    return NULL;
}

static json_object *sec_json(const struct vms_section *s)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "name", json_object_new_string(s->idstr));
    json_object_object_add(o, "instance",
                           json_object_new_int64(s->instance_id));
    return o;
}

static void only_in(struct ctx *c, const struct vms_stream *in,
                    const struct vms_stream *other, json_object *arr,
                    const char *which)
{
    size_t i;

    for (i = 0; i < in->n_sections; i++) {
        const struct vms_section *s = &in->sections[i];

        if (!s->bytes || find_sec(other, s)) {
            continue;
        }
        /* report each (idstr, instance) once */
        if (find_sec(in, s) != s) {
            continue;
        }
        c->diffs++;
        if (c->json) {
            json_object_array_add(arr, sec_json(s));
        } else {
            printf("section %s#%u only in %s\n", s->idstr, s->instance_id,
                   which);
        }
    }
}

struct field_ctx {
    struct ctx *c;
    const struct vms_section *s;
};

/*
 * Clock bookkeeping that moves whenever time passed between two snapshots:
 * QEMU's virtual clock (softmmu/cpu-timers.c vmstate_timers) and the PL031
 * RTC's offset between wall-clock and virtual time (hw/rtc/pl031.c).
 */
static const char *const clock_fields[][2] = {
    { "timer", "cpu_clock_offset" },
    { "timer", "cpu_ticks_offset" },
    { "pl031", "tick_offset_vmstate" },
    { "pl031", "pl031/host-tick-offset/tick_offset" },
};

static int is_clock(const struct vms_section *s, const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(clock_fields) / sizeof(clock_fields[0]); i++) {
        if (strcmp(s->idstr, clock_fields[i][0]) == 0 &&
            strcmp(name, clock_fields[i][1]) == 0) {
            return 1;
        }
    }
    return 0;
}

static int on_field(void *opaque, const char *name, const char *a,
                    const char *b)
{
    struct field_ctx *f = opaque;
    struct ctx *c = f->c;

    if (!c->clocks && is_clock(f->s, name) && a && b) {
        c->clock_fields++;
        if (strcmp(name, "cpu_clock_offset") == 0) {
            c->clock_moved = 1;
            snprintf(c->clock_a, sizeof(c->clock_a), "%s", a);
            snprintf(c->clock_b, sizeof(c->clock_b), "%s", b);
        }
        return 0;
    }
    c->diffs++;
    if (c->json) {
        json_object *o = sec_json(f->s);

        json_object_object_add(o, "field", json_object_new_string(name));
        json_object_object_add(o, "a", a ? json_object_new_string(a) : NULL);
        json_object_object_add(o, "b", b ? json_object_new_string(b) : NULL);
        json_object_array_add(c->fields, o);
    } else {
        printf("section %s#%u field %s: %s -> %s\n", f->s->idstr,
               f->s->instance_id, name, a ? a : "(absent)",
               b ? b : "(absent)");
    }
    return 0;
}

static int on_page(void *opaque, uint64_t off)
{
    struct ctx *c = opaque;
    char buf[64];

    if (!c->pages) {
        return 0;
    }
    if (c->has_gpa) {
        snprintf(buf, sizeof(buf), "0x%" PRIx64, c->gpa + off);
    } else {
        snprintf(buf, sizeof(buf), "+0x%" PRIx64, off);
    }
    if (c->json) {
        json_object_array_add(c->page_list, json_object_new_string(buf));
    } else {
        printf("  %s\n", buf);
    }
    return 0;
}

static int open_block(const struct side *s, const char *name)
{
    char fname[VMS_EXTRACT_NAME_MAX], p[8192];

    vms_extract_file_name(name, fname, sizeof(fname));
    snprintf(p, sizeof(p), "%s/%s", s->dir, fname);
    return open(p, O_RDONLY);
}

static int diff_ram(struct ctx *c, struct side *a, struct side *b,
                    struct vms_error *err)
{
    size_t i, k;

    for (i = 0; i < a->st.n_blocks; i++) {
        const struct vms_ramblock *ba = &a->st.blocks[i];
        const struct vms_ramblock *bb = NULL;
        const char *src;
        uint64_t n = 0;
        json_object *o = NULL;
        int fa, fb, rc;

        for (k = 0; k < b->st.n_blocks; k++) {
            if (strcmp(b->st.blocks[k].name, ba->name) == 0) {
                bb = &b->st.blocks[k];
            }
        }
        c->block = ba->name;
        c->has_gpa = vms_extract_block_gpa(&a->st, i, &c->gpa, &src);
        if (c->json) {
            o = json_object_new_object();
            json_object_object_add(o, "block",
                                   json_object_new_string(ba->name));
            json_object_object_add(o, "gpa", c->has_gpa
                                   ? cli_json_hex(c->gpa) : NULL);
        }
        if (!bb || bb->size != ba->size) {
            c->diffs++;
            if (c->json) {
                json_object_object_add(o, "change", json_object_new_string(
                                       bb ? "size" : "only_in_a"));
                json_object_array_add(c->ram, o);
            } else if (bb) {
                printf("RAM block %s: %" PRIu64 " bytes in A, %" PRIu64
                       " in B\n", ba->name, ba->size, bb->size);
            } else {
                printf("RAM block %s only in A\n", ba->name);
            }
            continue;
        }
        fa = open_block(a, ba->name);
        fb = open_block(b, ba->name);
        if (fa < 0 || fb < 0) {
            vms_error_set_errno(err, errno, "cannot open the extracted "
                                "RAM block %s", ba->name);
            if (fa >= 0) {
                close(fa);
            }
            if (fb >= 0) {
                close(fb);
            }
            json_object_put(o);
            return -1;
        }
        if (c->json) {
            c->page_list = c->pages ? json_object_new_array() : NULL;
        } else if (c->pages) {
            /* the header line comes first: count pages in a first pass */
            rc = vms_diff_ram(fa, fb, ba->size, a->st.page_size, NULL, c,
                              &n, err);
            if (rc == 0 && n) {
                printf("RAM block %s: %" PRIu64 " page%s differ%s\n",
                       ba->name, n, n == 1 ? "" : "s", n == 1 ? "s" : "");
            }
        }
        rc = vms_diff_ram(fa, fb, ba->size, a->st.page_size, on_page, c,
                          &n, err);
        close(fa);
        close(fb);
        if (rc < 0) {
            json_object_put(o);
            json_object_put(c->page_list);
            return -1;
        }
        c->diffs += n;
        if (c->json) {
            if (n) {
                json_object_object_add(o, "change",
                                       json_object_new_string("pages"));
                json_object_object_add(o, "pages_differ",
                                       json_object_new_int64((int64_t)n));
                if (c->page_list) {
                    json_object_object_add(o, "pages", c->page_list);
                }
                json_object_array_add(c->ram, o);
            } else {
                json_object_put(c->page_list);
                json_object_put(o);
            }
            c->page_list = NULL;
        } else if (n && !c->pages) {
            printf("RAM block %s: %" PRIu64 " page%s differ%s\n", ba->name,
                   n, n == 1 ? "" : "s", n == 1 ? "s" : "");
        }
    }
    for (k = 0; k < b->st.n_blocks; k++) {
        int found = 0;

        for (i = 0; i < a->st.n_blocks; i++) {
            found |= strcmp(a->st.blocks[i].name, b->st.blocks[k].name) == 0;
        }
        if (found) {
            continue;
        }
        c->diffs++;
        if (c->json) {
            json_object *o = json_object_new_object();

            json_object_object_add(o, "block", json_object_new_string(
                                                   b->st.blocks[k].name));
            json_object_object_add(o, "change",
                                   json_object_new_string("only_in_b"));
            json_object_array_add(c->ram, o);
        } else {
            printf("RAM block %s only in B\n", b->st.blocks[k].name);
        }
    }
    return 0;
}

static int diff_devices(struct ctx *c, struct side *a, struct side *b,
                        struct vms_error *err)
{
    size_t i, n;

    only_in(c, &a->st, &b->st, c->only_a, "A");
    only_in(c, &b->st, &a->st, c->only_b, "B");
    for (i = 0; i < a->st.n_sections; i++) {
        const struct vms_section *s = &a->st.sections[i], *o;
        struct field_ctx f = { c, s };

        if (!s->bytes || strcmp(s->idstr, "cpu") == 0 ||
            find_sec(&a->st, s) != s || !(o = find_sec(&b->st, s))) {
            continue;
        }
        if (vms_diff_section(s, o, on_field, &f, &n, err) < 0) {
            return -1;
        }
    }
    return 0;
}

int cmd_diff(int argc, char **argv)
{
    struct args a = { 0 };
    struct side sides[2];
    struct ctx c;
    struct cli_progress prog;
    struct vms_error err;
    const char *tmpdir;
    char top[3800];
    int arg, rc = CLI_EXIT_OK, i, bad = -1;

    memset(&c, 0, sizeof(c));
    memset(sides, 0, sizeof(sides));
    a.tmpdir = getenv("TMPDIR");
    arg = cli_parse(&spec, argc, argv, &a);
    if (arg < 0) {
        return cli_stop_code(arg);
    }
    c.json = a.json;
    c.pages = a.pages;
    c.clocks = a.clocks;
    tmpdir = a.tmpdir;
    if (!tmpdir || !*tmpdir) {
        tmpdir = "/tmp";
    }
    snprintf(top, sizeof(top), "%s/vmstream-diff.XXXXXX", tmpdir);
    if (!mkdtemp(top)) {
        fprintf(stderr, "%s diff: cannot make a temporary directory in "
                "%s: %s\n", cli_progname, tmpdir, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    vms_error_clear(&err);
    for (i = 0; i < 2 && bad < 0; i++) {
        sides[i].path = argv[arg + i];
        snprintf(sides[i].dir, sizeof(sides[i].dir), "%s/%c", top,
                 i ? 'b' : 'a');
        memset(&prog, 0, sizeof(prog));
        cli_progress_init(&prog, a.progress, i ? "diff (B)" : "diff (A)",
                          sides[i].path);
        if (load_side(&sides[i], &prog, &err) < 0) {
            bad = i;
        }
        cli_progress_done(&prog);
    }
    if (bad >= 0) {
        rc = cli_report(sides[bad].path, &err);
        if (rc == CLI_EXIT_INVALID) {
            rc = CLI_EXIT_USAGE;    /* 1 means "they differ" here */
        }
        goto out;
    }
    if (c.json) {
        c.root = json_object_new_object();
        c.only_a = json_object_new_array();
        c.only_b = json_object_new_array();
        c.fields = json_object_new_array();
        c.regs = json_object_new_array();
        c.ram = json_object_new_array();
    }
    if (strcmp(sides[0].st.machine, sides[1].st.machine) != 0 && !c.json) {
        printf("machine %s in A, %s in B\n", sides[0].st.machine,
               sides[1].st.machine);
    }
    if (diff_devices(&c, &sides[0], &sides[1], &err) < 0) {
        cli_report(sides[0].path, &err);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    c.diffs += cli_regs_diff_cpus(sides[0].cpus, sides[0].n_cpus,
                                  sides[1].cpus, sides[1].n_cpus, c.regs);
    if (diff_ram(&c, &sides[0], &sides[1], &err) < 0) {
        cli_report(NULL, &err);
        rc = CLI_EXIT_USAGE;
        goto out;
    }
    if (c.json) {
        json_object_object_add(c.root, "same",
                               json_object_new_boolean(c.diffs == 0));
        json_object_object_add(c.root, "differences",
                               json_object_new_int64((int64_t)c.diffs));
        json_object_object_add(c.root, "machine_a", json_object_new_string(
                                                sides[0].st.machine));
        json_object_object_add(c.root, "machine_b", json_object_new_string(
                                                sides[1].st.machine));
        if (c.clock_moved) {
            json_object *k = json_object_new_object();

            json_object_object_add(k, "a", json_object_new_string(
                                               c.clock_a));
            json_object_object_add(k, "b", json_object_new_string(
                                               c.clock_b));
            json_object_object_add(c.root, "virtual_clock_ns", k);
        } else {
            json_object_object_add(c.root, "virtual_clock_ns", NULL);
        }
        json_object_object_add(c.root, "clock_fields_not_counted",
                               json_object_new_int(c.clocks ? 0 :
                                                   (int)c.clock_fields));
        json_object_object_add(c.root, "sections_only_in_a", c.only_a);
        json_object_object_add(c.root, "sections_only_in_b", c.only_b);
        json_object_object_add(c.root, "fields", c.fields);
        json_object_object_add(c.root, "registers", c.regs);
        json_object_object_add(c.root, "ram", c.ram);
        c.only_a = c.only_b = c.fields = c.regs = c.ram = NULL;
        cli_print_json(c.root);
    } else {
        printf("%" PRIu64 " difference%s", c.diffs,
               c.diffs == 1 ? "" : "s");
        if (c.clock_fields) {
            unsigned long long x = strtoull(c.clock_a, NULL, 0);
            unsigned long long y = strtoull(c.clock_b, NULL, 0);

            printf(" (not counted: %u clock field%s", c.clock_fields,
                   c.clock_fields == 1 ? "" : "s");
            if (c.clock_moved) {
                printf(", QEMU's virtual clock %.3f s -> %.3f s",
                       (double)x / 1e9, (double)y / 1e9);
            }
            printf("; --clocks counts them)");
        }
        printf("\n");
    }
    rc = c.diffs ? CLI_EXIT_INVALID : CLI_EXIT_OK;
out:
    json_object_put(c.root);
    json_object_put(c.only_a);
    json_object_put(c.only_b);
    json_object_put(c.fields);
    json_object_put(c.regs);
    json_object_put(c.ram);
    for (i = 0; i < 2; i++) {
        free_side(&sides[i]);
        if (sides[i].dir[0]) {
            remove_dir(sides[i].dir);
        }
    }
    rmdir(top);
    return rc;
}
