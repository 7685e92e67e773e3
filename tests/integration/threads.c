/* tests/integration/threads.c: cross-thread frees and thread churn.
 *
 * Two things break per-thread-cache allocators in real programs (see
 * malloc-and-gc-users-issues.md 1.5): memory freed by a thread other than
 * the one that allocated it (producer/consumer pipelines), and many
 * short-lived threads whose caches are never given back, so memory climbs
 * with the number of threads ever created rather than the number alive.
 *
 * ring_cross_thread_frees: producer threads malloc objects of mixed sizes
 * (up to 1 MiB), stamp them (size, seed, pattern), and pass them through
 * single-producer/single-consumer rings; consumers check the stamp, some
 * realloc the object first (a remote realloc), and free it. At the end no
 * byte may be lost: tricolor's alloc_bytes must be back where it was.
 *
 * thread_churn_bounded: rounds of 1000 threads, at most CHURN_CONC alive
 * at once, of three kinds: allocate-only (objects go to a shared mailbox),
 * free-only (take from the mailbox), and holders that warm their cache
 * over many size classes and exit with it. After each round the mailbox
 * is drained; then tricolor must have created no more Ps than the peak of
 * live threads (nprocs), must have every P but the main thread's (and
 * any tricolor-internal thread's) back in the pool, and RSS and
 * thread_cache_bytes must not grow with the number of rounds.
 *
 * idle_flushes_cache: gc_thread_idle() on the last application thread
 * leaves every P pooled and no cached spans.
 *
 * The time budget is TC_STRESS_SECONDS (default 3); tests/stress runs the
 * same program for minutes. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "tc_check.h"

#define RING_PAIRS 2
#define RING_CAP 1024
#define CHURN_CONC 8
#define CHURN_ROUND 1000
#define MAILBOX_CAP 2048
#define MAGIC 0x7C0FFEE1u
#define MiB ((size_t)1 << 20)

struct hdr {
    size_t size; /* whole object, header included */
    uint32_t seed;
    uint32_t magic;
};

static atomic_int errors;
static double budget;

static void report(const char *what, const void *p, size_t detail) {
    if (atomic_fetch_add(&errors, 1) < 10)
        fprintf(stderr, "threads: %s (object %p, %zu)\n", what, p, detail);
}

/* Mostly small, some pages, a few large: exercises every path. */
static size_t pick_size(uint64_t *rng, size_t max_large) {
    uint64_t r = tc_rand(rng);
    size_t base = sizeof(struct hdr), k = r % 100;
    r >>= 8;
    if (k < 70) return base + r % 256;
    if (k < 95) return base + r % 8192;
    if (k < 99 || max_large <= 65536) return base + r % 65536;
    return base + r % max_large;
}

static struct hdr *obj_new(uint64_t *rng, size_t max_large) {
    size_t n = pick_size(rng, max_large);
    struct hdr *h = malloc(n);
    if (!h) {
        report("malloc failed", NULL, n);
        return NULL;
    }
    h->size = n;
    h->seed = (uint32_t)tc_rand(rng);
    h->magic = MAGIC;
    tc_fill(h + 1, n - sizeof *h, h->seed);
    return h;
}

static int obj_ok(const struct hdr *h) {
    if (h->magic != MAGIC) return report("header overwritten", h, 0), 0;
    if (malloc_usable_size((void *)h) < h->size) return report("usable size too small", h, h->size), 0;
    size_t n = h->size - sizeof *h, bad = tc_check(h + 1, n, h->seed);
    if (bad != n) return report("payload corrupted", h, bad), 0;
    return 1;
}

static void obj_free(struct hdr *h) {
    if (obj_ok(h)) h->magic = 0;
    free(h);
}

/* ---- producer/consumer rings ---- */

struct ring {
    _Alignas(64) atomic_size_t head; /* next slot the consumer reads */
    _Alignas(64) atomic_size_t tail; /* next slot the producer writes */
    _Alignas(64) atomic_int done;
    size_t produced, consumed;
    uint64_t seed;
    struct hdr *slot[RING_CAP];
};

