/* tests/gc/park.c: threads parked in blocking calls (gc/park.c).
 *
 *   parked_threads_keep_their_objects: six threads each hold a checksummed
 *     list only in their own frames and block in one of the interposed
 *     calls (nanosleep, clock_nanosleep, usleep, poll, select, epoll_wait)
 *     again and again, while the main thread collects 30
 *     times with churn in between; every list must come back intact. The
 *     collector takes these threads as stopped without a signal and scans
 *     them from the stack pointer they published.
 *   handler_on_parked_thread: a thread parked in nanosleep gets SIGUSR1;
 *     its handler (installed with sigaction) allocates an object, keeps it
 *     only in its own frame and spins, calling no gc function, while the
 *     main thread collects 10 times with churn. The object must be intact:
 *     the handler's frame lies below the published stack pointer, so the
 *     handler must have run with the thread unparked (the trampoline).
 *   sigaction_shows_program_handlers: what sigaction and signal return is
 *     what the program installed, not the trampoline; SA_RESETHAND still
 *     resets after one delivery; SIG_IGN stays ignored.
 *   cancel_parked_thread: a thread cancelled while parked in sleep runs
 *     its cleanup handler (which allocates from the collected heap) and
 *     exits; collections go on afterwards. */
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <unistd.h>

#include "gc_test.h"

static atomic_int park_stop;

/* Garbage of the list nodes' own size class, filled: a node freed by
 * mistake is overwritten (gct_churn makes other sizes). */
static GCT_NOINLINE void node_churn(int n) {
    for (int i = 0; i < n; i++) memset(gc_alloc(sizeof(struct gct_lnode)), 0xab, sizeof(struct gct_lnode));
}

/* One blocking call of kind k, about a millisecond long. */
static void block_once(int k, int epfd) {
    struct timespec ts = {0, 1000000};
    struct timeval tv = {0, 1000};
    struct epoll_event ev;
    switch (k) {
    case 0: nanosleep(&ts, NULL); break;
    case 1: clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL); break;
    case 2: usleep(1000); break;
    case 3: poll(NULL, 0, 1); break;
    case 4: select(0, NULL, NULL, NULL, &tv); break;
    default: epoll_wait(epfd, &ev, 1, 1); break;
    }
}

static void *blocker(void *arg) {
    int k = (int)(intptr_t)arg;
    int epfd = epoll_create1(0);
    uint64_t seed = 1000 + (uint64_t)k;
    struct gct_lnode *mine = gct_list(seed, 300); /* only in this frame from here on */
    while (!atomic_load(&park_stop)) block_once(k, epfd);
    close(epfd);
    return (void *)(intptr_t)gct_list_ok(mine, seed, 300);
}

TEST(parked_threads_keep_their_objects) {
    enum { KINDS = 6 };
    pthread_t t[KINDS];
    atomic_store(&park_stop, 0);
    for (int k = 0; k < KINDS; k++)
        ASSERT_TRUE(pthread_create(&t[k], NULL, blocker, (void *)(intptr_t)k) == 0);
    for (int i = 0; i < 30; i++) {
        node_churn(3000);
        gc_collect();
    }
    atomic_store(&park_stop, 1);
    for (int k = 0; k < KINDS; k++) {
        void *ok = NULL;
        pthread_join(t[k], &ok);
        if (!ok) TC_FAIL_("the list of the thread blocking in call kind %d was lost", k);
    }
}

static atomic_int handler_state; /* 0 idle, 1 holding, 2 release, 3 done */
static atomic_int handler_ok;

static void holding_handler(int sig) {
    (void)sig;
    struct gct_lnode *mine = gct_list(4242, 300);
    atomic_store(&handler_state, 1);
    while (atomic_load(&handler_state) == 1) continue; /* no gc call in here */
    atomic_store(&handler_ok, gct_list_ok(mine, 4242, 300));
    atomic_store(&handler_state, 3);
}

static void *sleeper(void *arg) {
    (void)arg;
    while (atomic_load(&handler_state) != 3) usleep(500);
    return NULL;
}

