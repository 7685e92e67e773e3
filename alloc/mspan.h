/* alloc/mspan.h: struct mspan, a run of pages cut into equal objects.
 *
 * Glossary. slot: one object position, index 0..nelems-1. allocBits: one
 * bit per slot, 1 = allocated; unlike Go's, it is exact at all times
 * (allocation sets the bit), because explicit free needs it to detect
 * double frees and to give a freed slot back at once. freeindex and
 * allocCache are Go's search accelerator: every slot below freeindex is
 * allocated, and allocCache holds the complement of allocBits word
 * `cacheword` from slot freeindex up to the end of that word (bit k <->
 * slot freeindex + k), so count-trailing-zeros finds the next free slot.
 *
 * Invariants (checked by tc_mspan_verify):
 *   I1  allocCount == popcount(allocBits over slots < nelems)
 *   I2  bits of allocBits at and beyond nelems are 1 (never handed out)
 *   I3  every slot < freeindex is allocated
 *   I4  cacheword == freeindex / 64, or freeindex == 64 * cacheword + 64
 *       with allocCache == 0 (window used up)
 *   I5  allocCache == ~allocBits[cacheword] >> (freeindex % 64) within the
 *       window (the owner keeps it in step on every alloc and free)
 *
 * Malloc'd spans also have in-bin bits (tc_mspan_binbits), right after
 * allocBits: 1 = the slot is allocated but sits in its owner's free bin
 * (mcache.h), so it is free to the program. I6: in-bin bits are a subset
 * of allocBits. I7: in-bin bits at and beyond nelems are 1 (so free's
 * fast path refuses a "slot" past the end without comparing with
 * nelems).
 *
 * Who touches what. A span is owned by exactly one of: the heap (free
 * span, heap lock), an mcentral list (its lock), or one P's mcache
 * (xowner == that P; only that P's thread changes the allocation state
 * and the in-bin bits). A P keeps the malloc'd spans it took until they
 * empty or it is released (mcache.h), not only the one it allocates from.
 * Threads that free into a span they do not own never touch allocBits:
 * they count themselves in xremoteCount, then set a bit in remoteBits; the
 * owner merges remoteBits into allocBits (tc_mspan_merge_remote), after
 * the first such free since its last merge told it so (a bit in the
 * P's pending mask, at the span's ownslot). */
#ifndef TC_ALLOC_MSPAN_H
#define TC_ALLOC_MSPAN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc/base.h"
#include "alloc/sizeclass.h"

struct p;

enum mspan_state {
    MSPAN_DEAD = 0,   /* struct not describing memory */
    MSPAN_FREE,       /* in the heap's free bins */
    MSPAN_BUSY,       /* out of the bins for a moment (being scavenged) */
    MSPAN_INUSE,      /* holds objects */
};

enum mspan_list {
    LIST_NONE = 0,    /* large span, or in transit */
    LIST_PARTIAL,     /* mcentral: has free slots */
    LIST_FULL,        /* mcentral: no free slot known */
    LIST_CACHED,      /* in a P's mcache (xowner says which) */
};

#define TC_NOSLOT 0xffff /* mspan.xownslot: none */

/* Which of its owner's lists a P's malloc'd span is on (struct mcache). */
enum own_list {
    OWN_NONE = 0, /* the P allocates from it, or it is in transit */
    OWN_PARTIAL,  /* has (or may have) free slots */
    OWN_FULL,     /* no free slot known */
};

/* Field order is for the cache: the first 64 bytes hold everything the
 * malloc and free fast paths and the marker's object lookup read, and the
 * struct is line aligned, so each of them misses on one line at most. */
struct mspan {
    /* -- hot line -- */
    _Alignas(64) uintptr_t startAddr; /* first byte; page aligned */
    uintptr_t elemsize;   /* bytes per slot (whole span for large) */
    uintptr_t limit;      /* end of the last slot */
    _Atomic uint64_t *allocBits;  /* nwords words; owner writes (relaxed) */
    union {
        _Atomic uint64_t *remoteBits; /* manual spans: frees by non-owners */
        _Atomic uint8_t *gcmarkBytes; /* collected spans: this cycle's marks,
                                         one byte (0 or 1) per slot */
    };
    /* Allocation state: owner only (see the essay above). */
    uint64_t allocCache;  /* 1 = free, bit k <-> slot freeindex + k */
    uint32_t divMul;      /* slot index = (offset * divMul) >> 32; 0 if large */
    _Atomic uint32_t xallocCount; /* slots set in allocBits; owner writes */
    uint16_t spanclass;   /* sizeclass << 2 | kind */
    uint16_t freeindex;   /* slot; every slot below it is allocated */
    uint8_t state;        /* enum mspan_state; heap lock */
    uint8_t freeable;     /* in use, manual and small: free's fast path may
                             take it; heap lock writes */
    uint16_t nelems;      /* slots in the span */

