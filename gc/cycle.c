/* gc/cycle.c: the collector's driver, one cycle after another (Go's mgc.go).
 *
 * A cycle, run by the collector thread:
 *   0. finish sweeping the previous cycle (concurrent);
 *   1. sweep termination, without stopping the world: a handshake waits
 *      until every thread has been outside its gc regions once (gc/stw.c),
 *      which lets a lazy sweep still under way finish (no unswept span is
 *      listed, so none starts), so the barrier never meets a span being
 *      swept; phase = MARKSTART (barrier on, allocations still white); a
 *      second handshake, after which every thread runs the barrier;
 *      phase = MARK (allocate black, assists). Go stops the world here;
 *      what the stop buys is only that no stack is scanned and nothing is
 *      allocated black before every thread runs the barrier, and the
 *      handshakes buy the same. White objects allocated meanwhile are
 *      found the usual way: from a stack, none of which is scanned yet, or
 *      through the barrier. Go also shades the Ps' tiny blocks here,
 *      because its tiny fast path marks nothing; ours marks the block on
 *      every tiny allocation during mark, so a block used after its
 *      thread's stack was scanned is black. Without membarrier, or with
 *      GODEBUG=gcfullstop=1, a stop serves as the handshakes;
 *   2. concurrent mark: globals, registered ranges and finalizer roots,
 *      then each thread's stack and registers, one thread at a time
 *      (stop it, scan, let it go), while the mark workers, this thread and
 *      allocating threads (assists) drain the grey set;
 *   3. mark termination, world stopped (only the threads inside a gc
 *      region are waited for, gc/stw.c): every thread's barrier buffer
 *      is flushed; if that made new grey objects the world goes again and
 *      marking continues, else (if asked, the checkmark, which first
 *      stops the other threads too: it scans stacks) phase = OFF, the sweep
 *      generation moves on, every collected span becomes unswept, and the
 *      next goal is set;
 *   4. concurrent sweep (background here, and lazily by allocation).
 * The stop does O(threads + Ps) work, never O(heap): no stack is scanned
 * during it, because the hybrid barrier keeps scanned stacks black.
 *
 * Pacing (for now Go's simple rule): the next cycle starts when the heap
 * has grown GOGC percent over what the last cycle marked, with Go's 4 MiB
 * x GOGC/100 minimum. gc_setpercent(-1) or GOGC=off stops automatic
 * cycles; gc_collect always runs one.
 *
 * Every stop is timed from the first request (gc/stw.c) to the moment
 * every thread may go, before the wake-up calls (Go's mark termination
 * reads its clock before starting the world too), and kept in a ring of
 * the 256 most recent pauses. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc/alloc.h"
#include "alloc/lockrank.h"
#include "alloc/options.h"
#include "alloc/report.h"
#include "gc/gc.h"
#include "gc/hooks.h"
#include "include/tricolor.h"

_Atomic int tc_gcphase;
void (*tc_gc_testhook)(enum tc_gc_point);
struct tc_gc_options tc_gc_opts;

TC_INTERNAL int tc_create_system_thread(pthread_t *tid, void *(*fn)(void *), void *arg);
TC_INTERNAL uint64_t tc_sweep_some(uint64_t budget);

#define HEAP_MIN ((uint64_t)4 << 20)
#define NPAUSE 256

/* Held by the collector thread for a whole cycle, sweep included, and by
 * fork's prepare handler: a child never inherits half a cycle. */
static pthread_mutex_t cycle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t ctl = PTHREAD_MUTEX_INITIALIZER; /* below: ctl */
static pthread_cond_t ctl_cond = PTHREAD_COND_INITIALIZER;
static uint32_t requested, done; /* cycles asked for, marked; ctl */
/* Cycles swept: written under ctl, and a futex word gc_collect waits on
 * parked without holding ctl (a thread held by a stop must not hold a
 * lock that allocation takes inside a region). */
