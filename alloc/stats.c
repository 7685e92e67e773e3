/* alloc/stats.c: gc_read_stats, gc_release_memory, gc_thread_idle and
 * gc_version: the allocator's part of the public API.
 *
 * Statistics never stop the world: heap counters are read under the heap
 * lock (a leaf lock held only for short list operations), per-P counters
 * are summed with relaxed loads, and cached-span free space is read racily
 * from each P's mcache (an estimate while threads allocate). */
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/lockrank.h"
#include "alloc/mcentral.h"
#include "alloc/mheap.h"
#include "alloc/region.h"
#include "gc/hooks.h"
#include "include/tricolor.h"

TC_INTERNAL uint64_t tc_alloc_nofree_p(unsigned sc, uint64_t *large_bytes);

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

TRICOLOR_API const char *gc_version(void) { return TRICOLOR_VERSION_STRING; }

/* Another P's cache is read without its lock, racing with that P on
 * purpose (the figure is an estimate): relaxed loads of words it may be
 * writing. Its current span may even be recycled meanwhile, so what is
 * read of it must be harmless in any state. Under ThreadSanitizer, which
 * checks atomics even in functions it does not instrument, the reads are
 * volatile ones in such a function instead. */
#if TC_TSAN
static TC_NO_SANITIZE_THREAD TC_NOINLINE uint64_t racy_u64(const void *p, size_t n) {
    return n == 8 ? *(const volatile uint64_t *)p : *(const volatile uint32_t *)p;
}
#define RACY(x) ((__typeof__((x) + 0))racy_u64(&(x), sizeof(x)))
#define RACY_ATOMIC(x) RACY(x)
#else
#define RACY(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define RACY_ATOMIC(x) atomic_load_explicit(&(x), memory_order_relaxed) /* an _Atomic field */
#endif

/* Free bytes a P holds: its free bins, its cached large spans and the free
 * slots of its spans (the current ones and the other owned ones). */
static uint64_t cached_free_bytes(struct p *pp) {
    uint64_t b = 0;
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++)
        b += (uint64_t)RACY(pp->mcache.free[sc].n) * tc_class_size(sc);
    b += (uint64_t)RACY(pp->mcache.largepages) * TC_PAGE_SIZE;
    b += LOAD(pp->mcache.ownfree);
    for (unsigned i = 0; i < TC_NUM_SPAN_CLASSES; i++) {
        unsigned sc = tc_spanclass_sizeclass(i);
        struct mspan *s = RACY(pp->mcache.alloc[i]);
        if (s == &tc_emptyspan || !s || sc == 0) continue;
        uint32_t n = (uint32_t)RACY_ATOMIC(s->xallocCount), nelems = tc_class_to_nelems[sc];
        if (n < nelems) b += (uint64_t)(nelems - n) * tc_class_size(sc);
    }
    return b;
}

/* A whole struct, copied out up to the caller's size. */
static void read_stats(struct gc_stats *st);

TRICOLOR_API int gc_read_stats(struct gc_stats *out) {
    size_t size = out->size;
    if (size < sizeof out->size) return -1;
    struct gc_stats st;
    read_stats(&st);
    st.size = size;
    memcpy(out, &st, size < sizeof st ? size : sizeof st);
    return 0;
}

static void read_stats(struct gc_stats *st) {
    tc_ensure_init();
    memset(st, 0, sizeof *st);
    struct mheap *h = &tc_mheap_;
    tc_region_begin();
    tc_lock(&h->lock, LOCKRANK_HEAP);
    st->heap_sys = h->pagesSys * TC_PAGE_SIZE;
    st->heap_inuse = h->pagesInUse * TC_PAGE_SIZE;
    st->heap_free = h->pagesFree * TC_PAGE_SIZE;
    st->heap_released = h->pagesReleased * TC_PAGE_SIZE;
    st->heap_released_total = h->releasedTotal;
    st->metadata_sys = tc_mheap_metadata_locked();
    tc_unlock(&h->lock, LOCKRANK_HEAP);
    tc_region_end();
    int64_t bytes = 0;
    uint64_t large_freed;
    for (unsigned sc = 0; sc < TC_NUM_SIZE_CLASSES; sc++) {
        uint64_t n = tc_alloc_nofree_p(sc, &large_freed);
        st->nfree += n;
        bytes -= (int64_t)(n * tc_class_size(sc));
    }
    bytes -= (int64_t)large_freed;
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink) {
        for (unsigned sc = 0; sc < TC_NUM_SIZE_CLASSES; sc++) {
            struct freebin *b = &pp->mcache.free[sc];
            uint64_t m = LOAD(pp->stats.nmalloc[sc]) + LOAD(pp->stats.ngcalloc[sc]) +
                         tc_freebin_pops(&pp->mcache, sc);
            uint64_t f = LOAD(pp->stats.nfree[sc]) + LOAD(b->npush);
            st->nmalloc += m;
            st->nfree += f;
            bytes += (int64_t)((m - f) * tc_class_size(sc));
            if (sc) st->total_alloc += m * tc_class_size(sc);
        }
        st->large_alloc += LOAD(pp->stats.nmalloc[0]) + LOAD(pp->stats.ngcalloc[0]);
        st->nmalloc += LOAD(pp->stats.ntiny);
        uint64_t large = LOAD(pp->stats.largeBytesMalloc) + LOAD(pp->stats.largeBytesGC);
        bytes += (int64_t)(large - LOAD(pp->stats.largeBytesFree));
        st->total_alloc += large;
        st->thread_cache_bytes += cached_free_bytes(pp);
        st->metadata_sys += sizeof(struct p);
        for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) /* the bins' entries */
            st->metadata_sys += pp->mcache.free[sc].cap * sizeof(struct binent);
    }
    st->alloc_bytes = bytes > 0 ? (uint64_t)bytes : 0;
    st->sys = st->heap_sys + st->metadata_sys;
    st->nprocs = tc_p_count(&st->nprocs_idle);
    tc_gc_read_stats(st);
}

/* Go's debug.FreeOSMemory: a cycle (if the collected heap is in use:
 * its sweep frees what died, and every P's collected spans were taken
 * back at its mark termination), then the caller's free bins and large
 * spans, the mcentrals' spare spans and every free page. Other threads'
 * bins go back at their next allocator slow path: they are touched
 * without any lock, so only their owners may empty them. */
TRICOLOR_API size_t gc_release_memory(void) {
    tc_ensure_init();
    tc_gc_collect_if_used();
    if (tc_tls_p) tc_mcache_flush_free(tc_tls_p); /* they hold pages */
    tc_p_ask_flush_all();
    tc_mcentral_release_spares();
    return tc_mheap_scavenge(0);
}

TRICOLOR_API void gc_thread_idle(void) {
    tc_p_release();
}
