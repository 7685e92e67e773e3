/* Unit test for alloc/mheap.c: carving, coalescing, alignment, in-place
 * growth and scavenging, with the heap verifier after every step. */
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "alloc/mheap.h"
#include "harness.h"

#define LARGE_MANUAL tc_spanclass(0, SPAN_MANUAL)

#define rss_bytes tc_rss

TEST(spans_map_every_page_and_free_coalesces) {
    tc_ensure_init();
    struct mspan *s[64];
    unsigned seed = 7;
    for (int i = 0; i < 64; i++) {
        seed = seed * 1103515245u + 12345u;
        uintptr_t n = 1 + (seed >> 16) % 200;
        s[i] = tc_mheap_alloc(n, LARGE_MANUAL, 1);
        ASSERT_TRUE(s[i] != NULL);
        EXPECT_EQ_U(s[i]->npages, n);
        for (uintptr_t a = s[i]->startAddr; a < s[i]->startAddr + n * TC_PAGE_SIZE; a += 4096)
            if (tc_spanof(a) != s[i]) { TC_FAIL_("page not mapped to its span"); return; }
    }
    EXPECT_TRUE(tc_mheap_verify());
    for (int i = 0; i < 64; i += 2) tc_mheap_free(s[i]);
    EXPECT_TRUE(tc_mheap_verify());
    for (int i = 1; i < 64; i += 2) tc_mheap_free(s[i]);
    EXPECT_TRUE(tc_mheap_verify());
}

TEST(aligned_spans_are_aligned) {
    for (uintptr_t align = 1; align <= 256; align *= 2) {
        struct mspan *s = tc_mheap_alloc(3, LARGE_MANUAL, align);
        ASSERT_TRUE(s != NULL);
        EXPECT_EQ_U(s->startAddr % (align * TC_PAGE_SIZE), 0);
        EXPECT_TRUE(tc_mheap_verify());
        tc_mheap_free(s);
    }
    EXPECT_TRUE(tc_mheap_verify());
}

/* Remote freers set remoteBits with atomic ORs and owners exchange them:
 * two spans' words in one cache line would bounce it between threads
 * that share neither span. Spans with at most 64 slots have one word. */
TEST(remote_bits_have_lines_of_their_own) {
    tc_ensure_init();
    enum { N = 16 };
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) {
        struct mspan *s[N];
        for (int i = 0; i < N; i++) {
            s[i] = tc_mheap_alloc(tc_class_to_npages[sc], tc_spanclass(sc, SPAN_MANUAL), 1);
            ASSERT_TRUE(s[i] != NULL);
        }
        for (int i = 0; i < N; i++) {
            uintptr_t lo = (uintptr_t)s[i]->remoteBits, hi = lo + 8u * s[i]->nwords - 1;
            if (lo % 64) TC_FAIL_("class %u: remoteBits at %#lx, not line aligned", sc, (unsigned long)lo);
            for (int j = 0; j < N; j++) {
                uintptr_t o = (uintptr_t)s[j]->remoteBits;
                if (j != i && o / 64 >= lo / 64 && o / 64 <= hi / 64)
                    TC_FAIL_("class %u: two spans' remoteBits share a line", sc);
            }
        }
        for (int i = 0; i < N; i++) tc_mheap_free(s[i]);
    }
    EXPECT_TRUE(tc_mheap_verify());
}

TEST(grow_in_place_takes_the_free_pages_after) {
    struct mspan *a = tc_mheap_alloc(4, LARGE_MANUAL, 1);
    struct mspan *b = tc_mheap_alloc(4, LARGE_MANUAL, 1);
    ASSERT_TRUE(a && b);
    if (b->startAddr == a->startAddr + 4 * TC_PAGE_SIZE) {
        EXPECT_TRUE(!tc_mheap_grow_inplace(a, 6)); /* b is in the way */
        tc_mheap_free(b);
        EXPECT_TRUE(tc_mheap_grow_inplace(a, 6));
        EXPECT_EQ_U(a->npages, 6);
        EXPECT_EQ_U(a->elemsize, 6 * TC_PAGE_SIZE);
        EXPECT_TRUE(tc_spanof(a->startAddr + 5 * TC_PAGE_SIZE) == a);
    } else {
        tc_mheap_free(b);
    }
    EXPECT_TRUE(tc_mheap_verify());
    tc_mheap_free(a);
    EXPECT_TRUE(tc_mheap_verify());
}

/* The scavenger thread releases what is over 64 MiB of free resident
 * pages (alloc/scavenge.c), within a few seconds. */
TEST(large_free_returns_memory_to_the_os) {
    if (TC_TSAN) { /* its shadow of the 256 MiB stays resident after the release */
        printf("skip: the resident size under ThreadSanitizer\n");
        return;
    }
    uint64_t before = rss_bytes();
    struct mspan *s = tc_mheap_alloc((256u << 20) / TC_PAGE_SIZE, LARGE_MANUAL, 1);
    ASSERT_TRUE(s != NULL);
    memset((void *)s->startAddr, 1, 256u << 20);
    EXPECT_TRUE(rss_bytes() > before + (200u << 20));
    tc_mheap_free(s); /* far over the 64 MiB allowance */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        usleep(10000);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (rss_bytes() > before + (72u << 20) && t.tv_sec - t0.tv_sec < 10);
    EXPECT_TRUE(rss_bytes() <= before + (72u << 20));
    EXPECT_TRUE(rss_bytes() >= before + (56u << 20)); /* the allowance is kept */
    EXPECT_TRUE(tc_mheap_verify());
    tc_mheap_scavenge(0);
    EXPECT_EQ_U(tc_mheap_.pagesReleased, tc_mheap_.pagesFree);
    EXPECT_TRUE(tc_mheap_verify());
}

