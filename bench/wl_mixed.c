/*
 * wl_mixed.c - mixed sizes over a working set, on one or many threads.
 *
 * The shape of a long-running server: a working set of live objects whose
 * sizes follow tcb_skewed_size() (8 B..64 KiB, mostly small), where each
 * step frees a random live object and allocates a new one of a random size
 * in its place. This exercises every size class, the large-object path,
 * fragmentation (a freed slot is refilled with a different size) and,
 * through peak RSS, how much memory the allocator holds for a fixed live
 * set (about 1.4 KiB x slots, ~22 MiB for the default 16384 slots).
 *
 *   malloc/mixed/16384                   one thread, 16384 live objects
 *   malloc/mixed/16384/threads:4 and :8  the same total working set split
 *                                        evenly over 4 or 8 threads, each
 *                                        with its own objects and seed
 *
 * The machine this was written for has 2 cores, so 4 and 8 threads are
 * oversubscribed: those figures measure per-thread caching and contention
 * under time slicing (and the memory cost of per-thread caches), not
 * parallel speed-up. The threads never free each other's objects; that is
 * wl_xthread.c's job.
 *
 * One operation is one free plus one malloc (a replacement). The working
 * set is filled before the timed loop and freed after it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "workload.h"

enum {
    MIXED_TRACE = 32768, /* replacement steps before the trace repeats */
    MIXED_CHUNK = 1024,  /* replacements per benchmark iteration */
};

struct mixed_step {
    uint32_t slot;
    uint32_t size;
};

static void mixed(struct tc_bench_state *st) {
    int threads = tc_bench_threads(st);
    size_t slots = (size_t)tc_bench_arg(st, 0) / (size_t)threads;
    uint64_t seed = TCB_SEED + (uint64_t)tc_bench_thread_index(st);
    void **obj = malloc(slots * sizeof *obj);
    struct mixed_step *trace = malloc(MIXED_TRACE * sizeof *trace);
    if (obj == NULL || trace == NULL || slots == 0) {
        tcb_fail(st, "cannot build the working set");
        free(obj);
        free(trace);
        return;
    }
    for (size_t i = 0; i < MIXED_TRACE; i++) {
        trace[i].slot = (uint32_t)tcb_uniform(&seed, 0, slots - 1);
        trace[i].size = (uint32_t)tcb_skewed_size(&seed);
    }
    for (size_t i = 0; i < slots; i++) {
        size_t n = tcb_skewed_size(&seed);
        if ((obj[i] = malloc(n)) == NULL) tcb_oom(n);
        tcb_touch(obj[i], n);
    }
    size_t pos = 0;
    while (tc_bench_keep_running(st)) {
        for (int k = 0; k < MIXED_CHUNK; k++) {
            const struct mixed_step *s = &trace[pos];
            pos = (pos + 1) % MIXED_TRACE;
            free(obj[s->slot]);
            void *p = malloc(s->size);
            if (p == NULL) tcb_oom(s->size);
            tcb_touch(p, s->size);
            obj[s->slot] = p;
        }
    }
    tc_bench_set_items(st, tc_bench_iterations(st) * MIXED_CHUNK);
    for (size_t i = 0; i < slots; i++) free(obj[i]);
    free(obj);
    free(trace);
}

void tcb_register_mixed(void) {
    static const int threads[] = {1, 4, 8};
    for (size_t i = 0; i < sizeof threads / sizeof threads[0]; i++)
        tcb_register(&(struct tc_bench_spec){
            .name = "malloc/mixed", .fn = mixed, .threads = threads[i],
            .what = "free+malloc replacing a random live object, 8 B..64 KiB skewed",
            .nargs = 1, .args = {16384}});
}
