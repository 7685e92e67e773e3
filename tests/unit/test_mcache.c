/* Unit test for alloc/mcache.c: the P pool, refill and flush, the large-span
 * cache, and the tiny allocator's packing and alignment rules (Go's). */
#include <pthread.h>
#include <string.h>

#include "alloc/alloc.h"
#include "alloc/mcache.h"
#include "alloc/options.h"
#include "harness.h"
#include "include/tricolor.h"

TEST(tiny_blocks_pack_with_go_alignment) {
    tc_ensure_init();
    tc_p_release(); /* start from a fresh tiny block */
    char *a = tc_tiny_alloc(1);
    char *b = tc_tiny_alloc(1);
    char *c = tc_tiny_alloc(2);
    char *d = tc_tiny_alloc(4);
    char *e = tc_tiny_alloc(8);
    ASSERT_TRUE(a && b && c && d && e);
    EXPECT_EQ_U((uintptr_t)a % 16, 0);
    EXPECT_TRUE(b == a + 1);
    EXPECT_TRUE(c == a + 2); /* 2-aligned */
    EXPECT_TRUE(d == a + 4); /* 4-aligned */
    EXPECT_TRUE(e == a + 8); /* 8-aligned, fills the block */
    char *f = tc_tiny_alloc(12);
    EXPECT_EQ_U((uintptr_t)f % 16, 0); /* new block */
    char *g = tc_tiny_alloc(3);
    EXPECT_TRUE(g == f + 12);
    char *h = tc_tiny_alloc(15);
    EXPECT_EQ_U((uintptr_t)h % 16, 0);
    for (int i = 0; i < 15; i++) EXPECT_EQ_U(h[i], 0);
    struct mspan *s = tc_spanof((uintptr_t)a);
    ASSERT_TRUE(s != NULL);
    EXPECT_EQ_U(s->spanclass, TC_TINY_SPANCLASS);
}

TEST(tiny_keeps_the_block_with_more_room) {
    tc_p_release();
    char *a = tc_tiny_alloc(8); /* block A, offset 8 */
    char *b = tc_tiny_alloc(12); /* no room: new block B; 12 >= 8 keeps A */
    char *c = tc_tiny_alloc(4);
    EXPECT_TRUE(c == a + 8);
    char *d = tc_tiny_alloc(2); /* A full (12 + 2 > 16? 12+2=14 fits) */
    EXPECT_TRUE(d == a + 12);
    (void)b;
}

static void *thread_body(void *arg) {
    (void)arg;
    void *v = tc_alloc(100, SPAN_MANUAL);
    tc_free(v, "free()");
    return tc_tls_p;
}

TEST(threads_return_their_p_at_exit_and_ps_are_reused) {
    uint32_t before = tc_p_count(NULL);
    for (int i = 0; i < 50; i++) {
        pthread_t t;
        void *p;
        ASSERT_TRUE(pthread_create(&t, NULL, thread_body, NULL) == 0);
        pthread_join(t, &p);
        EXPECT_TRUE(p != NULL);
    }
    uint32_t idle = 0, after = tc_p_count(&idle);
    EXPECT_TRUE(after <= before + 1);
    EXPECT_TRUE(idle >= 1);
}

TEST(flush_returns_every_cached_span) {
    void *v[40];
    for (int i = 0; i < 40; i++) v[i] = tc_alloc((size_t)(i + 1) * 200, SPAN_MANUAL);
    struct p *pp = tc_tls_p;
    ASSERT_TRUE(pp != NULL);
    tc_p_release();
    EXPECT_TRUE(tc_tls_p == NULL);
    for (unsigned i = 0; i < TC_NUM_SPAN_CLASSES; i++)
        if (pp->mcache.alloc[i] != &tc_emptyspan) { TC_FAIL_("class %u still cached", i); break; }
    for (int i = 0; i < 40; i++) tc_free(v[i], "free()"); /* remote now: no P */
    EXPECT_TRUE(tc_mheap_verify());
}

