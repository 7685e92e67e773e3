/* alloc/sizeclass.h: size -> size class -> span class.
 *
 * Legend (as in Go): a size class (0..67) is an object size from the
 * generated table, 0 meaning "large"; a span class adds what the span
 * holds: scan (collected, scanned), noscan (collected, pointer-free) or
 * manual (malloc'd: never scanned, never collected, freed by free()).
 * spanclass = sizeclass << 2 | kind, so the three kinds of one size never
 * share a span and "manual" memory stays apart from collectable memory. */
#ifndef TC_ALLOC_SIZECLASS_H
#define TC_ALLOC_SIZECLASS_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/base.h"
#include "alloc/sizeclasses.h"

enum span_kind {
    SPAN_SCAN = 0,   /* collected, scanned conservatively */
    SPAN_NOSCAN = 1, /* collected, never scanned */
    SPAN_MANUAL = 2, /* malloc'd: explicit free only */
};

#define TC_NUM_SPAN_CLASSES (TC_NUM_SIZE_CLASSES * 4)
/* The tiny allocator's blocks: 16-byte noscan objects (Go's class 2). */
#define TC_TINY_SIZE 16
#define TC_TINY_SPANCLASS ((2u << 2) | SPAN_NOSCAN)

TC_INLINE unsigned tc_spanclass(unsigned sizeclass, enum span_kind kind) {
    return sizeclass << 2 | (unsigned)kind;
}
TC_INLINE unsigned tc_spanclass_sizeclass(unsigned spc) { return spc >> 2; }
TC_INLINE enum span_kind tc_spanclass_kind(unsigned spc) {
    return (enum span_kind)(spc & 3);
}

/* Size class of a small size (size <= TC_MAX_SMALL_SIZE). */
TC_INLINE unsigned tc_size_to_class(size_t size) {
    if (size <= TC_SMALL_SIZE_MAX - 8)
        return tc_size_to_class8[(size + TC_SMALL_SIZE_DIV - 1) / TC_SMALL_SIZE_DIV];
    return tc_size_to_class128[(size - TC_SMALL_SIZE_MAX + TC_LARGE_SIZE_DIV - 1) /
                               TC_LARGE_SIZE_DIV];
}

TC_INLINE size_t tc_class_size(unsigned sizeclass) {
    return tc_class_to_size[sizeclass];
}

/* What free's fast path needs of a size class, in one 8-byte entry (one
 * table load instead of three); filled at initialisation from the tables
 * above. */
struct classinfo {
    uint32_t divmagic; /* tc_class_to_divmagic */
    uint32_t nwords;   /* bitmap words of one span: (nelems + 63) / 64 */
};
TC_INTERNAL extern struct classinfo tc_classinfo[TC_NUM_SIZE_CLASSES];

#endif
