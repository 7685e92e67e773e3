/* tests/gc/torture.c: threads mutate a random object graph while
 * collections run back to back; no reachable object may be lost.
 *
 * Nodes are gc_alloc'd: an id, K kid pointers, a payload of words derived
 * from the id, a gc_alloc_noscan "blob" (1..200 bytes, so tiny blocks too)
 * and a checksum over all of that except the kids. Some nodes are large
 * (40 KiB). Every node is checked whenever a thread visits it.
 *
 * Each mutator owns RPT root slots in a global array and repeatedly:
 * allocates a node and hangs it into a root slot or under a node it
 * reached by a random walk; links a node to one reached from another
 * thread's roots; drops links; swaps one of its roots with a shared
 * exchange slot (subgraphs move between threads); walks and verifies.
 * One link in four is an interior pointer (the node's address + 1): a
 * pointer into the object keeps it alive (rule 3). A collector thread
 * calls gc_collect in a loop, and GOGC is 10 (unless set) so allocation
 * starts cycles too. Meson runs this with GODEBUG=gccheckmark=1.
 *
 * A freed and reused slot would hold a well-formed node, so checksums
 * alone miss it. Each pointer slot (kids, roots, exchange) therefore has
 * a twin holding the id it should point to, updated under the node's
 * spin lock (or by the root's owner, or under the exchange lock). Every
 * VERIFY_MS the main thread stops the mutators at a barrier (the collector
 * keeps going) and walks the whole graph from all roots, checking each
 * node and that every edge leads to the id its twin records. The walk's
 * size steers the mutators: above MAX_LIVE nodes they drop more links.
 *
 * TC_TORTURE_SECONDS (default 3) and TC_TORTURE_THREADS (default 4). */
#include <stdarg.h>
#include <unistd.h>

#include "gc_test.h"

#define K 4
#define RPT 64
#define NX 16
#define MAXT 32
#define VERIFY_MS 300
#define MAX_LIVE 40000
#define LARGE_WORDS 5120 /* 40 KiB payload: a large object */

struct node {
    uint64_t id;
    uint64_t sum;
    uint32_t nwords, blob_len;
    uint32_t lock;
    uint32_t unused;
    unsigned char *blob;
    struct node *kid[K]; /* low bit set: interior pointer to the node */
    uint64_t kid_id[K];
    uint64_t payload[];
};

static struct node *roots[MAXT][RPT];
static uint64_t root_id[MAXT][RPT];
static struct node *xchg[NX];
static uint64_t xchg_id[NX];
static pthread_mutex_t xlock[NX];

static int nthreads;
static atomic_int stop, pause_req, shrink, failed;
static pthread_barrier_t barrier;
static atomic_ullong n_alloc, n_visit, n_cycles;
static char fail_msg[512];
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...) {
    pthread_mutex_lock(&fail_lock);
    if (!atomic_load(&failed)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(fail_msg, sizeof fail_msg, fmt, ap);
        va_end(ap);
        atomic_store(&failed, 1);
    }
    pthread_mutex_unlock(&fail_lock);
}

