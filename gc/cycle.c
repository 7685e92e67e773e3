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
 * Pacing is Go's (gc/pacer.c): allocation counts span bytes into
 * heapLive and a cycle starts when it reaches the pacer's trigger, set at
 * each mark termination from GOGC, GOMEMLIMIT and the cons/mark ratio the
 * cycle measured; while marking, allocation owes scan work at the pacer's
 * assist ratio, paid from the workers' credit first. gc_setpercent(-1) or
 * GOGC=off leaves only the memory limit (if any) to start cycles;
 * gc_collect always runs one. The pacer's commit takes pacer_lock, which
 * is only held inside a gc region or by the collector thread outside a
 * stop, so a stop never waits on it.
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
#include "alloc/scavenge.h"
#include "gc/gc.h"
#include "gc/hooks.h"
#include "gc/pacer.h"
#include "include/tricolor.h"

_Atomic int tc_gcphase;
void (*tc_gc_testhook)(enum tc_gc_point);
_Atomic int tc_gc_testhook_holding;
struct tc_gc_options tc_gc_opts;

TC_INTERNAL uint64_t tc_sweep_some(uint64_t budget);

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
static int cycle_forced; /* ctl: the cycle under way was asked for by gc_collect */
_Atomic int tc_collected_used; /* 1 once gc_alloc was called; set under the registry lock */
/* The pause ring has a leaf lock of its own: pauses are recorded while
 * the registry lock is held (order: registry < pause). */
static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t pauses[NPAUSE], pause_ends[NPAUSE]; /* ns; end: since 1970; pause_lock */
static uint64_t npauses, pause_total, pause_max; /* pause_lock */
/* Statistics (ctl): mark wall time and bytes traced, cycles gc_collect
 * asked for, GC CPU time (Go's gctrace sum, idle marking excluded) and
 * when the last cycle ended (ns since 1970). */
static uint64_t mark_ns, marked_total, nforced, gc_cpu_ns, last_gc_unix;
static uint64_t start_ns;
static int procs; /* GOMAXPROCS; set at start-up */
static uint64_t heap_marked; /* by the last cycle, allocate-black included; racy reads */
/* Taken by every commit of the pacer (see the essay): setters inside a
 * region, the collector thread after the world restarts. */
static pthread_mutex_t pacer_lock = PTHREAD_MUTEX_INITIALIZER;
/* Bumped as each mark begins: assist credit from an older cycle is void. */
static _Atomic uint32_t mark_cycle;
static uint64_t limiter_seen; /* this cycle's GC CPU already given to the limiter; collector */

uint64_t tc_nanotime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t tc_thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t unix_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int tc_gc_procs(void) { return procs; }

void tc_record_pause(uint64_t ns) {
    uint64_t end = unix_ns();
    tc_lock(&pause_lock, LOCKRANK_PAUSE);
    pause_ends[npauses % NPAUSE] = end;
    pauses[npauses++ % NPAUSE] = ns;
    pause_total += ns;
    if (ns > pause_max) pause_max = ns;
    tc_unlock(&pause_lock, LOCKRANK_PAUSE);
}

/* ---- pacing ---- */

/* What the runtime holds from the OS, for the memory limit (racy reads:
 * also called while the world is stopped). */
static void memory_now(struct tc_pacer_mem *m, uint64_t heap_live) {
    tc_mheap_usage(&m->mapped, &m->heap_free);
    m->heap_live = heap_live;
}

/* The most heap in use during each of the last four cycles (mark
 * termination to mark termination) and the goal in force (newest first;
 * zero before the first cycles). Collector thread writes, pacer_lock. */
static uint64_t peak_inuse[4], peak_goal[4];

/* pacer_lock held, or start-up. Commit, then tell the scavenger (Go's
 * gcPaceScavenger): keep retained memory at 1.1x the heap in use, and
 * everything mapped under 95 % of the limit. Go takes the heap in use at
 * the last mark termination, scaled by how the goal moved since; here it
 * is the most in use in any of the last four cycles (the heap keeps
 * growing past mark termination while the sweep catches up), scaled down
 * only when the goal fell by more than a quarter below the largest of
 * theirs (the live heap shrank, or GOGC went down). Measured on a steady
 * heap: the peak varied by 1.0-1.2x the goal from cycle to cycle, and the
 * goal itself by 15 % (black allocation lands in the marked bytes);
 * following either made the scavenger release pages the next cycle
 * faulted back in. */
