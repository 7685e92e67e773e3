/* tests/gc/gc_test.h: helpers shared by the collector's tests.
 *
 * A conservative collector keeps whatever a stray word points at, so a
 * test that wants to see an object reclaimed must make sure no copy of
 * its address is left behind: objects are made and dropped inside
 * non-inlined helpers (GCT_NOINLINE) that never return the pointer, and
 * gct_clobber_stack() overwrites the dead frames below the caller before
 * the test waits for the collector. A test that wants to see an object
 * survive checks three things, because a freed object's bytes often stay
 * as they were: its finalizer (a watch) has not run, its checksum pattern
 * is intact, and the freed slots around it have been reused by churn
 * (gct_churn) in the meantime, which would have overwritten it.
 *
 * Watches: gct_watch records that a finalizer ran, how often, on which
 * thread, and whether the object was intact when it ran. The object's
 * address is never stored in the watch (that would be a root). */
#ifndef TC_GC_TEST_H
#define TC_GC_TEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tricolor.h>

#include "harness.h"

#if defined(__clang__)
#define GCT_NOINLINE __attribute__((noinline, unused))
#else
/* noipa: gcc must not look through the helper either (no cloning, no
 * interprocedural register allocation that could keep a copy alive). */
#define GCT_NOINLINE __attribute__((noinline, noipa, unused))
#endif

/* 1 in an AddressSanitizer build. */
#if defined(__SANITIZE_ADDRESS__)
#define GCT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GCT_ASAN 1
#endif
#endif
#ifndef GCT_ASAN
#define GCT_ASAN 0
#endif

/* Whether a test may expect an object to go once its last reference is
 * cleared. Under TSan a stale copy of the pointer may stay where the
 * collector scans conservatively (TSan's own frames and per-thread state)
 * and keep it: there tests check only that live objects stay. */
#define GCT_PRECISE (!TC_UNDER_TSAN)

#define GCT_OBJ_SIZE 96 /* default test object: 16-byte header + 80 bytes */

/* A checksummed test object: seed, then bytes derived from the seed. */
struct gct_obj {
    uint64_t seed;
    uint64_t size;
    unsigned char bytes[];
};

static inline uint64_t gct_mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline void gct_fill(void *p, size_t size, uint64_t seed) {
    struct gct_obj *o = p;
    o->seed = seed;
    o->size = size;
    for (size_t i = 0; i < size - sizeof *o; i++)
        o->bytes[i] = (unsigned char)gct_mix(seed + i);
}

static inline int gct_intact(const void *p, size_t size, uint64_t seed) {
    const struct gct_obj *o = p;
    if (!o || o->seed != seed || o->size != size) return 0;
    for (size_t i = 0; i < size - sizeof *o; i++)
        if (o->bytes[i] != (unsigned char)gct_mix(seed + i)) return 0;
    return 1;
}

struct gct_watch {
    atomic_int ran;       /* times the finalizer ran */
    atomic_int intact;    /* 1 if the object was intact when it ran */
    atomic_long seq;      /* global order in which finalizers ran */
    pthread_t thread;     /* the thread it ran on */
    uint64_t seed;
    size_t size;
};

static atomic_long gct_final_seq;

static inline void gct_on_final(void *obj, void *arg) {
    struct gct_watch *w = arg;
    atomic_store(&w->intact, gct_intact(obj, w->size, w->seed));
    w->thread = pthread_self();
    atomic_store(&w->seq, atomic_fetch_add(&gct_final_seq, 1) + 1);
    atomic_fetch_add(&w->ran, 1);
}

static inline void gct_watch_init(struct gct_watch *w, uint64_t seed, size_t size) {
    atomic_store(&w->ran, 0);
    atomic_store(&w->intact, 0);
    atomic_store(&w->seq, 0);
    w->seed = seed;
    w->size = size;
}

/* A checksummed singly linked list in the collected heap (64-byte nodes),
 * for tests that hold one only in a thread's own frame and registers. */
struct gct_lnode {
    struct gct_lnode *next;
    uint64_t seed, idx;
    unsigned char pad[40];
};

/* n nodes, built back to front with the barrier; returns the head. */
static GCT_NOINLINE struct gct_lnode *gct_list(uint64_t seed, int n) {
    struct gct_lnode *head = NULL;
    for (int i = n - 1; i >= 0; i--) {
        struct gct_lnode *p = gc_alloc(sizeof *p);
        p->seed = seed, p->idx = (uint64_t)i;
        for (size_t k = 0; k < sizeof p->pad; k++)
            p->pad[k] = (unsigned char)gct_mix(seed * 77 + (uint64_t)i + k);
        gc_store((void **)&p->next, head);
        head = p;
    }
    return head;
}

