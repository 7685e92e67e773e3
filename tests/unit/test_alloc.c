/* Unit test for alloc/alloc.c: pointer classification, local and remote
 * frees, aligned classes, realloc in place, and statistics. */
#include <pthread.h>

#include "alloc/alloc.h"
#include "alloc/options.h"
#include "harness.h"
#include "include/tricolor.h"

TEST(classify_names_every_kind_of_pointer) {
    tc_ensure_init();
    int stack_var;
    struct mspan *s = NULL;
    uintptr_t base = 0;
    char *p = tc_alloc(48, SPAN_MANUAL);
    EXPECT_EQ_U(tc_classify((uintptr_t)&stack_var, &s, &base), PTR_FOREIGN);
    EXPECT_EQ_U(tc_classify((uintptr_t)p, &s, &base), PTR_OK);
    EXPECT_EQ_U(tc_classify((uintptr_t)(p + 8), &s, &base), PTR_INTERIOR);
    EXPECT_TRUE(base == (uintptr_t)p);
    tc_p_release(); /* no P: the free goes straight to the span */
    EXPECT_TRUE(tc_free(p, "free()"));
    EXPECT_EQ_U(tc_classify((uintptr_t)p, &s, &base), PTR_UNALLOCATED);
    void *g = tc_alloc(48, SPAN_SCAN);
    EXPECT_EQ_U(tc_classify((uintptr_t)g, &s, &base), PTR_COLLECTED);
}

TEST(bad_frees_are_refused_in_warn_mode_and_change_nothing) {
    tc_opts.badfree = BADFREE_WARN;
    char *p = tc_alloc(64, SPAN_MANUAL);
    char *q = tc_alloc(64, SPAN_MANUAL);
    EXPECT_TRUE(tc_free(p, "free()"));
    EXPECT_TRUE(!tc_free(p, "free()"));       /* double */
    EXPECT_TRUE(!tc_free(q + 1, "free()"));   /* interior */
    int x;
    EXPECT_TRUE(!tc_free(&x, "free()"));      /* foreign */
    EXPECT_TRUE(tc_free(q, "free()"));        /* q intact */
    char *big = tc_alloc(100000, SPAN_MANUAL);
    EXPECT_TRUE(tc_free(big, "free()"));
    EXPECT_TRUE(!tc_free(big, "free()"));
    tc_opts.badfree = BADFREE_ABORT;
    EXPECT_TRUE(tc_mheap_verify());
}

/* The free fast path validates without the span struct (struct
 * heaparena): every page's freeclass entry must match its span and name
 * its owner, and each pointer it cannot prove a live slot start of an
 * owned span must go to the slow path. */
TEST(free_fast_takes_only_live_slot_starts) {
    tc_opts.badfree = BADFREE_WARN;
    /* class 3 (24 B): 341 slots and 8 bytes of tail in one page */
    char *p = tc_alloc(24, SPAN_MANUAL);
    struct mspan *s = tc_spanof((uintptr_t)p);
    ASSERT_TRUE(s != NULL && s->freeable);
    struct heaparena *ha = tc_arenaof(s->startAddr);
    EXPECT_EQ_U(TC_PI_CLASS(ha->pageinfo[tc_arena_page(s->startAddr)]), 3);
    EXPECT_EQ_U(TC_PI_OWNER(ha->pageinfo[tc_arena_page(s->startAddr)]), tc_tls_p->ownid);
    EXPECT_TRUE(s->allocBits == tc_arena_allocbits(ha, tc_arena_page(s->startAddr)));
    char *tail = (char *)s->startAddr + 341 * 24; /* a "slot" past nelems */
    EXPECT_TRUE(!tc_free_fast(tail));
    EXPECT_TRUE(!tc_free_fast(p + 8));             /* interior */
    char *never = (char *)s->startAddr + 340 * 24; /* not handed out yet */
    if (never != p) EXPECT_TRUE(!tc_free_fast(never));
    EXPECT_TRUE(tc_free_fast(p));
    EXPECT_TRUE(!tc_free_fast(p));                 /* already in the bin */
    EXPECT_TRUE(!tc_free(p, "free()"));            /* and the slow path says why */
    void *g = tc_alloc(24, SPAN_SCAN);
    EXPECT_TRUE(!tc_free_fast(g));                 /* collected */
    /* class 35 (1408 B): two pages, so the second page's entry says 1 back */
    char *o[12];
    for (int i = 0; i < 12; i++) o[i] = tc_alloc(1408, SPAN_MANUAL);
    int far = 0;
    for (int i = 0; i < 12; i++) {
        struct mspan *t = tc_spanof((uintptr_t)o[i]);
        uintptr_t page = tc_arena_page((uintptr_t)o[i]), first = tc_arena_page(t->startAddr);
        EXPECT_EQ_U(TC_PI_CLASS(tc_arenaof(t->startAddr)->pageinfo[page]), 35 | (page - first) << 8);
        far += page != first;
    }
    EXPECT_TRUE(far > 0);
    for (int i = 0; i < 12; i++) EXPECT_TRUE(tc_free_fast(o[i]));
    tc_opts.badfree = BADFREE_ABORT;
    EXPECT_TRUE(tc_mheap_verify());
}

