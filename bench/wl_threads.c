/*
 * wl_threads.c - threads that free what other threads allocated.
 *
 * Four shapes, each run at 1, N, 2N and 4N threads for N cores
 * (tcb_thread_counts), so the report shows them from one thread to four
 * times oversubscribed:
 *
 *   malloc/xbatch   each thread allocates a batch of 1024 objects
 *                   (16..128 B), writes them and hands the batch to the
 *                   next thread, which frees all of it at once. Every free
 *                   is remote and arrives in a burst of one owner's objects.
 *                   One operation is one object (its malloc and its free).
 *   malloc/server   a server's request objects: each thread holds a table
 *                   of 1024 objects of 16..1024 B and replaces random ones
 *                   (free, malloc, write); after each 256 replacements it
 *                   swaps its table for one another thread put down, so it
 *                   mostly frees objects other threads allocated. One
 *                   operation is one replacement.
 *   malloc/pool     one pool of 8192 slots shared by all threads: a thread
 *                   mallocs an object (8..512 B, mostly small), writes it,
 *                   swaps it into a random slot and frees what was there,
 *                   usually another thread's object. One operation is one
 *                   malloc and one free.
 *   malloc/falseshare  threads allocate 16-byte objects and write each 64
 *                   times before freeing it. Each thread first frees an
 *                   object thread 0 allocated next to the others' (so an
 *                   allocator that reuses a freed object for whoever freed
 *                   it puts two threads' objects in one cache line); the
 *                   cost of sharing a line shows as time. One operation is
 *                   one malloc, 64 writes and one free.
 *
 * Threads wait for each other only in xbatch (a hand-off), spinning a
 * little and then yielding: on 2 cores with 8 threads the waiting thread
 * must let the one it waits for run.
 */
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workload.h"

enum {
    MAX_THREADS = 64,
    XB_BATCH = 1024,   /* objects per hand-off */
    SV_SLOTS = 1024,   /* objects per server table */
    SV_CHUNK = 256,    /* replacements between table swaps */
    SV_TRACE = 4096,
    PL_SLOTS = 8192,   /* shared pool */
    PL_CHUNK = 256,
    PL_TRACE = 4096,
    FS_WRITES = 64,
    FS_CHUNK = 64,
};

static void wait_yield(unsigned *spins) {
    if (++*spins < 64) {
        __builtin_ia32_pause();
    } else {
        *spins = 0;
        sched_yield();
    }
}

int tcb_thread_counts(int out[4]) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    int cores = n < 1 ? 1 : n > MAX_THREADS / 4 ? MAX_THREADS / 4 : (int)n;
    int want[4] = {1, cores, 2 * cores, 4 * cores}, k = 0;
    for (int i = 0; i < 4; i++)
        if (k == 0 || want[i] != out[k - 1]) out[k++] = want[i];
    return k;
}

/* ---- xbatch ---- */

static struct {
    alignas(64) _Atomic(void **) box; /* a full batch for this thread, or NULL */
} xb_box[MAX_THREADS];

static void xbatch(struct tc_bench_state *st) {
    int me = tc_bench_thread_index(st), n = tc_bench_threads(st);
    uint32_t size[XB_BATCH];
    uint64_t seed = TCB_SEED + (uint64_t)me;
    for (int i = 0; i < XB_BATCH; i++) size[i] = (uint32_t)tcb_uniform(&seed, 16, 128);
    /* Two batch arrays: one travels while this thread fills the other. */
    void **mine[2] = {malloc(XB_BATCH * sizeof(void *)), malloc(XB_BATCH * sizeof(void *))};
    if (!mine[0] || !mine[1]) {
        tcb_fail(st, "cannot allocate the batch arrays");
        free(mine[0]), free(mine[1]);
        return;
    }
    int cur = 0;
    while (tc_bench_keep_running(st)) {
        void **b = mine[cur];
        for (int i = 0; i < XB_BATCH; i++) {
            if ((b[i] = malloc(size[i])) == NULL) tcb_oom(size[i]);
            memset(b[i], me, 16);
        }
        unsigned spins = 0;
        void **expect = NULL;
        while (!atomic_compare_exchange_weak_explicit(&xb_box[(me + 1) % n].box, &expect, b,
                                                      memory_order_release, memory_order_relaxed)) {
            expect = NULL;
            wait_yield(&spins);
        }
        void **in;
        spins = 0;
        while ((in = atomic_exchange_explicit(&xb_box[me].box, NULL, memory_order_acquire)) == NULL)
            wait_yield(&spins);
        for (int i = 0; i < XB_BATCH; i++) free(in[i]);
        /* in is the previous thread's array: keep it, it goes out next. */
        mine[cur] = in;
        cur ^= 1;
    }
    tc_bench_set_items(st, tc_bench_iterations(st) * XB_BATCH);
    /* Arrays went round the ring: free whichever two this thread holds. */
    free(mine[0]);
    free(mine[1]);
}

/* ---- server ---- */

static _Atomic(void **) sv_spare; /* a table no thread holds */

static size_t sv_size(uint64_t *seed) { return tcb_uniform(seed, 16, 1024); }

