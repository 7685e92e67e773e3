/* alloc/mheap.c: the page heap, its free bins and the scavenger.
 *
 * Free spans live in 128 bins: bin n (1..127) holds spans of exactly n
 * pages, bin 0 every span of 128 pages or more. A bitmask of non-empty
 * bins makes "smallest bin with at least n pages" two count-trailing-zero
 * instructions, so small requests never walk a list; large requests walk
 * bin 0 for the best fit. Freed spans coalesce with free neighbours at
 * once, found through the page table, so free memory is always held in
 * maximal runs. (Go's radix-tree page allocator solves the same problem
 * for a 1000-way concurrent heap; for a C heap whose hot paths stay in the
 * mcache this simpler structure is enough and easy to verify.)
 *
 * Scavenging. Each bin keeps its dirty (resident) spans at the front and
 * its scavenged ones at the back, so allocation reuses resident memory
 * first and the scavenger finds dirty spans by looking at list heads.
 * When the dirty free memory exceeds the retention limit (64 MiB or a
 * quarter of the in-use heap, whichever is larger), spans are released to
 * the OS, largest first, until half the limit remains. A smaller limit
 * was measured: a vector growing by realloc then faulted every page of
 * every new buffer back in (hundreds of thousands of minor faults, 10x
 * slower than glibc); jemalloc keeps dirty pages for seconds for the same
 * reason. gc_release_memory() and malloc_trim(0) release everything. The madvise call
 * itself runs without the heap lock: the span is parked in state BUSY, so
 * neighbours freed meanwhile do not coalesce into it. A released span's
 * allocBits slots (struct heaparena) go back with it.
 *
 * Accounting: free-span pages that are scavenged count as released; a
 * dirty span coalescing with a scavenged one makes the whole run dirty
 * (releasing it again later costs one madvise over some cold pages).
 * Fresh arenas count as released (Go's HeapReleased does the same). */
#include "alloc/mheap.h"

#include <string.h>

#include "alloc/os.h"
#include "alloc/region.h"
#include "alloc/report.h"

struct mheap tc_mheap_ = {
    /* Adaptive: held for short list operations, so a waiter spins a little
     * before sleeping (sleeping and waking cost more than the section). */
    .lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP,
    .arenaHint = (uintptr_t)0x00c0 << 32,
};
_Atomic(struct heaparena *) tc_arenas_[TC_ARENA_ENTRIES];
uintptr_t tc_heap_lo, tc_heap_hi;

#define H (&tc_mheap_)

/* The heap lock is only ever held inside a region (alloc/region.h). */
static void heap_lock(void) {
    tc_region_begin();
    pthread_mutex_lock(&H->lock);
}
static void heap_unlock(void) {
    pthread_mutex_unlock(&H->lock);
    tc_region_end();
}
#define RETAIN_MIN ((uint64_t)64 << 20)

void tc_mheap_init(void) {
    tc_fixalloc_init(&H->spanalloc, sizeof(struct mspan));
    tc_fixalloc_init(&H->arenaalloc, sizeof(struct heaparena));
    for (unsigned n = 1; n <= TC_MAX_OBJS_PER_SPAN / 64; n++) {
        tc_fixalloc_init(&H->bitsalloc[0][n], tc_mspan_auxwords(tc_spanclass(1, SPAN_MANUAL), n) * 8);
        tc_fixalloc_init(&H->bitsalloc[1][n], tc_mspan_auxwords(tc_spanclass(1, SPAN_SCAN), n) * 8);
    }
}

/* ---- page table ---- */

static void set_page(uintptr_t addr, struct mspan *s) {
    struct heaparena *ha = atomic_load_explicit(&tc_arenas_[addr >> TC_ARENA_SHIFT],
                                                memory_order_relaxed);
    atomic_store_explicit(&ha->spans[(addr >> TC_PAGE_SHIFT) & (TC_PAGES_PER_ARENA - 1)], s,
                          memory_order_release);
}

static uintptr_t span_end(const struct mspan *s) {
    return s->startAddr + s->npages * TC_PAGE_SIZE;
}

/* A free span is reachable from its first and last page only. */
static void set_free_ends(struct mspan *s) {
    set_page(s->startAddr, s);
    set_page(span_end(s) - TC_PAGE_SIZE, s);
}

