/* gc/cycle.c: the collector's driver, one cycle after another (Go's mgc.go).
 *
 * A cycle, run by the collector thread (run_cycle), in Go's phases:
 *   1. sweep_termination (Go's gcStart): finish sweeping the previous
 *      cycle, then, without stopping the world, a handshake waits until
 *      every thread has been outside its gc regions once (gc/stw.c),
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
 *   2. concurrent_mark (Go's background mark workers and markroot):
 *      globals, registered ranges and finalizer roots, then each thread's
 *      stack and registers, one thread at a time (stop it, scan, let it
 *      go), while the mark workers, this thread and allocating threads
 *      (assists, gc/assist.c) drain the grey set;
 *   3. mark_done (Go's gcMarkDone): with the grey set empty, the world
 *      stops (only the threads inside a gc region are waited for,
 *      gc/stw.c) and every thread's barrier buffer is flushed; if that
 *      made new grey objects the world goes again and marking continues;
 *   4. mark_termination (Go's gcMarkTermination), still stopped: if asked,
 *      the checkmark (which first stops the other threads too: it scans
 *      stacks); phase = OFF; Go's gcSweep: the sweep generation moves on
 *      and every collected span becomes unswept; the pacer closes the
 *      cycle; the world goes, and the next goal is committed (gc/pacing.c);
 *   5. sweep_background (Go's bgsweep), concurrent with the program, which
 *      also sweeps lazily as it allocates; the cycle lock is held until it
 *      is done, so the next cycle never starts half swept.
 * The stops do O(threads + Ps) work, never O(heap): no stack is scanned
 * during them, because the hybrid barrier keeps scanned stacks black
 * (gc/barrier.c). Pauses are timed and kept by gc/stats.c.
 *
 * A cycle starts when allocation brings heapLive to the pacer's trigger
 * (tc_gc_note_alloc; that thread then waits for the mark to begin,
 * tc_gc_wait_start), when gc_collect asks for one (and waits for its
 * sweep), or every N allocations under GODEBUG=gcstress=N. */
#include <stdlib.h>

#include "alloc/alloc.h"
#include "alloc/base.h"
#include "alloc/lockrank.h"
#include "alloc/options.h"
#include "alloc/region.h"
#include "alloc/report.h"
#include "gc/assist.h"
#include "gc/barrier.h"
#include "gc/cycle.h"
#include "gc/finalizer.h"
#include "gc/hooks.h"
#include "gc/mark.h"
#include "gc/pacer.h"
#include "gc/pacing.h"
#include "gc/park.h"
#include "gc/phase.h"
#include "gc/roots.h"
#include "gc/signals.h"
#include "gc/stacks.h"
#include "gc/stats.h"
#include "gc/stw.h"
#include "gc/sweep.h"
#include "gc/threads.h"
#include "gc/tls.h"
#include "gc/verify.h"
#include "include/tricolor.h"

/* GOMEMLIMIT=off, as alloc/options.c stores it. */
_Static_assert(TC_PACER_NO_LIMIT == INT64_MAX, "no memory limit: one value");

_Atomic int tc_gcphase;
_Atomic tc_gc_hook_fn tc_gc_testhook;
_Atomic int tc_gc_testhook_holding;
struct tc_gc_options tc_gc_opts;

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
/* The last cycle whose mark has begun (allocate-black and assists on):
 * a futex word allocation past the trigger waits on (tc_gc_wait_start). */
static _Atomic uint32_t marks_begun;
/* The cycle this thread asked for at its trigger and waits to begin. */
static __thread uint32_t start_target;
static int trigger, driver_started;
static int cycle_forced; /* ctl: the cycle under way was asked for by gc_collect */
_Atomic int tc_collected_used; /* 1 once gc_alloc was called; set under the registry lock */
/* Statistics (ctl): mark wall time and bytes traced, cycles gc_collect
 * asked for, GC CPU time (Go's gctrace sum, idle marking excluded) and
 * when the last cycle ended (ns since 1970). */
static uint64_t mark_ns, marked_total, nforced, gc_cpu_ns, last_gc_unix;
static uint64_t start_ns; /* tc_nanotime at start-up */
static int procs; /* GOMAXPROCS; set at start-up */
static uint64_t heap_marked; /* by the last cycle, allocate-black included; racy reads */

int tc_gc_procs(void) { return procs; }

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

/* One cycle's figures, from phase to phase (collector thread). Times in
 * ns from tc_nanotime; bytes. */
struct cycle {
    uint32_t n;          /* its number, from 1 */
    uint64_t tstart;     /* when it began, sweeping done */
    uint64_t h0;         /* heapLive then */
    uint64_t p1;         /* sweep termination's wall time */
    uint64_t m0, m1;     /* mark's start and end */
    uint64_t t0;         /* when the last stop began (mark termination's) */
    uint64_t p2;         /* mark termination's pause */
    uint64_t live;       /* marked, allocate-black included */
    uint64_t traced;     /* marked by tracing alone */
    uint64_t before;     /* heapLive at mark termination */
};

