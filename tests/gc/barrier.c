/* tests/gc/barrier.c: the bulk barrier's contracts (gc/barrier.c).
 *
 *   memmove_semantics: gc_memmove/gc_memcpy/gc_memclr give memmove's and
 *     memset's results for every overlap and size around the 4 KiB step,
 *     at odd offsets too.
 *   sort_matches_qsort: gc_qsort and gc_qsort_r order like libc's qsort
 *     (compared as multisets and as sorted sequences) for element sizes 4,
 *     8, 24 and 300 bytes, on random, sorted, reversed and constant input.
 *   sort_while_collecting: threads sort arrays of pointers held only in
 *     collected memory with gc_qsort, and rewire them with gc_memmove,
 *     while another thread collects back to back, for a few seconds; every
 *     object stays intact (the checkmark is on in meson). */
#include "gc_test.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

TEST(memmove_semantics) {
    static const size_t sizes[] = {0, 1, 7, 8, 9, 100, 4095, 4096, 4097, 9000, 20000};
    size_t cap = 3 * 20000 + 64;
    unsigned char *a = gc_alloc_noscan(cap), *b = malloc(cap);
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        static const long shifts[] = {-4097, -100, -9, -1, 0, 1, 9, 100, 4097};
        for (size_t k = 0; k < sizeof shifts / sizeof shifts[0]; k++) {
            for (size_t i = 0; i < cap; i++) a[i] = b[i] = (unsigned char)next();
            size_t src = 20000 + 3;
            size_t dst = (size_t)((long)src + shifts[k]);
            gc_memmove(a + dst, a + src, n);
            memmove(b + dst, b + src, n);
            EXPECT_TRUE(memcmp(a, b, cap) == 0);
        }
        gc_memclr(a + 5, n);
        memset(b + 5, 0, n);
        EXPECT_TRUE(memcmp(a, b, cap) == 0);
    }
    EXPECT_TRUE(gc_memcpy(a, a + 10000, 64) == a);
    free(b);
}

static int cmp_key(const void *x, const void *y) {
    uint32_t a, b;
    memcpy(&a, x, 4);
    memcpy(&b, y, 4);
    return (a > b) - (a < b);
}

static int cmp_key_r(const void *x, const void *y, void *arg) {
    (*(int *)arg)++;
    return cmp_key(x, y);
}

static int cmp_bytes(const void *x, const void *y, void *size) {
    return memcmp(x, y, *(size_t *)size);
}

TEST(sort_matches_qsort) {
    static const size_t esize[] = {4, 8, 24, 300};
    static const size_t counts[] = {0, 1, 2, 17, 100, 1000, 5000};
    for (size_t e = 0; e < 4; e++) {
        for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            for (int shape = 0; shape < 4; shape++) {
                size_t n = counts[c], sz = esize[e];
                unsigned char *a = gc_alloc(n * sz + 1), *b = malloc(n * sz + 1);
                for (size_t i = 0; i < n; i++) {
                    uint32_t key = shape == 0 ? (uint32_t)(next() % 500) /* duplicates */
                                   : shape == 1 ? (uint32_t)i
                                   : shape == 2 ? (uint32_t)(n - i) : 7u;
                    for (size_t k = 0; k < sz; k++) a[i * sz + k] = (unsigned char)next();
                    memcpy(a + i * sz, &key, 4);
                }
                memcpy(b, a, n * sz);
                int calls = 0;
                if (shape & 1) gc_qsort(a, n, sz, cmp_key);
                else gc_qsort_r(a, n, sz, cmp_key_r, &calls);
                qsort(b, n, sz, cmp_key);
                int ok = 1;
                for (size_t i = 0; i + 1 < n; i++)
                    if (cmp_key(a + i * sz, a + (i + 1) * sz) > 0) ok = 0;
                EXPECT_TRUE(ok);
                EXPECT_TRUE(shape & 1 || n < 2 || calls > 0);
                /* the same elements: order both by all their bytes, compare */
                qsort_r(a, n, sz, cmp_bytes, &sz);
                qsort_r(b, n, sz, cmp_bytes, &sz);
                EXPECT_TRUE(n == 0 || memcmp(a, b, n * sz) == 0);
                free(b);
            }
        }
    }
}

/* ---- sorting while cycles run ---- */

#define NOBJ 3000
static atomic_int sort_stop;

struct keyed {
    uint64_t key;
    uint64_t check;
    void *pad[2];
};

static int cmp_obj(const void *x, const void *y) {
    const struct keyed *a = *(struct keyed *const *)x, *b = *(struct keyed *const *)y;
    return (a->key > b->key) - (a->key < b->key);
}

static void *collector(void *arg) {
    (void)arg;
    while (!atomic_load(&sort_stop)) {
        gc_collect();
        gct_churn(200);
    }
    return NULL;
}

static GCT_NOINLINE void fill_array(struct keyed **arr, uint64_t *seed) {
    for (int i = 0; i < NOBJ; i++) {
        struct keyed *o = gc_alloc(sizeof *o);
        *seed = gct_mix(*seed + 1);
        o->key = *seed % 100000;
        o->check = gct_mix(o->key);
        gc_store((void **)&arr[i], o);
    }
}

static void *sorter(void *arg) {
    uint64_t seed = (uintptr_t)arg, bad = 0;
    struct keyed **arr = gc_alloc(NOBJ * sizeof *arr);
    struct keyed **tmp = gc_alloc(NOBJ * sizeof *tmp);
    fill_array(arr, &seed);
    while (!atomic_load(&sort_stop)) {
        gc_qsort(arr, NOBJ, sizeof *arr, cmp_obj);
        for (int i = 0; i < NOBJ; i++)
            if (!arr[i] || arr[i]->check != gct_mix(arr[i]->key) ||
                (i && arr[i - 1]->key > arr[i]->key))
                bad++;
        /* rotate through the other array, then reverse in place */
        gc_memcpy(tmp, arr + NOBJ / 2, (NOBJ - NOBJ / 2) * sizeof *arr);
        gc_memcpy(tmp + (NOBJ - NOBJ / 2), arr, NOBJ / 2 * sizeof *arr);
        gc_memmove(arr, tmp, NOBJ * sizeof *arr);
        gc_memclr(tmp, NOBJ * sizeof *tmp);
        for (int i = 0; i < NOBJ; i += 7) { /* replace a few objects */
            struct keyed *o = gc_alloc(sizeof *o);
            o->key = gct_mix(seed + (uint64_t)i) % 100000;
            o->check = gct_mix(o->key);
            gc_store((void **)&arr[i], o);
        }
    }
    return (void *)(uintptr_t)bad;
}

TEST(sort_while_collecting) {
    double secs = gct_env_double("TC_BARRIER_SECONDS", 3);
    atomic_store(&sort_stop, 0);
    pthread_t c, s[2];
    pthread_create(&c, NULL, collector, NULL);
    for (int i = 0; i < 2; i++) pthread_create(&s[i], NULL, sorter, (void *)(uintptr_t)(i + 1));
    gct_sleep_us((long)(secs * 1e6));
    atomic_store(&sort_stop, 1);
    uint64_t bad = 0;
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(s[i], &r);
        bad += (uintptr_t)r;
    }
    pthread_join(c, NULL);
    EXPECT_TRUE(bad == 0);
}

TC_TEST_MAIN()
