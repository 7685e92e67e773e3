/* tests/unit/test_mark.c: the marker's object lookup (gc/mark.h,
 * tc_find_object) and greying (gc/mark.c).
 *
 *   find_object_checks_span_start: a page-table entry that points to a
 *     span struct now describing a span at a higher address (a malloc'd
 *     span freed and its struct reused under a preempted marker) yields no
 *     object, instead of an index computed from a wrapped offset.
 *   find_object_bounds: interior pointers find their slot; pointers past
 *     the last slot, into free slots, or into malloc'd memory find none. */
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

TC_TEST_MAIN()
