/* tricolor.h: the public API of tricolor.
 *
 * tricolor is Go's memory manager rebuilt as a C library. Linked or
 * LD_PRELOADed, it is the process's malloc: the whole malloc family
 * (malloc, free, calloc, realloc, reallocarray, posix_memalign,
 * aligned_alloc, memalign, valloc, pvalloc, malloc_usable_size and glibc's
 * __libc_* aliases) comes from it, so those are not declared again here.
 *
 * This header declares what is tricolor's own: the collected heap
 * (gc_alloc and friends), statistics, memory release and the version. It
 * includes nothing but <stddef.h> and <stdint.h>, and compiles on its own.
 *
 * THE RULES a program using the collected heap must follow:
 *  1. Every store of a pointer into a collected object, an uncollectable
 *     object, a global variable or a range given to gc_add_roots goes
 *     through gc_store() (or GC_STORE). That is the write barrier that lets
 *     the collector mark while the program runs. Stores into the thread's
 *     own local variables need no barrier.
 *  2. The collector sees pointers in: every registered thread's stack and
 *     registers, the data and bss of the program and of every loaded
 *     shared object, static TLS, registered root ranges, uncollectable
 *     objects and scanned (gc_alloc) objects. It does NOT see malloc'd
 *     memory (like cgo's rule) or memory mapped by the program: keep such
 *     pointers in uncollectable objects or register the range.
 *  3. A pointer must point into its object (interior pointers are fine);
 *     hidden pointers (xor-ed, tagged in the high bits) keep nothing alive.
 *  4. Threads created with pthread_create are registered automatically;
 *     a thread created any other way calls gc_register_thread() before it
 *     touches the collected heap, and gc_unregister_thread() before exit.
 *  5. Collected objects are freed by the collector only; gc_free is for
 *     uncollectable objects. free() must never see a gc_alloc pointer.
 *  6. Once per cycle the collector stops each thread briefly to scan its
 *     stack: a thread in a collector call stops when it leaves it, a
 *     parked one (a blocking call listed in README) is not disturbed, any
 *     other gets a real-time signal (handlers use SA_RESTART; the count
 *     is in gc_stats). A thread that blocks that signal and makes no
 *     collector call stalls collection, and fork() too: fork asks every
 *     thread with that signal to finish the collector call it is in (none
 *     is stopped), so that the child inherits a consistent heap and may go
 *     on using the collector.
 *
 * Environment (read once, at the first allocation):
 *   GOGC=N|off             heap growth, in percent of the live heap (and
 *                          the roots scanned), allowed before the next
 *                          cycle ends (default 100); off: no automatic
 *                          cycles but for the memory limit's (gc_collect
 *                          still works)
 *   GOMEMLIMIT=N[B|KiB|MiB|GiB|TiB]|off   the soft memory limit (default
 *                          off; see gc_set_memory_limit)
 *   GOMAXPROCS=N           CPUs the collector plans for (default: those
 *                          online): a quarter of them mark in the
 *                          background while the program runs
 *   GODEBUG=badfree=warn   report a bad free (foreign, double, interior)
 *                          and carry on instead of aborting; badfree=abort
 *                          is the default.
 *   GODEBUG=gctrace=1      one line per cycle on stderr
 *   GODEBUG=gccheckmark=1  after each cycle re-mark with the world stopped
 *                          and abort if any reachable object is unmarked
 *   GODEBUG=gcsignal=N     the signal number used to stop threads (default:
 *                          the first real-time signal no one handles)
 *   GODEBUG=gcfullstop=1   stop every thread, by poll or signal, at both
 *                          ends of marking, as Go does (by default a
 *                          cycle's start stops no thread, and its end
 *                          waits only for threads inside a collector call)
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
#define TRICOLOR_API __attribute__((visibility("default")))
#else
#define TRICOLOR_API
#endif

/* The library's version as "MAJOR.MINOR.PATCH". */
TRICOLOR_API const char *gc_version(void);

/* ---- The collected heap ---- */

/* A zeroed object of size bytes from the collected heap, scanned
 * conservatively for pointers. NULL when memory is exhausted. */
TRICOLOR_API void *gc_alloc(size_t size);
/* A zeroed pointer-free object: never scanned; objects under 16 bytes are
 * packed together (Go's tiny allocator). */
TRICOLOR_API void *gc_alloc_noscan(size_t size);
/* A zeroed object that is scanned like gc_alloc's but never collected:
 * a root until gc_free(p). */
