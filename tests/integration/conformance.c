/* tests/integration/conformance.c: the C semantics of every malloc-family
 * symbol tricolor exports.
 *
 * A drop-in malloc is judged by the corners programs lean on without
 * thinking: free(NULL), errno after free, malloc(0), overflowing calloc
 * and reallocarray, alignment arguments, what realloc keeps, and what
 * malloc_usable_size promises. Each test walks a table (entry points x
 * sizes x alignments) so a new corner is one more row. Every result is
 * written over its whole usable size and then freed, reallocated or
 * measured, because a wrong usable size or a wrongly aligned pointer
 * usually shows up only when someone uses the bytes.
 *
 * Semantics follow glibc where C and POSIX leave a choice (realloc(p, 0)
 * may return NULL or a fresh pointer, both accepted), so everything here
 * also passes on glibc, except the rows marked tricolor-only: rejecting a
 * non-power-of-two alignment in aligned_alloc/memalign (glibc 2.36 rounds
 * it up), cfree (glibc keeps only a compat symbol), nmalloc ownership and
 * "which library defines this symbol" (dladdr). */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <unistd.h>

#include "tc_check.h"

/* glibc's aliases: exported by libc.so.6 and by tricolor, never declared. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
#ifdef TC_STATIC_LINK
extern void cfree(void *);
#define HAVE_CFREE() 1
#else
extern void cfree(void *) __attribute__((weak));
#define HAVE_CFREE() (cfree != NULL)
#endif

#define KiB ((size_t)1024)
#define MiB (KiB * KiB)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

/* ---- aligned entry points, one row each ---- */

static void *via_posix_memalign(size_t a, size_t n) {
    void *p = NULL;
    return posix_memalign(&p, a, n) == 0 ? p : NULL;
}
static void *via_aligned_alloc(size_t a, size_t n) { return aligned_alloc(a, n); }
static void *via_memalign(size_t a, size_t n) { return memalign(a, n); }
static void *via_libc_memalign(size_t a, size_t n) { return __libc_memalign(a, n); }

static const struct {
    const char *name;
    void *(*fn)(size_t align, size_t size);
} aligned_eps[] = {
    {"posix_memalign", via_posix_memalign},
    {"aligned_alloc", via_aligned_alloc},
    {"memalign", via_memalign},
    {"__libc_memalign", via_libc_memalign},
};

TC_PRESENCE_TEST()

TEST(free_null_is_noop) {
    errno = 0;
    free(NULL);
    __libc_free(NULL);
    EXPECT_EQ_U(errno, 0);
}

TEST(free_preserves_errno) {
    /* Large frees may unmap or madvise; none of it may leak into errno. */
    static const size_t sizes[] = {1, 100, 4000, 40000, 1 * MiB, 64 * MiB};
    for (size_t i = 0; i < NELEM(sizes); i++) {
        char *p = malloc(sizes[i]);
        ASSERT_TRUE(p != NULL);
        memset(p, 1, sizes[i]);
        errno = 4242;
        free(p);
        EXPECT_EQ_U(errno, 4242);
    }
    errno = 4242;
    free(NULL);
    EXPECT_EQ_U(errno, 4242);
}

TEST(malloc_zero_unique) {
    void *ps[64];
    for (int i = 0; i < 64; i++) {
        ps[i] = malloc(tc_opaque(0));
        ASSERT_TRUE(ps[i] != NULL);
        for (int j = 0; j < i; j++) EXPECT_TRUE(ps[i] != ps[j]);
    }
    for (int i = 0; i < 64; i++) free(ps[i]);
    void *a = calloc(tc_opaque(0), 8), *b = calloc(8, tc_opaque(0));
    void *c = __libc_malloc(tc_opaque(0));
    ASSERT_TRUE(a && b && c);
    EXPECT_TRUE(a != b && b != c && a != c);
    free(a), free(b), __libc_free(c);
}

TEST(malloc_is_ours) {
    if (!tc_have_tricolor()) return;
    static const size_t sizes[] = {1, 8, 17, 256, 8 * KiB, 32 * KiB, 33 * KiB, 3 * MiB};
    for (size_t i = 0; i < NELEM(sizes); i++) {
        uint64_t before = tc_nmalloc();
        void *p = malloc(sizes[i]);
        EXPECT_TRUE(tc_nmalloc() > before);
        uint64_t fbefore = tc_nfree();
        free(p);
        EXPECT_TRUE(tc_nfree() > fbefore);
    }
}

