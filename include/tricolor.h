/* tricolor.h: the public API of tricolor.
 *
 * tricolor is Go's memory manager rebuilt as a C library. Linked or
 * LD_PRELOADed, it is the process's malloc: the whole malloc family
 * (malloc, free, calloc, realloc, reallocarray, posix_memalign,
 * aligned_alloc, memalign, valloc, pvalloc, malloc_usable_size and glibc's
 * __libc_* aliases) comes from it, so those are not declared again here.
 *
 * This header declares only what is tricolor's own: statistics, memory
 * release and the version. It includes nothing but <stddef.h> and
 * <stdint.h>, and compiles on its own.
 *
 * Environment (read once, at the first allocation):
 *   GODEBUG=badfree=warn   report a bad free (foreign, double, interior)
 *                          and carry on instead of aborting; badfree=abort
 *                          is the default.
 */
#ifndef TRICOLOR_H
#define TRICOLOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TRICOLOR_VERSION_MAJOR 0
#define TRICOLOR_VERSION_MINOR 1
#define TRICOLOR_VERSION_PATCH 0

#if defined(__GNUC__)
#define GC_API __attribute__((visibility("default")))
#else
#define GC_API
#endif

/* The library's version as "MAJOR.MINOR.PATCH". */
GC_API const char *gc_version(void);

/* Heap statistics, read without stopping any thread. Counters are sums of
 * per-P counters taken one P at a time, so a snapshot taken while other
 * threads allocate is approximate; each field is exact when all threads
 * are quiet. All sizes are in bytes. */
struct gc_stats {
    uint64_t heap_sys;        /* address space mapped for the heap */
    uint64_t heap_inuse;      /* bytes in spans that hold objects */
    uint64_t heap_free;       /* bytes in free spans, resident or not */
    uint64_t heap_released;   /* bytes of free spans returned to the OS */
    uint64_t alloc_bytes;     /* bytes in live objects (slot sizes) */
    uint64_t nmalloc;         /* objects allocated since start */
    uint64_t nfree;           /* objects freed since start */
    uint64_t large_alloc;     /* large (> 32 KiB) objects allocated */
    uint64_t metadata_sys;    /* bytes mapped for spans, bitmaps, Ps */
    uint64_t thread_cache_bytes; /* free bytes held in cached spans */
    uint32_t nprocs;          /* Ps created (at most the peak live threads) */
    uint32_t nprocs_idle;     /* Ps parked in the pool */
};

/* Fill *st. Returns 0. */
GC_API int gc_read_stats(struct gc_stats *st);

/* Return every free page of the heap to the OS now (madvise). Returns the
 * number of bytes released by this call. Go's debug.FreeOSMemory. */
GC_API size_t gc_release_memory(void);

/* Flush this thread's P (its cached spans go back to the shared lists)
 * and give the P back to the pool; the next allocation on this thread
 * takes one again. For a thread about to go idle for a long time. */
GC_API void gc_thread_idle(void);

#ifdef __cplusplus
}
#endif

#endif /* TRICOLOR_H */