static void set_all_pages(struct mspan *s, struct mspan *v) {
    for (uintptr_t a = s->startAddr; a < span_end(s); a += TC_PAGE_SIZE) set_page(a, v);
}

/* The freeclass entries of every page of s (see struct heaparena): size
 * class sc and the page's distance from the first, or 0 for sc == 0. */
static void set_freeclass(struct mspan *s, unsigned sc) {
    uint16_t off = 0;
    for (uintptr_t a = s->startAddr; a < span_end(s); a += TC_PAGE_SIZE, off += 0x100)
        atomic_store_explicit(&tc_arenaof(a)->freeclass[tc_arena_page(a)],
                              sc ? (uint16_t)(sc | off) : 0, memory_order_relaxed);
}

/* Where a span starting at page address a keeps its allocBits. */
static _Atomic uint64_t *allocbits_of(uintptr_t a) {
    return tc_arena_allocbits(tc_arenaof(a), tc_arena_page(a));
}

/* Give back the allocBits slots of free span s's pages along with the
 * pages (the whole OS pages among them; a span as short as 32 pages covers
 * one): without this, a heap that grew to a peak of small spans keeps 1/64
 * of that peak resident in bits nobody reads. Reuse reads them as zero,
 * and tc_mspan_init clears them anyway. */
static void release_allocbits(struct mspan *s) {
    for (uintptr_t a = s->startAddr, end; a < span_end(s); a = end) {
        uintptr_t arena_end = (a | (TC_ARENA_BYTES - 1)) + 1;
        end = span_end(s) < arena_end ? span_end(s) : arena_end;
        tc_os_release_inner((void *)allocbits_of(a),
                            (end - a) / TC_PAGE_SIZE * TC_BITWORDS_PER_PAGE * 8);
    }
}

/* ---- bins: circular doubly linked lists ---- */

static unsigned bin_of(uintptr_t npages) {
    return npages < TC_HEAP_BINS ? (unsigned)npages : 0;
}

static void bin_insert(struct mspan *s) {
    unsigned b = bin_of(s->npages);
    struct mspan *first = H->free[b];
    if (!first) {
        s->next = s->prev = s;
        H->free[b] = s;
        H->freemask[b / 64] |= 1ull << (b % 64);
        return;
    }
    s->next = first;
    s->prev = first->prev;
    first->prev->next = s;
    first->prev = s;
    if (!s->scavenged) H->free[b] = s; /* dirty spans go to the front */
}

static void bin_remove(struct mspan *s) {
    unsigned b = bin_of(s->npages);
    if (s->next == s) {
        H->free[b] = NULL;
        H->freemask[b / 64] &= ~(1ull << (b % 64));
    } else {
        s->prev->next = s->next;
        s->next->prev = s->prev;
        if (H->free[b] == s) H->free[b] = s->next;
    }
    s->next = s->prev = NULL;
}

/* The free span to carve npages from: the smallest exact bin that fits,
 * else the best fit in bin 0. */
static struct mspan *find_fit(uintptr_t npages) {
    for (unsigned w = (unsigned)(npages < TC_HEAP_BINS ? npages / 64 : 2); w < 2; w++) {
        uint64_t m = H->freemask[w];
        if (w == npages / 64) m &= ~0ull << (npages % 64);
        if (w == 0) m &= ~1ull;
        if (m) return H->free[w * 64 + (unsigned)__builtin_ctzll(m)];
    }
    struct mspan *best = NULL, *first = H->free[0];
    if (first) {
        struct mspan *s = first;
        do {
            if (s->npages >= npages && (!best || s->npages < best->npages)) best = s;
            s = s->next;
        } while (s != first);
    }
    return best;
}

/* ---- coalescing insert ---- */

/* Fold free neighbour b into a (a lies just below b); frees b's struct. */
static void merge_into(struct mspan *a, struct mspan *b) {
    if (a->scavenged != b->scavenged) /* the run becomes dirty */
        H->pagesReleased -= a->scavenged ? a->npages : b->npages;
    a->scavenged &= b->scavenged;
    a->needzero |= b->needzero;
    if (a->npages > 1) set_page(span_end(a) - TC_PAGE_SIZE, NULL);
    if (b->npages > 1) set_page(b->startAddr, NULL);
    a->npages += b->npages;
    b->state = MSPAN_DEAD;
    tc_fixalloc_free(&H->spanalloc, b);
}