static uint64_t rnd(uint64_t *s) { /* xorshift64* */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static uint64_t node_sum(const struct node *n) {
    return gct_mix(n->id) ^ gct_mix(((uint64_t)n->nwords << 32 | n->blob_len) + 1) ^
           gct_mix((uintptr_t)n->blob);
}

static struct node *untag(struct node *p) { return (struct node *)((uintptr_t)p & ~(uintptr_t)1); }

/* Check everything immutable about n; 0 (and the failure recorded) if
 * anything is off. */
static int check(const struct node *n, const char *where) {
    if (n->sum != node_sum(n)) {
        fail("%s: node %p id %#jx: header checksum mismatch (freed or overwritten)", where,
             (const void *)n, (uintmax_t)n->id);
        return 0;
    }
    for (uint32_t i = 0; i < n->nwords; i++)
        if (n->payload[i] != gct_mix(n->id + i)) {
            fail("%s: node %p id %#jx: payload word %u of %u corrupt", where, (const void *)n,
                 (uintmax_t)n->id, i, n->nwords);
            return 0;
        }
    for (uint32_t i = 0; i < n->blob_len; i++)
        if (n->blob[i] != (unsigned char)gct_mix(n->id ^ (0xb10bULL + i))) {
            fail("%s: node %p id %#jx: noscan blob %p byte %u of %u corrupt", where,
                 (const void *)n, (uintmax_t)n->id, (void *)n->blob, i, n->blob_len);
            return 0;
        }
    atomic_fetch_add_explicit(&n_visit, 1, memory_order_relaxed);
    return 1;
}

static struct node *new_node(int t, uint64_t *rng, uint64_t *counter) {
    uint32_t nwords = rnd(rng) % 200 == 0 ? LARGE_WORDS : (uint32_t)(rnd(rng) % 65);
    uint32_t blob_len = 1 + (uint32_t)(rnd(rng) % 200);
    struct node *n = gc_alloc(sizeof *n + nwords * sizeof(uint64_t));
    unsigned char *b = gc_alloc_noscan(blob_len);
    if (!n || !b) {
        fail("gc_alloc returned NULL");
        return NULL;
    }
    n->id = (uint64_t)(t + 1) << 48 | ++*counter;
    n->nwords = nwords;
    n->blob_len = blob_len;
    for (uint32_t i = 0; i < blob_len; i++) b[i] = (unsigned char)gct_mix(n->id ^ (0xb10bULL + i));
    gc_store((void **)&n->blob, b);
    for (uint32_t i = 0; i < nwords; i++) n->payload[i] = gct_mix(n->id + i);
    n->sum = node_sum(n); /* published by gc_store, a release */
    atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
    return n;
}

static struct node *load_kid(struct node *n, int i) {
    return __atomic_load_n(&n->kid[i], __ATOMIC_ACQUIRE);
}

/* n->kid[i] = v (tagged as interior pointer when interior), id twin with it. */
static void set_kid(struct node *n, int i, struct node *v, int interior) {
    while (__atomic_exchange_n(&n->lock, 1, __ATOMIC_ACQUIRE)) {
    }
    struct node *p = v && interior ? (struct node *)((uintptr_t)v | 1) : v;
    gc_store((void **)&n->kid[i], p);
    n->kid_id[i] = v ? v->id : 0;
    __atomic_store_n(&n->lock, 0, __ATOMIC_RELEASE);
}

static void set_root(int t, int k, struct node *v) {
    gc_store((void **)&roots[t][k], v);
    root_id[t][k] = v ? v->id : 0;
}

/* Start at root slot (u, k), follow up to depth random kids, checking
 * every node; the last node reached, or NULL. */
static struct node *walk(int u, int k, int depth, uint64_t *rng) {
    struct node *n = __atomic_load_n(&roots[u][k], __ATOMIC_ACQUIRE);
    if (!n || !check(n, "walk")) return NULL;
    for (int d = 0; d < depth; d++) {
        struct node *next = untag(load_kid(n, (int)(rnd(rng) % K)));
        if (!next) break;
        if (!check(next, "walk")) return NULL;
        n = next;
    }
    return n;
}

static void mutate(int t, uint64_t *rng, uint64_t *counter) {
    unsigned op = (unsigned)(rnd(rng) % 100);
    int k = (int)(rnd(rng) % RPT), depth = (int)(rnd(rng) % 8);
    unsigned drop_more = atomic_load_explicit(&shrink, memory_order_relaxed) ? 25 : 0;
    if (op < 30) { /* allocate, hang in */
        struct node *x = new_node(t, rng, counter);
        if (!x) return;
        struct node *other = walk((int)(rnd(rng) % (unsigned)nthreads), (int)(rnd(rng) % RPT), depth, rng);
        if (other) set_kid(x, (int)(rnd(rng) % K), other, rnd(rng) % 4 == 0);
        struct node *at = rnd(rng) % 2 ? walk(t, k, depth, rng) : NULL;
        if (at)
            set_kid(at, (int)(rnd(rng) % K), x, rnd(rng) % 4 == 0);
        else
            set_root(t, k, x);
    } else if (op < 55 - drop_more) { /* link to another thread's graph */
        struct node *a = walk(t, k, depth, rng);
        struct node *b = walk((int)(rnd(rng) % (unsigned)nthreads), (int)(rnd(rng) % RPT), depth, rng);
        if (a && b) set_kid(a, (int)(rnd(rng) % K), b, rnd(rng) % 4 == 0);
    } else if (op < 70) { /* drop a link or a root */
        struct node *a = walk(t, k, depth, rng);
        if (a && depth > 0)
            set_kid(a, (int)(rnd(rng) % K), NULL, 0);
        else if (rnd(rng) % 4 == 0)
            set_root(t, k, NULL);
    } else if (op < 75) { /* swap a subgraph with another thread */
        int j = (int)(rnd(rng) % NX);
        pthread_mutex_lock(&xlock[j]);
        struct node *mine = roots[t][k], *theirs = xchg[j];
        uint64_t mine_id = root_id[t][k], theirs_id = xchg_id[j];
        gc_store((void **)&xchg[j], mine);
        xchg_id[j] = mine_id;
        gc_store((void **)&roots[t][k], theirs);
        root_id[t][k] = theirs_id;
        pthread_mutex_unlock(&xlock[j]);
    } else {
        walk(t, k, 8 + depth, rng);
    }
}

static void *mutator(void *arg) {
    int t = (int)(intptr_t)arg;
    uint64_t rng = gct_mix((uint64_t)t + 12345) | 1, counter = 0;
    while (!atomic_load(&stop)) {
        if (atomic_load(&pause_req)) {
            pthread_barrier_wait(&barrier); /* stopped: main walks */
            pthread_barrier_wait(&barrier); /* resumed */
            continue;
        }
        if (atomic_load(&failed)) {
            gct_sleep_us(1000);
            continue;
        }
        mutate(t, &rng, &counter);
    }
    return NULL;
}

static void *collector(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        gc_collect();
        atomic_fetch_add(&n_cycles, 1);
    }
    return NULL;
}