TEST(large_free_is_reused_by_the_next_malloc_of_its_page_count) {
    tc_ensure_init();
    tc_p_release(); /* an empty cache */
    char *a = tc_alloc_slow(40000, SPAN_MANUAL, 0, 0); /* 5 pages */
    ASSERT_TRUE(a != NULL);
    struct mspan *s = tc_spanof((uintptr_t)a);
    memset(a, 0xab, 40000);
    ASSERT_TRUE(tc_free(a, "free()"));
    struct p *pp = tc_tls_p;
    EXPECT_EQ_U(pp->mcache.nlarge, 1);
    EXPECT_EQ_U(pp->mcache.largepages, 5);
    EXPECT_TRUE(s->state == MSPAN_INUSE);
    EXPECT_EQ_U(tc_bits_load(&s->allocBits[0]) & 1, 0); /* free, as seen by free() */
    struct mspan *out;
    uintptr_t base;
    EXPECT_TRUE(tc_classify((uintptr_t)a, &out, &base) == PTR_UNALLOCATED);
    /* A different page count does not take it; the same one does. */
    char *b = tc_alloc_slow(60000, SPAN_MANUAL, 0, 0); /* 8 pages */
    EXPECT_TRUE(b != a);
    char *c = tc_alloc_slow(33000, SPAN_MANUAL, 1, 0); /* 5 pages, zeroed */
    EXPECT_TRUE(c == a);
    EXPECT_EQ_U(pp->mcache.nlarge, 0);
    int zero = 1;
    for (int i = 0; i < 33000; i++) zero &= c[i] == 0;
    EXPECT_TRUE(zero); /* calloc of a cached span clears the old bytes */
    EXPECT_TRUE(tc_classify((uintptr_t)c, &out, &base) == PTR_OK);
    tc_free(b, "free()");
    tc_free(c, "free()");
    EXPECT_EQ_U(pp->mcache.nlarge, 2);
    tc_p_release(); /* thread exit flushes the cache to the heap */
    EXPECT_TRUE(s->state != MSPAN_INUSE || tc_spanof((uintptr_t)a) != s ||
                (tc_bits_load(&s->allocBits[0]) & 1));
    EXPECT_TRUE(tc_mheap_verify());
}

TEST(large_cache_stays_within_its_bounds) {
    tc_p_release();
    void *v[3 * TC_LARGE_CACHE];
    size_t n = sizeof v / sizeof v[0];
    for (size_t i = 0; i < n; i++)
        ASSERT_TRUE((v[i] = tc_alloc_slow(32768 + 8192 * (i % 20) + 1, SPAN_MANUAL, 0, 0)));
    void *big = tc_alloc_slow((size_t)(TC_LARGE_CACHE_MAX_SPAN + 1) * 8192, SPAN_MANUAL, 0, 0);
    ASSERT_TRUE(big != NULL);
    for (size_t i = 0; i < n; i++) {
        tc_free(v[i], "free()");
        struct mcache *c = &tc_tls_p->mcache;
        EXPECT_TRUE(c->nlarge <= TC_LARGE_CACHE && (uint64_t)c->largepages * 8192 <= (uint64_t)tc_opts.largecache);
        uint32_t pages = 0;
        for (uint32_t k = 0; k < c->nlarge; k++) pages += (uint32_t)c->large[k]->npages;
        EXPECT_EQ_U(pages, c->largepages);
    }
    uint32_t before = tc_tls_p->mcache.nlarge;
    tc_free(big, "free()"); /* too large to keep: straight to the heap */
    EXPECT_EQ_U(tc_tls_p->mcache.nlarge, before);
    EXPECT_TRUE(tc_classify((uintptr_t)big, &(struct mspan *){0}, &(uintptr_t){0}) != PTR_OK);
    struct gc_stats st = GC_STATS_INIT;
    gc_read_stats(&st);
    EXPECT_TRUE(st.thread_cache_bytes >= (uint64_t)tc_tls_p->mcache.largepages * 8192);
    gc_release_memory(); /* gives the caller's cached spans back */
    EXPECT_EQ_U(tc_tls_p->mcache.nlarge, 0);
    EXPECT_TRUE(tc_mheap_verify());
}

TEST(release_memory_empties_the_callers_free_bins) {
    static void *v[600];
    for (size_t i = 0; i < 600; i++) ASSERT_TRUE((v[i] = tc_alloc(16 + 48 * (i % 40), SPAN_MANUAL)));
    uint64_t pushed = 0;
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) pushed -= tc_tls_p->mcache.free[sc].npush;
    for (size_t i = 0; i < 600; i++) tc_free(v[i], "free()");
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) pushed += tc_tls_p->mcache.free[sc].npush;
    EXPECT_EQ_U(pushed, 600); /* every free went to a bin */
    gc_release_memory();
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) EXPECT_EQ_U(tc_tls_p->mcache.free[sc].n, 0);
    for (size_t i = 0; i < 600; i++) /* back in their spans: free, so not classifiable as live */
        EXPECT_TRUE(tc_classify((uintptr_t)v[i], &(struct mspan *){0}, &(uintptr_t){0}) != PTR_OK);
    EXPECT_TRUE(tc_mheap_verify());
}

TC_TEST_MAIN()
