/* gc/api.c: the collected heap's entry points.
 *
 * gc_alloc and gc_store are gc regions (alloc/region.h): a stop never
 * falls between the barrier's shading and its store, or between handing
 * out an object and marking it black, so the world is always seen either
 * before or after each of them. Allocation fast path (alloc_fast, inlined
 * into gc_alloc): the span cache, as for malloc, then zeroing (inline
 * stores for objects up to 64 bytes; skipped for memory fresh from the
 * OS) and, during marking, the mark bit (allocate black: the object holds
 * no pointer yet, and later stores go through the barrier). Its region is
 * entered without the fork gate's check: it takes no lock and moves no
 * span between structures, and a P a fork catches in the middle of it is
 * repaired in the child as for malloc's fast paths (alloc/mcache.c).
 * Everything else (a thread's first call, tiny and large objects, a span
 * used up) takes alloc_slow. gc_store, the other region, is the write
 * barrier's (gc/barrier.c). */
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/base.h"
#include "alloc/mcache.h"
#include "alloc/mheap.h"
#include "alloc/mspan.h"
#include "alloc/options.h"
#include "alloc/region.h"
#include "alloc/report.h"
#include "alloc/sizeclass.h"
#include "gc/assist.h"
#include "gc/cycle.h"
#include "gc/mark.h"
#include "gc/phase.h"
#include "gc/roots.h"
#include "gc/stw.h"
#include "gc/threads.h"
#include "include/tricolor.h"

/* Zero a slot: overlapping fixed-size stores up to 64 bytes (a call to
 * memset cost more than the stores for the commonest objects). */
TC_INLINE void zero_slot(void *v, uintptr_t n) {
    char *p = v;
    if (n <= 16) {
        __builtin_memset(p, 0, 8);
        __builtin_memset(p + n - 8, 0, 8);
    } else if (n <= 32) {
        __builtin_memset(p, 0, 16);
        __builtin_memset(p + n - 16, 0, 16);
    } else if (n <= 64) {
        __builtin_memset(p, 0, 32);
        __builtin_memset(p + n - 32, 0, 32);
    } else {
        memset(p, 0, n);
    }
}

static TC_NOINLINE void *alloc_slow(size_t size, enum span_kind kind) {
    tc_ensure_init();
    if (TC_UNLIKELY(!atomic_load_explicit(&tc_collected_used, memory_order_relaxed)))
        tc_note_collected_use();
    tc_region_enter();
    struct p *pp = tc_tls_p;
    struct mspan *s = NULL;
    void *v = NULL;
    if (kind == SPAN_NOSCAN && size > 0 && size < TC_TINY_SIZE) {
        v = tc_tiny_alloc(size);
    } else if (pp && size <= TC_MAX_SMALL_SIZE) {
        unsigned sc = tc_size_to_class(size), spc = tc_spanclass(sc, kind);
        s = pp->mcache.alloc[spc];
        v = tc_mspan_alloc_fast(s);
        if (!v) {
            v = tc_mcache_refill_alloc(pp, spc);
            s = pp->mcache.alloc[spc];
        }
        if (v) {
            tc_stat_add(&pp->stats.ngcalloc[sc], 1);
            if (s->needzero) zero_slot(v, s->elemsize);
        }
    } else {
        v = tc_alloc_slow(size, kind, 1, 0);
    }
    if (v && atomic_load_explicit(&tc_gcphase, memory_order_relaxed) >= GC_MARK)
        tc_mark_black(tc_tls_p, s ? s : tc_spanof((uintptr_t)v), (uintptr_t)v);
    tc_region_end();
    if (TC_UNLIKELY(tc_populate_lo)) tc_mheap_populate(); /* outside the region: stops never wait */
    if (TC_UNLIKELY(tc_assist_debt)) tc_gc_assist();
    if (TC_UNLIKELY(tc_gc_opts.stress)) tc_gc_stress_tick();
    if (TC_UNLIKELY(!tc_tls_gcp) && tc_gthread) tc_tls_gcp = tc_tls_p; /* the fast path's */
    return v;
}

/* Allocate-black for slot idx of s, just handed out by pp, while a cycle
 * marks: tc_mark_black without the lookup, the index being known. */
TC_INLINE void mark_black_idx(struct p *pp, struct mspan *s, unsigned idx) {
    if (TC_UNLIKELY(atomic_load_explicit(&tc_gcphase, memory_order_relaxed) >= GC_MARK)) {
        tc_mspan_set_marked(s, idx);
        tc_stat_add(&pp->gc_black_bytes, s->elemsize);
    }
}

/* The fast path's own slow cases, each a tail call from it, so that the
 * fast path saves no register and sets up no frame. */

/* Inside the region (depth 1) when the stop poll was up: the path as it
 * was before the fast path's shortcuts, entering properly. */
