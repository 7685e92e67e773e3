/* alloc/mheap.h: the page heap (Go's mheap) and the arena index.
 *
 * The heap hands out runs of 8 KiB pages as spans. Address space comes
 * from the OS in 64 MiB-aligned arenas; the arena index maps any address
 * to its arena's metadata in O(1), and the arena's page table maps a page
 * to its span. Every page of an in-use span points at the span; a free
 * span is reachable from its first and last page only (enough to coalesce
 * with neighbours), its interior pages are NULL.
 *
 * Locking: one lock, tc_mheap_.lock, guards the free bins, the page
 * tables, the counters and the span/bitmap fixallocs. It is a leaf lock:
 * nothing else is taken while it is held. Readers of the page table
 * (free, malloc_usable_size, later the marker) read entries with relaxed
 * atomic loads and must validate what they find (state, gen). */
#ifndef TC_ALLOC_MHEAP_H
#define TC_ALLOC_MHEAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/base.h"
#include "alloc/fixalloc.h"
#include "alloc/mspan.h"

#define TC_ARENA_SHIFT 26
#define TC_ARENA_BYTES ((uintptr_t)1 << TC_ARENA_SHIFT) /* 64 MiB */
#define TC_PAGES_PER_ARENA (TC_ARENA_BYTES / TC_PAGE_SIZE) /* 8192 */
#define TC_ARENA_ENTRIES ((uintptr_t)1 << (48 - TC_ARENA_SHIFT)) /* 2^22 */
#define TC_HEAP_BINS 128 /* free bins 1..127 exact, bin 0 for >= 128 pages */

/* allocBits words reserved per page: a span keeps its allocBits in the
 * slot of its first page (struct heaparena), and no span has more than
 * TC_MAX_OBJS_PER_SPAN slots. Twice that: a malloc'd span keeps its
 * in-bin bits right after its allocBits (tc_mspan_binbits). */
#define TC_BITWORDS_PER_PAGE (2 * TC_MAX_OBJS_PER_SPAN / 64)

/* What free() needs to know about a page without the span struct, in one
 * word (free loads it once):
 *   bits 0-15   the span's size class | (pages from the span's first page)
 *               << 8, if that span is in use, malloc'd, small
 *               (mspan.freeable) and within one arena, else 0; the heap
 *               (lock held) writes
 *   bits 16-31  p.ownid of the P owning the span (malloc'd small spans),
 *               else 0; the owning P writes, under its P lock
 * Each writer changes its half with a compare-and-swap (slow paths). */
