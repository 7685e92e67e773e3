/* tests/integration/tc_check.h: helpers shared by the malloc-replacement
 * tests (integration/, override/, stress/).
 *
 * The same programs run in three settings: linked against libtricolor.so
 * (the normal meson build), linked statically against libtricolor.a, and
 * against plain glibc while developing. So nothing here assumes tricolor:
 * tc_stats() finds gc_read_stats at run time and says whether it exists,
 * and the tricolor-only checks are guarded by tc_have_tricolor(). Meson
 * sets TC_EXPECT_TRICOLOR=1, and then a missing tricolor is a failure
 * (TC_PRESENCE_TEST), so a guard can never silently hide a whole program.
 *
 * Ownership: an allocation is tricolor's when gc_read_stats().nmalloc
 * moves across the call (tc_nmalloc). In a static link dlsym cannot see
 * the executable's symbols, so TC_STATIC_LINK refers to them directly.
 *
 * Also here: a cheap position-dependent byte pattern (fill, then check
 * after the object moved or crossed a thread), RSS from /proc/self/statm
 * read without stdio, an optimisation barrier for sizes and pointers
 * (so gcc neither folds malloc(SIZE_MAX) nor warns on a deliberate bad
 * free), a monotonic clock and the seconds budget of the stress programs. */
#ifndef TC_INTEGRATION_CHECK_H
#define TC_INTEGRATION_CHECK_H

#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tricolor.h>

#include "harness.h"

typedef int (*tc_stats_fn)(struct gc_stats *);

static inline tc_stats_fn tc_stats_function(void) {
#ifdef TC_STATIC_LINK
    return gc_read_stats;
#else
    static tc_stats_fn fn;
    static int looked;
    if (!looked) {
        fn = (tc_stats_fn)dlsym(RTLD_DEFAULT, "gc_read_stats");
        looked = 1;
    }
    return fn;
#endif
}

static inline int tc_have_tricolor(void) { return tc_stats_function() != NULL; }

static inline int tc_expect_tricolor(void) {
    const char *e = getenv("TC_EXPECT_TRICOLOR");
    return e && *e && strcmp(e, "0") != 0;
}

/* Fill *st; 0 when tricolor is not the allocator. */
static inline int tc_stats(struct gc_stats *st) {
    tc_stats_fn fn = tc_stats_function();
    memset(st, 0, sizeof *st);
    st->size = sizeof *st;
    return fn ? (fn(st), 1) : 0;
}

static inline uint64_t tc_nmalloc(void) {
    struct gc_stats st = GC_STATS_INIT;
    tc_stats(&st);
    return st.nmalloc;
}

static inline uint64_t tc_nfree(void) {
    struct gc_stats st = GC_STATS_INIT;
    tc_stats(&st);
    return st.nfree;
}

/* Every program carries this, so a build that lost tricolor fails. */
#define TC_PRESENCE_TEST()                                                  \
    TEST(runs_on_tricolor_when_expected) {                                  \
        if (tc_expect_tricolor()) {                                         \
            ASSERT_TRUE(tc_have_tricolor());                                \
            free(tc_launder(malloc(tc_opaque(16))));                        \
            struct gc_stats st_ = GC_STATS_INIT;                            \
            tc_stats(&st_);                                                 \
            EXPECT_TRUE(st_.nmalloc > 0);                                   \
        }                                                                   \
    }

/* Hide a value from the optimiser. */
static inline size_t tc_opaque(size_t x) {
    __asm__ volatile("" : "+r"(x));
    return x;
}
static inline void *tc_launder(void *p) {
    __asm__ volatile("" : "+r"(p));
    return p;
}

static inline unsigned char tc_pattern_byte(size_t i, uint32_t seed) {
    return (unsigned char)((i * 131u) ^ (i >> 9) ^ (seed * 0x9Du) ^ (seed >> 8));
}

static inline void tc_fill(void *p, size_t n, uint32_t seed) {
    unsigned char *b = (unsigned char *)p;
    for (size_t i = 0; i < n; i++) b[i] = tc_pattern_byte(i, seed);
}

/* Index of the first wrong byte, or n when all n are right. */
static inline size_t tc_check(const void *p, size_t n, uint32_t seed) {
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != tc_pattern_byte(i, seed)) return i;
    return n;
}

static inline int tc_all_zero(const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

static inline double tc_now(void) { return tc_test_now(); }

/* Seconds budget of a stress program: TC_STRESS_SECONDS, else dflt. */
static inline double tc_budget_seconds(double dflt) { return tc_test_seconds("TC_STRESS_SECONDS", dflt); }

/* xorshift64*: deterministic per-thread randomness, no libc state. */
static inline uint64_t tc_rand(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

#endif
