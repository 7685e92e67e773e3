/* gc/pacer.h: when a cycle starts and how hard it marks: Go's
 * gcControllerState (mgcpacer.go) and its GC CPU limiter (mgclimit.go).
 *
 * Units: bytes for memory and scan work (a byte scanned is a unit of
 * work), nanoseconds for time. The functions take the state as an
 * argument, so the simulation test (tests/unit/test_pacer.c) runs private
 * instances on synthetic heaps; the collector's own is tc_gcController.
 *
 * Who writes what. Settings are atomics any thread may set (followed by a
 * commit). "Last cycle" fields and the consMark history are written by
 * the collector thread at mark termination or after it, with no other
 * writer; commit's results and the heap counters are atomics read by
 * allocating threads. "This cycle" fields are reset by start_cycle
 * (collector thread, before any worker or assist of the cycle runs) and
 * then only added to, atomically. */
#ifndef TC_GC_PACER_H
#define TC_GC_PACER_H

#include <stdatomic.h>
#include <stdint.h>

#include "alloc/base.h"

#define TC_PACER_BG_UTILIZATION 0.25               /* Go's gcBackgroundUtilization */
#define TC_PACER_HEAP_MINIMUM ((uint64_t)4 << 20)  /* Go's defaultHeapMinimum, GOGC=100 */
#define TC_PACER_NO_LIMIT INT64_MAX                /* memory limit: none */
#define TC_PACER_OVER_ASSIST ((uint64_t)64 << 10)  /* Go's gcOverAssistWork */

/* What the runtime holds from the OS (bytes), for the memory limit. */
struct tc_pacer_mem {
    uint64_t mapped;    /* mapped and not released: heap spans in use, free
                           spans still resident, metadata */
    uint64_t heap_free; /* free heap pages still resident */
    uint64_t heap_live; /* the collected heap's spans in use, unswept
                           garbage included (Go's heapAlloc) */
};

struct gccontroller {
    /* Settings (atomics; any thread, then tc_pacer_commit). */
    _Atomic int32_t gcPercent;   /* GOGC, percent of the live heap; -1 = off */
    _Atomic int64_t memoryLimit; /* GOMEMLIMIT, bytes; TC_PACER_NO_LIMIT */

    /* The last cycle (collector thread, from mark termination on). */
    uint64_t heapMarked;    /* M: bytes the last cycle's marking found live
                               (allocated black excluded: see pacer.c) */
    uint64_t lastHeapScan;  /* heap bytes it scanned */
    uint64_t lastStackScan; /* stack (and register) bytes it scanned */
    uint64_t globalsScan;   /* data, bss, TLS and registered ranges it scanned */
    uint64_t lastHeapGoal;  /* the goal in force when it ended */
    double consMark;        /* max of consMarkHist: bytes allocated per byte scanned
                               when marking takes TC_PACER_BG_UTILIZATION of the CPU */
    double consMarkHist[4]; /* the last four measurements, newest first */

    /* Commit's results (atomics; allocation reads heapGoal and trigger). */
    _Atomic uint64_t runway;              /* bytes the mutator allocates while
                                             the next cycle marks */
    _Atomic uint64_t gcPercentHeapGoal;   /* the goal from GOGC alone (UINT64_MAX: off) */
    _Atomic uint64_t memoryLimitHeapGoal; /* the goal from the limit alone */
    _Atomic uint64_t heapGoal;            /* the smaller of the two */
    _Atomic uint64_t trigger;             /* heapLive that starts a cycle (UINT64_MAX: never) */
    _Atomic uint64_t limitTaken;          /* bytes the limit's goal took out for
                                             the rest and any overage (0: no limit) */

    /* The heap (atomics; allocation adds, mark termination resets). */
    _Atomic uint64_t heapLive; /* L: M plus span bytes handed out since */
    _Atomic uint64_t heapScan; /* the scannable part of L */

    /* This cycle (start_cycle resets; workers and assists add). The
     * atomics among the fields start_cycle sets are read by mark workers
     * that may still be running from the cycle before. */
    _Atomic int procs;              /* GOMAXPROCS */
    uint64_t triggered;             /* heapLive when it started */
    _Atomic uint64_t markStartTime; /* tc_nanotime at its start */
    _Atomic int64_t heapScanWork;   /* heap bytes scanned */
    _Atomic int64_t stackScanWork;  /* stack bytes scanned */
    _Atomic int64_t globalsScanWork; /* root bytes scanned */
    _Atomic int64_t bgScanCredit;   /* workers' scan work not yet taken by assists */
    _Atomic double assistWorkPerByte;  /* scan work owed per byte allocated */
    _Atomic double assistBytesPerWork; /* its reciprocal */
    _Atomic int dedicatedMarkWorkersNeeded;   /* workers that mark all the time */
    _Atomic double fractionalUtilizationGoal; /* and per P, the share of one more */
    _Atomic int64_t assistTime;       /* ns spent in assists */
    _Atomic int64_t dedicatedMarkTime, fractionalMarkTime, idleMarkTime; /* ns */
};

