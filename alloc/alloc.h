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
 * where memory may be dirty), alignment (power of two; <= 8 for none).
 * Sets errno to ENOMEM when it returns NULL. */
TC_INTERNAL void *tc_alloc_slow(size_t size, enum span_kind kind, int zero, size_t align);

/* A small object of span class (sc, kind) from the P's current span, or
 * through tc_alloc_slow. Out of line: it keeps the free bin's path below
 * short (no registers to save). */
TC_INTERNAL void *tc_alloc_small(struct p *pp, size_t size, unsigned sc, enum span_kind kind);

/* Fast path: a small object of span kind `kind`; malloc'd classes first
 * reuse the P's free bin. Promise: no lock, no atomic read-modify-write,
 * three branches (size, P, bin) to the bin or to tc_alloc_small and the
 * span's allocCache; falls back to tc_alloc_slow,
 * which sets errno to ENOMEM when it returns NULL. */
TC_INLINE void *tc_alloc(size_t size, enum span_kind kind) {
    struct p *pp = tc_tls_p;
    unsigned sc;
    /* The sizes of the first table first: one compare for them; a
     * malloc'd one finds its bin with one load (mcache.binof). */
    if (TC_LIKELY(size <= TC_SMALL_SIZE_MAX - 8)) {
        size_t i = (size + TC_SMALL_SIZE_DIV - 1) / TC_SMALL_SIZE_DIV;
        if (kind == SPAN_MANUAL) {
            if (TC_UNLIKELY(pp == NULL)) return tc_alloc_slow(size, kind, 0, 0);
            struct freebin *b = pp->mcache.binof[i];
            if (b->n) return tc_freebin_pop(b); /* counted by the bin */
            return tc_alloc_small(pp, size, (unsigned)(b - pp->mcache.free), kind);
        }
        sc = tc_size_to_class8[i];
    } else if (size <= TC_MAX_SMALL_SIZE)
        sc = tc_size_to_class(size);
    else
        return tc_alloc_slow(size, kind, 0, 0);
    if (TC_UNLIKELY(pp == NULL)) return tc_alloc_slow(size, kind, 0, 0);
    struct freebin *b = &pp->mcache.free[sc];
    if (kind == SPAN_MANUAL && b->n) return tc_freebin_pop(b); /* counted by the bin */
    return tc_alloc_small(pp, size, sc, kind);
}

/* The slot at address p of the small malloc'd span whose page (page
 * `page` of arena ha) has the pageinfo word pi, with a class half (ci its
 * class) and page >= its pages back to the span's first: sets *idxp and
 * returns the slot's allocBits word, or NULL when p is not a slot start.
 * A "slot" past nelems has both bits set (mspan.h, I2 and I7), so the
 * callers' bit tests refuse it. */
TC_INLINE _Atomic uint64_t *tc_slot_word(struct heaparena *ha, uintptr_t p, uintptr_t page,
                                         uint32_t pi, struct classinfo ci, unsigned *idxp) {
    uintptr_t first = page - ((pi >> 8) & 0xff);
    uintptr_t off = (p & (TC_ARENA_BYTES - 1)) - first * TC_PAGE_SIZE;
    uint64_t m = off * ci.divmagic; /* divmagic = ceil(2^32 / size) */
    /* off is a multiple of the size iff the fraction is below divmagic
     * (checked for every class and offset by test_sizeclass). */
    if (TC_UNLIKELY((uint32_t)m >= ci.divmagic)) return NULL;
    *idxp = (unsigned)(m >> 32);
    return tc_arena_allocbits(ha, first) + (*idxp >> 6);
}

/* A free whose page (pageinfo word pi, page `page` of arena ha) names
 * another owner than this thread's P: validate the slot as tc_free_path
 * does and, for another P's small malloc'd span, count it as a remote
 * free and tell the owner. Returns 1 when freed. Otherwise (not such a
 * slot, the span struct disagrees, or the remote bit says double free) it
 * returns 0 when who is NULL, else what tc_free_slow(ptr, who) returns:
 * that finds the reason again and reports it. */
