/* gc/bulkbarrier.c: the bulk write barrier, for copies that move pointers.
 *
 * gc_store shades the pointer it overwrites and the one it writes (the
 * hybrid barrier, gc/barrier.c). C moves pointers in bulk too: memcpy and
 * memmove, struct assignment, memset over pointer fields, and library
 * sorts that park elements in malloc'd buffers the collector never sees.
 * Done behind the barrier's back while marking, such a move can leave an
 * object referenced only from an object already scanned (black), and the
 * sweep frees it. Go's answer is typedmemmove: bulkBarrierPreWrite
 * shades, for every pointer slot of the destination, the old value and
 * the new one, then the bytes are copied. Ours is the same, with every
 * word a possible pointer (the collector is conservative):
 *
 *   gc_memmove/gc_memcpy  shade the destination's words (the values being
 *                         overwritten) and the source's (the values being
 *                         written), then copy;
 *   gc_memclr             shade the destination's words, then zero them;
 *   gc_qsort              sort by swapping elements, each swap shading
 *                         both elements' words first: the values only
 *                         change places, so that shades every value that
 *                         moves. The comparator runs outside any region.
 *
 * Each step (at most CHUNK bytes) is one gc region: the phase cannot
 * change between the shading and the copy, so a copy made with the
 * barrier off is one the next cycle's root and stack scans see complete,
 * and mark termination cannot fall between the shading and the copy.
 * Outside marking a step costs a region and a phase check on top of the
 * copy. Overlapping moves go chunk by chunk in the safe direction. */
#include <string.h>

#include "alloc/region.h"
#include "gc/mark.h"
#include "gc/phase.h"
#include "gc/stw.h"
#include "include/tricolor.h"

#define CHUNK ((size_t)4096)

static int marking(void) {
    return atomic_load_explicit(&tc_gcphase, memory_order_relaxed) != GC_OFF;
}

/* One step: dst and src may overlap (memmove); src NULL: zero. */
static void step(char *dst, const char *src, size_t n) {
    tc_region_enter();
    if (marking()) {
        tc_scan_range((uintptr_t)dst, (uintptr_t)dst + n);
        if (src) tc_scan_range((uintptr_t)src, (uintptr_t)src + n);
    }
    if (src) memmove(dst, src, n);
    else memset(dst, 0, n);
    tc_region_end();
}

TRICOLOR_API void *gc_memmove(void *dst, const void *src, size_t n) {
    char *d = dst;
    const char *s = src;
    if (d <= s || d >= s + n) { /* forwards */
        for (size_t off = 0; off < n; off += CHUNK)
            step(d + off, s + off, n - off < CHUNK ? n - off : CHUNK);
    } else { /* dst overlaps src from above: backwards */
        for (size_t end = n; end > 0;) {
            size_t k = end < CHUNK ? end : CHUNK;
            end -= k;
            step(d + end, s + end, k);
        }
    }
    return dst;
}

TRICOLOR_API void *gc_memcpy(void *dst, const void *src, size_t n) {
    return gc_memmove(dst, src, n);
}

TRICOLOR_API void gc_memclr(void *dst, size_t n) {
    char *d = dst;
    for (size_t off = 0; off < n; off += CHUNK) step(d + off, NULL, n - off < CHUNK ? n - off : CHUNK);
}

/* ---- gc_qsort: introsort made only of swaps ---- */

struct sorter {
    char *base;
    size_t size;
    int (*cmp)(const void *, const void *, void *);
    void *arg;
};

static void swap_bytes(char *a, char *b, size_t n) {
    unsigned char tmp[256];
    while (n) {
        size_t k = n < sizeof tmp ? n : sizeof tmp;
        memcpy(tmp, a, k);
        memcpy(a, b, k);
        memcpy(b, tmp, k);
        a += k, b += k, n -= k;
    }
}

static void swap(struct sorter *q, size_t i, size_t j) {
    if (i == j) return;
    char *a = q->base + i * q->size, *b = q->base + j * q->size;
    for (size_t off = 0; off < q->size; off += CHUNK) {
        size_t k = q->size - off < CHUNK ? q->size - off : CHUNK;
        tc_region_enter();
        if (marking()) {
            tc_scan_range((uintptr_t)(a + off), (uintptr_t)(a + off + k));
            tc_scan_range((uintptr_t)(b + off), (uintptr_t)(b + off + k));
        }
        swap_bytes(a + off, b + off, k);
        tc_region_end();
    }
}

static int less(struct sorter *q, size_t i, size_t j) {
    return q->cmp(q->base + i * q->size, q->base + j * q->size, q->arg) < 0;
}

static void insertion(struct sorter *q, size_t lo, size_t hi) {
    for (size_t i = lo + 1; i < hi; i++)
        for (size_t j = i; j > lo && less(q, j, j - 1); j--) swap(q, j, j - 1);
}

static void sift_down(struct sorter *q, size_t lo, size_t root, size_t n) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n) return;
        if (child + 1 < n && less(q, lo + child, lo + child + 1)) child++;
        if (!less(q, lo + root, lo + child)) return;
        swap(q, lo + root, lo + child);
        root = child;
    }
}

static void heapsort_range(struct sorter *q, size_t lo, size_t hi) {
    size_t n = hi - lo;
    for (size_t i = n / 2; i-- > 0;) sift_down(q, lo, i, n);
    for (size_t end = n; end-- > 1;) {
        swap(q, lo, lo + end);
        sift_down(q, lo, 0, end);
    }
}

/* Median of three into lo, then Hoare's partition around it; returns the
 * pivot's final place. */
static size_t partition(struct sorter *q, size_t lo, size_t hi) {
    size_t mid = lo + (hi - lo) / 2, last = hi - 1;
    if (less(q, mid, lo)) swap(q, mid, lo);
    if (less(q, last, mid)) {
        swap(q, last, mid);
        if (less(q, mid, lo)) swap(q, mid, lo);
    }
    swap(q, lo, mid); /* the median is the pivot, at lo */
    size_t i = lo + 1, j = last;
    for (;;) {
        while (i <= j && less(q, i, lo)) i++;
        while (j > lo && less(q, lo, j)) j--;
        if (i >= j) break;
        swap(q, i++, j--);
    }
    swap(q, lo, j);
    return j;
}

static void introsort(struct sorter *q, size_t lo, size_t hi, unsigned depth) {
    while (hi - lo > 16) {
        if (depth-- == 0) {
            heapsort_range(q, lo, hi);
            return;
        }
        size_t p = partition(q, lo, hi);
        if (p - lo < hi - p - 1) { /* recurse on the smaller side */
            introsort(q, lo, p, depth);
            lo = p + 1;
        } else {
            introsort(q, p + 1, hi, depth);
            hi = p;
        }
    }
    insertion(q, lo, hi);
}

TRICOLOR_API void gc_qsort_r(void *base, size_t nmemb, size_t size,
                             int (*cmp)(const void *, const void *, void *), void *arg) {
    if (nmemb < 2 || size == 0) return;
    struct sorter q = {base, size, cmp, arg};
    unsigned depth = 0;
    for (size_t n = nmemb; n; n >>= 1) depth += 2;
    introsort(&q, 0, nmemb, depth);
}

static int call_plain(const void *a, const void *b, void *cmp) {
    return ((int (*)(const void *, const void *))cmp)(a, b);
}

TRICOLOR_API void gc_qsort(void *base, size_t nmemb, size_t size,
                           int (*cmp)(const void *, const void *)) {
    gc_qsort_r(base, nmemb, size, call_plain, (void *)cmp);
}
