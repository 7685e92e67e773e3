/* Unit test for gc/pacer.c: the arithmetic checked directly, and a
 * simulation like Go's mgcpacer_test.go: a synthetic program allocates at
 * a fixed rate while background workers scan at a fixed rate on 25 % of
 * the CPUs; assists pay what they cannot. Each cycle starts at the
 * pacer's trigger, marks, and ends with the live heap it was given.
 *
 *   goal_formula: M + (M + S + G) x GOGC/100 with its 4 MiB x GOGC/100
 *     floor, for GOGC 50, 100, 200; off: no goal and no trigger.
 *   trigger_bounds: no runway -> 61/64 of the way (or goal - 4 MiB);
 *     a huge runway -> 45/64; a middling one -> goal - runway.
 *   assist_ratio: revise() divides the work left by the heap left;
 *     credit from the workers is taken before scanning.
 *   steady_state: GOGC 50, 100, 200: after a few cycles the heap peaks
 *     within 5 % of the goal, and assists do under 5 % of the work.
 *   gogc_change: GOGC 100 -> 400 -> 25 mid-run: the goal follows and the
 *     heap peaks near it again within a few cycles.
 *   short_runway: the program allocates faster than the trigger's bounds
 *     allow for: assists do a large share, and the heap still peaks
 *     within 5 % of the goal.
 *   growing_heap: the live heap doubles each cycle: the goal is
 *     extrapolated and capped at one more GOGC step (the hard goal).
 *   memory_limit: GOGC=off with a 256 MiB limit and 100 MiB live: the
 *     goal is the limit less the rest and 3 % headroom, and the heap peaks
 *     under the limit; with 300 MiB live the goal is M (continuous).
 *   memory_limit_metadata: the heap grows from nothing, and metadata with
 *     it: allocation's poll commits again as it grows, so heap plus
 *     metadata stay under the limit from the first cycle on.
 *   limiter: 75 % GC CPU fills the bucket in about 2 s (procs x 1 s at
 *     a net 50 %), 25 % empties it.
 *   workers_table: Go's dedicated/fractional table for 1..16 Ps.
 * (GOGC's and GOMEMLIMIT's syntax: tests/unit/test_options.c.) */
#include <math.h>

#include "gc/pacer.h"
#include "harness.h"

#define MiB ((uint64_t)1 << 20)

static const struct tc_pacer_mem no_mem = {0, 0, 0};

/* A finished cycle that marked m bytes and scanned s and g of roots. */
static void after_cycle(struct gccontroller *c, uint64_t m, uint64_t s, uint64_t g) {
    c->heapMarked = m;
    c->lastHeapScan = m;
    c->lastStackScan = s;
    c->globalsScan = g;
    atomic_store(&c->heapLive, m);
    tc_pacer_commit(c, &no_mem);
}

TEST(goal_formula) {
    static const int pcts[] = {50, 100, 200};
    struct gccontroller c;
    for (unsigned i = 0; i < 3; i++) {
        tc_pacer_init(&c, pcts[i], TC_PACER_NO_LIMIT);
        after_cycle(&c, 10 * MiB, MiB / 2, MiB / 2);
        EXPECT_EQ_U(atomic_load(&c.heapGoal), 10 * MiB + 11 * MiB * pcts[i] / 100);
        after_cycle(&c, MiB / 4, 0, 0); /* tiny heap: the floor */
        EXPECT_EQ_U(atomic_load(&c.heapGoal), 4 * MiB * pcts[i] / 100);
    }
    tc_pacer_init(&c, -1, TC_PACER_NO_LIMIT);
    after_cycle(&c, 10 * MiB, 0, 0);
    EXPECT_EQ_U(atomic_load(&c.heapGoal), UINT64_MAX);
    EXPECT_EQ_U(atomic_load(&c.trigger), UINT64_MAX);
    EXPECT_EQ_U(tc_pacer_set_gcpercent(&c, 100), (uint64_t)-1);
    tc_pacer_commit(&c, &no_mem);
    EXPECT_EQ_U(atomic_load(&c.heapGoal), 20 * MiB);
    EXPECT_EQ_U(tc_pacer_set_gcpercent(&c, -7), 100);
    EXPECT_EQ_U(tc_pacer_set_gcpercent(&c, 100), (uint64_t)-1);
}

