/* escape/main.c: the tricolor-escape command.
 *
 *   tricolor-escape -m FILE.ir
 *       the escape analysis' decisions as Go's -m lines, on stdout
 *   tricolor-escape run [--check] [--all-heap] [--max-steps N]
 *                       [--max-depth N] [--max-stack BYTES] FILE.ir
 *       run func main; its prints on stdout, then one summary line on
 *       stderr with the stack and heap allocation counts and bytes
 *   run --all-stack (for testing the checker) puts every object the
 *       analysis decides about on the stack, right or wrong; with --check
 *       it shows the checker catching the wrong decisions
 *   tricolor-escape --help | --version
 *
 * getopt_long parses in two steps: the command's own options (-m, --help,
 * --version) up to the first operand, which is the file for -m and must
 * be `run` otherwise; then run's options, which may come before or after
 * its file. A mistake on the command line gets one line on stderr that
 * names the option or argument at fault.
 *
 * Exit status: 0 success; 1 an unreadable file or an error in the input
 * (FILE:LINE: error: ...); 2 a usage error, or a run-time fault
 * (FILE:LINE: error: ...); 3 an unsound stack decision caught by --check
 * (FILE:LINE: unsound: ...); 4 the interpreter ran out of memory. */
#include "escape.h"
#include "tricolor.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_INPUT 1
#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: tricolor-escape -m FILE.ir\n"
    "       tricolor-escape run [--check] [--all-heap] [--max-steps N] [--max-depth N]\n"
    "                           [--max-stack BYTES] FILE.ir\n"
    "       tricolor-escape --help | --version\n";

static void help(const struct tc_escape_run_opts *d)
{
    printf("%s\n"
           "Go's escape analysis over a program in the escape IR (docs/escape-ir.md), and\n"
           "an interpreter that runs it with those decisions on tricolor's collected heap.\n"
           "\n"
           "  -m FILE.ir          print the decisions as Go's -m lines, in source order\n"
           "  run FILE.ir         run func main: its prints on stdout, then one summary\n"
           "                      line on stderr (allocations on the stack and the heap)\n"
           "    --check           poison dead frames; stop at the first use of a dead stack\n"
           "                      object, a stack pointer stored in the heap, or a frame\n"
           "                      returning its own address (exit 3)\n"
           "    --all-heap        every object on the heap (compare with the decisions)\n"
           "    --all-stack       every object the analysis decides about on the stack,\n"
           "                      right or wrong (shows --check catching the wrong ones)\n"
           "    --max-steps N     fault after N statements and loop iterations\n"
           "                      (default %llu)\n"
           "    --max-depth N     fault beyond N nested calls (default %d, at most 100000)\n"
           "    --max-stack BYTES fault when the frames need more than BYTES\n"
           "                      (default %llu)\n"
           "  -h, --help          this text\n"
           "  -V, --version       the version of tricolor\n"
           "\n"
           "Exit status: 0 success; 1 an unreadable file or an error in the input;\n"
           "2 a usage error, or a run-time fault of the program (nil, bounds, limits);\n"
           "3 an unsound stack decision caught by --check; 4 out of memory.\n",
           usage_text, (unsigned long long)d->max_steps, d->max_depth,
           (unsigned long long)d->max_stack);
}

/* One line naming what is wrong; the usage text stays in --help. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tricolor-escape: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see tricolor-escape --help)\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

/* getopt_long returned c (':' or '?', with opterr off): say which of the
 * arguments was wrong, as the user wrote it. optopt is 0 for an unknown
 * (or ambiguous) long option, and the code of a known one given a value
 * it does not take: 256 and up, or its short letter; any other letter is
 * an unknown short option. No option takes a value in its short form, so
 * ':' always comes from a long one. Each of these left optind past it. */