TEST(size_overflow_is_enomem) {
    const size_t huge[] = {SIZE_MAX, SIZE_MAX - 64, SIZE_MAX - 4096, (size_t)PTRDIFF_MAX + 1};
    for (size_t i = 0; i < NELEM(huge); i++) {
        size_t n = tc_opaque(huge[i]);
        errno = 0;
        EXPECT_TRUE(malloc(n) == NULL);
        EXPECT_EQ_U(errno, ENOMEM);
        errno = 0;
        EXPECT_TRUE(__libc_malloc(n) == NULL);
        EXPECT_EQ_U(errno, ENOMEM);
        errno = 0;
        EXPECT_TRUE(aligned_alloc(64, n) == NULL);
        EXPECT_EQ_U(errno, ENOMEM);
        errno = 0;
        EXPECT_TRUE(memalign(4096, n) == NULL);
        EXPECT_EQ_U(errno, ENOMEM);
        errno = 0;
        EXPECT_TRUE(valloc(n) == NULL);
        EXPECT_EQ_U(errno, ENOMEM);
        errno = 0; /* pvalloc rounds up to a page first: that must not wrap */
        EXPECT_TRUE(pvalloc(n) == NULL);
        EXPECT_EQ_U(errno, ENOMEM);
        void *q = (void *)&q; /* errno is unspecified here (glibc sets it) */
        EXPECT_EQ_U(posix_memalign(&q, 64, n), ENOMEM);
    }
}

TEST(calloc_and_reallocarray_overflow) {
    const size_t pairs[][2] = {
        {SIZE_MAX / 2 + 1, 2}, {2, SIZE_MAX / 2 + 1}, {(size_t)1 << 32, (size_t)1 << 32},
        {SIZE_MAX, SIZE_MAX}, {SIZE_MAX / 3 + 1, 3}};
    char *keep = malloc(100);
    ASSERT_TRUE(keep != NULL);
    tc_fill(keep, 100, 7);
    for (size_t i = 0; i < NELEM(pairs); i++) {
        size_t a = tc_opaque(pairs[i][0]), b = tc_opaque(pairs[i][1]);
        errno = 0;
        EXPECT_TRUE(calloc(a, b) == NULL);
        EXPECT_EQ_U(errno, ENOMEM);
        errno = 0;
        EXPECT_TRUE(__libc_calloc(a, b) == NULL);
        EXPECT_EQ_U(errno, ENOMEM);
        /* On failure the old block stays valid and unchanged (laundered:
         * gcc cannot know the call failed and would warn on later use). */
        errno = 0;
        EXPECT_TRUE(reallocarray(tc_launder(keep), a, b) == NULL);
        EXPECT_EQ_U(errno, ENOMEM);
        errno = 0;
        EXPECT_TRUE(realloc(tc_launder(keep), tc_opaque(SIZE_MAX - i)) == NULL);
        EXPECT_EQ_U(errno, ENOMEM);
        EXPECT_EQ_U(tc_check(keep, 100, 7), 100);
    }
    char *r = reallocarray(keep, 25, 8); /* an honest reallocarray grows */
    ASSERT_TRUE(r != NULL);
    EXPECT_EQ_U(tc_check(r, 100, 7), 100);
    EXPECT_TRUE(malloc_usable_size(r) >= 200);
    free(r);
}

TEST(calloc_zeroes_reused_memory) {
    /* Dirty a block, free it, calloc the same size: the reused slot (or
     * span, or released-and-refaulted pages) must read as zero. */
    static const size_t sizes[] = {1,       16,       100,       512,      4 * KiB,  20000,
                                   32 * KiB, 40 * KiB, 300 * KiB, 4 * MiB, 17 * MiB};
    for (size_t i = 0; i < NELEM(sizes); i++) {
        size_t n = sizes[i];
        for (int round = 0; round < 3; round++) {
            unsigned char *d = malloc(n);
            ASSERT_TRUE(d != NULL);
            memset(d, 0xA5, malloc_usable_size(d));
            free(d);
            unsigned char *z = round == 2 ? __libc_calloc(n, 1) : calloc(round ? n : 1, round ? 1 : n);
            ASSERT_TRUE(z != NULL);
            if (!tc_all_zero(z, n)) TC_FAIL_("calloc(%zu) not zeroed (round %d)", n, round);
            free(z);
        }
    }
    size_t elems = 1000, esz = 24; /* product not a size class */
    unsigned char *z = calloc(elems, esz);
    ASSERT_TRUE(z && tc_all_zero(z, elems * esz));
    free(z);
}

