/* gc/cycle.h: the collector's driver (gc/cycle.c): start-up, options, cycle
 * requests. */
#ifndef TC_GC_CYCLE_H
#define TC_GC_CYCLE_H

#include <stdatomic.h>

#include "alloc/base.h"

TC_INTERNAL void tc_gc_init(void);
/* GOMAXPROCS (the environment's, else the CPUs online): marker slots. */
TC_INTERNAL int tc_gc_procs(void);
/* gcstress: count an allocation; every stress-th asks for a cycle. */
TC_INTERNAL void tc_gc_stress_tick(void);
/* Outside any gc region, after an allocation passed the trigger: wait,
 * parked, until the mark of the cycle it asked for has begun. */
TC_INTERNAL void tc_gc_wait_start(void);
/* Tests only: when set, the collector thread calls it at these points of
 * every cycle, outside any stop and lock, so a test can act at a known
 * moment of the mark phase (tests/gc/edges.c). */
enum tc_gc_point {
    TC_GC_POINT_START = 3, /* sweeping done, the loaded objects listed */
    TC_GC_POINT_ROOTS = 1, /* globals, ranges, finalizers marked; no stack yet */
    TC_GC_POINT_STACKS = 2, /* every stack scanned; mark termination next */
    TC_GC_POINT_REGISTER = 4 /* on a thread registering, the registry lock held */
};
typedef void (*tc_gc_hook_fn)(enum tc_gc_point);
TC_INTERNAL extern _Atomic tc_gc_hook_fn tc_gc_testhook; /* a test sets it while cycles run */
TC_INLINE void tc_gc_hook(enum tc_gc_point pt) {
    tc_gc_hook_fn f = atomic_load_explicit(&tc_gc_testhook, memory_order_acquire);
    if (TC_UNLIKELY(f != NULL)) f(pt);
}
/* Set by a hook while it holds the cycle at its point: marking makes no
 * progress then, so an assist does not wait for it (it would wait for the
 * test, which waits for the assisting thread). */
TC_INTERNAL extern _Atomic int tc_gc_testhook_holding;

struct tc_gc_options {
    int gctrace;
    int checkmark;
    int signal; /* 0: choose */
    int fullstop; /* GODEBUG=gcfullstop=1: every stop stops every thread, and
                   * marking starts with one instead of a handshake */
    unsigned stress; /* GODEBUG=gcstress=N: a cycle asked for every N gc_alloc
                      * calls of a thread, without waiting (0: off) */
};
TC_INTERNAL extern struct tc_gc_options tc_gc_opts;

/* Whether fork needs the gate: set by the first gc_alloc, before its region. */
TC_INTERNAL extern _Atomic int tc_collected_used;
TC_INTERNAL void tc_note_collected_use(void);

#endif
