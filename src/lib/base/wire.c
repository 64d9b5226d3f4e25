#include "config.h"
#include "wire.h"

const char *vms_rec_name(unsigned type)
{
    switch (type) {
    case VMS_REC_EOF: return "EOF";
    case VMS_REC_START: return "SECTION_START";
    case VMS_REC_PART: return "SECTION_PART";
    case VMS_REC_END: return "SECTION_END";
    case VMS_REC_FULL: return "SECTION_FULL";
    case VMS_REC_SUBSECTION: return "SUBSECTION";
    case VMS_REC_VMDESC: return "VMDESCRIPTION";
    case VMS_REC_CONFIG: return "CONFIGURATION";
    case VMS_REC_COMMAND: return "COMMAND";
    case VMS_REC_FOOTER: return "SECTION_FOOTER";
    }
    return "unknown";
}

const char *vms_cmd_name(unsigned cmd)
{
    static const char *const names[] = {
        "INVALID", "OPEN_RETURN_PATH", "PING", "POSTCOPY_ADVISE",
        "POSTCOPY_LISTEN", "POSTCOPY_RUN", "POSTCOPY_RAM_DISCARD",
        "PACKAGED", "ENABLE_COLO", "POSTCOPY_RESUME", "RECV_BITMAP",
        "SWITCHOVER_START",
    };

    return cmd < sizeof(names) / sizeof(names[0]) ? names[cmd] : "unknown";
}