/* Go's gcStart: finish the last cycle's sweep, then sweep termination.
 * Turns the barrier on (MARKSTART) between two handshakes, then allows
 * allocate-black (MARK). */
static void sweep_termination(struct cycle *cy) {
    while (tc_sweep_some(256)) continue;
    tc_roots_refresh_globals();
    cy->h0 = atomic_load(&tc_gcController.heapLive);
    cy->tstart = tc_nanotime();
    tc_gc_hook(TC_GC_POINT_START);

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
    /* The cycle's assist ratio before any assist can run (Go's startCycle
     * comes before gcBlackenEnabled): the last cycle's, or none at all,
     * let a descheduled collector leave allocation unpaced. */
    cy->m0 = tc_nanotime();
    tc_pacing_mark_start(cy->m0);
    tc_assist_new_cycle();
    atomic_store(&tc_gcphase, GC_MARK);
    cy->p1 = tc_nanotime() - t0;
    tc_registry_unlock();
    atomic_store(&marks_begun, cy->n);
    tc_futex_wake_all(&marks_begun);
}

/* The concurrent mark phase (Go's gcBgMarkWorker and markroot): workers
 * wake, this thread marks the roots and then every thread's stack, one
 * thread at a time; assists and workers drain the grey set meanwhile. */
static void concurrent_mark(void) {
    struct gccontroller *c = &tc_gcController;
    tc_mark_start_workers();
    tc_mark_wake_workers(1);
    tc_roots_mark();
    tc_gc_hook(TC_GC_POINT_ROOTS);
    atomic_fetch_add(&c->globalsScanWork, (int64_t)tc_mark_root_scanned_take());
    scan_stacks();
    tc_gc_hook(TC_GC_POINT_STACKS);
}

/* Go's gcMarkDone: drain, then stop the world and flush every barrier
 * buffer; if that greyed anything, let the world go and drain again.
 * Returns with the world stopped and the registry locked. */
static void mark_done(struct cycle *cy) {
    for (;;) {
        while (!tc_work_empty()) tc_drain(1 << 20);
        tc_registry_lock();
        cy->t0 = stop(0);
        for (struct gthread *t = tc_registry_first(); t; t = t->next)
            tc_wbbuf_flush(&t->wbbuf);
        if (tc_work_empty()) break;
        start(cy->t0);
        tc_registry_unlock();
    }
}

/* Go's gcMarkTermination, world stopped and registry locked on entry: the
 * checkmark if asked, phase OFF, the sweep set up (Go's gcSweep: every
 * collected span unswept), the pacer's cycle closed; then the world goes,
 * and the next goal is committed and the cycle counted. */
static void mark_termination(struct cycle *cy) {
    struct gccontroller *c = &tc_gcController;
    tc_mark_wake_workers(0);
    cy->m1 = tc_nanotime();
    atomic_store(&tc_gcphase, GC_MARKTERM);
    if (tc_gc_opts.checkmark) { /* it scans the stacks */
        tc_stop_world_rest();
        tc_checkmark();
    }
    cy->live = tc_mark_bytes_take(&cy->traced);
    cy->before = atomic_load(&c->heapLive);
    atomic_fetch_add(&c->stackScanWork, (int64_t)tc_mark_root_scanned_take());
    atomic_store(&tc_gcphase, GC_OFF);
    tc_sweep_begin_stopped();
    tc_pacing_mark_end_stopped(cy->m1, cy->live, cy->traced);
    __atomic_store_n(&heap_marked, cy->live, __ATOMIC_RELAXED);
    start(cy->t0);
    cy->p2 = tc_nanotime() - cy->t0;
    tc_registry_unlock();

    tc_pacing_commit();
    tc_pacing_limiter_tick(tc_nanotime(), cy->p1 + cy->p2);
    tc_lock(&ctl, LOCKRANK_CTL);
    mark_ns += cy->m1 - cy->m0;
    marked_total += cy->live;
    nforced += (uint64_t)cycle_forced;
    gc_cpu_ns += tc_pacing_cycle_gc_cpu() + (cy->p1 + cy->p2) * (uint64_t)procs;
    last_gc_unix = tc_unix_ns();
    tc_unlock(&ctl, LOCKRANK_CTL);
    if (tc_gc_opts.gctrace) {
        struct tc_gctrace g = {cy->n, cy->tstart, cy->p1, cy->m1 - cy->m0, cy->p2, cy->h0,
                               cy->before, cy->live, gc_cpu_ns, start_ns, procs, cycle_forced};
        tc_gctrace(&g);
    }
}

/* Everything of a cycle but the background sweep (sweep_background). */
static void run_cycle(uint32_t n) {
    struct cycle cy = {.n = n};
    sweep_termination(&cy);
    concurrent_mark();
    mark_done(&cy);
    mark_termination(&cy);
}

/* Go's bgsweep: the collector thread sweeps what allocation has not. */
static void sweep_background(void) {
    while (tc_sweep_some(64)) continue;
}