/* The leaky bucket that keeps the collector's CPU near half of the total
 * over a window (Go's gcCPULimiterState): GC CPU time fills it, mutator
 * time drains it; while full, assists are skipped and the heap may grow
 * past its goal (or limit) instead. Collector thread only, but enabled is
 * read by allocating threads. */
struct gclimiter {
    uint64_t capacity;   /* ns of CPU: procs x 1 s */
    uint64_t fill;       /* ns of CPU */
    uint64_t lastUpdate; /* ns */
    _Atomic int enabled; /* the bucket is full */
    uint32_t enabledCount; /* updates that found it full, since start */
};

TC_INTERNAL extern struct gccontroller tc_gcController;
TC_INTERNAL extern struct gclimiter tc_gcLimiter;

TC_INTERNAL void tc_pacer_init(struct gccontroller *c, int32_t gcPercent, int64_t memoryLimit);
/* Recompute goal, runway and trigger from the settings, the last cycle and
 * m (Go's commit; also heapMinimum's effect). */
TC_INTERNAL void tc_pacer_commit(struct gccontroller *c, const struct tc_pacer_mem *m);
/* Whether memory outside the collected heap (m) moved far enough from
 * what the last commit took out of the limit that the limit's goal, and
 * the trigger, must be committed again (Go computes them afresh at every
 * test). Always 0 without a limit. */
TC_INTERNAL int tc_pacer_limit_stale(const struct gccontroller *c, const struct tc_pacer_mem *m);
/* A cycle starts at time now (ns) on procs Ps: reset this cycle's
 * counters, choose the workers, set the assist ratio. */
TC_INTERNAL void tc_pacer_start_cycle(struct gccontroller *c, uint64_t now, int procs);
/* The assist ratio from the work left and the heap left (Go's revise);
 * while marking, as heapLive and the work done move on. */
TC_INTERNAL void tc_pacer_revise(struct gccontroller *c);
/* Mark termination: measure this cycle's cons/mark (Go's endCycle); then
 * the heap is what was marked (Go's resetLive: marked bytes, allocated
 * black included), M is what the marking found (traced), and the scan
 * work done becomes the next cycle's expectation. */
TC_INTERNAL void tc_pacer_end_cycle(struct gccontroller *c, uint64_t now, uint64_t marked,
                                    uint64_t traced);
/* The settings; each returns the previous value (commit after). Any
 * negative percent is off (-1); a negative limit only reads. */
TC_INTERNAL int32_t tc_pacer_set_gcpercent(struct gccontroller *c, int32_t pct);
TC_INTERNAL int64_t tc_pacer_set_memory_limit(struct gccontroller *c, int64_t limit);

/* Allocation during mark: the scan work owed for bytes allocated. */
TC_INTERNAL uint64_t tc_pacer_assist_work(struct gccontroller *c, uint64_t bytes);
/* The bytes of allocation that work pays for. */
TC_INTERNAL uint64_t tc_pacer_work_bytes(struct gccontroller *c, uint64_t work);
/* Take up to want units of the workers' credit; returns what was taken. */
TC_INTERNAL uint64_t tc_pacer_take_credit(struct gccontroller *c, uint64_t want);

/* Workers per Go's startCycle: dedicated ones, and the per-P fraction of
 * one more (exposed for the test). */
TC_INTERNAL void tc_pacer_workers(int procs, int *dedicated, double *fractional);

TC_INTERNAL void tc_limiter_init(struct gclimiter *l, int procs, uint64_t now);
/* gc_ns of GC CPU time (assists, background workers, pauses x procs)
 * since the last update; the rest of procs x (now - lastUpdate) was the
 * mutator's. */
TC_INTERNAL void tc_limiter_update(struct gclimiter *l, uint64_t now, uint64_t gc_ns, int procs);
TC_INLINE int tc_limiter_on(struct gclimiter *l) {
    return atomic_load_explicit(&l->enabled, memory_order_relaxed);
}

#endif
