/* Unit test for gc/stw.c: the stop that reads no stack (mark termination)
 * and its completion for the checkmark, driven directly, with automatic
 * collection off so that no cycle of the collector's own gets between.
 *
 *   stop_waits_for_a_thread_inside_a_region: a thread stays inside a gc
 *     region; the stop must not return until it has left. Then the thread
 *     lives in 200 us regions, one after another, through 20 stops: none
 *     may find it inside one, or let it enter one before the world goes.
 *   stop_leaves_a_thread_outside_running: a thread that spins outside its
 *     regions goes on running through the stop, gets no signal, and stops
 *     at its next region entry.
 *   rest_stops_the_threads_left_running: tc_stop_world_rest stops that
 *     spinning thread too, in the same pause. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "alloc/region.h"
#include "gc/stw.h"
#include "gc/threads.h"
#include "harness.h"
#include "include/tricolor.h"

/* Busy: nanosleep parks the caller (gc/park.c), and a thread parked
 * during a stop is held until the world goes again. */
static void busy_us(long us) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}
static void sleep_ms(long ms) { busy_us(ms * 1000); }

/* What these tests drive does not exist under TSan: every stop there is
 * full (gc/stw.c fence_all), and their threads spin without a call where
 * TSan would deliver the stop signal. */
#define NO_LIGHT_STOPS "every stop is full in this build, and these threads make no call"

static atomic_int go_on;       /* the test thread's loop runs while 0 */
static atomic_int leave;       /* the inside thread leaves its region at 1 */
static atomic_int ready;       /* the test thread is where the test wants it */
static atomic_long outside_n;  /* loops made outside any region */
static atomic_long inside_n;   /* regions entered */

/* Lives inside gc regions: each lasts about 200 us, and the next begins
 * at once; inside is 1 while it is in one. */
static atomic_int inside;
static void *stays_inside(void *arg) {
    (void)arg;
    tc_region_enter();
    atomic_store(&ready, 1);
    while (!atomic_load(&leave)) continue;
    tc_region_end();
    while (!atomic_load(&go_on)) {
        tc_region_enter();
        atomic_store(&inside, 1);
        atomic_fetch_add(&inside_n, 1);
        busy_us(200);
        atomic_store(&inside, 0);
        tc_region_end();
    }
    return NULL;
}

/* Spins outside its regions, counting; once regions_now is set it enters
 * regions instead, counting those. */
static atomic_int regions_now;
static void *spins_outside(void *arg) {
    (void)arg;
    tc_region_enter(); /* registers this thread */
    tc_region_end();
    atomic_store(&ready, 1);
    while (!atomic_load(&go_on)) {
        if (atomic_load(&regions_now)) {
            tc_region_enter();
            atomic_fetch_add(&inside_n, 1);
            tc_region_end();
        } else {
            atomic_fetch_add(&outside_n, 1);
        }
    }
    return NULL;
}

static atomic_int stopped; /* the stopper's tc_stop_world returned */
static void *stopper(void *arg) {
    (void)arg;
    tc_registry_lock();
    tc_stop_prepare();
    tc_stop_world(0);
    atomic_store(&stopped, 1);
    while (atomic_load(&stopped) != 2) sleep_ms(1);
    tc_start_world();
    tc_registry_unlock();
    return NULL;
}

static void reset(void) {
    gc_setpercent(-1);
    (void)gc_alloc(16); /* the runtime is up, this thread registered */
    atomic_store(&go_on, 0);
    atomic_store(&leave, 0);
    atomic_store(&ready, 0);
    atomic_store(&stopped, 0);
    atomic_store(&regions_now, 0);
    atomic_store(&outside_n, 0);
    atomic_store(&inside_n, 0);
}

TEST(stop_waits_for_a_thread_inside_a_region) {
    SKIP_UNDER_TSAN(NO_LIGHT_STOPS);
    reset();
    pthread_t th, st;
    ASSERT_TRUE(pthread_create(&th, NULL, stays_inside, NULL) == 0);
    while (!atomic_load(&ready)) sleep_ms(1);
    ASSERT_TRUE(pthread_create(&st, NULL, stopper, NULL) == 0);
    sleep_ms(100);
    EXPECT_EQ_U(atomic_load(&stopped), 0); /* still inside: the stop waits */
    atomic_store(&leave, 1);
    while (!atomic_load(&stopped)) sleep_ms(1);
    atomic_store(&stopped, 2);
    pthread_join(st, NULL);
    /* Now in regions nearly all the time: each stop must find it out. */
    for (int i = 0; i < 20; i++) {
        tc_registry_lock();
        tc_stop_prepare();
        tc_stop_world(0);
        EXPECT_EQ_U(atomic_load(&inside), 0);
        long n = atomic_load(&inside_n);
        sleep_ms(5);
        EXPECT_EQ_U(atomic_load(&inside_n), n); /* and stays out */
        EXPECT_EQ_U(atomic_load(&inside), 0);
        tc_start_world();
        tc_registry_unlock();
        sleep_ms(2);
    }
    atomic_store(&go_on, 1);
    pthread_join(th, NULL);
}

TEST(stop_leaves_a_thread_outside_running) {
    SKIP_UNDER_TSAN(NO_LIGHT_STOPS);
    reset();
    uint64_t signals = tc_stop_signals();
    pthread_t th, st;
    ASSERT_TRUE(pthread_create(&th, NULL, spins_outside, NULL) == 0);
    while (!atomic_load(&ready)) sleep_ms(1);
    ASSERT_TRUE(pthread_create(&st, NULL, stopper, NULL) == 0);
    while (!atomic_load(&stopped)) sleep_ms(1);
    long o = atomic_load(&outside_n);
    /* Runs through the stop: it counts on, once it gets a CPU (up to
     * seconds away on a loaded machine). */
    for (int ms = 0; ms < 10000 && atomic_load(&outside_n) <= o; ms++) sleep_ms(1);
    EXPECT_TRUE(atomic_load(&outside_n) > o);
    atomic_store(&regions_now, 1);
    sleep_ms(50);
    EXPECT_EQ_U(atomic_load(&inside_n), 0); /* stopped at its first entry */
    EXPECT_EQ_U(tc_stop_signals(), signals);
    atomic_store(&stopped, 2);
    pthread_join(st, NULL);
    while (atomic_load(&inside_n) < 100) sleep_ms(1);
    atomic_store(&go_on, 1);
    pthread_join(th, NULL);
}

TEST(rest_stops_the_threads_left_running) {
    SKIP_UNDER_TSAN(NO_LIGHT_STOPS);
    reset();
    pthread_t th;
    ASSERT_TRUE(pthread_create(&th, NULL, spins_outside, NULL) == 0);
    while (!atomic_load(&ready)) sleep_ms(1);
    tc_registry_lock();
    tc_stop_prepare();
    tc_stop_world(0);
    tc_stop_world_rest();
    long o = atomic_load(&outside_n);
    sleep_ms(50);
    EXPECT_EQ_U(atomic_load(&outside_n), o); /* stopped where it was */
    tc_start_world();
    tc_registry_unlock();
    while (atomic_load(&outside_n) == o) sleep_ms(1);
    atomic_store(&go_on, 1);
    pthread_join(th, NULL);
}

TC_TEST_MAIN()
