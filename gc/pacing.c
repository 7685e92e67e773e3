/* gc/pacing.c: the pacer (gc/pacer.c, pure arithmetic) at work in the
 * running program: Go's gcControllerCommit and its callers, the
 * scavenger's goal (Go's gcPaceScavenger), and the CPU limiter's feed.
 *
 * Pacing is Go's: allocation counts span bytes into heapLive and a cycle
 * starts when it reaches the pacer's trigger (gc/cycle.c), set at each
 * mark termination from GOGC, GOMEMLIMIT and the cons/mark ratio the
 * cycle measured; while marking, allocation owes scan work at the pacer's
 * assist ratio (gc/assist.c), paid from the workers' credit first.
 * gc_setpercent(-1) or GOGC=off leaves only the memory limit (if any) to
 * start cycles; gc_collect always runs one. With a memory limit,
 * allocation commits again when the memory outside the collected heap
 * has moved (tc_pacing_limit_poll): the limit's goal follows the metadata
 * as the heap grows. Every commit takes pacer_lock, which is only held
 * inside a gc region (the setters, allocation) or by the collector thread
 * outside a stop, so a stop never waits on it. */
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/lockrank.h"
#include "alloc/mheap.h"
#include "alloc/region.h"
#include "alloc/scavenge.h"
#include "gc/cycle.h"
#include "gc/pacer.h"
#include "gc/pacing.h"
#include "gc/stw.h"
#include "include/tricolor.h"

/* Taken by every commit of the pacer (see above). */
static pthread_mutex_t pacer_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t limiter_seen; /* this cycle's GC CPU already given to the limiter; collector */

/* What the runtime holds from the OS, for the memory limit (racy reads:
 * also called while the world is stopped). */
static void memory_now(struct tc_pacer_mem *m) {
    tc_mheap_usage(&m->mapped, &m->heap_free, &m->heap_live);
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
static void commit_locked(void) {
    struct gccontroller *c = &tc_gcController;
    struct tc_pacer_mem m;
    memory_now(&m);
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

uint64_t tc_pacing_cycle_gc_cpu(void) {
    struct gccontroller *c = &tc_gcController;
    return (uint64_t)(atomic_load(&c->assistTime) + atomic_load(&c->dedicatedMarkTime) +
                      atomic_load(&c->fractionalMarkTime));
}

void tc_pacing_limiter_tick(uint64_t now, uint64_t stw_ns) {
    int procs = tc_gc_procs();
    uint64_t gc = tc_pacing_cycle_gc_cpu();
    uint64_t delta = gc - limiter_seen + stw_ns * (uint64_t)procs;
    limiter_seen = gc;
    tc_limiter_update(&tc_gcLimiter, now, delta, procs);
}

void tc_gc_pace_tick(uint64_t now) {
    tc_pacer_revise(&tc_gcController);
    tc_pacing_limiter_tick(now, 0);
}

/* A setting and its commit, inside a region (pacer_lock: see above). */
static int64_t set_pacing(int which, int64_t v) {
    tc_ensure_init();
    tc_region_enter();
    tc_lock(&pacer_lock, LOCKRANK_PACER);
    int64_t old = which ? tc_pacer_set_memory_limit(&tc_gcController, v)
                        : tc_pacer_set_gcpercent(&tc_gcController, (int32_t)v);
    commit_locked();
    tc_unlock(&pacer_lock, LOCKRANK_PACER);
    tc_region_end();
    return old;
}

TRICOLOR_API int gc_setpercent(int percent) { return (int)set_pacing(0, percent); }

TRICOLOR_API int64_t gc_set_memory_limit(int64_t bytes) { return set_pacing(1, bytes); }

void tc_pacing_init(int32_t gcpercent, int64_t memlimit, uint64_t now) {
    tc_pacer_init(&tc_gcController, gcpercent, memlimit);
    commit_locked();
    tc_limiter_init(&tc_gcLimiter, tc_gc_procs(), now);
}

void tc_pacing_mark_start(uint64_t now) {
    tc_pacing_limiter_tick(now, 0);
    tc_pacer_start_cycle(&tc_gcController, now, tc_gc_procs());
    limiter_seen = 0;
}

void tc_pacing_mark_end_stopped(uint64_t now, uint64_t live, uint64_t traced) {
    struct gccontroller *c = &tc_gcController;
    tc_pacer_end_cycle(c, now, live, traced);
    atomic_store(&c->trigger, UINT64_MAX); /* until the commit */
    memmove(peak_inuse + 1, peak_inuse, sizeof peak_inuse - sizeof peak_inuse[0]);
    memmove(peak_goal + 1, peak_goal, sizeof peak_goal - sizeof peak_goal[0]);
    peak_inuse[0] = tc_mheap_inuse_peak();
    peak_goal[0] = c->lastHeapGoal != UINT64_MAX ? c->lastHeapGoal : 0;
}

void tc_pacing_commit(void) {
    tc_lock(&pacer_lock, LOCKRANK_PACER);
    commit_locked();
    tc_unlock(&pacer_lock, LOCKRANK_PACER);
}

void tc_pacing_limit_poll(void) {
    struct gccontroller *c = &tc_gcController;
    if (atomic_load_explicit(&c->memoryLimit, memory_order_relaxed) == TC_PACER_NO_LIMIT) return;
    struct tc_pacer_mem m;
    memory_now(&m);
    if (tc_pacer_limit_stale(c, &m)) tc_pacing_commit();
}

/* A fork may have cut a setter short: the child starts the lock afresh. */
void tc_pacing_after_fork_child(void) { pthread_mutex_init(&pacer_lock, NULL); }
