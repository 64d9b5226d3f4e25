/*
 * cli_regs.h - printing a register comparison (vms_regs_diff) as
 * `regs --diff` does, for other commands (diff).  In cmd_regs.c.
 */
#ifndef VMS_CLI_REGS_H
#define VMS_CLI_REGS_H

#include <stddef.h>

struct vms_regdiff;
struct json_object;

/* Human lines on stdout, or entries added to arr (JSON); returns the
 * number of differences. */
size_t cli_regs_print_diff(const struct vms_regdiff *d,
                           struct json_object *arr);

#endif
