/* alloc/mcache.h: Ps and their mcaches.
 *
 * A P is the allocation context (Go's P, minus the scheduler): an mcache
 * with one cached span per span class, the malloc'd spans it owns besides
 * (own.c), free bins, the tiny block, and statistics. C
 * has no scheduler, so a thread takes a P from a pool at its first
 * allocation and gives it back, flushed, when it exits (a pthread key
 * destructor) or calls gc_thread_idle(). Ps are never freed; the pool
 * holds at most as many as there were allocating threads alive at once.
 * A thread that only frees never takes a P.
 *
 * Ownership: everything in a P belongs to the thread that holds it; other
 * threads read the statistics (relaxed atomics), and a remote freer sets
 * a bit in its pending mask (own.c); nothing else.
 * The pool's lists are guarded by the pool lock (first in the lock
 * order). */
#ifndef TC_ALLOC_MCACHE_H
#define TC_ALLOC_MCACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "alloc/base.h"
#include "alloc/mspan.h"
#include "alloc/sizeclass.h"

/* A free bin: malloc'd objects of one size class that this P freed and
 * will hand out again before touching its spans (LIFO, so the memory is
 * still in cache). Not in Go, which never frees explicitly; it turns the
 * common free into a few plain stores. A bin takes only objects of spans
 * this P owns; they stay allocated in allocBits and have their in-bin bit
 * set (tc_mspan_binbits), so a second free of one is caught by the bits
 * alone, and neither free nor malloc touches the object's memory. */
struct binent {
    void *p;       /* the object */
    uintptr_t wb;  /* its in-bin word's address << 6 | bit number */
};
#define TC_BINENTS_PER_LINE (64 / sizeof(struct binent))

struct freebin {
    struct binent *items; /* cap slots in mcache.freeslots */
    uint32_t n;    /* objects in the bin */
    uint32_t cap;  /* capacity: about tc_opts.binbytes of objects, at most
                      tc_opts.binobjs, at least 1 */
    /* Counters (relaxed load+store by the owner, like struct pstats): a
     * push is a free, and malloc counts the pops without a counter of its
     * own, as npush - nout - n (tc_freebin_pops): one counter fewer on the
     * commonest malloc, and the free's sits on the line it writes anyway. */
    _Atomic uint64_t npush; /* objects pushed (frees) */
    _Atomic uint64_t nout;  /* objects flushed to their spans */
};

TC_INLINE _Atomic uint64_t *tc_binent_word(uintptr_t wb) {
    return (_Atomic uint64_t *)(wb >> 6);
}
TC_INLINE uint64_t tc_binent_bit(uintptr_t wb) { return 1ull << (wb & 63); }

/* The malloc'd spans a P owns besides the one it allocates from, per size
 * class: doubly linked through mspan.next/prev (a P's span is on no
 * mcentral list); mspan.ownlist says which. P lock. */
struct ownspans {
    struct mspan *partial; /* spans with a free slot */
    struct mspan *full;    /* spans with none known */
    uint32_t nempty;       /* spans on partial holding no object */
};


/* Large malloc'd spans this P freed, kept whole for the next large malloc
 * of the same page count: a large free and malloc then cost no heap lock
 * (jemalloc's and mimalloc's thread caches keep large blocks too). A
 * cached span stays MSPAN_INUSE with its one allocation bit clear, so a
 * second free of it is still a double free. Bounded in spans and pages. */
#define TC_LARGE_CACHE 16          /* spans; in bytes, tc_opts.largecache */
#define TC_LARGE_CACHE_MAX_SPAN 32 /* pages: larger spans are never kept */

struct mcache {
    struct mspan *alloc[TC_NUM_SPAN_CLASSES]; /* &tc_emptyspan when none */
    struct freebin free[TC_NUM_SIZE_CLASSES]; /* malloc'd classes only */
    /* &free[tc_size_to_class8[i]]: malloc finds the bin for a size up to
     * TC_SMALL_SIZE_MAX - 8 with one load, indexed as that table is;
     * written once, when the P is made. */
    struct freebin *binof[TC_SMALL_SIZE_MAX / TC_SMALL_SIZE_DIV];
    struct mspan *large[TC_LARGE_CACHE]; /* oldest first; [0, nlarge) valid */
    uint32_t nlarge;      /* spans in large[] */
    uint32_t largepages;  /* pages over large[0..nlarge) */
    uintptr_t tiny;       /* current 16-byte tiny block, or 0 */
    uintptr_t tinyoffset; /* bytes of the tiny block in use */
    struct ownspans own[TC_NUM_SIZE_CLASSES]; /* malloc'd classes; P lock */
    /* Bytes of free slots in the spans on own[] (for statistics); the
     * owner writes under the P lock, anyone reads. */
    _Atomic uint64_t ownfree;
    struct binent *freeslots; /* every bin's items, mapped with the P; bins
                                 one line apart in cache sets (mcache.c) */
    /* Per bin: objects other threads freed that a merge put in it (own.c;
     * their freers counted the frees), less those the refill that merged
     * handed out at once (counted as span allocations). Written as
     * struct freebin's counters are; here to keep that struct 32 bytes. */
    _Atomic uint64_t binin[TC_NUM_SIZE_CLASSES];
};

