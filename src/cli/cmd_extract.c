#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "extract.h"
#include "forensics.h"
#include "src.h"
#include "stream.h"

struct args {
    const char *block;
    int progress;
};

static const struct cli_opt opts[] = {
    CLI_OPT_STR("block", 0, "NAME", "only the RAM block NAME, into FILE",
                struct args, block),
    CLI_OPT_FLAG("progress", 0, "progress on stderr (when it is a terminal)",
                 struct args, progress, 1),
    CLI_OPT_FLAG("no-progress", 0, "no progress output (the default)",
                 struct args, progress, 0),
    CLI_OPT_END,
};

static const struct cli_spec spec = {
    .name = "extract",
    .usage = "[--progress] STREAM DIR\n--block NAME [--progress] STREAM FILE",
    .about = "Write the guest RAM of STREAM as the destination would hold it "
             "after loading\nthe whole stream: one file per RAM block in DIR "
             "(made if missing; block\nnames are encoded so that '/' stays "
             "in one file name: %XX for bytes other\nthan A-Z a-z 0-9 "
             "._:@+,=- and a leading '.', then \".bin\") plus DIR/"
             VMS_EXTRACT_MANIFEST "\n"
             "(block name, file, size, guest-physical address where known, "
             "page records by\nkind), or with --block only the block NAME "
             "into FILE.  Later copies of a page\nreplace earlier ones, ZERO "
             "pages are their fill byte, XBZRLE pages are decoded\nagainst "
             "the page's previous content, compressed pages are inflated, "
             "pages never\nsent are zero.  Files are sparse where the content "
             "is zero and appear only\nwhen the whole stream was read "
             "(temporary file, fsync, rename).",
    .epilog = "Exit status: 0 written, 1 invalid stream (nothing written), 2 "
              "usage or I/O\nerror.",
    .opts = opts,
    .min_args = 0,
    .max_args = -1,     /* the message depends on --block: below */
};

int cmd_extract(int argc, char **argv)
{
    struct args a = { 0 };
    struct vms_extract_opts eo;
    struct cli_progress prog;
    struct vms_error err;
    struct vms_stream st;
    struct vms_src *src;
    int arg, rc = CLI_EXIT_OK;

    memset(&eo, 0, sizeof(eo));
    arg = cli_parse(&spec, argc, argv, &a);
    if (arg < 0) {
        return cli_stop_code(arg);
    }
    eo.block = a.block;
    if (arg != argc - 2) {
        cli_usage_error("extract", "expected STREAM and %s",
                        eo.block ? "FILE" : "DIR");
        return CLI_EXIT_USAGE;
    }
    if (eo.block) {
        eo.file = argv[arg + 1];
        if (strcmp(eo.file, "-") == 0) {
            cli_usage_error("extract", "FILE must be a file: later copies "
                            "of a page replace earlier ones");
            return CLI_EXIT_USAGE;
        }
    } else {
        eo.dir = argv[arg + 1];
    }
    vms_error_clear(&err);
    if (cli_progress_init(&prog, a.progress, "extract", argv[arg])) {
        eo.progress = cli_progress_show;
        eo.progress_opaque = &prog;
    }
    src = vms_src_open_path(argv[arg], &err);
    if (!src) {
        return cli_report(argv[arg], &err);
    }
    vms_stream_init(&st);
    if (vms_extract(src, &eo, &st, &err) < 0) {
        cli_progress_done(&prog);
        rc = cli_report(argv[arg], &err);
    }
    cli_progress_done(&prog);
    vms_stream_fini(&st);
    vms_src_free(src);
    return rc;
}
