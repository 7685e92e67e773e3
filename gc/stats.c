/* gc/stats.c: what the collector tells about itself (Go's mstats.go and
 * gctrace): the clocks the collector times itself with, the ring of the
 * 256 latest pauses, the gctrace line, and the collector's half of
 * gc_read_stats.
 *
 * Every stop is timed from the first request (gc/stw.c) to the moment
 * every thread may go, before the wake-up calls (Go's mark termination
 * reads its clock before starting the world too). The ring has a leaf
 * lock of its own: pauses are recorded while the registry lock is held
 * (order: registry < pause). The driver's counters stay with the driver
 * (gc/cycle.c, under its lock), which hands them over whole. */
#include <string.h>
#include <time.h>

#include "alloc/lockrank.h"
#include "alloc/report.h"
#include "gc/finalizer.h"
#include "gc/hooks.h"
#include "gc/pacer.h"
#include "gc/stats.h"
#include "gc/stw.h"
#include "gc/sweep.h"
#include "gc/threads.h"
#include "include/tricolor.h"

#define NPAUSE 256

static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t pauses[NPAUSE], pause_ends[NPAUSE]; /* ns; end: since 1970; pause_lock */
static uint64_t npauses, pause_total, pause_max;    /* pause_lock */

static uint64_t clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t tc_nanotime(void) { return clock_ns(CLOCK_MONOTONIC); }
uint64_t tc_thread_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }
uint64_t tc_unix_ns(void) { return clock_ns(CLOCK_REALTIME); }

void tc_record_pause(uint64_t ns) {
    uint64_t end = tc_unix_ns();
    tc_lock(&pause_lock, LOCKRANK_PAUSE);
    pause_ends[npauses % NPAUSE] = end;
    pauses[npauses++ % NPAUSE] = ns;
    pause_total += ns;
    if (ns > pause_max) pause_max = ns;
    tc_unlock(&pause_lock, LOCKRANK_PAUSE);
}

/* A fork may have cut a recorder short: the child starts the lock afresh. */
void tc_stats_after_fork_child(void) { pthread_mutex_init(&pause_lock, NULL); }

TRICOLOR_API size_t gc_read_pauses(uint64_t *ns, size_t n) {
    tc_lock(&pause_lock, LOCKRANK_PAUSE);
    size_t have = npauses < NPAUSE ? (size_t)npauses : NPAUSE;
    if (n > have) n = have;
    for (size_t i = 0; i < n; i++) ns[i] = pauses[(npauses - n + i) % NPAUSE];
    tc_unlock(&pause_lock, LOCKRANK_PAUSE);
    return n;
}

/* Go's fmtNSAsMS: whole milliseconds from 10 ms, else two significant
 * digits and at most three decimals. */
static const char *fmt_ms(char *b, size_t n, uint64_t ns) {
    if (ns >= 10000000) {
        tc_format(b, n, "%zu", (size_t)(ns / 1000000));
        return b;
    }
    unsigned x = (unsigned)(ns / 1000), dec = 3;
    for (; x >= 100; x /= 10) dec--;
    if (x == 0) dec = 0;
    static const char *const fmt[] = {"%u", "%u.%01u", "%u.%02u", "%u.%03u"};
    static const unsigned pow10[] = {1, 10, 100, 1000};
    tc_format(b, n, fmt[dec], x / pow10[dec], x % pow10[dec]);
    return b;
}

/* Go 1.19's gctrace line (runtime/mgc.go, gcMarkTermination): start of
 * the cycle, GC CPU so far, sweep termination + mark + mark termination
 * wall time, then CPU: the two ends x GOMAXPROCS, assists, dedicated and
 * fractional workers, idle workers; heap at start -> at mark termination
 * -> marked, goal, stack and global bytes scanned, GOMAXPROCS. */
void tc_gctrace(const struct tc_gctrace *g) {
    struct gccontroller *c = &tc_gcController;
    uint64_t procs = (uint64_t)g->procs;
    uint64_t now = tc_nanotime(), since = g->t0 - g->start_ns;
    uint64_t util = g->cpu_ns * 100 / ((now - g->start_ns) * procs + 1);
    char a[8][16];
    tc_print("gc %u @%zu.%03zus %zu%%: %s+%s+%s ms clock, %s+%s/%s/%s+%s ms cpu, "
             "%zu->%zu->%zu MB, %zu MB goal, %zu MB stacks, %zu MB globals, %d P%s",
             g->n, (size_t)(since / 1000000000u), (size_t)(since / 1000000u % 1000), (size_t)util,
             fmt_ms(a[0], 16, g->p1), fmt_ms(a[1], 16, g->mark), fmt_ms(a[2], 16, g->p2),
             fmt_ms(a[3], 16, g->p1 * procs),
             fmt_ms(a[4], 16, (uint64_t)atomic_load(&c->assistTime)),
             fmt_ms(a[5], 16, (uint64_t)(atomic_load(&c->dedicatedMarkTime) +
                                         atomic_load(&c->fractionalMarkTime))),
             fmt_ms(a[6], 16, (uint64_t)atomic_load(&c->idleMarkTime)),
             fmt_ms(a[7], 16, g->p2 * procs), (size_t)(g->h0 >> 20), (size_t)(g->h1 >> 20),
             (size_t)(g->h2 >> 20), (size_t)(c->lastHeapGoal >> 20),
             (size_t)(c->lastStackScan >> 20), (size_t)(c->globalsScan >> 20), g->procs,
             g->forced ? " (forced)" : "");
}

void tc_gc_read_stats(struct gc_stats *st) {
    uint64_t now = tc_nanotime();
    struct tc_gc_counts k;
    tc_gc_counts(&k);
    st->gc_num = k.num;
    st->gc_mark_ns = k.mark_ns;
    st->gc_marked_bytes_total = k.marked_total;
    st->gc_num_forced = (uint32_t)k.nforced;
    st->gc_last_ns = k.last_unix;
    st->gc_cpu_fraction = (double)k.cpu_ns / ((double)(now - k.start_ns) * k.procs + 1);
    tc_lock(&pause_lock, LOCKRANK_PAUSE);
    st->gc_pause_total_ns = pause_total;
    st->gc_pause_max_ns = pause_max;
    st->gc_npause = npauses;
    memcpy(st->gc_pause_ns, pauses, sizeof pauses);
    memcpy(st->gc_pause_end_ns, pause_ends, sizeof pause_ends);
    tc_unlock(&pause_lock, LOCKRANK_PAUSE);
    st->gc_procs = (uint32_t)k.procs;
    struct gccontroller *c = &tc_gcController;
    st->gc_heap_live = atomic_load(&c->heapLive);
    st->gc_heap_marked = k.heap_marked;
    st->gc_next = atomic_load(&c->heapGoal);
    st->gc_percent = atomic_load(&c->gcPercent);
    st->gc_memory_limit = atomic_load(&c->memoryLimit);
    st->gc_trigger = atomic_load(&c->trigger);
    st->gc_freed = tc_sweep_freed();
    /* The allocator counted these objects in, the sweeper took them out. */
    uint64_t fb = tc_sweep_freed_bytes();
    st->nfree += st->gc_freed;
    st->alloc_bytes = st->alloc_bytes > fb ? st->alloc_bytes - fb : 0;
    st->gc_finalizers_run = tc_finalizers_run_count();
    tc_registry_lock();
    st->gc_threads = tc_registry_count();
    st->gc_stop_signals = tc_stop_signals();
    tc_registry_unlock();
}
