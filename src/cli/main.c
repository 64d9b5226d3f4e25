#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "forensics.h"

static const struct cli_cmd cmds[] = {
    { "info", cmd_info, "Summarise a stream: sections, RAM blocks, vCPUs" },
    { "dump", cmd_dump, "Decode device state field by field" },
    { "regs", cmd_regs, "List or compare the Arm vCPU registers" },
    { "check", cmd_check,
      "Predict what a destination QEMU will do with a stream" },
    { "profile", cmd_profile,
      "Write a destination profile from a stream it saved" },
    { "convert", cmd_convert,
      "Rewrite the Arm cpu sections between the v22 and v23 layouts" },
    { "extract", cmd_extract, "Write the guest RAM blocks to files" },
    { "core", cmd_core, "Write an ELF core file (as dump-guest-memory)" },
    { "diff", cmd_diff, "What differs between two saved VMs" },
    { "xml", cmd_xml, "Print the domain XML of a libvirt save image" },
    { "proxy", cmd_proxy,
      "Convert a live migration on the wire (tcp:, unix:, multifd)" },
};

static void usage(FILE *f)
{
    size_t i;

    fprintf(f,
            "Usage: vmstream COMMAND [OPTIONS] STREAM...\n"
            "Read, check and rewrite QEMU migration streams (Arm cpu "
            "sections v22/v23).\n\nCommands:\n");
    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
    }
    fprintf(f,
            "\nSTREAM is a file or '-' for standard input; gzip, zstd, "
            "bzip2, xz, lzop and\nlibvirt save images are recognised by "
            "their magic.  "
            "'vmstream COMMAND --help' describes a command.\n"
            "Exit status: 0 ok, 1 invalid stream (check: will fail), 2 "
            "usage or I/O error,\n3 (check) will load but lose state.\n");
}

/* Regular files are read through a mapping (src.c): if another process
 * truncates the file meanwhile, the kernel sends SIGBUS. */
void cli_input_vanished(int sig)
{
    static const char msg[] = "vmstream: the input file shrank while it "
                              "was being read (SIGBUS); nothing more can "
                              "be read from it\n";

    (void)sig;
    if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
        /* nothing left to report it with */
    }
    _exit(CLI_EXIT_USAGE);
}

int main(int argc, char **argv)
{
    size_t i;

    signal(SIGBUS, cli_input_vanished);

    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("vmstream %s\n", PACKAGE_VERSION);
        return CLI_EXIT_OK;
    }
    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(argv[1], cmds[i].name) == 0) {
            int rc = cmds[i].run(argc - 1, argv + 1);

            cli_twin_free();
            return rc;
        }
    }
    fprintf(stderr, "vmstream: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
