#include "config.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "vmstream.h"
#include "cli.h"
#include "cli_conv.h"

struct args {
    struct cli_dest dest;
    const char *dest_vmstate;
    int json;
    struct cli_vmdesc_from vf;
};

static const struct cli_opt opts[] = {
    CLI_OPT_INCLUDE(cli_dest_opts, struct args, dest),
    CLI_OPT_STR("dest-vmstate", 0, "FILE",
                "the JSON 'qemu-system-aarch64 -dump-vmstate FILE' writes "
                "for the destination binary and machine: machine type, "
                "device versions and subsections (it lists no cpu); may "
                "be combined with --dest or --dest-stream",
                struct args, dest_vmstate),
    CLI_OPT_FLAG("json", 'j', "machine-readable output (doc/json-schema.md)",
                 struct args, json, 1),
    CLI_OPT_INCLUDE(cli_vmdesc_from_opts, struct args, vf),
    CLI_OPT_END,
};

static const struct cli_spec spec = {
    .name = "check",
    .usage = "[--dest PROFILE | --dest-stream STREAM] [--dest-vmstate FILE] "
             "[--json] STREAM",
    .about = "Predict what a destination QEMU's cpu_post_load will do with "
             "the Arm cpu\nsections of STREAM, register by register: length "
             "limits; ordering (QEMU's\nmerge, over the list as it "
             "arrives); registers missing (0 on QEMU 7.2 TCG,\nso a missing "
             "constant fails; the reset value under KVM) or extra (fatal,\n"
             "or ignored and lost); v23 value-index consistency; values the "
             "destination\ncannot accept.\n"
             "Without a destination, checks that the stream's own QEMU build "
             "would load it.\n"
             "With a destination, also the release-level rules: machine type "
             "(configuration\nsection), section versions, subsections the "
             "destination does not know;\nthe verdict names the "
             "destination's QEMU release when it is known.",
    .epilog = "Exit status: 0 will load, 3 will load but loses state, 1 will "
              "fail,\n2 usage or I/O error.",
    .opts = opts,
    .min_args = 1,
    .max_args = 1,
    .args_error = "expected one STREAM",
};

static const struct vms_dest_env *the_env;

static void print_human(const struct vms_check_result *r,
                        const struct vms_profile *dest)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        const struct vms_finding *f = &r->findings[i];

        printf("%-7s ", vms_severity_name(f->severity));
        if (f->vcpu >= 0) {
            printf("vcpu %lld ", (long long)f->vcpu);
        }
        if (f->has_reg) {
            printf("%s (0x%016" PRIx64 ") ", f->reg, f->id);
        }
        printf("@%" PRIu64 ": %s", f->offset, f->message);
        if (f->effect == VMS_EFFECT_CHANGED && f->has_after) {
            printf(" [after loading: 0x%" PRIx64 "]", f->after);
        }
        printf("\n");
    }
    if (r->nomem) {
        printf("error: out of memory while recording findings: the list "
               "is incomplete\n");
    }
    printf("verdict: %s (%zu vCPU%s checked%s%s%s%s)\n",
           vms_verdict_name(r->verdict), r->vcpus, r->vcpus == 1 ? "" : "s",
           dest ? " against " : the_env ? " against the -dump-vmstate"
                                        : ", no destination given",
           dest ? dest->name : "",
           the_env && the_env->release[0] ? ", QEMU " : "",
           the_env && the_env->release[0] ? the_env->release : "");
    if (the_env && the_env->machine[0]) {
        printf("destination machine: %s\n", the_env->machine);
    }
}

