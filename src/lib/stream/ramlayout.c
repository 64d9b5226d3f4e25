#include "config.h"
#include "ramlayout.h"

#include <fnmatch.h>
#include <string.h>

const struct vms_ram_layout *vms_ramlayout_find(const char *machine,
                                                const char *block)
{
    size_t i;

    for (i = 0; i < vms_ram_layouts_count; i++) {
        const struct vms_ram_layout *r = &vms_ram_layouts[i];

        if (strcmp(r->block, block) == 0 &&
            fnmatch(r->machine, machine, 0) == 0) {
            return r;
        }
    }
    return NULL;
}
