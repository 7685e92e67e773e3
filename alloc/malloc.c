/* alloc/malloc.c: the malloc family, the only file that names libc's
 * allocation symbols.
 *
 * Each function is a thin wrapper: C semantics (errno, overflow, NULL
 * and zero sizes, alignment rules) here, the work in alloc.c. glibc's
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
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "alloc/mheap.h"
#include "include/tricolor.h"

#define EXPORT __attribute__((visibility("default")))

static size_t page_size(void) {
    static size_t ps;
    if (!ps) ps = (size_t)getpagesize();
    return ps;
}

EXPORT void *malloc(size_t size) {
    void *p = tc_alloc(size, SPAN_MANUAL);
    if (TC_UNLIKELY(!p)) errno = ENOMEM;
    return p;
}

EXPORT void free(void *p) {
    if (TC_LIKELY(tc_free_fast(p))) return;
    if (p) tc_free_slow(p, "free()");
}

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
