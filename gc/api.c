/* gc/api.c: the collected heap's entry points.
 *
 * gc_alloc and gc_store are gc regions (alloc/region.h): a stop never
 * falls between the barrier's shading and its store, or between handing
 * out an object and marking it black, so the world is always seen either
 * before or after each of them. Allocation fast path: the span cache, as
 * for malloc, then zeroing (skipped for memory fresh from the OS) and,
 * during marking, the mark bit (allocate black: the object holds no
 * pointer yet, and later stores go through the barrier). */
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/options.h"
#include "alloc/report.h"
#include "gc/gc.h"
#include "gc/hooks.h"
#include "include/tricolor.h"

static void *alloc_object(size_t size, enum span_kind kind) {
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
            tc_stat_add(&pp->stats.nmalloc[sc], 1);
            if (s->needzero) memset(v, 0, s->elemsize);
        }
    } else {
        v = tc_alloc_slow(size, kind, 1, 0);
    }
    if (v && atomic_load_explicit(&tc_gcphase, memory_order_relaxed) >= GC_MARK)
        tc_mark_black(tc_tls_p, s ? s : tc_spanof((uintptr_t)v), (uintptr_t)v);
    tc_region_end();
    if (TC_UNLIKELY(tc_assist_debt)) tc_gc_assist();
    if (TC_UNLIKELY(tc_gc_opts.stress)) tc_gc_stress_tick();
    return v;
}

TRICOLOR_API void *gc_alloc(size_t size) { return alloc_object(size, SPAN_SCAN); }
TRICOLOR_API void *gc_alloc_noscan(size_t size) { return alloc_object(size, SPAN_NOSCAN); }

TRICOLOR_API void *gc_alloc_uncollectable(size_t size) {
    void *v = alloc_object(size, SPAN_SCAN);
    if (v) gc_add_roots(v, (char *)v + (size ? size : 1));
    return v;
}

TRICOLOR_API void gc_free(void *p) {
    if (!p || tc_roots_remove_object((uintptr_t)p)) return;
    tc_print("%sgc_free(): %p is not an uncollectable object",
             tc_opts.badfree == BADFREE_WARN ? "tricolor: warning: " : "tricolor: ", p);
    if (tc_opts.badfree != BADFREE_WARN) abort();
}

TRICOLOR_API void gc_store(void **slot, void *value) {
    struct gthread *t = tc_region_enter();
    if (atomic_load_explicit(&tc_gcphase, memory_order_relaxed) != GC_OFF) {
        tc_wb_shade(t, (uintptr_t)*slot); /* Yuasa: the pointer being deleted */
        tc_wb_shade(t, (uintptr_t)value); /* Dijkstra: the pointer being inserted */
    }
    *slot = value;
    tc_region_end();
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