TEST(posix_memalign_bad_alignment) {
    const size_t bad[] = {0, 1, 2, 4, 3, 12, 24, 48, 1000, 4097, sizeof(void *) + 4,
                          SIZE_MAX, SIZE_MAX / 2 + 3};
    for (size_t i = 0; i < NELEM(bad); i++) {
        void *sentinel = (void *)&sentinel, *p = sentinel;
        errno = 99;
        int rc = posix_memalign(&p, tc_opaque(bad[i]), 16);
        if (rc != EINVAL) TC_FAIL_("posix_memalign(align=%zu) = %d, want EINVAL", bad[i], rc);
        EXPECT_EQ_U(errno, 99);
        EXPECT_TRUE(p == sentinel || p == NULL);
    }
}

TEST(aligned_alloc_bad_alignment) {
    if (!tc_have_tricolor()) return; /* glibc 2.36 rounds these up */
    const size_t bad[] = {3, 12, 24, 48, 1000, 4097, SIZE_MAX};
    for (size_t i = 0; i < NELEM(bad); i++) {
        size_t a = tc_opaque(bad[i]);
        errno = 0;
        void *p = aligned_alloc(a, 64);
        if (p || errno != EINVAL) TC_FAIL_("aligned_alloc(%zu, 64) = %p errno %d", bad[i], p, errno);
        errno = 0;
        p = memalign(a, 64);
        if (p || errno != EINVAL) TC_FAIL_("memalign(%zu, 64) = %p errno %d", bad[i], p, errno);
        errno = 0;
        p = __libc_memalign(a, 64);
        if (p || errno != EINVAL) TC_FAIL_("__libc_memalign(%zu, 64) = %p errno %d", bad[i], p, errno);
    }
}

TEST(huge_alignment_fails_cleanly) {
    size_t a = tc_opaque((size_t)1 << 62);
    void *p = (void *)&p;
    int rc = posix_memalign(&p, a, 16);
    EXPECT_TRUE(rc == ENOMEM || rc == EINVAL);
    errno = 0;
    EXPECT_TRUE(aligned_alloc(a, 16) == NULL);
    EXPECT_TRUE(errno == ENOMEM || errno == EINVAL);
}

TEST(small_alignments_accepted) {
    /* 1, 2 and 4 are powers of two: C allows them for aligned_alloc. */
    for (size_t a = 1; a <= 4; a *= 2) {
        void *p = aligned_alloc(a, 10), *q = memalign(a, 10);
        EXPECT_TRUE(p && q);
        free(p), free(q);
    }
}

/* Alignment sweep: every aligned entry point x 8 B .. 4 MiB x sizes. */
static void check_aligned_block(const char *ep, size_t a, size_t n, char *p, int variant) {
    if (!p) {
        TC_FAIL_("%s(%zu, %zu) = NULL", ep, a, n);
        return;
    }
    if ((uintptr_t)p % a) TC_FAIL_("%s(%zu, %zu) = %p misaligned", ep, a, n, (void *)p);
    size_t u = malloc_usable_size(p);
    if (u < n) TC_FAIL_("%s(%zu, %zu): usable %zu", ep, a, n, u);
    memset(p, 0x5A, u);
    tc_fill(p, n, (uint32_t)(a ^ n));
    if (malloc_usable_size(p) != u) TC_FAIL_("%s(%zu, %zu): usable size changed", ep, a, n);
    if (variant == 0) {
        free(p);
    } else if (variant == 1) {
        __libc_free(p);
    } else {
        size_t m = variant == 2 ? n * 2 + 1 : n / 2 + 1;
        char *q = realloc(p, m);
        if (!q) {
            TC_FAIL_("realloc of %s(%zu, %zu) block to %zu failed", ep, a, n, m);
            return;
        }
        size_t keep = n < m ? n : m;
        if (tc_check(q, keep, (uint32_t)(a ^ n)) != keep)
            TC_FAIL_("realloc of %s(%zu, %zu) block lost data", ep, a, n);
        free(q);
    }
}

TEST(aligned_sweep) {
    for (size_t e = 0; e < NELEM(aligned_eps); e++) {
        for (size_t a = 8; a <= 4 * MiB; a *= 2) {
            const size_t sizes[] = {1, 24, a / 2 + 1, a, a + 1, 3 * a + 5, 40000};
            for (size_t s = 0; s < NELEM(sizes); s++) {
                uint64_t before = tc_nmalloc();
                char *p = aligned_eps[e].fn(a, sizes[s]);
                if (tc_have_tricolor() && tc_nmalloc() <= before)
                    TC_FAIL_("%s(%zu, %zu): not counted by tricolor", aligned_eps[e].name, a, sizes[s]);
                check_aligned_block(aligned_eps[e].name, a, sizes[s], p, (int)((s + e) % 4));
            }
        }
    }
}

