/* tests/gc/stop.c: how a stop reaches running threads (gc/stw.c).
 *
 *   polling_thread_stops_without_signal: a thread blocks every real-time
 *     signal, so the collector's signal can never reach it, and allocates
 *     and stores pointers in a loop while the main thread collects 100
 *     times. Every stop must still complete (the thread answers the poll
 *     when it leaves a gc region) and its checksummed lists, held only in
 *     its own frame and registers, must come back intact. Without the poll
 *     the first stop would wait for it forever; a stop at a region's end
 *     that left a caller's register unscanned lost the first node of a
 *     list being built in about one run in ten (gc/park.h, tc_spill_regs).
 *   polling_and_signalled_threads: in the same stops, one thread answers
 *     the poll while another spins without calling the collector (it must
 *     be signalled) and a third sleeps (it is held); all three lists come
 *     back intact. */
#include <signal.h>
#include <unistd.h>

#include "gc_test.h"

static atomic_int stop_threads;
static atomic_int started;

/* Allocates (garbage, and now and then a fresh list it keeps) with every
 * real-time signal blocked. */
static void *poller(void *arg) {
    (void)arg;
    sigset_t rt;
    sigemptyset(&rt);
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++) sigaddset(&rt, s);
    pthread_sigmask(SIG_BLOCK, &rt, NULL);
    uint64_t seed = 7001;
    struct gct_lnode *mine = gct_list(seed, 200);
    atomic_fetch_add(&started, 1);
    int ok = 1;
    for (unsigned round = 0; !atomic_load(&stop_threads); round++) {
        for (int i = 0; i < 64; i++) memset(gc_alloc(sizeof(struct gct_lnode)), 0xcd, sizeof(struct gct_lnode));
        if (round % 256 == 0) {
            ok &= gct_list_ok(mine, seed, 200);
            mine = gct_list(++seed, 200);
        }
    }
    ok &= gct_list_ok(mine, seed, 200);
    return (void *)(intptr_t)ok;
}

/* Spins without a gc call: only the signal can stop it. */
static void *spinner(void *arg) {
    (void)arg;
    struct gct_lnode *mine = gct_list(8001, 200);
    atomic_fetch_add(&started, 1);
    while (!atomic_load_explicit(&stop_threads, memory_order_relaxed)) continue;
    return (void *)(intptr_t)gct_list_ok(mine, 8001, 200);
}

static void *sleeper(void *arg) {
    (void)arg;
    struct gct_lnode *mine = gct_list(9001, 200);
    atomic_fetch_add(&started, 1);
    while (!atomic_load(&stop_threads)) usleep(2000);
    return (void *)(intptr_t)gct_list_ok(mine, 9001, 200);
}

static void run(void *(*const *fns)(void *), int n, const char *const *names) {
    pthread_t t[4];
    atomic_store(&stop_threads, 0);
    atomic_store(&started, 0);
    for (int i = 0; i < n; i++) ASSERT_TRUE(pthread_create(&t[i], NULL, fns[i], NULL) == 0);
    while (atomic_load(&started) < n) gct_sleep_us(100);
    for (int i = 0; i < 100; i++) {
        gct_churn(2000);
        gc_collect();
    }
    atomic_store(&stop_threads, 1);
    for (int i = 0; i < n; i++) {
        void *ok = NULL;
        pthread_join(t[i], &ok);
        if (!ok) TC_FAIL_("the %s thread's list was lost or damaged", names[i]);
    }
}

TEST(polling_thread_stops_without_signal) {
    void *(*const fns[])(void *) = {poller};
    const char *const names[] = {"polling"};
    uint64_t n0 = gct_stats().gc_num;
    run(fns, 1, names);
    EXPECT_TRUE(gct_stats().gc_num >= n0 + 100);
}

TEST(polling_and_signalled_threads) {
    void *(*const fns[])(void *) = {poller, spinner, sleeper};
    const char *const names[] = {"polling", "spinning", "sleeping"};
    run(fns, 3, names);
}

TC_TEST_MAIN()
