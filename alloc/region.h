/* alloc/region.h: regions the collector must not stop a thread inside.
 *
 * The collector stops threads with a signal at arbitrary instructions. A
 * thread stopped while holding an allocator lock would deadlock any other
 * thread that needs the lock before it can reach its own stop (and the
 * collector, which waits for all of them). So every allocator lock is
 * taken inside a region: a stop request that lands in one is deferred
 * until the region ends (the signal handler sets tc_region_pending, and
 * tc_region_end stops the thread there). Regions nest; they cost a TLS
 * increment and decrement and a load of the poll word at each end, on
 * slow paths only. gc_store and gc_alloc are
 * regions too, so the barrier and allocate-black are never split by a
 * stop.
 *
 * Polling. A stop first asks without a signal: it raises tc_stop_poll,
 * and a thread leaving its outermost region sees it and stops there (on
 * this kind of machine a signal costs tens of microseconds to send and as
 * many to be delivered; a thread that allocates or stores pointers polls
 * every few nanoseconds). A thread entering its outermost region while
 * asked stops before it is inside. So a stop that needs no stack (gc/stw.c)
 * waits only for the threads inside a region; the others, signalled by
 * any other stop, may be running, descheduled or blocked anywhere else. */
#ifndef TC_ALLOC_REGION_H
#define TC_ALLOC_REGION_H

#include <stdatomic.h>
#include <stdint.h>

#include "alloc/base.h"

/* Exported (as gc_region_depth_ and gc_region_pending_): the inline
 * fast path of gc_store in include/tricolor.h is a region of its own. */
#define tc_region_depth gc_region_depth_
#define tc_region_pending gc_region_pending_
extern __thread int tc_region_depth
    __attribute__((tls_model("initial-exec"), visibility("default")));
extern __thread volatile int tc_region_pending
    __attribute__((tls_model("initial-exec"), visibility("default")));

/* Nonzero while the collector is asking threads to stop (gc/stw.c); 2
 * when a mark worker waits on it (a futex word). */
TC_INTERNAL extern _Atomic uint32_t tc_stop_poll;

/* The collector's side: stop this thread now if it was asked (gc/stw.c);
 * the entry's form is called inside the region it is entering. */
TC_INTERNAL void tc_gc_region_exit_slow(void);
TC_INTERNAL void tc_gc_region_enter_slow(void);

/* The depth is read by the collector while this thread writes it: so
 * relaxed atomic loads and stores (plain moves, no read-modify-write). */
#define TC_DEPTH() __atomic_load_n(&tc_region_depth, __ATOMIC_RELAXED)
#define TC_SET_DEPTH(d) __atomic_store_n(&tc_region_depth, (d), __ATOMIC_RELAXED)

/* The depth is stored before the poll is read: the collector reads them
 * the other way round, with a membarrier between (gc/stw.c); while the
 * poll is up, the slow path fences instead. */
TC_INLINE void tc_region_begin(void) {
    int d = TC_DEPTH();
    TC_SET_DEPTH(d + 1);
    if (d == 0) {
        atomic_signal_fence(memory_order_seq_cst);
        if (TC_UNLIKELY(atomic_load_explicit(&tc_stop_poll, memory_order_acquire)))
            tc_gc_region_enter_slow();
    }
    atomic_signal_fence(memory_order_seq_cst);
}

/* The outermost end is a release: a collector that reads the depth as 0
 * (acquire) sees everything the region wrote (a plain store on x86). */
TC_INLINE void tc_region_end(void) {
    atomic_signal_fence(memory_order_seq_cst);
    int d = TC_DEPTH();
    if (d == 1) {
        __atomic_store_n(&tc_region_depth, 0, __ATOMIC_RELEASE);
        atomic_signal_fence(memory_order_seq_cst);
        uint32_t poll = atomic_load_explicit(&tc_stop_poll, memory_order_relaxed);
        if (TC_UNLIKELY(tc_region_pending | poll)) tc_gc_region_exit_slow();
    } else {
        TC_SET_DEPTH(d - 1);
    }
}

#endif
