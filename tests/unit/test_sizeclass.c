/* Unit test for alloc/sizeclass.h and the generated table. */
#include "alloc/sizeclass.h"
#include "harness.h"

TEST(class_count_and_go_spot_values) {
    EXPECT_EQ_U(TC_NUM_SIZE_CLASSES, 68);
    EXPECT_EQ_U(tc_class_size(1), 8);
    EXPECT_EQ_U(tc_class_size(3), 24);
    EXPECT_EQ_U(tc_class_size(31), 896);
    EXPECT_EQ_U(tc_class_size(52), 9472);
    EXPECT_EQ_U(tc_class_size(67), 32768);
    EXPECT_EQ_U(tc_class_to_npages[65], 10);
    EXPECT_EQ_U(tc_class_to_npages[60], 9);
    EXPECT_EQ_U(tc_class_to_npages_gc[32], 8); /* 1 KiB: 64 a span, not Go's 8 */
    EXPECT_EQ_U(tc_class_to_npages_gc[10], 1); /* 128 B: Go's page holds 64 */
    EXPECT_EQ_U(TC_MAX_OBJS_PER_SPAN, 1024);
}

TEST(every_size_maps_to_the_smallest_fitting_class) {
    for (size_t size = 0; size <= TC_MAX_SMALL_SIZE; size++) {
        unsigned c = tc_size_to_class(size);
        ASSERT_TRUE(c >= 1 && c < TC_NUM_SIZE_CLASSES);
        ASSERT_TRUE(tc_class_size(c) >= size);
        ASSERT_TRUE(c == 1 || tc_class_size(c - 1) < size);
    }
}

/* The longer of a class's two span lengths (malloc'd, collected). */
static uint64_t longest_span(unsigned c) {
    unsigned n = tc_class_to_npages[c] > tc_class_to_npages_gc[c] ? tc_class_to_npages[c]
                                                                  : tc_class_to_npages_gc[c];
    return (uint64_t)n * TC_PAGE_SIZE;
}

TEST(classes_increase_and_waste_at_most_an_eighth_of_a_span) {
    for (unsigned c = 1; c < TC_NUM_SIZE_CLASSES; c++) {
        size_t span = (size_t)tc_class_to_npages[c] * TC_PAGE_SIZE;
        size_t gcspan = (size_t)tc_class_to_npages_gc[c] * TC_PAGE_SIZE;
        if (c > 1) EXPECT_TRUE(tc_class_size(c) > tc_class_size(c - 1));
        EXPECT_TRUE(span % tc_class_size(c) <= span / 8);
        EXPECT_TRUE(gcspan % tc_class_size(c) <= gcspan / 8);
        /* Never shorter than Go's, never longer than 64 KiB unless Go's is. */
        EXPECT_TRUE(gcspan == span || (gcspan > span && gcspan <= 8 * TC_PAGE_SIZE));
        /* Collected spans hold 64 objects where 64 KiB can with that waste. */
        EXPECT_TRUE(gcspan / tc_class_size(c) >= 64 || tc_class_size(c) > 1024 ||
                    gcspan == 8 * TC_PAGE_SIZE);
        EXPECT_TRUE(gcspan / tc_class_size(c) <= TC_MAX_OBJS_PER_SPAN);
        EXPECT_TRUE(tc_class_size(c) % 8 == 0);
        if (tc_class_size(c) >= 32) EXPECT_TRUE(tc_class_size(c) % 16 == 0);
    }
}

TEST(divmagic_gives_the_slot_of_every_byte) {
    for (unsigned c = 1; c < TC_NUM_SIZE_CLASSES; c++) {
        uint64_t size = tc_class_size(c), m = tc_class_to_divmagic[c];
        uint64_t span = longest_span(c);
        for (uint64_t off = 0; off < span / size * size; off += 7)
            if ((off * m) >> 32 != off / size) {
                TC_FAIL_("class %u offset %llu", c, (unsigned long long)off);
                return;
            }
    }
}

/* free's fast path (alloc.h) tells a slot start from an interior pointer
 * by the fraction alone: (uint32)(off * divmagic) < divmagic. */
TEST(divmagic_fraction_tells_slot_starts_at_every_byte) {
    for (unsigned c = 1; c < TC_NUM_SIZE_CLASSES; c++) {
        uint64_t size = tc_class_size(c), m = tc_class_to_divmagic[c];
        uint64_t span = longest_span(c);
        for (uint64_t off = 0; off < span; off++)
            if (((uint32_t)(off * m) < m) != (off % size == 0)) {
                TC_FAIL_("class %u offset %llu", c, (unsigned long long)off);
                return;
            }
    }
}

TEST(span_classes_keep_kinds_apart) {
    for (unsigned c = 0; c < TC_NUM_SIZE_CLASSES; c++)
        for (unsigned k = SPAN_SCAN; k <= SPAN_MANUAL; k++) {
            unsigned spc = tc_spanclass(c, (enum span_kind)k);
            EXPECT_TRUE(spc < TC_NUM_SPAN_CLASSES);
            EXPECT_EQ_U(tc_spanclass_sizeclass(spc), c);
            EXPECT_EQ_U(tc_spanclass_kind(spc), k);
        }
    EXPECT_EQ_U(tc_spanclass_sizeclass(TC_TINY_SPANCLASS), 2);
    EXPECT_EQ_U(tc_spanclass_kind(TC_TINY_SPANCLASS), SPAN_NOSCAN);
}

TC_TEST_MAIN()
