/* alloc/mcache.c: the P pool and the mcache refill path.
 *
 * Refill order for a span class (Go's, plus explicit free):
 *   1. search the cached span forward from the cursor (next window);
 *   2. collected classes: give it back to its mcentral and take another
 *      (partial or new); malloc'd classes: merge the remote frees of the
 *      P's spans first, into the free bin, and take one from there, else
 *      keep the span among the P's owned spans and take an owned one with
 *      room, else a new one (own.c).
 * The merge keeps a producer/consumer pair from growing the heap: memory
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
#include "alloc/lockrank.h"
#include "alloc/mcentral.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/own.h"
#include "alloc/region.h"
#include "alloc/report.h"
#include "gc/hooks.h"

__thread struct p *tc_tls_p __attribute__((tls_model("initial-exec")));
__thread struct p *tc_tls_gcp __attribute__((tls_model("initial-exec")));

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

/* Each bin's entries start one cache line further on than the last's:
 * with capacities of a power of two entries (most default ones), the bins
 * would otherwise all begin at the same offset modulo 4 KiB, so the top
 * entries of the classes a program uses at once would share one L1 set
 * (8 ways) and evict each other on every push and pop.
 *
 * Bins hold about tc_opts.binbytes of objects each (default 128 KiB), at
 * most tc_opts.binobjs objects (default 2048), at least one: at most
 * ~6.3 MiB per P when every bin is full, usually far less (jemalloc's
 * thread cache has a bound of the same order). 2048 lets a whole batch of
 * small objects be freed and taken again without a flush: a binary tree of
 * 16-byte nodes up to depth 10 is built from its predecessor's nodes
 * straight from the bin. The entries are mapped with the P (their pages
 * are touched only as bins fill). Returns 0 when the OS refuses memory. */
static int mcache_reset(struct mcache *c) {
    for (unsigned i = 0; i < TC_NUM_SPAN_CLASSES; i++) c->alloc[i] = &tc_emptyspan;
    uint32_t cap[TC_NUM_SIZE_CLASSES], start[TC_NUM_SIZE_CLASSES], used = 0;
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) {
        uint64_t n = (uint64_t)tc_opts.binbytes / tc_class_size(sc);
        cap[sc] = (uint32_t)(n > (uint64_t)tc_opts.binobjs ? (uint64_t)tc_opts.binobjs : n < 1 ? 1 : n);
        start[sc] = used;
        used += TC_ALIGN_UP(cap[sc], TC_BINENTS_PER_LINE) + TC_BINENTS_PER_LINE;
    }
    if (!(c->freeslots = tc_os_alloc_meta(used * sizeof(struct binent)))) return 0;
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++)
        c->free[sc] = (struct freebin){.items = c->freeslots + start[sc], .n = 0, .cap = cap[sc]};
    for (unsigned i = 0; i < TC_SMALL_SIZE_MAX / TC_SMALL_SIZE_DIV; i++)
        c->binof[i] = &c->free[tc_size_to_class8[i]];
    c->tiny = c->tinyoffset = 0;
    c->nlarge = c->largepages = 0;
    return 1;
}

static void p_lock_init(struct p *pp) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&pp->lock, &a);
    pthread_mutexattr_destroy(&a);
}

__thread int tc_region_depth __attribute__((tls_model("initial-exec")));
__thread volatile int tc_region_pending __attribute__((tls_model("initial-exec")));
_Atomic uint32_t tc_stop_poll;

/* The pool lock is only ever held inside a region (alloc/region.h). */
static void pool_lock_in(void) { tc_region_lock(&pool_lock, LOCKRANK_PPOOL); }
static void pool_unlock_in(void) { tc_region_unlock(&pool_lock, LOCKRANK_PPOOL); }

struct p *tc_p_acquire(void) {
    pool_lock_in();
    struct p *pp = idle_ps;
    if (pp) {
        idle_ps = pp->link;
        nidle--;
    } else if ((pp = tc_fixalloc_alloc(&palloc)) != NULL) {
        if (!mcache_reset(&pp->mcache)) {
            tc_fixalloc_free(&palloc, pp);
            pool_unlock_in();
            return NULL;
        }
        p_lock_init(pp);
        pp->id = nps++;
        pp->ownid = pp->id < 0xfffe ? (uint16_t)(pp->id + 1) : 0xffff;
        pp->ownkey = (uint32_t)pp->ownid << 16;
        pp->alllink = atomic_load_explicit(&all_ps, memory_order_relaxed);
        atomic_store_explicit(&all_ps, pp, memory_order_release);
    }
    if (pp) pp->status = P_RUNNING;
    pool_unlock_in();
    if (pp) {
        tc_tls_p = pp;
        tc_tls_gcp = NULL; /* until gc_alloc's slow path checks the rest */
        pthread_setspecific(exit_key, pp);
    }
    return pp;
}

void tc_mcache_flush_free(struct p *pp) {
    tc_mcache_large_flush(pp);
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++)
        if (pp->mcache.free[sc].n) tc_freebin_flush(pp, sc, 1);
    tc_own_release_empty(pp);
}

