#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cli.h"
#include "profile.h"
#include "release.h"

static void help(FILE *f)
{
    fprintf(f,
            "Usage: vmstream check [--dest PROFILE | --dest-stream STREAM] "
            "[--json] STREAM\n"
            "Predict what a destination QEMU's cpu_post_load will do with "
            "the Arm cpu\nsections of STREAM, register by register: length "
            "limits; ordering (QEMU's\nmerge, over the list as it "
            "arrives); registers missing (0 on QEMU 7.2 TCG,\nso a missing "
            "constant fails; the reset value under KVM) or extra (fatal,\n"
            "or ignored and lost); v23 value-index consistency; values the "
            "destination\ncannot accept.\n"
            "Without a destination, checks that the stream's own QEMU build "
            "would load it.\n\n"
            "  --dest PROFILE        builtin profile (vmstream profile "
            "--list) or a file\n"
            "  --dest-stream STREAM  a stream saved by the destination build "
            "(e.g. a paused\n                        VM with the same "
            "command line)\n"
            "  --dest-vmstate FILE   the JSON 'qemu-system-aarch64 "
            "-dump-vmstate FILE' writes\n                        for the "
            "destination binary and machine: machine type,\n"
            "                        device versions and subsections (the "
            "cpu is not in it)\n"
            "With a destination, also the release-level rules: machine type "
            "(configuration\nsection), section versions, subsections the "
            "destination does not know.\n"
            "  --json                machine-readable output "
            "(doc/json-schema.md)\n"
            "  -h, --help            this text\n"
            "Exit status: 0 will load, 3 will load but loses state, 1 will "
            "fail,\n2 usage or I/O error.\n");
}

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
    static const struct option opts[] = {
        { "dest", required_argument, NULL, 'P' },
        { "dest-stream", required_argument, NULL, 'S' },
        { "dest-vmstate", required_argument, NULL, 'V' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dest_name = NULL, *dest_stream = NULL, *dest_vmstate = NULL;
    struct vms_dest_env env;
    struct vms_profile *dest = NULL;
    struct vms_check_result r = { 0 };
    struct vms_error err;
    struct cli_stream cs;
    int json = 0, c, rc;

    vms_error_clear(&err);
    while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
        switch (c) {
        case 'P':
            dest_name = optarg;
            break;
        case 'S':
            dest_stream = optarg;
            break;
        case 'V':
            dest_vmstate = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            help(stdout);
            return CLI_EXIT_OK;
        default:
            help(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1 || (dest_name && dest_stream)) {
        cli_usage_error("check", dest_name && dest_stream
                                     ? "give --dest or --dest-stream, not "
                                       "both"
                                     : "expected one STREAM");
        return CLI_EXIT_USAGE;
    }
    if (dest_name || dest_stream) {
        dest = dest_name ? vms_profile_load(dest_name, &err)
                         : vms_profile_from_stream(dest_stream, &err);
        if (!dest) {
            cli_report(dest_name ? dest_name : dest_stream, &err);
            return CLI_EXIT_USAGE;
        }
    }
    vms_dest_env_init(&env);
    if ((dest_stream &&
         vms_dest_env_from_path(&env, dest_stream, &err) < 0) ||
        (dest_vmstate &&
         vms_dest_env_from_vmstate(&env, dest_vmstate, &err) < 0)) {
        cli_report(dest_vmstate && !dest_stream ? dest_vmstate
                                                : dest_stream, &err);
        vms_dest_env_fini(&env);
        vms_profile_free(dest);
        return CLI_EXIT_USAGE;
    }
    if (dest) {
        vms_dest_env_set_release(&env, dest->release);
    }
    rc = cli_load(&cs, argv[optind], NULL);
    if (rc) {
        cli_close(&cs);
        vms_profile_free(dest);
        vms_dest_env_fini(&env);
        return rc;
    }
    vms_check_stream(&cs.st, dest, &r, &cs.err);
    if (dest || dest_vmstate) {
        vms_check_release(&cs.st, &env, &r);
        the_env = &env;
    }
    if (json) {
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
