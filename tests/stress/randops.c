/* tests/stress/randops.c: random operation sequences on many threads.
 *
 * Each thread owns SLOTS slots and applies a random sequence of malloc,
 * calloc, realloc (grow and shrink, across the 32 KiB small/large line),
 * memalign / posix_memalign / aligned_alloc, malloc_usable_size and free.
 * Every object carries a pattern over its whole requested size, checked
 * whenever it is touched, so a slot handed out twice, a realloc that
 * copies too little or a free that damages a neighbour shows up at the
 * next touch, with the thread's seed and step to replay it. Threads also
 * swap objects through a shared exchange array (atomic exchange), so
 * objects are freed and reallocated by threads that did not allocate
 * them. calloc memory is checked to be zero, aligned results to be
 * aligned, usable sizes to cover the request.
 *
 * TC_STRESS_SECONDS (default 2) and TC_THREADS (default 4) set the run;
 * the integration suite runs it for seconds, the stress suite for minutes.
 * Prints the operation count and ends with the harness's summary line. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>

#include "tc_check.h"

#define SLOTS 512
#define XCHG 256

struct obj {
    char *p;
    size_t n;
    uint32_t seed;
};

/* Exchanged objects carry their metadata inline (n >= sizeof header). */
struct xhdr {
    size_t n;
    uint32_t seed, magic;
};
#define XMAGIC 0xE7C4A11Fu

static _Atomic(struct xhdr *) xchg[XCHG];
static atomic_int errors;
static atomic_ullong total_ops;
static double end_time;

static void fail(uint64_t seed, long step, const char *what, const void *p, size_t n) {
    if (atomic_fetch_add(&errors, 1) < 10)
        fprintf(stderr, "randops: thread seed %ju step %ld: %s (object %p, %zu bytes)\n", (uintmax_t)seed, step,
                what, p, n);
}

static size_t pick_size(uint64_t *rng) {
    uint64_t r = tc_rand(rng);
    switch (r % 32) {
    case 0: return (r >> 8) % (4u << 20) + 1;           /* large, up to 4 MiB */
    case 1: case 2: case 3: return (r >> 8) % 65536 + 1; /* both sides of 32 KiB */
    case 4: return 0;
    default: return (r >> 8) % 1024 + 1;
    }
}

struct ctx {
    uint64_t seed, rng;
    long step;
    struct obj s[SLOTS];
};

static int verify(struct ctx *c, struct obj *o) {
    if (tc_check(o->p, o->n, o->seed) != o->n) return fail(c->seed, c->step, "pattern damaged", o->p, o->n), 0;
    if (malloc_usable_size(o->p) < o->n) return fail(c->seed, c->step, "usable size too small", o->p, o->n), 0;
    return 1;
}

static void fresh(struct ctx *c, struct obj *o) {
    uint64_t r = tc_rand(&c->rng);
    size_t n = pick_size(&c->rng), a = (size_t)8 << (r >> 16) % 13; /* 8 B .. 32 KiB */
    void *p = NULL;
    switch (r % 8) {
    case 0:
        p = calloc(n ? n : 1, 1), a = 1;
        if (p && !tc_all_zero(p, n)) fail(c->seed, c->step, "calloc not zero", p, n);
        break;
    case 1: p = memalign(a, n); break;
    case 2: if (posix_memalign(&p, a, n)) p = NULL; break;
    case 3: p = aligned_alloc(a, n); break;
    default: p = malloc(n); a = 1; break;
    }
    if (!p) return fail(c->seed, c->step, "allocation failed", NULL, n);
    if ((uintptr_t)p % a) fail(c->seed, c->step, "misaligned", p, a);
    o->p = p, o->n = n, o->seed = (uint32_t)tc_rand(&c->rng);
    tc_fill(p, n, o->seed);
}

static void resize(struct ctx *c, struct obj *o) {
    size_t n = pick_size(&c->rng), keep = n < o->n ? n : o->n;
    char *q = realloc(o->p, n);
    if (!q && n) return fail(c->seed, c->step, "realloc failed", o->p, n);
    if (!n) { /* realloc(p, 0): freed, NULL or a fresh minimum object */
        free(q);
        o->p = NULL;
        return;
    }
    if (tc_check(q, keep, o->seed) != keep) fail(c->seed, c->step, "realloc lost data", q, n);
    o->p = q, o->n = n;
    tc_fill(q, n, o->seed);
}