static _Atomic uint32_t swept;
static int trigger, driver_started;
static _Atomic int gcpercent = 100;
static _Atomic uint64_t heap_live, next_gc = HEAP_MIN, heap_marked;
_Atomic int tc_collected_used; /* 1 once gc_alloc was called; set under the registry lock */
/* The pause ring has a leaf lock of its own: pauses are recorded while
 * the registry lock is held (order: registry < pause). */
static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t pauses[NPAUSE], npauses, pause_total, pause_max; /* pause_lock */
static uint64_t mark_ns, marked_total;
static uint64_t start_ns;

uint64_t tc_nanotime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tc_record_pause(uint64_t ns) {
    tc_lock(&pause_lock, LOCKRANK_PAUSE);
    pauses[npauses++ % NPAUSE] = ns;
    pause_total += ns;
    if (ns > pause_max) pause_max = ns;
    tc_unlock(&pause_lock, LOCKRANK_PAUSE);
}

static uint64_t goal(uint64_t live) {
    int pct = atomic_load(&gcpercent);
    uint64_t base = live > HEAP_MIN ? live : HEAP_MIN;
    return base + base / 100 * (uint64_t)(pct < 0 ? 0 : pct);
}

/* ---- one cycle ---- */

static uint64_t stop(int stacks) {
    tc_stop_prepare(); /* a system call; the world is not stopped yet */
    return tc_stop_world(stacks);
}

static void start(uint64_t t0) {
    tc_record_pause(tc_start_world() - t0);
}

static void scan_stacks(void) {
    tc_stop_prepare();
    tc_registry_lock();
    tc_registry_reap();
    for (struct gthread *t = tc_registry_first(); t; t = t->next) {
        tc_suspend_thread(t);
        if (t->dead) continue; /* a late thread that exited meanwhile */
        tc_roots_lock(); /* the user-stack table */
        tc_thread_stacks_each(t, tc_scan_range);
        tc_roots_unlock();
        tc_thread_tls_each(t, tc_scan_range);
        tc_resume_thread(t);
    }
    tc_registry_unlock();
}

static void run_cycle(uint32_t n) {
    while (tc_sweep_some(256)) continue;
    tc_roots_refresh_globals();
    if (TC_UNLIKELY(tc_gc_testhook != NULL)) tc_gc_testhook(TC_GC_POINT_START);

    /* 1. sweep termination: the barrier on everywhere, nobody stopped */
    tc_registry_lock();
    tc_registry_reap();
    TC_ASSERT(tc_sweep_done());
    tc_mark_reset();
    uint64_t t0 = tc_nanotime();
    if (tc_handshake()) {
        atomic_store(&tc_gcphase, GC_MARKSTART);
        if (!tc_handshake()) start(stop(1)); /* membarrier failed since: a stop does it */
    } else { /* with the world stopped no sweep is under way either */
        uint64_t s0 = stop(1);
        atomic_store(&tc_gcphase, GC_MARKSTART);
        start(s0);
    }
    atomic_store(&tc_gcphase, GC_MARK);
    uint64_t p1 = tc_nanotime() - t0;
    tc_registry_unlock();

    /* 2. concurrent mark */
    uint64_t m0 = tc_nanotime();
    tc_mark_start_workers();
    tc_mark_wake_workers(1);
    tc_roots_mark();
    if (TC_UNLIKELY(tc_gc_testhook != NULL)) tc_gc_testhook(TC_GC_POINT_ROOTS);
    scan_stacks();
    if (TC_UNLIKELY(tc_gc_testhook != NULL)) tc_gc_testhook(TC_GC_POINT_STACKS);
    uint64_t p2;
    for (;;) {
        while (!tc_work_empty()) tc_drain(1 << 20);
        tc_registry_lock();
        t0 = stop(0);
        for (struct gthread *t = tc_registry_first(); t; t = t->next) tc_wbbuf_flush(t);
        if (tc_work_empty()) break;
        start(t0);
        tc_registry_unlock();
    }

    /* 3. mark termination (world stopped, registry locked) */
    tc_mark_wake_workers(0);
    uint64_t m1 = tc_nanotime();
    atomic_store(&tc_gcphase, GC_MARKTERM);
    if (tc_gc_opts.checkmark) { /* it scans the stacks */
        tc_stop_world_rest();
        tc_checkmark();
    }
    uint64_t live = tc_mark_bytes_take(), before = atomic_load(&heap_live);
    atomic_store(&tc_gcphase, GC_OFF);
    tc_sweep_begin_stopped();
    atomic_store(&heap_live, live);
    atomic_store(&heap_marked, live);
    atomic_store(&next_gc, goal(live));
    start(t0);
    p2 = tc_nanotime() - t0;
    uint32_t nthreads = tc_registry_count();
    tc_registry_unlock();

    tc_lock(&ctl, LOCKRANK_CTL);
    mark_ns += m1 - m0;
    marked_total += live;
    tc_unlock(&ctl, LOCKRANK_CTL);
    if (tc_gc_opts.gctrace)
        tc_print("gc %u @%zu.%zus: %zu+%zu+%zu us clock, %zu->%zu MB, %zu MB goal, %u threads", n,
                 (size_t)((tc_nanotime() - start_ns) / 1000000000u),
                 (size_t)((tc_nanotime() - start_ns) / 1000000u % 1000), (size_t)(p1 / 1000),
                 (size_t)((m1 - m0) / 1000), (size_t)(p2 / 1000), (size_t)(before >> 20),
                 (size_t)(live >> 20), (size_t)(atomic_load(&next_gc) >> 20), nthreads);
}

