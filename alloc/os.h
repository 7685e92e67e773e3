/* alloc/os.h: the contract between tricolor and the operating system.
 *
 * Memory moves through Go's states: Reserved (address space, not backed)
 * -> Ready (read/write, backed on first touch) -> Released (madvise'd
 * away; reads as zero when touched again). On Linux with overcommit a
 * read/write MAP_NORESERVE mapping is Reserved and Ready at once; Ready
 * pages can also be faulted in ahead of use (tc_os_populate). Calls return
 * 0/NULL on failure and never allocate. */
#ifndef TC_ALLOC_OS_H
#define TC_ALLOC_OS_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/base.h"

/* Reserve size bytes aligned to align (a power of two, >= the OS page),
 * trying hint first. Readable and writable; pages are zero. */
TC_INTERNAL void *tc_os_reserve(size_t size, size_t align, uintptr_t hint);

/* Give the pages of [p, p+size) back to the OS. The range stays mapped and
 * reads as zero afterwards (MADV_DONTNEED). p and size are page aligned. */
TC_INTERNAL void tc_os_release(void *p, size_t size);

/* Fault the OS pages covering [p, p+size) in now, writable, as first
 * writes would (MADV_POPULATE_WRITE; contents already there are kept; p
 * and size need no alignment). 1 done, 0
 * failed (the pages then fault in when touched), -1 the kernel has no such
 * call (before Linux 5.14). errno is kept. */
TC_INTERNAL int tc_os_populate(void *p, size_t size);

/* The same for the whole OS pages inside [p, p+size), which need not be
 * aligned: metadata that mirrors released heap pages. */
TC_INTERNAL void tc_os_release_inner(void *p, size_t size);

/* Map size bytes of zeroed metadata memory (never returned). */
TC_INTERNAL void *tc_os_alloc_meta(size_t size);

/* Grow a metadata array mapped by this call (or NULL, old_size 0) to
 * new_size bytes, keeping its contents (mremap); the array may move.
 * NULL when the OS refuses, with the old mapping untouched. */
TC_INTERNAL void *tc_os_grow(void *p, size_t old_size, size_t new_size);

/* Make room for one more element in a growable metadata array *v of *cap
 * elements of elem bytes (first: the capacity of a new one; doubled
 * after): grows it when n == *cap, or stops the process saying it ran out
 * of memory for what. */
TC_INTERNAL void tc_os_vec_room(void **v, size_t *cap, size_t n, size_t elem, size_t first,
                                const char *what);

#endif
