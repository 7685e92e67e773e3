/* tests/stress/soak.c: every workload at once, for a fixed time, through
 * the public API only; nothing reachable may be lost.
 *
 * Threads, all running together while a collector thread calls gc_collect
 * back to back (and GOGC, 10 unless set, starts cycles too):
 *   graph     x2  checksummed lists (gc_test.h) in a global root table:
 *                 built, dropped, moved between entries with gc_memmove,
 *                 sorted with gc_qsort, parked in a collected holder with
 *                 gc_memcpy while the table is cleared with gc_memclr
 *   malloc        malloc/calloc/realloc/memalign/free churn, patterns checked
 *   spawner       threads that build a list and return it (or pthread_exit
 *                 it), joined after a collection; a pthread key destructor
 *                 that allocates and checks the dying thread's __thread list
 *   finalizers    objects with finalizers whose arg is a collected object;
 *                 each finalizer checks both
 *   roots         lists held only by a malloc'd range made a root with
 *                 gc_add_roots (then removed), and by uncollectable objects
 *                 (then gc_free'd)
 *   forker        fork now and then: the child checks a list it inherited,
 *                 allocates, collects, checks again and exits
 * Every check that fails aborts with what it found. Meson runs this with
 * GODEBUG=gccheckmark=1 (each cycle re-marked with the world stopped,
 * abort on an unmarked reachable object).
 *
 * TC_SOAK_SECONDS (default 10) sets the length; a status line every
 * TC_SOAK_REPORT seconds (default 60) and at the end: operations, cycles,
 * pauses, objects verified, threads, finalizers, forks. */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gc/gc_test.h"

#define NGRAPH 2
#define NENT 32
#define LIST_MAX 48

static atomic_int stop;
static atomic_ullong n_ops, n_verified, n_threads, n_final, n_forks;

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "soak: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

static uint64_t rnd(uint64_t *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* A list and what it must be: moved as one 24-byte element. */
struct ent {
    struct gct_lnode *head;
    uint64_t seed, n;
};

static void check_ent(const struct ent *e, const char *where) {
    if (e->head && !gct_list_ok(e->head, e->seed, (int)e->n))
        die("%s: list of %llu nodes (seed %llu) at %p damaged", where, (unsigned long long)e->n,
            (unsigned long long)e->seed, (void *)e->head);
    if (e->head) atomic_fetch_add_explicit(&n_verified, e->n, memory_order_relaxed);
}

static struct ent make_ent(uint64_t *r) {
    uint64_t seed = rnd(r), n = 1 + rnd(r) % LIST_MAX;
    return (struct ent){gct_list(seed, (int)n), seed, n};
}

static int by_head(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const struct ent *)a)->head, y = (uintptr_t)((const struct ent *)b)->head;
    return x < y ? -1 : x > y;
}

/* ---- graph ---- */

static struct ent table[NGRAPH][NENT]; /* a data root; written with the barrier */

static void *graph(void *arg) {
    int me = (int)(intptr_t)arg;
    struct ent *t = table[me];
    uint64_t r = 0x1234567ULL + (uint64_t)me * 7919, ops = 0;
    while (!atomic_load(&stop)) {
        unsigned i = (unsigned)(rnd(&r) % NENT), j = (unsigned)(rnd(&r) % NENT);
        switch (rnd(&r) % 8) {
        case 0:
        case 1: {
            struct ent e = make_ent(&r);
            gc_memcpy(&t[i], &e, sizeof e);
            break;
        }
        case 2: gc_memclr(&t[i], sizeof t[i]); break;
        case 3: { /* a run of entries moves (overlapping) */
            unsigned k = (unsigned)(rnd(&r) % (NENT - (i > j ? i : j)));
            gc_memmove(&t[j], &t[i], k * sizeof *t);
            break;
        }
        case 4: gc_qsort(t, NENT, sizeof *t, by_head); break;
        case 5: { /* park the table in the heap, clear it, bring it back */
            struct ent *h = gc_alloc(sizeof table[0]);
            if (!h) die("gc_alloc failed");
            gc_memcpy(h, t, sizeof table[0]);
            gc_memclr(t, sizeof table[0]);
            gct_churn(32);
            for (unsigned k = 0; k < NENT; k++) check_ent(&h[k], "parked list");
            gc_memcpy(t, h, sizeof table[0]);
            break;
        }
        default: check_ent(&t[i], "graph list"); break;
        }
        if (++ops % 1024 == 0) atomic_fetch_add(&n_ops, 1024);
    }
    for (unsigned k = 0; k < NENT; k++) check_ent(&t[k], "graph list at the end");
    return NULL;
}

/* ---- malloc churn ---- */

