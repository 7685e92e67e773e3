/* alloc/fixalloc.h: Go's fixalloc, a free-list allocator for fixed-size
 * off-heap metadata (mspan structs, bitmaps, Ps), whose free pages can go
 * back to the OS.
 *
 * Blocks of up to TC_FIXUNIT bytes come from 2 MiB chunks cut into
 * 4 KiB units, no block straddling two; a chunk's first unit holds its
 * header: per unit, how many of its blocks are on the free list, and
 * whether its blocks are threaded on the list at all. A unit whose blocks
 * are all free can be given back (tc_fixalloc_release), and a fresh
 * chunk's units start out that way: the memory is touched only when the
 * list runs dry and a unit is threaded again. Bigger blocks (arena
 * records) get chunks of their own and are never given back.
 *
 * Not thread safe: every fixalloc names the lock that guards it. */
#ifndef TC_ALLOC_FIXALLOC_H
#define TC_ALLOC_FIXALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/base.h"

#define TC_FIXUNIT 4096u

struct fixchunk;

struct fixalloc {
    size_t size;     /* bytes per block, a multiple of 8 */
    unsigned perunit; /* blocks per unit (0: big blocks, a chunk each) */
    void *list;      /* free blocks, linked through their first word */
    struct fixchunk *chunks; /* every chunk, newest first (small blocks) */
    uint64_t nunthreaded; /* units whose blocks are not on the list, of every chunk */
    char *chunk;     /* big blocks: bump pointer into the current chunk */
    size_t nchunk;   /* big blocks: bytes left in the current chunk */
    uint64_t inuse;  /* bytes handed out and not freed */
    uint64_t sys;    /* bytes mapped for this fixalloc */
    uint64_t released; /* bytes of sys not resident: unthreaded units */
};

TC_INTERNAL void tc_fixalloc_init(struct fixalloc *f, size_t size);
/* A zeroed block, or NULL when the OS refuses memory. */
TC_INTERNAL void *tc_fixalloc_alloc(struct fixalloc *f);
TC_INTERNAL void tc_fixalloc_free(struct fixalloc *f, void *p);

/* A run of units being given back: taken off the allocator by
 * tc_fixalloc_release_take (lock held), madvised by the caller without
 * the lock, handed back by tc_fixalloc_release_done (lock held). */
struct fixrun {
    struct fixchunk *c;
    unsigned first, n; /* units [first, first + n) of chunk c */
};
/* Take up to max runs of units whose blocks are all free off the list:
 * they are neither allocated nor threaded again until _done. Returns the
 * number of runs. */
TC_INTERNAL unsigned tc_fixalloc_release_take(struct fixalloc *f, struct fixrun *runs,
                                              unsigned max);
/* The memory of run r (to madvise). */
TC_INTERNAL void *tc_fixrun_addr(const struct fixrun *r);
TC_INTERNAL void tc_fixalloc_release_done(struct fixalloc *f, const struct fixrun *runs,
                                          unsigned n);

/* The other way: up to max runs of units not on the list, enough for
 * nblocks more blocks than the list holds (none if it holds that many),
 * taken aside so that the caller can fault their pages in without the
 * lock; tc_fixalloc_prefault_done (lock held) puts their blocks on the
 * list. Fresh chunks are not added. */
TC_INTERNAL unsigned tc_fixalloc_prefault_take(struct fixalloc *f, size_t nblocks,
                                               struct fixrun *runs, unsigned max);
TC_INTERNAL void tc_fixalloc_prefault_done(struct fixalloc *f, const struct fixrun *runs,
                                           unsigned n);

#endif