static void *producer(void *arg) {
    struct ring *r = arg;
    uint64_t rng = r->seed;
    double end = tc_now() + budget * 0.4;
    while (tc_now() < end) {
        for (int burst = 0; burst < 64; burst++) {
            struct hdr *h = obj_new(&rng, MiB);
            if (!h) continue;
            size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
            while (t - atomic_load_explicit(&r->head, memory_order_acquire) == RING_CAP) sched_yield();
            r->slot[t % RING_CAP] = h;
            atomic_store_explicit(&r->tail, t + 1, memory_order_release);
            r->produced++;
        }
    }
    atomic_store_explicit(&r->done, 1, memory_order_release);
    return NULL;
}

static void *consumer(void *arg) {
    struct ring *r = arg;
    uint64_t rng = r->seed ^ 0x55;
    for (;;) {
        size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
        if (h == atomic_load_explicit(&r->tail, memory_order_acquire)) {
            if (atomic_load_explicit(&r->done, memory_order_acquire) &&
                h == atomic_load_explicit(&r->tail, memory_order_acquire))
                break;
            sched_yield();
            continue;
        }
        struct hdr *o = r->slot[h % RING_CAP];
        atomic_store_explicit(&r->head, h + 1, memory_order_release);
        r->consumed++;
        if (tc_rand(&rng) % 8 == 0 && obj_ok(o)) { /* a remote realloc */
            size_t n = pick_size(&rng, 256 * 1024), keep = n < o->size ? n : o->size;
            uint32_t seed = o->seed;
            struct hdr *q = realloc(o, n);
            if (!q) {
                report("realloc failed", o, n);
                free(o);
                continue;
            }
            if (tc_check(q + 1, keep - sizeof *q, seed) != keep - sizeof *q) report("realloc lost data", q, n);
            q->size = n;
            tc_fill(q + 1, n - sizeof *q, seed);
            o = q;
        }
        obj_free(o);
    }
    return NULL;
}

/* ---- thread churn ---- */

static pthread_mutex_t mbox_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hdr *mbox[MAILBOX_CAP];
static size_t mbox_n;
static atomic_size_t churned;

static int mbox_put(struct hdr *h) {
    pthread_mutex_lock(&mbox_lock);
    int ok = mbox_n < MAILBOX_CAP;
    if (ok) mbox[mbox_n++] = h;
    pthread_mutex_unlock(&mbox_lock);
    return ok;
}

static struct hdr *mbox_take(void) {
    pthread_mutex_lock(&mbox_lock);
    struct hdr *h = mbox_n ? mbox[--mbox_n] : NULL;
    pthread_mutex_unlock(&mbox_lock);
    return h;
}

static void *churn_thread(void *arg) {
    uintptr_t id = (uintptr_t)arg;
    uint64_t rng = id * 0x9E3779B97F4A7C15ULL + 1;
    atomic_fetch_add(&churned, 1);
    switch (id % 3) {
    case 0: /* allocate only: everything is freed by someone else */
        for (int i = 0; i < 48; i++) {
            struct hdr *h = obj_new(&rng, 65536);
            if (h && !mbox_put(h)) obj_free(h);
        }
        break;
    case 1: /* free only */
        for (int i = 0; i < 48; i++) {
            struct hdr *h = mbox_take();
            if (!h) break;
            obj_free(h);
        }
        break;
    default: { /* warm a cache over many classes, exit holding it */
        struct hdr *keep[16];
        for (int i = 0; i < 400; i++) {
            struct hdr *h = obj_new(&rng, 65536);
            if (h) obj_free(h);
        }
        for (int i = 0; i < 16; i++) keep[i] = obj_new(&rng, 65536);
        for (int i = 0; i < 16; i++)
            if (keep[i] && !mbox_put(keep[i])) obj_free(keep[i]);
    }
    }
    return NULL;
}

static int threads_now(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1) break;
    if (f) fclose(f);
    return n;
}

