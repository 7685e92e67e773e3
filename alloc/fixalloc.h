/* alloc/fixalloc.h: Go's fixalloc, a free-list allocator for fixed-size
 * off-heap metadata (mspan structs, bitmaps, Ps).
 *
 * Memory comes from the OS in 256 KiB chunks and is never returned; freed
 * blocks go on a LIFO free list and are reused. Not thread safe: every
 * fixalloc names the lock that guards it. */
#ifndef TC_ALLOC_FIXALLOC_H
#define TC_ALLOC_FIXALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/base.h"

struct fixalloc {
    size_t size;     /* bytes per block, a multiple of 8 */
    void *list;      /* free blocks, linked through their first word */
    char *chunk;     /* bump pointer into the current chunk */
    size_t nchunk;   /* bytes left in the current chunk */
    uint64_t inuse;  /* bytes handed out and not freed */
    uint64_t sys;    /* bytes mapped for this fixalloc */
};

TC_INTERNAL void tc_fixalloc_init(struct fixalloc *f, size_t size);
/* A zeroed block, or NULL when the OS refuses memory. */
TC_INTERNAL void *tc_fixalloc_alloc(struct fixalloc *f);
TC_INTERNAL void tc_fixalloc_free(struct fixalloc *f, void *p);

#endif