static int check_range(const void *p, size_t from, size_t to, uint32_t seed) {
    const unsigned char *b = p;
    for (size_t i = from; i < to; i++)
        if (b[i] != tc_pattern_byte(i, seed)) return 0;
    return 1;
}

static void fill_range(void *p, size_t from, size_t to, uint32_t seed) {
    unsigned char *b = p;
    for (size_t i = from; i < to; i++) b[i] = tc_pattern_byte(i, seed);
}

/* Swap the slot's object (NULL, or >= sizeof(struct xhdr) bytes) with a
 * random exchange cell. The header overwrites the first bytes of the
 * pattern; the receiver checks the rest and restores them. */
static void exchange(struct ctx *c, struct obj *o) {
    struct xhdr *mine = (struct xhdr *)o->p;
    if (mine) mine->n = o->n, mine->seed = o->seed, mine->magic = XMAGIC;
    o->p = NULL;
    struct xhdr *got = atomic_exchange(&xchg[tc_rand(&c->rng) % XCHG], mine);
    if (!got) return;
    if (got->magic != XMAGIC) return fail(c->seed, c->step, "exchanged header damaged", got, 0);
    size_t n = got->n;
    uint32_t seed = got->seed;
    if (!check_range(got, sizeof *got, n, seed)) fail(c->seed, c->step, "exchanged object damaged", got, n);
    if (malloc_usable_size(got) < n) fail(c->seed, c->step, "exchanged object: usable too small", got, n);
    fill_range(got, 0, sizeof *got, seed);
    o->p = (char *)got, o->n = n, o->seed = seed;
}

static void *run(void *arg) {
    struct ctx *c = arg;
    c->rng = c->seed;
    long ops = 0;
    while ((ops & 255) || tc_now() < end_time) {
        c->step = ops++;
        struct obj *o = &c->s[tc_rand(&c->rng) % SLOTS];
        unsigned op = tc_rand(&c->rng) % 16;
        if (!o->p) {
            if (op == 15) exchange(c, o);
            else fresh(c, o);
        } else if (!verify(c, o)) {
            o->p = NULL; /* leak it: freeing a damaged object helps no one */
        } else if (op < 6) {
            free(o->p);
            o->p = NULL;
        } else if (op < 11) {
            resize(c, o);
        } else if (op == 15 && o->n >= sizeof(struct xhdr)) {
            exchange(c, o);
        } /* else: verified and kept */
    }
    for (int i = 0; i < SLOTS; i++)
        if (c->s[i].p && verify(c, &c->s[i])) free(c->s[i].p);
    atomic_fetch_add(&total_ops, (unsigned long long)ops);
    return NULL;
}

TC_PRESENCE_TEST()

TEST(random_operation_sequences) {
    const char *t = getenv("TC_THREADS");
    int nthreads = t && *t ? atoi(t) : 4;
    ASSERT_TRUE(nthreads > 0 && nthreads <= 64);
    struct ctx *ctx = calloc((size_t)nthreads, sizeof *ctx);
    pthread_t th[64];
    ASSERT_TRUE(ctx != NULL);
    struct gc_stats a = GC_STATS_INIT, b = GC_STATS_INIT;
    tc_stats(&a);
    end_time = tc_now() + tc_budget_seconds(2.0);
    for (int i = 0; i < nthreads; i++) {
        ctx[i].seed = 0xC0FFEEull * (uint64_t)(i + 1);
        ASSERT_TRUE(pthread_create(&th[i], NULL, run, &ctx[i]) == 0);
    }
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < XCHG; i++) free(atomic_exchange(&xchg[i], NULL));
    tc_stats(&b);
    free(ctx);
    printf("  %llu operations on %d threads\n", (unsigned long long)atomic_load(&total_ops), nthreads);
    EXPECT_EQ_U(atomic_load(&errors), 0);
    EXPECT_TRUE(atomic_load(&total_ops) > 1000);
    if (tc_have_tricolor() && b.alloc_bytes > a.alloc_bytes + (1 << 20))
        TC_FAIL_("objects leaked: alloc_bytes %ju -> %ju", (uintmax_t)a.alloc_bytes, (uintmax_t)b.alloc_bytes);
}

__attribute__((constructor(200))) static void setup(void) { alarm((unsigned)(tc_budget_seconds(2.0) * 4 + 60)); }

TC_TEST_MAIN()