static void *driver_main(void *arg) {
    (void)arg;
    for (;;) {
        tc_lock(&ctl, LOCKRANK_CTL);
        while (requested <= done && !trigger) pthread_cond_wait(&ctl_cond, &ctl);
        trigger = 0;
        uint32_t n = done + 1;
        if (requested < n) requested = n;
        tc_unlock(&ctl, LOCKRANK_CTL);
        tc_lock(&cycle_lock, LOCKRANK_CYCLE);
        run_cycle(n);
        tc_lock(&ctl, LOCKRANK_CTL);
        done = n;
        pthread_cond_broadcast(&ctl_cond);
        tc_unlock(&ctl, LOCKRANK_CTL);
        while (tc_sweep_some(64)) continue; /* 4. background sweep */
        tc_unlock(&cycle_lock, LOCKRANK_CYCLE);
        tc_lock(&ctl, LOCKRANK_CTL);
        atomic_store(&swept, n);
        tc_futex_wake_all(&swept);
        pthread_cond_broadcast(&ctl_cond);
        tc_unlock(&ctl, LOCKRANK_CTL);
    }
    return NULL;
}

/* ctl held. */
static void ensure_driver(void) {
    if (driver_started) return;
    driver_started = 1;
    pthread_t tid;
    if (tc_create_system_thread(&tid, driver_main, NULL) != 0)
        tc_fatal("cannot start the collector thread");
}

/* ---- hooks and API ---- */

/* Under the registry lock, which fork's prepare handler holds while it
 * reads the flag: a first gc_alloc either counts for this fork (and is
 * waited for at the gate) or starts after it. */
void tc_note_collected_use(void) {
    tc_registry_lock();
    atomic_store(&tc_collected_used, 1);
    tc_registry_unlock();
}

void tc_gc_note_alloc(uint64_t bytes) {
    uint64_t live = atomic_fetch_add_explicit(&heap_live, bytes, memory_order_relaxed) + bytes;
    int phase = atomic_load_explicit(&tc_gcphase, memory_order_relaxed);
    if (phase == GC_MARK) {
        tc_assist_debt += bytes; /* scan as much as we allocate */
    } else if (phase == GC_OFF && live >= atomic_load(&next_gc) && atomic_load(&gcpercent) >= 0) {
        tc_lock(&ctl, LOCKRANK_CTL);
        if (requested <= done) {
            trigger = 1;
            ensure_driver();
            pthread_cond_signal(&ctl_cond);
        }
        tc_unlock(&ctl, LOCKRANK_CTL);
    }
}

