/* tests/integration/forktest.c: fork() from a non-main thread while other
 * threads allocate.
 *
 * The classic malloc-replacement hang (gperftools#499, jemalloc#1805,
 * mimalloc#1198): another thread holds an allocator lock at the moment of
 * fork, the child inherits the lock held by a thread that does not exist
 * there, and its first malloc waits forever. Forking from a thread other
 * than main catches allocators that assume the main thread survives.
 *
 * WORKERS threads run random malloc/calloc/realloc/memalign/free sequences
 * on their own slot arrays without pause. A forker thread does the same
 * between forks, so each child inherits live objects in every state. Each
 * child checks the inherited objects' patterns, frees half of them, runs
 * its own random sequence (some children from a second thread they
 * create), frees everything and leaves with exit() or _exit(). A child
 * that hangs is killed by its own alarm(10) (and by the parent after 15 s)
 * and counts as a failure, as does any exit status but 0.
 *
 * Each of the two fork loops below runs for TC_STRESS_SECONDS (default
 * 3), and at least TC_FORKS times (default 4): bounded by time, as a fork
 * and its child take 0.2-1 s on a loaded 2-core machine; the minimum only
 * makes sure a slow machine still checks something.
 *
 * fork_child_takes_over_orphaned_ps: the parent's threads free each
 * other's objects (through a shared exchange ring) while main forks every
 * millisecond; each child starts six threads, which take over the Ps the
 * parent's threads left behind, possibly halfway through a fast path,
 * with their cached spans, free bins and large-span caches, and allocate
 * from them. Each
 * child thread keeps 2000 objects live at once, filled with a pattern of
 * its own: an object handed out twice shows up as an overwritten pattern
 * or a double free. (Before the child repaired orphaned Ps, about one
 * child in thirty failed.) */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "tc_check.h"

#define WORKERS 3
#define SLOTS 256

struct obj {
    char *p;
    size_t n;
    uint32_t seed;
};

static atomic_int stop, errors;
static double budget;
static long min_forks;

static size_t pick_size(uint64_t *rng) {
    uint64_t r = tc_rand(rng);
    switch (r % 64) {
    case 0: return (r >> 8) % (1u << 20) + 1;          /* large */
    case 1: case 2: case 3: return (r >> 8) % 65536 + 1; /* around the 32 KiB line */
    default: return (r >> 8) % 512 + 1;
    }
}

/* One random operation on one slot; returns 0 when a check failed. */
static int step(struct obj *s, uint64_t *rng) {
    struct obj *o = &s[tc_rand(rng) % SLOTS];
    uint64_t r = tc_rand(rng);
    if (o->p) {
        if (tc_check(o->p, o->n, o->seed) != o->n) return 0;
        if (r % 4 == 0) {
            size_t n = pick_size(rng), keep = n < o->n ? n : o->n;
            char *q = realloc(o->p, n);
            if (!q) return 0;
            if (tc_check(q, keep, o->seed) != keep) return 0;
            o->p = q, o->n = n;
            tc_fill(q, n, o->seed);
            return 1;
        }
        free(o->p);
        o->p = NULL;
        return 1;
    }
    size_t n = pick_size(rng);
    switch (r % 4) {
    case 0: o->p = calloc(1, n); if (o->p && !tc_all_zero(o->p, n)) return 0; break;
    case 1: o->p = memalign((size_t)64 << (r >> 8) % 7, n); break;
    default: o->p = malloc(n); break;
    }
    if (!o->p) return 0;
    o->n = n, o->seed = (uint32_t)r;
    tc_fill(o->p, n, o->seed);
    return 1;
}

static void release_all(struct obj *s) {
    for (int i = 0; i < SLOTS; i++) free(s[i].p), s[i].p = NULL;
}

static void *worker(void *arg) {
    uint64_t rng = (uintptr_t)arg * 7777 + 1;
    struct obj *s = calloc(SLOTS, sizeof *s);
    while (s && !atomic_load_explicit(&stop, memory_order_relaxed))
        if (!step(s, &rng) && atomic_fetch_add(&errors, 1) < 5) fprintf(stderr, "forktest: worker check failed\n");
    if (s) release_all(s);
    free(s);
    return NULL;
}