static struct mspan *free_neighbour(uintptr_t addr) {
    if (!tc_in_heap(addr)) return NULL;
    struct mspan *n = tc_spanof(addr);
    return n && n->state == MSPAN_FREE ? n : NULL;
}

/* Insert free span s into the bins, merged with free neighbours. */
static void insert_free(struct mspan *s) {
    s->state = MSPAN_FREE;
    struct mspan *left = free_neighbour(s->startAddr - TC_PAGE_SIZE);
    if (left) {
        bin_remove(left);
        merge_into(left, s);
        s = left;
    }
    struct mspan *right = free_neighbour(span_end(s));
    if (right) {
        bin_remove(right);
        merge_into(s, right);
    }
    set_free_ends(s);
    bin_insert(s);
}

/* ---- growth ---- */

static int grow(uintptr_t npages) {
    uintptr_t size = TC_ALIGN_UP(npages * TC_PAGE_SIZE, TC_ARENA_BYTES);
    if (size / TC_PAGE_SIZE < npages) return 0;
    char *p = tc_os_reserve(size, TC_ARENA_BYTES, H->arenaHint);
    if (!p) return 0;
    if (((uintptr_t)p + size - 1) >> 48) return 0; /* outside the index */
    for (uintptr_t a = (uintptr_t)p; a < (uintptr_t)p + size; a += TC_ARENA_BYTES) {
        struct heaparena *ha = tc_fixalloc_alloc(&H->arenaalloc);
        if (!ha) return 0;
        atomic_store_explicit(&tc_arenas_[a >> TC_ARENA_SHIFT], ha, memory_order_release);
    }
    H->arenaHint = (uintptr_t)p + size;
    if (!tc_heap_lo || (uintptr_t)p < tc_heap_lo) __atomic_store_n(&tc_heap_lo, (uintptr_t)p, __ATOMIC_RELAXED);
    if ((uintptr_t)p + size > tc_heap_hi) __atomic_store_n(&tc_heap_hi, (uintptr_t)p + size, __ATOMIC_RELAXED);
    struct mspan *s = tc_fixalloc_alloc(&H->spanalloc);
    if (!s) return 0;
    s->startAddr = (uintptr_t)p;
    s->npages = size / TC_PAGE_SIZE;
    s->scavenged = 1; /* fresh from mmap: not resident, reads as zero */
    H->pagesSys += s->npages;
    H->pagesFree += s->npages;
    H->pagesReleased += s->npages;
    insert_free(s);
    return 1;
}

/* ---- allocation ---- */

/* Cut [start, start + npages pages) out of free span f (already out of the
 * bins); the pieces before and after go back as free spans. */
static struct mspan *carve(struct mspan *f, uintptr_t start, uintptr_t npages) {
    uintptr_t end = start + npages * TC_PAGE_SIZE, fend = span_end(f);
    struct mspan *s = f;
    if (start > f->startAddr) { /* f keeps the head */
        s = tc_fixalloc_alloc(&H->spanalloc);
        if (!s) return NULL;
        f->npages = (start - f->startAddr) / TC_PAGE_SIZE;
        set_free_ends(f);
        bin_insert(f);
        s->scavenged = f->scavenged;
        s->needzero = f->needzero;
    }
    if (end < fend) {
        struct mspan *t = tc_fixalloc_alloc(&H->spanalloc);
        if (!t) return NULL; /* the head went back; the tail leaks: OS is out of memory anyway */
        t->startAddr = end;
        t->npages = (fend - end) / TC_PAGE_SIZE;
        t->scavenged = s->scavenged;
        t->needzero = s->needzero;
        t->state = MSPAN_FREE;
        set_free_ends(t);
        bin_insert(t);
    }
    s->startAddr = start;
    s->npages = npages;
    H->pagesFree -= npages;
    H->pagesInUse += npages;
    if (s->scavenged) H->pagesReleased -= npages;
    s->scavenged = 0;
    set_all_pages(s, s);
    return s;
}

