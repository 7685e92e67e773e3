/* tests/integration/release.c: memory goes back to the OS.
 *
 * "My program freed everything and RSS stayed at its peak" is the most
 * common complaint about any allocator (malloc-and-gc-users-issues.md 1.7).
 * These tests allocate about 1 GiB, touch every byte, free it all and
 * measure the resident set (/proc/self/statm):
 *
 *  - large_objects_released: 40 KiB .. 16 MiB objects; after
 *    gc_release_memory() RSS must be back within 10% + 8 MiB of the
 *    baseline taken before.
 *  - small_objects_released: 16 B .. 2 KiB objects (millions, freed in an
 *    interleaved order so spans empty out only at the end); same bound.
 *  - large_free_releases_without_call: 512 MiB of large objects freed and
 *    no explicit call: within 5 s RSS must fall to baseline + 10% + 68 MiB
 *    + the metadata made for the peak (the allocator may keep a bounded
 *    amount, not the whole peak).
 *
 * The baseline is measured after a warm-up that creates the allocator's
 * metadata, so only the heap's pages are compared. Span metadata made for
 * the peak (mspan structs and the remote-free bitmaps; allocBits go back
 * with the pages) stays mapped for reuse, as Go keeps its mspans; it is
 * reported
 * in gc_stats.metadata_sys and added to the bound, so a leak of heap pages
 * still fails. The pointer arrays live
 * in mmap'd memory that is unmapped before measuring. On glibc, which has
 * no gc_release_memory, malloc_trim(0) stands in for it. */
#include <malloc.h>
#include <sys/mman.h>

#include "tc_check.h"

#define KiB ((size_t)1024)
#define MiB (KiB * KiB)
#define GiB (MiB * KiB)

static size_t release_now(void) {
    size_t (*rel)(void) = (size_t (*)(void))dlsym(RTLD_DEFAULT, "gc_release_memory");
    if (rel) return rel();
    malloc_trim(0);
    return 0;
}

static size_t meta_base; /* metadata_sys at the baseline (0 on glibc) */

static size_t metadata_now(void) {
    struct gc_stats st = GC_STATS_INIT;
    return tc_stats(&st) ? (size_t)st.metadata_sys : 0;
}

static size_t baseline(void) {
    for (size_t n = 16; n <= 16 * MiB; n *= 2) free(malloc(n));
    release_now();
    meta_base = metadata_now();
    return tc_rss();
}

static void **ptr_array(size_t n) {
    void *m = mmap(NULL, n * sizeof(void *), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

static void check_back(const char *what, size_t base, size_t peak, size_t after, size_t slack) {
    size_t bound = base + base / 10 + slack + (metadata_now() - meta_base);
    printf("  %s: RSS baseline %zu MiB, peak %zu MiB, after %zu MiB (bound %zu MiB)\n", what, base / MiB,
           peak / MiB, after / MiB, bound / MiB);
    if (peak < base + 400 * MiB) TC_FAIL_("%s: peak RSS %zu MiB never rose: test is not measuring", what, peak / MiB);
    if (after > bound) {
        struct gc_stats st = GC_STATS_INIT;
        TC_FAIL_("%s: RSS %zu MiB after free, bound %zu MiB", what, after / MiB, bound / MiB);
        if (tc_stats(&st))
            fprintf(stderr,
                    "  gc_stats: heap_sys %ju heap_inuse %ju heap_free %ju heap_released %ju "
                    "metadata_sys %ju thread_cache_bytes %ju alloc_bytes %ju (KiB)\n",
                    (uintmax_t)st.heap_sys >> 10, (uintmax_t)st.heap_inuse >> 10, (uintmax_t)st.heap_free >> 10,
                    (uintmax_t)st.heap_released >> 10, (uintmax_t)st.metadata_sys >> 10,
                    (uintmax_t)st.thread_cache_bytes >> 10, (uintmax_t)st.alloc_bytes >> 10);
    }
}

TC_PRESENCE_TEST()

TEST(large_objects_released) {
    static const size_t sizes[] = {40 * KiB, 100 * KiB, 1 * MiB, 4 * MiB, 16 * MiB, 300 * KiB};
    enum { MAXN = 8192 };
    void **p = ptr_array(MAXN);
    ASSERT_TRUE(p != NULL);
    size_t base = baseline(), total = 0, n = 0;
    while (total < GiB && n < MAXN) {
        size_t sz = sizes[n % 6];
        p[n] = malloc(sz);
        ASSERT_TRUE(p[n] != NULL);
        memset(p[n], (int)n | 1, sz);
        total += sz, n++;
    }
    size_t peak = tc_rss();
    for (size_t i = 0; i < n; i++) free(p[i]);
    munmap(p, MAXN * sizeof(void *));
    release_now(); /* may release nothing: large frees can go back at once */
    check_back("large", base, peak, tc_rss(), 8 * MiB);
}

TEST(small_objects_released) {
    static const size_t sizes[] = {16, 32, 48, 64, 96, 128, 256, 512, 1024, 2048};
    size_t cap = 6000000;
    void **p = ptr_array(cap);
    ASSERT_TRUE(p != NULL);
    size_t base = baseline(), total = 0, n = 0;
    while (total < GiB && n < cap) {
        size_t sz = sizes[n % 10];
        p[n] = malloc(sz);
        ASSERT_TRUE(p[n] != NULL);
        memset(p[n], 0x77, sz);
        total += sz, n++;
    }
    size_t peak = tc_rss();
    for (size_t i = 0; i < n; i += 2) free(p[i]); /* every span half empty... */
    for (size_t i = 1; i < n; i += 2) free(p[i]); /* ...then empty */
    munmap(p, cap * sizeof(void *));
    release_now();
    check_back("small", base, peak, tc_rss(), 8 * MiB);
}

TEST(large_free_releases_without_call) {
    enum { N = 128 };
    void *p[N];
    size_t base = baseline();
    for (int i = 0; i < N; i++) {
        p[i] = malloc(4 * MiB);
        ASSERT_TRUE(p[i] != NULL);
        memset(p[i], 0x11, 4 * MiB);
    }
    /* the scavenger keeps up to 64 MiB free (alloc/scavenge.c RETAIN_MIN),
     * the metadata made for the peak stays, as in check_back, and 4 MiB
     * more for what starts after the baseline (the scavenger's thread) */
    size_t peak = tc_rss(), after = peak;
    size_t bound = base + base / 10 + 68 * MiB + (metadata_now() - meta_base);
    for (int i = 0; i < N; i++) free(p[i]);
    double deadline = tc_now() + 5;
    while ((after = tc_rss()) > bound && tc_now() < deadline) usleep(20000);
    printf("  no call: RSS baseline %zu MiB, peak %zu MiB, after %zu MiB (bound %zu MiB)\n", base / MiB, peak / MiB,
           after / MiB, bound / MiB);
    if (peak < base + 400 * MiB) TC_FAIL_("peak RSS never rose");
    if (after > bound) TC_FAIL_("RSS still %zu MiB 5 s after freeing 512 MiB (bound %zu MiB)", after / MiB, bound / MiB);
}

TC_TEST_MAIN()
