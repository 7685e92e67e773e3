/* alloc/alloc.c: start-up, fork, the slow allocation paths and free.
 *
 * Allocation (Go's mallocgc without the collector, which hooks in later):
 *   1. size <= 32 KiB: size class -> span class (class x kind) -> this
 *      thread's P -> its cached span -> next free slot (alloc.h, inline);
 *      on a miss, tc_mcache_refill_alloc.
 *   2. larger: a span of its own from the heap, aligned as asked.
 *   3. aligned small requests pick the first size class whose object size
 *      is a multiple of the alignment (spans are page aligned, so every
 *      object of such a class is aligned); alignments above a page, or
 *      when no class fits, go to 2.
 *
 * Free: the pointer's span comes from the arena index; the slot index from
 * a multiply (divMul). A small object of a span this P owns goes onto this
 * P's free bin for its class (alloc.h, inline), where the next malloc of
 * that class takes it; when a bin is full its older half goes back to the
 * spans in place, with plain stores (mcache.c). Another P's object is a
 * remote free: the freer counts itself in xremoteCount, then sets the
 * slot's remote bit, and tells the owning P (once until it merges) or,
 * for a span no P owns, the mcentral when the span may have to change
 * list (it was on the full list, or its last object is gone). So a freed
 * object is reused by the thread that owns its span, never put in another
 * thread's bin next to that thread's live objects (false sharing), and the
 * owner folds a burst of remote frees in with one exchange per bitmap
 * word. A large object goes back to the heap, or, if
 * small enough, to this P's large-span cache for the next large malloc of
 * the same page count (mcache.h).
 * Every bad pointer is classified before anything is written, so a bad
 * free damages nothing.
 *
 * Start-up: nothing here calls stdio, dlsym or any function that may
 * allocate before the heap exists; the environment is read with getenv;
 * the thread-exit key comes from pthread_key_create (no malloc). fork():
 * the prepare handler takes every allocator lock in lock order (P pool,
 * mcentrals, heap), so the child starts with consistent lists. */
#include "alloc/alloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/mcentral.h"
#include "alloc/lockrank.h"
#include "alloc/options.h"
#include "alloc/own.h"
#include "alloc/region.h"
#include "alloc/report.h"
#include "alloc/scavenge.h"
#include "gc/hooks.h"

_Atomic int tc_inited;
struct classinfo tc_classinfo[TC_NUM_SIZE_CLASSES];
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
/* Frees by threads without a P: objects by size class, large bytes, and
 * how many of them were remote frees (every one, for small classes). */
static _Atomic uint64_t nofree_p[TC_NUM_SIZE_CLASSES], nofree_p_large_bytes;

static void count_free(unsigned sc, uint64_t large_bytes) {
    struct p *pp = tc_tls_p;
    if (pp) {
        tc_stat_add(&pp->stats.nfree[sc], 1);
        if (!sc) tc_stat_add(&pp->stats.largeBytesFree, large_bytes);
        return;
    }
    atomic_fetch_add_explicit(&nofree_p[sc], 1, memory_order_relaxed);
    if (!sc) atomic_fetch_add_explicit(&nofree_p_large_bytes, large_bytes, memory_order_relaxed);
}

/* The whole fork is a region: a stop must not catch this thread holding
 * every allocator lock. */
static void fork_prepare(void) {
    tc_ensure_init();
    tc_region_begin();
    tc_p_lock_pool();
    tc_mcentral_lock_all();
    tc_mheap_lock_all();
}

static void fork_parent(void) {
    tc_mheap_unlock_all();
    tc_mcentral_unlock_all();
    tc_p_unlock_pool();
    tc_region_end();
}

/* The locks prepare took belong to this thread, the only one the child
 * has: it releases them as the parent does (unlocking is defined for
 * their owner, re-initialising a held mutex is not). */
static void fork_child(void) {
    tc_scavenge_after_fork_child();
    tc_mheap_unlock_all();
    tc_mcentral_unlock_all();
    tc_p_unlock_pool();
    tc_p_after_fork_child();
    tc_region_depth--;
    tc_region_pending = 0; /* the collector that asked is in the parent */
}

void tc_init_slow(void) {
    tc_lock(&init_lock, LOCKRANK_INIT);
    if (!atomic_load_explicit(&tc_inited, memory_order_relaxed)) {
        tc_options_init();
        for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++)
            tc_classinfo[sc] = (struct classinfo){tc_class_to_divmagic[sc],
                                                  (tc_class_to_nelems[sc] + 63u) / 64};
        tc_mheap_init();
        tc_mcentral_init();
        tc_p_init();
        atomic_store_explicit(&tc_inited, 1, memory_order_release);
    }
    tc_unlock(&init_lock, LOCKRANK_INIT);
}