/* Owned spans with a slot in the pending mask (more are served by a scan). */
#define TC_OWNSLOTS 4096

/* Per-P counters, by size class (0 = large, counted in bytes apart): the
 * owner bumps them with a relaxed load+store (no read-modify-write);
 * readers sum over all Ps. One counter per operation on the fast paths;
 * the free bins count their own pushes and pops (struct freebin). */
struct pstats {
    _Atomic uint64_t nmalloc[TC_NUM_SIZE_CLASSES]; /* malloc'd objects allocated */
    _Atomic uint64_t nfree[TC_NUM_SIZE_CLASSES];   /* malloc'd objects freed */
    _Atomic uint64_t ngcalloc[TC_NUM_SIZE_CLASSES]; /* collected objects allocated
                                                       (the sweeper counts their frees) */
    _Atomic uint64_t largeBytesMalloc; /* bytes of large malloc'd objects allocated */
    _Atomic uint64_t largeBytesFree;   /* bytes of large malloc'd objects freed */
    _Atomic uint64_t largeBytesGC;     /* bytes of large collected objects allocated */
    _Atomic uint64_t ntiny;   /* tiny sub-allocations (blocks count in [2]) */
    _Atomic uint64_t nremote[TC_NUM_SIZE_CLASSES]; /* frees into other Ps' spans */
};

/* The allocation counter of size class sc for memory of this kind. */
TC_INLINE _Atomic uint64_t *tc_pstats_nalloc(struct pstats *st, enum span_kind kind, unsigned sc) {
    return kind == SPAN_MANUAL ? &st->nmalloc[sc] : &st->ngcalloc[sc];
}

enum p_status { P_IDLE = 0, P_RUNNING = 1 };

struct p {
    struct mcache mcache;
    struct pstats stats;
    /* Bytes allocated black this cycle: the owner adds (relaxed load and
     * store, inside gc_alloc's region); the collector sums and zeroes them
     * at mark termination, with no thread inside a region. A shared
     * counter here cost every allocation during marking a contended
     * atomic add. */
    _Atomic uint64_t gc_black_bytes;
    /* Another thread asked (gc_release_memory) that the free bins and
     * large spans go back: the owner does it on its next slow path
     * (tc_p_flush_if_asked) and clears it. */
    _Atomic uint32_t flushAsked;
    struct p *link;    /* next idle P; pool lock */
    struct p *alllink; /* next P ever made; written once before publishing */
    uint32_t id;       /* index in creation order */
    uint16_t ownid;    /* id + 1 as written in pageinfo's owner half; 0xffff (never
                          written) past 65534 Ps */
    uint32_t ownkey;   /* ownid << 16, as free compares it; set with ownid */
    uint8_t status;    /* enum p_status; pool lock */
    /* The P lock: guards the owned-span lists (struct ownspans), the slots
     * below and every change of which malloc'd spans this P owns (xowner,
     * pageinfo's owner half). Held by the owner on slow paths; lock order:
     * pool < P < mcentral < heap, at most one P lock at a time except in
     * fork. */
    pthread_mutex_t lock;
    /* Remote-free notices (own.c): bit k of pendmask = the span in slot k
     * had a remote free since the P last merged it; bit w of pendany = word
     * w of pendmask may be non-zero; overflow = a span without a slot had
     * one. Freers set bits (atomic OR), the owner exchanges them with 0. */
    _Atomic uint64_t pendany;
    _Atomic uint64_t pendmask[TC_OWNSLOTS / 64];
    _Atomic uint32_t overflow;
    struct mspan *slotspan[TC_OWNSLOTS]; /* slot -> owned span or NULL; P lock */
    uint16_t slotnext[TC_OWNSLOTS];      /* free slot list links; P lock */
    uint32_t slotfree;  /* first free slot + 1, or 0; P lock */
    uint32_t slotbump;  /* slots ever handed out; P lock */
};

/* This thread's P, or NULL. Initial-exec TLS: no __tls_get_addr, which may
 * allocate. */
TC_INTERNAL extern __thread struct p *tc_tls_p __attribute__((tls_model("initial-exec")));
/* tc_tls_p once gc_alloc's fast path may use it (the thread is registered
 * with the collector and collected allocation has begun), else NULL: one
 * load and test for what would be three. gc_alloc's slow path sets it;
 * it is cleared with tc_tls_p and when the thread unregisters. Owner
 * thread only. */
TC_INTERNAL extern __thread struct p *tc_tls_gcp __attribute__((tls_model("initial-exec")));

/* Owner-only counter update that racing readers may load (relaxed). On
 * x86-64 one add to memory: a naturally aligned 8-byte access is single-
 * copy atomic there, so a reader sees the old or the new value, as with
 * the relaxed load and store of the portable form, which compilers do not
 * fuse into one instruction (three, on the paths of malloc and free). */
