/* alloc/fixalloc.c: see fixalloc.h.
 *
 * Why units. Metadata follows the heap's peak: after a program frees a
 * large heap of small objects and gives the pages back, the structs and
 * bitmaps of all the spans it had stay on free lists, resident, a few
 * percent of the pages they described. A free list threaded
 * through whole chunks can never give any of it back: a page is free only
 * when every block on it is, and nothing counted that. So blocks live in
 * 4 KiB units, each unit's free blocks are counted in its chunk's header
 * (the chunk's first unit, which holds no blocks), and a unit can leave
 * the list whole. Units not on the list (fresh or given back) are threaded
 * again one at a time, when the list runs dry: they read as zero and are
 * made resident only then. A header unit stays resident as long as its
 * chunk exists, even when every other unit went back, so chunks are big
 * (2 MiB): one unit in 512 is a header, and the rest is address space
 * until it is used.
 *
 * Blocks are zeroed when handed out, so callers can rely on a fresh
 * struct; that costs one memset of a small block, which is noise next to
 * the span work that asks for it. A block freed to the list may be read
 * by a racing reader that found it stale (the page table's readers check
 * state and gen): a unit given back reads as zeros, as a reused block
 * does, so that changes nothing for them. */
#include "alloc/fixalloc.h"

#include <string.h>

#include "alloc/os.h"

#define FIXALLOC_CHUNK (2u << 20)
#define UNITS (FIXALLOC_CHUNK / TC_FIXUNIT) /* 512 */
#define UWORDS (UNITS / 64)

/* Fields: the owning fixalloc's lock. */
struct fixchunk {
    struct fixchunk *next;
    uint64_t unthreaded[UWORDS]; /* bit u: unit u's blocks are not on the list */
    uint64_t limbo[UWORDS];      /* bit u: being given back (release_take to _done) */
    uint16_t nfree[UNITS];       /* per unit: its blocks on the free list */
};
_Static_assert(sizeof(struct fixchunk) <= TC_FIXUNIT, "the header fits its unit");

static int bit(const uint64_t *m, unsigned u) { return (int)(m[u / 64] >> (u % 64) & 1); }
static void bit_set(uint64_t *m, unsigned u) { m[u / 64] |= 1ull << (u % 64); }
static void bit_clear(uint64_t *m, unsigned u) { m[u / 64] &= ~(1ull << (u % 64)); }

static struct fixchunk *chunk_of(const void *p) {
    return (struct fixchunk *)((uintptr_t)p & ~(uintptr_t)(FIXALLOC_CHUNK - 1));
}

static unsigned unit_of(const void *p) {
    return (unsigned)(((uintptr_t)p & (FIXALLOC_CHUNK - 1)) / TC_FIXUNIT);
}

void tc_fixalloc_init(struct fixalloc *f, size_t size) {
    memset(f, 0, sizeof *f);
    f->size = TC_ALIGN_UP(size, 8);
    f->perunit = f->size <= TC_FIXUNIT ? (unsigned)(TC_FIXUNIT / f->size) : 0;
}

/* Big blocks: a bump pointer through chunks of their own, never returned. */
static void *alloc_big(struct fixalloc *f) {
    if (f->nchunk < f->size) {
        size_t n = f->size > FIXALLOC_CHUNK ? f->size : FIXALLOC_CHUNK;
        char *c = tc_os_alloc_meta(n);
        if (!c) return NULL;
        f->chunk = c;
        f->nchunk = n;
        f->sys += n;
    }
    void *p = f->chunk; /* fresh from mmap: already zero */
    f->chunk += f->size;
    f->nchunk -= f->size;
    return p;
}

static int add_chunk(struct fixalloc *f) {
    struct fixchunk *c = tc_os_reserve(FIXALLOC_CHUNK, FIXALLOC_CHUNK, 0);
    if (!c) return 0;
    for (unsigned w = 0; w < UWORDS; w++) c->unthreaded[w] = ~0ull;
    bit_clear(c->unthreaded, 0); /* unit 0 is the header */
    c->next = f->chunks;
    f->chunks = c;
    f->nunthreaded += UNITS - 1;
    f->sys += FIXALLOC_CHUNK;
    f->released += (UNITS - 1) * TC_FIXUNIT;
    return 1;
}

/* Put the blocks of unit u of chunk c, off the list and counted out of
 * nunthreaded, on the list: it is resident (again). */
static void thread_blocks(struct fixalloc *f, struct fixchunk *c, unsigned u) {
    bit_clear(c->unthreaded, u);
    f->released -= TC_FIXUNIT;
    char *base = (char *)c + (size_t)u * TC_FIXUNIT;
    for (unsigned i = f->perunit; i-- > 0;) { /* lowest address first out */
        void **b = (void **)(base + (size_t)i * f->size);
        *b = f->list;
        f->list = b;
    }
    c->nfree[u] = (uint16_t)f->perunit;
}