static TC_NOINLINE void *alloc_in_region(struct p *pp, size_t size, enum span_kind kind) {
    if (atomic_load_explicit(&tc_stop_poll, memory_order_acquire)) tc_gc_region_enter_slow();
    atomic_signal_fence(memory_order_seq_cst);
    unsigned sc = tc_size_to_class(size);
    struct mspan *s = pp->mcache.alloc[tc_spanclass(sc, kind)];
    void *v = tc_mspan_alloc_fast(s);
    if (!v) {
        tc_region_end();
        return alloc_slow(size, kind);
    }
    tc_stat_add(&pp->stats.ngcalloc[sc], 1);
    if (s->needzero) zero_slot(v, s->elemsize);
    if (atomic_load_explicit(&tc_gcphase, memory_order_relaxed) >= GC_MARK)
        tc_mark_black(pp, s, (uintptr_t)v);
    tc_region_end();
    if (TC_UNLIKELY(tc_assist_debt)) tc_gc_assist();
    return v;
}

/* The span is used up: leave the region, then refill. */
static TC_NOINLINE void *alloc_refill(size_t size, enum span_kind kind) {
    tc_region_end();
    return alloc_slow(size, kind);
}

/* Out of the region (depth 0 stored), a stop asked or an assist owed. */
static TC_NOINLINE void *alloc_done_slow(void *v) {
    if (tc_region_pending | atomic_load_explicit(&tc_stop_poll, memory_order_relaxed))
        tc_gc_region_exit_slow();
    if (tc_assist_debt) tc_gc_assist();
    return v;
}

/* The end of the fast path for slots over 64 bytes that need zeroing. */
static TC_NOINLINE void *alloc_zero_finish(struct p *pp, struct mspan *s, void *v, unsigned idx) {
    memset(v, 0, s->elemsize);
    mark_black_idx(pp, s, idx);
    tc_region_end();
    if (TC_UNLIKELY(tc_assist_debt)) tc_gc_assist();
    return v;
}

/* Promise: no lock, no atomic read-modify-write, no call: the slow cases
 * (a slot over 64 bytes to zero among them) are tail calls.
 * The region is entered and left as tc_region_begin and tc_region_end do
 * for an outermost region; any other depth, or a stop asked for, takes
 * the slow paths. The phase is read once, inside the region: each change
 * of it is followed by a handshake or a stop, which waits for the region
 * to end (gc/phase.h). Allocate-black needs no lookup: the slot's index
 * is known. */
TC_INLINE void *alloc_fast(size_t size, enum span_kind kind) {
    struct p *pp = tc_tls_gcp;
    if (TC_UNLIKELY(!pp || size - 1 >= TC_MAX_SMALL_SIZE ||
                    (kind == SPAN_NOSCAN && size < TC_TINY_SIZE) || tc_region_depth != 0))
        return alloc_slow(size, kind);
    tc_region_depth = 1;
    atomic_signal_fence(memory_order_seq_cst);
    if (TC_UNLIKELY(atomic_load_explicit(&tc_stop_poll, memory_order_acquire)))
        return alloc_in_region(pp, size, kind);
    atomic_signal_fence(memory_order_seq_cst);
    unsigned sc = tc_size_to_class(size);
    struct mspan *s = pp->mcache.alloc[tc_spanclass(sc, kind)];
    unsigned idx;
    void *v = tc_mspan_alloc_fast_idx(s, &idx);
    if (TC_UNLIKELY(!v)) return alloc_refill(size, kind);
    tc_stat_add(&pp->stats.ngcalloc[sc], 1);
    if (s->needzero) {
        if (TC_UNLIKELY(s->elemsize > 64)) return alloc_zero_finish(pp, s, v, idx);
        zero_slot(v, s->elemsize);
    }
    mark_black_idx(pp, s, idx);
    atomic_signal_fence(memory_order_seq_cst);
    __atomic_store_n(&tc_region_depth, 0, __ATOMIC_RELEASE);
    atomic_signal_fence(memory_order_seq_cst);
    uint32_t poll = atomic_load_explicit(&tc_stop_poll, memory_order_relaxed);
    if (TC_UNLIKELY(tc_region_pending | poll | (tc_assist_debt != 0))) return alloc_done_slow(v);
    return v;
}

TRICOLOR_API void *gc_alloc(size_t size) { return alloc_fast(size, SPAN_SCAN); }
TRICOLOR_API void *gc_alloc_noscan(size_t size) { return alloc_fast(size, SPAN_NOSCAN); }

TRICOLOR_API void *gc_alloc_uncollectable(size_t size) {
    void *v = alloc_slow(size, SPAN_SCAN);
    if (v) gc_add_roots(v, (char *)v + (size ? size : 1));
    return v;
}

TRICOLOR_API void gc_free(void *p) {
    if (!p || tc_roots_remove_object((uintptr_t)p)) return;
    tc_print("%sgc_free(): %p is not an uncollectable object",
             tc_opts.badfree == BADFREE_WARN ? "tricolor: warning: " : "tricolor: ", p);
    if (tc_opts.badfree != BADFREE_WARN) abort();
}

TRICOLOR_API __attribute__((noinline)) void gc_keepalive(const void *p) {
    __asm__ volatile("" : : "r"(p) : "memory");
}

TRICOLOR_API int gc_register_thread(void) {
    tc_ensure_init();
    return tc_thread_register() ? 0 : -1;
}

TRICOLOR_API int gc_unregister_thread(void) {
    tc_thread_unregister();
    return 0;
}

/* After the allocator's constructor (priority 200). */
__attribute__((constructor(201))) static void gc_constructor(void) {
    tc_ensure_init();
    tc_gc_init();
}