TRICOLOR_API void *gc_alloc_uncollectable(size_t size);
/* End an uncollectable object's life as a root (it is then collected
 * like any other object once unreachable). Anything else is reported as a
 * bad free. */
TRICOLOR_API void gc_free(void *p);

/* The write barrier: *slot = value, telling the collector. An inline
 * function below: while no cycle marks, a plain store between two checks
 * of the collector's state, no call (Go tests writeBarrier.enabled inline
 * too); otherwise this out-of-line function. */
TRICOLOR_API void gc_store(void **slot, void *value);
#define GC_STORE(lvalue, value) gc_store((void **)&(lvalue), (void *)(value))

/* Not API: the library's state that the inline barrier reads, exported
 * for it alone. The store must not be split by the collector switching
 * the barrier on and starting to mark, so it sits in a "gc region" as the
 * out-of-line barrier does: a per-thread depth the collector reads before
 * it takes a thread as outside (initial-exec TLS: tricolor is loaded at
 * start-up, linked or preloaded), and, when it leaves the outermost one,
 * a check whether the collector asked this thread to stop meanwhile.
 * The phase and the stop request are read through constant pointers, so
 * a copy relocation in a non-PIE program cannot separate the program's
 * view of them from the library's. */
extern __thread int gc_region_depth_ __attribute__((tls_model("initial-exec")));
extern __thread volatile int gc_region_pending_ __attribute__((tls_model("initial-exec")));
TRICOLOR_API extern const volatile int *const gc_phase_p_;
TRICOLOR_API extern const volatile uint32_t *const gc_stop_poll_p_;
TRICOLOR_API void gc_region_exit_slow_(void);

static inline void gc_store_inline_(void **slot, void *value) {
    int d = gc_region_depth_;
    gc_region_depth_ = d + 1;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (__builtin_expect(*gc_phase_p_ == 0, 1)) {
        *slot = value;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        __atomic_store_n(&gc_region_depth_, d, __ATOMIC_RELEASE);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        if (__builtin_expect(d == 0 && (gc_region_pending_ | (int)*gc_stop_poll_p_), 0))
            gc_region_exit_slow_();
        return;
    }
    gc_region_depth_ = d;
    gc_store(slot, value);
}
#define gc_store(slot, value) gc_store_inline_((slot), (value))

/* Run a full cycle now and wait for it, sweeping included (runtime.GC). */
TRICOLOR_API void gc_collect(void);
/* Set GOGC; returns the previous value. Negative: no automatic cycles
 * (unless a memory limit is set). Go's debug.SetGCPercent. */
TRICOLOR_API int gc_setpercent(int percent);
/* Set the soft memory limit in bytes and return the previous one (Go's
 * debug.SetMemoryLimit): the collector keeps everything tricolor maps
 * from the OS, less what it released, under it, collecting more often as
 * the heap nears it, and the scavenger returns free memory to stay under
 * it. INT64_MAX: no limit (the default). A negative value only reads the
 * limit. Respected with GOGC=off too. */
TRICOLOR_API int64_t gc_set_memory_limit(int64_t bytes);

/* Scan [lo, hi) as roots at every cycle (word aligned inside). */
TRICOLOR_API void gc_add_roots(void *lo, void *hi);
TRICOLOR_API void gc_remove_roots(void *lo, void *hi);

/* For threads not created with pthread_create. Return 0 on success. */
TRICOLOR_API int gc_register_thread(void);
TRICOLOR_API int gc_unregister_thread(void);

/* Go's runtime.SetFinalizer: once obj is unreachable, fn(obj, arg) runs
 * once, on the collector's finalizer thread, and obj is freed at a later
 * cycle if it stays unreachable. fn == NULL removes the finalizer. obj
 * must be the start of a gc_alloc/gc_alloc_noscan object. Objects
 * reachable from an object with a finalizer stay alive until it ran; a
 * cycle through finalizer objects is never collected (as in Go). */
typedef void (*gc_finalizer_fn)(void *obj, void *arg);
TRICOLOR_API void gc_set_finalizer(void *obj, gc_finalizer_fn fn, void *arg);
/* Keep p reachable up to this call (runtime.KeepAlive). */
TRICOLOR_API void gc_keepalive(const void *p);

