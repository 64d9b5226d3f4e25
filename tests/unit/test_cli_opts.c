/*
 * test_cli_opts.c - the CLI's option table parser (src/cli/cli_opts.c):
 * every argument kind, included row sets at an offset, short options,
 * unknown options, missing and bad arguments, operand counts, --help
 * generated from the table, and the number helpers.
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli_opts.h"

struct sub {
    const char *where;
    int level;
};

struct args {
    int json, progress;
    const char *name;
    long count;
    struct cli_list items;
    int mode;
    int calls;
    struct sub sub;
};

static int set_mode(void *dest, const char *arg, const char *cmd)
{
    int *mode = dest;
    struct args *a = (struct args *)((char *)dest -
                                     offsetof(struct args, mode));

    (void)cmd;
    a->calls++;
    if (strcmp(arg, "fast") == 0) {
        *mode = 1;
        return 0;
    }
    if (strcmp(arg, "slow") == 0) {
        *mode = 2;
        return 0;
    }
    return -1;
}

static const struct cli_opt sub_opts[] = {
    CLI_OPT_STR("where", 'w', "DIR", "a place", struct sub, where),
    CLI_OPT_NUM("level", 0, "N", "how much", struct sub, level, 0, 9),
    CLI_OPT_END,
};

static const struct cli_opt opts[] = {
    CLI_OPT_FLAG("json", 'j', "machine-readable output", struct args, json,
                 1),
    CLI_OPT_FLAG("progress", 0, "show progress", struct args, progress, 1),
    CLI_OPT_FLAG("no-progress", 0, "no progress", struct args, progress,
                 0),
    CLI_OPT_STR("name", 'n', "NAME", "a name", struct args, name),
    CLI_OPT_NUM("count", 'c', "N", "how many, 1 to 100", struct args,
                count, 1, 100),
    CLI_OPT_LIST("item", 'i', "X", "an item (repeatable)", struct args,
                 items),
    CLI_OPT_CALL("mode", 0, "fast|slow", "a mode parsed by a callback",
                 struct args, mode, set_mode),
    CLI_OPT_INCLUDE(sub_opts, struct args, sub),
    CLI_OPT_END,
};

static const struct cli_spec spec = {
    .name = "test",
    .usage = "[OPTIONS] A [B]\n--other FORM",
    .about = "A test command.",
    .epilog = "Exit status: 0.",
    .opts = opts,
    .min_args = 1,
    .max_args = 2,
    .args_error = "expected A and maybe B",
};

/* Parse a NULL-terminated list (argv[0] = "test") into a fresh struct. */
static int parse(struct args *a, ...)
{
    static char store[32][64];
    static char *argv[33];
    va_list ap;
    const char *s;
    int argc = 0;

    memset(a, 0, sizeof(*a));
    a->count = -1;
    a->sub.level = -1;
    snprintf(store[argc], sizeof(store[argc]), "test");
    argv[argc] = store[argc];
    argc++;
    va_start(ap, a);
    while ((s = va_arg(ap, const char *)) != NULL && argc < 32) {
        snprintf(store[argc], sizeof(store[argc]), "%s", s);
        argv[argc] = store[argc];
        argc++;
    }
    va_end(ap);
    argv[argc] = NULL;
    return cli_parse(&spec, argc, argv, a);
}

static void test_defaults(void **state)
{
    struct args a;

    (void)state;
    assert_int_equal(parse(&a, "in", NULL), 1);
    assert_int_equal(a.json, 0);
    assert_null(a.name);
    assert_int_equal(a.count, -1);
    assert_int_equal(a.items.n, 0);
    assert_int_equal(a.calls, 0);
}