TEST(trigger_bounds) {
    struct gccontroller c;
    tc_pacer_init(&c, 100, TC_PACER_NO_LIMIT);
    after_cycle(&c, 100 * MiB, 0, 0); /* goal 200 MiB, no runway yet */
    EXPECT_EQ_U(atomic_load(&c.trigger), 196 * MiB); /* goal - 4 MiB beats 61/64 */
    after_cycle(&c, 2 * MiB, 0, 0);                  /* goal 4 MiB (the floor) */
    EXPECT_EQ_U(atomic_load(&c.trigger), 2 * MiB + 2 * MiB / 64 * 61);
    c.consMark = 1000;
    after_cycle(&c, 100 * MiB, 0, 0);
    EXPECT_EQ_U(atomic_load(&c.trigger), 100 * MiB + 100 * MiB / 64 * 45);
    c.consMark = 0.1; /* runway = 0.1 x 3 x 100 MiB = 30 MiB */
    after_cycle(&c, 100 * MiB, 0, 0);
    uint64_t t = atomic_load(&c.trigger);
    EXPECT_TRUE(t > 169 * MiB && t < 171 * MiB);
}

TEST(assist_ratio) {
    struct gccontroller c;
    tc_pacer_init(&c, 100, TC_PACER_NO_LIMIT);
    after_cycle(&c, 100 * MiB, 0, 0);
    atomic_store(&c.heapLive, 180 * MiB);
    atomic_store(&c.heapScan, 180 * MiB);
    tc_pacer_start_cycle(&c, 0, 4);
    /* 100 MiB to scan, 20 MiB of heap left */
    EXPECT_TRUE(fabs(atomic_load(&c.assistWorkPerByte) - 5.0) < 1e-9);
    atomic_store(&c.heapScanWork, (int64_t)(60 * MiB));
    atomic_store(&c.heapLive, 190 * MiB);
    tc_pacer_revise(&c); /* 40 MiB left to scan in 10 MiB */
    EXPECT_TRUE(fabs(atomic_load(&c.assistWorkPerByte) - 4.0) < 1e-9);
    EXPECT_EQ_U(tc_pacer_assist_work(&c, 1000), 4001);
    EXPECT_EQ_U(tc_pacer_work_bytes(&c, 4000), 1000);
    atomic_store(&c.bgScanCredit, 3000);
    EXPECT_EQ_U(tc_pacer_take_credit(&c, 2000), 2000);
    EXPECT_EQ_U(tc_pacer_take_credit(&c, 2000), 1000);
    EXPECT_EQ_U(tc_pacer_take_credit(&c, 2000), 0);
    atomic_store(&c.heapLive, 210 * MiB); /* past the goal: 10 % more allowed */
    tc_pacer_revise(&c);
    double want = (double)(180 * MiB - 60 * MiB) / (double)(220 * MiB - 210 * MiB);
    EXPECT_TRUE(fabs(atomic_load(&c.assistWorkPerByte) - want) < 1e-9);
}

struct sim {
    double live;         /* bytes live at the end of each cycle */
    double alloc_rate;   /* bytes per second */
    double scan_rate;    /* bytes per second per CPU */
    double stacks, globals;
    int procs;
    uint64_t nonheap;    /* memory besides the heap, for the limit */
    double meta_frac;    /* and metadata: this much per byte of the most
                            heap so far (0: none, and no polls) */
    double *heap_hw;     /* that most heap (bytes), kept across cycles */
};

/* What the runtime holds with heap bytes of collected heap in use. */
static struct tc_pacer_mem sim_mem(const struct sim *s, double heap) {
    double meta = s->meta_frac > 0 ? s->meta_frac * *s->heap_hw : 0;
    uint64_t nonheap = s->nonheap + (uint64_t)meta;
    return (struct tc_pacer_mem){(uint64_t)heap + nonheap, 0, (uint64_t)heap};
}

/* Allocation's poll (gc/pacing.c): commit when the limit's goal is stale. */
static void sim_poll(struct gccontroller *c, const struct sim *s, double heap) {
    if (s->meta_frac <= 0) return;
    if (heap > *s->heap_hw) *s->heap_hw = heap;
    struct tc_pacer_mem m = sim_mem(s, heap);
    if (tc_pacer_limit_stale(c, &m)) tc_pacer_commit(c, &m);
}