/* Copy the most recent stop-the-world pauses (nanoseconds, oldest first)
 * into ns[0..n); returns how many were copied (at most 256 are kept). A
 * pause runs from the collector's first request to the moment every
 * thread may go on, before the wake-up calls (as Go's mark termination
 * counts it). */
TRICOLOR_API size_t gc_read_pauses(uint64_t *ns, size_t n);

/* Heap statistics, read without stopping any thread. Counters are sums of
 * per-P counters taken one P at a time, so a snapshot taken while other
 * threads allocate is approximate; each field is exact when all threads
 * are quiet. All sizes are in bytes.
 *
 * The caller sets size to sizeof(struct gc_stats) (GC_STATS_INIT does)
 * and gc_read_stats fills that many bytes at most, so a program built
 * with this header keeps working with a library whose struct has grown:
 * fields are only ever added at the end. */
struct gc_stats {
    size_t size;              /* in: the struct's size as the caller knows it */
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
    /* The collector. */
    uint64_t gc_heap_live;    /* bytes in collected spans' objects (estimate) */
    uint64_t gc_heap_marked;  /* bytes marked live by the last cycle */
    uint64_t gc_next;         /* heap size that starts the next cycle */
    uint64_t gc_freed;        /* collected objects freed since start */
    uint64_t gc_finalizers_run; /* finalizers run since start */
    uint32_t gc_num;          /* completed cycles */
    int32_t gc_percent;       /* GOGC now (negative: off) */
    uint64_t gc_pause_total_ns; /* all stop-the-world pauses */
    uint64_t gc_pause_max_ns;   /* the longest one */
    uint64_t gc_npause;         /* how many (gc_read_pauses keeps the last 256) */
    uint64_t gc_mark_ns;      /* wall time spent in concurrent mark, all cycles */
    uint64_t gc_marked_bytes_total; /* bytes traced, all cycles (throughput) */
    uint32_t gc_threads;      /* registered threads */
    uint64_t gc_stop_signals; /* signals sent to stop a thread (each may cut
                               * a system call short, which SA_RESTART restarts) */
    /* Go's runtime.MemStats figures (tricolor 0.2). */
    uint64_t total_alloc;     /* bytes allocated since start (slot sizes; never
                               * decreases) */
    uint64_t sys;             /* bytes mapped from the OS: heap_sys + metadata_sys */
    uint64_t gc_last_ns;      /* when the last cycle ended, ns since 1970 (0: none) */
    double gc_cpu_fraction;   /* the collector's share of the CPU since start
                               * (GOMAXPROCS x wall time), idle marking
                               * excluded: gctrace's N% */
    uint32_t gc_num_forced;   /* cycles run for gc_collect */
    uint32_t gc_procs;        /* GOMAXPROCS the collector plans for */
    int64_t gc_memory_limit;  /* INT64_MAX: none */
    uint64_t gc_trigger;      /* heap size (gc_heap_live) that starts the next cycle */
    uint64_t heap_released_total; /* bytes returned to the OS since start */
    /* The newest 256 pauses (gc_read_pauses's), circular as Go's PauseNs
     * and PauseEnd: the latest at [(gc_npause + 255) % 256]. Per pause,
     * not per cycle as in Go. */
    uint64_t gc_pause_ns[256];
    uint64_t gc_pause_end_ns[256]; /* when each ended, ns since 1970 */
};

#ifdef __cplusplus
#define GC_STATS_INIT {sizeof(struct gc_stats)}
#else
#define GC_STATS_INIT {.size = sizeof(struct gc_stats)}
#endif

/* Fill *st up to st->size bytes (st->size is kept). Returns 0, or -1 if
 * st->size is smaller than the size field itself. */
TRICOLOR_API int gc_read_stats(struct gc_stats *st);

/* Go's debug.FreeOSMemory: run a full cycle (if gc_alloc was ever
 * called), give the calling thread's cached free objects back to the
 * heap, and return every free page to the OS now (madvise). Other
 * threads give their cached free objects back at their next allocation
 * that misses their cache (or gc_thread_idle, or exit); the background
 * scavenger then releases what that frees. Returns the number of bytes
 * released by this call. */
TRICOLOR_API size_t gc_release_memory(void);

/* Flush this thread's P (its cached spans go back to the shared lists)
 * and give the P back to the pool; the next allocation on this thread
 * takes one again. For a thread about to go idle for a long time. */
TRICOLOR_API void gc_thread_idle(void);

#ifdef __cplusplus
}
#endif

#endif /* TRICOLOR_H */
