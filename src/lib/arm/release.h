/*
 * release.h - what a destination of another QEMU release refuses outside
 * the cpu register list: the machine type (configuration section), section
 * versions outside [minimum, current], subsections it does not know; and
 * what vmstream knows of each release (QEMU 7.2, QEMU 10.0).
 *
 * Owns: struct vms_dest_env (the destination as a stream it saved, as its
 * -dump-vmstate JSON, or only as a release name from a profile), the
 * release-level check rules (findings in a struct vms_check_result), the
 * release guessed from a cpu register list, the cpu subsections each
 * release knows, the constant registers QEMU 10.0 TCG adds.
 * Does not own: the register-list rules (check.h), rewriting (repair.h).
 */
#ifndef VMS_RELEASE_H
#define VMS_RELEASE_H

#include <stddef.h>
#include <stdint.h>

#include "armcpu.h"
#include "check.h"
#include "error.h"
#include "stream.h"
#include "vmstate_json.h"

struct vms_dest_sec {
    char name[VMS_IDSTR_BUF];
    uint32_t version;
};

struct vms_dest_env {
    char release[32];          /* "7.2", "10.0" or "" */
    char machine[VMS_IDSTR_BUF];   /* "" when not known */
    const char *from;          /* "stream", "dump-vmstate", "profile" */
    struct vms_dest_sec *secs; /* from a destination stream */
    size_t n_secs;
    int has_secs;
    char **cpu_subs;           /* cpu subsections the destination sent */
    size_t n_cpu_subs;
    struct vms_vmstate_dump *dump;  /* owned */
};

void vms_dest_env_init(struct vms_dest_env *e);
void vms_dest_env_fini(struct vms_dest_env *e);
/* From a stream the destination saved (machine, sections, cpu subsections,
 * release guessed from its register list). */
int vms_dest_env_from_stream(struct vms_dest_env *e,
                             const struct vms_stream *st,
                             struct vms_error *err);
int vms_dest_env_from_path(struct vms_dest_env *e, const char *path,
                           struct vms_error *err);
/* From `-dump-vmstate FILE` (machine, device versions and subsections). */
int vms_dest_env_from_vmstate(struct vms_dest_env *e, const char *path,
                              struct vms_error *err);
/* Release from a profile's "release" line, when the env has none. */
void vms_dest_env_set_release(struct vms_dest_env *e, const char *release);

/* The release a TCG cpu register list comes from: "10.0" when it has
 * QEMU 10.0's DBGVCR/DBGOSECCR entries (7.2's lists have none), "7.2" for
 * another TCG v22 list, "" when it cannot be told (KVM, v23). */
const char *vms_release_of_cpu(const struct vms_armcpu *c);
/* 1 if QEMU `release` TCG fixes register id's value (7.2's table plus
 * formats/tcg-const-regs-10.0.tsv for 10.0). */
int vms_release_tcg_fixed(const char *release, uint64_t id);
/* Does `release` know cpu subsection name?  1 yes, 0 no, -1 not known to
 * vmstream.  env (optional): a subsection the destination sent is known. */
int vms_release_knows_cpu_sub(const char *release,
                              const struct vms_dest_env *env,
                              const char *name);
/* Can a QEMU of `release` run machine type m?  1, 0, -1 unknown. */
int vms_release_has_machine(const char *release, const char *m);

/* The release-level rules: machine type, section versions, subsections
 * (cpu and, with -dump-vmstate, every device's).  Findings go to r. */
void vms_check_release(const struct vms_stream *st,
                       const struct vms_dest_env *env,
                       struct vms_check_result *r);
/* The machine-type rule alone: 0 ok, -1 refused (reason in err). */
int vms_release_machine_ok(const char *stream_machine,
                           const struct vms_dest_env *env,
                           struct vms_error *err);

#endif