static void *churn(void *arg) {
    (void)arg;
    enum { N = 256 };
    struct {
        unsigned char *p;
        size_t n;
        uint64_t seed;
    } b[N] = {{0}};
    uint64_t r = 99, ops = 0;
    while (!atomic_load(&stop)) {
        unsigned i = (unsigned)(rnd(&r) % N);
        size_t n = 16 + (size_t)(rnd(&r) % (rnd(&r) % 8 ? 512 : 80000));
        if (b[i].p && !gct_intact(b[i].p, b[i].n, b[i].seed))
            die("malloc block %p of %zu bytes damaged", (void *)b[i].p, b[i].n);
        switch (rnd(&r) % 4) {
        case 0: free(b[i].p), b[i].p = malloc(n); break;
        case 1: free(b[i].p), b[i].p = calloc(1, n); break;
        case 2: free(b[i].p), b[i].p = memalign((size_t)64 << (rnd(&r) % 6), n); break;
        default: {
            unsigned char *q = realloc(b[i].p, n);
            if (q && b[i].p && b[i].n <= n && !gct_intact(q, b[i].n, b[i].seed))
                die("realloc lost the contents of %zu bytes", b[i].n);
            b[i].p = q;
        }
        }
        if (!b[i].p) die("allocation of %zu bytes failed", n);
        b[i].n = n, b[i].seed = rnd(&r);
        gct_fill(b[i].p, n, b[i].seed);
        if (++ops % 1024 == 0) atomic_fetch_add(&n_ops, 1024);
    }
    for (unsigned i = 0; i < N; i++) free(b[i].p);
    return NULL;
}

/* ---- threads: exit values and destructors ---- */

static __thread struct ent tls_list;
static pthread_key_t dtor_key;

static void dtor(void *v) { /* runs as the thread dies; uses the collector */
    (void)v;
    uint64_t r = tls_list.seed | 1;
    struct ent e = make_ent(&r);
    gc_collect();
    check_ent(&tls_list, "__thread list in a key destructor");
    check_ent(&e, "list made in a key destructor");
}

static void *child(void *arg) {
    uint64_t r = (uint64_t)(uintptr_t)arg * 31 + 5;
    tls_list = make_ent(&r);
    pthread_setspecific(dtor_key, (void *)1);
    struct ent *ret = gc_alloc(sizeof *ret);
    if (!ret) die("gc_alloc failed");
    struct ent e = make_ent(&r);
    gc_memcpy(ret, &e, sizeof e);
    if (r & 1) pthread_exit(ret);
    return ret;
}

static void *spawner(void *arg) {
    (void)arg;
    pthread_key_create(&dtor_key, dtor);
    uint64_t k = 1;
    while (!atomic_load(&stop)) {
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            if (pthread_create(&t[i], NULL, child, (void *)(uintptr_t)k++) != 0)
                die("pthread_create failed");
        gc_collect();
        gct_churn(256);
        for (int i = 0; i < 4; i++) {
            void *v = NULL;
            pthread_join(t[i], &v);
            check_ent(v, "a joined thread's exit value");
        }
        atomic_fetch_add(&n_threads, 4);
        atomic_fetch_add(&n_ops, 4);
    }
    return NULL;
}

/* ---- finalizers ---- */

/* A finalized object: a list, then a checksummed body. Its finalizer's
 * arg (a collected object only the finalizer table keeps) says what both
 * must be. */
struct fobj {
    struct gct_lnode *list;
    uint64_t unused;
    unsigned char body[112];
};

static void on_final(void *obj, void *arg) {
    const struct ent *want = arg;
    const struct fobj *o = obj;
    if (!gct_intact(want + 1, 64, want->seed ^ 0xF1))
        die("finalizer arg %p damaged: freed before its finalizer ran?", arg);
    if (!gct_intact(o->body, sizeof o->body, want->seed)) die("finalized object %p damaged", obj);
    check_ent(&(struct ent){o->list, want->seed, want->n}, "list a finalized object references");
    atomic_fetch_add(&n_final, 1);
}

static void *finalizers(void *arg) {
    (void)arg;
    static void *ring[64];
    uint64_t r = 4242, i = 0;
    while (!atomic_load(&stop)) {
        uint64_t seed = rnd(&r);
        struct fobj *o = gc_alloc(sizeof *o);
        struct ent *a = gc_alloc_noscan(sizeof *a + 64);
        if (!o || !a) die("gc_alloc failed");
        gct_fill(o->body, sizeof o->body, seed);
        gct_fill(a + 1, 64, seed ^ 0xF1);
        a->seed = seed, a->n = 1 + seed % 20;
        gc_store((void **)&o->list, gct_list(seed, (int)a->n));
        gc_set_finalizer(o, on_final, a);
        gc_store(&ring[i++ % 64], o);
        if (i % 16 == 0) gct_sleep_us(200);
        atomic_fetch_add(&n_ops, 1);
    }
    gc_memclr(ring, sizeof ring);
    return NULL;
}

