/* tests/escape/libfuzzer_target.c: a libFuzzer entry point (clang only;
 * built and run by tests/fuzz with -Dfuzz=enabled).
 *
 * Same contract as fuzz_test.c: a rejected input comes with a message and
 * a line inside the input; an accepted one is analysed, printed as -m
 * lines, and run twice with small limits (its decisions with --check,
 * then every object on the heap): nothing may be unsound and both runs
 * must print the same and end the same way, except where the stack limit
 * strikes (frame sizes depend on placement). libFuzzer supplies the
 * mutations and the coverage feedback; tests/fuzz builds the escape
 * sources with coverage, AddressSanitizer and UndefinedBehaviorSanitizer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_one(const struct tc_ir_prog *p, const struct tc_escape_result *r, int all_heap,
                   char **out, size_t *len, struct tc_escape_run_report *rep)
{
    struct tc_escape_run_opts o;
    tc_escape_run_opts_default(&o);
    o.check = !all_heap;
    o.all_heap = all_heap;
    o.max_steps = 5000;
    o.max_depth = 32;
    o.max_object = 1 << 20;
    o.max_stack = 16 << 20;
    FILE *f = open_memstream(out, len);
    if (!f) abort();
    int st = (int)tc_escape_run(p, r, &o, f, rep);
    fclose(f);
    return st;
}

static int lines_in(const uint8_t *data, size_t size)
{
    int n = 1;
    for (size_t i = 0; i < size; i++) n += data[i] == '\n';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_ir_error err;
    struct tc_ir_prog *p = tc_ir_parse((const char *)data, size, &err);
    if (!p) {
        if (err.msg[0] == '\0' || err.line < 1 || err.line > lines_in(data, size)) {
            fprintf(stderr, "parser error without a valid line or message: line %d, \"%s\"\n",
                    err.line, err.msg);
            abort();
        }
        return 0;
    }
    struct tc_escape_result res;
    if (tc_escape_analyze(p, &res) != 0) {
        fprintf(stderr, "the analysis failed on a program the parser accepted\n");
        abort();
    }
    FILE *null = fopen("/dev/null", "w");
    if (!null) abort();
    tc_escape_diag_print(null, "fuzz.ir", p, &res);
    fclose(null);
    if (p->main_func >= 0) {
        char *o1 = NULL, *o2 = NULL;
        size_t n1 = 0, n2 = 0;
        struct tc_escape_run_report r1, r2;
        int s1 = run_one(p, &res, 0, &o1, &n1, &r1);
        int s2 = run_one(p, &res, 1, &o2, &n2, &r2);
        int overflow = strstr(r1.msg, "stack overflow") || strstr(r2.msg, "stack overflow");
        if (s1 == TC_RUN_UNSOUND || s1 == TC_RUN_NOMEM || s2 == TC_RUN_NOMEM ||
            (!overflow && (s1 != s2 || n1 != n2 || memcmp(o1, o2, n1) != 0 || r1.line != r2.line))) {
            fprintf(stderr, "runs disagree or unsound: %d line %d \"%s\" / %d line %d \"%s\"\n",
                    s1, r1.line, r1.msg, s2, r2.line, r2.msg);
            abort();
        }
        free(o1);
        free(o2);
    }
    tc_escape_result_free(&res);
    tc_ir_free(p);
    return 0;
}
