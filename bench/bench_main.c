/*
 * bench_main.c - the tc-bench program: registers every workload with the
 * Google Benchmark shim and runs the ones selected by --benchmark_filter.
 *
 * The binary is linked against the system malloc and nothing else; the
 * allocator under test arrives through LD_PRELOAD (scripts/bench-report
 * runs it once per allocator). So that a failed preload cannot pass for a
 * result, the object providing malloc is written into the JSON context as
 * "malloc_lib", and if TC_BENCH_EXPECT_MALLOC is set the program refuses
 * to run under any other allocator.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbench_shim.h"
#include "malloc_id.h"
#include "workload.h"

void tcb_register(const struct tc_bench_spec *spec) {
    if (tc_bench_register(spec) != 0) exit(2);
}

void tcb_fail(struct tc_bench_state *st, const char *msg) {
    tc_bench_fail(st, msg);
    while (tc_bench_keep_running(st)) {
    }
}

_Noreturn void tcb_oom(size_t size) {
    int err = errno; /* before fprintf can change it */
    fprintf(stderr, "tc-bench: malloc(%zu) returned NULL (errno: %s)\n", size, strerror(err));
    abort();
}

int main(int argc, char **argv) {
    if (tcb_check_malloc_lib("tc-bench") != 0) return 3;
    char lib[1024];
    tc_bench_context("malloc_lib", tcb_malloc_lib(lib, sizeof lib));
    char seed[32];
    snprintf(seed, sizeof seed, "%#llx", (unsigned long long)TCB_SEED);
    tc_bench_context("trace_seed", seed);

    tcb_register_small();
    tcb_register_mixed();
    tcb_register_realloc();
    tcb_register_xthread();
    tcb_register_threads();
    tcb_register_bintree();
    return tc_bench_main(argc, argv);
}
