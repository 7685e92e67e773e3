/* tests/escape/libfuzzer_target.c: a libFuzzer entry point (clang only).
 *
 * Same contract as fuzz_test.c: any input is parsed; accepted programs
 * are analysed, printed as -m lines and run with small limits, and a
 * checked run must never be unsound. libFuzzer supplies the mutations and
 * coverage feedback; build with -fsanitize=fuzzer,address,undefined. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_ir_error err;
    struct tc_ir_prog *p = tc_ir_parse((const char *)data, size, &err);
    if (!p) return 0;
    struct tc_escape_result res;
    if (tc_escape_analyze(p, &res) == 0) {
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            tc_escape_diag_print(null, "fuzz.ir", p, &res);
            if (p->main_func >= 0) {
                struct tc_escape_run_opts o;
                struct tc_escape_run_report rep;
                tc_escape_run_opts_default(&o);
                o.check = 1;
                o.max_steps = 5000;
                o.max_depth = 32;
                o.max_object = 1 << 20;
                o.max_stack = 16 << 20;
                if (tc_escape_run(p, &res, &o, null, &rep) == TC_RUN_UNSOUND) {
                    fprintf(stderr, "unsound: line %d: %s\n", rep.line, rep.msg);
                    abort();
                }
            }
            fclose(null);
        }
        tc_escape_result_free(&res);
    }
    tc_ir_free(p);
    return 0;
}