TC_INTERNAL int tc_free_remote(struct heaparena *ha, uintptr_t page, uint32_t pi, void *ptr,
                               const char *who);

/* What free does when the fast path declines: tc_free_slow, except that
 * NULL is freed without a word. */
TC_INTERNAL int tc_free_declined(void *ptr, const char *who);

/* Free for a small malloc'd object without the span struct: validate (in
 * use, slot start, allocated, not in a bin) and, if this P owns its span,
 * push it on this P's free bin, where the next malloc of its class finds
 * it; another P's object goes on to tc_free_remote with what was found
 * here. The page's pageinfo word gives the class, the span's first page
 * and its owner, the class tables the slot, and the arena the allocBits
 * and in-bin words (struct heaparena, one line for most classes), so the
 * loads that depend on each other are arena -> pageinfo -> bits. Promise:
 * no lock, and no atomic read-modify-write on this P's own objects.
 * With who == NULL it returns 0 where the slow path must decide (a full
 * bin, a thread without a P, a bad pointer: tc_free_fast); with a who it
 * calls the slow path itself, so that every call is a tail call and
 * free() saves no register (tc_free). */
TC_INLINE int tc_free_path(void *ptr, const char *who) {
    struct p *pp = tc_tls_p;
    uintptr_t p = (uintptr_t)ptr;
    struct heaparena *ha = tc_arenaof(p);
    if (TC_UNLIKELY(!pp || !ha)) goto declined;
    uintptr_t page = tc_arena_page(p);
    uint32_t pi = atomic_load_explicit(&ha->pageinfo[page], memory_order_relaxed);
    /* Our owner half means a span of ours within this arena (own.c), so
     * page >= back here. */
    if (TC_UNLIKELY((pi ^ pp->ownkey) > 0xffff)) return tc_free_remote(ha, page, pi, ptr, who);
    unsigned sc = pi & 0xff, idx;
    struct classinfo ci = tc_classinfo[sc];
    _Atomic uint64_t *w = tc_slot_word(ha, p, page, pi, ci, &idx);
    if (TC_UNLIKELY(!w)) goto declined;
    _Atomic uint64_t *inbin = w + ci.nwords;
    uint64_t bit = 1ull << (idx & 63), ib = tc_bits_load(inbin);
    if (TC_UNLIKELY(!(tc_bits_load(w) & bit) || (ib & bit))) goto declined;
    struct freebin *b = &pp->mcache.free[sc];
    uint32_t n = b->n;
    if (TC_UNLIKELY(n == b->cap)) goto declined;
    tc_bits_store(inbin, ib | bit);
    /* The bin hands it out next: start fetching its line for the writes
     * that follow a malloc (nothing here waits for it). */
    __builtin_prefetch(ptr, 1);
    b->items[n] = (struct binent){ptr, (uintptr_t)inbin << 6 | (idx & 63)};
    b->n = n + 1;
    tc_stat_add(&b->npush, 1);
    return 1;
declined:
    return who ? tc_free_declined(ptr, who) : 0;
}

/* The fast path alone: 1 when freed, 0 when tc_free_slow must decide. */
TC_INLINE int tc_free_fast(void *ptr) { return tc_free_path(ptr, NULL); }

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

/* Whether slot idx of malloc'd small span s sits in a free bin. */
TC_INLINE int tc_mspan_inbin(const struct mspan *s, unsigned idx) {
    return tc_bits_load(&tc_mspan_binbits(s)[idx >> 6]) >> (idx & 63) & 1;
}

/* Free a malloc'd object. Returns 0 (after reporting) if p is not one.
 * tc_free_slow is the same after tc_free_fast has declined. NULL is
 * freed without a word by tc_free, reported by tc_free_slow. */
TC_INTERNAL int tc_free(void *p, const char *who);
TC_INTERNAL int tc_free_slow(void *p, const char *who);

/* Usable bytes of a malloc'd object, or 0 after reporting a bad pointer. */
TC_INTERNAL size_t tc_usable_size(void *p, const char *who);

/* realloc's logic. *bad is set when p was reported as a bad pointer. */
TC_INTERNAL void *tc_realloc(void *p, size_t size, int *bad);

#endif