static void test_long_and_short(void **state)
{
    struct args a, b;
    int i;

    (void)state;
    i = parse(&a, "--json", "--name", "x", "--count=7", "--item", "p",
              "--item", "q", "--mode", "slow", "--where", "/tmp",
              "--level", "3", "in", NULL);
    assert_int_equal(i, 15);
    assert_int_equal(a.json, 1);
    assert_string_equal(a.name, "x");
    assert_int_equal(a.count, 7);
    assert_int_equal(a.items.n, 2);
    assert_string_equal(a.items.v[0], "p");
    assert_string_equal(a.items.v[1], "q");
    assert_int_equal(a.mode, 2);
    assert_int_equal(a.calls, 1);
    /* The included rows land in the member they were included at. */
    assert_string_equal(a.sub.where, "/tmp");
    assert_int_equal(a.sub.level, 3);

    i = parse(&b, "-j", "-n", "x", "-c7", "-i", "p", "-iq", "-w", "/tmp",
              "in", NULL);
    assert_int_equal(i, 10);
    assert_int_equal(b.json, 1);
    assert_string_equal(b.name, "x");
    assert_int_equal(b.count, 7);
    assert_int_equal(b.items.n, 2);
    assert_string_equal(b.items.v[1], "q");
    assert_string_equal(b.sub.where, "/tmp");
}

static void test_flag_values_last_wins(void **state)
{
    struct args a;

    (void)state;
    assert_true(parse(&a, "--progress", "--no-progress", "in", NULL) > 0);
    assert_int_equal(a.progress, 0);
    assert_true(parse(&a, "--no-progress", "--progress", "in", NULL) > 0);
    assert_int_equal(a.progress, 1);
}

static void test_operands_anywhere(void **state)
{
    struct args a;
    int i;

    (void)state;
    /* GNU order: options after operands still count; the operands are
     * moved to the end, starting at the returned index. */
    i = parse(&a, "in", "--json", "out", NULL);
    assert_int_equal(i, 2);
    assert_int_equal(a.json, 1);
    /* "--" ends the options: "-j" after it is an operand. */
    i = parse(&a, "--", "-j", NULL);
    assert_int_equal(i, 2);
    assert_int_equal(a.json, 0);
}

static void test_abbreviation(void **state)
{
    struct args a;

    (void)state;
    assert_true(parse(&a, "--js", "in", NULL) > 0);
    assert_int_equal(a.json, 1);
    /* "--n" is "--name" or "--no-progress": ambiguous, refused. */
    assert_int_equal(parse(&a, "--n", "x", "in", NULL), CLI_STOP_USAGE);
}

static void test_usage_errors(void **state)
{
    struct args a;

    (void)state;
    assert_int_equal(parse(&a, "--bogus", "in", NULL), CLI_STOP_USAGE);
    assert_int_equal(parse(&a, "-Z", "in", NULL), CLI_STOP_USAGE);
    assert_int_equal(parse(&a, "in", "--name", NULL), CLI_STOP_USAGE);
    assert_int_equal(parse(&a, "in", "-n", NULL), CLI_STOP_USAGE);
    assert_int_equal(parse(&a, "--json=1", "in", NULL), CLI_STOP_USAGE);
    /* Numbers: not a number, trailing junk, out of range both ways. */
    assert_int_equal(parse(&a, "--count", "x", "in", NULL), CLI_STOP_USAGE);
    assert_int_equal(parse(&a, "--count", "5k", "in", NULL), CLI_STOP_USAGE);
    assert_int_equal(parse(&a, "--count", "0", "in", NULL), CLI_STOP_USAGE);
    assert_int_equal(parse(&a, "--count", "101", "in", NULL),
                     CLI_STOP_USAGE);
    assert_int_equal(parse(&a, "--count", "", "in", NULL), CLI_STOP_USAGE);
    assert_int_equal(parse(&a, "--level", "10", "in", NULL), CLI_STOP_USAGE);
    /* A callback's refusal. */
    assert_int_equal(parse(&a, "--mode", "medium", "in", NULL),
                     CLI_STOP_USAGE);
    assert_int_equal(a.calls, 1);
    /* Operands: none, three. */
    assert_int_equal(parse(&a, NULL), CLI_STOP_USAGE);
    assert_int_equal(parse(&a, "a", "b", "c", NULL), CLI_STOP_USAGE);
    assert_int_equal(cli_stop_code(CLI_STOP_USAGE), 2);
    assert_int_equal(cli_stop_code(CLI_STOP_HELP), 0);
}

