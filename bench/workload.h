/*
 * workload.h - helpers shared by the malloc workloads in bench/.
 *
 * Each workload draws its sizes and choices from a deterministic generator
 * with a fixed seed, precomputed into a trace before the timed loop: every
 * allocator then sees exactly the same sequence of requests, and the
 * generator's own cost stays out of the measurement.
 */
#ifndef TC_BENCH_WORKLOAD_H
#define TC_BENCH_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gbench_shim.h"

/* A workload's malloc returned NULL: say so on one line and abort, so the
 * driver records a crash rather than a figure. */
_Noreturn void tcb_oom(size_t size);

/* Seed of every trace; a thread's seed is this plus its index. */
#define TCB_SEED UINT64_C(0x7c01a11c0ffee)

/* splitmix64: tiny, full-period, good enough for choosing sizes. */
static inline uint64_t tcb_rand(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline size_t tcb_uniform(uint64_t *s, size_t lo, size_t hi) {
    return lo + (size_t)(tcb_rand(s) % (uint64_t)(hi - lo + 1));
}

/*
 * Skewed size in [8, 64 KiB], shaped like allocation profiles of ordinary C
 * and C++ programs: most requests are small, a long tail is large.
 *   55%  8..64 B   30%  65..512 B   12%  513 B..4 KiB   3%  4..64 KiB
 * Mean is about 1.4 KiB, so a working set of N objects holds ~1.4*N KiB.
 */
static inline size_t tcb_skewed_size(uint64_t *s) {
    unsigned bucket = (unsigned)(tcb_rand(s) % 100);
    if (bucket < 55) return tcb_uniform(s, 8, 64);
    if (bucket < 85) return tcb_uniform(s, 65, 512);
    if (bucket < 97) return tcb_uniform(s, 513, 4096);
    return tcb_uniform(s, 4097, 65536);
}

/*
 * Write the first byte and one byte per 4 KiB page, as a program filling its
 * object would fault the pages in. Without this an allocator handing out
 * untouched memory would look cheaper in both time and RSS than it is.
 */
static inline void tcb_touch(void *p, size_t n) {
    volatile unsigned char *b = p;
    for (size_t off = 0; off < n; off += 4096) b[off] = (unsigned char)off;
    b[n - 1] = 1;
}

/* Make p escape so the compiler cannot fold a malloc/free pair away. */
static inline void tcb_escape(void *p) {
    __asm__ volatile("" : : "r"(p) : "memory");
}

/* One step of a replacement trace: the slot of a table of live objects,
 * and the size of the object that takes its place. */
struct tcb_step {
    uint16_t slot;
    uint16_t size;
};

/* Fill t[0..n) with steps over slots [0, slots), sizes from size(seed). */
static inline void tcb_steps(struct tcb_step *t, int n, uint64_t *seed, unsigned slots,
                             size_t (*size)(uint64_t *)) {
    for (int i = 0; i < n; i++) {
        t[i].slot = (uint16_t)tcb_uniform(seed, 0, slots - 1);
        t[i].size = (uint16_t)size(seed);
    }
}

/* Replace *slot: free the object there, malloc size bytes in its place and
 * write its first n bytes. */
static inline void tcb_replace(void **slot, size_t size, int fill, size_t n) {
    free(*slot);
    void *p = malloc(size);
    if (p == NULL) tcb_oom(size);
    memset(p, fill, n);
    *slot = p;
}

/* Fail the run before its loop: report msg, then run the loop down (a
 * threaded run's other threads wait for this one at the loop's barriers). */
void tcb_fail(struct tc_bench_state *st, const char *msg);

/* Registration of each workload file; called from bench_main.c. */
void tcb_register_small(void);
void tcb_register_mixed(void);
void tcb_register_realloc(void);
void tcb_register_xthread(void);
void tcb_register_threads(void);
void tcb_register_bintree(void);

/* Thread counts for threaded workloads: 1, N, 2N, 4N for N online CPUs
 * (duplicates dropped); returns how many were written to out. */
int tcb_thread_counts(int out[4]);

/* Register or exit: a malformed table is a bug in bench/, not a result. */
void tcb_register(const struct tc_bench_spec *spec);

#endif
