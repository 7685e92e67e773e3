/* alloc/own.h: the malloc'd spans a P owns (see own.c). */
#ifndef TC_ALLOC_OWN_H
#define TC_ALLOC_OWN_H

#include "alloc/base.h"
#include "alloc/mcache.h"
#include "alloc/mspan.h"

/* Refill of malloc'd span class spc once the current span has no free
 * slot: a span this P owns with free slots, else a new one from the
 * mcentral. Returns a slot, or NULL when out of memory. */
TC_INTERNAL void *tc_own_refill(struct p *pp, unsigned spc);

/* The rest of tc_own_notify: owner o not told yet about the span in its
 * slot k (TC_NOSLOT: a span without a slot). */
TC_INTERNAL void tc_own_notify_slow(struct p *o, unsigned k);

/* A free into malloc'd span s by a thread whose P does not own it, after
 * its remote bit is set: tell the owner, if any, once until it merges.
 * Inline as far as the common answer, "told already" (seq_cst loads,
 * after the remote bit: see own.c). */
TC_INLINE void tc_own_notify(struct mspan *s) {
    struct p *o = atomic_load(&s->xowner);
    if (!o) return;
    unsigned k = atomic_load_explicit(&s->xownslot, memory_order_relaxed);
    if (k != TC_NOSLOT && (atomic_load(&o->pendmask[k / 64]) >> (k % 64) & 1)) return;
    tc_own_notify_slow(o, k);
}

/* Give owned spans that hold no object back to their mcentral. */
TC_INTERNAL void tc_own_release_empty(struct p *pp);
/* Give every owned malloc'd span back (the P is being released; its bins
 * are empty). */
TC_INTERNAL void tc_own_release_all(struct p *pp);

#endif