    /* -- the rest -- */
    struct mspan *next, *prev; /* heap free bin or mcentral list; its lock */
    uintptr_t npages;     /* length in 8 KiB pages */
    uintptr_t nscav;      /* free span: pages of it released to the OS (its
                             heaparena.scav bits); heap lock */
    uint64_t gen;         /* unique per allocation of this struct; heap lock
                             writes, others read to detect reuse */
    uint16_t cacheword;   /* allocBits word that allocCache mirrors (owner) */
    uint16_t nwords;      /* 64-bit words per bitmap */
    uint8_t needzero;     /* slots or pages may hold old data */
    uint8_t list;         /* enum mspan_list; mcentral lock; read racily by
                             remote freers (seq_cst, see mcentral.c) */
    uint8_t hasfinal;     /* some object here may have a finalizer */
    uint32_t sweepgen;    /* collected spans, relative to tc_sweepgen (h):
                             h-2 needs sweeping, h-1 being swept, h swept;
                             mcentral lock */
    _Atomic int32_t xremoteCount; /* remote frees counted, not yet merged */
    _Atomic(struct p *) xowner;   /* caching P or NULL; mcentral lock */
    /* Malloc'd spans owned by a P (list == LIST_CACHED): */
    _Atomic uint16_t xownslot; /* its slot in the owner's pending mask, or
                                  TC_NOSLOT; owner writes, freers read */
    uint8_t ownlist;      /* enum own_list; owner only */
};
_Static_assert(offsetof(struct mspan, next) == 64, "mspan's hot fields fill one line");

/* The span every empty mcache slot points at: no free slot, so the fast
 * path falls through to refill without an "is it initialised" test. */
TC_INTERNAL extern struct mspan tc_emptyspan;

/* Set up geometry and bitmaps for a fresh span of class spc: alloc gets
 * nwords words (tc_mspan_nwords) for allocBits, aux tc_mspan_auxwords(spc,
 * nwords) for remoteBits (malloc'd spans) or the mark bytes (collected
 * spans). They are apart because allocBits sit at an address free() can
 * compute from the page (struct heaparena). */
TC_INTERNAL void tc_mspan_init(struct mspan *s, unsigned spc, _Atomic uint64_t *alloc,
                               _Atomic uint64_t *aux);
TC_INTERNAL unsigned tc_mspan_nwords(unsigned spc, uintptr_t npages);

/* Mark state is a byte per slot, not a bit: markers set it with a plain
 * store, where a bit would need an atomic OR (a locked instruction per
 * object, which also stops the marker overlapping its cache misses). Two
 * markers racing on one object may both see 0 and both scan it; that
 * costs a scan, never a mark. Boehm GC's parallel marker uses mark bytes
 * for the same reason. Sweeping packs them into allocBits. */
TC_INLINE unsigned tc_mspan_auxwords(unsigned spc, unsigned nwords) {
    return tc_spanclass_kind(spc) == SPAN_MANUAL ? nwords : 8 * nwords;
}
TC_INLINE int tc_mspan_marked(const struct mspan *s, unsigned idx) {
    return atomic_load_explicit(&s->gcmarkBytes[idx], memory_order_relaxed) != 0;
}
TC_INLINE void tc_mspan_set_marked(struct mspan *s, unsigned idx) {
    atomic_store_explicit(&s->gcmarkBytes[idx], 1, memory_order_relaxed);
}
/* Mark bytes of slots 64w..64w+63 as a bitmap word (bit k <-> slot 64w+k). */
TC_INLINE uint64_t tc_mspan_mark_word(const struct mspan *s, unsigned w) {
    uint64_t out = 0;
    for (unsigned k = 0; k < 8; k++) {
        uint64_t x;
        memcpy(&x, (const uint8_t *)s->gcmarkBytes + 64 * w + 8 * k, 8);
        out |= ((x * 0x0102040810204080ull) >> 56) << (8 * k); /* byte i -> bit i */
    }
    return out;
}