static void commit_locked(uint64_t heap_live) {
    struct gccontroller *c = &tc_gcController;
    struct tc_pacer_mem m;
    memory_now(&m, heap_live);
    tc_pacer_commit(c, &m);
    uint64_t goal = atomic_load(&c->heapGoal), keep = 0, peak = 0, top = 0;
    for (unsigned i = 0; i < 4; i++) {
        peak = peak_inuse[i] > peak ? peak_inuse[i] : peak;
        top = peak_goal[i] > top ? peak_goal[i] : top;
    }
    if (peak && goal != UINT64_MAX) {
        double k = (double)peak * 1.1;
        if ((double)goal < 0.75 * (double)top) k = k * (double)goal / (double)top;
        keep = (uint64_t)k;
    }
    tc_scavenge_set_gc_goal(keep);
    tc_scavenge_set_limit(atomic_load(&c->memoryLimit));
}

/* The GC CPU time (ns) of this cycle so far, as the limiter counts it. */
static uint64_t cycle_gc_cpu(void) {
    struct gccontroller *c = &tc_gcController;
    return (uint64_t)(atomic_load(&c->assistTime) + atomic_load(&c->dedicatedMarkTime) +
                      atomic_load(&c->fractionalMarkTime));
}

/* Give the limiter what the collector used since its last update, plus
 * stw_ns of stopped time on every P. Collector thread. */
static void limiter_tick(uint64_t now, uint64_t stw_ns) {
    uint64_t gc = cycle_gc_cpu();
    uint64_t delta = gc - limiter_seen + stw_ns * (uint64_t)procs;
    limiter_seen = gc;
    tc_limiter_update(&tc_gcLimiter, now, delta, procs);
}

