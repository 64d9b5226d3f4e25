/*
 * regs.h - the register comparison of `regs --diff`, for other commands
 * (diff).  Implemented in cmd_regs.c.
 */
#ifndef VMS_CLI_REGS_H
#define VMS_CLI_REGS_H

#include <stddef.h>

struct vms_armcpu;
struct json_object;

size_t cli_regs_diff_cpus(const struct vms_armcpu *a, size_t na,
                          const struct vms_armcpu *b, size_t nb,
                          struct json_object *arr);

#endif