/* ---- the full walk, mutators stopped ---- */

struct walk_state {
    struct node **seen; /* open addressing set of node addresses */
    size_t cap, count;
    struct node **stack; /* malloc'd: fine, every node on it is reachable */
    size_t sp, stack_cap;
};

static int seen_add(struct walk_state *w, struct node *n) {
    if (2 * (w->count + 1) > w->cap) {
        struct walk_state bigger = *w;
        bigger.cap = w->cap ? w->cap * 2 : 1 << 16;
        bigger.seen = calloc(bigger.cap, sizeof *bigger.seen);
        bigger.count = 0;
        if (!bigger.seen) abort();
        for (size_t i = 0; i < w->cap; i++)
            if (w->seen[i]) seen_add(&bigger, w->seen[i]);
        free(w->seen);
        w->seen = bigger.seen;
        w->cap = bigger.cap;
    }
    size_t i = (size_t)gct_mix((uintptr_t)n) & (w->cap - 1);
    while (w->seen[i]) {
        if (w->seen[i] == n) return 0;
        i = (i + 1) & (w->cap - 1);
    }
    w->seen[i] = n;
    w->count++;
    return 1;
}

static void visit_edge(struct walk_state *w, struct node *p, uint64_t want, const char *from) {
    struct node *n = untag(p);
    if (!n) {
        if (want) fail("%s: NULL where id %#jx was stored", from, (uintmax_t)want);
        return;
    }
    if (n->id != want) {
        fail("%s: points to %p with id %#jx, expected id %#jx: freed and reused", from,
             (void *)n, (uintmax_t)n->id, (uintmax_t)want);
        return;
    }
    if (!seen_add(w, n)) return;
    if (w->sp == w->stack_cap) {
        w->stack_cap = w->stack_cap ? 2 * w->stack_cap : 1 << 14;
        w->stack = realloc(w->stack, w->stack_cap * sizeof *w->stack);
        if (!w->stack) abort();
    }
    w->stack[w->sp++] = n;
}