static int base_threads; /* main plus tricolor's own threads, if any */

TC_PRESENCE_TEST()

TEST(ring_cross_thread_frees) {
    static struct ring rings[RING_PAIRS];
    pthread_t th[2 * RING_PAIRS];
    struct gc_stats a = GC_STATS_INIT, b = GC_STATS_INIT;
    atomic_store(&errors, 0);
    tc_stats(&a);
    for (int i = 0; i < RING_PAIRS; i++) {
        rings[i].seed = 12345 + (uint64_t)i;
        ASSERT_TRUE(pthread_create(&th[2 * i], NULL, producer, &rings[i]) == 0);
        ASSERT_TRUE(pthread_create(&th[2 * i + 1], NULL, consumer, &rings[i]) == 0);
    }
    for (int i = 0; i < 2 * RING_PAIRS; i++) pthread_join(th[i], NULL);
    tc_stats(&b);
    EXPECT_EQ_U(atomic_load(&errors), 0);
    for (int i = 0; i < RING_PAIRS; i++) {
        EXPECT_EQ_U(rings[i].produced, rings[i].consumed);
        EXPECT_TRUE(rings[i].produced > 1000);
    }
    if (tc_have_tricolor()) {
        /* thread stacks' TLS bookkeeping is the only malloc left behind */
        if (b.alloc_bytes > a.alloc_bytes + MiB)
            TC_FAIL_("cross-thread frees lost memory: alloc_bytes %ju -> %ju", (uintmax_t)a.alloc_bytes,
                     (uintmax_t)b.alloc_bytes);
        EXPECT_TRUE(b.nfree - a.nfree + 64 >= b.nmalloc - a.nmalloc);
    }
}

TEST(thread_churn_bounded) {
    struct gc_stats st = GC_STATS_INIT;
    size_t rss0 = 0, tcb0 = 0;
    size_t rss = 0;
    int round;
    double end = tc_now() + budget * 0.6;
    int peak = base_threads + (CHURN_CONC > 2 * RING_PAIRS ? CHURN_CONC : 2 * RING_PAIRS);
    int fails0 = tc_failed_checks;
    atomic_store(&errors, 0);
    for (round = 0; round < 3 || tc_now() < end; round++) {
        for (uintptr_t i = 0; i < CHURN_ROUND; i += CHURN_CONC) {
            pthread_t th[CHURN_CONC];
            for (int k = 0; k < CHURN_CONC; k++) {
                int rc = pthread_create(&th[k], NULL, churn_thread, (void *)(i + (uintptr_t)k + 7919u * round));
                ASSERT_TRUE(rc == 0);
            }
            for (int k = 0; k < CHURN_CONC; k++) pthread_join(th[k], NULL);
        }
        for (struct hdr *h; (h = mbox_take());) obj_free(h);
        rss = tc_rss();
        tc_stats(&st);
        if (round == 0) {
            rss0 = rss, tcb0 = st.thread_cache_bytes;
            continue;
        }
        if (rss > rss0 + 16 * MiB) TC_FAIL_("round %d: RSS grew %zu -> %zu", round, rss0, rss);
        if (!tc_have_tricolor()) continue;
        if (st.nprocs > (uint32_t)peak) TC_FAIL_("round %d: %u Ps for at most %d live threads", round, st.nprocs, peak);
        if (st.nprocs - st.nprocs_idle > (uint32_t)base_threads)
            TC_FAIL_("round %d: %u of %u Ps not pooled after their threads exited", round,
                     st.nprocs - st.nprocs_idle, st.nprocs);
        if (st.thread_cache_bytes > tcb0 + 4 * MiB)
            TC_FAIL_("round %d: thread_cache_bytes grew %ju -> %ju", round, (uintmax_t)tcb0,
                     (uintmax_t)st.thread_cache_bytes);
        if (tc_failed_checks != fails0) break;
    }
    printf("  churn: %zu threads in %d rounds, RSS %zu -> %zu KiB, %u Ps\n", atomic_load(&churned), round,
           rss0 >> 10, rss >> 10, st.nprocs);
    EXPECT_EQ_U(atomic_load(&errors), 0);
    EXPECT_TRUE(atomic_load(&churned) >= 3 * CHURN_ROUND);
}