TEST(valloc_pvalloc) {
    size_t pg = page_size();
    const size_t sizes[] = {1, 100, pg - 1, pg, pg + 1, 5 * pg + 3, 70000, 3 * MiB + 1};
    for (size_t i = 0; i < NELEM(sizes); i++) {
        size_t n = sizes[i];
        void *(*const fns[])(size_t) = {valloc, pvalloc, __libc_valloc, __libc_pvalloc};
        for (int f = 0; f < 4; f++) {
            uint64_t before = tc_nmalloc();
            char *p = fns[f](n);
            ASSERT_TRUE(p != NULL);
            if (tc_have_tricolor()) EXPECT_TRUE(tc_nmalloc() > before);
            EXPECT_EQ_U((uintptr_t)p % pg, 0);
            size_t u = malloc_usable_size(p);
            EXPECT_TRUE(u >= n);
            if (f & 1) { /* pvalloc rounds the request up to whole pages */
                size_t rounded = (n + pg - 1) / pg * pg;
                if (u < rounded) TC_FAIL_("pvalloc(%zu): usable %zu < %zu", n, u, rounded);
                memset(p, 7, rounded);
            }
            memset(p, 3, u);
            if (f & 2) __libc_free(p);
            else free(p);
        }
    }
    void *z = pvalloc(0);
    ASSERT_TRUE(z != NULL);
    EXPECT_EQ_U((uintptr_t)z % pg, 0);
    free(z);
}

TEST(usable_size_stable) {
    static const size_t sizes[] = {1, 7, 8, 9, 16, 31, 100, 1000, 4095, 8 * KiB, 32 * KiB,
                                   32 * KiB + 1, 100 * KiB, 1 * MiB, 9 * MiB + 7};
    void *ps[NELEM(sizes)];
    size_t us[NELEM(sizes)];
    EXPECT_EQ_U(malloc_usable_size(NULL), 0);
    for (size_t i = 0; i < NELEM(sizes); i++) {
        ps[i] = malloc(sizes[i]);
        ASSERT_TRUE(ps[i] != NULL);
        us[i] = malloc_usable_size(ps[i]);
        if (us[i] < sizes[i]) TC_FAIL_("usable(%zu) = %zu", sizes[i], us[i]);
        memset(ps[i], (int)i, us[i]);
    }
    /* churn the heap around them, then look again */
    for (int r = 0; r < 2000; r++) free(malloc((size_t)(r * 37 % 70000) + 1));
    for (size_t i = 0; i < NELEM(sizes); i++) {
        if (malloc_usable_size(ps[i]) != us[i]) TC_FAIL_("usable(%zu) changed", sizes[i]);
        unsigned char *b = ps[i];
        for (size_t k = 0; k < us[i]; k++)
            if (b[k] != (unsigned char)i) {
                TC_FAIL_("object of %zu bytes overwritten at %zu", sizes[i], k);
                break;
            }
        free(ps[i]);
    }
}

TEST(realloc_preserves_prefix) {
    /* every pair of sizes across the small/large (32 KiB) boundary */
    static const size_t sizes[] = {1,        8,         16,       24,          100,     1000,
                                   4 * KiB,  32 * KiB - 1, 32 * KiB, 32 * KiB + 1, 64 * KiB, 1 * MiB,
                                   5 * MiB};
    uint32_t seed = 1;
    for (size_t i = 0; i < NELEM(sizes); i++) {
        for (size_t j = 0; j < NELEM(sizes); j++, seed++) {
            size_t o = sizes[i], n = sizes[j], keep = o < n ? o : n;
            char *p = malloc(o);
            ASSERT_TRUE(p != NULL);
            tc_fill(p, o, seed);
            char *q = (seed & 1) ? realloc(p, n) : __libc_realloc(p, n);
            ASSERT_TRUE(q != NULL);
            if (tc_check(q, keep, seed) != keep) TC_FAIL_("realloc %zu -> %zu lost data", o, n);
            if (malloc_usable_size(q) < n) TC_FAIL_("realloc %zu -> %zu: usable too small", o, n);
            memset(q, 1, n);
            free(q);
        }
    }
}

TEST(realloc_null_is_malloc) {
    uint64_t before = tc_nmalloc();
    char *p = realloc(NULL, 300);
    ASSERT_TRUE(p != NULL);
    if (tc_have_tricolor()) EXPECT_TRUE(tc_nmalloc() > before);
    EXPECT_TRUE(malloc_usable_size(p) >= 300);
    memset(p, 1, 300);
    free(p);
    p = __libc_realloc(NULL, 70000);
    ASSERT_TRUE(p != NULL);
    memset(p, 1, 70000);
    free(p);
}

