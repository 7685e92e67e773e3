/* alloc/mcache.c: the P pool and the mcache refill path.
 *
 * Refill order for a span class (Go's, plus explicit free):
 *   1. search the cached span forward from the cursor (next window);
 *   2. if remote frees are pending on it, merge them and search again;
 *   3. give it back to its mcentral and take another (partial or new).
 * Step 2 keeps a producer/consumer pair from growing the heap: memory
 * freed by the consumer is reused before a fresh span is taken.
 *
 * Thread exit: a pthread key whose destructor releases the P. The key is
 * created at initialisation (pthread_key_create does not allocate); its
 * value is set when a thread first takes a P. A thread that allocates again
 * from a later destructor simply takes a P again, and glibc runs our
 * destructor once more. */
#include "alloc/mcache.h"

#include <pthread.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/fixalloc.h"
#include "alloc/mcentral.h"
#include "alloc/region.h"
#include "alloc/report.h"
#include "gc/hooks.h"

__thread struct p *tc_tls_p __attribute__((tls_model("initial-exec")));

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct p *idle_ps;          /* pool lock */
static _Atomic(struct p *) all_ps; /* newest first; pushed under pool lock */
static uint32_t nps, nidle;        /* pool lock */
static struct fixalloc palloc;     /* pool lock */
static pthread_key_t exit_key;

static void p_exit(void *arg) {
    if (arg && tc_tls_p == arg) tc_p_release();
}

void tc_p_init(void) {
    tc_fixalloc_init(&palloc, sizeof(struct p));
    if (pthread_key_create(&exit_key, p_exit) != 0)
        tc_fatal("cannot create the thread-exit key");
}

/* Bins hold about TC_FREEBIN_BYTES of objects each (at most 256, at least
 * one): at most ~6.3 MiB per P when every bin is full, usually far less
 * (jemalloc's thread cache has a bound of the same order). 256 lets a
 * batch of a few hundred small objects of one class be freed and taken
 * again without a flush (jemalloc keeps up to 200 per small class). A bin
 * that overflows sends half of itself back to spans, often to spans that
 * other Ps now cache (remote frees, mcentral's lock): with 32 KiB bins,
 * 4 threads replacing objects of random sizes each took 1.4x the time. */
static void mcache_reset(struct mcache *c) {
    for (unsigned i = 0; i < TC_NUM_SPAN_CLASSES; i++) c->alloc[i] = &tc_emptyspan;
    uint32_t used = 0;
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) {
        uint32_t cap = (uint32_t)(TC_FREEBIN_BYTES / tc_class_size(sc));
        cap = cap > 256 ? 256 : cap < 1 ? 1 : cap;
        c->free[sc] = (struct freebin){.items = c->freeslots + used, .n = 0, .cap = cap};
        used += cap;
    }
    TC_ASSERT(used <= TC_FREESLOTS);
    c->tiny = c->tinyoffset = 0;
    c->nlarge = c->largepages = 0;
}

__thread int tc_region_depth __attribute__((tls_model("initial-exec")));
__thread volatile int tc_region_pending __attribute__((tls_model("initial-exec")));
_Atomic uint32_t tc_stop_poll;

/* The pool lock is only ever held inside a region (alloc/region.h). */
static void pool_lock_in(void) {
    tc_region_begin();
    pthread_mutex_lock(&pool_lock);
}
static void pool_unlock_in(void) {
    pthread_mutex_unlock(&pool_lock);
    tc_region_end();
}

struct p *tc_p_acquire(void) {
    pool_lock_in();
    struct p *pp = idle_ps;
    if (pp) {
        idle_ps = pp->link;
        nidle--;
    } else if ((pp = tc_fixalloc_alloc(&palloc)) != NULL) {
        mcache_reset(&pp->mcache);
        pp->id = nps++;
        pp->alllink = atomic_load_explicit(&all_ps, memory_order_relaxed);
        atomic_store_explicit(&all_ps, pp, memory_order_release);
    }
    if (pp) pp->status = P_RUNNING;
    pool_unlock_in();
    if (pp) {
        tc_tls_p = pp;
        pthread_setspecific(exit_key, pp);
    }
    return pp;
}

void tc_mcache_flush_free(struct p *pp) {
    tc_mcache_large_flush(pp);
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++)
        if (pp->mcache.free[sc].n) tc_freebin_flush(pp, sc, 1);
}

