/* alloc/lockrank.h: every runtime lock has a rank and a region rule,
 * checked in debug builds (Go's lockrank).
 *
 * Two kinds of deadlock are possible in a collector that stops threads
 * wherever they are outside their gc regions (alloc/region.h):
 *  - lock order: two locks taken in opposite orders by two threads;
 *  - a stop: a thread stopped while it holds lock L, and another thread
 *    that the stop waits for (one inside a region), or the collector
 *    itself during the stop, waiting for L.
 * The second is ruled out by one rule per lock, for threads the collector
 * can stop (registered ones; the collector's own threads are never
 * stopped):
 *   INSIDE   taken only inside a gc region (a stop waits for the region
 *            to end, so no stopped thread holds it), or while holding the
 *            registry lock (no stop can start then: the collector needs
 *            that lock to stop anyone);
 *   OUTSIDE  never taken inside a region: the collector may hold it while
 *            it stops threads, so a thread inside a region waiting for it
 *            would never reach its stop. Waiting for it parked (gc/park.c)
 *            lets a stop take the waiter without a signal.
 *   LEAF     taken outside regions and never held while waiting for a
 *            stop, nor by the collector during one (the pause ring).
 * Ranks: a thread takes locks in increasing rank only (one exception:
 * tc_lock_all_begin, for fork's handlers taking every P and every mcentral
 * lock).
 * With TC_DEBUG >= 1 each acquisition is checked and a violation aborts
 * with both locks named; otherwise tc_lock is pthread_mutex_lock. */
#ifndef TC_ALLOC_LOCKRANK_H
#define TC_ALLOC_LOCKRANK_H

#include <pthread.h>

#include "alloc/base.h"
#include "alloc/region.h"

/* In acquisition order. */
enum tc_lockrank {
    LOCKRANK_INIT,      /* alloc.c: one-time initialisation */
    LOCKRANK_CYCLE,     /* gc/cycle.c: one whole cycle; fork */
    LOCKRANK_REGISTRY,  /* gc/threads.c: the thread list */
    LOCKRANK_CTL,       /* gc/cycle.c: cycle requests and counters */
    LOCKRANK_PACER,     /* gc/pacing.c: the pacer's commit (gc/pacer.c) */
    LOCKRANK_PAUSE,     /* gc/stats.c: the pause ring */
    LOCKRANK_ROOTS,     /* gc/roots.c: registered ranges */
    LOCKRANK_PPOOL,     /* alloc/mcache.c: the pool of Ps */
    LOCKRANK_P,         /* alloc/own.c: one P's owned spans (all of them: fork) */
    LOCKRANK_MCENTRAL,  /* alloc/mcentral.c: one span class's lists */
    LOCKRANK_FIN,       /* gc/finalizer.c: the finalizer table and queue */
    LOCKRANK_HEAP,      /* alloc/mheap.c: the page heap */
    LOCKRANK_WORK,      /* gc/mark.c: the grey set's buffer lists */
    LOCKRANK_WORKER,    /* gc/mark.c: the mark workers' wake-up */
    LOCKRANK_COUNT
};

#if TC_DEBUG >= 1
TC_INTERNAL void tc_lockrank_acquire(enum tc_lockrank r);
TC_INTERNAL void tc_lockrank_release(enum tc_lockrank r);
/* The thread can be stopped by the collector (gc/threads.c sets it). */
TC_INTERNAL extern __thread int tc_lockrank_stoppable __attribute__((tls_model("initial-exec")));
#else
TC_INLINE void tc_lockrank_acquire(enum tc_lockrank r) { (void)r; }
TC_INLINE void tc_lockrank_release(enum tc_lockrank r) { (void)r; }
#endif

#if TC_TSAN
/* ThreadSanitizer holds an asynchronous signal until the thread's next
 * intercepted call, and a wait inside pthread_mutex_lock does not end in
 * one: a thread waiting for a lock the collector holds while it stops
 * threads would never answer. Under TSan a contended lock is waited for
 * in the runtime's nanosleep, which takes signals at once. */
TC_INTERNAL void tc_mutex_lock_tsan(pthread_mutex_t *m);
#define tc_mutex_lock tc_mutex_lock_tsan
#else
#define tc_mutex_lock pthread_mutex_lock
#endif

/* Check, then lock (the check comes first: a deadlock aborts instead). */
TC_INLINE void tc_lock(pthread_mutex_t *m, enum tc_lockrank r) {
    tc_lockrank_acquire(r);
    tc_mutex_lock(m);
}
TC_INLINE void tc_unlock(pthread_mutex_t *m, enum tc_lockrank r) {
    pthread_mutex_unlock(m);
    tc_lockrank_release(r);
}
/* An INSIDE lock of the allocator: the region is entered first and left
 * last (alloc/region.h). */
TC_INLINE void tc_region_lock(pthread_mutex_t *m, enum tc_lockrank r) {
    tc_region_begin();
    tc_lock(m, r);
}
TC_INLINE void tc_region_unlock(pthread_mutex_t *m, enum tc_lockrank r) {
    tc_unlock(m, r);
    tc_region_end();
}
/* For a thread that takes many locks of one rank at once (fork). */
TC_INTERNAL void tc_lock_all_begin(enum tc_lockrank r);
TC_INTERNAL void tc_lock_all_end(enum tc_lockrank r);

#endif
