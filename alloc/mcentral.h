/* alloc/mcentral.h: Go's mcentral, the shared pool of spans of one class.
 *
 * A span that no P caches sits on its mcentral's partial list (has free
 * slots) or full list (none known). Each kind of list exists twice,
 * indexed by sweep parity as in Go: for collected classes, lists [h/2 % 2]
 * hold swept spans and [1 - h/2 % 2] unswept ones, so when mark
 * termination moves h on by 2 every swept span becomes unswept at once,
 * without touching any span (a span's list index is its sweepgen/2 % 2).
 * Malloc'd classes have sweepgen 0 and use index 0 only. A P takes a partial span (or a new one
 * from the heap) when its cached span runs out, and gives the old one back.
 * Remote frees can turn a full span partial or empty without its owner;
 * tc_mcentral_reconcile moves it to the right list or back to the heap.
 *
 * Locking: one lock per span class. Lock order: P pool < P < mcentral < heap;
 * no two mcentral locks are held at once, and the heap lock is never held
 * while taking an mcentral lock. */
#ifndef TC_ALLOC_MCENTRAL_H
#define TC_ALLOC_MCENTRAL_H

#include <pthread.h>
#include <stdint.h>

#include "alloc/base.h"
#include "alloc/mspan.h"
#include "alloc/sizeclass.h"

/* A doubly linked list of spans, newest first; oldest is its last. */
struct spanlist {
    struct mspan *first, *last;
};

struct mcentral {
    pthread_mutex_t lock;
    struct spanlist partial[2]; /* uncached spans with free slots; lock */
    struct spanlist full[2];    /* uncached spans without free slots; lock */
    struct mspan *spare;   /* malloc'd classes: one emptied span kept for
                              the next refill instead of the heap; lock */
    uint64_t nspans;       /* spans of this class in use; lock */
} __attribute__((aligned(64)));

TC_INTERNAL extern struct mcentral tc_mcentral_[TC_NUM_SPAN_CLASSES];

TC_INTERNAL void tc_mcentral_init(void);
/* A span of class spc with at least one free slot, now cached by pp, its
 * cursor rewound. NULL when the OS refuses memory. */
TC_INTERNAL struct mspan *tc_mcentral_cache_span(unsigned spc, struct p *pp);
/* Take back a span its P no longer caches. */
TC_INTERNAL void tc_mcentral_uncache_span(struct mspan *s);
/* After a remote free: if span s (of lifetime gen) is on a list, fold its
 * remote frees in and move it to the right list, or to the heap if empty. */
TC_INTERNAL void tc_mcentral_reconcile(struct mspan *s, unsigned spc, uint64_t gen);

/* Collected memory. A large collected span joins its class's full list,
 * where the sweeper finds it. */
TC_INTERNAL void tc_mcentral_add_large(struct mspan *s);
/* Sweep up to budget unswept spans, oldest first; returns how many were
 * swept. Empty ones go back to the heap. */
TC_INTERNAL uint64_t tc_mcentral_sweep_some(uint64_t budget);
/* World stopped, h just moved on: span s, taken from a P's mcache,
 * joins the unswept spans of its class. */
TC_INTERNAL void tc_mcentral_unsweep_cached(struct mspan *s);
/* Whether no collected span waits for its sweep on any list (exact when
 * the world is stopped or the lists are quiet). */
TC_INTERNAL int tc_mcentral_unswept_empty(void);

/* Give every kept empty span back to the heap (gc_release_memory). */
TC_INTERNAL void tc_mcentral_release_spares(void);

TC_INTERNAL void tc_mcentral_lock_all(void);
TC_INTERNAL void tc_mcentral_unlock_all(void);

#endif