#define N 20000
static void *objs[N];

static void *freer(void *arg) {
    (void)arg;
    for (int i = 0; i < N; i++) tc_free(objs[i], "free()");
    return NULL;
}

TEST(remote_frees_come_back_to_the_allocating_thread) {
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < N; i++) {
            objs[i] = tc_alloc(32 + (i % 7) * 16, SPAN_MANUAL);
            ASSERT_TRUE(objs[i] != NULL);
            memset(objs[i], 0x5a, 32);
        }
        pthread_t t;
        ASSERT_TRUE(pthread_create(&t, NULL, freer, NULL) == 0);
        pthread_join(t, NULL);
    }
    struct gc_stats st = GC_STATS_INIT;
    gc_read_stats(&st);
    /* 5 rounds of 20000 objects of <= 128 B fit in far fewer spans than one
     * round needs twice over: remote frees were reused. */
    EXPECT_TRUE(st.heap_inuse < (8u << 20));
    EXPECT_TRUE(tc_mheap_verify());
}

/* Another thread's frees of objects in a span this thread's P owns are
 * merged into its free bin when it next refills: the mallocs after that
 * get them back from the bin, the statistics count each operation once,
 * and a second free of one still waiting there is a double free, from
 * either thread. */
#define M 600
static void *mobjs[M];

static void *free_mobjs(void *arg) {
    (void)arg;
    for (int i = 0; i < M; i++) EXPECT_TRUE(tc_free(mobjs[i], "free()"));
    return NULL;
}

static void *free_again(void *arg) {
    EXPECT_TRUE(!tc_free(arg, "free()"));
    return NULL;
}

TC_INTERNAL uint64_t tc_alloc_nofree_p(unsigned sc, uint64_t *large_bytes);

/* Objects of class sc allocated and freed so far, as the statistics
 * count them (pthread_create mallocs too, so not the totals). */
static void class_counts(unsigned sc, uint64_t *m, uint64_t *f) {
    *m = 0;
    *f = tc_alloc_nofree_p(sc, NULL);
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink) {
        *m += pp->stats.nmalloc[sc] + tc_freebin_pops(&pp->mcache, sc);
        *f += pp->stats.nfree[sc] + pp->mcache.free[sc].npush;
    }
}

static int was_freed(void *p) {
    for (int i = 0; i < M; i++)
        if (mobjs[i] == p) return 1;
    return 0;
}

TEST(remote_frees_merge_into_the_owners_bin) {
    /* A class no test before uses, so its bin holds nothing else; its bin
     * takes fewer than M objects, so a merge fills it and frees the rest
     * in allocBits. */
    const size_t sz = 320;
    unsigned sc = tc_size_to_class(sz);
    struct freebin *b = &tc_tls_p->mcache.free[sc];
    ASSERT_TRUE(b->n == 0 && b->cap < M);
    uint64_t m0, f0, m1, f1;
    class_counts(sc, &m0, &f0);
    for (int i = 0; i < M; i++) ASSERT_TRUE((mobjs[i] = tc_alloc(sz, SPAN_MANUAL)) != NULL);
    pthread_t t;
    ASSERT_TRUE(pthread_create(&t, NULL, free_mobjs, NULL) == 0);
    pthread_join(t, NULL);
    /* Allocate until a freed object comes back: the span in use runs out
     * (within one span's slots), the refill merges. */
    static void *got[2 * M];
    int n = 0, back = -1;
    while (n < 2 * M && back < 0) {
        ASSERT_TRUE((got[n] = tc_alloc(sz, SPAN_MANUAL)) != NULL);
        if (was_freed(got[n])) back = n;
        n++;
    }
    ASSERT_TRUE(back >= 0);
    EXPECT_TRUE(b->n > 0); /* the rest of the merged objects wait in the bin */
    struct binent e = b->items[b->n - 1];
    EXPECT_TRUE(was_freed(e.p));
    struct mspan *s = tc_spanof((uintptr_t)e.p);
    int exact;
    EXPECT_TRUE(tc_mspan_inbin(s, tc_mspan_index(s, (uintptr_t)e.p, &exact)));
    tc_opts.badfree = BADFREE_WARN;
    EXPECT_TRUE(!tc_free(e.p, "free()")); /* its owner frees it again */
    ASSERT_TRUE(pthread_create(&t, NULL, free_again, e.p) == 0);
    pthread_join(t, NULL);                /* and so does another thread */
    tc_opts.badfree = BADFREE_ABORT;
    EXPECT_TRUE(tc_free_fast(tc_alloc(sz, SPAN_MANUAL))); /* the bin's top, freed */
    for (int i = 0; i < n; i++) EXPECT_TRUE(tc_free(got[i], "free()"));
    class_counts(sc, &m1, &f1);
    EXPECT_EQ_U(m1 - m0, (uint64_t)(M + n + 1));
    EXPECT_EQ_U(f1 - f0, (uint64_t)(M + n + 1));
    EXPECT_TRUE(tc_mheap_verify());
}

