/*
 * gbench_shim.h - a small C interface to Google Benchmark.
 *
 * Every benchmark body in bench/ is C; only gbench_shim.cc is C++. A body
 * receives an opaque struct tc_bench_state (a benchmark::State underneath)
 * and loops on tc_bench_keep_running(). One Google Benchmark iteration is
 * whatever chunk of work the body does per loop turn; bodies report the
 * number of allocator operations with tc_bench_set_items(), and the report
 * derives time per operation from items_per_second (all benchmarks measure
 * wall-clock time, so threaded ones report aggregate throughput).
 */
#ifndef TC_GBENCH_SHIM_H
#define TC_GBENCH_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TC_BENCH_MAX_ARGS 4

struct tc_bench_state; /* opaque: a benchmark::State */

typedef void tc_bench_fn(struct tc_bench_state *st);

struct tc_bench_spec {
    const char *name;  /* "group/workload"; Google Benchmark appends args */
    tc_bench_fn *fn;   /* the body; runs once per thread per measured run */
    const char *what;  /* one line: what one operation is (JSON "label") */
    int threads;       /* threads running fn at once; 0 means 1 */
    int nargs;         /* number of valid entries in args */
    int64_t args[TC_BENCH_MAX_ARGS];
};

enum tc_bench_counter_kind {
    TC_COUNTER_PLAIN,       /* summed over threads as is */
    TC_COUNTER_RATE,        /* divided by the measured (wall) seconds */
    TC_COUNTER_AVG_THREADS, /* averaged over threads */
};

/* Register one benchmark. Returns 0, or -1 (with a message on stderr) for a
 * malformed spec. Call before tc_bench_main(). */
int tc_bench_register(const struct tc_bench_spec *spec);

/* Loop condition of a body: true while another iteration should run. */
bool tc_bench_keep_running(struct tc_bench_state *st);

int64_t tc_bench_arg(const struct tc_bench_state *st, int i);
int tc_bench_thread_index(const struct tc_bench_state *st);
int tc_bench_threads(const struct tc_bench_state *st);
int64_t tc_bench_iterations(const struct tc_bench_state *st);

/* Allocator operations done by this thread; summed over threads. */
void tc_bench_set_items(struct tc_bench_state *st, int64_t items);
void tc_bench_counter(struct tc_bench_state *st, const char *name, double value,
                      enum tc_bench_counter_kind kind);

/* Stop timing for set-up inside the loop (costly: avoid per operation). */
void tc_bench_pause(struct tc_bench_state *st);
void tc_bench_resume(struct tc_bench_state *st);

/* Mark the run failed; the body must still leave its loop and return. */
void tc_bench_fail(struct tc_bench_state *st, const char *msg);

/* A key/value pair printed in the report's "context" section. */
void tc_bench_context(const char *key, const char *value);

/* Parse --benchmark_* flags, run the selected benchmarks, return an exit
 * status: 2 for unknown arguments, 1 if any benchmark failed. */
int tc_bench_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
