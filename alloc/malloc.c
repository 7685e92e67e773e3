/* alloc/malloc.c: the malloc family, the only file that names libc's
 * allocation symbols.
 *
 * Each function is a thin wrapper: C semantics (errno, overflow, NULL
 * and zero sizes, alignment rules) here, the work in alloc.c. glibc's
 * statistics calls (mallinfo2, mallinfo, malloc_stats, malloc_info)
 * answer with tricolor's figures (mstats.c), not glibc's arena's. glibc's
 * __libc_* names are aliases so that glibc-internal callers and static
 * links land here too. C++ operator new/delete call malloc/free, so they
 * come along without code of ours.
 *
 * Semantics chosen where C leaves room, matching glibc: malloc(0) returns
 * a unique pointer (an 8-byte slot); realloc(p, 0) frees p and returns
 * NULL; objects are aligned to the largest power of two dividing their
 * size class (at least 8, and 16 for every request of 32 bytes or more,
 * which covers every type that fits: Go's rule). */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "alloc/mheap.h"
#include "alloc/mstats.h"
#include "include/tricolor.h"

#define EXPORT __attribute__((visibility("default")))

static size_t page_size(void) {
    static size_t ps;
    if (!ps) ps = (size_t)getpagesize();
    return ps;
}

EXPORT void *malloc(size_t size) { return tc_alloc(size, SPAN_MANUAL); /* errno: tc_alloc_slow */ }

EXPORT void free(void *p) { tc_free_path(p, "free()"); }

EXPORT void cfree(void *p) {
    if (p) tc_free(p, "free()");
}

EXPORT void *calloc(size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = tc_alloc_slow(total, SPAN_MANUAL, 1, 0);
    if (!p) errno = ENOMEM;
    return p;
}

EXPORT void *realloc(void *p, size_t size) {
    if (!p) return malloc(size);
    if (size == 0) {
        tc_free(p, "realloc()");
        return NULL;
    }
    int bad;
    void *q = tc_realloc(p, size, &bad);
    if (!q) errno = bad ? EINVAL : ENOMEM;
    return q;
}

EXPORT void *reallocarray(void *p, size_t n, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, total);
}

static int pow2(size_t a) { return a && (a & (a - 1)) == 0; }

static void *aligned(size_t align, size_t size) {
    void *p = tc_alloc_slow(size, SPAN_MANUAL, 0, align);
    if (!p) errno = ENOMEM;
    return p;
}

