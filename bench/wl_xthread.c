/*
 * wl_xthread.c - producer/consumer: objects freed by another thread.
 *
 *   malloc/xthread_pc  (2 threads) thread 0 allocates 16..256-byte objects,
 *                      writes a sequence number into each and pushes it
 *                      through a bounded single-producer single-consumer
 *                      ring of 1024 slots, 32 objects per publication;
 *                      thread 1 pops what is published, checks each
 *                      number and frees. One operation is one object
 *                      passed across (malloc on one side, free on the other).
 *
 * This is the pattern thread caches handle worst: every free is remote, so
 * the allocator must route the block back to its owner (a lock, an atomic
 * list, a delayed-free queue) or let it pile up in the wrong cache; peak
 * RSS shows the second failure mode. Publishing in batches keeps the
 * ring's own cache-line traffic (one head/tail exchange per batch, not per
 * object) from drowning the allocator's cost.
 *
 * The ring is a static object that outlives Google Benchmark's runs: each
 * run pushes and pops the same number of objects (both threads run the
 * same iteration count), so it is empty between runs and the head and tail
 * counters simply continue. A wrong sequence number means an object was
 * handed out twice or corrupted: that is an allocator bug, reported on one
 * line and turned into a crash (failing softly would leave the producer
 * blocked on a full ring forever).
 */
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

enum {
    RING = 1024,         /* bounded queue capacity, objects */
    XT_CHUNK = 256,      /* objects per benchmark iteration */
    XT_BATCH = 32,       /* objects published at once (divides XT_CHUNK) */
    XT_TRACE = 4096,     /* sizes before the trace repeats */
    SPINS = 128,         /* busy polls before yielding the core */
};

static struct {
    alignas(64) _Atomic uint64_t head; /* written by the producer only */
    alignas(64) _Atomic uint64_t tail; /* written by the consumer only */
    alignas(64) void *slot[RING];
} ring;

/* Two threads on two noisy cores: spin briefly, then let the other run. */
static void backoff(unsigned *spins) {
    if (++*spins < SPINS) {
        __builtin_ia32_pause();
    } else {
        *spins = 0;
        sched_yield();
    }
}

static void produce(struct tc_bench_state *st) {
    uint32_t size[XT_TRACE];
    uint64_t seed = TCB_SEED;
    for (int i = 0; i < XT_TRACE; i++) size[i] = (uint32_t)tcb_uniform(&seed, 16, 256);
    uint64_t head = atomic_load_explicit(&ring.head, memory_order_relaxed);
    while (tc_bench_keep_running(st)) {
        for (int b = 0; b < XT_CHUNK / XT_BATCH; b++) {
            unsigned spins = 0;
            while (head + XT_BATCH - atomic_load_explicit(&ring.tail, memory_order_acquire) > RING)
                backoff(&spins);
            for (int k = 0; k < XT_BATCH; k++, head++) {
                size_t n = size[head % XT_TRACE];
                void *p = malloc(n);
                if (p == NULL) tcb_oom(n);
                memcpy(p, &head, sizeof head);
                ring.slot[head % RING] = p;
            }
            atomic_store_explicit(&ring.head, head, memory_order_release);
        }
    }
    tc_bench_set_items(st, tc_bench_iterations(st) * XT_CHUNK);
}

static void consume(struct tc_bench_state *st) {
    uint64_t tail = atomic_load_explicit(&ring.tail, memory_order_relaxed);
    while (tc_bench_keep_running(st)) {
        uint64_t end = tail + XT_CHUNK;
        while (tail < end) {
            unsigned spins = 0;
            uint64_t head;
            while ((head = atomic_load_explicit(&ring.head, memory_order_acquire)) == tail)
                backoff(&spins);
            if (head > end) head = end; /* the rest belongs to the next iteration */
            for (; tail < head; tail++) {
                void *p = ring.slot[tail % RING];
                uint64_t seq;
                memcpy(&seq, p, sizeof seq);
                if (seq != tail) {
                    fprintf(stderr, "tc-bench: xthread_pc: object %llu arrived holding %llu\n",
                            (unsigned long long)tail, (unsigned long long)seq);
                    abort();
                }
                free(p);
            }
            atomic_store_explicit(&ring.tail, tail, memory_order_release);
        }
    }
}

static void xthread_pc(struct tc_bench_state *st) {
    if (tc_bench_thread_index(st) == 0)
        produce(st);
    else
        consume(st);
}

void tcb_register_xthread(void) {
    tcb_register(&(struct tc_bench_spec){
        .name = "malloc/xthread_pc", .fn = xthread_pc, .threads = 2,
        .what = "16..256 B malloc on thread 0, free on thread 1 (bounded ring)"});
}