static struct fixalloc *bits_family(unsigned spc, unsigned nwords) {
    return &H->bitsalloc[tc_spanclass_kind(spc) != SPAN_MANUAL][nwords];
}

struct mspan *tc_mheap_alloc(uintptr_t npages, unsigned spc, uintptr_t align_pages) {
    uintptr_t want = npages + align_pages - 1;
    if (want < npages) return NULL;
    unsigned nwords = tc_mspan_nwords(spc, npages);
    struct fixalloc *ba = bits_family(spc, nwords);
    heap_lock();
    struct mspan *f = find_fit(want);
    if (!f && grow(want)) f = find_fit(want);
    struct mspan *s = NULL;
    _Atomic uint64_t *bits = f ? tc_fixalloc_alloc(ba) : NULL;
    if (bits) {
        bin_remove(f);
        uintptr_t start = TC_ALIGN_UP(f->startAddr, align_pages * TC_PAGE_SIZE);
        s = carve(f, start, npages);
    }
    if (s) {
        __atomic_store_n(&s->gen, ++H->gen, __ATOMIC_RELAXED);
        tc_mspan_init(s, spc, allocbits_of(s->startAddr), bits);
        s->freeable = tc_spanclass_kind(spc) == SPAN_MANUAL && tc_spanclass_sizeclass(spc) != 0;
        if (s->freeable) set_freeclass(s, tc_spanclass_sizeclass(spc));
        s->state = MSPAN_INUSE;
    } else if (bits) {
        tc_fixalloc_free(ba, bits);
    }
    heap_unlock();
    return s;
}

/* ---- freeing and scavenging ---- */

static uint64_t dirty_bytes(void) {
    return (H->pagesFree - H->pagesReleased) * TC_PAGE_SIZE;
}

/* The largest dirty free span, or NULL. Dirty spans head their bins. */
static struct mspan *largest_dirty(void) {
    if (H->free[0] && !H->free[0]->scavenged) return H->free[0];
    for (unsigned b = TC_HEAP_BINS - 1; b > 0; b--)
        if (H->free[b] && !H->free[b]->scavenged) return H->free[b];
    return NULL;
}

/* Heap lock held; drops it around each madvise. */
static size_t scavenge_locked(uint64_t keep_bytes) {
    size_t released = 0;
    struct mspan *s;
    while (dirty_bytes() > keep_bytes && (s = largest_dirty()) != NULL) {
        bin_remove(s);
        s->state = MSPAN_BUSY;
        pthread_mutex_unlock(&H->lock); /* still in the caller's region */
        tc_os_release((void *)s->startAddr, s->npages * TC_PAGE_SIZE);
        release_allocbits(s);
        pthread_mutex_lock(&H->lock);
        s->scavenged = 1;
        s->needzero = 0; /* MADV_DONTNEED pages read back as zero */
        H->pagesReleased += s->npages;
        released += s->npages * TC_PAGE_SIZE;
        insert_free(s);
    }
    H->releasedTotal += released;
    return released;
}

static uint64_t retain_limit(void) {
    uint64_t inuse = H->pagesInUse * TC_PAGE_SIZE / 4;
    return inuse > RETAIN_MIN ? inuse : RETAIN_MIN;
}

void tc_mheap_free(struct mspan *s) {
    heap_lock();
    TC_ASSERT(s->state == MSPAN_INUSE);
    if (s->freeable) set_freeclass(s, 0);
    s->freeable = 0;
    tc_fixalloc_free(bits_family(s->spanclass, s->nwords), (void *)s->remoteBits);
    s->allocBits = s->remoteBits = NULL;
    __atomic_store_n(&s->gen, ++H->gen, __ATOMIC_RELAXED); /* stale users notice */
    H->pagesInUse -= s->npages;
    H->pagesFree += s->npages;
    s->needzero = 1;
    s->scavenged = 0;
    if (s->npages > 2) set_all_pages(s, NULL);
    insert_free(s);
    uint64_t limit = retain_limit();
    if (dirty_bytes() > limit) scavenge_locked(limit / 2);
    heap_unlock();
}