static int bad_option(int c, char **argv, const char *shorts, const struct option *longs)
{
    const char *arg = argv[optind - 1];
    int len = (int)strcspn(arg, "=");
    if (c == ':') return usage_error("option '%.*s' needs a value", len, arg);
    if (optopt >= 256 || (optopt && strchr(shorts, optopt)))
        return usage_error("option '%.*s' takes no value", len, arg);
    if (optopt) return usage_error("unknown option '-%c'", optopt);
    int matches = 0;
    for (const struct option *o = longs; o->name; o++)
        matches += len > 2 && strncmp(o->name, arg + 2, (size_t)len - 2) == 0;
    if (matches > 1) return usage_error("ambiguous option '%.*s'", len, arg);
    return usage_error("unknown option '%.*s'", len, arg);
}

enum { OPT_CHECK = 256, OPT_ALL_HEAP, OPT_ALL_STACK, OPT_MAX_STEPS, OPT_MAX_DEPTH, OPT_MAX_STACK };

static const struct option command_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const struct option run_options[] = {
    {"check", no_argument, NULL, OPT_CHECK},
    {"all-heap", no_argument, NULL, OPT_ALL_HEAP},
    {"all-stack", no_argument, NULL, OPT_ALL_STACK},
    {"max-steps", required_argument, NULL, OPT_MAX_STEPS},
    {"max-depth", required_argument, NULL, OPT_MAX_DEPTH},
    {"max-stack", required_argument, NULL, OPT_MAX_STACK},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The whole file, NUL-terminated; NULL with a message on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tricolor-escape: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if (cap - n - 1 == 0) {
            char *b = realloc(buf, cap * 2);
            if (!b) { free(buf); buf = NULL; break; }
            buf = b;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        fprintf(stderr, "tricolor-escape: cannot read %s\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The value of option --name: a whole number from 1 to max. */
static int parse_count(const char *name, const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || errno || *end || v == 0 || v > max) {
        if (max == UINT64_MAX)
            return usage_error("option '--%s': bad value '%s' (want a positive whole number)",
                               name, s);
        return usage_error("option '--%s': bad value '%s' (want a whole number from 1 to %llu)",
                           name, s, (unsigned long long)max);
    }
    *out = v;
    return 0;
}

struct cmdline {
    int analyse_only;  /* -m */
    const char *path;  /* the IR file */
    struct tc_escape_run_opts opts;
};

/* What parse_* return besides an exit status. */
enum { GO_ON = -1 /* the command line is complete */, SHOW_HELP = -2 };

/* The operands left from optind on: exactly one, the IR file. */
static int take_file(int argc, char **argv, const char *who, struct cmdline *cl)
{
    if (optind == argc) return usage_error("%s needs a FILE.ir", who);
    if (optind + 1 < argc) return usage_error("unexpected argument '%s'", argv[optind + 1]);
    cl->path = argv[optind];
    return GO_ON;
}

/* argv[0] is "run": its options and its one file. */
static int parse_run(int argc, char **argv, struct cmdline *cl)
{
    optind = 0; /* glibc: start afresh on this vector */
    int c, i;
    uint64_t v;
    static const char shorts[] = ":h";
    while ((c = getopt_long(argc, argv, shorts, run_options, &i)) != -1) {
        switch (c) {
        case OPT_CHECK: cl->opts.check = 1; break;
        case OPT_ALL_HEAP: cl->opts.all_heap = 1; break;
        case OPT_ALL_STACK: cl->opts.all_stack = 1; break;
        case OPT_MAX_STEPS:
            if (parse_count(run_options[i].name, optarg, UINT64_MAX, &cl->opts.max_steps))
                return EXIT_USAGE;
            break;
        case OPT_MAX_DEPTH:
            if (parse_count(run_options[i].name, optarg, 100000, &v)) return EXIT_USAGE;
            cl->opts.max_depth = (int)v;
            break;
        case OPT_MAX_STACK:
            if (parse_count(run_options[i].name, optarg, UINT64_MAX, &cl->opts.max_stack))
                return EXIT_USAGE;
            break;
        case 'h': return SHOW_HELP;
        default: return bad_option(c, argv, shorts, run_options);
        }
    }
    if (cl->opts.all_heap && cl->opts.all_stack)
        return usage_error("options '--all-heap' and '--all-stack' exclude each other");
    return take_file(argc, argv, "run", cl);
}

static int parse_command_line(int argc, char **argv, struct cmdline *cl)
{
    opterr = 0; /* our own messages (bad_option) */
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    static const char shorts[] = "+:hVm";
    int c;
    while ((c = getopt_long(argc, argv, shorts, command_options, NULL)) != -1) {
        switch (c) {
        case 'h': return SHOW_HELP;
        case 'V':
            printf("tricolor-escape (tricolor) %s\n", gc_version());
            return fflush(stdout) ? EXIT_INPUT : 0;
        case 'm': cl->analyse_only = 1; break;
        default: return bad_option(c, argv, shorts, command_options);
        }
    }
    if (cl->analyse_only) return take_file(argc, argv, "-m", cl);
    if (optind == argc) return usage_error("missing command: -m FILE.ir or run FILE.ir");
    if (strcmp(argv[optind], "run") != 0)
        return usage_error("unknown command '%s' (want -m FILE.ir or run FILE.ir)", argv[optind]);
    return parse_run(argc - optind, argv + optind, cl);
}

int main(int argc, char **argv)
{
    struct cmdline cl = {0};
    tc_escape_run_opts_default(&cl.opts);
    int status = parse_command_line(argc, argv, &cl);
    if (status == SHOW_HELP) {
        struct tc_escape_run_opts d;
        tc_escape_run_opts_default(&d);
        help(&d);
        return fflush(stdout) ? EXIT_INPUT : 0;
    }
    if (status != GO_ON) return status;
    const char *path = cl.path;

    size_t len;
    char *text = slurp(path, &len);
    if (!text) return EXIT_INPUT;
    struct tc_ir_error err;
    struct tc_ir_prog *prog = tc_ir_parse(text, len, &err);
    free(text);
    if (!prog) {
        fprintf(stderr, "%s:%d: error: %s\n", path, err.line, err.msg);
        return EXIT_INPUT;
    }
    struct tc_escape_result res;
    if (tc_escape_analyze(prog, &res)) {
        fprintf(stderr, "%s: error: out of memory during the analysis\n", path);
        tc_ir_free(prog);
        return EXIT_INPUT;
    }
    int rc = 0;
    if (cl.analyse_only) {
        if (tc_escape_diag_print(stdout, path, prog, &res) < 0) {
            fprintf(stderr, "%s: error: out of memory\n", path);
            rc = EXIT_INPUT;
        }
    } else if (prog->main_func < 0) {
        fprintf(stderr, "%s:1: error: no func main to run\n", path);
        rc = EXIT_INPUT;
    } else {
        struct tc_escape_run_report rep;
        rc = (int)tc_escape_run(prog, &res, &cl.opts, stdout, &rep);
        if (rc != TC_RUN_OK)
            fprintf(stderr, "%s:%d: %s: %s\n", path, rep.line, rc == TC_RUN_UNSOUND ? "unsound" : "error", rep.msg);
        struct gc_stats st = GC_STATS_INIT;
        gc_read_stats(&st);
        fprintf(stderr, "%s: stack allocations: %llu (%llu bytes), heap allocations: %llu (%llu bytes), steps: %llu, gc cycles: %u\n",
                path, (unsigned long long)rep.stack_allocs, (unsigned long long)rep.stack_bytes,
                (unsigned long long)rep.heap_allocs, (unsigned long long)rep.heap_bytes,
                (unsigned long long)rep.steps, st.gc_num);
    }
    tc_escape_result_free(&res);
    tc_ir_free(prog);
    if (fflush(stdout) != 0 && rc == 0) rc = EXIT_INPUT;
    return rc;
}