static void *driver_main(void *arg) {
    (void)arg;
    for (;;) {
        tc_lock(&ctl, LOCKRANK_CTL);
        while (requested <= done && !trigger) pthread_cond_wait(&ctl_cond, &ctl);
        trigger = 0;
        uint32_t n = done + 1;
        cycle_forced = requested >= n;
        if (requested < n) requested = n;
        tc_unlock(&ctl, LOCKRANK_CTL);
        tc_lock(&cycle_lock, LOCKRANK_CYCLE);
        run_cycle(n);
        tc_lock(&ctl, LOCKRANK_CTL);
        done = n;
        pthread_cond_broadcast(&ctl_cond);
        tc_unlock(&ctl, LOCKRANK_CTL);
        sweep_background();
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

void tc_gc_note_alloc(uint64_t bytes, int scan) {
    struct gccontroller *c = &tc_gcController;
    uint64_t live = atomic_fetch_add_explicit(&c->heapLive, bytes, memory_order_relaxed) + bytes;
    if (scan) atomic_fetch_add_explicit(&c->heapScan, bytes, memory_order_relaxed);
    tc_pacing_limit_poll();
    int phase = atomic_load_explicit(&tc_gcphase, memory_order_relaxed);
    if (phase == GC_MARK) {
        tc_assist_debt += bytes; /* paid in scan work by tc_gc_assist */
    } else if (phase == GC_OFF && live >= atomic_load_explicit(&c->trigger, memory_order_relaxed)) {
        tc_lock(&ctl, LOCKRANK_CTL);
        if (requested <= done) {
            trigger = 1;
            ensure_driver();
            pthread_cond_signal(&ctl_cond);
        }
        start_target = done + 1;
        tc_unlock(&ctl, LOCKRANK_CTL);
        tc_assist_debt |= TC_ASSIST_WAIT_START; /* after the region: tc_gc_wait_start */
    }
}

/* Go's allocating goroutine runs gcStart itself, and others that pass
 * the trigger meanwhile wait on its start semaphore: allocation does not
 * outrun a cycle that has not started. Here the collector thread starts
 * it, and a descheduled collector (a busy machine) let the heap run tens
 * of MiB past the trigger, and a memory limit, with nothing to pace it.
 * So the thread waits, parked and outside its regions, until the mark
 * it asked for begins (after the last cycle's sweep, as in Go), for
 * START_WAIT_NS at most: the thread may hold something the collector
 * needs to start (the loader's lock, in a constructor that allocates). */
#define START_WAIT_NS 100000000u
void tc_gc_wait_start(void) {
    uint32_t target = start_target, v;
    uint64_t until = tc_nanotime() + START_WAIT_NS, now;
    while ((int32_t)((v = atomic_load(&marks_begun)) - target) < 0 &&
           (now = tc_nanotime()) < until) {
        if (atomic_load(&tc_gc_testhook_holding)) return; /* a test holds the collector */
        struct timespec ts = {0, (long)(until - now)};
        tc_parked_futex_wait_for(&marks_begun, v, &ts);
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

void tc_gc_collect_if_used(void) {
    if (!atomic_load(&tc_collected_used)) return;
    gc_collect();
    tc_mark_release_buffers();
}

void tc_gc_counts(struct tc_gc_counts *k) {
    tc_region_enter(); /* ctl is taken inside regions only */
    tc_lock(&ctl, LOCKRANK_CTL);
    k->num = done;
    k->mark_ns = mark_ns;
    k->marked_total = marked_total;
    k->nforced = nforced;
    k->cpu_ns = gc_cpu_ns;
    k->last_unix = last_gc_unix;
    tc_unlock(&ctl, LOCKRANK_CTL);
    tc_region_end();
    k->heap_marked = __atomic_load_n(&heap_marked, __ATOMIC_RELAXED);
    k->start_ns = start_ns;
    k->procs = procs;
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
 * swept and unmarked. The locks prepare took are this thread's and are
 * released as in the parent; the others may have had an owner that the
 * child does not have, and start afresh. */
static void fork_child(void) {
    tc_roots_unlock();
    pthread_mutex_init(&ctl, NULL);
    pthread_cond_init(&ctl_cond, NULL);
    driver_started = 0;
    trigger = 0;
    uint32_t sw = atomic_load(&swept);
    requested = done = (done > sw ? done : sw);
    atomic_store(&swept, done);
    atomic_store(&tc_gcphase, GC_OFF);
    tc_stw_after_fork_child(); /* releases the registry lock */
    tc_mark_after_fork_child();
    tc_finalizers_after_fork_child();
    tc_stats_after_fork_child();
    tc_pacing_after_fork_child();
    tc_unlock(&cycle_lock, LOCKRANK_CYCLE);
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
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    procs = tc_opts.gomaxprocs ? tc_opts.gomaxprocs : n > 0 && n < 1024 ? (int)n : 1;
    tc_pacing_init(tc_opts.gogc, tc_opts.gomemlimit, start_ns);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    tc_gc_signal_choose(tc_gc_opts.signal, 1);
    tc_stw_init();
    tc_threads_init();
}
