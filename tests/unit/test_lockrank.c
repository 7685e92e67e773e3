/* tests/unit/test_lockrank.c: the lock-rank checker (alloc/lockrank.h)
 * aborts on the deadlocks it exists for, with a message naming the locks,
 * and lets the runtime's real lock usage through.
 *
 * Each misuse runs in a forked child (the checker aborts the process);
 * the parent checks the child died of SIGABRT and printed the expected
 * line. Only meaningful with debug checks (TC_DEBUG >= 1), as the test
 * build has; in a release build the tests say so and pass. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "alloc/base.h"
#include "alloc/lockrank.h"
#include "alloc/region.h"
#include "alloc/sizeclass.h"
#include "gc/threads.h"
#include "harness.h"
#include "tricolor.h"

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

/* Run fn in a child; 1 if it aborted and its stderr contained want. */
static int aborts_with(void (*fn)(void), const char *want) {
    int fd[2];
    if (pipe(fd) != 0) return 0;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 2);
        fn();
        _exit(0);
    }
    close(fd[1]);
    char buf[1024] = {0};
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fd[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)r;
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT)) {
        fprintf(stderr, "child did not abort (status %d): %s\n", st, buf);
        return 0;
    }
    if (!strstr(buf, want)) {
        fprintf(stderr, "child said: %s\n", buf);
        return 0;
    }
    return 1;
}

static void wrong_order(void) {
    tc_region_begin();
    tc_lock(&a, LOCKRANK_HEAP);
    tc_lock(&b, LOCKRANK_MCENTRAL);
}

static void inside_lock_outside_region(void) {
    gc_register_thread();
    tc_lock(&a, LOCKRANK_CTL);
}

static void outside_lock_inside_region(void) {
    gc_register_thread();
    tc_region_begin();
    tc_lock(&a, LOCKRANK_REGISTRY);
}

/* The allocator's locks go through the checker: a refill under a lock of
 * the heap's rank takes the P lock (or the pool's, on a thread without a
 * P) or an mcentral lock, all ranked below the heap. */
static void malloc_under_heap_rank(void) {
    tc_region_begin();
    tc_lock(&a, LOCKRANK_HEAP);
    void *p = tc_alloc(20000, SPAN_MANUAL); /* a class not used yet: a refill */
    tc_free(p, "free()");
}

/* Fork's handlers take every allocator lock, each P's and each mcentral's
 * at once (tc_lock_all_begin), and give them back, without a complaint
 * from the checker; the child starts with none held, so it can lock again
 * in any order the ranks allow. */
static void *take_a_p(void *arg) {
    tc_free(tc_alloc(100, SPAN_MANUAL), "free()");
    return arg;
}

static void fork_then_lock(void) {
    pthread_t t; /* a second P, idle once the thread is gone */
    if (pthread_create(&t, NULL, take_a_p, NULL) != 0 || pthread_join(t, NULL) != 0) _exit(1);
    void *keep = tc_alloc(100, SPAN_MANUAL);
    pid_t pid = fork();
    if (pid == 0) {
        tc_region_begin();
        tc_lock(&a, LOCKRANK_PPOOL);
        tc_lock(&b, LOCKRANK_P);
        tc_unlock(&b, LOCKRANK_P);
        tc_unlock(&a, LOCKRANK_PPOOL);
        tc_region_end();
        tc_free(tc_alloc(40000, SPAN_MANUAL), "free()");
        _exit(0);
    }
    int st = 1;
    waitpid(pid, &st, 0);
    tc_free(keep, "free()");
    if (st != 0) _exit(1);
    fprintf(stderr, "fork ok\n");
    abort(); /* aborts_with wants an abort */
}

TEST(allocator_locks_are_ranked) {
    if (TC_DEBUG < 1) return;
    EXPECT_TRUE(aborts_with(malloc_under_heap_rank, "lock taken while holding the heap lock"));
}

TEST(fork_takes_and_leaves_every_allocator_lock) {
    if (TC_DEBUG < 1) return;
    EXPECT_TRUE(aborts_with(fork_then_lock, "fork ok"));
}

TEST(order_violation_aborts) {
    if (TC_DEBUG < 1) return;
    EXPECT_TRUE(aborts_with(wrong_order, "mcentral lock taken while holding the heap lock"));
}

TEST(region_rules_abort) {
    if (TC_DEBUG < 1) return;
    EXPECT_TRUE(aborts_with(inside_lock_outside_region, "ctl lock taken outside a gc region"));
    EXPECT_TRUE(aborts_with(outside_lock_inside_region, "registry lock taken inside a gc region"));
}

/* The rules allow what the runtime does: an inside lock under the
 * registry lock, nested ranks in order, and the same for a thread the
 * collector cannot stop (unregistered), which may take any lock anywhere. */
TEST(allowed_uses_pass) {
    gc_register_thread();
    tc_region_begin();
    tc_lock(&a, LOCKRANK_MCENTRAL);
    tc_lock(&b, LOCKRANK_HEAP);
    tc_unlock(&b, LOCKRANK_HEAP);
    tc_unlock(&a, LOCKRANK_MCENTRAL);
    tc_region_end();
    tc_registry_lock();
    tc_lock(&a, LOCKRANK_ROOTS);
    tc_unlock(&a, LOCKRANK_ROOTS);
    tc_registry_unlock();
    gc_collect(); /* ctl inside a region, the registry parked */
    struct gc_stats st = GC_STATS_INIT;
    gc_read_stats(&st);
    EXPECT_TRUE(st.gc_num >= 1);
}

TC_TEST_MAIN()
