/* Unit test for alloc/mspan.c on a private span over a static buffer. */
#include <stdlib.h>

#include "alloc/mspan.h"
#include "harness.h"

static _Alignas(8192) char pages[10 * 8192];
static _Atomic uint64_t bits[32];     /* allocBits, then in-bin bits */
static _Atomic uint64_t aux[8 * 16];  /* the larger layout: collected spans' mark bytes */

static struct mspan make_span(unsigned sizeclass) {
    struct mspan s = {0};
    s.startAddr = (uintptr_t)pages;
    s.npages = tc_class_to_npages[sizeclass];
    tc_mspan_init(&s, tc_spanclass(sizeclass, SPAN_MANUAL), bits, aux);
    return s;
}

static void *take(struct mspan *s) {
    void *v = tc_mspan_alloc_fast(s);
    if (!v && tc_mspan_next_window(s)) v = tc_mspan_alloc_fast(s);
    return v;
}

static unsigned slot(struct mspan *s, void *v) {
    return (unsigned)(((uintptr_t)v - s->startAddr) / s->elemsize);
}

TEST(fills_every_slot_in_order_then_reports_full) {
    unsigned classes[] = {1, 3, 5, 26, 35, 52, 65, 67};
    for (size_t k = 0; k < sizeof classes / sizeof classes[0]; k++) {
        struct mspan s = make_span(classes[k]);
        for (unsigned i = 0; i < s.nelems; i++) {
            void *v = take(&s);
            ASSERT_TRUE(v != NULL);
            EXPECT_EQ_U(slot(&s, v), i);
        }
        EXPECT_TRUE(take(&s) == NULL);
        EXPECT_EQ_U(tc_mspan_count(&s), s.nelems);
        EXPECT_TRUE(tc_mspan_verify(&s));
    }
}

TEST(local_free_is_reused_at_once_lowest_first) {
    struct mspan s = make_span(1); /* 1024 slots, 16 words */
    for (unsigned i = 0; i < 700; i++) take(&s);
    int exact;
    EXPECT_TRUE(tc_mspan_free_local(&s, 650));
    EXPECT_TRUE(tc_mspan_free_local(&s, 3));
    EXPECT_TRUE(tc_mspan_free_local(&s, 130));
    EXPECT_TRUE(!tc_mspan_free_local(&s, 3)); /* double free refused */
    EXPECT_TRUE(tc_mspan_verify(&s));
    EXPECT_EQ_U(slot(&s, take(&s)), 3);
    EXPECT_EQ_U(slot(&s, take(&s)), 130);
    EXPECT_EQ_U(slot(&s, take(&s)), 650);
    EXPECT_EQ_U(slot(&s, take(&s)), 700);
    EXPECT_TRUE(tc_mspan_verify(&s));
    unsigned idx = tc_mspan_index(&s, s.startAddr + 8 * 17, &exact);
    EXPECT_EQ_U(idx, 17);
    EXPECT_TRUE(exact);
    tc_mspan_index(&s, s.startAddr + 8 * 17 + 3, &exact);
    EXPECT_TRUE(!exact);
}

TEST(free_inside_the_window_sets_the_cache_bit) {
    struct mspan s = make_span(1);
    for (unsigned i = 0; i < 10; i++) take(&s);
    tc_mspan_free_local(&s, 9); /* behind cursor 10 */
    EXPECT_TRUE(tc_mspan_verify(&s));
    take(&s); /* 9 again */
    for (unsigned i = 0; i < 5; i++) take(&s); /* 10..14 */
    tc_mspan_free_local(&s, 12); /* behind cursor 15 */
    EXPECT_EQ_U(slot(&s, take(&s)), 12);
    EXPECT_EQ_U(slot(&s, take(&s)), 15);
    EXPECT_TRUE(tc_mspan_verify(&s));
}

TEST(remote_frees_merge_and_rewind) {
    struct mspan s = make_span(2); /* 512 slots */
    for (unsigned i = 0; i < s.nelems; i++) take(&s);
    unsigned freed[] = {5, 64, 300, 511};
    for (unsigned k = 0; k < 4; k++) {
        atomic_fetch_add(&s.xremoteCount, 1);
        atomic_fetch_or(&s.remoteBits[freed[k] >> 6], 1ull << (freed[k] & 63));
    }
    EXPECT_TRUE(take(&s) == NULL);
    EXPECT_EQ_U(tc_mspan_merge_remote(&s), 4);
    EXPECT_EQ_U(atomic_load(&s.xremoteCount), 0);
    EXPECT_EQ_U(tc_mspan_count(&s), s.nelems - 4);
    EXPECT_TRUE(tc_mspan_verify(&s));
    for (unsigned k = 0; k < 4; k++) EXPECT_EQ_U(slot(&s, take(&s)), freed[k]);
    EXPECT_TRUE(take(&s) == NULL);
}

TEST(random_alloc_free_keeps_invariants) {
    struct mspan s = make_span(4); /* 256 slots */
    char live[256] = {0};
    unsigned seed = 12345, nlive = 0;
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 16) % 3 && nlive < s.nelems) {
            void *v = take(&s);
            ASSERT_TRUE(v != NULL);
            unsigned i = slot(&s, v);
            ASSERT_TRUE(!live[i]);
            live[i] = 1, nlive++;
        } else if (nlive) {
            unsigned i = (seed >> 8) % s.nelems;
            while (!live[i]) i = (i + 1) % s.nelems;
            ASSERT_TRUE(tc_mspan_free_local(&s, i));
            live[i] = 0, nlive--;
        }
        if (step % 97 == 0) ASSERT_TRUE(tc_mspan_verify(&s));
    }
    EXPECT_EQ_U(tc_mspan_count(&s), nlive);
}

TEST(mark_bytes_pack_into_bitmap_words) {
    unsigned classes[] = {1, 3, 26, 67};
    uint64_t rng = 12345;
    for (size_t k = 0; k < sizeof classes / sizeof classes[0]; k++) {
        struct mspan s = {0};
        s.startAddr = (uintptr_t)pages;
        s.npages = tc_class_to_npages[classes[k]];
        tc_mspan_init(&s, tc_spanclass(classes[k], SPAN_SCAN), bits, aux);
        EXPECT_TRUE((void *)s.gcmarkBytes == (void *)aux);
        uint64_t want[16] = {0};
        for (unsigned i = 0; i < s.nelems; i++) {
            EXPECT_TRUE(!tc_mspan_marked(&s, i)); /* init clears them */
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            if (rng >> 63) {
                tc_mspan_set_marked(&s, i);
                want[i / 64] |= 1ull << (i % 64);
            }
        }
        for (unsigned w = 0; w < s.nwords; w++) EXPECT_EQ_U(tc_mspan_mark_word(&s, w), want[w]);
        for (unsigned i = 0; i < s.nelems; i++)
            EXPECT_EQ_U(tc_mspan_marked(&s, i), want[i / 64] >> (i % 64) & 1);
    }
}

TC_TEST_MAIN()
