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
 *   malloc/small_lifo   runs of 1..64 objects of 8..512 B allocated, then
 *                       freed newest first: a program's temporaries, sizes
 *                       spread over many classes.
 *   malloc/small_random 2048 live objects of 8..512 B; each step frees a
 *                       random one and allocates a new one in its place, so
 *                       frees come in no order at all.
 *
 * One operation is one malloc plus its free.
 */
#include <stdlib.h>
#include <string.h>

#include "workload.h"

enum {
    SMALL_BATCH = 1024,
    RUN_MAX = 64,       /* longest LIFO run */
    RANDOM_LIVE = 2048, /* live objects of small_random */
    RANDOM_TRACE = 8192,
};

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

static void small_lifo(struct tc_bench_state *st) {
    struct small_trace *t = small_trace_new(st);
    if (t == NULL) return;
    uint64_t seed = TCB_SEED;
    unsigned char run[SMALL_BATCH];
    for (int i = 0; i < SMALL_BATCH; i++) {
        t->size[i] = tcb_uniform(&seed, 8, 512);
        run[i] = (unsigned char)tcb_uniform(&seed, 1, RUN_MAX);
    }
    void *live[RUN_MAX];
    int64_t ops = 0;
    int pos = 0, spos = 0;
    while (tc_bench_keep_running(st)) {
        for (int r = 0; r < 32; r++, pos = (pos + 1) % SMALL_BATCH) {
            int n = run[pos];
            for (int k = 0; k < n; k++, spos = (spos + 1) % SMALL_BATCH) {
                if ((live[k] = malloc(t->size[spos])) == NULL) tcb_oom(t->size[spos]);
                memset(live[k], k, 8);
            }
            ops += n;
            while (n > 0) free(live[--n]);
        }
    }
    tc_bench_set_items(st, ops);
    free(t);
}

static size_t random_size(uint64_t *seed) { return tcb_uniform(seed, 8, 512); }

static void small_random(struct tc_bench_state *st) {
    uint64_t seed = TCB_SEED;
    void **live = malloc(RANDOM_LIVE * sizeof *live);
    struct tcb_step *trace = malloc(RANDOM_TRACE * sizeof *trace);
    if (live == NULL || trace == NULL) {
        tcb_fail(st, "out of memory building the trace");
        free(live), free(trace);
        return;
    }
    tcb_steps(trace, RANDOM_TRACE, &seed, RANDOM_LIVE, random_size);
    for (int i = 0; i < RANDOM_LIVE; i++)
        if ((live[i] = malloc(trace[i].size)) == NULL) tcb_oom(trace[i].size);
    int pos = 0;
    while (tc_bench_keep_running(st)) {
        for (int k = 0; k < SMALL_BATCH; k++, pos = (pos + 1) % RANDOM_TRACE)
            tcb_replace(&live[trace[pos].slot], trace[pos].size, k, 8);
    }
    tc_bench_set_items(st, tc_bench_iterations(st) * SMALL_BATCH);
    for (int i = 0; i < RANDOM_LIVE; i++) free(live[i]);
    free(live);
    free(trace);
}

void tcb_register_small(void) {
    tcb_register(&(struct tc_bench_spec){
        .name = "malloc/small_batch", .fn = small_batch,
        .what = "malloc+free of 16..128 B, 1024 allocated then all freed"});
    tcb_register(&(struct tc_bench_spec){
        .name = "malloc/small_pair", .fn = small_pair,
        .what = "malloc+free of 16..128 B, freed at once"});
    tcb_register(&(struct tc_bench_spec){
        .name = "malloc/small_lifo", .fn = small_lifo,
        .what = "malloc+free of 8..512 B, runs of 1..64 freed newest first"});
    tcb_register(&(struct tc_bench_spec){
        .name = "malloc/small_random", .fn = small_random,
        .what = "free a random one of 2048 live 8..512 B objects, malloc another"});
}
