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

TEST(gogc_and_gomemlimit_syntax) {
    int32_t pct = 7;
    EXPECT_EQ_U(tc_options_parse_gogc("off", &pct), 0);
    EXPECT_EQ_U(pct, (uint64_t)-1);
    EXPECT_EQ_U(tc_options_parse_gogc("250", &pct), 0);
    EXPECT_EQ_U(pct, 250);
    EXPECT_EQ_U(tc_options_parse_gogc("-3", &pct), 0);
    EXPECT_EQ_U(pct, (uint64_t)-1);
    static const char *bad_gogc[] = {"", "10%", "1e3", "abc", "99999999999", "-"};
    for (unsigned i = 0; i < 6; i++) EXPECT_EQ_U(tc_options_parse_gogc(bad_gogc[i], &pct), (uint64_t)-1);
    EXPECT_EQ_U(pct, (uint64_t)-1);

    static const struct { const char *s; int64_t v; } good[] = {
        {"off", INT64_MAX}, {"0", 0}, {"12345", 12345}, {"100B", 100},
        {"512MiB", 512 * TC_MiB}, {"3KiB", 3072}, {"2GiB", 2048 * TC_MiB},
        {"1TiB", (int64_t)1 << 40}, {"8388607TiB", (int64_t)8388607 << 40},
    };
    for (unsigned i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t v = -5;
        if (tc_options_parse_memlimit(good[i].s, &v) != 0 || v != good[i].v)
            TC_FAIL_("GOMEMLIMIT=%s: got %lld", good[i].s, (long long)v);
    }
    static const char *bad[] = {"", "B", "MiB", "512MB", "512mib", "1.5GiB", "-1", "512 MiB",
                                "8388608TiB", "99999999999999999999", "12iB", "1PiB"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = -5;
        if (tc_options_parse_memlimit(bad[i], &v) != -1 || v != -5)
            TC_FAIL_("GOMEMLIMIT=%s accepted (%lld)", bad[i], (long long)v);
    }
}

TEST(environment_variables_and_the_table) {
    struct tc_options o;
    tc_options_defaults(&o);
    EXPECT_EQ_U(o.gogc, 100);
    EXPECT_EQ_U(o.gomemlimit, INT64_MAX);
    EXPECT_EQ_U(o.gomaxprocs, 0);
    tc_options_parse_env(&o, "GOGC", "37");
    tc_options_parse_env(&o, "GOMEMLIMIT", "512MiB");
    tc_options_parse_env(&o, "GOMAXPROCS", "3");
    EXPECT_EQ_U(o.gogc, 37);
    EXPECT_EQ_U(o.gomemlimit, 512 * TC_MiB);
    EXPECT_EQ_U(o.gomaxprocs, 3);
    tc_options_parse_env(&o, "GOGC", "off");
    EXPECT_EQ_U(o.gogc, (uint64_t)-1);
    /* each warns on stderr with one line and keeps the value */
    tc_options_parse_env(&o, "GOGC", "lots");
    tc_options_parse_env(&o, "GOMEMLIMIT", "512MB");
    tc_options_parse_env(&o, "GOMAXPROCS", "0");
    tc_options_parse_env(&o, "GOMAXPROCS", "1025");
    EXPECT_EQ_U(o.gogc, (uint64_t)-1);
    EXPECT_EQ_U(o.gomemlimit, 512 * TC_MiB);
    EXPECT_EQ_U(o.gomaxprocs, 3);
    tc_options_parse_env(&o, "GOMAXPROCS", ""); /* empty: unset */
    EXPECT_EQ_U(o.gomaxprocs, 3);
    /* a GODEBUG key is not a variable of its own, nor the reverse */
    tc_options_parse_env(&o, "MSTATS", "1");
    tc_options_parse_godebug(&o, "gogc=5,GOGC=5");
    EXPECT_EQ_U(o.mstats, 0);
    EXPECT_EQ_U(o.gogc, (uint64_t)-1);
    tc_options_parse_env(&o, "GODEBUG", "mstats=1");
    EXPECT_EQ_U(o.mstats, 1);
}

TC_TEST_MAIN()