/* Part of a free span released, the rest resident: the counts follow
 * the pages through coalescing, release and reuse (tc_mheap_verify checks
 * each span's count against its pages' bits, and their sum). */
TEST(partly_released_spans_keep_count) {
    tc_mheap_scavenge(0);
    struct mheap *h = &tc_mheap_;
    struct mspan *s = tc_mheap_alloc(128, LARGE_MANUAL, 1);
    ASSERT_TRUE(s != NULL);
    EXPECT_EQ_U(s->needzero, 0); /* cut from released pages */
    memset((void *)s->startAddr, 7, 128 * TC_PAGE_SIZE);
    uintptr_t start = s->startAddr;
    tc_mheap_free(s); /* 128 resident pages, coalesced with released ones */
    EXPECT_TRUE(tc_mheap_verify());
    EXPECT_EQ_U(h->pagesFree - h->pagesReleased, 128);
    EXPECT_EQ_U(tc_mheap_release(64 * TC_PAGE_SIZE, UINT64_MAX), 64 * TC_PAGE_SIZE);
    EXPECT_EQ_U(h->pagesFree - h->pagesReleased, 64);
    EXPECT_TRUE(tc_mheap_verify());
    /* The top half went: those pages read zero again, the rest kept its 7s. */
    const unsigned char *p = (const unsigned char *)start;
    EXPECT_EQ_U(p[64 * TC_PAGE_SIZE - 1], 7);
    EXPECT_EQ_U(p[64 * TC_PAGE_SIZE], 0);
    struct mspan *a = tc_mheap_alloc(100, LARGE_MANUAL, 1), *b = tc_mheap_alloc(3, LARGE_MANUAL, 1);
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(tc_mheap_verify());
    tc_mheap_free(a);
    tc_mheap_free(b);
    EXPECT_TRUE(tc_mheap_verify());
    tc_mheap_scavenge(0);
    EXPECT_EQ_U(h->pagesFree, h->pagesReleased);
    EXPECT_TRUE(tc_mheap_verify());
}

TEST(scavenged_memory_is_known_zero) {
    tc_mheap_scavenge(0);
    struct mspan *s = tc_mheap_alloc(32, LARGE_MANUAL, 1);
    ASSERT_TRUE(s != NULL);
    EXPECT_EQ_U(s->needzero, 0);
    const unsigned char *p = (const unsigned char *)s->startAddr;
    for (size_t i = 0; i < 32 * TC_PAGE_SIZE; i += 511) ASSERT_TRUE(p[i] == 0);
    tc_mheap_free(s);
}

/* Whether any whole OS page inside [p, p + n) is resident (-1: none inside). */
static int any_resident(const void *p, size_t n) {
    uintptr_t lo = TC_ALIGN_UP((uintptr_t)p, 4096), hi = ((uintptr_t)p + n) & ~(uintptr_t)4095;
    if (hi <= lo) return -1;
    unsigned char vec[64];
    size_t pages = (hi - lo) / 4096;
    if (pages > sizeof vec) pages = sizeof vec;
    if (mincore((void *)lo, pages * 4096, vec) != 0) return -1;
    for (size_t i = 0; i < pages; i++)
        if (vec[i] & 1) return 1;
    return 0;
}

/* Pages released one at a time, each between two in use, and then
 * coalesced: the page-table entries inside the free span they form go
 * back to the OS with gc_release_memory's scavenge, as if the span had
 * been released whole. */
TEST(metadata_of_pages_released_piecemeal_goes_back) {
    enum { N = 4096 };
    static struct mspan *s[N];
    tc_mheap_scavenge(0);
    for (unsigned i = 0; i < N; i++) ASSERT_TRUE((s[i] = tc_mheap_alloc(1, LARGE_MANUAL, 1)) != NULL);
    uintptr_t lo = s[0]->startAddr;
    for (unsigned i = 1; i < N; i++)
        ASSERT_TRUE(s[i]->startAddr == lo + i * TC_PAGE_SIZE); /* one run, one arena */
    ASSERT_TRUE(tc_arenaof(lo) == tc_arenaof(lo + (N - 1) * TC_PAGE_SIZE));
    for (unsigned k = 0; k < 2; k++) { /* odd pages first, then even */
        for (unsigned i = !k; i < N; i += 2) tc_mheap_free(s[i]);
        tc_mheap_release(0, UINT64_MAX);
    }
    EXPECT_TRUE(tc_mheap_verify());
    struct heaparena *ha = tc_arenaof(lo);
    uintptr_t first = tc_arena_page(lo);
    EXPECT_TRUE(any_resident(&ha->spans[first + 1], (N - 2) * sizeof ha->spans[0]) == 1);
    tc_mheap_scavenge(0);
    EXPECT_TRUE(any_resident(&ha->spans[first + 1], (N - 2) * sizeof ha->spans[0]) == 0);
    EXPECT_TRUE(any_resident(&ha->pageinfo[first + 1], (N - 2) * sizeof ha->pageinfo[0]) == 0);
    EXPECT_TRUE(tc_mheap_verify());
}

TC_TEST_MAIN()