TEST(aligned_small_requests_use_a_fitting_class) {
    for (size_t align = 16; align <= 8192; align *= 2)
        for (size_t size = 1; size < 3 * align; size += align / 3 + 1) {
            void *p = tc_alloc_slow(size, SPAN_MANUAL, 0, align);
            ASSERT_TRUE(p != NULL);
            EXPECT_EQ_U((uintptr_t)p % align, 0);
            EXPECT_TRUE(tc_usable_size(p, "test") >= size);
            tc_free(p, "free()");
        }
    void *p = tc_alloc_slow(100, SPAN_MANUAL, 0, 1u << 20);
    EXPECT_EQ_U((uintptr_t)p % (1u << 20), 0);
    tc_free(p, "free()");
}

TEST(realloc_keeps_contents_and_grows_large_objects_in_place) {
    int bad;
    char *p = tc_alloc(40, SPAN_MANUAL);
    for (int i = 0; i < 40; i++) p[i] = (char)i;
    p = tc_realloc(p, 44, &bad); /* same class: in place */
    char *q = tc_realloc(p, 5000, &bad);
    for (int i = 0; i < 40; i++) EXPECT_EQ_U(q[i], (char)i);
    char *big = tc_alloc(40000, SPAN_MANUAL);
    tc_free(tc_alloc(1u << 22, SPAN_MANUAL), "free()"); /* leave free pages */
    char *grown = tc_realloc(big, 80000, &bad);
    EXPECT_TRUE(grown != NULL);
    tc_free(q, "free()");
    tc_free(grown, "free()");
}

TEST(stats_add_up) {
    struct gc_stats a = GC_STATS_INIT, b = GC_STATS_INIT;
    gc_read_stats(&a);
    void *v[100];
    for (int i = 0; i < 100; i++) v[i] = tc_alloc(200, SPAN_MANUAL);
    gc_read_stats(&b);
    EXPECT_EQ_U(b.nmalloc - a.nmalloc, 100);
    EXPECT_EQ_U(b.total_alloc - a.total_alloc, 100 * tc_class_size(tc_size_to_class(200)));
    EXPECT_EQ_U(b.sys, b.heap_sys + b.metadata_sys);
    EXPECT_TRUE(b.alloc_bytes >= a.alloc_bytes + 100 * 200);
    for (int i = 0; i < 100; i++) tc_free(v[i], "free()");
    gc_read_stats(&b);
    EXPECT_EQ_U(b.nfree - a.nfree, 100);
    EXPECT_TRUE(b.heap_released <= b.heap_free);
    EXPECT_TRUE(b.heap_inuse + b.heap_free == b.heap_sys);
    EXPECT_TRUE(b.nprocs >= 1);
}

/* The size field: a caller built with a shorter struct gets only its part. */
TEST(stats_fill_only_the_callers_size) {
    struct gc_stats st = GC_STATS_INIT;
    memset(&st, 0xAB, sizeof st);
    st.size = offsetof(struct gc_stats, nfree);
    EXPECT_EQ_U(gc_read_stats(&st), 0);
    EXPECT_EQ_U(st.size, offsetof(struct gc_stats, nfree));
    EXPECT_TRUE(st.nmalloc > 0 && st.nmalloc != 0xABABABABABABABABull);
    EXPECT_EQ_U(st.nfree, 0xABABABABABABABABull);
    EXPECT_EQ_U(st.gc_trigger, 0xABABABABABABABABull);
    st.size = 0;
    EXPECT_EQ_U(gc_read_stats(&st), (uint64_t)-1);
    EXPECT_EQ_U(st.nfree, 0xABABABABABABABABull);
}

TC_TEST_MAIN()
