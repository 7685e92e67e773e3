/* gc/pacer.c: Go's pacer (the 1.18 redesign, design/44167) and GC CPU
 * limiter (design/48409), as arithmetic on struct gccontroller.
 *
 * The goal. After a cycle's marking found M bytes live, scanning S bytes
 * of stacks and G bytes of globals, the heap may grow to
 *     goal = M + (M + S + G) x GOGC/100,   at least 4 MiB x GOGC/100,
 * or, with a memory limit, to what the limit leaves once everything else
 * the runtime holds from the OS is counted (memory_limit_goal below), if
 * that is smaller. Go computes that goal afresh whenever it tests the
 * trigger; here a commit fixes it, and allocation commits again when the
 * memory outside the heap has moved (tc_pacer_limit_stale). GOGC=off
 * leaves only the limit; with neither, no cycle starts by itself
 * (gc_collect still runs one). Go counts in M what was
 * allocated black during the mark too; here M is what the tracing found,
 * so that the heap peaks near (1 + GOGC/100) x the live heap: counting
 * the bytes a program allocates while a long mark runs (most of them
 * garbage by the next cycle) made the goal, and the peak, 40 % higher on
 * a steady 64 MiB heap (Go 1.19 does the same on that heap: 82-90 MB
 * "marked", 141-181 MB goals). Those objects still count in the heap
 * (heapLive), which then starts closer to the trigger.
 *
 * The trigger. Marking runs while the program allocates, so it must start
 * early enough to end near the goal. At mark termination the pacer
 * measures cons/mark: bytes the program allocated per byte the collector
 * scanned, normalised to the collector taking 25 % of the CPU; the next
 * cycle's runway is cons/mark x 3 x the scan work expected (the last
 * cycle's), and the trigger is goal - runway, kept between 45/64 and 61/64
 * of the way from M to the goal (or goal - 4 MiB for big heaps). The
 * estimate is the largest of the last four measurements: starting early
 * costs a little memory, starting late costs assists.
 *
 * Workers and assists. A quarter of GOMAXPROCS marks in the background:
 * whole workers when that rounds well, else a fraction of one (Go's
 * startCycle table: 2 Ps get one worker for 25 % of each P's time). What
 * they cannot do, allocation pays for: each byte allocated while marking
 * owes assistWorkPerByte bytes of scanning, the work still expected
 * divided by the heap left before the goal (revise). Work the workers did
 * is credit that assists take before scanning themselves. If the heap
 * outgrows what the last cycle scanned, the goal is extrapolated, by at
 * most one more GOGC step (the "hard goal"), and past the goal by 10 %;
 * a binding memory limit's goal is not pushed back at all.
 *
 * The limiter. GC time fills a bucket of procs x 1 s, the mutator's time
 * drains it; while it is full the collector takes no more than about half
 * the CPU: assists are skipped and the heap is allowed past its goal. So
 * a program whose live heap exceeds its memory limit slows down instead of
 * spending all its time collecting (Go's gcCPULimiter).
 *
 * Go's mgcpacer.go also paces the sweeper and keeps a minimum runway;
 * here sweeping finishes before the next cycle starts (gc/cycle.c). */
#include "gc/pacer.h"

#include <string.h>

#define MiB ((uint64_t)1 << 20)
#define TRIGGER_DEN 64 /* Go's triggerRatioDen, minTriggerRatioNum, maxTriggerRatioNum */
#define TRIGGER_MIN_NUM 45
#define TRIGGER_MAX_NUM 61
#define LIMIT_HEADROOM_PERCENT 3 /* Go's memoryLimitHeapGoalHeadroomPercent */
#define MAX_OVERSHOOT 1.1        /* revise: the heap may pass the goal by this */

struct gccontroller tc_gcController;
struct gclimiter tc_gcLimiter;