struct result {
    double peak, goal, assist_frac;
    double nonheap; /* memory besides the heap at the peak */
};

/* One cycle: allocate up to the trigger, mark in 20 us steps, terminate. */
static struct result sim_cycle(struct gccontroller *c, const struct sim *s, uint64_t *now) {
    uint64_t m = atomic_load(&c->heapLive), trig = atomic_load(&c->trigger);
    while (s->meta_frac > 0 && m < trig) { /* the trigger moves as the metadata grows */
        uint64_t step = trig - m < MiB / 4 ? trig - m : MiB / 4;
        *now += (uint64_t)((double)step / s->alloc_rate * 1e9);
        m = atomic_fetch_add(&c->heapLive, step) + step;
        atomic_fetch_add(&c->heapScan, step);
        sim_poll(c, s, (double)m);
        trig = atomic_load(&c->trigger);
    }
    if (trig > m) {
        *now += (uint64_t)((double)(trig - m) / s->alloc_rate * 1e9);
        atomic_store(&c->heapLive, trig);
        atomic_store(&c->heapScan, atomic_load(&c->heapScan) + (trig - m));
    }
    tc_pacer_start_cycle(c, *now, s->procs);
    struct result r = {0, (double)atomic_load(&c->heapGoal), 0, 0};
    atomic_store(&c->stackScanWork, (int64_t)s->stacks);
    atomic_store(&c->globalsScanWork, (int64_t)s->globals);
    double work = s->live, done = 0, assisted = 0, black = 0, dt = 20e-6;
    while (done < work) {
        double bg = s->scan_rate * s->procs * TC_PACER_BG_UTILIZATION * dt;
        atomic_fetch_add(&c->heapScanWork, (int64_t)bg);
        atomic_fetch_add(&c->bgScanCredit, (int64_t)bg);
        done += bg;
        uint64_t a = (uint64_t)(s->alloc_rate * dt);
        black += (double)a;
        atomic_fetch_add(&c->heapLive, a);
        atomic_fetch_add(&c->heapScan, a);
        uint64_t owed = tc_pacer_assist_work(c, a);
        uint64_t rest = owed - tc_pacer_take_credit(c, owed);
        atomic_fetch_add(&c->heapScanWork, (int64_t)rest);
        atomic_fetch_add(&c->assistTime, (int64_t)((double)rest / s->scan_rate * 1e9));
        assisted += (double)rest;
        done += (double)rest;
        *now += (uint64_t)(dt * 1e9);
        sim_poll(c, s, (double)atomic_load(&c->heapLive));
        tc_pacer_revise(c);
    }
    r.peak = (double)atomic_load(&c->heapLive);
    r.assist_frac = assisted / (done + s->stacks + s->globals);
    r.nonheap = (double)(sim_mem(s, r.peak).mapped - (uint64_t)r.peak);
    tc_pacer_end_cycle(c, *now, (uint64_t)(s->live + black), (uint64_t)s->live);
    struct tc_pacer_mem mem = sim_mem(s, s->live + black); /* after the sweep */
    tc_pacer_commit(c, &mem);
    return r;
}

/* n cycles; the last one's result. */
static struct result sim_cycles(struct gccontroller *c, const struct sim *s, uint64_t *now, int n) {
    struct result r = {0, 0, 0, 0};
    for (int i = 0; i < n; i++) r = sim_cycle(c, s, now);
    return r;
}

/* Twelve cycles at c's GOGC: the last peaks within 5 % of its goal, and
 * assists do under 5 % of its work. */
static void expect_converges(struct gccontroller *c, const struct sim *s, uint64_t *now) {
    struct result r = sim_cycles(c, s, now, 12);
    double err = r.peak / r.goal - 1;
    if (fabs(err) > 0.05 || r.assist_frac > 0.05)
        TC_FAIL_("GOGC=%d: peak %.1f MiB, goal %.1f MiB (%+.1f%%), assists %.1f%% of the work",
                 (int)atomic_load(&c->gcPercent), r.peak / MiB, r.goal / MiB, err * 100,
                 r.assist_frac * 100);
}