static void **sv_table(uint64_t *seed) {
    void **t = malloc(SV_SLOTS * sizeof *t);
    if (t == NULL) tcb_oom(SV_SLOTS * sizeof *t);
    for (int i = 0; i < SV_SLOTS; i++) {
        size_t n = sv_size(seed);
        if ((t[i] = malloc(n)) == NULL) tcb_oom(n);
        memset(t[i], 1, 16);
    }
    return t;
}

static void sv_table_free(void **t) {
    for (int i = 0; i < SV_SLOTS; i++) free(t[i]);
    free(t);
}

static void server(struct tc_bench_state *st) {
    int me = tc_bench_thread_index(st);
    uint64_t seed = TCB_SEED + (uint64_t)me;
    struct tcb_step trace[SV_TRACE];
    tcb_steps(trace, SV_TRACE, &seed, SV_SLOTS, sv_size);
    void **t = sv_table(&seed);
    if (me == 0) atomic_store(&sv_spare, sv_table(&seed));
    size_t pos = 0;
    while (tc_bench_keep_running(st)) {
        for (int k = 0; k < SV_CHUNK; k++, pos = (pos + 1) % SV_TRACE)
            tcb_replace(&t[trace[pos].slot], trace[pos].size, k, 16);
        t = atomic_exchange(&sv_spare, t);
    }
    tc_bench_set_items(st, tc_bench_iterations(st) * SV_CHUNK);
    sv_table_free(t);
    /* The run's last barrier is behind every thread: the spare is quiet. */
    if (me == 0) sv_table_free(atomic_exchange(&sv_spare, NULL));
}

/* ---- pool ---- */

static _Atomic(void *) pool_slot[PL_SLOTS];

static size_t pool_size(uint64_t *seed) {
    return tcb_rand(seed) % 4 ? tcb_uniform(seed, 8, 64) : tcb_uniform(seed, 65, 512);
}

static void pool(struct tc_bench_state *st) {
    int me = tc_bench_thread_index(st);
    uint64_t seed = TCB_SEED + (uint64_t)me;
    struct tcb_step trace[PL_TRACE];
    tcb_steps(trace, PL_TRACE, &seed, PL_SLOTS, pool_size);
    if (me == 0)
        for (int i = 0; i < PL_SLOTS; i++) {
            size_t n = pool_size(&seed);
            void *p = malloc(n);
            if (p == NULL) tcb_oom(n);
            memset(p, 2, 8);
            atomic_store_explicit(&pool_slot[i], p, memory_order_relaxed);
        }
    size_t pos = (size_t)me * 131;
    while (tc_bench_keep_running(st)) {
        for (int k = 0; k < PL_CHUNK; k++, pos = (pos + 1) % PL_TRACE) {
            void *p = malloc(trace[pos].size);
            if (p == NULL) tcb_oom(trace[pos].size);
            memset(p, k, 8);
            free(atomic_exchange_explicit(&pool_slot[trace[pos].slot], p, memory_order_acq_rel));
        }
    }
    tc_bench_set_items(st, tc_bench_iterations(st) * PL_CHUNK);
    if (me == 0)
        for (int i = 0; i < PL_SLOTS; i++)
            free(atomic_exchange_explicit(&pool_slot[i], NULL, memory_order_relaxed));
}

/* ---- falseshare ---- */

static void *fs_first[MAX_THREADS]; /* thread 0's objects, one per thread */

static void falseshare(struct tc_bench_state *st) {
    int me = tc_bench_thread_index(st), n = tc_bench_threads(st);
    if (me == 0)
        for (int i = 0; i < n; i++)
            if ((fs_first[i] = malloc(16)) == NULL) tcb_oom(16);
    int first = 1;
    while (tc_bench_keep_running(st)) {
        if (first) { /* after the start barrier: thread 0's loop has them */
            free(fs_first[me]);
            first = 0;
        }
        for (int k = 0; k < FS_CHUNK; k++) {
            volatile uint64_t *p = malloc(16);
            if (p == NULL) tcb_oom(16);
            for (int w = 0; w < FS_WRITES; w++) p[w & 1] += (uint64_t)w;
            free((void *)p);
        }
    }
    tc_bench_set_items(st, tc_bench_iterations(st) * FS_CHUNK);
}

void tcb_register_threads(void) {
    static const struct {
        const char *name;
        tc_bench_fn *fn;
        const char *what;
    } w[] = {
        {"malloc/xbatch", xbatch, "malloc+free of 16..128 B; batches of 1024 freed by the next thread"},
        {"malloc/server", server, "free+malloc 16..1024 B in tables the threads swap"},
        {"malloc/pool", pool, "malloc 8..512 B, swap into a shared pool, free the old object"},
        {"malloc/falseshare", falseshare, "malloc 16 B, 64 writes, free; first objects from thread 0"},
    };
    int counts[4], k = tcb_thread_counts(counts);
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        for (int j = 0; j < k; j++)
            tcb_register(&(struct tc_bench_spec){
                .name = w[i].name, .fn = w[i].fn, .threads = counts[j], .what = w[i].what});
}
