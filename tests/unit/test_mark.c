/* tests/unit/test_mark.c: the marker's object lookup (gc/mark.h,
 * tc_find_object) and greying (gc/mark.c).
 *
 *   find_object_checks_span_start: a page-table entry that points to a
 *     span struct now describing a span at a higher address (a malloc'd
 *     span freed and its struct reused under a preempted marker) yields no
 *     object, instead of an index computed from a wrapped offset.
 *   find_object_bounds: interior pointers find their slot; pointers past
 *     the last slot, into free slots, or into malloc'd memory find none.
 *   tree_all_marked: a forced cycle over a binary tree of 24-byte nodes
 *     traces at least the whole tree (run with the checkmark, which
 *     aborts on a reachable object left white): the grey set loses no
 *     entry between the marker's batches, its stack and the global list.
 *   oblets_all_marked: the same for small objects reached only from a
 *     1 MiB array, scanned as oblets whose entries carry their sizes. */
#include <stdlib.h>

#include "alloc/mheap.h"
#include "alloc/mspan.h"
#include "gc/mark.h"
#include "harness.h"
#include "tricolor.h"

TEST(find_object_checks_span_start) {
    /* two collected spans, b at a higher address than a */
    void *a = gc_alloc(4096), *b = NULL;
    for (int i = 0; i < 64 && (!b || tc_spanof((uintptr_t)b) == tc_spanof((uintptr_t)a) ||
                               (uintptr_t)b < (uintptr_t)a);
         i++)
        b = gc_alloc(4096);
    struct mspan *sa = tc_spanof((uintptr_t)a), *sb = tc_spanof((uintptr_t)b);
    ASSERT_TRUE(sa && sb && sa != sb && sb->startAddr >= sa->limit);
    unsigned idx;
    ASSERT_TRUE(tc_find_object((uintptr_t)a + 8, &idx) == sa);
    struct heaparena *ha = tc_arenaof((uintptr_t)a);
    _Atomic(struct mspan *) *entry = &ha->spans[tc_arena_page((uintptr_t)a)];
    atomic_store(entry, sb); /* the stale struct, as a racing marker sees it */
    struct mspan *found = tc_find_object((uintptr_t)a + 8, &idx);
    atomic_store(entry, sa);
    EXPECT_TRUE(found == NULL);
    gc_keepalive(a);
    gc_keepalive(b);
}

TEST(find_object_bounds) {
    char *p = gc_alloc(100); /* a 112-byte slot */
    unsigned idx;
    struct mspan *s = tc_find_object((uintptr_t)p + 99, &idx);
    ASSERT_TRUE(s != NULL);
    EXPECT_TRUE(s->startAddr + (uintptr_t)idx * s->elemsize == (uintptr_t)p);
    EXPECT_TRUE(tc_find_object(s->limit, &idx) != s);
    char *m = malloc(100);
    EXPECT_TRUE(tc_find_object((uintptr_t)m, &idx) == NULL);
    free(m);
    gc_keepalive(p);
}

struct node {
    struct node *l, *r;
    uintptr_t depth;
};

static struct node *build(unsigned depth) {
    struct node *n = gc_alloc(sizeof *n);
    n->depth = depth;
    if (depth) {
        gc_store((void **)&n->l, build(depth - 1));
        gc_store((void **)&n->r, build(depth - 1));
    }
    return n;
}

static long check(const struct node *n, uintptr_t depth) {
    if (!n) return 0;
    if (n->depth != depth) return -1000000;
    return 1 + check(n->l, depth - 1) + check(n->r, depth - 1);
}

static struct node *tree_root;

/* Bytes the last forced cycle traced. */
static uint64_t traced_by_collect(void) {
    struct gc_stats a = GC_STATS_INIT, b = GC_STATS_INIT;
    gc_read_stats(&a);
    gc_collect();
    gc_read_stats(&b);
    return b.gc_marked_bytes_total - a.gc_marked_bytes_total;
}

TEST(tree_all_marked) {
    const unsigned depth = 16; /* 131071 nodes, 3 MiB */
    gc_store((void **)&tree_root, build(depth));
    for (int i = 0; i < 3; i++) {
        uint64_t traced = traced_by_collect();
        EXPECT_TRUE(traced >= ((uint64_t)2 << depth) * 24 - 24);
        EXPECT_TRUE(check(tree_root, depth) == (2L << depth) - 1);
    }
    gc_store((void **)&tree_root, NULL);
}

static void **big;

TEST(oblets_all_marked) {
    const size_t n = (1u << 20) / sizeof(void *) + 77; /* past 8 oblets */
    gc_store((void **)&big, gc_alloc(n * sizeof(void *)));
    for (size_t i = 0; i < n; i++) {
        uintptr_t *o = gc_alloc(24);
        o[0] = i;
        gc_store(&big[i], o);
    }
    for (int r = 0; r < 2; r++) {
        uint64_t traced = traced_by_collect();
        EXPECT_TRUE(traced >= n * sizeof(void *) + n * 24);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) bad += ((uintptr_t *)big[i])[0] != i;
        EXPECT_TRUE(bad == 0);
    }
    gc_store((void **)&big, NULL);
}

TC_TEST_MAIN()