EXPORT int posix_memalign(void **out, size_t align, size_t size) {
    if (!pow2(align) || align % sizeof(void *)) return EINVAL;
    int saved = errno;
    void *p = aligned(align, size);
    errno = saved;
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t size) {
    if (!pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned(align, size);
}

EXPORT void *memalign(size_t align, size_t size) {
    if (align == 0) align = 1;
    if (!pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned(align, size);
}

EXPORT void *valloc(size_t size) { return aligned(page_size(), size); }

EXPORT void *pvalloc(size_t size) {
    size_t ps = page_size(), rounded = TC_ALIGN_UP(size ? size : 1, ps);
    if (rounded < size) {
        errno = ENOMEM;
        return NULL;
    }
    return aligned(ps, rounded);
}

EXPORT size_t malloc_usable_size(void *p) {
    return p ? tc_usable_size(p, "malloc_usable_size()") : 0;
}

EXPORT int malloc_trim(size_t pad) {
    tc_ensure_init();
    if (pad == 0) return gc_release_memory() > 0;
    return tc_mheap_scavenge(pad) > 0;
}

/* ---- glibc's statistics calls, answered with tricolor's figures ----
 *
 * mallinfo2's fields, as tricolor fills them (glibc's arena notions do not
 * map one to one; every size is in bytes):
 *   arena     heap address space mapped (heap_sys)
 *   ordblks   free spans' bytes count as one block (1 if any, else 0)
 *   hblks     live large objects (> 32 KiB: a span each, glibc's mmapped
 *             chunks); hblkhd their bytes
 *   uordblks  bytes in live objects (alloc_bytes)
 *   fordblks  arena - uordblks: mapped but not in a live object
 *   fsmblks   free bytes held in threads' caches (thread_cache_bytes)
 *   keepcost  free bytes still resident, what malloc_trim(0) gives back
 *   smblks, usmblks  0 */
static struct mallinfo2 info2(void) {
    tc_ensure_init();
    struct gc_stats st = GC_STATS_INIT;
    gc_read_stats(&st);
    struct tc_classstats cs[TC_NUM_SIZE_CLASSES];
    tc_mstats_read(cs);
    struct mallinfo2 mi = {0};
    mi.arena = st.heap_sys;
    mi.ordblks = st.heap_free > 0;
    mi.hblks = cs[0].live;
    mi.hblkhd = cs[0].bytes;
    mi.uordblks = st.alloc_bytes;
    mi.fordblks = st.heap_sys > st.alloc_bytes ? st.heap_sys - st.alloc_bytes : 0;
    mi.fsmblks = st.thread_cache_bytes;
    mi.keepcost = st.heap_free - st.heap_released;
    return mi;
}

EXPORT struct mallinfo2 mallinfo2(void) { return info2(); }

/* The old int-sized form: each field clamped to INT_MAX. */
EXPORT struct mallinfo mallinfo(void) {
    struct mallinfo2 m = info2();
#define CLAMP(x) ((x) > INT_MAX ? INT_MAX : (int)(x))
    struct mallinfo mi = {CLAMP(m.arena),   CLAMP(m.ordblks),  CLAMP(m.smblks),
                          CLAMP(m.hblks),   CLAMP(m.hblkhd),   CLAMP(m.usmblks),
                          CLAMP(m.fsmblks), CLAMP(m.uordblks), CLAMP(m.fordblks),
                          CLAMP(m.keepcost)};
#undef CLAMP
    return mi;
}

EXPORT void malloc_stats(void) { gc_stats_print(); }

/* glibc's XML shape (malloc_info(3)): one heap, per size class a <size>
 * element for its free slots in live spans, then totals. options must be
 * 0, as glibc requires. */
EXPORT int malloc_info(int options, FILE *fp) {
    if (options != 0) return EINVAL;
    tc_ensure_init();
    struct gc_stats st = GC_STATS_INIT;
    gc_read_stats(&st);
    struct tc_classstats cs[TC_NUM_SIZE_CLASSES];
    tc_mstats_read(cs);
    fprintf(fp, "<malloc version=\"1\" allocator=\"tricolor %s\">\n<heap nr=\"0\">\n<sizes>\n",
            gc_version());
    uint64_t nfree = 0, free_bytes = 0;
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) {
        uint64_t slots = cs[sc].spanbytes / tc_class_size(sc);
        uint64_t n = slots > cs[sc].live ? slots - cs[sc].live : 0;
        if (!n && !cs[sc].live) continue;
        fprintf(fp, "  <size from=\"%zu\" to=\"%zu\" total=\"%ju\" count=\"%ju\" live=\"%ju\"/>\n",
                sc > 1 ? tc_class_size(sc - 1) + 1 : 1, tc_class_size(sc),
                (uintmax_t)(n * tc_class_size(sc)), (uintmax_t)n, (uintmax_t)cs[sc].live);
        nfree += n;
        free_bytes += n * tc_class_size(sc);
    }
    fprintf(fp, "</sizes>\n<total type=\"fast\" count=\"%ju\" size=\"%ju\"/>\n",
            (uintmax_t)nfree, (uintmax_t)free_bytes);
    fprintf(fp, "<total type=\"rest\" count=\"%d\" size=\"%ju\"/>\n", st.heap_free > 0,
            (uintmax_t)st.heap_free);
    fprintf(fp, "<system type=\"current\" size=\"%ju\"/>\n<system type=\"max\" size=\"%ju\"/>\n",
            (uintmax_t)st.heap_sys, (uintmax_t)st.heap_sys);
    fprintf(fp, "<aspace type=\"total\" size=\"%ju\"/>\n<aspace type=\"mprotect\" size=\"%ju\"/>\n",
            (uintmax_t)st.heap_sys, (uintmax_t)(st.heap_sys - st.heap_released));
    fprintf(fp, "</heap>\n<total type=\"mmap\" count=\"%ju\" size=\"%ju\"/>\n",
            (uintmax_t)cs[0].live, (uintmax_t)cs[0].bytes);
    fprintf(fp, "<system type=\"current\" size=\"%ju\"/>\n<system type=\"max\" size=\"%ju\"/>\n",
            (uintmax_t)st.heap_sys, (uintmax_t)st.heap_sys);
    fprintf(fp, "<aspace type=\"total\" size=\"%ju\"/>\n<aspace type=\"mprotect\" size=\"%ju\"/>\n"
                "</malloc>\n",
            (uintmax_t)st.heap_sys, (uintmax_t)(st.heap_sys - st.heap_released));
    return 0;
}

/* glibc's internal names. gcc's copy attribute gives each alias its
 * target's attributes (gcc warns without it); clang has none to copy. */
#if defined(__has_attribute)
#if __has_attribute(copy)
#define ALIAS_OF(f) __attribute__((alias(#f), copy(f)))
#endif
#endif
#ifndef ALIAS_OF
#define ALIAS_OF(f) __attribute__((alias(#f)))
#endif
EXPORT void *__libc_malloc(size_t) ALIAS_OF(malloc);
EXPORT void __libc_free(void *) ALIAS_OF(free);
EXPORT void *__libc_calloc(size_t, size_t) ALIAS_OF(calloc);
EXPORT void *__libc_realloc(void *, size_t) ALIAS_OF(realloc);
EXPORT void *__libc_memalign(size_t, size_t) ALIAS_OF(memalign);
EXPORT void *__libc_valloc(size_t) ALIAS_OF(valloc);
EXPORT void *__libc_pvalloc(size_t) ALIAS_OF(pvalloc);
