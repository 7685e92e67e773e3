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
 *
 * Exit status: 0 success; 1 usage, unreadable file, or an error in the
 * input (FILE:LINE: error: ...); 2 a run-time fault (FILE:LINE: error:
 * ...); 3 an unsound stack decision caught by --check (FILE:LINE:
 * unsound: ...); 4 the interpreter ran out of memory. */
#include "escape.h"
#include "tricolor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    fputs("usage: tricolor-escape -m FILE.ir\n"
          "       tricolor-escape run [--check] [--all-heap] [--max-steps N] [--max-depth N]\n"
          "                           [--max-stack BYTES] FILE.ir\n"
          "       tricolor-escape run --all-stack ...   (testing the checker: ignore the analysis)\n",
          stderr);
}

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

static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v == 0 || v > max) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    int analyse_only = 0;
    const char *path = NULL;
    struct tc_escape_run_opts opts;
    tc_escape_run_opts_default(&opts);
    if (argc >= 3 && strcmp(argv[1], "-m") == 0 && argc == 3) {
        analyse_only = 1;
        path = argv[2];
    } else if (argc >= 3 && strcmp(argv[1], "run") == 0) {
        for (int i = 2; i < argc; i++) {
            uint64_t v;
            if (strcmp(argv[i], "--check") == 0) {
                opts.check = 1;
            } else if (strcmp(argv[i], "--all-heap") == 0) {
                opts.all_heap = 1;
            } else if (strcmp(argv[i], "--all-stack") == 0) {
                opts.all_stack = 1;
            } else if (strcmp(argv[i], "--max-stack") == 0 && i + 1 < argc) {
                if (parse_count(argv[++i], UINT64_MAX, &opts.max_stack)) goto bad_number;
            } else if (strcmp(argv[i], "--max-steps") == 0 && i + 1 < argc) {
                if (parse_count(argv[++i], UINT64_MAX, &opts.max_steps)) goto bad_number;
            } else if (strcmp(argv[i], "--max-depth") == 0 && i + 1 < argc) {
                if (parse_count(argv[++i], 100000, &v)) goto bad_number;
                opts.max_depth = (int)v;
            } else if (argv[i][0] == '-' || path) {
                usage();
                return 1;
            } else {
                path = argv[i];
            }
        }
        if (!path || (opts.all_heap && opts.all_stack)) { usage(); return 1; }
    } else {
        usage();
        return 1;
    }

    size_t len;
    char *text = slurp(path, &len);
    if (!text) return 1;
    struct tc_ir_error err;
    struct tc_ir_prog *prog = tc_ir_parse(text, len, &err);
    free(text);
    if (!prog) {
        fprintf(stderr, "%s:%d: error: %s\n", path, err.line, err.msg);
        return 1;
    }
    struct tc_escape_result res;
    if (tc_escape_analyze(prog, &res)) {
        fprintf(stderr, "%s: error: out of memory during the analysis\n", path);
        tc_ir_free(prog);
        return 1;
    }
    int rc = 0;
    if (analyse_only) {
        if (tc_escape_diag_print(stdout, path, prog, &res) < 0) {
            fprintf(stderr, "%s: error: out of memory\n", path);
            rc = 1;
        }
    } else if (prog->main_func < 0) {
        fprintf(stderr, "%s:1: error: no func main to run\n", path);
        rc = 1;
    } else {
        struct tc_escape_run_report rep;
        rc = (int)tc_escape_run(prog, &res, &opts, stdout, &rep);
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
    if (fflush(stdout) != 0 && rc == 0) rc = 1;
    return rc;

bad_number:
    fprintf(stderr, "tricolor-escape: bad count (expected a positive integer)\n");
    return 1;
}