void tc_gc_pace_tick(uint64_t now) {
    tc_pacer_revise(&tc_gcController);
    limiter_tick(now, 0);
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
static void gctrace(uint32_t n, uint64_t t0, uint64_t p1, uint64_t mark, uint64_t p2,
                    uint64_t h0, uint64_t h1, uint64_t h2) {
    struct gccontroller *c = &tc_gcController;
    uint64_t now = tc_nanotime(), since = t0 - start_ns;
    uint64_t util = gc_cpu_ns * 100 / ((now - start_ns) * (uint64_t)procs + 1);
    char a[8][16];
    tc_print("gc %u @%zu.%03zus %zu%%: %s+%s+%s ms clock, %s+%s/%s/%s+%s ms cpu, "
             "%zu->%zu->%zu MB, %zu MB goal, %zu MB stacks, %zu MB globals, %d P%s",
             n, (size_t)(since / 1000000000u), (size_t)(since / 1000000u % 1000), (size_t)util,
             fmt_ms(a[0], 16, p1), fmt_ms(a[1], 16, mark), fmt_ms(a[2], 16, p2),
             fmt_ms(a[3], 16, p1 * (uint64_t)procs),
             fmt_ms(a[4], 16, (uint64_t)atomic_load(&c->assistTime)),
             fmt_ms(a[5], 16, (uint64_t)(atomic_load(&c->dedicatedMarkTime) +
                                         atomic_load(&c->fractionalMarkTime))),
             fmt_ms(a[6], 16, (uint64_t)atomic_load(&c->idleMarkTime)),
             fmt_ms(a[7], 16, p2 * (uint64_t)procs), (size_t)(h0 >> 20), (size_t)(h1 >> 20),
             (size_t)(h2 >> 20), (size_t)(c->lastHeapGoal >> 20), (size_t)(c->lastStackScan >> 20),
             (size_t)(c->globalsScan >> 20), procs, cycle_forced ? " (forced)" : "");
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
    struct gccontroller *c = &tc_gcController;
    uint64_t h0 = atomic_load(&c->heapLive), tstart = tc_nanotime();
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
    limiter_tick(m0, 0);
    tc_pacer_start_cycle(c, m0, procs);
    limiter_seen = 0;
    atomic_fetch_add(&mark_cycle, 1);
    tc_mark_start_workers();
    tc_mark_wake_workers(1);
    tc_roots_mark();
    if (TC_UNLIKELY(tc_gc_testhook != NULL)) tc_gc_testhook(TC_GC_POINT_ROOTS);
    atomic_fetch_add(&c->globalsScanWork, (int64_t)tc_mark_root_scanned_take());
    scan_stacks();
    if (TC_UNLIKELY(tc_gc_testhook != NULL)) tc_gc_testhook(TC_GC_POINT_STACKS);
    uint64_t p2;
    for (;;) {
        while (!tc_work_empty()) tc_drain(1 << 20);
        tc_registry_lock();
        t0 = stop(0);
        for (struct gthread *t = tc_registry_first(); t; t = t->next)
            tc_wbbuf_flush(&t->wbbuf);
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
    uint64_t traced, live = tc_mark_bytes_take(&traced), before = atomic_load(&c->heapLive);
    atomic_fetch_add(&c->stackScanWork, (int64_t)tc_mark_root_scanned_take());
    atomic_store(&tc_gcphase, GC_OFF);
    tc_sweep_begin_stopped();
    tc_pacer_end_cycle(c, m1, live, traced);
    heap_marked = live;
    atomic_store(&c->trigger, UINT64_MAX); /* until the commit below */
    memmove(peak_inuse + 1, peak_inuse, sizeof peak_inuse - sizeof peak_inuse[0]);
    memmove(peak_goal + 1, peak_goal, sizeof peak_goal - sizeof peak_goal[0]);
    peak_inuse[0] = tc_mheap_inuse_peak();
    peak_goal[0] = c->lastHeapGoal != UINT64_MAX ? c->lastHeapGoal : 0;
    start(t0);
    p2 = tc_nanotime() - t0;
    tc_registry_unlock();

    tc_lock(&pacer_lock, LOCKRANK_PACER);
    commit_locked(before);
    tc_unlock(&pacer_lock, LOCKRANK_PACER);
    limiter_tick(tc_nanotime(), p1 + p2);
    tc_lock(&ctl, LOCKRANK_CTL);
    mark_ns += m1 - m0;
    marked_total += live;
    nforced += (uint64_t)cycle_forced;
    gc_cpu_ns += cycle_gc_cpu() + (p1 + p2) * (uint64_t)procs;
    last_gc_unix = unix_ns();
    tc_unlock(&ctl, LOCKRANK_CTL);
    if (tc_gc_opts.gctrace) gctrace(n, tstart, p1, m1 - m0, p2, h0, before, live);
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

void tc_gc_note_alloc(uint64_t bytes, int scan) {
    struct gccontroller *c = &tc_gcController;
    uint64_t live = atomic_fetch_add_explicit(&c->heapLive, bytes, memory_order_relaxed) + bytes;
    if (scan) atomic_fetch_add_explicit(&c->heapScan, bytes, memory_order_relaxed);
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
 * holds still. Debt left when marking ends is forgiven.
 *
 * The debt (bytes) becomes scan work at the pacer's assist ratio, at
 * least 64 KiB of it (Go's gcOverAssistWork: small debts do not each stop
 * to scan); the workers' credit pays first, and what was paid beyond the
 * debt is this thread's credit for the rest of the cycle. While the CPU
 * limiter is on, nothing is paid. */
__thread uint64_t tc_assist_debt __attribute__((tls_model("initial-exec")));
static __thread uint64_t assist_credit; /* bytes paid ahead, in cycle assist_cycle */
static __thread uint32_t assist_cycle;
#define ASSIST_CHUNK ((uint64_t)64 << 10)

/* An assist found nothing grey while cycle cyc still marks: the work is
 * in the markers' hands. As Go parks the goroutine until background credit
 * arrives, wait (outside any region, parked) for the workers' credit to
 * cover it; forgiving the debt let the heap run past its goal (seen: a
 * 64 MiB heap at GOGC=100 peaking at 199 MiB on a loaded machine, its
 * markers descheduled). Returns 0 when marking ended (debt forgiven) or
 * the credit paid it. */
static int assist_wait(uint32_t cyc, uint64_t work, uint64_t *paid, uint64_t done) {
    struct gccontroller *c = &tc_gcController;
    struct timespec ts = {0, 20 * 1000};
    while (*paid + done < work) {
        if (atomic_load_explicit(&tc_gcphase, memory_order_relaxed) != GC_MARK ||
            atomic_load_explicit(&mark_cycle, memory_order_relaxed) != cyc ||
            tc_limiter_on(&tc_gcLimiter) || atomic_load(&tc_gc_testhook_holding))
            return 0;
        *paid += tc_pacer_take_credit(c, work - *paid - done);
        tc_region_enter(); /* the work queue's lock is taken inside regions */
        int empty = tc_work_empty();
        tc_region_end();
        if (!empty) return 1; /* grey objects to take again */
        nanosleep(&ts, NULL);
    }
    return 0;
}

void tc_gc_assist(void) {
    struct gccontroller *c = &tc_gcController;
    uint64_t debt = tc_assist_debt;
    tc_assist_debt = 0;
    uint32_t cyc = atomic_load_explicit(&mark_cycle, memory_order_relaxed);
    if (assist_cycle != cyc) assist_cycle = cyc, assist_credit = 0;
    if (assist_credit >= debt) {
        assist_credit -= debt;
        return;
    }
    debt -= assist_credit;
    assist_credit = 0;
    if (tc_limiter_on(&tc_gcLimiter)) return;
    uint64_t work = tc_pacer_assist_work(c, debt), done = 0, t0 = 0;
    if (work < TC_PACER_OVER_ASSIST) work = TC_PACER_OVER_ASSIST;
    uint64_t paid = tc_pacer_take_credit(c, work);
    while (paid + done < work) {
        if (!t0) t0 = tc_thread_cpu_ns();
        uint64_t left = work - paid - done;
        tc_region_enter();
        uint64_t n = 0;
        if (atomic_load_explicit(&tc_gcphase, memory_order_relaxed) == GC_MARK)
            n = tc_drain_assist(left < ASSIST_CHUNK ? left : ASSIST_CHUNK);
        tc_region_end(); /* a stop asked for meanwhile happens here */
        done += n;
        if (n == 0 && !assist_wait(cyc, work, &paid, done)) break;
    }
    if (t0) atomic_fetch_add_explicit(&c->assistTime, (int64_t)(tc_thread_cpu_ns() - t0),
                                      memory_order_relaxed);
    uint64_t bytes = tc_pacer_work_bytes(c, paid + done);
    assist_credit = bytes > debt ? bytes - debt : 0;
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

/* A setting and its commit, inside a region (pacer_lock: see the essay). */
static int64_t set_pacing(int which, int64_t v) {
    tc_ensure_init();
    tc_region_enter();
    tc_lock(&pacer_lock, LOCKRANK_PACER);
    int64_t old = which ? tc_pacer_set_memory_limit(&tc_gcController, v)
                        : tc_pacer_set_gcpercent(&tc_gcController, (int32_t)v);
    commit_locked(atomic_load(&tc_gcController.heapLive));
    tc_unlock(&pacer_lock, LOCKRANK_PACER);
    tc_region_end();
    return old;
}

TRICOLOR_API int gc_setpercent(int percent) { return (int)set_pacing(0, percent); }

void tc_gc_collect_if_used(void) {
    if (atomic_load(&tc_collected_used)) gc_collect();
}

TRICOLOR_API int64_t gc_set_memory_limit(int64_t bytes) { return set_pacing(1, bytes); }

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
    uint64_t now = tc_nanotime();
    tc_region_enter(); /* ctl is taken inside regions only */
    tc_lock(&ctl, LOCKRANK_CTL);
    st->gc_num = done;
    st->gc_mark_ns = mark_ns;
    st->gc_marked_bytes_total = marked_total;
    st->gc_num_forced = (uint32_t)nforced;
    st->gc_last_ns = last_gc_unix;
    st->gc_cpu_fraction = (double)gc_cpu_ns / ((double)(now - start_ns) * procs + 1);
    tc_unlock(&ctl, LOCKRANK_CTL);
    tc_region_end();
    tc_lock(&pause_lock, LOCKRANK_PAUSE);
    st->gc_pause_total_ns = pause_total;
    st->gc_pause_max_ns = pause_max;
    st->gc_npause = npauses;
    memcpy(st->gc_pause_ns, pauses, sizeof pauses);
    memcpy(st->gc_pause_end_ns, pause_ends, sizeof pause_ends);
    tc_unlock(&pause_lock, LOCKRANK_PAUSE);
    st->gc_procs = (uint32_t)procs;
    struct gccontroller *c = &tc_gcController;
    st->gc_heap_live = atomic_load(&c->heapLive);
    st->gc_heap_marked = heap_marked;
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

/* GOGC, GOMEMLIMIT and GOMAXPROCS: a bad value gets one line and the
 * default. (The parsers are gc/pacer.c's, ready for an options table.) */
static void read_env(int32_t *pct, int64_t *limit) {
    const char *e = getenv("GOGC");
    if (e && *e && tc_pacer_parse_gogc(e, pct))
        tc_print("tricolor: GOGC=%s is not a percentage or \"off\"; using 100", e);
    e = getenv("GOMEMLIMIT");
    if (e && *e && tc_pacer_parse_memlimit(e, limit))
        tc_print("tricolor: GOMEMLIMIT=%s is not a byte count (such as 512MiB) or \"off\"; "
                 "no limit", e);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    procs = n > 0 && n < 1024 ? (int)n : 1;
    e = getenv("GOMAXPROCS");
    int32_t v;
    if (e && *e) {
        if (tc_pacer_parse_gogc(e, &v) == 0 && v > 0 && v <= 1024) procs = (int)v;
        else tc_print("tricolor: GOMAXPROCS=%s is not a number from 1 to 1024; using %d", e, procs);
    }
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
    pthread_mutex_init(&pacer_lock, NULL);
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
    int32_t pct = 100;
    int64_t limit = TC_PACER_NO_LIMIT;
    read_env(&pct, &limit);
    tc_pacer_init(&tc_gcController, pct, limit);
    commit_locked(0);
    tc_limiter_init(&tc_gcLimiter, procs, start_ns);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    tc_gc_signal_choose(tc_gc_opts.signal, 1);
    tc_threads_init();
}
