/* Unit test for alloc/options.c. */
#include "alloc/options.h"
#include "harness.h"

TEST(godebug_badfree_values) {
    struct tc_options o = {0};
    tc_options_parse_godebug(&o, "badfree=warn");
    EXPECT_EQ_U(o.badfree, BADFREE_WARN);
    tc_options_parse_godebug(&o, "gctrace=1,badfree=abort,madvdontneed=1");
    EXPECT_EQ_U(o.badfree, BADFREE_ABORT);
    tc_options_parse_godebug(&o, "badfree=warn,");
    EXPECT_EQ_U(o.badfree, BADFREE_WARN);
}

TEST(bad_values_and_unknown_keys_keep_defaults) {
    struct tc_options o = {0};
    tc_options_parse_godebug(&o, "badfree=maybe"); /* warns on stderr */
    EXPECT_EQ_U(o.badfree, BADFREE_ABORT);
    tc_options_parse_godebug(&o, "nosuchkey=1,badfree,=,,");
    EXPECT_EQ_U(o.badfree, BADFREE_ABORT);
    tc_options_parse_godebug(&o, NULL);
    tc_options_parse_godebug(&o, "");
    EXPECT_EQ_U(o.badfree, BADFREE_ABORT);
}

TEST(table_defaults_and_sizes_with_suffixes) {
    struct tc_options o;
    tc_options_defaults(&o);
    EXPECT_EQ_U(o.binbytes, 128 * 1024);
    EXPECT_EQ_U(o.ownempty, 2);
    EXPECT_EQ_U(o.binobjs, 2048);
    EXPECT_EQ_U(o.largecache, 1u << 20);
    EXPECT_EQ_U(o.badfree, BADFREE_ABORT);
    tc_options_parse_godebug(&o, "binbytes=64K,largecache=1G,ownempty=0");
    EXPECT_EQ_U(o.binbytes, 64 * 1024);
    EXPECT_EQ_U(o.largecache, 1u << 30);
    EXPECT_EQ_U(o.ownempty, 0);
    tc_options_parse_godebug(&o, "binbytes=4096,mstats=1,gcstress=50");
    EXPECT_EQ_U(o.binbytes, 4096);
    EXPECT_EQ_U(o.mstats, 1);
    EXPECT_EQ_U(o.gcstress, 50);
}

TEST(out_of_range_and_malformed_numbers_keep_the_value) {
    struct tc_options o;
    tc_options_defaults(&o);
    /* each warns on stderr with one line */
    tc_options_parse_godebug(&o, "binbytes=17M,binbytes=1T,binbytes=K,binbytes=,ownempty=1025");
    tc_options_parse_godebug(&o, "ownempty=2x,mstats=2,gctrace=-1,largecache=99999999999999999999");
    EXPECT_EQ_U(o.binbytes, 128 * 1024);
    EXPECT_EQ_U(o.ownempty, 2);
    EXPECT_EQ_U(o.mstats, 0);
    EXPECT_EQ_U(o.gctrace, 0);
    EXPECT_EQ_U(o.largecache, 1u << 20);
}

TC_TEST_MAIN()
