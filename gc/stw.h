/* gc/stw.h: stopping and starting the world, handshakes, the fork gate, and
 * entering a gc region as a registered thread (gc/stw.c).
 *
 * Locks: their ranks (the order they are taken in) and their region
 * rules are in alloc/lockrank.h, checked in debug builds. While the world
 * is stopped the collector takes only the registry, roots, finalizer,
 * GC-class mcentral and work-queue locks: a suspended thread is never
 * inside a region that holds one of them (gc regions, below), and it may
 * hold the heap lock or a malloc-class mcentral lock, which the collector
 * therefore never takes during a stop. */
#ifndef TC_GC_STW_H
#define TC_GC_STW_H

#include <stdatomic.h>
#include <stdint.h>

#include "alloc/base.h"
#include "alloc/region.h"
#include "gc/park.h"
#include "gc/threads.h"

/* The last stop round (registry lock held): a new record starts there. */
TC_INTERNAL uint32_t tc_stop_round(void);
/* Install the stop signal if needed and check that it is still ours;
 * before tc_stop_world or tc_suspend_thread, outside the timed pause. */
TC_INTERNAL void tc_stop_prepare(void);
/* A mark worker gives its CPU to the threads a stop waits for: it sleeps
 * while tc_stop_poll is up. */
TC_INTERNAL void tc_stop_poll_wait(void);
/* Stop every registered thread but the caller (registry lock held), and
 * return when the pause began (tc_nanotime). With stacks 0 the caller
 * will not read the threads' stacks or registers, and a thread outside
 * its regions may be left running (gc/stw.c, gather_inside). */
TC_INTERNAL uint64_t tc_stop_world(int stacks);
/* After tc_stop_world(0), in the same pause: stop the threads it left
 * running, so every stack can be read (the checkmark). */
TC_INTERNAL void tc_stop_world_rest(void);
/* Returns when every thread was let go, before the wake-up calls
 * (tc_nanotime). */
TC_INTERNAL uint64_t tc_start_world(void);
/* Registry lock held: return once every other registered thread has been
 * outside its gc regions since the call, so its next region sees every
 * store made before it; no thread is stopped. Returns 0, having done
 * nothing, if the kernel has no membarrier or GODEBUG=gcfullstop=1: the
 * caller stops the world instead. */
TC_INTERNAL int tc_handshake(void);
/* Stop one thread, so its stack can be scanned; then resume it. */
TC_INTERNAL void tc_suspend_thread(struct gthread *t);
TC_INTERNAL void tc_resume_thread(struct gthread *t);
/* Start-up (one thread, usually): register for membarrier, which the
 * handshakes and light stops use. */
TC_INTERNAL void tc_stw_init(void);
TC_INTERNAL void tc_stw_after_fork_child(void);
TC_INTERNAL uint64_t tc_stop_signals(void); /* signals sent, since start */

/* The fork gate (registry lock held): close it and return once every other
 * registered thread is outside its gc regions; it then enters none until
 * the gate opens. Threads outside regions are not stopped, only asked. */
TC_INTERNAL void tc_fork_gate_close(void);
TC_INTERNAL void tc_fork_gate_open(void);
TC_INTERNAL extern _Atomic uint32_t tc_fork_gate; /* 1 while closed */
TC_INTERNAL void tc_fork_gate_wait(void);
TC_INTERNAL int tc_gc_signal(void); /* the collector's signal; 0 until installed */

/* Enter a gc region (alloc/region.h) as a registered thread: code that
 * takes locks the collector takes while the world is stopped (GC-class
 * mcentral, work queue, roots) or that must not be split by a stop (the
 * barrier, allocate-black). An outermost entry waits while the fork gate
 * is closed. Leave with tc_region_end(). */
TC_INLINE struct gthread *tc_region_enter(void) {
    struct gthread *t = tc_gthread;
    if (TC_UNLIKELY(!t)) t = tc_thread_register();
    /* Nothing runs parked: the program's handlers unpark (gc/park.c). */
    TC_ASSERT(atomic_load_explicit(&t->park, memory_order_relaxed) == PARK_RUNNING);
    tc_region_begin();
    if (TC_UNLIKELY(atomic_load_explicit(&tc_fork_gate, memory_order_relaxed) != 0) &&
        tc_region_depth == 1)
        tc_fork_gate_wait();
    return t;
}

#endif
