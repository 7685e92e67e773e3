/* gc/stats.h: clocks, the pause ring, gctrace and gc_read_stats (gc/stats.c). */
#ifndef TC_GC_STATS_H
#define TC_GC_STATS_H

#include <stdint.h>

#include "alloc/base.h"

/* Monotonic time (ns). */
TC_INTERNAL uint64_t tc_nanotime(void);
/* CPU time of the calling thread (ns): assists and workers count in the
 * pacer and the limiter what they used, not how long they were away. */
TC_INTERNAL uint64_t tc_thread_cpu_ns(void);
/* Wall-clock time (ns since 1970). */
TC_INTERNAL uint64_t tc_unix_ns(void);

/* Keep a pause of ns (a stop, timed by gc/stw.c) in the ring of the 256
 * latest. Any thread; takes the pause ring's leaf lock. */
TC_INTERNAL void tc_record_pause(uint64_t ns);
TC_INTERNAL void tc_stats_after_fork_child(void);

/* The driver's counters (gc/cycle.c fills them, under its lock). */
struct tc_gc_counts {
    uint32_t num;           /* cycles marked */
    uint64_t mark_ns;       /* mark phases' wall time, summed */
    uint64_t marked_total;  /* bytes marked, summed */
    uint64_t nforced;       /* cycles gc_collect asked for */
    uint64_t cpu_ns;        /* GC CPU time (Go's gctrace sum, idle marking excluded) */
    uint64_t last_unix;     /* when the last cycle ended (ns since 1970) */
    uint64_t heap_marked;   /* by the last cycle, allocate-black included */
    uint64_t start_ns;      /* tc_nanotime at start-up */
    int procs;              /* GOMAXPROCS */
};
TC_INTERNAL void tc_gc_counts(struct tc_gc_counts *k); /* inside no region */

/* One gctrace line's figures (ns, bytes). */
struct tc_gctrace {
    uint32_t n;                  /* the cycle's number */
    uint64_t t0;                 /* its start (tc_nanotime) */
    uint64_t p1, mark, p2;       /* sweep termination, mark, mark termination wall times */
    uint64_t h0, h1, h2;         /* heap at start, at mark termination, marked */
    uint64_t cpu_ns, start_ns;   /* GC CPU time so far; the process's start */
    int procs, forced;
};
/* Print Go 1.19's gctrace line (the collector thread). */
TC_INTERNAL void tc_gctrace(const struct tc_gctrace *g);

#endif