TEST(idle_flushes_cache) {
    if (!tc_have_tricolor()) return;
    void (*idle)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gc_thread_idle");
    ASSERT_TRUE(idle != NULL);
    for (int i = 0; i < 1000; i++) free(malloc((size_t)(i % 64) * 16 + 8)); /* warm main's cache */
    idle();
    struct gc_stats st = GC_STATS_INIT;
    tc_stats(&st);
    if (st.nprocs - st.nprocs_idle > (uint32_t)base_threads - 1)
        TC_FAIL_("after gc_thread_idle: %u of %u Ps still held", st.nprocs - st.nprocs_idle, st.nprocs);
    if (base_threads == 1 && st.thread_cache_bytes != 0)
        TC_FAIL_("after gc_thread_idle: thread_cache_bytes %ju", (uintmax_t)st.thread_cache_bytes);
    void *p = malloc(100); /* and the thread can allocate again */
    EXPECT_TRUE(p != NULL);
    free(p);
}

/* gc_release_memory asks the other threads' Ps for their free objects:
 * a thread that filled its bins (about 2 MiB of 1 KiB objects) and then
 * waits gives them back at its next allocation that misses its cache. */
static pthread_mutex_t rel_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rel_cond = PTHREAD_COND_INITIALIZER;
static int rel_step;

static void rel_wait(int step) {
    pthread_mutex_lock(&rel_lock);
    while (rel_step < step) pthread_cond_wait(&rel_cond, &rel_lock);
    pthread_mutex_unlock(&rel_lock);
}

static void rel_go(int step) {
    pthread_mutex_lock(&rel_lock);
    rel_step = step;
    pthread_cond_broadcast(&rel_cond);
    pthread_mutex_unlock(&rel_lock);
}

static void *bin_filler(void *arg) {
    (void)arg;
    void *p[2048];
    for (int i = 0; i < 2048; i++) p[i] = malloc(1000 + (i % 16) * 1024); /* 16 classes */
    for (int i = 0; i < 2048; i++) free(p[i]);
    rel_go(1);
    rel_wait(2);
    free(malloc(20000)); /* a class whose bin is empty: the slow path */
    rel_go(3);
    rel_wait(4);
    return NULL;
}

TEST(release_memory_flushes_other_threads) {
    if (!tc_have_tricolor()) return;
    size_t (*rel)(void) = (size_t (*)(void))dlsym(RTLD_DEFAULT, "gc_release_memory");
    ASSERT_TRUE(rel != NULL);
    rel_step = 0;
    pthread_t t;
    ASSERT_TRUE(pthread_create(&t, NULL, bin_filler, NULL) == 0);
    rel_wait(1);
    struct gc_stats a = GC_STATS_INIT, b = GC_STATS_INIT;
    tc_stats(&a);
    rel();
    rel_go(2);
    rel_wait(3);
    tc_stats(&b);
    rel_go(4);
    pthread_join(t, NULL);
    printf("  cached free bytes %ju KiB -> %ju KiB\n", (uintmax_t)a.thread_cache_bytes >> 10,
           (uintmax_t)b.thread_cache_bytes >> 10);
    EXPECT_TRUE(a.thread_cache_bytes >= (1u << 20));
    EXPECT_TRUE(b.thread_cache_bytes + (1u << 20) <= a.thread_cache_bytes);
}

__attribute__((constructor(200))) static void setup(void) {
    budget = tc_budget_seconds(3.0);
    free(malloc(1)); /* let tricolor start any threads of its own first */
    base_threads = threads_now();
    alarm((unsigned)(budget * 4 + 60)); /* a hang ends as SIGALRM, not a stuck CI */
}

TC_TEST_MAIN()
