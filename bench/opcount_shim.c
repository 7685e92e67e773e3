/*
 * opcount_shim.c - the gbench_shim.h interface without Google Benchmark,
 * for counting instructions per operation (the tc-opcount program).
 *
 * tc-opcount links bench_main.c and the workloads as tc-bench does, with
 * this file in place of gbench_shim.cc: `tc-opcount NAME ITERATIONS` runs
 * the one-thread workload NAME (as tc-bench names it, without the
 * "/real_time" suffix) for exactly ITERATIONS turns of its loop inside
 * tcb_counted_run, and prints its operation count. So
 *
 *   valgrind --tool=callgrind --toggle-collect=tcb_counted_run \
 *       tc-opcount malloc/small_batch 2000
 *
 * with an allocator preloaded counts the instructions of exactly those
 * operations (set-up and teardown included), the same for every peer; the
 * total divided by the count is a figure that does not depend on the
 * noise of a shared machine (bench/README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbench_shim.h"

#define MAX_SPECS 64

struct tc_bench_state {
    int64_t left, done, items;
    const struct tc_bench_spec *spec;
    int failed;
};

static struct tc_bench_spec specs[MAX_SPECS];
static int nspecs;

int tc_bench_register(const struct tc_bench_spec *spec) {
    if (nspecs == MAX_SPECS) {
        fprintf(stderr, "tc-opcount: more than %d workloads\n", MAX_SPECS);
        return -1;
    }
    specs[nspecs++] = *spec;
    return 0;
}

bool tc_bench_keep_running(struct tc_bench_state *st) {
    if (st->left == 0) return false;
    st->left--;
    st->done++;
    return true;
}

int64_t tc_bench_arg(const struct tc_bench_state *st, int i) { return st->spec->args[i]; }
int tc_bench_thread_index(const struct tc_bench_state *st) { (void)st; return 0; }
int tc_bench_threads(const struct tc_bench_state *st) { (void)st; return 1; }
int64_t tc_bench_iterations(const struct tc_bench_state *st) { return st->done; }
void tc_bench_set_items(struct tc_bench_state *st, int64_t items) { st->items = items; }
void tc_bench_counter(struct tc_bench_state *st, const char *name, double value,
                      enum tc_bench_counter_kind kind) {
    (void)st, (void)name, (void)value, (void)kind;
}
void tc_bench_pause(struct tc_bench_state *st) { (void)st; }
void tc_bench_resume(struct tc_bench_state *st) { (void)st; }
void tc_bench_fail(struct tc_bench_state *st, const char *msg) {
    fprintf(stderr, "tc-opcount: %s\n", msg);
    st->failed = 1;
}
void tc_bench_context(const char *key, const char *value) { (void)key, (void)value; }

/* The name as tc-bench lists it: "group/workload", then each argument. */
static void full_name(const struct tc_bench_spec *s, char *out, size_t cap) {
    int n = snprintf(out, cap, "%s", s->name);
    for (int i = 0; i < s->nargs && n > 0 && (size_t)n < cap; i++)
        n += snprintf(out + n, cap - (size_t)n, "/%lld", (long long)s->args[i]);
}

__attribute__((noinline)) void tcb_counted_run(struct tc_bench_state *st);
__attribute__((noinline)) void tcb_counted_run(struct tc_bench_state *st) { st->spec->fn(st); }

int tc_bench_main(int argc, char **argv) {
    char *end = NULL;
    long long iters = argc == 3 ? strtoll(argv[2], &end, 10) : 0;
    if (argc != 3 || *end != '\0' || iters <= 0) {
        fprintf(stderr, "usage: tc-opcount WORKLOAD ITERATIONS   (one-thread workloads:");
        for (int i = 0; i < nspecs; i++) {
            char name[128];
            full_name(&specs[i], name, sizeof name);
            if (specs[i].threads <= 1) fprintf(stderr, " %s", name);
        }
        fprintf(stderr, ")\n");
        return 2;
    }
    for (int i = 0; i < nspecs; i++) {
        char name[128];
        full_name(&specs[i], name, sizeof name);
        if (strcmp(name, argv[1]) != 0 || specs[i].threads > 1) continue;
        struct tc_bench_state st = {.left = iters, .spec = &specs[i]};
        tcb_counted_run(&st);
        printf("workload=%s iterations=%lld operations=%lld\n", name, iters, (long long)st.items);
        return st.failed;
    }
    fprintf(stderr, "tc-opcount: no one-thread workload named '%s'\n", argv[1]);
    return 2;
}
