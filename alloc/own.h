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

/* A free into malloc'd span s by a thread whose P does not own it, after
 * its remote bit is set: tell the owner, if any, once until it merges. */
TC_INTERNAL void tc_own_notify(struct mspan *s);

/* Give owned spans that hold no object back to their mcentral. */
TC_INTERNAL void tc_own_release_empty(struct p *pp);
/* Give every owned malloc'd span back (the P is being released; its bins
 * are empty). */
TC_INTERNAL void tc_own_release_all(struct p *pp);

#endif