/* ---- roots ---- */

/* Lists built on this frame, copied into a malloc'd range (which the
 * collector does not see) and the range made a root: added while a cycle
 * marks, it is scanned at once. The lists are then held by the range
 * alone once the caller has clobbered this dead frame. */
static GCT_NOINLINE struct ent *rooted_range(uint64_t *r, struct ent **unc) {
    struct ent loc[8], *range = malloc(sizeof loc);
    *unc = gc_alloc_uncollectable(sizeof **unc);
    if (!range || !*unc) die("allocation failed");
    for (int i = 0; i < 8; i++) loc[i] = make_ent(r);
    memcpy(range, loc, sizeof loc);
    gc_add_roots(range, range + 8);
    struct ent e = make_ent(r);
    gc_memcpy(*unc, &e, sizeof e);
    return range;
}

static void *roots(void *arg) {
    (void)arg;
    uint64_t r = 777;
    while (!atomic_load(&stop)) {
        struct ent *unc, *range = rooted_range(&r, &unc);
        gct_clobber_stack();
        for (int k = 0; k < 20; k++) {
            gct_churn(64);
            for (int i = 0; i < 8; i++) check_ent(&range[i], "list held by an added root");
            check_ent(unc, "list held by an uncollectable object");
        }
        gc_remove_roots(range, range + 8);
        free(range);
        gc_free(unc);
        atomic_fetch_add(&n_ops, 1);
    }
    return NULL;
}

/* ---- fork ---- */

static void child_fail(const char *msg) {
    (void)!write(2, msg, strlen(msg));
    _exit(1);
}

static void *forker(void *arg) {
    (void)arg;
    uint64_t r = 31337;
    while (!atomic_load(&stop)) {
        struct ent e = make_ent(&r);
        pid_t pid = fork();
        if (pid < 0) die("fork: %s", strerror(errno));
        if (pid == 0) {
            alarm(60); /* a child that hangs dies of SIGALRM, which the parent reports */
            if (!gct_list_ok(e.head, e.seed, (int)e.n)) child_fail("soak child: inherited list damaged\n");
            struct ent f = make_ent(&r);
            gc_collect();
            if (!gct_list_ok(e.head, e.seed, (int)e.n) || !gct_list_ok(f.head, f.seed, (int)f.n))
                child_fail("soak child: list damaged after a collection\n");
            _exit(0);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) die("fork child failed (status %#x)", st);
        check_ent(&e, "list across a fork");
        atomic_fetch_add(&n_forks, 1);
        for (int i = 0; i < 200 && !atomic_load(&stop); i++) gct_sleep_us(10000);
    }
    return NULL;
}

static void *collector(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        gc_collect();
        gct_sleep_us(1000);
    }
    return NULL;
}

static void status(const char *what, double secs) {
    struct gc_stats st = gct_stats();
    printf("soak %s: %.0f s: %llu ops, %u cycles, %llu pauses (max %.0f us, total %.1f ms), "
           "%llu objects verified, %llu threads, %llu finalizers run, %llu forks\n",
           what, secs, (unsigned long long)atomic_load(&n_ops), st.gc_num,
           (unsigned long long)st.gc_npause, (double)st.gc_pause_max_ns / 1e3,
           (double)st.gc_pause_total_ns / 1e6, (unsigned long long)atomic_load(&n_verified),
           (unsigned long long)atomic_load(&n_threads), (unsigned long long)atomic_load(&n_final),
           (unsigned long long)atomic_load(&n_forks));
    fflush(stdout);
}

TEST(soak) {
    double seconds = gct_env_double("TC_SOAK_SECONDS", 10), every = gct_env_double("TC_SOAK_REPORT", 60);
    if (!getenv("GOGC")) gc_setpercent(10);
    void *(*const fns[])(void *) = {graph, graph, churn, spawner, finalizers, roots, forker, collector};
    enum { NT = sizeof fns / sizeof fns[0] };
    pthread_t t[NT];
    for (int i = 0; i < NT; i++)
        ASSERT_TRUE(pthread_create(&t[i], NULL, fns[i], (void *)(intptr_t)(i == 1)) == 0);
    uint64_t t0 = gct_now_ns(), next = t0 + (uint64_t)(every * 1e9);
    for (;;) {
        uint64_t now = gct_now_ns();
        if (now - t0 >= (uint64_t)(seconds * 1e9)) break;
        if (now >= next) status("running", (double)(now - t0) / 1e9), next += (uint64_t)(every * 1e9);
        gct_sleep_us(50000);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NT; i++) pthread_join(t[i], NULL);
    gc_collect();
    status("done", (double)(gct_now_ns() - t0) / 1e9);
    EXPECT_TRUE(gct_stats().gc_num > 0);
}

TC_TEST_MAIN()
