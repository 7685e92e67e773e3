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
 * Released pages. Each free page that went back to the OS has a bit in
 * its arena's scav map and counts in its span's nscav, so a span may be
 * partly released and still coalesce freely: merging adds the counts,
 * cutting a span counts the bits of each piece. Bins keep the spans with
 * resident pages at the front, so allocation reuses resident memory first
 * and the scavenger finds them by looking at list heads. A span cut from
 * wholly released pages needs no zeroing (they read back as zero), and
 * fresh arenas count as released (Go's HeapReleased does the same).
 *
 * Releasing (tc_mheap_release) is asked for by the background scavenger
 * (alloc/scavenge.c, which decides how much and how fast) or all at once
 * by gc_release_memory() and malloc_trim(0); freeing a span never
 * releases anything itself, it only wakes the scavenger. It takes the
 * highest run of resident pages of the largest span that has any, cuts
 * it out as a BUSY span (so neighbours freed meanwhile do not coalesce
 * into it), and makes the madvise call without the heap lock; the run's
 * allocBits slots and the page-table and pageinfo entries between its ends
 * (struct heaparena) go back with it. The span structs and bitmaps of the
 * spans that held those pages sit on fixalloc free lists; their wholly
 * free 4 KiB units go back when the scavenger ends a burst and on
 * gc_release_memory (tc_mheap_release_metadata).
 *
 * Populating ahead. A collected heap grows toward its goal in small spans,
 * and each first write to a released page is a page fault on whichever
 * allocation touches it: one in four of a 1 KiB class's allocations while
 * the heap grows. So when a collected span is cut from released pages, the
 * released pages just above it, up to TC_POPULATE_BYTES with the span, are
 * cut out as a BUSY run (no coalescing, no scavenging while out of the
 * bins) and faulted in with one madvise(MADV_POPULATE_WRITE) by the
 * allocating thread after it leaves its region (a stop never waits for it),
 * then go back as free resident pages, which the next spans are cut from.
 * The metadata those spans will write comes with them: their allocBits
 * slots and page-table entries, and enough fixalloc units for their span
 * structs and bitmaps, taken aside meanwhile (alloc/fixalloc.h).
 * One allocation in a batch pays for the batch, the others pay nothing; on
 * kernels without the call the pages fault in when touched, as before. */
#include "alloc/mheap.h"

#include <string.h>
#include <time.h>

#include "alloc/lockrank.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/region.h"
#include "alloc/report.h"
#include "alloc/scavenge.h"

struct mheap tc_mheap_ = {
    /* Adaptive: held for short list operations, so a waiter spins a little
     * before sleeping (sleeping and waking cost more than the section). */
    .lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP,
    .arenaHint = (uintptr_t)0x00c0 << 32,
};
_Atomic(struct heaparena *) tc_arenas_[TC_ARENA_ENTRIES];
uintptr_t tc_heap_lo, tc_heap_hi;

#define H (&tc_mheap_)
#define RACY(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
/* A write, under the heap lock, of a count that RACY reads without it. */
#define RACY_ADD(x, d) __atomic_store_n(&(x), (x) + (d), __ATOMIC_RELAXED)
#define RACY_SUB(x, d) __atomic_store_n(&(x), (x) - (d), __ATOMIC_RELAXED)

/* The heap lock is only ever held inside a region (alloc/region.h). */
static void heap_lock(void) { tc_region_lock(&H->lock, LOCKRANK_HEAP); }
static void heap_unlock(void) { tc_region_unlock(&H->lock, LOCKRANK_HEAP); }

void tc_mheap_init(void) {
    tc_fixalloc_init(&H->spanalloc, sizeof(struct mspan));
    tc_fixalloc_init(&H->arenaalloc, sizeof(struct heaparena));
    /* A malloc'd span's remoteBits take whole cache lines (4 KiB units
     * cut in 64-byte multiples stay line aligned): remote freers write
     * them with atomic ORs and their owner exchanges them, so two spans'
     * words in one line would bounce it between threads that share
     * neither span. */
    for (unsigned n = 1; n <= TC_MAX_OBJS_PER_SPAN / 64; n++) {
        tc_fixalloc_init(&H->bitsalloc[0][n],
                         TC_ALIGN_UP(tc_mspan_auxwords(tc_spanclass(1, SPAN_MANUAL), n) * 8, 64));
        tc_fixalloc_init(&H->bitsalloc[1][n], tc_mspan_auxwords(tc_spanclass(1, SPAN_SCAN), n) * 8);
    }
}

/* Heap lock held: f's mapped and released bytes moved from sys0, rel0;
 * keep the totals (read racily by tc_mheap_usage). */
static void meta_account(const struct fixalloc *f, uint64_t sys0, uint64_t rel0) {
    if (f->sys != sys0) __atomic_store_n(&H->metaSys, H->metaSys + (f->sys - sys0), __ATOMIC_RELAXED);
    if (f->released != rel0)
        __atomic_store_n(&H->metaReleased, H->metaReleased + (f->released - rel0), __ATOMIC_RELAXED);
}

/* A block of one of the heap's fixallocs (heap lock held). */
static void *meta_alloc(struct fixalloc *f) {
    uint64_t sys0 = f->sys, rel0 = f->released;
    void *p = tc_fixalloc_alloc(f);
    meta_account(f, sys0, rel0);
    return p;
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
 * class sc and the page's distance from the first, or 0 for sc == 0. A
 * span crossing into the next arena gets 0 on every page, so a non-zero
 * entry always has its first page in the same arena (free's fast path
 * relies on that before it knows the owner); tc_classify serves it. */
static void set_freeclass(struct mspan *s, unsigned sc) {
    uint16_t off = 0;
    if ((s->startAddr ^ (span_end(s) - 1)) >> TC_ARENA_SHIFT) sc = 0;
    for (uintptr_t a = s->startAddr; a < span_end(s); a += TC_PAGE_SIZE, off += 0x100)
        tc_pageinfo_set(&tc_arenaof(a)->pageinfo[tc_arena_page(a)], 0xffff, sc ? sc | off : 0);
}

/* Where a span starting at page address a keeps its allocBits. */
static _Atomic uint64_t *allocbits_of(uintptr_t a) {
    return tc_arena_allocbits(tc_arenaof(a), tc_arena_page(a));
}

/* Give back the arena records' parts for released pages [lo, hi) (a
 * free span, BUSY) along with the pages, the whole OS pages among them:
 * allocBits slots (a run as short as 32 pages covers one), and the page
 * table and pageinfo entries of the pages between its first and last,
 * which are NULL and 0 in a free span (the ends point at it). Without
 * this, a heap that grew to a peak of small spans keeps a few percent of
 * that peak resident in entries nobody reads. Reuse reads them as zero,
 * which is what they held, and tc_mspan_init clears allocBits anyway. */
static void release_arena_meta(uintptr_t lo, uintptr_t hi) {
    for (uintptr_t a = lo, end; a < hi; a = end) {
        uintptr_t arena_end = (a | (TC_ARENA_BYTES - 1)) + 1;
        end = hi < arena_end ? hi : arena_end;
        tc_os_release_inner((void *)allocbits_of(a),
                            (end - a) / TC_PAGE_SIZE * TC_BITWORDS_PER_PAGE * 8);
        uintptr_t first = a > lo ? a : lo + TC_PAGE_SIZE, last = end < hi ? end : hi - TC_PAGE_SIZE;
        if (last <= first) continue;
        struct heaparena *ha = tc_arenaof(a);
        uintptr_t i = tc_arena_page(first), n = (last - first) / TC_PAGE_SIZE;
        tc_os_release_inner((void *)&ha->spans[i], n * sizeof ha->spans[0]);
        tc_os_release_inner((void *)&ha->pageinfo[i], n * sizeof ha->pageinfo[0]);
    }
}

static void drop_scav_pages(void);

/* Give the heap's fixallocs' wholly free units back to the OS (heap lock
 * held, dropped around each madvise: the units are off every list
 * meanwhile), and the released-page maps of wholly released arenas.
 * Returns the bytes. */
static size_t release_metadata_locked(void) {
    size_t total = 0;
    drop_scav_pages();
    struct fixalloc *all[1 + 2 * (TC_MAX_OBJS_PER_SPAN / 64)];
    unsigned nf = 0;
    all[nf++] = &H->spanalloc;
    for (unsigned k = 0; k < 2; k++)
        for (unsigned n = 1; n <= TC_MAX_OBJS_PER_SPAN / 64; n++) all[nf++] = &H->bitsalloc[k][n];
    for (unsigned i = 0; i < nf; i++) {
        struct fixrun runs[32];
        unsigned n;
        do {
            n = tc_fixalloc_release_take(all[i], runs, 32);
            if (!n) break;
            tc_unlock(&H->lock, LOCKRANK_HEAP); /* still in the caller's region */
            for (unsigned r = 0; r < n; r++) {
                tc_os_release(tc_fixrun_addr(&runs[r]), runs[r].n * TC_FIXUNIT);
                total += runs[r].n * TC_FIXUNIT;
            }
            tc_lock(&H->lock, LOCKRANK_HEAP);
            uint64_t sys0 = all[i]->sys, rel0 = all[i]->released;
            tc_fixalloc_release_done(all[i], runs, n);
            meta_account(all[i], sys0, rel0);
        } while (n == 32);
    }
    return total;
}

size_t tc_mheap_release_metadata(void) {
    heap_lock();
    size_t n = release_metadata_locked();
    heap_unlock();
    return n;
}

/* ---- released-page bits ---- */

/* Arenas whose scav page went back to the OS (bit: arena index), which
 * means every bit of it is set: all pages free and released. A fresh
 * arena starts that way, untouched. Heap lock; in .bss, touched only
 * where arenas are. */
static uint64_t scav_dropped[TC_ARENA_ENTRIES / 64];

static int scav_is_dropped(uintptr_t a) {
    uintptr_t ai = a >> TC_ARENA_SHIFT;
    return (int)(scav_dropped[ai / 64] >> (ai % 64) & 1);
}

/* The scav words of a's arena, made resident again (all set) if dropped. */
static uint64_t *scav_map(uintptr_t a) {
    struct heaparena *ha = tc_arenaof(a);
    if (TC_UNLIKELY(scav_is_dropped(a))) {
        uintptr_t ai = a >> TC_ARENA_SHIFT;
        memset(ha->scav, 0xff, sizeof ha->scav);
        scav_dropped[ai / 64] &= ~(1ull << (ai % 64));
    }
    return ha->scav;
}

/* Heap lock held: give back the scav page of every arena whose pages are
 * all free and released (it would read back as all clear, so it is marked
 * dropped instead). The madvise is made with the lock held: the words are
 * written under it. */
static void drop_scav_pages(void) {
    for (size_t i = 0; i < H->narenas; i++) {
        uintptr_t a = (uintptr_t)H->arenas[i] << TC_ARENA_SHIFT;
        struct heaparena *ha = tc_arenaof(a);
        if (scav_is_dropped(a)) continue;
        uint64_t all = ~0ull;
        for (unsigned w = 0; w < TC_PAGES_PER_ARENA / 64; w++) all &= ha->scav[w];
        if (all != ~0ull) continue;
        tc_os_release(ha->scav, 4096);
        uintptr_t ai = a >> TC_ARENA_SHIFT;
        scav_dropped[ai / 64] |= 1ull << (ai % 64);
    }
}

/* Call fn(word, mask) for the scav words covering pages [a, a + n pages). */
#define SCAV_EACH(a, n, word, mask, body)                                                     \
    for (uintptr_t pg_ = (a), end_ = (a) + (n) * TC_PAGE_SIZE; pg_ < end_;) {                  \
        uintptr_t i_ = tc_arena_page(pg_), k_ = (end_ - pg_) / TC_PAGE_SIZE;                   \
        if (k_ > 64 - i_ % 64) k_ = 64 - i_ % 64;                                             \
        uint64_t *word = &scav_map(pg_)[i_ / 64];                                            \
        uint64_t mask = (k_ == 64 ? ~0ull : ((1ull << k_) - 1)) << (i_ % 64);                 \
        body;                                                                                \
        pg_ += k_ * TC_PAGE_SIZE;                                                            \
    }

static uintptr_t scav_count(uintptr_t a, uintptr_t n) {
    uintptr_t c = 0;
    SCAV_EACH(a, n, w, m, c += (uintptr_t)__builtin_popcountll(*w & m));
    return c;
}

static void scav_mark(uintptr_t a, uintptr_t n, int released) {
    SCAV_EACH(a, n, w, m, *w = released ? *w | m : *w & ~m);
}

static int page_released(uintptr_t a) {
    return (int)(scav_map(a)[tc_arena_page(a) / 64] >> (tc_arena_page(a) % 64) & 1);
}

/* Released pages among the first n of free span s (all or none are the
 * common cases: no bits to count). */
static uintptr_t nscav_of(const struct mspan *s, uintptr_t a, uintptr_t n) {
    if (s->nscav == 0) return 0;
    if (s->nscav == s->npages) return n;
    return scav_count(a, n);
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
    if (s->nscav < s->npages) H->free[b] = s; /* with resident pages: to the front */
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

static int has_resident(const struct mspan *s) { return s->nscav < s->npages; }

/* The free span to carve npages from: the smallest exact bin that fits
 * whose first span has resident pages, else the best fit in bin 0 among
 * spans with resident pages; only then released memory, by the same
 * order. Taking released pages while resident ones sit free faults in
 * pages that the scavenger then releases again. */
static struct mspan *find_fit(uintptr_t npages) {
    struct mspan *cold = NULL;
    for (unsigned w = (unsigned)(npages < TC_HEAP_BINS ? npages / 64 : 2); w < 2; w++) {
        uint64_t m = H->freemask[w];
        if (w == npages / 64) m &= ~0ull << (npages % 64);
        if (w == 0) m &= ~1ull;
        for (; m; m &= m - 1) {
            struct mspan *s = H->free[w * 64 + (unsigned)__builtin_ctzll(m)];
            if (has_resident(s)) return s; /* resident spans head their bins */
            if (!cold) cold = s;
        }
    }
    struct mspan *best = NULL, *best_cold = NULL, *first = H->free[0];
    if (first) {
        struct mspan *s = first;
        do {
            struct mspan **b = has_resident(s) ? &best : &best_cold;
            if (s->npages >= npages && (!*b || s->npages < (*b)->npages)) *b = s;
            s = s->next;
        } while (s != first);
    }
    return best ? best : cold ? cold : best_cold;
}

#define SCAV_WORD_BYTES (64 * TC_PAGE_SIZE) /* the pages one scav word covers */

/* Where to cut npages, aligned to align pages, from free span f: the
 * lowest place whose pages are all resident, if any, else its start. */
static uintptr_t cut_point(const struct mspan *f, uintptr_t npages, uintptr_t align) {
    uintptr_t step = align * TC_PAGE_SIZE, a = TC_ALIGN_UP(f->startAddr, step), first = a;
    if (f->nscav == 0 || f->nscav == f->npages) return first;
    while (a + npages * TC_PAGE_SIZE <= span_end(f)) {
        uintptr_t i = tc_arena_page(a);
        uint64_t rest = scav_map(a)[i / 64] >> (i % 64);
        if (rest == ~0ull >> (i % 64)) { /* released to the word's end */
            a = TC_ALIGN_UP(TC_ALIGN_DOWN(a, SCAV_WORD_BYTES) + SCAV_WORD_BYTES, step);
            continue;
        }
        if (rest & 1) {
            a += step;
            continue;
        }
        uintptr_t k = 1;
        while (k < npages && !page_released(a + k * TC_PAGE_SIZE)) k++;
        if (k == npages) return a;
        a = TC_ALIGN_UP(a + (k + 1) * TC_PAGE_SIZE, step);
    }
    return first;
}

/* ---- coalescing insert ---- */

/* Fold free neighbour b into a (a lies just below b); frees b's struct.
 * Released pages stay released: their bits go with them. */
static void merge_into(struct mspan *a, struct mspan *b) {
    a->nscav += b->nscav;
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
        struct heaparena *ha = meta_alloc(&H->arenaalloc);
        if (!ha) return 0;
        atomic_store_explicit(&tc_arenas_[a >> TC_ARENA_SHIFT], ha, memory_order_release);
        tc_os_vec_room((void **)&H->arenas, &H->arenascap, H->narenas, sizeof *H->arenas, 1024,
                       "the arena list");
        H->arenas[H->narenas++] = (uint32_t)(a >> TC_ARENA_SHIFT);
    }
    H->arenaHint = (uintptr_t)p + size;
    if (!tc_heap_lo || (uintptr_t)p < tc_heap_lo) __atomic_store_n(&tc_heap_lo, (uintptr_t)p, __ATOMIC_RELAXED);
    if ((uintptr_t)p + size > tc_heap_hi) __atomic_store_n(&tc_heap_hi, (uintptr_t)p + size, __ATOMIC_RELAXED);
    struct mspan *s = meta_alloc(&H->spanalloc);
    if (!s) return 0;
    s->startAddr = (uintptr_t)p;
    s->npages = size / TC_PAGE_SIZE;
    s->nscav = s->npages; /* fresh from mmap: not resident, reads as zero */
    for (uintptr_t a = (uintptr_t)p; a < (uintptr_t)p + size; a += TC_ARENA_BYTES) {
        uintptr_t ai = a >> TC_ARENA_SHIFT; /* every bit set, the page untouched */
        scav_dropped[ai / 64] |= 1ull << (ai % 64);
    }
    RACY_ADD(H->pagesSys, s->npages);
    RACY_ADD(H->pagesFree, s->npages);
    RACY_ADD(H->pagesReleased, s->npages);
    insert_free(s);
    return 1;
}

/* ---- allocation ---- */

/* Split free span f (out of the bins) at page address at: f keeps
 * [start, at), the new span returned gets [at, end) and its share of the
 * released pages. NULL (f untouched) when no struct can be had. */
static struct mspan *split(struct mspan *f, uintptr_t at) {
    struct mspan *t = meta_alloc(&H->spanalloc);
    if (!t) return NULL;
    uintptr_t head = (at - f->startAddr) / TC_PAGE_SIZE;
    t->startAddr = at;
    t->npages = f->npages - head;
    t->nscav = f->nscav - nscav_of(f, f->startAddr, head);
    t->needzero = f->needzero;
    t->state = f->state;
    f->nscav -= t->nscav;
    f->npages = head;
    return t;
}

/* Cut [start, start + npages pages) out of free span f (already out of the
 * bins); the pieces before and after go back as free spans. *released: how
 * many of the span's pages had been released. */
static struct mspan *carve(struct mspan *f, uintptr_t start, uintptr_t npages,
                           uintptr_t *released) {
    uintptr_t end = start + npages * TC_PAGE_SIZE;
    struct mspan *s = f;
    if (start > f->startAddr) { /* f keeps the head */
        if (!(s = split(f, start))) return NULL;
        set_free_ends(f);
        bin_insert(f);
    }
    if (end < span_end(s)) {
        struct mspan *t = split(s, end);
        if (!t) return NULL; /* the head went back; the tail leaks: OS is out of memory anyway */
        set_free_ends(t);
        bin_insert(t);
    }
    RACY_SUB(H->pagesFree, npages);
    H->pagesInUse += npages;
    if (H->pagesInUse > RACY(H->pagesInUsePeak))
        __atomic_store_n(&H->pagesInUsePeak, H->pagesInUse, __ATOMIC_RELAXED);
    RACY_SUB(H->pagesReleased, s->nscav);
    *released = s->nscav;
    if (s->nscav == npages) s->needzero = 0; /* every page reads back as zero */
    if (s->nscav) scav_mark(s->startAddr, npages, 0);
    s->nscav = 0;
    set_all_pages(s, s);
    return s;
}

static struct fixalloc *bits_family(unsigned spc, unsigned nwords) {
    return &H->bitsalloc[tc_spanclass_kind(spc) != SPAN_MANUAL][nwords];
}

/* ---- populating ahead ---- */

__thread uintptr_t tc_populate_lo __attribute__((tls_model("initial-exec")));
static __thread struct mspan *populate_run __attribute__((tls_model("initial-exec")));
static int populate_missing; /* the kernel has no MADV_POPULATE_WRITE (racy flag) */
/* Units of the span-struct and bitmap fixallocs taken aside with the run,
 * for the spans to be cut from it (alloc/fixalloc.h, prefault). */
static __thread struct {
    struct fixalloc *f;
    struct fixrun runs[8];
    unsigned n;
} populate_units[2] __attribute__((tls_model("initial-exec")));

/* Heap lock held; s, a collected span, was just cut from released pages.
 * Take the released pages above it (up to TC_POPULATE_BYTES with s) out
 * of the bins as this thread's BUSY run, for tc_mheap_populate. */
static void populate_plan(struct mspan *s, unsigned spc, unsigned nwords) {
    uintptr_t want = TC_POPULATE_BYTES / TC_PAGE_SIZE, n;
    struct mspan *t = free_neighbour(span_end(s)), *rest = NULL;
    if (populate_run || __atomic_load_n(&populate_missing, __ATOMIC_RELAXED) ||
        s->npages >= want || !t)
        return;
    n = want - s->npages < t->npages ? want - s->npages : t->npages;
    if (nscav_of(t, t->startAddr, n) != n) return; /* resident pages there: no fault to save */
    bin_remove(t);
    if (n < t->npages && !(rest = split(t, t->startAddr + n * TC_PAGE_SIZE))) {
        bin_insert(t);
        return;
    }
    if (rest) {
        set_free_ends(rest);
        bin_insert(rest);
    }
    t->state = MSPAN_BUSY;
    H->pagesBusy += n;
    set_free_ends(t);
    populate_run = t;
    tc_populate_lo = s->startAddr;
    size_t spans = (n + s->npages) / s->npages; /* the batch, cut into spans like s */
    populate_units[0].f = &H->spanalloc;
    populate_units[1].f = bits_family(spc, nwords);
    for (unsigned k = 0; k < 2; k++)
        populate_units[k].n =
            tc_fixalloc_prefault_take(populate_units[k].f, spans, populate_units[k].runs, 8);
}

/* The arena records' parts that spans cut from [lo, hi) will write: their
 * allocBits slots and page-table entries (the same parts
 * release_arena_meta gives back), a fault per page otherwise. 0 if the
 * kernel has no MADV_POPULATE_WRITE. */
static int populate_arena_meta(uintptr_t lo, uintptr_t hi) {
    int ok = 1;
    for (uintptr_t a = lo, end; a < hi && ok; a = end) {
        uintptr_t arena_end = (a | (TC_ARENA_BYTES - 1)) + 1;
        end = hi < arena_end ? hi : arena_end;
        struct heaparena *ha = tc_arenaof(a);
        uintptr_t pages = (end - a) / TC_PAGE_SIZE;
        ok = tc_os_populate((void *)allocbits_of(a), pages * TC_BITWORDS_PER_PAGE * 8) >= 0 &&
             tc_os_populate((void *)&ha->spans[tc_arena_page(a)], pages * sizeof ha->spans[0]) >= 0;
    }
    return ok;
}

void tc_mheap_populate(void) {
    struct mspan *run = populate_run;
    uintptr_t lo = tc_populate_lo;
    populate_run = NULL;
    tc_populate_lo = 0;
    if (!run) return;
    /* s is in use and the run out of the bins: nobody releases either, and
     * pages of s already written keep their contents. */
    if (tc_os_populate((void *)lo, span_end(run) - lo) < 0 ||
        !populate_arena_meta(lo, span_end(run)))
        __atomic_store_n(&populate_missing, 1, __ATOMIC_RELAXED);
    for (unsigned k = 0; k < 2; k++)
        for (unsigned i = 0; i < populate_units[k].n; i++)
            tc_os_populate(tc_fixrun_addr(&populate_units[k].runs[i]),
                           populate_units[k].runs[i].n * TC_FIXUNIT);
    heap_lock();
    for (unsigned k = 0; k < 2; k++) {
        struct fixalloc *f = populate_units[k].f;
        uint64_t sys0 = f->sys, rel0 = f->released;
        tc_fixalloc_prefault_done(f, populate_units[k].runs, populate_units[k].n);
        meta_account(f, sys0, rel0);
        populate_units[k].n = 0;
    }
    scav_mark(run->startAddr, run->npages, 0);
    RACY_SUB(H->pagesReleased, run->nscav);
    H->pagesBusy -= run->npages;
    run->nscav = 0; /* needzero stays: the pages are still zero if it was 0 */
    insert_free(run);
    heap_unlock();
}

/* Heap lock held; read racily by tc_mheap_usage. */
static void gc_pages_add(int64_t n) { RACY_ADD(H->pagesInUseGC, (uint64_t)n); }

struct mspan *tc_mheap_alloc(uintptr_t npages, unsigned spc, uintptr_t align_pages) {
    uintptr_t want = npages + align_pages - 1, released = 0;
    if (want < npages) return NULL;
    unsigned nwords = tc_mspan_nwords(spc, npages);
    struct fixalloc *ba = bits_family(spc, nwords);
    if (TC_UNLIKELY(tc_populate_lo)) tc_mheap_populate(); /* a caller that did not */
    heap_lock();
    struct mspan *f = find_fit(want);
    if (!f && grow(want)) f = find_fit(want);
    struct mspan *s = NULL;
    _Atomic uint64_t *bits = f ? meta_alloc(ba) : NULL;
    if (bits) {
        bin_remove(f);
        s = carve(f, cut_point(f, npages, align_pages), npages, &released);
    }
    if (s) {
        if (tc_spanclass_kind(spc) != SPAN_MANUAL) gc_pages_add((int64_t)npages);
        if (released && tc_spanclass_kind(spc) != SPAN_MANUAL) populate_plan(s, spc, nwords);
        __atomic_store_n(&s->gen, ++H->gen, __ATOMIC_RELAXED);
        tc_mspan_init(s, spc, allocbits_of(s->startAddr), bits);
        s->freeable = tc_spanclass_kind(spc) == SPAN_MANUAL && tc_spanclass_sizeclass(spc) != 0;
        if (s->freeable) set_freeclass(s, tc_spanclass_sizeclass(spc));
        /* Published: a lock-free reader that finds the span through the
         * page table and reads this state (acquire) sees it initialised. */
        __atomic_store_n(&s->state, MSPAN_INUSE, __ATOMIC_RELEASE);
    } else if (bits) {
        tc_fixalloc_free(ba, bits);
    }
    heap_unlock();
    return s;
}

/* ---- freeing and releasing ---- */

static uint64_t dirty_bytes(void) {
    return (H->pagesFree - H->pagesReleased) * TC_PAGE_SIZE;
}

void tc_mheap_resident_locked(uint64_t *inuse, uint64_t *free_resident) {
    *inuse = H->pagesInUse * TC_PAGE_SIZE;
    *free_resident = dirty_bytes();
}

/* The largest free span with resident pages, or NULL (they head their bins). */
static struct mspan *largest_dirty(void) {
    if (H->free[0] && H->free[0]->nscav < H->free[0]->npages) {
        struct mspan *best = NULL, *s = H->free[0];
        do { /* bin 0 holds every length from 128 pages up */
            if (s->nscav < s->npages && (!best || s->npages > best->npages)) best = s;
            s = s->next;
        } while (s != H->free[0] && s->nscav < s->npages);
        return best;
    }
    for (unsigned b = TC_HEAP_BINS - 1; b > 0; b--)
        if (H->free[b] && H->free[b]->nscav < H->free[b]->npages) return H->free[b];
    return NULL;
}

/* Release the highest run of resident pages of free span s, at most max
 * pages; heap lock held, dropped around the madvise. Returns the pages
 * released (0 if no span struct could be had for the pieces). */
static uintptr_t release_run(struct mspan *s, uintptr_t max) {
    uintptr_t hi = span_end(s), lo;
    while (page_released(hi - TC_PAGE_SIZE)) hi -= TC_PAGE_SIZE;
    for (lo = hi; lo > s->startAddr && !page_released(lo - TC_PAGE_SIZE) &&
                  (hi - lo) / TC_PAGE_SIZE < max;)
        lo -= TC_PAGE_SIZE;
    bin_remove(s);
    struct mspan *run = s, *tail = NULL;
    if ((hi < span_end(s) && !(tail = split(s, hi))) ||
        (lo > s->startAddr && !(run = split(s, lo)))) {
        if (tail) merge_into(s, tail);
        bin_insert(s);
        return 0;
    }
    if (run != s) {
        set_free_ends(s);
        bin_insert(s);
    }
    if (tail) {
        set_free_ends(tail);
        bin_insert(tail);
    }
    uintptr_t n = run->npages;
    run->state = MSPAN_BUSY;
    H->pagesBusy += n;
    set_free_ends(run);
    tc_unlock(&H->lock, LOCKRANK_HEAP); /* still in the caller's region */
    tc_os_release((void *)lo, n * TC_PAGE_SIZE);
    release_arena_meta(lo, hi);
    tc_lock(&H->lock, LOCKRANK_HEAP);
    scav_mark(lo, n, 1);
    run->nscav = n;
    run->needzero = 0; /* MADV_DONTNEED pages read back as zero */
    RACY_ADD(H->pagesReleased, n);
    H->releasedTotal += n * TC_PAGE_SIZE;
    H->pagesBusy -= n;
    insert_free(run);
    return n;
}

/* keep_bytes UINT64_MAX: what the scavenger's targets allow. */
static size_t release_locked(uint64_t keep_bytes, uint64_t max_bytes) {
    size_t released = 0;
    struct mspan *s;
    if (keep_bytes == UINT64_MAX) {
        uint64_t excess = tc_scavenge_excess_locked();
        keep_bytes = dirty_bytes() - excess;
        if (max_bytes > excess) max_bytes = excess;
    }
    while (dirty_bytes() > keep_bytes && released < max_bytes && (s = largest_dirty()) != NULL) {
        uint64_t want = dirty_bytes() - keep_bytes;
        if (want > max_bytes - released) want = max_bytes - released;
        uintptr_t n = release_run(s, (uintptr_t)((want + TC_PAGE_SIZE - 1) / TC_PAGE_SIZE));
        if (!n) break;
        released += n * TC_PAGE_SIZE;
    }
    return released;
}

size_t tc_mheap_release(uint64_t keep_bytes, uint64_t max_bytes) {
    heap_lock();
    size_t n = release_locked(keep_bytes, max_bytes);
    heap_unlock();
    return n;
}

int tc_mheap_excess(void) {
    heap_lock();
    int e = tc_scavenge_excess_locked() > 0;
    heap_unlock();
    return e;
}

size_t tc_mheap_release_excess(uint64_t max_bytes) {
    heap_lock();
    size_t n = release_locked(UINT64_MAX, max_bytes);
    heap_unlock();
    return n;
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
    RACY_ADD(H->pagesFree, s->npages);
    if (tc_spanclass_kind(s->spanclass) != SPAN_MANUAL) gc_pages_add(-(int64_t)s->npages);
    s->needzero = 1;
    s->nscav = 0;
    if (s->npages > 2) set_all_pages(s, NULL);
    insert_free(s);
    int excess = tc_scavenge_excess_locked() > 0;
    heap_unlock();
    if (excess) tc_scavenge_wake();
}

/* Heap lock held: the arena records' parts of every wholly released free
 * span. release_run gives back only what lies inside the run it released,
 * so a span released in pieces (while its neighbours were still in use)
 * keeps the entries at the pieces' ends resident after it coalesces. */
static void release_free_meta_locked(void) {
    for (unsigned b = 0; b < TC_HEAP_BINS; b++) {
        struct mspan *first = H->free[b], *s = first;
        if (s) do {
                if (s->nscav == s->npages) release_arena_meta(s->startAddr, span_end(s));
                s = s->next;
            } while (s != first);
    }
}

size_t tc_mheap_scavenge(uint64_t keep_bytes) {
    size_t n = tc_mheap_release(keep_bytes, UINT64_MAX);
    if (keep_bytes == 0) {
        heap_lock();
        release_free_meta_locked();
        heap_unlock();
    }
    return n + tc_mheap_release_metadata();
}

int tc_mheap_grow_inplace(struct mspan *s, uintptr_t npages) {
    int ok = 0;
    heap_lock();
    uintptr_t extra = npages - s->npages;
    struct mspan *r = free_neighbour(span_end(s));
    if (r && r->npages >= extra) {
        bin_remove(r);
        uintptr_t from = span_end(s), taken = nscav_of(r, from, extra);
        RACY_SUB(H->pagesReleased, taken);
        r->nscav -= taken;
        if (taken) scav_mark(from, extra, 0);
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
        RACY_SUB(H->pagesFree, extra);
        H->pagesInUse += extra;
        if (tc_spanclass_kind(s->spanclass) != SPAN_MANUAL) gc_pages_add((int64_t)extra);
        for (uintptr_t a = from; a < span_end(s); a += TC_PAGE_SIZE) set_page(a, s);
        ok = 1;
    }
    heap_unlock();
    return ok;
}

uint64_t tc_mheap_metadata_locked(void) { return RACY(H->metaSys); }
uint64_t tc_mheap_metadata_resident(void) { return RACY(H->metaSys) - RACY(H->metaReleased); }
uint64_t tc_mheap_inuse_peak(void) {
    uint64_t now = RACY(H->pagesInUse);
    uint64_t peak = __atomic_exchange_n(&H->pagesInUsePeak, now, __ATOMIC_RELAXED);
    return (peak > now ? peak : now) * TC_PAGE_SIZE;
}

void tc_mheap_usage(uint64_t *mapped, uint64_t *free_resident, uint64_t *gc_inuse) {
    uint64_t sys = RACY(H->pagesSys), fr = RACY(H->pagesFree), rel = RACY(H->pagesReleased);
    rel = rel < fr ? rel : fr;
    *free_resident = (fr - rel) * TC_PAGE_SIZE;
    *mapped = (sys > rel ? sys - rel : 0) * TC_PAGE_SIZE + tc_mheap_metadata_resident();
    *gc_inuse = RACY(H->pagesInUseGC) * TC_PAGE_SIZE;
}

void tc_mheap_lock_all(void) { tc_lock(&H->lock, LOCKRANK_HEAP); }
void tc_mheap_unlock_all(void) { tc_unlock(&H->lock, LOCKRANK_HEAP); }
/* A release under way (the scavenger, its span BUSY and the lock dropped
 * around the madvise) leaves the counts short: wait for it to end. */
int tc_mheap_verify(void) {
    heap_lock();
    for (int i = 0; H->pagesBusy && i < 10000; i++) {
        heap_unlock();
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
        heap_lock();
    }
    uint64_t pages = 0, released = 0;
    int ok = 1;
    for (unsigned b = 0; b < TC_HEAP_BINS && ok; b++) {
        struct mspan *first = H->free[b], *s = first;
        if (!!first != !!(H->freemask[b / 64] >> (b % 64) & 1)) ok = 0;
        if (!first) continue;
        int seen_released = 0;
        do {
            if (s->state != MSPAN_FREE || bin_of(s->npages) != b) ok = 0;
            if (tc_spanof(s->startAddr) != s ||
                tc_spanof(span_end(s) - TC_PAGE_SIZE) != s) ok = 0;
            if (free_neighbour(s->startAddr - TC_PAGE_SIZE) ||
                free_neighbour(span_end(s))) ok = 0; /* not coalesced */
            for (uintptr_t a = s->startAddr; a < span_end(s); a += TC_PAGE_SIZE)
                if (atomic_load_explicit(&tc_arenaof(a)->pageinfo[tc_arena_page(a)],
                                         memory_order_relaxed))
                    ok = 0; /* free() would take a slot of a free span (or its P would) */
            int all = s->nscav == s->npages;
            if (seen_released && !all) ok = 0; /* resident pages first */
            seen_released |= all;
            if (s->nscav > s->npages || scav_count(s->startAddr, s->npages) != s->nscav) ok = 0;
            pages += s->npages;
            released += s->nscav;
            s = s->next;
        } while (s != first && ok);
    }
    if (pages != H->pagesFree || released != H->pagesReleased) ok = 0;
    if (H->pagesFree + H->pagesInUse != H->pagesSys) ok = 0;
    heap_unlock();
    return ok;
}
