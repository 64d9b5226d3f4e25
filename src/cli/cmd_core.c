#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "elfcore.h"
#include "forensics.h"
#include "src.h"
#include "stream.h"

struct args {
    long sve_max_vq;
    struct cli_list map;
    int progress;
};

static const struct cli_opt opts[] = {
    CLI_OPT_LIST("map", 0, "BLOCK=GPA", "put RAM block BLOCK at "
                 "guest-physical GPA (blocks the table does not know, e.g. "
                 "-machine memory-backend=ID names the RAM block ID); wins "
                 "over the table; repeatable", struct args, map),
    CLI_OPT_NUM("sve-max-vq", 0, "N", "the cpu's sve-max-vq (SVE cpus; not "
                "in the stream; default 16, QEMU 7.2's TCG \"max\")",
                struct args, sve_max_vq, 1, 16),
    CLI_OPT_FLAG("progress", 0, "progress on stderr (when it is a terminal)",
                 struct args, progress, 1),
    CLI_OPT_FLAG("no-progress", 0, "no progress output (the default)",
                 struct args, progress, 0),
    CLI_OPT_END,
};

static const struct cli_spec spec = {
    .name = "core",
    .usage = "[--map BLOCK=GPA]... [--sve-max-vq N] [--progress] STREAM OUT",
    .about = "Write an ELF core file of the saved guest to OUT, equivalent "
             "to what QEMU's\nQMP dump-guest-memory (paging=false, format "
             "elf) writes for the same VM:\nELF64/EM_AARCH64 (or ELF32/EM_ARM "
             "for AArch32-only cpus), one PT_NOTE with\nthe notes QEMU 7.2 "
             "writes per vCPU (NT_PRSTATUS with pid = vCPU index + 1,\n"
             "NT_PRFPREG and NT_ARM_SVE; AArch32: NT_PRSTATUS, NT_ARM_VFP), "
             "and one PT_LOAD\nper RAM block at its guest-physical address "
             "(formats/ram-layouts.tsv).\nBlocks with no known address, or "
             "that QEMU's dump leaves out, are left out\nand named in a "
             "warning.  Open it with gdb-multiarch (target core OUT) or\n"
             "crash.",
    .epilog = "Exit status: 0 written, 1 invalid stream (nothing written), 2 "
              "usage or I/O\nerror.",
    .opts = opts,
    .min_args = 2,
    .max_args = 2,
    .args_error = "expected STREAM and OUT",
};

int cmd_core(int argc, char **argv)
{
    struct args a = { 0 };
    struct vms_core_opts co;
    const char *names[CLI_LIST_MAX];
    uint64_t gpas[CLI_LIST_MAX];
    struct vms_core_result r;
    struct cli_progress prog;
    struct vms_error err;
    struct vms_stream st;
    struct vms_src *src;
    int arg, rc = CLI_EXIT_OK;
    size_t i;

    memset(&co, 0, sizeof(co));
    arg = cli_parse(&spec, argc, argv, &a);
    if (arg < 0) {
        return cli_stop_code(arg);
    }
    co.sve_max_vq = (unsigned)a.sve_max_vq;
    for (i = 0; i < a.map.n; i++) {
        char *m = a.map.v[i], *eq = strrchr(m, '=');
        unsigned long long gpa;

        if (!eq || eq == m) {
            cli_usage_error("core", "--map takes BLOCK=GPA, not '%s'", m);
            return CLI_EXIT_USAGE;
        }
        *eq = '\0';
        if (cli_parse_u64(eq + 1, &gpa) < 0) {
            cli_usage_error("core", "bad address in --map '%s'", eq + 1);
            return CLI_EXIT_USAGE;
        }
        gpas[co.n_map] = gpa;
        names[co.n_map++] = m;
        co.map_names = names;
        co.map_gpas = gpas;
    }
    if (strcmp(argv[arg + 1], "-") == 0) {
        cli_usage_error("core", "OUT must be a file (the memory is placed "
                        "before the notes are known)");
        return CLI_EXIT_USAGE;
    }
    vms_error_clear(&err);
    if (cli_progress_init(&prog, a.progress, "core", argv[arg])) {
        co.progress = cli_progress_show;
        co.progress_opaque = &prog;
    }
    src = vms_src_open_path(argv[arg], &err);
    if (!src) {
        return cli_report(argv[arg], &err);
    }
    vms_stream_init(&st);
    if (vms_core_write(src, argv[arg + 1], &co, &st, &r, &err) < 0) {
        cli_progress_done(&prog);
        rc = cli_report(argv[arg], &err);
    } else {
        cli_progress_done(&prog);
        for (i = 0; i < r.n_blocks; i++) {
            if (!r.blocks[i].included) {
                fprintf(stderr, "%s core: warning: RAM block \"%s\" (%llu "
                        "bytes) left out of the core: %s\n", cli_progname,
                        r.blocks[i].name,
                        (unsigned long long)r.blocks[i].size,
                        r.blocks[i].why);
            }
        }
    }
    vms_core_result_fini(&r);
    vms_stream_fini(&st);
    vms_src_free(src);
    return rc;
}