/* runs[0..*n) gains unit u of chunk c: the last run grows if u follows it. */
static void run_add(struct fixrun *runs, unsigned *n, struct fixchunk *c, unsigned u) {
    if (*n && runs[*n - 1].c == c && runs[*n - 1].first + runs[*n - 1].n == u)
        runs[*n - 1].n++;
    else
        runs[(*n)++] = (struct fixrun){c, u, 1};
}

/* Put the blocks of one unit not on the list (there is one) on it. */
static void thread_unit(struct fixalloc *f) {
    unsigned u = 0;
    struct fixchunk *c;
    for (c = f->chunks;; c = c->next) {
        for (unsigned w = 0; w < UWORDS; w++) {
            uint64_t m = c->unthreaded[w] & ~c->limbo[w];
            if (m) {
                u = w * 64 + (unsigned)__builtin_ctzll(m);
                goto found;
            }
        }
    }
found:
    f->nunthreaded--;
    thread_blocks(f, c, u);
}

void *tc_fixalloc_alloc(struct fixalloc *f) {
    void *p;
    if (!f->perunit) {
        if ((p = f->list) != NULL) {
            f->list = *(void **)p;
            memset(p, 0, f->size);
        } else if (!(p = alloc_big(f))) {
            return NULL;
        }
    } else {
        if (!f->list) {
            if (!f->nunthreaded && !add_chunk(f)) return NULL;
            thread_unit(f);
        }
        p = f->list;
        f->list = *(void **)p;
        chunk_of(p)->nfree[unit_of(p)]--;
        memset(p, 0, f->size);
    }
    f->inuse += f->size;
    return p;
}

void tc_fixalloc_free(struct fixalloc *f, void *p) {
    *(void **)p = f->list;
    f->list = p;
    f->inuse -= f->size;
    if (f->perunit) chunk_of(p)->nfree[unit_of(p)]++;
}

unsigned tc_fixalloc_release_take(struct fixalloc *f, struct fixrun *runs, unsigned max) {
    unsigned n = 0;
    if (!f->perunit) return 0;
    for (struct fixchunk *c = f->chunks; c && n < max; c = c->next) {
        for (unsigned u = 1; u < UNITS && n < max; u++) {
            if (bit(c->unthreaded, u) || c->nfree[u] != f->perunit) continue;
            run_add(runs, &n, c, u);
            bit_set(c->unthreaded, u);
            bit_set(c->limbo, u);
            c->nfree[u] = 0;
        }
    }
    if (!n) return 0;
    /* Off the list: the blocks of the units just taken (no other unit in
     * limbo has any there). */
    for (void **pp = &f->list; *pp;) {
        void *b = *pp;
        if (bit(chunk_of(b)->limbo, unit_of(b))) *pp = *(void **)b;
        else pp = (void **)b;
    }
    return n;
}

void *tc_fixrun_addr(const struct fixrun *r) {
    return (char *)r->c + (size_t)r->first * TC_FIXUNIT;
}

void tc_fixalloc_release_done(struct fixalloc *f, const struct fixrun *runs, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        for (unsigned u = runs[i].first; u < runs[i].first + runs[i].n; u++)
            bit_clear(runs[i].c->limbo, u);
        f->nunthreaded += runs[i].n;
        f->released += (uint64_t)runs[i].n * TC_FIXUNIT;
    }
}

unsigned tc_fixalloc_prefault_take(struct fixalloc *f, size_t nblocks, struct fixrun *runs,
                                   unsigned max) {
    unsigned n = 0;
    if (!f->perunit) return 0;
    size_t have = 0, want_units = (nblocks + f->perunit - 1) / f->perunit;
    for (void **b = f->list; b && have < nblocks; b = *b) have++; /* bounded by nblocks */
    if (have >= nblocks) return 0;
    want_units -= have / f->perunit;
    for (struct fixchunk *c = f->chunks; c && n < max && want_units; c = c->next) {
        for (unsigned u = 1; u < UNITS && n < max && want_units; u++) {
            if (!bit(c->unthreaded, u) || bit(c->limbo, u)) continue;
            run_add(runs, &n, c, u);
            bit_set(c->limbo, u); /* neither threaded nor given back meanwhile */
            f->nunthreaded--;
            want_units--;
        }
    }
    return n;
}

void tc_fixalloc_prefault_done(struct fixalloc *f, const struct fixrun *runs, unsigned n) {
    for (unsigned i = 0; i < n; i++) {
        for (unsigned u = runs[i].first; u < runs[i].first + runs[i].n; u++) {
            bit_clear(runs[i].c->limbo, u);
            thread_blocks(f, runs[i].c, u);
        }
    }
}