/* Go's gcAssistAlloc, paid after the allocation instead of inside it:
 * the object is already black, so a stop between two chunks is safe, and
 * a stop no longer waits for a whole assist (paid inside gc_alloc's
 * region, a span's worth of scanning kept stops waiting for milliseconds
 * whenever the thread lost its CPU in the middle of it). Each
 * chunk is a region of its own, so its grey buffer is published before a
 * stop can take the thread, and it ends early when a stop is asked for.
 * The phase only changes with the world stopped, so inside a region it
 * holds still. Debt left when marking ends is forgiven. */
__thread uint64_t tc_assist_debt __attribute__((tls_model("initial-exec")));
#define ASSIST_CHUNK ((uint64_t)64 << 10)

void tc_gc_assist(void) {
    uint64_t debt = tc_assist_debt;
    tc_assist_debt = 0;
    while (debt) {
        tc_region_enter();
        uint64_t n = 0;
        if (atomic_load_explicit(&tc_gcphase, memory_order_relaxed) == GC_MARK)
            n = tc_drain_assist(debt < ASSIST_CHUNK ? debt : ASSIST_CHUNK);
        tc_region_end(); /* a stop asked for meanwhile happens here */
        if (n == 0) break; /* marking is over, or nothing is grey */
        debt = n < debt ? debt - n : 0;
    }
}

/* GODEBUG=gcstress=N (Boehm's collect-at-malloc, Go's gcstoptheworld as
 * a model): cycles are always under way or about to start, so a hole in
 * the barrier or the roots shows up within a few allocations. The cycle
 * is asked for and not waited on. */
static __thread unsigned stress_count;

void tc_gc_stress_tick(void) {
    if (++stress_count < tc_gc_opts.stress) return;
    stress_count = 0;
    tc_region_enter();
    tc_lock(&ctl, LOCKRANK_CTL);
    if (requested <= done) {
        requested = done + 1;
        ensure_driver();
        pthread_cond_signal(&ctl_cond);
    }
    tc_unlock(&ctl, LOCKRANK_CTL);
    tc_region_end();
}

TRICOLOR_API void gc_collect(void) {
    tc_ensure_init();
    tc_region_enter(); /* ctl is taken inside regions only (alloc/lockrank.h) */
    tc_lock(&ctl, LOCKRANK_CTL);
    ensure_driver();
    uint32_t target = (requested > done ? requested : done) + 1;
    requested = target;
    pthread_cond_signal(&ctl_cond);
    tc_unlock(&ctl, LOCKRANK_CTL);
    tc_region_end();
    uint32_t v;
    while ((int32_t)((v = atomic_load(&swept)) - target) < 0) tc_parked_futex_wait(&swept, v);
}

TRICOLOR_API int gc_setpercent(int percent) {
    tc_ensure_init();
    int old = atomic_exchange(&gcpercent, percent < 0 ? -1 : percent);
    atomic_store(&next_gc, goal(atomic_load(&heap_marked)));
    return old;
}

TRICOLOR_API size_t gc_read_pauses(uint64_t *ns, size_t n) {
    tc_lock(&pause_lock, LOCKRANK_PAUSE);
    size_t have = npauses < NPAUSE ? (size_t)npauses : NPAUSE;
    if (n > have) n = have;
    for (size_t i = 0; i < n; i++) ns[i] = pauses[(npauses - n + i) % NPAUSE];
    tc_unlock(&pause_lock, LOCKRANK_PAUSE);
    return n;
}

