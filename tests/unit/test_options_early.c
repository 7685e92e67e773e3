/* tests/unit/test_options_early.c: the environment (GODEBUG and the
 * variables of their own) is read even when the first malloc comes before
 * libc's own initialisers have set environ, as it does under a sanitizer's
 * or libFuzzer's start-up code (here: a preinit_array entry, which runs
 * before every shared object's initialisers). Meson runs it with
 * GODEBUG=gctrace=2,gccheckmark=1, GOGC=37, GOMEMLIMIT=1GiB and
 * GOMAXPROCS=3. */
#include <stdlib.h>

#include "alloc/options.h"
#include "harness.h"

static void early(int argc, char **argv, char **envp) {
    (void)argc, (void)argv, (void)envp;
    free(malloc(24)); /* initialises the allocator */
}
__attribute__((section(".preinit_array"), used)) static void (*const preinit)(int, char **,
                                                                              char **) = early;

TEST(godebug_read_after_an_early_malloc) {
    EXPECT_EQ_U(tc_opts.gctrace, 2);
    EXPECT_EQ_U(tc_opts.gccheckmark, 1);
}

TEST(variables_read_after_an_early_malloc) {
    EXPECT_EQ_U(tc_opts.gogc, 37);
    EXPECT_EQ_U(tc_opts.gomemlimit, (int64_t)1 << 30);
    EXPECT_EQ_U(tc_opts.gomaxprocs, 3);
}

TC_TEST_MAIN()