void tc_p_ask_flush_all(void) {
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink)
        if (pp != tc_tls_p && __atomic_load_n(&pp->status, __ATOMIC_RELAXED) == P_RUNNING)
            atomic_store_explicit(&pp->flushAsked, 1, memory_order_relaxed);
}

void tc_mcache_flush(struct mcache *c) {
    tc_mcache_flush_free((struct p *)c); /* mcache is a P's first member */
    for (unsigned i = 0; i < TC_NUM_SPAN_CLASSES; i++) {
        struct mspan *s = c->alloc[i];
        if (s != &tc_emptyspan) {
            c->alloc[i] = &tc_emptyspan;
            tc_mcentral_uncache_span(s);
        }
    }
    c->tiny = c->tinyoffset = 0; /* the block stays allocated, as in Go */
}

/* The whole release is one region: the collector flushes other Ps' GC
 * spans while the world is stopped, and must not meet a half-flushed P. */
void tc_p_release(void) {
    struct p *pp = tc_tls_p;
    if (!pp) return;
    tc_region_begin();
    tc_mcache_flush(&pp->mcache);
    tc_tls_p = NULL;
    pthread_setspecific(exit_key, NULL);
    pthread_mutex_lock(&pool_lock);
    pp->status = P_IDLE;
    pp->link = idle_ps;
    idle_ps = pp;
    nidle++;
    pthread_mutex_unlock(&pool_lock);
    tc_region_end();
}

/* ---- large spans ---- */

static void large_remove(struct mcache *c, uint32_t i) {
    c->largepages -= (uint32_t)c->large[i]->npages;
    memmove(&c->large[i], &c->large[i + 1], (c->nlarge - i - 1) * sizeof c->large[0]);
    c->nlarge--;
}

struct mspan *tc_mcache_large_take(struct p *pp, uintptr_t npages) {
    struct mcache *c = &pp->mcache;
    for (uint32_t i = c->nlarge; i-- > 0;) { /* newest first: warmest */
        struct mspan *s = c->large[i];
        if (s->npages != npages) continue;
        large_remove(c, i);
        tc_bits_store(&s->allocBits[0], ~0ull);
        return s;
    }
    return NULL;
}

int tc_mcache_large_put(struct p *pp, struct mspan *s) {
    struct mcache *c = &pp->mcache;
    if (s->npages > TC_LARGE_CACHE_MAX_SPAN) return 0;
    while (c->nlarge == TC_LARGE_CACHE || c->largepages + s->npages > TC_LARGE_CACHE_PAGES) {
        struct mspan *old = c->large[0];
        large_remove(c, 0);
        tc_mheap_free(old);
    }
    s->needzero = 1;
    c->large[c->nlarge] = s;
    c->largepages += (uint32_t)s->npages;
    c->nlarge++;
    return 1;
}

void tc_mcache_large_flush(struct p *pp) {
    struct mcache *c = &pp->mcache;
    while (c->nlarge) {
        struct mspan *s = c->large[c->nlarge - 1];
        large_remove(c, c->nlarge - 1);
        tc_mheap_free(s);
    }
}

struct p *tc_p_all(void) {
    return atomic_load_explicit(&all_ps, memory_order_acquire);
}

uint32_t tc_p_count(uint32_t *idle) {
    pool_lock_in();
    uint32_t n = nps;
    if (idle) *idle = nidle;
    pool_unlock_in();
    return n;
}

/* A slot from s searching from its cursor to its end, or NULL. */
static void *span_take(struct mspan *s) {
    void *v = tc_mspan_alloc_fast(s);
    if (!v && tc_mspan_next_window(s)) v = tc_mspan_alloc_fast(s);
    return v;
}

void *tc_mcache_refill_alloc(struct p *pp, unsigned spc) {
    tc_p_flush_if_asked(pp);
    struct mspan *s = pp->mcache.alloc[spc];
    if (s != &tc_emptyspan) {
        void *v = span_take(s);
        if (v) return v;
        if (atomic_load_explicit(&s->xremoteCount, memory_order_relaxed) > 0 &&
            tc_mspan_merge_remote(s) > 0 && (v = span_take(s)) != NULL)
            return v;
        pp->mcache.alloc[spc] = &tc_emptyspan;
        tc_mcentral_uncache_span(s);
    }
    /* Every partial span has a free slot in its bits (mcentral's settle),
     * so this takes one round; a span without one, which would be a bug
     * there, goes back and the next is tried. */
    void *v;
    for (;;) {
        s = tc_mcentral_cache_span(spc, pp);
        if (!s) return NULL;
        if ((v = span_take(s)) != NULL) break;
        tc_mcentral_uncache_span(s);
    }
    pp->mcache.alloc[spc] = s;
    if (tc_spanclass_kind(spc) != SPAN_MANUAL) /* collected memory: pacing */
        tc_gc_note_alloc((uint64_t)(s->nelems - tc_mspan_count(s) + 1) * s->elemsize,
                         tc_spanclass_kind(spc) == SPAN_SCAN);
    return v;
}

