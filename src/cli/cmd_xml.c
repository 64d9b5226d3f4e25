#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "libvirt.h"
#include "src.h"

static void help(FILE *f)
{
    fprintf(f,
            "Usage: vmstream xml IMAGE\n"
            "Print the domain XML of a libvirt save image (virsh save) "
            "byte for byte as\nstored in its header.  virsh "
            "save-image-dumpxml prints libvirt's own\nformatting of it "
            "instead (it parses and re-formats the XML), so the two may\n"
            "differ in form; use 'vmstream convert --xml' to replace it.\n\n"
            "  -h, --help    this text\n"
            "Exit status: 0 printed, 1 not a (complete) libvirt save image, "
            "2 usage or I/O\nerror.\n");
}

int cmd_xml(int argc, char **argv)
{
    static const struct option opts[] = {
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const struct vms_libvirt_header *h;
    struct vms_error err;
    struct vms_src *src;
    int c, rc;

    vms_error_clear(&err);
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            help(stdout);
            return CLI_EXIT_OK;
        default:
            help(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_usage_error("xml", "expected one IMAGE");
        return CLI_EXIT_USAGE;
    }
    src = vms_src_open_path(argv[optind], &err);
    if (!src) {
        return cli_report(argv[optind], &err);
    }
    h = vms_src_libvirt(src);
    if (!h->present) {
        vms_error_set_nooff(&err, VMS_E_FORMAT, "not a libvirt save image "
                            "(no LibvirtQemudSave header): no domain XML");
        rc = cli_report(argv[optind], &err);
    } else if (fwrite(h->xml, 1, h->xml_len, stdout) != h->xml_len ||
               fflush(stdout) != 0) {
        vms_error_set_errno(&err, errno, "write to standard output failed");
        rc = cli_report(argv[optind], &err);
    } else {
        rc = CLI_EXIT_OK;
    }
    vms_src_free(src);
    return rc;
}