TEST(handler_on_parked_thread) {
    SKIP_UNDER_TSAN("the handler waits without calls, where a stop cannot reach it");
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = holding_handler;
    sigemptyset(&sa.sa_mask);
    ASSERT_TRUE(sigaction(SIGUSR1, &sa, &old) == 0);
    atomic_store(&handler_state, 0);
    node_churn(1); /* threads park only once the program has used gc_alloc */
    pthread_t t;
    ASSERT_TRUE(pthread_create(&t, NULL, sleeper, NULL) == 0);
    gct_sleep_us(20000);
    pthread_kill(t, SIGUSR1);
    while (atomic_load(&handler_state) != 1) gct_sleep_us(100);
    for (int i = 0; i < 10; i++) {
        node_churn(3000);
        gc_collect();
    }
    atomic_store(&handler_state, 2);
    pthread_join(t, NULL);
    EXPECT_TRUE(atomic_load(&handler_ok));
    sigaction(SIGUSR1, &old, NULL);
}

static atomic_int hits;
static void count_handler(int sig) {
    (void)sig;
    atomic_fetch_add(&hits, 1);
}
static void count_action(int sig, siginfo_t *si, void *uc) {
    (void)si, (void)uc;
    count_handler(sig);
}

TEST(sigaction_shows_program_handlers) {
    struct sigaction sa, got, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = count_action;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    ASSERT_TRUE(sigaction(SIGUSR2, &sa, &old) == 0);
    ASSERT_TRUE(sigaction(SIGUSR2, NULL, &got) == 0);
    EXPECT_TRUE(got.sa_sigaction == count_action);
    EXPECT_TRUE((got.sa_flags & (SA_SIGINFO | SA_RESTART)) == (SA_SIGINFO | SA_RESTART));
    atomic_store(&hits, 0);
    raise(SIGUSR2);
    EXPECT_EQ_U(atomic_load(&hits), 1);

    EXPECT_TRUE(signal(SIGUSR2, count_handler) == (sighandler_t)(void *)count_action);
    EXPECT_TRUE(signal(SIGUSR2, SIG_IGN) == count_handler);
    raise(SIGUSR2); /* ignored */
    EXPECT_EQ_U(atomic_load(&hits), 1);
    EXPECT_TRUE(signal(SIGUSR2, SIG_DFL) == SIG_IGN);

    sa.sa_handler = count_handler;
    sa.sa_flags = SA_RESETHAND;
    ASSERT_TRUE(sigaction(SIGUSR2, &sa, NULL) == 0);
    raise(SIGUSR2);
    EXPECT_EQ_U(atomic_load(&hits), 2);
    ASSERT_TRUE(sigaction(SIGUSR2, NULL, &got) == 0);
    EXPECT_TRUE(got.sa_handler == SIG_DFL);
    sigaction(SIGUSR2, &old, NULL);
}

static atomic_int cleaned;
static void cleanup(void *arg) {
    (void)arg;
    void *p = gc_alloc(64); /* the collected heap, from a cancelled thread */
    atomic_store(&cleaned, p != NULL);
}

static void *cancellable(void *arg) {
    (void)arg;
    pthread_cleanup_push(cleanup, NULL);
    for (;;) sleep(10);
    pthread_cleanup_pop(0);
    return NULL;
}

TEST(cancel_parked_thread) {
    SKIP_UNDER_TSAN("a thread cancelled inside one of its interceptors goes on unseen by it");
    pthread_t t;
    ASSERT_TRUE(pthread_create(&t, NULL, cancellable, NULL) == 0);
    gct_sleep_us(20000);
    gc_collect();
    pthread_cancel(t);
    void *r = NULL;
    pthread_join(t, &r);
    EXPECT_TRUE(r == PTHREAD_CANCELED);
    EXPECT_TRUE(atomic_load(&cleaned));
    for (int i = 0; i < 5; i++) gc_collect();
}

TC_TEST_MAIN()