/* Slot index of address p in s; sets *exact to whether p is a slot start. */
TC_INLINE unsigned tc_mspan_index(const struct mspan *s, uintptr_t p, int *exact) {
    uintptr_t off = p - s->startAddr;
    unsigned idx = (unsigned)((off * s->divMul) >> 32);
    *exact = (uintptr_t)idx * s->elemsize == off;
    return idx;
}

/* A malloc'd span's in-bin bits: nwords words after its allocBits. */
TC_INLINE _Atomic uint64_t *tc_mspan_binbits(const struct mspan *s) {
    return s->allocBits + s->nwords;
}

TC_INLINE uint64_t tc_bits_load(_Atomic uint64_t *w) {
    return atomic_load_explicit(w, memory_order_relaxed);
}
TC_INLINE void tc_bits_store(_Atomic uint64_t *w, uint64_t v) {
    atomic_store_explicit(w, v, memory_order_relaxed);
}

/* Fast path (owner only): the next free slot's address (and its index in
 * *idx), or NULL when the cache window is used up. Promise: no lock, no
 * atomic read-modify-write, one branch. */
TC_INLINE void *tc_mspan_alloc_fast_idx(struct mspan *s, unsigned *idx) {
    uint64_t c = s->allocCache;
    if (TC_UNLIKELY(c == 0)) return NULL;
    unsigned b = (unsigned)__builtin_ctzll(c);
    unsigned r = s->freeindex + b;
    s->allocCache = (c >> b) >> 1;
    s->freeindex = (uint16_t)(r + 1);
    _Atomic uint64_t *w = &s->allocBits[r >> 6];
    tc_bits_store(w, tc_bits_load(w) | (1ull << (r & 63)));
    atomic_store_explicit(&s->xallocCount,
                          atomic_load_explicit(&s->xallocCount, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    *idx = r;
    return (void *)(s->startAddr + (uintptr_t)r * s->elemsize);
}
TC_INLINE void *tc_mspan_alloc_fast(struct mspan *s) {
    unsigned idx;
    return tc_mspan_alloc_fast_idx(s, &idx);
}

/* Owner only. Move the cache window to the next word with a free slot;
 * returns 0 when no slot at or after freeindex is free. */
TC_INTERNAL int tc_mspan_next_window(struct mspan *s);
/* Owner only. Restart the search at slot 0 (after a merge). */
TC_INTERNAL void tc_mspan_rewind(struct mspan *s);
/* Owner only. Free slot idx; returns 0 if it was not allocated. The freed
 * slot is the next one handed out when it lies behind the cursor (LIFO:
 * its memory is still in cache). Promise: no lock, no atomic RMW. */
TC_INLINE int tc_mspan_free_local(struct mspan *s, unsigned idx) {
    unsigned w = idx >> 6;
    uint64_t bit = 1ull << (idx & 63);
    uint64_t word = tc_bits_load(&s->allocBits[w]);
    if (TC_UNLIKELY(!(word & bit))) return 0;
    word &= ~bit;
    tc_bits_store(&s->allocBits[w], word);
    atomic_store_explicit(&s->xallocCount,
                          atomic_load_explicit(&s->xallocCount, memory_order_relaxed) - 1,
                          memory_order_relaxed);
    if (idx < s->freeindex) { /* behind the cursor: move it back (I3) */
        s->cacheword = (uint16_t)w;
        s->freeindex = (uint16_t)idx;
        s->allocCache = ~word >> (idx & 63);
    } else if (w == s->cacheword) { /* inside the window (I5) */
        s->allocCache |= 1ull << (idx - s->freeindex);
    }
    return 1;
}
/* Owner (or mcentral lock holder). Fold remote frees into allocBits;
 * returns how many slots were freed. */
TC_INTERNAL unsigned tc_mspan_merge_remote(struct mspan *s);

TC_INLINE uint32_t tc_mspan_count(const struct mspan *s) {
    return atomic_load_explicit(&((struct mspan *)s)->xallocCount, memory_order_relaxed);
}

/* After fork, for a span cached by a P whose thread is gone: that thread
 * may have stopped between any two stores of the fast paths above, so the
 * count and the cursor are derived again from allocBits (I1, I3..I5). A
 * slot it was taking or giving back is decided by its bit alone, and only
 * the dead thread knew that slot. */
TC_INTERNAL void tc_mspan_repair(struct mspan *s);

/* Check I1..I7; returns 1 when they hold. Owner or lock holder only. */
TC_INTERNAL int tc_mspan_verify(const struct mspan *s);

#endif
