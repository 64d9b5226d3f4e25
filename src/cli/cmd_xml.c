#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "vmstream.h"

struct args {
    int unused;
};

static const struct cli_opt opts[] = {
    CLI_OPT_END,
};

static const struct cli_spec spec = {
    .name = "xml",
    .usage = "IMAGE",
    .about = "Print the domain XML of a libvirt save image (virsh save) "
             "byte for byte as\nstored in its header.  virsh "
             "save-image-dumpxml prints libvirt's own\nformatting of it "
             "instead (it parses and re-formats the XML), so the two may\n"
             "differ in form; use 'vmstream convert --xml' to replace it.",
    .epilog = "Exit status: 0 printed, 1 not a (complete) libvirt save "
              "image, 2 usage or I/O\nerror.",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .args_error = "expected one IMAGE",
};

int cmd_xml(int argc, char **argv)
{
    const struct vms_libvirt_header *h;
    struct args a = { 0 };
    struct vms_error err;
    struct vms_src *src;
    int i, rc;

    vms_error_clear(&err);
    i = cli_parse(&spec, argc, argv, &a);
    if (i < 0) {
        return cli_stop_code(i);
    }
    src = vms_src_open_path(argv[i], &err);
    if (!src) {
        return cli_report(argv[i], &err);
    }
    h = vms_src_libvirt(src);
    if (!h->present) {
        vms_error_set_nooff(&err, VMS_E_FORMAT, "not a libvirt save image "
                            "(no LibvirtQemudSave header): no domain XML");
        rc = cli_report(argv[i], &err);
    } else if (fwrite(h->xml, 1, h->xml_len, stdout) != h->xml_len ||
               fflush(stdout) != 0) {
        vms_error_set_errno(&err, errno, "write to standard output failed");
        rc = cli_report(argv[i], &err);
    } else {
        rc = CLI_EXIT_OK;
    }
    vms_src_free(src);
    return rc;
}
