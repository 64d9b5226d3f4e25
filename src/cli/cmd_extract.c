#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "extract.h"
#include "forensics.h"
#include "src.h"
#include "stream.h"

static void help(FILE *f)
{
    fprintf(f,
            "Usage: vmstream extract [--progress] STREAM DIR\n"
            "       vmstream extract --block NAME [--progress] STREAM FILE\n"
            "Write the guest RAM of STREAM as the destination would hold it "
            "after loading\nthe whole stream: one file per RAM block in DIR "
            "(made if missing; block\nnames are encoded so that '/' stays "
            "in one file name: %%XX for bytes other\nthan A-Z a-z 0-9 "
            "._:@+,=- and a leading '.', then \".bin\") plus DIR/%s\n"
            "(block name, file, size, guest-physical address where known, "
            "page records by\nkind), or with --block only the block NAME "
            "into FILE.  Later copies of a page\nreplace earlier ones, ZERO "
            "pages are their fill byte, XBZRLE pages are decoded\nagainst "
            "the page's previous content, compressed pages are inflated, "
            "pages never\nsent are zero.  Files are sparse where the content "
            "is zero and appear only\nwhen the whole stream was read "
            "(temporary file, fsync, rename).\n\n"
            "  --block NAME   only the RAM block NAME, into FILE\n"
            "  --progress     progress on stderr (when it is a terminal)\n"
            "  -h, --help     this text\n"
            "Exit status: 0 written, 1 invalid stream (nothing written), 2 "
            "usage or I/O\nerror.\n", VMS_EXTRACT_MANIFEST);
}

int cmd_extract(int argc, char **argv)
{
    static const struct option opts[] = {
        { "block", required_argument, NULL, 'b' },
        { "progress", no_argument, NULL, 'p' },
        { "no-progress", no_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct vms_extract_opts eo;
    struct cli_progress prog;
    struct vms_error err;
    struct vms_stream st;
    struct vms_src *src;
    int c, rc = CLI_EXIT_OK, want_progress = 0;

    memset(&eo, 0, sizeof(eo));
    eo.twin = cli_twin;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            eo.block = optarg;
            break;
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
        cli_usage_error("extract", "expected STREAM and %s",
                        eo.block ? "FILE" : "DIR");
        return CLI_EXIT_USAGE;
    }
    if (eo.block) {
        eo.file = argv[optind + 1];
        if (strcmp(eo.file, "-") == 0) {
            cli_usage_error("extract", "FILE must be a file: later copies "
                            "of a page replace earlier ones");
            return CLI_EXIT_USAGE;
        }
    } else {
        eo.dir = argv[optind + 1];
    }
    vms_error_clear(&err);
    if (cli_progress_init(&prog, want_progress, "extract", argv[optind])) {
        eo.progress = cli_progress_show;
        eo.progress_opaque = &prog;
    }
    src = vms_src_open_path(argv[optind], &err);
    if (!src) {
        return cli_report(argv[optind], &err);
    }
    vms_stream_init(&st);
    if (vms_extract(src, &eo, &st, &err) < 0) {
        cli_progress_done(&prog);
        rc = cli_report(argv[optind], &err);
    }
    cli_progress_done(&prog);
    vms_stream_fini(&st);
    vms_src_free(src);
    return rc;
}