TEST(steady_state) {
    static const int pcts[] = {50, 100, 200};
    const struct sim s = {64.0 * MiB, 100e6, 1e9, 1.0 * MiB, 0.5 * MiB, 4, 0, 0, NULL};
    for (unsigned i = 0; i < 3; i++) {
        struct gccontroller c;
        uint64_t now = 0;
        tc_pacer_init(&c, pcts[i], TC_PACER_NO_LIMIT);
        expect_converges(&c, &s, &now);
    }
}

/* A pacer without a limit on a simulated program, and its clock. */
struct run {
    struct gccontroller c;
    struct sim s;
    uint64_t now;
};

static void run_converged(struct run *r, int32_t gogc, struct sim s) {
    tc_pacer_init(&r->c, gogc, TC_PACER_NO_LIMIT);
    r->s = s;
    r->now = 0;
    expect_converges(&r->c, &r->s, &r->now);
}

TEST(gogc_change) {
    struct run r;
    run_converged(&r, 100, (struct sim){64.0 * MiB, 50e6, 1e9, 0, 0, 4, 0, 0, NULL});
    static const int next[] = {400, 25};
    for (unsigned i = 0; i < 2; i++) {
        tc_pacer_set_gcpercent(&r.c, next[i]);
        tc_pacer_commit(&r.c, &no_mem);
        uint64_t m = r.c.heapMarked;
        EXPECT_EQ_U(atomic_load(&r.c.heapGoal), m + m / 100 * (uint64_t)next[i] +
                                                    (m % 100) * (uint64_t)next[i] / 100);
        expect_converges(&r.c, &r.s, &r.now);
    }
}

TEST(short_runway) {
    struct gccontroller c;
    tc_pacer_init(&c, 50, TC_PACER_NO_LIMIT);
    const struct sim s = {64.0 * MiB, 400e6, 1e9, 0, 0, 2, 0, 0, NULL};
    uint64_t now = 0;
    struct result r = sim_cycles(&c, &s, &now, 12);
    EXPECT_TRUE(r.assist_frac > 0.2);
    EXPECT_TRUE(fabs(r.peak / r.goal - 1) < 0.05);
    uint64_t m = c.heapMarked, goal = atomic_load(&c.heapGoal);
    EXPECT_EQ_U(atomic_load(&c.trigger), m + (goal - m) / 64 * 45);
}

TEST(growing_heap) {
    struct run run;
    run_converged(&run, 100, (struct sim){32.0 * MiB, 100e6, 1e9, 0, 0, 4, 0, 0, NULL});
    double goal = (double)atomic_load(&run.c.heapGoal);
    run.s.live *= 2; /* twice the scan work the pacer expects */
    struct result r = sim_cycle(&run.c, &run.s, &run.now);
    EXPECT_TRUE(r.peak > goal);            /* it had to go past the goal... */
    EXPECT_TRUE(r.peak <= 2 * goal * 1.1); /* ...but not past the hard goal */
}

TEST(memory_limit) {
    struct gccontroller c;
    tc_pacer_init(&c, -1, 256 * (int64_t)MiB);
    struct sim s = {100.0 * MiB, 100e6, 1e9, 0, 0, 2, 10 * MiB, 0, NULL};
    struct tc_pacer_mem start = {s.nonheap, 0, 0};
    tc_pacer_commit(&c, &start);
    uint64_t now = 0;
    struct result r = {0, 0, 0, 0};
    for (int i = 0; i < 10; i++) {
        r = sim_cycle(&c, &s, &now);
        if (r.peak + (double)s.nonheap > 256.0 * MiB)
            TC_FAIL_("cycle %d: heap %.1f MiB + 10 MiB over the 256 MiB limit", i, r.peak / MiB);
    }
    double want = (256.0 - 10) * MiB * 0.97;
    EXPECT_TRUE(fabs(r.goal - want) < 0.01 * MiB + 1);
    EXPECT_TRUE(r.peak > 0.9 * want); /* the limit is used, not merely respected */
    EXPECT_EQ_U(atomic_load(&c.gcPercentHeapGoal), UINT64_MAX);

    s.live = 300.0 * MiB; /* live above the limit: collect continuously */
    sim_cycle(&c, &s, &now);
    sim_cycle(&c, &s, &now);
    EXPECT_EQ_U(atomic_load(&c.heapGoal), c.heapMarked);
    EXPECT_EQ_U(atomic_load(&c.trigger), c.heapMarked);
    EXPECT_EQ_U(tc_pacer_set_memory_limit(&c, -1), 256 * MiB);
    EXPECT_EQ_U(tc_pacer_set_memory_limit(&c, TC_PACER_NO_LIMIT), 256 * MiB);
    tc_pacer_commit(&c, &no_mem);
    EXPECT_EQ_U(atomic_load(&c.heapGoal), UINT64_MAX);
}