static void test_list_cap(void **state)
{
    static char items[CLI_LIST_MAX + 1][8];
    char *argv[2 * (CLI_LIST_MAX + 1) + 3];
    struct args a;
    int argc = 0, k;

    (void)state;
    argv[argc++] = (char *)"test";
    for (k = 0; k < CLI_LIST_MAX; k++) {
        snprintf(items[k], sizeof(items[k]), "%d", k);
        argv[argc++] = (char *)"-i";
        argv[argc++] = items[k];
    }
    argv[argc++] = (char *)"in";
    argv[argc] = NULL;
    memset(&a, 0, sizeof(a));
    assert_int_equal(cli_parse(&spec, argc, argv, &a), argc - 1);
    assert_int_equal(a.items.n, CLI_LIST_MAX);
    assert_string_equal(a.items.v[CLI_LIST_MAX - 1], "63");
    /* One more is refused, not dropped. */
    argc--;
    snprintf(items[CLI_LIST_MAX], sizeof(items[0]), "x");
    argv[argc++] = (char *)"-i";
    argv[argc++] = items[CLI_LIST_MAX];
    argv[argc++] = (char *)"in";
    argv[argc] = NULL;
    memset(&a, 0, sizeof(a));
    assert_int_equal(cli_parse(&spec, argc, argv, &a), CLI_STOP_USAGE);
}

static void test_help(void **state)
{
    const struct cli_opt *o;
    char *buf = NULL, *line, *save = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct args a;

    (void)state;
    assert_non_null(f);
    cli_help(&spec, f);
    fclose(f);
    assert_non_null(strstr(buf, "Usage: vmstream test [OPTIONS] A [B]\n"));
    assert_non_null(strstr(buf, "       vmstream test --other FORM\n"));
    assert_non_null(strstr(buf, "A test command.\n"));
    assert_non_null(strstr(buf, "Exit status: 0.\n"));
    assert_non_null(strstr(buf, "  -j, --json "));
    assert_non_null(strstr(buf, "  -c, --count N "));
    assert_non_null(strstr(buf, "      --mode fast|slow "));
    assert_non_null(strstr(buf, "  -w, --where DIR "));
    assert_non_null(strstr(buf, "  -h, --help "));
    for (o = opts; o->name; o++) {
        char want[64];

        if (o->kind == CLI_ARG_INCLUDE) {
            continue;
        }
        snprintf(want, sizeof(want), "--%s", o->name);
        assert_non_null(strstr(buf, want));
    }
    for (line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        assert_true(strlen(line) <= 79);
    }
    free(buf);
    /* --help and -h stop the parse with CLI_STOP_HELP. */
    assert_int_equal(parse(&a, "--help", NULL), CLI_STOP_HELP);
    assert_int_equal(parse(&a, "in", "-h", NULL), CLI_STOP_HELP);
}

static void test_numbers(void **state)
{
    long v = 0;
    unsigned long long u = 0;

    (void)state;
    assert_int_equal(cli_parse_long("42", 10, 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(cli_parse_long("0x10", 0, 0, 100, &v), 0);
    assert_int_equal(v, 16);
    assert_int_equal(cli_parse_long("-1", 10, 0, 100, &v), -1);
    assert_int_equal(cli_parse_long("101", 10, 0, 100, &v), -1);
    assert_int_equal(cli_parse_long("99999999999999999999", 10, 0,
                                    LONG_MAX, &v), -1);
    assert_int_equal(cli_parse_long("", 10, 0, 100, &v), -1);
    assert_int_equal(cli_parse_long(" 1", 10, 0, 100, &v), -1);
    assert_int_equal(cli_parse_u64("0x40000000", &u), 0);
    assert_true(u == 0x40000000ULL);
    assert_int_equal(cli_parse_u64("0xffffffffffffffff", &u), 0);
    assert_true(u == ~0ULL);
    assert_int_equal(cli_parse_u64("-1", &u), -1);
    assert_int_equal(cli_parse_u64("0x1g", &u), -1);
    assert_int_equal(cli_parse_u64("0x10000000000000000", &u), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_long_and_short),
        cmocka_unit_test(test_flag_values_last_wins),
        cmocka_unit_test(test_operands_anywhere),
        cmocka_unit_test(test_abbreviation),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_list_cap),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_numbers),
    };

    return cmocka_run_group_tests_name("cli_opts", tests, NULL, NULL);
}