static uint64_t sat_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }
static uint64_t sat_mul(uint64_t a, uint64_t b) {
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}
static uint64_t sub0(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

void tc_pacer_init(struct gccontroller *c, int32_t gcPercent, int64_t memoryLimit) {
    memset(c, 0, sizeof *c);
    atomic_store(&c->gcPercent, gcPercent < 0 ? -1 : gcPercent);
    atomic_store(&c->memoryLimit, memoryLimit < 0 ? TC_PACER_NO_LIMIT : memoryLimit);
    c->procs = 1;
    struct tc_pacer_mem none = {0, 0, 0};
    tc_pacer_commit(c, &none);
}

static uint64_t gc_percent_goal(const struct gccontroller *c, int32_t pct) {
    if (pct < 0) return UINT64_MAX;
    uint64_t roots = sat_add(sat_add(c->heapMarked, c->lastStackScan), c->globalsScan);
    uint64_t goal = sat_add(c->heapMarked, sat_mul(roots, (uint64_t)pct) / 100);
    uint64_t minimum = sat_mul(TC_PACER_HEAP_MINIMUM, (uint64_t)pct) / 100;
    return goal > minimum ? goal : minimum;
}

/* What the limit's goal takes out: the memory that is not the collected
 * heap (metadata, malloc'd spans, free pages aside) and any overage. */
static uint64_t limit_taken(const struct tc_pacer_mem *m, uint64_t lim) {
    uint64_t nonheap = sub0(sub0(m->mapped, m->heap_free), m->heap_live);
    return sat_add(nonheap, sub0(m->mapped, lim));
}

/* Go's memoryLimitHeapGoal: what the limit leaves for the collected heap
 * once the rest (metadata, malloc'd spans) and any overage are taken out,
 * less 3 % headroom; never below M. */
static uint64_t memory_limit_goal(struct gccontroller *c, const struct tc_pacer_mem *m) {
    int64_t limit = atomic_load(&c->memoryLimit);
    if (limit == TC_PACER_NO_LIMIT) {
        atomic_store(&c->limitTaken, 0);
        return UINT64_MAX;
    }
    uint64_t lim = (uint64_t)limit, taken = limit_taken(m, lim);
    atomic_store(&c->limitTaken, taken);
    if (taken >= lim) return c->heapMarked; /* collect continuously; the limiter steps in */
    uint64_t goal = lim - taken;
    uint64_t headroom = goal / 100 * LIMIT_HEADROOM_PERCENT;
    if (headroom < MiB) headroom = MiB;
    goal = goal < 2 * headroom ? headroom : goal - headroom;
    return goal > c->heapMarked ? goal : c->heapMarked;
}

/* Go's trigger(): goal - runway, within its bounds. */
static uint64_t trigger_for(const struct gccontroller *c, uint64_t goal, uint64_t runway) {
    uint64_t m = c->heapMarked;
    if (goal == UINT64_MAX) return UINT64_MAX;
    if (m >= goal) return goal;
    uint64_t span = goal - m;
    uint64_t lo = m + span / TRIGGER_DEN * TRIGGER_MIN_NUM;
    uint64_t hi = m + span / TRIGGER_DEN * TRIGGER_MAX_NUM;
    if (goal > TC_PACER_HEAP_MINIMUM && goal - TC_PACER_HEAP_MINIMUM > hi)
        hi = goal - TC_PACER_HEAP_MINIMUM;
    if (hi < lo) hi = lo;
    uint64_t t = runway > goal ? lo : goal - runway;
    return t < lo ? lo : t > hi ? hi : t;
}

void tc_pacer_commit(struct gccontroller *c, const struct tc_pacer_mem *m) {
    int32_t pct = atomic_load(&c->gcPercent);
    uint64_t gg = gc_percent_goal(c, pct), lg = memory_limit_goal(c, m);
    uint64_t goal = gg < lg ? gg : lg;
    double expected = (double)c->lastHeapScan + (double)c->lastStackScan + (double)c->globalsScan;
    double runway = c->consMark * (1 - TC_PACER_BG_UTILIZATION) / TC_PACER_BG_UTILIZATION * expected;
    uint64_t rw = runway >= 1.8e19 ? UINT64_MAX : (uint64_t)runway;
    atomic_store(&c->gcPercentHeapGoal, gg);
    atomic_store(&c->memoryLimitHeapGoal, lg);
    atomic_store(&c->runway, rw);
    atomic_store(&c->heapGoal, goal);
    atomic_store(&c->trigger, trigger_for(c, goal, rw));
}

/* Metadata (bitmaps, span structs, arena records) grows with the heap:
 * a goal fixed at start-up, when there is hardly any, lets the first
 * cycle's heap plus its metadata pass the limit. A move of 1/256 of the
 * limit calls for a new commit: a few hundred over a heap the size of
 * the limit. */
int tc_pacer_limit_stale(const struct gccontroller *c, const struct tc_pacer_mem *m) {
    int64_t limit = atomic_load_explicit(&c->memoryLimit, memory_order_relaxed);
    if (limit == TC_PACER_NO_LIMIT) return 0;
    uint64_t lim = (uint64_t)limit, taken = limit_taken(m, lim);
    uint64_t was = atomic_load_explicit(&c->limitTaken, memory_order_relaxed);
    uint64_t moved = taken > was ? taken - was : was - taken;
    return moved > lim / 256;
}

void tc_pacer_workers(int procs, int *dedicated, double *fractional) {
    double total = procs * TC_PACER_BG_UTILIZATION;
    int d = (int)(total + 0.5);
    double err = d / total - 1;
    *fractional = 0;
    if (err < -0.3 || err > 0.3) { /* rounding is too far off: a fraction of one more */
        if (d > total) d--;
        *fractional = (total - d) / procs;
    }
    *dedicated = d;
}

void tc_pacer_start_cycle(struct gccontroller *c, uint64_t now, int procs) {
    atomic_store(&c->heapScanWork, 0);
    atomic_store(&c->stackScanWork, 0);
    atomic_store(&c->globalsScanWork, 0);
    atomic_store(&c->bgScanCredit, 0);
    atomic_store(&c->assistTime, 0);
    atomic_store(&c->dedicatedMarkTime, 0);
    atomic_store(&c->fractionalMarkTime, 0);
    atomic_store(&c->idleMarkTime, 0);
    c->markStartTime = now;
    c->procs = procs > 0 ? procs : 1;
    c->triggered = atomic_load(&c->heapLive);
    int dedicated;
    double fractional;
    tc_pacer_workers(c->procs, &dedicated, &fractional);
    c->dedicatedMarkWorkersNeeded = dedicated;
    c->fractionalUtilizationGoal = fractional;
    tc_pacer_revise(c);
}

void tc_pacer_revise(struct gccontroller *c) {
    int32_t pct = atomic_load(&c->gcPercent);
    double gogc = pct < 0 ? 100000 : pct;
    double live = (double)atomic_load(&c->heapLive), scan = (double)atomic_load(&c->heapScan);
    double work = (double)atomic_load(&c->heapScanWork) + (double)atomic_load(&c->stackScanWork) +
                  (double)atomic_load(&c->globalsScanWork);
    double goal = (double)atomic_load(&c->heapGoal);
    double expected = (double)c->lastHeapScan + (double)c->lastStackScan + (double)c->globalsScan;
    double max_work = scan + (double)c->lastStackScan + (double)c->globalsScan;
    if (work > expected) { /* the heap grew: extrapolate, at most one GOGC step */
        double trig = (double)c->triggered;
        double ext = trig + (goal - trig) / (expected > 1 ? expected : 1) * max_work;
        double hard = (1 + gogc / 100) * goal;
        goal = ext < hard ? ext : hard;
        expected = max_work;
    }
    if (live > goal) { /* past it already: allow 10 % more, expect the worst */
        goal *= MAX_OVERSHOOT;
        expected = max_work;
    }
    /* A binding memory limit's goal is not pushed back at all: its 3 %
     * headroom is for the slop of span-granular accounting and the memory
     * a process holds besides the heap (with it spent, a 256 MiB limit
     * peaked at 1.05-1.10x in RSS). */
    double lg = (double)atomic_load(&c->memoryLimitHeapGoal);
    if (lg <= (double)atomic_load(&c->gcPercentHeapGoal) && goal > lg) goal = lg;
    double work_left = expected - work < 1000 ? 1000 : expected - work;
    double heap_left = goal - live < 1 ? 1 : goal - live;
    atomic_store(&c->assistWorkPerByte, work_left / heap_left);
    atomic_store(&c->assistBytesPerWork, heap_left / work_left);
}

void tc_pacer_end_cycle(struct gccontroller *c, uint64_t now, uint64_t marked, uint64_t traced) {
    c->lastHeapGoal = atomic_load(&c->heapGoal);
    double dur = (double)(now > c->markStartTime ? now - c->markStartTime : 1) * c->procs;
    double util = TC_PACER_BG_UTILIZATION + (double)atomic_load(&c->assistTime) / dur;
    double idle = (double)atomic_load(&c->idleMarkTime) / dur;
    if (util > 0.95) util = 0.95;
    uint64_t live = atomic_load(&c->heapLive);
    int64_t hw = atomic_load(&c->heapScanWork), sw = atomic_load(&c->stackScanWork),
            gw = atomic_load(&c->globalsScanWork);
    double work = (double)hw + (double)sw + (double)gw;
    if (live > c->triggered && work > 0) {
        double cm = (double)(live - c->triggered) * (util + idle) / (work * (1 - util));
        memmove(c->consMarkHist + 1, c->consMarkHist, sizeof c->consMarkHist - sizeof cm);
        c->consMarkHist[0] = cm;
        c->consMark = 0;
        for (unsigned i = 0; i < 4; i++)
            if (c->consMarkHist[i] > c->consMark) c->consMark = c->consMarkHist[i];
    }
    c->heapMarked = traced < marked ? traced : marked;
    c->lastHeapScan = hw > 0 ? (uint64_t)hw : 0;
    c->lastStackScan = sw > 0 ? (uint64_t)sw : 0;
    c->globalsScan = gw > 0 ? (uint64_t)gw : 0;
    atomic_store(&c->heapLive, marked);
    atomic_store(&c->heapScan, c->lastHeapScan < marked ? c->lastHeapScan : marked);
}

int32_t tc_pacer_set_gcpercent(struct gccontroller *c, int32_t pct) {
    return atomic_exchange(&c->gcPercent, pct < 0 ? -1 : pct);
}

int64_t tc_pacer_set_memory_limit(struct gccontroller *c, int64_t limit) {
    if (limit < 0) return atomic_load(&c->memoryLimit);
    return atomic_exchange(&c->memoryLimit, limit);
}

uint64_t tc_pacer_assist_work(struct gccontroller *c, uint64_t bytes) {
    double w = (double)bytes * atomic_load_explicit(&c->assistWorkPerByte, memory_order_relaxed);
    return w >= 1.8e19 ? UINT64_MAX : (uint64_t)w + 1;
}

uint64_t tc_pacer_work_bytes(struct gccontroller *c, uint64_t work) {
    double b = (double)work * atomic_load_explicit(&c->assistBytesPerWork, memory_order_relaxed);
    return b >= 1.8e19 ? UINT64_MAX : (uint64_t)b;
}

uint64_t tc_pacer_take_credit(struct gccontroller *c, uint64_t want) {
    int64_t have = atomic_load_explicit(&c->bgScanCredit, memory_order_relaxed);
    for (;;) {
        if (have <= 0) return 0;
        int64_t take = (uint64_t)have < want ? have : (int64_t)want;
        if (atomic_compare_exchange_weak(&c->bgScanCredit, &have, have - take))
            return (uint64_t)take;
    }
}

/* ---- the CPU limiter ---- */

void tc_limiter_init(struct gclimiter *l, int procs, uint64_t now) {
    memset(l, 0, sizeof *l);
    l->capacity = (uint64_t)(procs > 0 ? procs : 1) * 1000000000u;
    l->lastUpdate = now;
}

void tc_limiter_update(struct gclimiter *l, uint64_t now, uint64_t gc_ns, int procs) {
    uint64_t total = now > l->lastUpdate ? (now - l->lastUpdate) * (uint64_t)(procs > 0 ? procs : 1) : 0;
    l->lastUpdate = now > l->lastUpdate ? now : l->lastUpdate;
    uint64_t gc = gc_ns < total ? gc_ns : total, mut = total - gc;
    uint64_t fill = sub0(l->fill + gc, mut);
    l->fill = fill < l->capacity ? fill : l->capacity;
    int on = l->fill >= l->capacity;
    l->enabledCount += (uint32_t)on;
    atomic_store_explicit(&l->enabled, on, memory_order_relaxed);
}