static void *child_thread(void *arg) {
    uint64_t rng = (uintptr_t)arg;
    struct obj s[SLOTS] = {{0}};
    intptr_t bad = 0;
    for (int i = 0; i < 300; i++) bad += !step(s, &rng);
    release_all(s);
    return (void *)bad;
}

static void child(struct obj *inherited, long k) {
    alarm(10);
    int bad = 0;
    for (int i = 0; i < SLOTS; i++) {
        struct obj *o = &inherited[i];
        if (o->p && tc_check(o->p, o->n, o->seed) != o->n) bad++;
        if (o->p && i % 2) free(o->p), o->p = NULL;
    }
    uint64_t rng = (uint64_t)k * 31 + 5;
    struct obj *s = calloc(SLOTS, sizeof *s);
    if (!s) _exit(3);
    for (int i = 0; i < 500; i++) bad += !step(s, &rng);
    if (k % 4 == 0) {
        pthread_t t;
        void *tbad = (void *)1;
        if (pthread_create(&t, NULL, child_thread, (void *)(uintptr_t)(k + 1)) == 0) pthread_join(t, &tbad);
        bad += tbad != NULL;
    }
    release_all(s);
    release_all(inherited);
    free(s);
    if (k % 2) exit(bad ? 1 : 0); /* atexit handlers and stdio flush */
    _exit(bad ? 1 : 0);
}

struct fork_result {
    long forks, failed, hung;
};

static void *forker(void *arg) {
    struct fork_result *res = arg;
    uint64_t rng = 99;
    struct obj *s = calloc(SLOTS, sizeof *s);
    double end = tc_now() + budget;
    for (long k = 0; s && (k < min_forks || tc_now() < end); k++) {
        for (int i = 0; i < 50; i++) step(s, &rng);
        pid_t pid = fork();
        if (pid < 0) {
            res->failed++;
            continue;
        }
        if (pid == 0) child(s, k);
        res->forks++;
        int status = 0;
        double deadline = tc_now() + 15;
        pid_t w;
        while ((w = waitpid(pid, &status, WNOHANG)) == 0 && tc_now() < deadline) usleep(1000);
        if (w == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            res->hung++;
            fprintf(stderr, "forktest: child %ld hung (killed)\n", k);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            res->failed++;
            if (WIFSIGNALED(status))
                fprintf(stderr, "forktest: child %ld died of signal %d%s\n", k, WTERMSIG(status),
                        WTERMSIG(status) == SIGALRM ? " (hung)" : "");
            else
                fprintf(stderr, "forktest: child %ld exited %d\n", k, WEXITSTATUS(status));
        }
    }
    if (s) release_all(s);
    free(s);
    return NULL;
}

TC_PRESENCE_TEST()

TEST(fork_from_thread_while_allocating) {
    pthread_t w[WORKERS], f;
    struct fork_result res = {0, 0, 0};
    double t0 = tc_now();
    for (uintptr_t i = 0; i < WORKERS; i++) ASSERT_TRUE(pthread_create(&w[i], NULL, worker, (void *)i) == 0);
    ASSERT_TRUE(pthread_create(&f, NULL, forker, &res) == 0);
    pthread_join(f, NULL);
    atomic_store(&stop, 1);
    for (int i = 0; i < WORKERS; i++) pthread_join(w[i], NULL);
    printf("  %ld forks in %.1f s, %ld failed, %ld hung\n", res.forks, tc_now() - t0, res.failed, res.hung);
    EXPECT_TRUE(res.forks >= min_forks);
    EXPECT_EQ_U(res.failed, 0);
    EXPECT_EQ_U(res.hung, 0);
    EXPECT_EQ_U(atomic_load(&errors), 0);
}

enum { RING = 1024, ORPHAN_WORKERS = 4, CHILD_THREADS = 6, CHILD_OBJS = 2000 };
static _Atomic(char *) ring[RING];

/* Mostly small; one in 64 a large object of 5..8 pages, so the Ps'
 * large-span caches are in use (and taken over) too. */
