#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "elfcore.h"
#include "forensics.h"
#include "src.h"
#include "stream.h"

static void help(FILE *f)
{
    fprintf(f,
            "Usage: vmstream core [--map BLOCK=GPA]... [--sve-max-vq N] "
            "[--progress]\n                     STREAM OUT\n"
            "Write an ELF core file of the saved guest to OUT, equivalent "
            "to what QEMU's\nQMP dump-guest-memory (paging=false, format "
            "elf) writes for the same VM:\nELF64/EM_AARCH64 (or ELF32/EM_ARM "
            "for AArch32-only cpus), one PT_NOTE with\nthe notes QEMU 7.2 "
            "writes per vCPU (NT_PRSTATUS with pid = vCPU index + 1,\n"
            "NT_PRFPREG and NT_ARM_SVE; AArch32: NT_PRSTATUS, NT_ARM_VFP), "
            "and one PT_LOAD\nper RAM block at its guest-physical address "
            "(formats/ram-layouts.tsv).\nBlocks with no known address, or "
            "that QEMU's dump leaves out, are left out\nand named in a "
            "warning.  Open it with gdb-multiarch (target core OUT) or\n"
            "crash.\n\n"
            "  --map BLOCK=GPA put RAM block BLOCK at guest-physical GPA "
            "(blocks the\n                  table does not know, e.g. "
            "-machine memory-backend=ID names\n                  the RAM "
            "block ID); wins over the table\n"
            "  --sve-max-vq N  the cpu's sve-max-vq (SVE cpus; not in the "
            "stream; default\n                  16, QEMU 7.2's TCG \"max\")\n"
            "  --progress      progress on stderr (when it is a terminal)\n"
            "  -h, --help      this text\n"
            "Exit status: 0 written, 1 invalid stream (nothing written), 2 "
            "usage or I/O\nerror.\n");
}

int cmd_core(int argc, char **argv)
{
    static const struct option opts[] = {
        { "sve-max-vq", required_argument, NULL, 'v' },
        { "map", required_argument, NULL, 'm' },
        { "progress", no_argument, NULL, 'p' },
        { "no-progress", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct vms_core_opts co;
    const char *names[64];
    uint64_t gpas[64];
    struct vms_core_result r;
    struct cli_progress prog;
    struct vms_error err;
    struct vms_stream st;
    struct vms_src *src;
    int c, rc = CLI_EXIT_OK, want_progress = 0;
    size_t i;

    memset(&co, 0, sizeof(co));
    co.twin = cli_twin;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'v': {
            char *end;
            long v = strtol(optarg, &end, 10);

            if (*end || v < 1 || v > 16) {
                cli_usage_error("core", "--sve-max-vq takes 1..16, not "
                                "'%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            co.sve_max_vq = (unsigned)v;
            break;
        }
        case 'm': {
            char *eq = strrchr(optarg, '='), *end;

            if (!eq || eq == optarg || co.n_map == 64) {
                cli_usage_error("core", "--map takes BLOCK=GPA (at most 64)"
                                ", not '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            *eq = '\0';
            gpas[co.n_map] = strtoull(eq + 1, &end, 0);
            if (!eq[1] || *end) {
                cli_usage_error("core", "bad address in --map '%s'", eq + 1);
                return CLI_EXIT_USAGE;
            }
            names[co.n_map++] = optarg;
            co.map_names = names;
            co.map_gpas = gpas;
            break;
        }
        case 'p':
            want_progress = 1;
            break;
        case 'n':
            want_progress = 0;
            break;
        case 'h':
            help(stdout);
            return CLI_EXIT_OK;
        default:
            help(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 2) {
        cli_usage_error("core", "expected STREAM and OUT");
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[optind + 1], "-") == 0) {
        cli_usage_error("core", "OUT must be a file (the memory is placed "
                        "before the notes are known)");
        return CLI_EXIT_USAGE;
    }
    vms_error_clear(&err);
    if (cli_progress_init(&prog, want_progress, "core", argv[optind])) {
        co.progress = cli_progress_show;
        co.progress_opaque = &prog;
    }
    src = vms_src_open_path(argv[optind], &err);
    if (!src) {
        return cli_report(argv[optind], &err);
    }
    vms_stream_init(&st);
    if (vms_core_write(src, argv[optind + 1], &co, &st, &r, &err) < 0) {
        cli_progress_done(&prog);
        rc = cli_report(argv[optind], &err);
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