/* The heap grows from nothing under GOGC=off and a 256 MiB limit while
 * metadata grows with it (8 % of the most heap so far, plus 2 MiB): the
 * goal committed at start-up knew only the 2 MiB. Every cycle, the first
 * included, must keep heap plus metadata under the limit, and the goal
 * must still use most of it. */
TEST(memory_limit_metadata) {
    struct gccontroller c;
    tc_pacer_init(&c, -1, 256 * (int64_t)MiB);
    double hw = 0;
    struct sim s = {128.0 * MiB, 400e6, 1e9, 0, 0, 2, 2 * MiB, 0.08, &hw};
    struct tc_pacer_mem start = sim_mem(&s, 0);
    tc_pacer_commit(&c, &start);
    uint64_t now = 0;
    for (int i = 0; i < 6; i++) {
        struct result r = sim_cycle(&c, &s, &now);
        if (r.peak + r.nonheap > 256.0 * MiB)
            TC_FAIL_("cycle %d: heap %.1f MiB + %.1f MiB besides: over the 256 MiB limit", i,
                     r.peak / MiB, r.nonheap / MiB);
        if (r.peak + r.nonheap < 0.9 * 256 * MiB)
            TC_FAIL_("cycle %d: heap %.1f MiB + %.1f MiB: the limit is hardly used", i,
                     r.peak / MiB, r.nonheap / MiB);
    }
    struct tc_pacer_mem m = sim_mem(&s, (double)atomic_load(&c.heapLive));
    EXPECT_TRUE(!tc_pacer_limit_stale(&c, &m)); /* just committed */
    m.mapped += 2 * MiB; /* 2 MiB more metadata: past 1/256 of the limit */
    EXPECT_TRUE(tc_pacer_limit_stale(&c, &m));
    m.mapped -= MiB + MiB / 2; /* 0.5 MiB: not yet */
    EXPECT_TRUE(!tc_pacer_limit_stale(&c, &m));
    tc_pacer_set_memory_limit(&c, TC_PACER_NO_LIMIT);
    m.mapped += 100 * MiB;
    EXPECT_TRUE(!tc_pacer_limit_stale(&c, &m)); /* no limit: never */
}

TEST(limiter) {
    struct gclimiter l;
    const uint64_t ms = 1000000;
    tc_limiter_init(&l, 2, 0);
    uint64_t t = 0;
    int first_on = -1;
    for (int i = 1; i <= 300; i++) { /* 3 s at 75 % GC, updated every 10 ms */
        t += 10 * ms;
        tc_limiter_update(&l, t, 15 * ms, 2);
        if (tc_limiter_on(&l) && first_on < 0) first_on = i;
    }
    EXPECT_TRUE(first_on >= 195 && first_on <= 205);
    EXPECT_TRUE(tc_limiter_on(&l));
    t += 10 * ms;
    tc_limiter_update(&l, t, 5 * ms, 2); /* 25 %: drains */
    EXPECT_TRUE(!tc_limiter_on(&l));
    tc_limiter_update(&l, t + 10 * ms, 100 * ms, 2); /* more GC time than CPU: capped */
    EXPECT_TRUE(l.fill <= l.capacity);
}

TEST(workers_table) {
    static const struct { int procs, dedicated; double fractional; } go[] = {
        {1, 0, 0.25}, {2, 0, 0.25}, {3, 0, 0.25}, {4, 1, 0}, {5, 1, 0},
        {6, 1, 0.5 / 6}, {8, 2, 0}, {16, 4, 0},
    };
    for (unsigned i = 0; i < sizeof go / sizeof go[0]; i++) {
        int d;
        double f;
        tc_pacer_workers(go[i].procs, &d, &f);
        if (d != go[i].dedicated || fabs(f - go[i].fractional) > 1e-9)
            TC_FAIL_("%d Ps: %d dedicated + %.4f, want %d + %.4f", go[i].procs, d, f,
                     go[i].dedicated, go[i].fractional);
    }
}

TC_TEST_MAIN()