/* 1 if p is exactly the list gct_list(seed, n) built, every byte intact. */
static GCT_NOINLINE int gct_list_ok(const struct gct_lnode *p, uint64_t seed, int n) {
    for (int i = 0; i < n; i++, p = p->next) {
        if (!p || p->seed != seed || p->idx != (uint64_t)i) return 0;
        for (size_t k = 0; k < sizeof p->pad; k++)
            if (p->pad[k] != (unsigned char)gct_mix(seed * 77 + (uint64_t)i + k)) return 0;
    }
    return p == NULL;
}

/* A filled, watched object. Callers store it where the test needs it and
 * must not keep it in their own frame. */
static GCT_NOINLINE void *gct_make(struct gct_watch *w, uint64_t seed, size_t size) {
    gct_watch_init(w, seed, size);
    void *p = gc_alloc(size);
    if (!p) {
        fprintf(stderr, "gc_alloc(%zu) returned NULL\n", size);
        abort();
    }
    gct_fill(p, size, seed);
    gc_set_finalizer(p, gct_on_final, w);
    return p;
}

/* Make a watched object and store it into *slot with the barrier. */
static GCT_NOINLINE void gct_attach(void **slot, struct gct_watch *w, uint64_t seed) {
    gc_store(slot, gct_make(w, seed, GCT_OBJ_SIZE));
}

static GCT_NOINLINE int gct_check_slot(void *const *slot, const struct gct_watch *w) {
    return gct_intact(*slot, w->size, w->seed);
}

/* Overwrite the dead stack below the caller, where returned helpers left
 * copies of pointers. */
static GCT_NOINLINE void gct_clobber_stack(void) {
    volatile uint64_t pad[4096];
    for (size_t i = 0; i < sizeof pad / sizeof pad[0]; i++) pad[i] = 0;
    __asm__ volatile("" ::"r"(pad) : "memory");
}

/* Allocate and drop objects of the test size and a few others, filled
 * with a pattern, so that freed slots get reused and overwritten. */
static GCT_NOINLINE void gct_churn(int n) {
    static const size_t sizes[] = {GCT_OBJ_SIZE, 16, 48, 128, 512};
    for (int i = 0; i < n; i++) {
        size_t sz = sizes[i % 5];
        unsigned char *p = gc_alloc(sz);
        if (p) memset(p, 0xA5, sz);
    }
}

static inline uint64_t gct_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void gct_sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* rounds collections with churn in between; 1 if the watched object's
 * finalizer never ran (the object stayed reachable all along). */
static GCT_NOINLINE int gct_survives(const struct gct_watch *w, int rounds) {
    for (int i = 0; i < rounds; i++) {
        gc_collect();
        gct_churn(64);
    }
    gct_sleep_us(20000); /* let a wrongly queued finalizer run */
    return atomic_load(&w->ran) == 0;
}

/* Collect until w's finalizer ran (1) or seconds passed (0). The caller
 * must have dropped the object from every root it controls. */
static GCT_NOINLINE int gct_wait_final(const struct gct_watch *w, double seconds) {
    gct_clobber_stack();
    uint64_t end = gct_now_ns() + (uint64_t)(seconds * 1e9);
    while (atomic_load(&w->ran) == 0) {
        if (gct_now_ns() > end) return 0;
        gc_collect();
        gct_sleep_us(1000);
    }
    return 1;
}

static inline struct gc_stats gct_stats(void) {
    struct gc_stats st = GC_STATS_INIT;
    gc_read_stats(&st);
    return st;
}

/* GODEBUG=gcstress=N is on: cycles start on their own every few
 * allocations, so a test that counts cycles, pauses or signals, or that
 * lets the heap grow to see what the pacer does, cannot. */
static inline int gct_stress(void) {
    const char *g = getenv("GODEBUG"), *k = g ? strstr(g, "gcstress=") : NULL;
    int on = k && atoi(k + 9) > 0;
    while (k && (k = strstr(k + 1, "gcstress="))) on = atoi(k + 9) > 0; /* the last one counts */
    return on;
}

#define GCT_SKIP_UNDER_STRESS()                                                      \
    do {                                                                              \
        if (gct_stress()) {                                                           \
            printf("%s: counts cycles or signals; skipped under gcstress\n", __func__); \
            return;                                                                   \
        }                                                                             \
    } while (0)

static inline double gct_env_double(const char *name, double dflt) {
    const char *s = getenv(name);
    if (!s || !*s) return dflt;
    char *end;
    double v = strtod(s, &end);
    if (*end || v < 0) {
        fprintf(stderr, "%s=%s: expected a non-negative number\n", name, s);
        exit(2);
    }
    return v;
}

#endif