TC_INLINE void tc_stat_add(_Atomic uint64_t *c, uint64_t d) {
#if defined(__x86_64__)
    __asm__("addq %1, %0" : "+m"(*(uint64_t *)c) : "er"(d));
#else
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d,
                          memory_order_relaxed);
#endif
}

/* Take the newest object of non-empty bin b: clear its in-bin bit. */
TC_INLINE void *tc_freebin_pop(struct freebin *b) {
    struct binent e = b->items[--b->n];
    _Atomic uint64_t *w = tc_binent_word(e.wb);
    atomic_store_explicit(w, atomic_load_explicit(w, memory_order_relaxed) & ~tc_binent_bit(e.wb),
                          memory_order_relaxed);
    return e.p;
}

/* Put object p (slot idx, in-bin word inbin, bit clear) on bin b, which
 * has room. */
TC_INLINE void tc_freebin_push(struct freebin *b, void *p, _Atomic uint64_t *inbin, unsigned idx) {
    atomic_store_explicit(inbin,
                          atomic_load_explicit(inbin, memory_order_relaxed) | 1ull << (idx & 63),
                          memory_order_relaxed);
    b->items[b->n++] = (struct binent){p, (uintptr_t)inbin << 6 | (idx & 63)};
    tc_stat_add(&b->npush, 1);
}

/* Objects malloc took from bin sc of mcache c so far. Exact when its P
 * is idle or is the caller's; a racing reader may be off by the
 * operations in flight (never below zero). */
TC_INLINE uint64_t tc_freebin_pops(struct mcache *c, unsigned sc) {
    struct freebin *b = &c->free[sc];
    uint32_t n = __atomic_load_n(&b->n, __ATOMIC_RELAXED);
    uint64_t out = atomic_load_explicit(&b->nout, memory_order_relaxed);
    uint64_t in = atomic_load_explicit(&b->npush, memory_order_relaxed) +
                  atomic_load_explicit(&c->binin[sc], memory_order_relaxed);
    return in >= out + n ? in - out - n : 0;
}

TC_INTERNAL void tc_p_init(void);
/* Give this thread a P (it has none). NULL if out of memory. */
TC_INTERNAL struct p *tc_p_acquire(void);
/* Flush this thread's P and return it to the pool. */
TC_INTERNAL void tc_p_release(void);
/* The first P ever made (then follow alllink); for statistics. */
TC_INTERNAL struct p *tc_p_all(void);
TC_INTERNAL uint32_t tc_p_count(uint32_t *idle);

/* Move the older half of bin sc (all of it if all != 0) back to spans. */
TC_INTERNAL void tc_freebin_flush(struct p *pp, unsigned sc, int all);


/* A slot of s searching from its cursor to its end, or NULL. Owner only. */
TC_INTERNAL void *tc_span_take(struct mspan *s);

/* Slow path of small allocation for span class spc: refill the cached span
 * (malloc'd classes merge remote frees first, own.c) and return a slot,
 * counted by the caller as a span allocation. NULL when out of memory. */
TC_INTERNAL void *tc_mcache_refill_alloc(struct p *pp, unsigned spc);
/* Give every cached free object (the bins, the large spans) back to its
 * span or the heap, and owned spans that hold no object to their mcentral.
 * Owner only. */
TC_INTERNAL void tc_mcache_flush_free(struct p *pp);
/* Ask every P held by another thread to do that at its next slow path
 * (idle Ps were flushed when they were given back). */
TC_INTERNAL void tc_p_ask_flush_all(void);
TC_INLINE void tc_p_flush_if_asked(struct p *pp) {
    if (TC_UNLIKELY(atomic_load_explicit(&pp->flushAsked, memory_order_relaxed))) {
        atomic_store_explicit(&pp->flushAsked, 0, memory_order_relaxed);
        tc_mcache_flush_free(pp);
    }
}
/* That, and give every cached and owned span back to its mcentral. */
TC_INTERNAL void tc_mcache_flush(struct mcache *c);

/* A cached large malloc'd span of exactly npages, marked allocated, or
 * NULL. Owner only. */
TC_INTERNAL struct mspan *tc_mcache_large_take(struct p *pp, uintptr_t npages);
/* Keep large span s, whose allocation bit the caller has just cleared;
 * returns 0 when it is not kept (too large) and must go to the heap. Older
 * spans are given back to the heap to stay within the bounds. Owner only. */
TC_INTERNAL int tc_mcache_large_put(struct p *pp, struct mspan *s);
/* Give every cached large span back to the heap. Owner only. */
TC_INTERNAL void tc_mcache_large_flush(struct p *pp);

/* fork() support: the pool lock, and making the child's Ps consistent. */
TC_INTERNAL void tc_p_lock_pool(void);
TC_INTERNAL void tc_p_unlock_pool(void);
TC_INTERNAL void tc_p_after_fork_child(void);

#endif