static size_t full_walk(void) {
    struct walk_state w = {0};
    char from[64];
    for (int t = 0; t < nthreads; t++)
        for (int k = 0; k < RPT; k++) {
            snprintf(from, sizeof from, "root[%d][%d]", t, k);
            visit_edge(&w, roots[t][k], root_id[t][k], from);
        }
    for (int j = 0; j < NX; j++) {
        snprintf(from, sizeof from, "xchg[%d]", j);
        visit_edge(&w, xchg[j], xchg_id[j], from);
    }
    while (w.sp > 0 && !atomic_load(&failed)) {
        struct node *n = w.stack[--w.sp];
        if (!check(n, "full walk")) break;
        for (int i = 0; i < K; i++) {
            snprintf(from, sizeof from, "node %#jx kid %d", (uintmax_t)n->id, i);
            visit_edge(&w, n->kid[i], n->kid_id[i], from);
        }
    }
    free(w.seen);
    free(w.stack);
    return w.count;
}

TEST(torture) {
    double seconds = gct_env_double("TC_TORTURE_SECONDS", 3);
    nthreads = (int)gct_env_double("TC_TORTURE_THREADS", 4);
    if (nthreads < 1 || nthreads > MAXT) {
        fprintf(stderr, "TC_TORTURE_THREADS must be 1..%d\n", MAXT);
        exit(2);
    }
    if (!getenv("GOGC")) gc_setpercent(10);
    for (int j = 0; j < NX; j++) pthread_mutex_init(&xlock[j], NULL);
    pthread_barrier_init(&barrier, NULL, (unsigned)nthreads + 1);
    struct gc_stats s0 = gct_stats();

    pthread_t th[MAXT], col;
    for (int t = 0; t < nthreads; t++)
        ASSERT_TRUE(pthread_create(&th[t], NULL, mutator, (void *)(intptr_t)t) == 0);
    ASSERT_TRUE(pthread_create(&col, NULL, collector, NULL) == 0);

    uint64_t end = gct_now_ns() + (uint64_t)(seconds * 1e9);
    int walks = 0;
    size_t live = 0, live_max = 0;
    while (gct_now_ns() < end && !atomic_load(&failed)) {
        for (int i = 0; i < VERIFY_MS / 10 && !atomic_load(&failed); i++) gct_sleep_us(10000);
        atomic_store(&pause_req, 1);
        pthread_barrier_wait(&barrier);
        live = full_walk();
        walks++;
        live_max = live > live_max ? live : live_max;
        atomic_store(&shrink, live > MAX_LIVE);
        atomic_store(&pause_req, 0);
        pthread_barrier_wait(&barrier);
    }
    atomic_store(&stop, 1);
    for (int t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
    pthread_join(col, NULL);
    if (!atomic_load(&failed)) live = full_walk(); /* once more, all quiet */

    struct gc_stats s1 = gct_stats();
    printf("torture: %.0f s, %d threads, %llu nodes allocated, %llu checks, %d full walks "
           "(last %zu nodes, max %zu), %u cycles (%llu by gc_collect), max pause %.1f us\n",
           seconds, nthreads, atomic_load(&n_alloc), atomic_load(&n_visit), walks, live, live_max,
           s1.gc_num - s0.gc_num, atomic_load(&n_cycles), s1.gc_pause_max_ns / 1e3);
    if (atomic_load(&failed)) {
        TC_FAIL_("%s (after %u cycles)", fail_msg, s1.gc_num - s0.gc_num);
        return;
    }
    EXPECT_TRUE(walks >= 1);
    EXPECT_TRUE(s1.gc_num - s0.gc_num >= 3);
    EXPECT_TRUE(s1.gc_freed > s0.gc_freed); /* it did collect, not just keep */
    pthread_barrier_destroy(&barrier);
}

TC_TEST_MAIN()