size_t tc_mheap_scavenge(uint64_t keep_bytes) {
    heap_lock();
    size_t n = scavenge_locked(keep_bytes);
    heap_unlock();
    return n;
}

int tc_mheap_grow_inplace(struct mspan *s, uintptr_t npages) {
    int ok = 0;
    heap_lock();
    uintptr_t extra = npages - s->npages;
    struct mspan *r = free_neighbour(span_end(s));
    if (r && r->npages >= extra) {
        bin_remove(r);
        uintptr_t from = span_end(s);
        if (r->scavenged) H->pagesReleased -= extra;
        if (r->npages == extra) {
            r->state = MSPAN_DEAD;
            tc_fixalloc_free(&H->spanalloc, r);
        } else {
            if (r->npages > 1) set_page(r->startAddr, NULL);
            r->startAddr += extra * TC_PAGE_SIZE;
            r->npages -= extra;
            set_free_ends(r);
            bin_insert(r);
        }
        s->npages = npages;
        s->elemsize = npages * TC_PAGE_SIZE;
        s->limit = s->startAddr + s->elemsize;
        s->needzero = 1;
        H->pagesFree -= extra;
        H->pagesInUse += extra;
        for (uintptr_t a = from; a < span_end(s); a += TC_PAGE_SIZE) set_page(a, s);
        ok = 1;
    }
    heap_unlock();
    return ok;
}

#define RACY(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static uint64_t metadata_racy(void) {
    uint64_t m = RACY(H->spanalloc.sys) + RACY(H->arenaalloc.sys);
    for (size_t i = 1; i <= TC_MAX_OBJS_PER_SPAN / 64; i++)
        m += RACY(H->bitsalloc[0][i].sys) + RACY(H->bitsalloc[1][i].sys);
    return m;
}

uint64_t tc_mheap_metadata_locked(void) { return metadata_racy(); }

void tc_mheap_usage(uint64_t *mapped, uint64_t *free_resident) {
    uint64_t sys = RACY(H->pagesSys), fr = RACY(H->pagesFree), rel = RACY(H->pagesReleased);
    rel = rel < fr ? rel : fr;
    *free_resident = (fr - rel) * TC_PAGE_SIZE;
    *mapped = (sys > rel ? sys - rel : 0) * TC_PAGE_SIZE + metadata_racy();
}

void tc_mheap_lock_all(void) { pthread_mutex_lock(&H->lock); }
void tc_mheap_unlock_all(void) { pthread_mutex_unlock(&H->lock); }
void tc_mheap_reinit_locks(void) {
    pthread_mutex_t fresh = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
    H->lock = fresh;
}

int tc_mheap_verify(void) {
    heap_lock();
    uint64_t pages = 0, released = 0;
    int ok = 1;
    for (unsigned b = 0; b < TC_HEAP_BINS && ok; b++) {
        struct mspan *first = H->free[b], *s = first;
        if (!!first != !!(H->freemask[b / 64] >> (b % 64) & 1)) ok = 0;
        if (!first) continue;
        int seen_scavenged = 0;
        do {
            if (s->state != MSPAN_FREE || bin_of(s->npages) != b) ok = 0;
            if (tc_spanof(s->startAddr) != s ||
                tc_spanof(span_end(s) - TC_PAGE_SIZE) != s) ok = 0;
            if (free_neighbour(s->startAddr - TC_PAGE_SIZE) ||
                free_neighbour(span_end(s))) ok = 0; /* not coalesced */
            for (uintptr_t a = s->startAddr; a < span_end(s); a += TC_PAGE_SIZE)
                if (atomic_load_explicit(&tc_arenaof(a)->freeclass[tc_arena_page(a)],
                                         memory_order_relaxed))
                    ok = 0; /* free() would take a slot of a free span */
            if (seen_scavenged && !s->scavenged) ok = 0; /* dirty first */
            seen_scavenged |= s->scavenged;
            pages += s->npages;
            if (s->scavenged) released += s->npages;
            s = s->next;
        } while (s != first && ok);
    }
    if (pages != H->pagesFree || released != H->pagesReleased) ok = 0;
    if (H->pagesFree + H->pagesInUse != H->pagesSys) ok = 0;
    heap_unlock();
    return ok;
}
