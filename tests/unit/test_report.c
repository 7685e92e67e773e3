/* Unit test for alloc/report.c's formatter. */
#include "alloc/report.h"
#include "harness.h"

TEST(formats_each_directive) {
    char b[128];
    tc_format(b, sizeof b, "%s=%d %u %zu %x %p %c%%", "k", -42, 7u, (size_t)1 << 40, 255u,
              (void *)0xc000001000, 'z');
    EXPECT_STREQ(b, "k=-42 7 1099511627776 ff 0xc000001000 z%");
}

/* gctrace prints "@0.047s" as "%u.%03u": without the width it was "@0.47s". */
TEST(pads_with_zeros_or_spaces) {
    char b[128];
    tc_format(b, sizeof b, "%u.%03u|%03zu|%05d|%5d|%4x|%02u|%3u", 0u, 47u, (size_t)7, -42, -42,
              255u, 1234u, 5u);
    EXPECT_STREQ(b, "0.047|007|-0042|  -42|  ff|1234|  5");
    tc_format(b, sizeof b, "%03u", 0u);
    EXPECT_STREQ(b, "000");
}

TEST(truncates_but_terminates) {
    char b[8];
    size_t n = tc_format(b, sizeof b, "%s", "0123456789");
    EXPECT_EQ_U(n, 7);
    EXPECT_STREQ(b, "0123456");
    tc_format(b, sizeof b, "%p", (void *)0);
    EXPECT_STREQ(b, "0x0");
}

TC_TEST_MAIN()