TEST(realloc_zero_frees) {
    /* NULL (glibc) or a unique pointer are both fine; leaking is not. */
    struct gc_stats a = GC_STATS_INIT, b = GC_STATS_INIT;
    void *prev = NULL;
    for (int warm = 0; warm < 100; warm++) free(realloc(malloc(100), 0));
    tc_stats(&a);
    for (int i = 0; i < 20000; i++) {
        size_t n = (i % 3 == 0) ? 40000 : (size_t)(i % 500) + 1;
        void *p = malloc(n);
        ASSERT_TRUE(p != NULL);
        void *q = realloc(p, 0);
        if (q) {
            if (q == prev) TC_FAIL_("realloc(p, 0) returned a live pointer");
            free(prev);
            prev = q;
        }
    }
    free(prev);
    tc_stats(&b);
    if (tc_have_tricolor() && b.alloc_bytes > a.alloc_bytes + 256 * KiB)
        TC_FAIL_("realloc(p, 0) leaks: alloc_bytes %ju -> %ju", (uintmax_t)a.alloc_bytes,
                 (uintmax_t)b.alloc_bytes);
}

TEST(libc_aliases_pair_with_free) {
    uint64_t before = tc_nmalloc();
    char *a = __libc_malloc(50), *b = __libc_calloc(10, 10), *c = __libc_memalign(256, 100);
    char *d = __libc_valloc(10), *e = __libc_pvalloc(10);
    ASSERT_TRUE(a && b && c && d && e);
    if (tc_have_tricolor()) EXPECT_TRUE(tc_nmalloc() >= before + 5);
    EXPECT_TRUE(tc_all_zero(b, 100));
    EXPECT_EQ_U((uintptr_t)c % 256, 0);
    tc_fill(a, 50, 3);
    a = __libc_realloc(a, 5000);
    ASSERT_TRUE(a != NULL);
    EXPECT_EQ_U(tc_check(a, 50, 3), 50);
    free(a), free(b), free(c), free(d), free(e);
    char *m = malloc(10), *n = calloc(1, 10);
    ASSERT_TRUE(m && n);
    __libc_free(m), __libc_free(n);
}

TEST(cfree_and_trim) {
    if (HAVE_CFREE()) {
        void *p = malloc(10);
        uint64_t before = tc_nfree();
        cfree(p);
        if (tc_have_tricolor()) EXPECT_TRUE(tc_nfree() > before);
    } else {
        EXPECT_TRUE(!tc_have_tricolor()); /* tricolor must export cfree */
    }
    int r = malloc_trim(0);
    EXPECT_TRUE(r == 0 || r == 1);
}

#ifndef TC_STATIC_LINK
static const char *const exported[] = {
    "malloc",          "free",           "calloc",         "realloc",       "reallocarray",
    "posix_memalign",  "aligned_alloc",  "memalign",       "valloc",        "pvalloc",
    "malloc_usable_size", "cfree",       "malloc_trim",    "__libc_malloc", "__libc_calloc",
    "__libc_realloc",  "__libc_free",    "__libc_memalign", "__libc_valloc", "__libc_pvalloc",
    "gc_version",      "gc_read_stats",  "gc_release_memory", "gc_thread_idle"};

TEST(symbols_resolve_into_libtricolor) {
    if (!tc_have_tricolor()) return;
    for (size_t i = 0; i < NELEM(exported); i++) {
        void *f = dlsym(RTLD_DEFAULT, exported[i]);
        Dl_info info;
        if (!f) {
            TC_FAIL_("dlsym(%s) found nothing", exported[i]);
            continue;
        }
        if (!dladdr(f, &info) || !info.dli_fname || !strstr(info.dli_fname, "libtricolor"))
            TC_FAIL_("%s resolves to %s, not libtricolor", exported[i],
                     info.dli_fname ? info.dli_fname : "?");
    }
}
#endif

TEST(version_string) {
    if (!tc_have_tricolor()) return;
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", TRICOLOR_VERSION_MAJOR, TRICOLOR_VERSION_MINOR,
             TRICOLOR_VERSION_PATCH);
#ifdef TC_STATIC_LINK
    const char *(*ver)(void) = gc_version;
#else
    const char *(*ver)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "gc_version");
#endif
    ASSERT_TRUE(ver != NULL);
    EXPECT_STREQ(ver(), want);
}

TC_TEST_MAIN()
