/*
 * wl_small.c - single-thread small-object workloads.
 *
 * The fast path of any allocator is the small-object path: most programs
 * make most of their requests at 16..128 bytes. Two shapes exercise it:
 *
 *   malloc/small_batch  allocate a batch of 1024 objects (16..128 B, fixed
 *                       trace), write each, then free them in allocation
 *                       order. Measures the per-object cost when the
 *                       thread cache must hand out and take back a whole
 *                       batch: refills and flushes are part of the figure.
 *   malloc/small_pair   malloc then free at once, 1024 times per iteration
 *                       over the same trace. Measures the bare fast paths,
 *                       where an object is reused immediately.
 *
 * One operation is one malloc plus its free.
 */
#include <stdlib.h>
#include <string.h>

#include "workload.h"

enum { SMALL_BATCH = 1024 };

struct small_trace {
    size_t size[SMALL_BATCH];
    void *obj[SMALL_BATCH];
};

static struct small_trace *small_trace_new(struct tc_bench_state *st) {
    struct small_trace *t = malloc(sizeof *t);
    if (t == NULL) {
        tcb_fail(st, "out of memory building the trace");
        return NULL;
    }
    uint64_t seed = TCB_SEED;
    for (int i = 0; i < SMALL_BATCH; i++) t->size[i] = tcb_uniform(&seed, 16, 128);
    return t;
}

static void small_batch(struct tc_bench_state *st) {
    struct small_trace *t = small_trace_new(st);
    if (t == NULL) return;
    while (tc_bench_keep_running(st)) {
        for (int i = 0; i < SMALL_BATCH; i++) {
            void *p = malloc(t->size[i]);
            if (p == NULL) tcb_oom(t->size[i]);
            memcpy(p, &i, sizeof i);
            t->obj[i] = p;
        }
        for (int i = 0; i < SMALL_BATCH; i++) free(t->obj[i]);
    }
    tc_bench_set_items(st, tc_bench_iterations(st) * SMALL_BATCH);
    free(t);
}

static void small_pair(struct tc_bench_state *st) {
    struct small_trace *t = small_trace_new(st);
    if (t == NULL) return;
    while (tc_bench_keep_running(st)) {
        for (int i = 0; i < SMALL_BATCH; i++) {
            void *p = malloc(t->size[i]);
            if (p == NULL) tcb_oom(t->size[i]);
            memcpy(p, &i, sizeof i);
            tcb_escape(p);
            free(p);
        }
    }
    tc_bench_set_items(st, tc_bench_iterations(st) * SMALL_BATCH);
    free(t);
}

void tcb_register_small(void) {
    tcb_register(&(struct tc_bench_spec){
        .name = "malloc/small_batch", .fn = small_batch,
        .what = "malloc+free of 16..128 B, 1024 allocated then all freed"});
    tcb_register(&(struct tc_bench_spec){
        .name = "malloc/small_pair", .fn = small_pair,
        .what = "malloc+free of 16..128 B, freed at once"});
}
