/* alloc/alloc.h: the allocator's internal API, below the malloc names.
 *
 * malloc.c (the libc names) and gc/ (gc_alloc) are built on these. Sizes
 * are in bytes; every function returns NULL when memory is exhausted and
 * leaves errno to its caller. */
#ifndef TC_ALLOC_ALLOC_H
#define TC_ALLOC_ALLOC_H

#include <stdatomic.h>
#include <stddef.h>

#include "alloc/base.h"
#include "alloc/mcache.h"
#include "alloc/mheap.h"
#include "alloc/sizeclass.h"

TC_INTERNAL extern _Atomic int tc_inited;
TC_INTERNAL void tc_init_slow(void);

TC_INLINE void tc_ensure_init(void) {
    if (TC_UNLIKELY(!atomic_load_explicit(&tc_inited, memory_order_acquire))) tc_init_slow();
}

/* Slow path of allocation: any size, span kind, optional zeroing (only
 * where memory may be dirty), alignment (power of two; <= 8 for none). */
TC_INTERNAL void *tc_alloc_slow(size_t size, enum span_kind kind, int zero, size_t align);

/* Fast path: a small object of span kind `kind`; malloc'd classes first
 * reuse the P's free bin. Promise: no lock, no atomic read-modify-write,
 * two branches to the span's allocCache; falls back to tc_alloc_slow. */
TC_INLINE void *tc_alloc(size_t size, enum span_kind kind) {
    struct p *pp = tc_tls_p;
    if (TC_LIKELY(pp != NULL && size <= TC_MAX_SMALL_SIZE)) {
        unsigned sc = tc_size_to_class(size);
        struct freebin *b = &pp->mcache.free[sc];
        void *v;
        if (kind == SPAN_MANUAL && b->n) { /* counted by the bin */
            v = b->items[--b->n];
            *(uint64_t *)v = 0; /* drop the key: a later free must not look doubled */
            return v;
        }
        v = tc_mspan_alloc_fast(pp->mcache.alloc[tc_spanclass(sc, kind)]);
        if (TC_UNLIKELY(v == NULL)) return tc_alloc_slow(size, kind, 0, 0);
        tc_stat_add(&pp->stats.nmalloc[sc], 1);
        return v;
    }
    return tc_alloc_slow(size, kind, 0, 0);
}

/* Fast path of free for a small malloc'd object: validate (in use, slot
 * start, allocated, not already in a bin) and push it on this P's free
 * bin, where the next malloc of its class finds it. (Freeing in place when
 * this P caches the span was measured too: the extra, unpredictable branch
 * cost more than the bin flushes it saves.) The span struct is not read:
 * the page's freeclass entry gives the class and the span's first page,
 * the class tables the slot, and the arena the allocBits word (struct
 * heaparena), so the only loads that depend on each other are arena ->
 * page entry -> bits word. Promise: no lock, no atomic read-modify-write.
 * Returns 0 when the slow path (tc_free) must decide. */
TC_INLINE int tc_free_fast(void *ptr) {
    struct p *pp = tc_tls_p;
    uintptr_t p = (uintptr_t)ptr;
    struct heaparena *ha = tc_arenaof(p);
    if (TC_UNLIKELY(!pp || !ha)) return 0;
    uintptr_t page = tc_arena_page(p);
    unsigned fc = atomic_load_explicit(&ha->freeclass[page], memory_order_relaxed);
    unsigned sc = fc & 0xff, back = fc >> 8;
    /* page < back: the span began in the arena before; tc_free handles it. */
    if (TC_UNLIKELY(!sc || page < back)) return 0;
    uintptr_t first = page - back;
    uintptr_t off = (p & (TC_ARENA_BYTES - 1)) - first * TC_PAGE_SIZE;
    unsigned idx = (unsigned)((off * tc_class_to_divmagic[sc]) >> 32);
    if (TC_UNLIKELY((uintptr_t)idx * tc_class_size(sc) != off || idx >= tc_class_to_nelems[sc]))
        return 0;
    _Atomic uint64_t *bits = tc_arena_allocbits(ha, first);
    if (TC_UNLIKELY(!(tc_bits_load(&bits[idx >> 6]) >> (idx & 63) & 1))) return 0;
    if (TC_UNLIKELY(tc_has_free_key(ptr))) return 0;
    struct freebin *b = &pp->mcache.free[sc];
    if (TC_UNLIKELY(b->n == b->cap)) return 0;
    *(uint64_t *)ptr = tc_free_key;
    b->items[b->n++] = ptr;
    tc_stat_add(&b->npush, 1);
    return 1;
}

/* Pointer-free object under 16 bytes, packed into the P's tiny block with
 * Go's alignment rules (8 for multiples of 8, then 4, then 2). */
TC_INTERNAL void *tc_tiny_alloc(size_t size);

/* What free/realloc found at a pointer. */
enum tc_ptr_kind {
    PTR_OK = 0,
    PTR_FOREIGN,   /* not in the heap at all */
    PTR_UNALLOCATED, /* in the heap, not allocated: a double free */
    PTR_INTERIOR,  /* inside an object, not at its start */
    PTR_COLLECTED, /* a collected object, not malloc'd */
};

/* Classify p as a malloc'd object; on PTR_OK sets *sp, on PTR_INTERIOR
 * sets *base to the object's start. */
TC_INTERNAL enum tc_ptr_kind tc_classify(uintptr_t p, struct mspan **sp, uintptr_t *base);

/* Report a bad pointer given to `who` ("free()", "realloc()", ...): one
 * line, then abort unless GODEBUG=badfree=warn. */
TC_INTERNAL void tc_bad_pointer(const char *who, enum tc_ptr_kind kind, uintptr_t p,
                                uintptr_t base);

/* Free a malloc'd object. Returns 0 (after reporting) if p is not one.
 * tc_free_slow is the same after tc_free_fast has declined. */
TC_INTERNAL int tc_free(void *p, const char *who);
TC_INTERNAL int tc_free_slow(void *p, const char *who);

/* Usable bytes of a malloc'd object, or 0 after reporting a bad pointer. */
TC_INTERNAL size_t tc_usable_size(void *p, const char *who);

/* realloc's logic. *bad is set when p was reported as a bad pointer. */
TC_INTERNAL void *tc_realloc(void *p, size_t size, int *bad);

#endif
