/* alloc/scavenge.c: the background scavenger (Go's bgscavenge).
 *
 * Free pages stay resident until this thread returns them to the OS, so
 * free() never makes a system call for it and memory a program frees and
 * allocates again at once is not released in between (on binary trees,
 * releasing after every sweep cost twice Boehm's page faults and 11 % of
 * the time in the kernel's fault and TLB-shootdown paths).
 *
 * How much to keep: the largest of
 *   - Go's GOGC-based goal, set by the collector after each cycle: the
 *     heap in use at the last mark termination x (goal now / goal then)
 *     x 1.1 (retainExtraPercent): a steady heap that peaks near its goal
 *     never releases what it is about to reuse;
 *   - for memory nobody collects: 64 MiB or a quarter of the heap in use
 *     of free resident pages over what is in use (a smaller allowance was
 *     measured: a vector growing by realloc faulted every page of each new
 *     buffer back in, 10x slower than glibc);
 * unless a memory limit is set and everything mapped passes 95 % of it
 * (reduceExtraPercent), in which case the excess over that goes.
 *
 * How fast: 4 MiB per madvise at most, and after each millisecond spent
 * releasing the thread sleeps nine: at most a tenth of one CPU (Go aims
 * at 1 %, releasing far more slowly; here 512 MiB freed at once is back
 * with the OS in about a second). A burst that released pages ends by
 * giving back the metadata units that described them (span structs and
 * bitmaps now all free: alloc/fixalloc.h). gc_release_memory() and
 * malloc_trim(0) release everything at once, on the caller's thread.
 *
 * The thread is started by the first wake-up made outside any gc region
 * (a free that leaves excess, a cycle's end); a program that never frees
 * much never has it. If it cannot be started, the waker releases the
 * excess itself. */
#include "alloc/scavenge.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alloc/mheap.h"
#include "alloc/region.h"
#include "gc/hooks.h"

#define MiB ((uint64_t)1 << 20)
#define RETAIN_MIN (64 * MiB)
#define CHUNK (4 * MiB)
#define WORK_NS 1000000 /* then sleep 9x as long */

static _Atomic uint64_t gc_goal;           /* retained bytes; 0: none */
static _Atomic int64_t limit = INT64_MAX;  /* bytes */
static _Atomic uint32_t pending;           /* futex: excess to release */
static _Atomic int started;                /* 1 once the thread runs; 2 if it cannot */

void tc_scavenge_set_gc_goal(uint64_t retained) {
    atomic_store_explicit(&gc_goal, retained, memory_order_relaxed);
    if (tc_mheap_excess()) tc_scavenge_wake();
}

void tc_scavenge_set_limit(int64_t bytes) {
    atomic_store_explicit(&limit, bytes, memory_order_relaxed);
    if (tc_mheap_excess()) tc_scavenge_wake();
}

uint64_t tc_scavenge_excess_locked(void) {
    uint64_t inuse, dirty;
    tc_mheap_resident_locked(&inuse, &dirty);
    uint64_t allow = inuse / 4 > RETAIN_MIN ? inuse / 4 : RETAIN_MIN;
    uint64_t keep = inuse + allow, goal = atomic_load_explicit(&gc_goal, memory_order_relaxed);
    if (goal > keep) keep = goal;
    uint64_t excess = inuse + dirty > keep ? inuse + dirty - keep : 0;
    int64_t lim = atomic_load_explicit(&limit, memory_order_relaxed);
    if (lim != INT64_MAX) {
        uint64_t mapped = inuse + dirty + tc_mheap_metadata_resident(), cap = (uint64_t)lim / 100 * 95;
        if (mapped > cap && mapped - cap > excess) excess = mapped - cap;
    }
    return excess < dirty ? excess : dirty;
}

static void sleep_ns(uint64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    nanosleep(&ts, NULL);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *scavenger_main(void *arg) {
    (void)arg;
    for (;;) {
        while (atomic_exchange(&pending, 0) == 0)
            syscall(SYS_futex, (uint32_t *)&pending, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
        uint64_t worked = 0, released = 0;
        for (;;) {
            uint64_t t0 = now_ns();
            size_t n = tc_mheap_release_excess(CHUNK);
            if (!n) break;
            released += n;
            worked += now_ns() - t0;
            if (worked >= WORK_NS) {
                sleep_ns(9 * worked);
                worked = 0;
            }
        }
        if (released) tc_mheap_release_metadata(); /* what described those pages */
    }
    return NULL;
}

void tc_scavenge_wake(void) {
    int st = atomic_load_explicit(&started, memory_order_acquire);
    if (st == 0) {
        if (tc_region_depth) return; /* a later wake-up starts it */
        static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
        pthread_mutex_lock(&start_lock);
        if ((st = atomic_load(&started)) == 0) {
            pthread_t tid;
            st = tc_create_system_thread(&tid, scavenger_main, NULL) == 0 ? 1 : 2;
            atomic_store_explicit(&started, st, memory_order_release);
        }
        pthread_mutex_unlock(&start_lock);
    }
    if (st == 2) { /* no thread: release here */
        if (!tc_region_depth) tc_mheap_release_excess(UINT64_MAX);
        return;
    }
    if (atomic_exchange(&pending, 1) == 0)
        syscall(SYS_futex, (uint32_t *)&pending, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void tc_scavenge_after_fork_child(void) {
    atomic_store(&started, 0);
    atomic_store(&pending, 0);
}
