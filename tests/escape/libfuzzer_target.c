/* tests/escape/libfuzzer_target.c: a libFuzzer entry point (clang only;
 * built and run by tests/fuzz with -Dfuzz=enabled).
 *
 * Same contract as fuzz_test.c: a rejected input comes with a message and
 * a line inside the input; an accepted one is analysed, printed as -m
 * lines, and run twice (run_twice.h). libFuzzer supplies the
 * mutations and the coverage feedback; tests/fuzz builds the escape
 * sources with coverage, AddressSanitizer and UndefinedBehaviorSanitizer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "run_twice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
        struct run_twice rt;
        if (run_twice(p, &res, &rt)) {
            fprintf(stderr, "runs disagree or unsound: %d line %d \"%s\" / %d line %d \"%s\"\n",
                    rt.s1, rt.r1.line, rt.r1.msg, rt.s2, rt.r2.line, rt.r2.msg);
            abort();
        }
        free(rt.o1);
        free(rt.o2);
    }
    tc_escape_result_free(&res);
    tc_ir_free(p);
    return 0;
}