static json_object *to_json(const struct vms_check_result *r,
                            const struct vms_profile *dest)
{
    json_object *o = json_object_new_object(), *a = json_object_new_array();
    size_t i;

    json_object_object_add(o, "verdict", json_object_new_string(
        vms_verdict_name(r->verdict)));
    json_object_object_add(o, "destination", dest
        ? json_object_new_string(dest->name) : NULL);
    json_object_object_add(o, "vcpus", json_object_new_int64(
        (int64_t)r->vcpus));
    json_object_object_add(o, "release", the_env && the_env->release[0]
        ? json_object_new_string(the_env->release) : NULL);
    json_object_object_add(o, "machine", the_env && the_env->machine[0]
        ? json_object_new_string(the_env->machine) : NULL);
    json_object_object_add(o, "absent", dest
        ? json_object_new_string(vms_absent_name(dest->absent)) : NULL);
    json_object_object_add(o, "complete", json_object_new_boolean(
        !r->nomem));
    for (i = 0; i < r->n; i++) {
        const struct vms_finding *f = &r->findings[i];
        json_object *j = json_object_new_object();

        json_object_object_add(j, "severity", json_object_new_string(
            vms_severity_name(f->severity)));
        json_object_object_add(j, "vcpu", f->vcpu >= 0
            ? json_object_new_int64(f->vcpu) : NULL);
        json_object_object_add(j, "register", f->has_reg
            ? json_object_new_string(f->reg) : NULL);
        json_object_object_add(j, "id", f->has_reg ? cli_json_hex(f->id)
                                                   : NULL);
        json_object_object_add(j, "offset", json_object_new_int64(
            (int64_t)f->offset));
        json_object_object_add(j, "effect", vms_effect_name(f->effect)
            ? json_object_new_string(vms_effect_name(f->effect)) : NULL);
        json_object_object_add(j, "value_after",
                               f->effect == VMS_EFFECT_CHANGED &&
                                       f->has_after
                                   ? cli_json_hex(f->after)
                                   : NULL);
        json_object_object_add(j, "malformed",
                               json_object_new_boolean(f->malformed));
        json_object_object_add(j, "message",
                               json_object_new_string(f->message));
        json_object_array_add(a, j);
    }
    json_object_object_add(o, "findings", a);
    return o;
}

int cmd_check(int argc, char **argv)
{
    struct args a = { .json = 0 };
    struct vms_profile *dest = NULL;
    struct vms_check_result r = { 0 };
    struct vms_dest_env env;
    struct vms_error err;
    struct cli_stream cs;
    int i, rc;

    i = cli_parse(&spec, argc, argv, &a);
    if (i < 0) {
        return cli_stop_code(i);
    }
    rc = cli_dest_load(spec.name, &a.dest, &dest);
    if (rc) {
        return rc;
    }
    vms_dest_env_init(&env);
    vms_error_clear(&err);
    if ((a.dest.stream &&
         vms_dest_env_from_path(&env, a.dest.stream, &err) < 0) ||
        (a.dest_vmstate &&
         vms_dest_env_from_vmstate(&env, a.dest_vmstate, &err) < 0)) {
        cli_report(a.dest_vmstate && !a.dest.stream ? a.dest_vmstate
                                                    : a.dest.stream, &err);
        vms_dest_env_fini(&env);
        vms_profile_free(dest);
        return CLI_EXIT_USAGE;
    }
    if (dest) {
        vms_dest_env_set_release(&env, dest->release);
    }
    rc = cli_load(&cs, argv[i], NULL);
    if (rc) {
        cli_close(&cs);
        vms_profile_free(dest);
        vms_dest_env_fini(&env);
        return rc;
    }
    vms_check_stream(&cs.st, dest, &r, &cs.err);
    if (dest || a.dest_vmstate) {
        vms_check_release(&cs.st, &env, &r);
        the_env = &env;
    }
    if (a.json) {
        json_object *o = to_json(&r, dest);

        cli_print_json(o);
        json_object_put(o);
    } else {
        print_human(&r, dest);
    }
    rc = r.verdict == VMS_VERDICT_FAILS   ? CLI_EXIT_INVALID
         : r.verdict == VMS_VERDICT_LOSSY ? CLI_EXIT_LOSSY
                                          : CLI_EXIT_OK;
    vms_check_result_fini(&r);
    vms_profile_free(dest);
    vms_dest_env_fini(&env);
    the_env = NULL;
    cli_close(&cs);
    return rc;
}
