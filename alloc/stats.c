/* alloc/stats.c: gc_read_stats, gc_release_memory, gc_thread_idle and
 * gc_version: the allocator's part of the public API.
 *
 * Statistics never stop the world: heap counters are read under the heap
 * lock (a leaf lock held only for short list operations), per-P counters
 * are summed with relaxed loads, and cached-span free space is read racily
 * from each P's mcache (an estimate while threads allocate). */
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/mheap.h"
#include "include/tricolor.h"

TC_INTERNAL void tc_alloc_remote_stats(uint64_t *nfree, uint64_t *bytes);

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

GC_API const char *gc_version(void) { return "0.1.0"; }

static uint64_t cached_free_bytes(struct p *pp) {
    uint64_t b = 0;
    for (unsigned i = 0; i < TC_NUM_SPAN_CLASSES; i++) {
        struct mspan *s = __atomic_load_n(&pp->mcache.alloc[i], __ATOMIC_RELAXED);
        if (s == &tc_emptyspan || !s) continue;
        uint32_t n = tc_mspan_count(s);
        if (n < s->nelems) b += (uint64_t)(s->nelems - n) * s->elemsize;
    }
    return b;
}

GC_API int gc_read_stats(struct gc_stats *st) {
    tc_ensure_init();
    memset(st, 0, sizeof *st);
    struct mheap *h = &tc_mheap_;
    pthread_mutex_lock(&h->lock);
    st->heap_sys = h->pagesSys * TC_PAGE_SIZE;
    st->heap_inuse = h->pagesInUse * TC_PAGE_SIZE;
    st->heap_free = h->pagesFree * TC_PAGE_SIZE;
    st->heap_released = h->pagesReleased * TC_PAGE_SIZE;
    st->metadata_sys = h->spanalloc.sys + h->arenaalloc.sys;
    for (size_t i = 1; i < sizeof h->bitsalloc / sizeof h->bitsalloc[0]; i++)
        st->metadata_sys += h->bitsalloc[i].sys;
    pthread_mutex_unlock(&h->lock);
    uint64_t bytes_malloc = 0, bytes_free = 0;
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink) {
        st->nmalloc += LOAD(pp->stats.nmalloc);
        st->nfree += LOAD(pp->stats.nfree);
        st->large_alloc += LOAD(pp->stats.nlarge);
        bytes_malloc += LOAD(pp->stats.bytesMalloc);
        bytes_free += LOAD(pp->stats.bytesFree);
        if (pp->status == P_RUNNING || pp->mcache.alloc[0]) st->thread_cache_bytes += cached_free_bytes(pp);
        st->metadata_sys += sizeof(struct p);
    }
    uint64_t rn, rb;
    tc_alloc_remote_stats(&rn, &rb);
    st->nfree += rn;
    bytes_free += rb;
    st->alloc_bytes = bytes_malloc > bytes_free ? bytes_malloc - bytes_free : 0;
    st->nprocs = tc_p_count(&st->nprocs_idle);
    return 0;
}

GC_API size_t gc_release_memory(void) {
    tc_ensure_init();
    return tc_mheap_scavenge(0);
}

GC_API void gc_thread_idle(void) {
    tc_p_release();
}
