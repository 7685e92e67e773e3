/* Unit test for alloc/mcentral.c: list moves on cache, uncache and
 * reconcile after remote frees, and return of empty spans to the heap. */
#include "alloc/alloc.h"
#include "alloc/mcentral.h"
#include "gc/hooks.h"
#include "harness.h"

static struct p fake_p; /* only its address is used, as the owner tag */

static void *take(struct mspan *s) {
    void *v = tc_mspan_alloc_fast(s);
    if (!v && tc_mspan_next_window(s)) v = tc_mspan_alloc_fast(s);
    return v;
}

static void remote_free(struct mspan *s, unsigned idx) {
    atomic_fetch_add(&s->xremoteCount, 1);
    atomic_fetch_or(&s->remoteBits[idx >> 6], 1ull << (idx & 63));
    tc_mcentral_reconcile(s, s->spanclass, s->gen);
}

/* Fill cached span s, give it back, and free its slots remotely. */
static void fill_and_free_remotely(struct mspan *s) {
    for (unsigned i = 0; i < s->nelems; i++) ASSERT_TRUE(take(s) != NULL);
    tc_mcentral_uncache_span(s);
    for (unsigned i = 0; i < s->nelems; i++) remote_free(s, i);
}

TEST(full_span_goes_partial_after_a_remote_free_and_home_when_empty) {
    tc_ensure_init();
    unsigned spc = tc_spanclass(40, SPAN_MANUAL); /* 2688 B, 3 per span */
    struct mcentral *c = &tc_mcentral_[spc];
    tc_mcentral_release_spares();
    uint64_t nspans = c->nspans;
    struct mspan *s = tc_mcentral_cache_span(spc, &fake_p);
    ASSERT_TRUE(s != NULL);
    EXPECT_EQ_U(s->list, LIST_CACHED);
    EXPECT_TRUE(atomic_load(&s->xowner) == &fake_p);
    for (unsigned i = 0; i < s->nelems; i++) ASSERT_TRUE(take(s) != NULL);
    tc_mcentral_uncache_span(s);
    EXPECT_EQ_U(s->list, LIST_FULL);
    EXPECT_TRUE(atomic_load(&s->xowner) == NULL);
    remote_free(s, 1);
    EXPECT_EQ_U(s->list, LIST_PARTIAL);
    EXPECT_EQ_U(tc_mspan_count(s), 2);
    remote_free(s, 0);
    remote_free(s, 2);
    /* The first span to empty is kept as the class's spare... */
    EXPECT_TRUE(c->spare == s);
    EXPECT_EQ_U(s->state, MSPAN_INUSE);
    EXPECT_EQ_U(c->nspans, nspans + 1);
    /* ...and handed out again before the heap is asked for a new one. */
    struct mspan *again = tc_mcentral_cache_span(spc, &fake_p);
    EXPECT_TRUE(again == s);
    EXPECT_TRUE(c->spare == NULL);
    /* With a spare in place, the next span to empty goes to the heap. */
    struct mspan *other = tc_mcentral_cache_span(spc, &fake_p);
    ASSERT_TRUE(other != NULL && other != s);
    fill_and_free_remotely(s);
    EXPECT_TRUE(c->spare == s);
    fill_and_free_remotely(other);
    EXPECT_TRUE(other->state != MSPAN_INUSE); /* back in the heap (maybe merged) */
    tc_mcentral_release_spares();
    EXPECT_TRUE(s->state != MSPAN_INUSE);
    EXPECT_EQ_U(c->nspans, nspans);
    EXPECT_TRUE(tc_mheap_verify());
}

TEST(stale_reconcile_after_reuse_is_ignored) {
    unsigned spc = tc_spanclass(40, SPAN_MANUAL);
    struct mspan *s = tc_mcentral_cache_span(spc, &fake_p);
    ASSERT_TRUE(s != NULL);
    uint64_t gen = s->gen;
    take(s);
    tc_mcentral_uncache_span(s);
    EXPECT_EQ_U(s->list, LIST_PARTIAL);
    tc_mcentral_reconcile(s, spc, gen + 1000); /* wrong lifetime: no effect */
    EXPECT_EQ_U(s->list, LIST_PARTIAL);
    struct mspan *again = tc_mcentral_cache_span(spc, &fake_p);
    EXPECT_TRUE(again == s); /* partial spans are reused first */
    EXPECT_EQ_U(tc_mspan_count(again), 1);
    EXPECT_TRUE(tc_mspan_free_local(again, 0));
    tc_mcentral_uncache_span(again); /* empty: the spare, or back to the heap */
    EXPECT_TRUE(tc_mheap_verify());
}

/* Collected spans, with the collector not running: mark termination is
 * tc_sweepgen moving on by 2, and nothing is marked, so every sweep
 * empties what it sweeps. */
static struct mspan *filled_collected(unsigned spc) {
    struct mspan *s = tc_mcentral_cache_span(spc, &fake_p);
    if (!s) return NULL;
    tc_mheap_populate(); /* what gc_alloc does after a refill from the heap */
    while (take(s)) continue;
    tc_mcentral_uncache_span(s);
    return s;
}

TEST(sweeps_take_the_oldest_span_first) {
    unsigned spc = tc_spanclass(40, SPAN_NOSCAN);
    struct mcentral *c = &tc_mcentral_[spc];
    uint64_t nspans = c->nspans;
    struct mspan *a = filled_collected(spc), *b = filled_collected(spc);
    ASSERT_TRUE(a && b && a != b);
    EXPECT_EQ_U(a->list, LIST_FULL);
    uint64_t gen_a = a->gen, gen_b = b->gen;
    tc_sweepgen += 2;
    EXPECT_EQ_U(tc_mcentral_sweep_some(1), 1);
    /* a went on the list first: swept first, and, empty, back to the heap. */
    EXPECT_TRUE(__atomic_load_n(&a->gen, __ATOMIC_RELAXED) != gen_a);
    EXPECT_EQ_U(b->sweepgen, tc_sweepgen - 2);
    EXPECT_EQ_U(b->list, LIST_FULL);
    EXPECT_EQ_U(c->nspans, nspans + 1);
    EXPECT_EQ_U(tc_mcentral_sweep_some(UINT64_MAX), 1);
    EXPECT_TRUE(__atomic_load_n(&b->gen, __ATOMIC_RELAXED) != gen_b);
    EXPECT_EQ_U(c->nspans, nspans);
    EXPECT_TRUE(tc_mcentral_unswept_empty());
    EXPECT_TRUE(tc_mheap_verify());
}

TC_TEST_MAIN()