static size_t orphan_size(uint64_t r) {
    return r % 64 == 0 ? 32769 + (r >> 8) % 32768 : (r >> 8) % 1024 + 1;
}

static void *ring_worker(void *arg) {
    uint64_t rng = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    char *local[64] = {0};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        uint64_t r = tc_rand(&rng);
        size_t n = orphan_size(r);
        free(local[r % 64]);
        local[r % 64] = malloc(n);
        free(atomic_exchange(&ring[(r >> 20) % RING], malloc(n))); /* mostly another's */
    }
    for (int i = 0; i < 64; i++) free(local[i]);
    return NULL;
}

static void *orphan_child_thread(void *arg) {
    uint64_t rng = (uintptr_t)arg;
    static __thread struct obj o[CHILD_OBJS];
    intptr_t bad = 0;
    for (int round = 0; round < 8; round++) {
        for (int i = 0; i < CHILD_OBJS; i++) {
            o[i].n = orphan_size(tc_rand(&rng));
            o[i].seed = (uint32_t)tc_rand(&rng);
            if (!(o[i].p = malloc(o[i].n))) return (void *)1;
            tc_fill(o[i].p, o[i].n, o[i].seed);
        }
        for (int i = 0; i < CHILD_OBJS; i++) {
            bad += tc_check(o[i].p, o[i].n, o[i].seed) != o[i].n;
            free(o[i].p);
        }
    }
    return (void *)bad;
}

static int orphan_child(long k) {
    alarm(10);
    pthread_t t[CHILD_THREADS];
    int bad = 0;
    for (int i = 0; i < CHILD_THREADS; i++)
        if (pthread_create(&t[i], NULL, orphan_child_thread, (void *)(uintptr_t)(k * 64 + i + 1)) != 0)
            return 3;
    for (int i = 0; i < CHILD_THREADS; i++) {
        void *tbad;
        pthread_join(t[i], &tbad);
        bad += tbad != NULL;
    }
    return bad ? 1 : 0;
}

TEST(fork_child_takes_over_orphaned_ps) {
    pthread_t w[ORPHAN_WORKERS];
    atomic_store(&stop, 0);
    for (uintptr_t i = 0; i < ORPHAN_WORKERS; i++)
        ASSERT_TRUE(pthread_create(&w[i], NULL, ring_worker, (void *)(i + 1)) == 0);
    long forks = 0, failed = 0;
    double end = tc_now() + budget;
    for (long k = 0; k < min_forks || tc_now() < end; k++) {
        usleep(1000);
        pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) _exit(orphan_child(k));
        int status;
        waitpid(pid, &status, 0);
        forks++;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            if (failed++ < 5)
                fprintf(stderr, "forktest: orphan child %ld: %s %d\n", k,
                        WIFSIGNALED(status) ? "signal" : "exit status",
                        WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < ORPHAN_WORKERS; i++) pthread_join(w[i], NULL);
    for (int i = 0; i < RING; i++) free(atomic_exchange(&ring[i], NULL));
    printf("  %ld forks, %ld failed\n", forks, failed);
    EXPECT_EQ_U(failed, 0);
}

TEST(fork_from_main_after_threads) {
    /* the simple case as well: every worker gone, main forks (a tenth of
     * the budget, at least 3 times) */
    double end = tc_now() + budget / 10;
    for (int k = 0; k < 3 || tc_now() < end; k++) {
        void *keep = malloc(1000 + (size_t)k * 5000);
        pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
            alarm(10);
            free(keep);
            for (int i = 0; i < 1000; i++) free(malloc((size_t)i * 33 + 1));
            _exit(0);
        }
        int status;
        waitpid(pid, &status, 0);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        free(keep);
    }
}

__attribute__((constructor(200))) static void setup(void) {
    budget = tc_budget_seconds(3.0);
    const char *f = getenv("TC_FORKS");
    min_forks = f && *f ? strtol(f, NULL, 10) : 4;
    alarm((unsigned)(budget * 4 + 120));
}

TC_TEST_MAIN()