#define TC_PI_CLASS(x) ((x) & 0xffffu)
#define TC_PI_OWNER(x) ((x) >> 16)
TC_INLINE void tc_pageinfo_set(_Atomic uint32_t *pi, uint32_t mask, uint32_t val) {
    uint32_t old = atomic_load_explicit(pi, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(pi, &old, (old & ~mask) | val,
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

struct heaparena {
    /* First, at offset 0 (free's fast path indexes it from the arena
     * pointer directly). With allocbits below and the class tables this
     * lets free() validate a pointer, and see that its P owns the span,
     * without the span struct: two dependent loads after the pointer
     * instead of four. */
    _Atomic uint32_t pageinfo[TC_PAGES_PER_ARENA];
    _Atomic(struct mspan *) spans[TC_PAGES_PER_ARENA]; /* page -> span */
    /* Every span's allocBits, at a place computable from its first page:
     * allocbits[TC_BITWORDS_PER_PAGE * first page ...]. 2 MiB of address
     * space per arena; a page's words are touched only when a span starts
     * there. Writers: as for mspan.allocBits. Page aligned at both ends
     * (the members above are whole pages), so a released run's slots go
     * back to the last page. */
    _Atomic uint64_t allocbits[TC_PAGES_PER_ARENA * TC_BITWORDS_PER_PAGE];
    /* page -> released to the OS: set only on free pages (their span's
     * nscav counts them), cleared when a span is cut from them; heap lock.
     * Per page, so a free span can be partly released and still coalesce
     * with its neighbours without losing track of which pages are. On a
     * page of its own: when every page of the arena is free and released,
     * it goes back to the OS too (alloc/mheap.c: scav_map). */
    uint64_t scav[TC_PAGES_PER_ARENA / 64];
    char scav_page_rest[4096 - TC_PAGES_PER_ARENA / 8];
};
_Static_assert(offsetof(struct heaparena, scav) % 4096 == 0, "scav starts a page");

struct mheap {
    pthread_mutex_t lock;
    uintptr_t arenaHint;            /* next address to try for an arena */
    struct mspan *free[TC_HEAP_BINS]; /* free spans by length; those with
                                       resident pages first, wholly
                                       released ones last */
    uint64_t freemask[TC_HEAP_BINS / 64]; /* bit n: free[n] non-empty */
    struct fixalloc spanalloc;      /* struct mspan */
    /* Bitmaps besides allocBits, by nwords: [0] malloc'd spans
     * (remoteBits), [1] collected spans (mark bytes); see mspan.h. */
    struct fixalloc bitsalloc[2][TC_MAX_OBJS_PER_SPAN / 64 + 1];
    struct fixalloc arenaalloc;     /* struct heaparena */
    uint64_t gen;                   /* last mspan.gen handed out */
    uint32_t *arenas;               /* every arena's index, in order of growth */
    size_t narenas, arenascap;      /* of arenas */
    /* Counters, in pages unless named otherwise; heap lock. */
    uint64_t pagesSys;      /* reserved from the OS */
    uint64_t pagesInUse;    /* in MSPAN_INUSE spans */
    uint64_t pagesInUseGC;  /* the part of pagesInUse in collected spans */
    uint64_t metaSys;       /* bytes mapped by the fixallocs above (atomic reads) */
    uint64_t metaReleased;  /* of those, not resident (fresh or given back) */
    uint64_t pagesFree;     /* in free (or busy) spans */
    uint64_t pagesReleased; /* part of pagesFree released to the OS */
    uint64_t pagesInUsePeak; /* highest pagesInUse since tc_mheap_inuse_peak
                                took it (heap lock writes; atomic) */
    uint64_t releasedTotal; /* bytes released to the OS since start */
    uint64_t pagesBusy;     /* free pages out of the bins while released (BUSY) */
};

TC_INTERNAL extern struct mheap tc_mheap_;
/* Bounds of all arenas, for the marker's quick "is it in the heap" test;
 * only grow; heap lock writes, anyone reads (relaxed). */
TC_INTERNAL extern uintptr_t tc_heap_lo, tc_heap_hi;
/* The arena index: 32 MiB of pointers in .bss, touched only where used. */
TC_INTERNAL extern _Atomic(struct heaparena *) tc_arenas_[TC_ARENA_ENTRIES];

TC_INTERNAL void tc_mheap_init(void);

/* The arena record holding address p, or NULL. */
TC_INLINE struct heaparena *tc_arenaof(uintptr_t p) {
    uintptr_t ai = p >> TC_ARENA_SHIFT;
    if (TC_UNLIKELY(ai >= TC_ARENA_ENTRIES)) return NULL;
    return atomic_load_explicit(&tc_arenas_[ai], memory_order_acquire);
}

/* p's page index within its arena record. */
TC_INLINE uintptr_t tc_arena_page(uintptr_t p) {
    return (p >> TC_PAGE_SHIFT) & (TC_PAGES_PER_ARENA - 1);
}

/* The allocBits of a span whose first page is page `first` of arena ha
 * (struct heaparena). */
TC_INLINE _Atomic uint64_t *tc_arena_allocbits(struct heaparena *ha, uintptr_t first) {
    return &ha->allocbits[first * TC_BITWORDS_PER_PAGE];
}

/* The span holding address p, or NULL. The result may be free or stale:
 * callers check state (and gen when racing with frees). */
TC_INLINE struct mspan *tc_spanof(uintptr_t p) {
    struct heaparena *ha = tc_arenaof(p);
    if (TC_UNLIKELY(!ha)) return NULL;
    return atomic_load_explicit(&ha->spans[tc_arena_page(p)], memory_order_acquire);
}

/* Whether p lies in memory the heap has reserved. */
TC_INLINE int tc_in_heap(uintptr_t p) {
    uintptr_t ai = p >> TC_ARENA_SHIFT;
    return ai < TC_ARENA_ENTRIES &&
           atomic_load_explicit(&tc_arenas_[ai], memory_order_relaxed) != NULL;
}

/* A new in-use span of npages for span class spc, its start aligned to
 * align_pages pages (a power of two; 1 for none), geometry and bitmaps set
 * up. NULL when the OS refuses memory. */
TC_INTERNAL struct mspan *tc_mheap_alloc(uintptr_t npages, unsigned spc,
                                         uintptr_t align_pages);
/* Heap growth is faulted in by batches of this many bytes (the essay in
 * alloc/mheap.c): one madvise per batch instead of a fault per page. */
#define TC_POPULATE_BYTES ((uintptr_t)1 << 20)
/* Nonzero when tc_mheap_alloc left this thread a batch of pages to fault
 * in (the start of the span it cut): call tc_mheap_populate outside any
 * region. */
TC_INTERNAL extern __thread uintptr_t tc_populate_lo;
/* Fault this thread's batch in and give its pages back to the bins as
 * free resident pages; the heap lock is taken after the system call. */
TC_INTERNAL void tc_mheap_populate(void);
/* Return an in-use span's pages to the heap. */
TC_INTERNAL void tc_mheap_free(struct mspan *s);
/* Grow a large span in place to npages if the pages after it are free.
 * Returns 1 on success. */
TC_INTERNAL int tc_mheap_grow_inplace(struct mspan *s, uintptr_t npages);
/* Release free pages to the OS until at most keep_bytes of free memory
 * stays resident; at most max_bytes in this call. Resident pages at the
 * top of the largest free spans go first. Returns the bytes released. */
TC_INTERNAL size_t tc_mheap_release(uint64_t keep_bytes, uint64_t max_bytes);
/* Whether the scavenger's targets (scavenge.h) leave anything to release. */
TC_INTERNAL int tc_mheap_excess(void);
/* The same for what the scavenger's targets do not allow (scavenge.h). */
TC_INTERNAL size_t tc_mheap_release_excess(uint64_t max_bytes);
/* All of it, at once, and the metadata's free units with it
 * (gc_release_memory, malloc_trim). */
TC_INTERNAL size_t tc_mheap_scavenge(uint64_t keep_bytes);
/* Heap lock held: bytes in spans in use, and in free resident pages. */
TC_INTERNAL void tc_mheap_resident_locked(uint64_t *inuse, uint64_t *free_resident);

/* Bytes mapped and not released (heap pages in use or free and resident,
 * plus the heap's metadata), of those the free heap pages, and the pages
 * of collected spans in use (bytes). Racy reads without the heap lock: an
 * estimate, safe while the world is stopped (the pacer's memory limit). */
TC_INTERNAL void tc_mheap_usage(uint64_t *mapped, uint64_t *free_resident, uint64_t *gc_inuse);
/* The most bytes in spans in use at once since the last call (racy, as
 * tc_mheap_usage); the next period starts from what is in use now. */
TC_INTERNAL uint64_t tc_mheap_inuse_peak(void);
/* The heap's metadata bytes (span structs, bitmaps, arena records)
 * mapped; heap lock held. */
TC_INTERNAL uint64_t tc_mheap_metadata_locked(void);
/* The part of it not released (racy read). */
TC_INTERNAL uint64_t tc_mheap_metadata_resident(void);
/* Give the span structs' and bitmaps' wholly free 4 KiB units back to the
 * OS (alloc/fixalloc.h); returns the bytes. Inside a region. */
TC_INTERNAL size_t tc_mheap_release_metadata(void);

/* Lock and unlock for fork(). */
TC_INTERNAL void tc_mheap_lock_all(void);
TC_INTERNAL void tc_mheap_unlock_all(void);

/* Walk every span and check the heap's invariants (bins hold free spans of
 * the right length, neighbours are coalesced, no free page has a freeclass
 * entry, counters add up). */
TC_INTERNAL int tc_mheap_verify(void);

#endif