/* Registered from a constructor, not from the first malloc: pthread_atfork
 * may allocate, and by now malloc works. */
__attribute__((constructor(200))) static void tc_constructor(void) {
    tc_ensure_init();
    tc_options_reread();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- allocation slow paths ---- */

static void *alloc_large(struct p *pp, size_t size, enum span_kind kind, int zero,
                         size_t align) {
    if (size > PTRDIFF_MAX) return NULL;
    uintptr_t npages = (size + TC_PAGE_SIZE - 1) / TC_PAGE_SIZE;
    uintptr_t apages = align > TC_PAGE_SIZE ? align / TC_PAGE_SIZE : 1;
    if (!npages) npages = 1;
    struct mspan *s = NULL;
    if (kind == SPAN_MANUAL && apages == 1 && npages <= TC_LARGE_CACHE_MAX_SPAN)
        s = tc_mcache_large_take(pp, npages);
    if (!s) {
        if (!(s = tc_mheap_alloc(npages, tc_spanclass(0, kind), apages))) return NULL;
        tc_bits_store(&s->allocBits[0], ~0ull);
    }
    atomic_store_explicit(&s->xallocCount, 1, memory_order_relaxed);
    /* A collected object is scanned to the end of its span: zero it all,
     * or the tail keeps old pointers (and an object allocated black is
     * never scanned, so nothing would shade them). */
    if (zero && s->needzero) memset((void *)s->startAddr, 0, kind == SPAN_MANUAL ? size : s->elemsize);
    if (kind != SPAN_MANUAL) {
        tc_mcentral_add_large(s);
        tc_gc_note_alloc(s->elemsize, kind == SPAN_SCAN);
    }
    int manual = kind == SPAN_MANUAL;
    tc_stat_add(tc_pstats_nalloc(&pp->stats, kind, 0), 1);
    tc_stat_add(manual ? &pp->stats.largeBytesMalloc : &pp->stats.largeBytesGC, s->elemsize);
    return (void *)s->startAddr;
}

/* The size class for an aligned small request, or 0 for "use a span". */
static unsigned aligned_class(size_t size, size_t align) {
    if (align > TC_PAGE_SIZE) return 0;
    size_t want = TC_ALIGN_UP(size ? size : 1, align);
    if (want > TC_MAX_SMALL_SIZE) return 0;
    for (unsigned c = tc_size_to_class(want); c < TC_NUM_SIZE_CLASSES; c++)
        if (tc_class_size(c) % align == 0) return c;
    return 0;
}

/* The window is tested here, not the result: then nothing is live across
 * the call below, and the common path saves no register. */
void *tc_alloc_small(struct p *pp, size_t size, unsigned sc, enum span_kind kind) {
    struct mspan *s = pp->mcache.alloc[tc_spanclass(sc, kind)];
    if (TC_UNLIKELY(s->allocCache == 0)) return tc_alloc_slow(size, kind, 0, 0);
    void *v = tc_mspan_alloc_fast(s);
    tc_stat_add(tc_pstats_nalloc(&pp->stats, kind, sc), 1);
    return v;
}

static void *alloc_slow(size_t size, enum span_kind kind, int zero, size_t align);

void *tc_alloc_slow(size_t size, enum span_kind kind, int zero, size_t align) {
    void *v = alloc_slow(size, kind, zero, align);
    if (TC_UNLIKELY(!v)) errno = ENOMEM;
    return v;
}

static void *alloc_slow(size_t size, enum span_kind kind, int zero, size_t align) {
    tc_ensure_init();
    if (size > PTRDIFF_MAX - TC_ARENA_BYTES) return NULL; /* no rounding can wrap */
    struct p *pp = tc_tls_p;
    if (!pp && !(pp = tc_p_acquire())) return NULL;
    tc_p_flush_if_asked(pp);
    unsigned sc;
    if (align > 8) {
        sc = aligned_class(size, align);
        if (sc == 0) return alloc_large(pp, size, kind, zero, align);
    } else {
        if (size > TC_MAX_SMALL_SIZE) return alloc_large(pp, size, kind, zero, align);
        sc = tc_size_to_class(size);
    }
    unsigned spc = tc_spanclass(sc, kind);
    struct freebin *b = &pp->mcache.free[sc];
    void *v;
    if (kind == SPAN_MANUAL && b->n) { /* counted by the bin */
        v = tc_freebin_pop(b);
    } else if ((v = tc_mspan_alloc_fast(pp->mcache.alloc[spc])) != NULL ||
               (v = tc_mcache_refill_alloc(pp, spc)) != NULL) {
        tc_stat_add(tc_pstats_nalloc(&pp->stats, kind, sc), 1);
    } else {
        return NULL;
    }
    if (zero) memset(v, 0, tc_class_size(sc));
    return v;
}

void *tc_tiny_alloc(size_t size) {
    TC_ASSERT(size > 0 && size < TC_TINY_SIZE);
    tc_ensure_init();
    struct p *pp = tc_tls_p;
    if (!pp && !(pp = tc_p_acquire())) return NULL;
    struct mcache *c = &pp->mcache;
    uintptr_t off = c->tinyoffset;
    if ((size & 7) == 0) off = TC_ALIGN_UP(off, 8);
    else if ((size & 3) == 0) off = TC_ALIGN_UP(off, 4);
    else if ((size & 1) == 0) off = TC_ALIGN_UP(off, 2);
    tc_stat_add(&pp->stats.ntiny, 1);
    if (c->tiny && off + size <= TC_TINY_SIZE) {
        c->tinyoffset = off + size;
        return (void *)(c->tiny + off);
    }
    void *v = tc_mspan_alloc_fast(c->alloc[TC_TINY_SPANCLASS]);
    if (!v && !(v = tc_mcache_refill_alloc(pp, TC_TINY_SPANCLASS))) return NULL;
    memset(v, 0, TC_TINY_SIZE);
    tc_stat_add(&pp->stats.ngcalloc[tc_spanclass_sizeclass(TC_TINY_SPANCLASS)], 1);
    /* Keep whichever block has more room left, as Go does. */
    if (!c->tiny || size < c->tinyoffset) {
        c->tiny = (uintptr_t)v;
        c->tinyoffset = size;
    }
    return v;
}

/* ---- free ---- */

enum tc_ptr_kind tc_classify(uintptr_t p, struct mspan **sp, uintptr_t *base) {
    if (!tc_in_heap(p)) return PTR_FOREIGN;
    struct mspan *s = tc_spanof(p);
    if (!s || s->state != MSPAN_INUSE || p >= s->limit) return PTR_UNALLOCATED;
    if (tc_spanclass_kind(s->spanclass) != SPAN_MANUAL) return PTR_COLLECTED;
    int exact;
    unsigned idx = tc_mspan_index(s, p, &exact);
    if (!exact) {
        *base = s->startAddr + (uintptr_t)idx * s->elemsize;
        return PTR_INTERIOR;
    }
    if (!(tc_bits_load(&s->allocBits[idx >> 6]) >> (idx & 63) & 1)) return PTR_UNALLOCATED;
    if (tc_spanclass_sizeclass(s->spanclass) != 0 && tc_mspan_inbin(s, idx))
        return PTR_UNALLOCATED; /* freed, waiting in its owner's bin */
    *sp = s;
    return PTR_OK;
}

void tc_bad_pointer(const char *who, enum tc_ptr_kind kind, uintptr_t p, uintptr_t base) {
    const char *pre = tc_opts.badfree == BADFREE_WARN ? "tricolor: warning: " : "tricolor: ";
    void *vp = (void *)p;
    switch (kind) {
    case PTR_FOREIGN:
        tc_print("%s%s: invalid pointer %p (not from this heap)", pre, who, vp);
        break;
    case PTR_UNALLOCATED: tc_print("%s%s: double free of %p", pre, who, vp); break;
    case PTR_INTERIOR:
        tc_print("%s%s: interior pointer %p (object at %p)", pre, who, vp, (void *)base);
        break;
    case PTR_COLLECTED:
        tc_print("%s%s: invalid pointer %p (a collected object, not malloc'd)", pre, who, vp);
        break;
    case PTR_OK: return;
    }
    if (tc_opts.badfree != BADFREE_WARN) abort();
}

static void free_large(struct mspan *s, uintptr_t p, const char *who) {
    uint64_t old = atomic_fetch_and_explicit(&s->allocBits[0], ~1ull, memory_order_acq_rel);
    if (!(old & 1)) {
        tc_bad_pointer(who, PTR_UNALLOCATED, p, 0);
        return;
    }
    int saved = errno; /* free must not change errno; madvise may */
    uintptr_t bytes = s->elemsize;
    struct p *pp = tc_tls_p;
    if (!pp || !tc_mcache_large_put(pp, s)) tc_mheap_free(s);
    errno = saved;
    count_free(0, bytes);
}

/* A free into a span this thread's P does not own. Count first, then set
 * the bit: while our count is in, the span cannot go back to the heap. The
 * list is read after the bit is set (seq_cst, paired with the fence in
 * mcentral's settle), so a span is never left on the full list with a
 * pending free nobody will act on; a P that owns the span is told
 * instead (tc_mcache_notify). */
TC_INLINE int free_remote(struct mspan *s, unsigned idx) {
    unsigned spc = s->spanclass;
    TC_ASSERT(tc_spanclass_kind(spc) == SPAN_MANUAL);
    uint64_t gen = __atomic_load_n(&s->gen, __ATOMIC_RELAXED);
    uint64_t bit = 1ull << (idx & 63);
    int32_t prev = atomic_fetch_add(&s->xremoteCount, 1);
    uint64_t old = atomic_fetch_or(&s->remoteBits[idx >> 6], bit);
    if (old & bit) {
        atomic_fetch_sub(&s->xremoteCount, 1);
        return 0;
    }
    uint8_t list = __atomic_load_n(&s->list, __ATOMIC_SEQ_CST);
    if (list == LIST_CACHED) {
        tc_own_notify(s); /* atomics only: errno stays */
    } else if (list == LIST_FULL || (uint32_t)(prev + 1) >= tc_mspan_count(s)) {
        int saved = errno; /* the mcentral lock may sleep */
        tc_mcentral_reconcile(s, spc, gen);
        errno = saved;
    }
    return 1;
}

/* The span's struct is read only once the slot is known good: its
 * remote-free fields, and its owner, which the pageinfo word may not name
 * (a P past 65534 has no page id; its frees go on to the slow path). */
int tc_free_remote(struct heaparena *ha, uintptr_t page, uint32_t pi, void *ptr, const char *who) {
    struct p *pp = tc_tls_p;
    /* A non-zero class half has its span's first page in this arena
     * (mheap.c), so page >= back; class 0 has divmagic 0, which
     * tc_slot_word refuses. */
    unsigned sc = pi & 0xff, idx;
    struct classinfo ci = tc_classinfo[sc];
    _Atomic uint64_t *w = tc_slot_word(ha, (uintptr_t)ptr, page, pi, ci, &idx);
    if (TC_UNLIKELY(!w)) goto declined;
    uint64_t bit = 1ull << (idx & 63);
    if (TC_UNLIKELY(!(tc_bits_load(w) & bit) || (tc_bits_load(w + ci.nwords) & bit))) goto declined;
    struct mspan *s = atomic_load_explicit(&ha->spans[page - ((pi >> 8) & 0xff)], memory_order_acquire);
    if (TC_UNLIKELY(!s || atomic_load_explicit(&s->xowner, memory_order_relaxed) == pp)) goto declined;
    tc_p_flush_if_asked(pp);
    if (TC_UNLIKELY(!free_remote(s, idx))) goto declined;
    tc_stat_add(&pp->stats.nfree[sc], 1);
    tc_stat_add(&pp->stats.nremote[sc], 1);
    return 1;
declined:
    return who ? tc_free_slow(ptr, who) : 0;
}

int tc_free_declined(void *ptr, const char *who) { return ptr ? tc_free_slow(ptr, who) : 1; }

/* A free into a small malloc'd span this thread's P does not own, after
 * tc_free_fast declined it (a thread without a P, or a double free that
 * the remote bit caught), validated from the pageinfo word and the bits as
 * tc_free_fast validates (pointer in the heap, slot start, allocated, not
 * in a bin), so without tc_classify's walk through the span struct.
 * Returns 1 when freed, -1 after reporting a double free that the remote
 * bit caught, 0 when tc_free_slow must decide: anything else (our own
 * span, a large or collected object, a span crossing arenas, a bad
 * pointer, which it then classifies and reports). */
static int free_other(void *ptr, struct p *pp, const char *who) {
    uintptr_t p = (uintptr_t)ptr;
    struct heaparena *ha = tc_arenaof(p);
    if (!ha) return 0;
    uintptr_t page = tc_arena_page(p);
    uint32_t pi = atomic_load_explicit(&ha->pageinfo[page], memory_order_relaxed);
    unsigned sc = pi & 0xff, back = (pi >> 8) & 0xff;
    if (!sc) return 0; /* page >= back for a non-zero class (mheap.c) */
    if (pp && (pi ^ pp->ownkey) <= 0xffff) return 0; /* ours */
    struct classinfo ci = tc_classinfo[sc];
    unsigned idx;
    _Atomic uint64_t *w = tc_slot_word(ha, p, page, pi, ci, &idx);
    if (!w) return 0;
    uint64_t bit = 1ull << (idx & 63);
    if (!(tc_bits_load(w) & bit) || (tc_bits_load(w + ci.nwords) & bit)) return 0;
    struct mspan *s = atomic_load_explicit(&ha->spans[page - back], memory_order_acquire);
    if (!s || (pp && atomic_load_explicit(&s->xowner, memory_order_relaxed) == pp)) return 0;
    if (pp) tc_p_flush_if_asked(pp);
    if (!free_remote(s, idx)) {
        tc_bad_pointer(who, PTR_UNALLOCATED, p, 0);
        return -1;
    }
    count_free(sc, 0);
    if (pp) tc_stat_add(&pp->stats.nremote[sc], 1);
    return 1;
}

int tc_free(void *ptr, const char *who) { return tc_free_path(ptr, who); }

/* Everything free_other leaves: classify, report, or free into our own
 * span (the bin was full) or a span crossing into this arena. Out of line,
 * so that the remote path above saves no registers for it. */
__attribute__((noinline)) static int free_classified(void *ptr, const char *who) {
    uintptr_t p = (uintptr_t)ptr, base = 0;
    struct mspan *s = NULL;
    enum tc_ptr_kind k = tc_classify(p, &s, &base);
    if (TC_UNLIKELY(k != PTR_OK)) {
        tc_bad_pointer(who, k, p, base);
        return 0;
    }
    unsigned sc = tc_spanclass_sizeclass(s->spanclass);
    if (sc == 0) {
        free_large(s, p, who);
        return 1;
    }
    int exact;
    unsigned idx = tc_mspan_index(s, p, &exact);
    struct p *pp = tc_tls_p;
    if (pp) tc_p_flush_if_asked(pp);
    if (pp && atomic_load_explicit(&s->xowner, memory_order_relaxed) == pp) {
        struct freebin *b = &pp->mcache.free[sc]; /* the bin was full */
        if (b->n == b->cap) tc_freebin_flush(pp, sc, 0);
        tc_freebin_push(b, ptr, &tc_mspan_binbits(s)[idx >> 6], idx);
        return 1;
    }
    if (!free_remote(s, idx)) {
        tc_bad_pointer(who, PTR_UNALLOCATED, p, 0);
        return 0;
    }
    count_free(sc, 0);
    if (pp) tc_stat_add(&pp->stats.nremote[sc], 1);
    return 1;
}

int tc_free_slow(void *ptr, const char *who) {
    int r = free_other(ptr, tc_tls_p, who);
    return r ? r > 0 : free_classified(ptr, who);
}

size_t tc_usable_size(void *ptr, const char *who) {
    uintptr_t p = (uintptr_t)ptr, base = 0;
    struct mspan *s = NULL;
    enum tc_ptr_kind k = tc_classify(p, &s, &base);
    if (k != PTR_OK) {
        tc_bad_pointer(who, k, p, base);
        return 0;
    }
    return s->elemsize;
}

void *tc_realloc(void *ptr, size_t size, int *bad) {
    uintptr_t p = (uintptr_t)ptr, base = 0;
    struct mspan *s = NULL;
    *bad = 0;
    enum tc_ptr_kind k = tc_classify(p, &s, &base);
    if (k != PTR_OK) {
        tc_bad_pointer("realloc()", k, p, base);
        *bad = 1;
        return NULL;
    }
    size_t usable = s->elemsize;
    int large = tc_spanclass_sizeclass(s->spanclass) == 0;
    if (size <= usable && (size >= usable / 2 || usable <= 32)) return ptr;
    if (large && size > usable) {
        uintptr_t npages = (size + TC_PAGE_SIZE - 1) / TC_PAGE_SIZE;
        struct p *pp = tc_tls_p ? tc_tls_p : tc_p_acquire();
        if (pp && size <= PTRDIFF_MAX && tc_mheap_grow_inplace(s, npages)) {
            tc_stat_add(&pp->stats.largeBytesMalloc, s->elemsize - usable);
            return ptr;
        }
    }
    void *q = tc_alloc(size, SPAN_MANUAL);
    if (!q) return NULL;
    memcpy(q, ptr, size < usable ? size : usable);
    tc_free(ptr, "realloc()");
    return q;
}

/* Frees made by threads without a P, for statistics. */
TC_INTERNAL uint64_t tc_alloc_nofree_p(unsigned sc, uint64_t *large_bytes);
uint64_t tc_alloc_nofree_p(unsigned sc, uint64_t *large_bytes) {
    if (large_bytes) *large_bytes = atomic_load_explicit(&nofree_p_large_bytes, memory_order_relaxed);
    return atomic_load_explicit(&nofree_p[sc], memory_order_relaxed);
}
