/* tests/harness.h: the tiny test harness every test program uses.
 *
 * A test is `TEST(name) { ... }`; it registers itself before main runs.
 * `TC_TEST_MAIN()` expands to a main() that runs every registered test
 * (or only those named on the command line), prints one line per test and
 * a closing "N passed, N failed" line, and exits non-zero on any failure.
 * EXPECT_* report and continue; ASSERT_* report and end the test.
 * Output goes through stdio on purpose: tests run on top of the allocator,
 * so printing exercises it too. */
#ifndef TC_TESTS_HARNESS_H
#define TC_TESTS_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef void (*tc_test_fn)(void);

struct tc_test_entry {
    const char *name;
    tc_test_fn fn;
};

#define TC_TEST_MAX 256
extern struct tc_test_entry tc_tests[TC_TEST_MAX];
extern int tc_ntests;
extern int tc_failed_checks;

#define TEST(name)                                                          \
    static void name(void);                                                 \
    __attribute__((constructor)) static void tc_register_##name(void) {     \
        if (tc_ntests < TC_TEST_MAX)                                        \
            tc_tests[tc_ntests++] = (struct tc_test_entry){#name, name};    \
    }                                                                       \
    static void name(void)

/* Under ThreadSanitizer (scripts/tsan) a few tests cannot mean anything:
 * its runtime holds an asynchronous signal until the thread's next
 * intercepted call, so a thread that must be stopped while it computes
 * without calls (a spin loop, a handler that waits) never is, and its
 * shadow memory stays resident. Such a test says why and passes; every
 * other build runs it. */
#if defined(__SANITIZE_THREAD__)
#define TC_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TC_UNDER_TSAN 1
#endif
#endif
#ifndef TC_UNDER_TSAN
#define TC_UNDER_TSAN 0
#endif
#define SKIP_UNDER_TSAN(why)                                                \
    do {                                                                    \
        if (TC_UNDER_TSAN) {                                                \
            printf("skip under ThreadSanitizer: %s\n", why);               \
            return;                                                         \
        }                                                                   \
    } while (0)

#define TC_FAIL_(...)                                                       \
    do {                                                                    \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                     \
        fprintf(stderr, __VA_ARGS__);                                       \
        fputc('\n', stderr);                                                \
        tc_failed_checks++;                                                 \
    } while (0)

#define EXPECT_TRUE(c)                                                      \
    do { if (!(c)) TC_FAIL_("expected true: %s", #c); } while (0)
#define ASSERT_TRUE(c)                                                      \
    do { if (!(c)) { TC_FAIL_("assertion failed: %s", #c); return; } } while (0)
#define EXPECT_EQ_U(a, b)                                                   \
    do {                                                                    \
        uintmax_t a_ = (uintmax_t)(a), b_ = (uintmax_t)(b);                 \
        if (a_ != b_)                                                       \
            TC_FAIL_("%s == %s: %ju != %ju", #a, #b, a_, b_);               \
    } while (0)
#define EXPECT_EQ_PTR(a, b)                                                 \
    do {                                                                    \
        const void *a_ = (a), *b_ = (b);                                    \
        if (a_ != b_) TC_FAIL_("%s == %s: %p != %p", #a, #b, a_, b_);       \
    } while (0)
#define EXPECT_STREQ(a, b)                                                  \
    do {                                                                    \
        const char *a_ = (a), *b_ = (b);                                    \
        if (strcmp(a_, b_) != 0)                                            \
            TC_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_, b_);          \
    } while (0)

/* Tests are bounded by time, not by counts a slow machine cannot reach:
 * the monotonic clock in seconds, and a budget in seconds from the
 * environment variable name, else dflt (a bad value: one line, exit 2). */
static inline double tc_test_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double tc_test_seconds(const char *name, double dflt) {
    const char *e = getenv(name);
    if (!e || !*e) return dflt;
    char *end;
    double v = strtod(e, &end);
    if (*end || !(v > 0)) {
        fprintf(stderr, "%s=%s: not a positive number of seconds\n", name, e);
        exit(2);
    }
    return v;
}

/* Resident set size in bytes, or 0 when /proc is unreadable. */
static inline size_t tc_rss(void) {
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%llu %llu", &size, &resident) != 2) resident = 0;
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

#define TC_TEST_MAIN()                                                      \
    struct tc_test_entry tc_tests[TC_TEST_MAX];                             \
    int tc_ntests;                                                          \
    int tc_failed_checks;                                                   \
    int main(int argc, char **argv) {                                       \
        int passed = 0, failed = 0;                                         \
        for (int i = 0; i < tc_ntests; i++) {                               \
            int want = argc < 2;                                            \
            for (int a = 1; a < argc; a++)                                  \
                if (strcmp(argv[a], tc_tests[i].name) == 0) want = 1;       \
            if (!want) continue;                                            \
            int before = tc_failed_checks;                                  \
            tc_tests[i].fn();                                               \
            int ok = tc_failed_checks == before;                            \
            printf("%s %s\n", ok ? "PASS" : "FAIL", tc_tests[i].name);      \
            fflush(stdout);                                                 \
            if (ok) passed++; else failed++;                                \
        }                                                                   \
        printf("%d passed, %d failed\n", passed, failed);                   \
        return failed ? 1 : 0;                                              \
    }

#endif
