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

TC_TEST_MAIN()