void tc_p_lock_pool(void) { pthread_mutex_lock(&pool_lock); }
void tc_p_unlock_pool(void) { pthread_mutex_unlock(&pool_lock); }

/* A bin after fork. An orphaned P's thread may have stopped inside a push,
 * a pop or a flush, leaving entries that were never written or whose
 * objects went back and may since sit in another P's bin (or be live).
 * An entry is kept only if its object is allocated and carries the key:
 * then it is free, because nothing hands an object out with the key in
 * it. The key is flipped while the bins are scanned, so an object seen
 * twice (in any two bins) is kept once; restore_bin puts it back. What is
 * dropped is leaked, which loses memory but never gives an object out
 * twice. */
static void repair_bin(struct freebin *b) {
    uint32_t kept = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        uintptr_t p = (uintptr_t)b->items[i], base;
        struct mspan *s;
        if (tc_classify(p, &s, &base) != PTR_OK || *(uint64_t *)p != tc_free_key) continue;
        *(uint64_t *)p = ~tc_free_key;
        b->items[kept++] = (void *)p;
    }
    b->n = kept;
}

/* The large-span cache after fork, by the same rule: an entry is kept if
 * it is an in-use large malloc'd span whose allocation bit is clear (so
 * nobody holds its object), once over all Ps; bit 1 of its allocation word
 * marks it seen until restore_large. */
static void repair_large(struct mcache *c) {
    uint32_t kept = 0, pages = 0;
    for (uint32_t i = 0; i < c->nlarge && i < TC_LARGE_CACHE; i++) {
        struct mspan *s = c->large[i];
        if (!s || s->state != MSPAN_INUSE || s->spanclass != tc_spanclass(0, SPAN_MANUAL) ||
            tc_spanof(s->startAddr) != s || (tc_bits_load(&s->allocBits[0]) & 3) != 2)
            continue;
        tc_bits_store(&s->allocBits[0], ~3ull);
        c->large[kept++] = s;
        pages += (uint32_t)s->npages;
    }
    c->nlarge = kept;
    c->largepages = pages;
}

static void restore_bin(struct freebin *b) {
    for (uint32_t i = 0; i < b->n; i++) *(uint64_t *)b->items[i] = tc_free_key;
}

static void restore_large(struct mcache *c) {
    for (uint32_t i = 0; i < c->nlarge; i++) tc_bits_store(&c->large[i]->allocBits[0], ~1ull);
}

/* In the child only the forking thread exists: every other running P is
 * orphaned, possibly halfway through a fast path (nothing on a fast path
 * is a region, so even a fork that stopped the world can land there).
 * Their spans are repaired from the allocation bits and every bin is
 * checked (the forking thread's first: its entries are sound); then the
 * orphans are parked. Their cached spans stay cached, and the next thread
 * to take such a P continues with them. */
void tc_p_after_fork_child(void) {
    pthread_mutex_init(&pool_lock, NULL);
    idle_ps = NULL;
    nidle = 0;
    struct p *self = tc_tls_p;
    if (self) {
        for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) repair_bin(&self->mcache.free[sc]);
        repair_large(&self->mcache);
    }
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink) {
        if (pp == self) continue;
        for (unsigned i = 0; i < TC_NUM_SPAN_CLASSES; i++)
            if (pp->mcache.alloc[i] != &tc_emptyspan) tc_mspan_repair(pp->mcache.alloc[i]);
        for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) repair_bin(&pp->mcache.free[sc]);
        repair_large(&pp->mcache);
    }
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink) {
        for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) restore_bin(&pp->mcache.free[sc]);
        restore_large(&pp->mcache);
        if (pp == self) continue;
        pp->status = P_IDLE;
        pp->link = idle_ps;
        idle_ps = pp;
        nidle++;
    }
}
