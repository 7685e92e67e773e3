/* Unit test for alloc/mcache.c: the P pool, refill and flush, and the tiny
 * allocator's packing and alignment rules (Go's). */
#include <pthread.h>

#include "alloc/alloc.h"
#include "alloc/mcache.h"
#include "harness.h"

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

TC_TEST_MAIN()
