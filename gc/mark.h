/* gc/mark.h: the grey set, shading and the markers (gc/mark.c); finding the
 * object a word points into. */
#ifndef TC_GC_MARK_H
#define TC_GC_MARK_H

#include <stdint.h>

#include "alloc/base.h"
#include "alloc/mcache.h"
#include "alloc/mheap.h"
#include "alloc/mspan.h"
#include "alloc/sizeclass.h"

/* The allocated object of a collected span that address p points into
 * (interior pointers included): its span, and its slot in *idx. NULL when
 * p is outside the heap, in a free span or slot, past the last slot, or
 * in malloc'd memory. Lock-free: reads racy but validated fields, as the
 * marker must for any word that may look like a pointer.
 *
 * While marking (the only time it is called) a collected span's slots are
 * only ever allocated: the sweep frees them, and every span was swept
 * before marking began. So a span whose count says full has no free slot,
 * and its allocation bits (a cache miss of their own, on a line apart
 * from the span's) need not be read. tc_object_slot is that last step,
 * for a span already validated: the slot p is in, and whether it is
 * allocated (tc_slot_allocated). */
TC_INLINE int tc_slot_allocated(struct mspan *s, unsigned i) {
    return tc_mspan_count(s) == s->nelems || (tc_bits_load(&s->allocBits[i >> 6]) >> (i & 63) & 1);
}
TC_INLINE int tc_object_slot(struct mspan *s, uintptr_t p, unsigned *idx) {
    unsigned i = (unsigned)(((p - s->startAddr) * s->divMul) >> 32);
    *idx = i;
    return tc_slot_allocated(s, i);
}

/* Both bounds are checked (Go's findObject): a malloc'd span found here
 * may be freed meanwhile and its struct reused for a span at a higher
 * address, and p - startAddr would then wrap. */
TC_INLINE struct mspan *tc_find_object(uintptr_t p, unsigned *idx) {
    if (p - tc_heap_lo >= tc_heap_hi - tc_heap_lo) return NULL;
    struct mspan *s = tc_spanof(p);
    if (!s || __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != MSPAN_INUSE ||
        p - s->startAddr >= s->limit - s->startAddr)
        return NULL;
    if (tc_spanclass_kind(s->spanclass) == SPAN_MANUAL) return NULL;
    return tc_object_slot(s, p, idx) ? s : NULL;
}

/* Grey the object containing p, if p points into a collected object. */
TC_INTERNAL void tc_shade(uintptr_t p);
/* Shade every word of [lo, hi) (conservative root or object scan). */
TC_INTERNAL void tc_scan_range(uintptr_t lo, uintptr_t hi);
/* The collector thread's marking (marker slot 0; mark.c): drain grey
 * objects until none is left or budget bytes were scanned (0: no limit),
 * or sleep a little when the pacer gives the slot no time now. Returns
 * bytes scanned. */
TC_INTERNAL uint64_t tc_drain(uint64_t budget);
/* The same for an assist, inside a gc region: it also returns early once a
 * stop is asked for (tc_stop_poll), so the region ends and the thread
 * stops without making the pause wait for its debt. */
TC_INTERNAL uint64_t tc_drain_assist(uint64_t budget);
TC_INTERNAL int tc_work_empty(void);
/* Unmap the empty work buffers (each cycle maps what it needs again);
 * returns the bytes. gc_release_memory. */
TC_INTERNAL size_t tc_mark_release_buffers(void);
TC_INTERNAL void tc_mark_reset(void);
/* Bytes marked this cycle, allocations included, and in *traced those
 * the marking found (allocate-black excluded); zeroes the Ps' counts
 * (mark termination, world stopped). */
TC_INTERNAL uint64_t tc_mark_bytes_take(uint64_t *traced);
/* Allocate black: mark obj, allocated by the caller on its P pp. */
TC_INTERNAL void tc_mark_black(struct p *pp, struct mspan *s, uintptr_t obj);
/* Grey the objects p[0..n) point into, in one marking context (a
 * write-barrier buffer's flush, gc/barrier.c). */
TC_INTERNAL void tc_shade_batch(const uintptr_t *p, unsigned n);
/* Root bytes scanned since the last call (tc_scan_range). */
TC_INTERNAL uint64_t tc_mark_root_scanned_take(void);
TC_INTERNAL void tc_mark_start_workers(void);
TC_INTERNAL void tc_mark_wake_workers(int on);
TC_INTERNAL void tc_mark_after_fork_child(void);

#endif