void tc_p_ask_flush_all(void) {
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink)
        if (pp != tc_tls_p && __atomic_load_n(&pp->status, __ATOMIC_RELAXED) == P_RUNNING)
            atomic_store_explicit(&pp->flushAsked, 1, memory_order_relaxed);
}

void tc_mcache_flush(struct mcache *c) {
    struct p *pp = (struct p *)c; /* mcache is a P's first member */
    tc_mcache_flush_free(pp);
    tc_own_release_all(pp);
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
    tc_tls_p = tc_tls_gcp = NULL;
    pthread_setspecific(exit_key, NULL);
    tc_lock(&pool_lock, LOCKRANK_PPOOL);
    pp->status = P_IDLE;
    pp->link = idle_ps;
    idle_ps = pp;
    nidle++;
    tc_unlock(&pool_lock, LOCKRANK_PPOOL);
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
    uint64_t maxpages = (uint64_t)tc_opts.largecache / TC_PAGE_SIZE;
    if (s->npages > maxpages) return 0;
    while (c->nlarge == TC_LARGE_CACHE || c->largepages + s->npages > maxpages) {
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
void *tc_span_take(struct mspan *s) {
    void *v = tc_mspan_alloc_fast(s);
    if (!v && tc_mspan_next_window(s)) v = tc_mspan_alloc_fast(s);
    return v;
}

void *tc_mcache_refill_alloc(struct p *pp, unsigned spc) {
    tc_p_flush_if_asked(pp);
    struct mspan *s = pp->mcache.alloc[spc];
    if (s != &tc_emptyspan) {
        void *v = tc_span_take(s);
        if (v) return v;
    }
    if (tc_spanclass_kind(spc) == SPAN_MANUAL) return tc_own_refill(pp, spc);
    if (s != &tc_emptyspan) {
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
        if ((v = tc_span_take(s)) != NULL) break;
        tc_mcentral_uncache_span(s);
    }
    pp->mcache.alloc[spc] = s;
    if (tc_spanclass_kind(spc) != SPAN_MANUAL) /* collected memory: pacing */
        tc_gc_note_alloc((uint64_t)(s->nelems - tc_mspan_count(s) + 1) * s->elemsize,
                         tc_spanclass_kind(spc) == SPAN_SCAN);
    return v;
}

/* fork: the pool lock, then every P lock (their lists and pending stacks
 * are then whole in the child). */
void tc_p_lock_pool(void) {
    tc_lock(&pool_lock, LOCKRANK_PPOOL);
    tc_lock_all_begin(LOCKRANK_P);
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink) tc_lock(&pp->lock, LOCKRANK_P);
    tc_lock_all_end(LOCKRANK_P);
}
void tc_p_unlock_pool(void) {
    tc_lock_all_begin(LOCKRANK_P);
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink) tc_unlock(&pp->lock, LOCKRANK_P);
    tc_lock_all_end(LOCKRANK_P);
    tc_unlock(&pool_lock, LOCKRANK_PPOOL);
}

/* A bin after fork. An orphaned P's thread may have stopped inside a push,
 * a pop or a flush, leaving entries that were never written or whose
 * objects went back and may since be live. An entry is kept only if its
 * object is allocated in a span this P owns and its in-bin bit is set:
 * then it is free, because nothing hands an object out with that bit set.
 * The bit is cleared while the bins are scanned, so an object seen twice
 * is kept once; restore_bin sets it again. What is dropped is leaked,
 * which loses memory but never gives an object out twice. */
static void repair_bin(struct p *pp, struct freebin *b) {
    uint32_t kept = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        struct binent e = b->items[i];
        struct mspan *s = tc_in_heap((uintptr_t)e.p) ? tc_spanof((uintptr_t)e.p) : NULL;
        int exact;
        if (!s || s->state != MSPAN_INUSE || !s->freeable || (uintptr_t)e.p >= s->limit ||
            atomic_load_explicit(&s->xowner, memory_order_relaxed) != pp)
            continue;
        unsigned idx = tc_mspan_index(s, (uintptr_t)e.p, &exact);
        _Atomic uint64_t *w = &tc_mspan_binbits(s)[idx >> 6];
        uint64_t bit = 1ull << (idx & 63);
        if (!exact || e.wb != ((uintptr_t)w << 6 | (idx & 63)) ||
            !(tc_bits_load(&s->allocBits[idx >> 6]) & bit) || !(tc_bits_load(w) & bit))
            continue;
        tc_bits_store(w, tc_bits_load(w) & ~bit);
        b->items[kept++] = e;
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
    for (uint32_t i = 0; i < b->n; i++) {
        _Atomic uint64_t *w = tc_binent_word(b->items[i].wb);
        tc_bits_store(w, tc_bits_load(w) | tc_binent_bit(b->items[i].wb));
    }
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
    idle_ps = NULL;
    nidle = 0;
    struct p *self = tc_tls_p;
    if (self) {
        for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) repair_bin(self, &self->mcache.free[sc]);
        repair_large(&self->mcache);
    }
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink) {
        if (pp == self) continue;
        for (unsigned i = 0; i < TC_NUM_SPAN_CLASSES; i++)
            if (pp->mcache.alloc[i] != &tc_emptyspan) tc_mspan_repair(pp->mcache.alloc[i]);
        for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) repair_bin(pp, &pp->mcache.free[sc]);
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