/* The collector's half of gc_read_stats. */
TC_INTERNAL void tc_gc_read_stats(struct gc_stats *st);
void tc_gc_read_stats(struct gc_stats *st) {
    tc_region_enter();
    tc_lock(&ctl, LOCKRANK_CTL);
    st->gc_num = done;
    st->gc_mark_ns = mark_ns;
    st->gc_marked_bytes_total = marked_total;
    tc_unlock(&ctl, LOCKRANK_CTL);
    tc_region_end();
    tc_lock(&pause_lock, LOCKRANK_PAUSE);
    st->gc_pause_total_ns = pause_total;
    st->gc_pause_max_ns = pause_max;
    st->gc_npause = npauses;
    tc_unlock(&pause_lock, LOCKRANK_PAUSE);
    st->gc_heap_live = atomic_load(&heap_live);
    st->gc_heap_marked = atomic_load(&heap_marked);
    st->gc_next = atomic_load(&next_gc);
    st->gc_percent = atomic_load(&gcpercent);
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

static void parse_gogc(void) {
    const char *e = getenv("GOGC");
    if (!e || !*e) return;
    if (strcmp(e, "off") == 0) {
        atomic_store(&gcpercent, -1);
        return;
    }
    char *end;
    long v = strtol(e, &end, 10);
    if (*end || v < 0 || v > 1000000) {
        tc_print("tricolor: GOGC=%s is not a percentage or \"off\"; using 100", e);
        return;
    }
    atomic_store(&gcpercent, (int)v);
}

/* ---- start-up and fork ---- */

/* The locks are taken outside a region: the collector holds the registry
 * lock while it stops threads, and a thread waiting for it inside a region
 * would never stop. Once we hold it no stop can start, and the region that
 * follows covers the allocator's own fork handler.
 *
 * Once the program has called gc_alloc, fork also closes the fork gate
 * (gc/stw.c): every other thread is then outside its gc regions, so none
 * holds a collected span between two allocator structures (a refill
 * waiting for an mcentral lock this handler is about to take holds one).
 * The child has no thread to finish such a move: the span would never be
 * swept again, its mark bits would go stale, and the child's second cycle
 * would take its objects for scanned and free what they point to. Threads
 * are not stopped for it (a stopped thread may hold a lock fork itself
 * needs, such as stdio's), and a program that only mallocs is not even
 * asked: its threads may block every signal. What it can lose in the child
 * is a span's worth of memory, never an object (alloc/mcache.c).
 *
 * ctl and the pause ring are not locked: their writers are the collector
 * thread (excluded by cycle_lock) and callers that a fork may cut short,
 * and the child starts both afresh. */
static int fork_gated; /* cycle_lock */

static void fork_prepare(void) {
    tc_lock(&cycle_lock, LOCKRANK_CYCLE);
    tc_registry_lock();
    fork_gated = atomic_load(&tc_collected_used);
    if (fork_gated) tc_fork_gate_close();
    tc_roots_lock();
    tc_region_begin();
}

static void fork_parent(void) {
    tc_region_end();
    tc_roots_unlock();
    if (fork_gated) tc_fork_gate_open();
    tc_registry_unlock();
    tc_unlock(&cycle_lock, LOCKRANK_CYCLE);
}

/* The child has no collector, worker or finalizer thread: they start
 * again when needed. No cycle is in flight (cycle_lock), so the heap is
 * swept and unmarked. */
static void fork_child(void) {
    pthread_mutex_init(&cycle_lock, NULL);
    pthread_mutex_init(&ctl, NULL);
    pthread_mutex_init(&pause_lock, NULL);
    pthread_cond_init(&ctl_cond, NULL);
    driver_started = 0;
    trigger = 0;
    uint32_t sw = atomic_load(&swept);
    requested = done = (done > sw ? done : sw);
    atomic_store(&swept, done);
    atomic_store(&tc_gcphase, GC_OFF);
    tc_stw_after_fork_child();
    tc_roots_after_fork_child();
    tc_mark_after_fork_child();
    tc_finalizers_after_fork_child();
    tc_lockrank_after_fork_child(); /* the locks prepare took are new ones */
    tc_region_depth--;
    tc_region_pending = 0;
}

void tc_gc_init(void) {
    start_ns = tc_nanotime();
    tc_gc_opts.gctrace = tc_opts.gctrace;
    tc_gc_opts.checkmark = tc_opts.gccheckmark;
    tc_gc_opts.signal = tc_opts.gcsignal;
    tc_gc_opts.fullstop = tc_opts.gcfullstop;
    tc_gc_opts.stress = (unsigned)tc_opts.gcstress;
    parse_gogc();
    atomic_store(&next_gc, goal(0));
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    tc_gc_signal_choose(tc_gc_opts.signal, 1);
    tc_threads_init();
}
