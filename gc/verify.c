/* gc/verify.c: Go's checkmark mode (GODEBUG=gccheckmark=1).
 *
 * After concurrent marking has finished, with the world still stopped,
 * walk the object graph again from every root, single-threaded and with a
 * private visited bitmap, and check the invariant marking must end with:
 * no root and no marked (black) object points to an unmarked (white)
 * object. A white object behind such an edge is a lost object, the bug a
 * concurrent collector must never have (a barrier or a root was missed),
 * so the report names it, its span and the root or object that led to it,
 * and aborts before the sweep can free it.
 *
 * Thread stacks are the one exception, because they are scanned
 * conservatively: a frame pushed after its thread was scanned starts out
 * holding whatever that stack memory held (an uninitialised slot, the
 * spilled vector registers of a signal frame), which can be the address
 * of an object that died long ago; the program never reads such a word,
 * so the collector may free that object. The check therefore follows
 * stack words into marked objects only. Pointers held only in stacks and
 * registers are covered by tests/gc/roots.c, and lost objects in general
 * by the torture test's own integrity walks.
 *
 * Runs during a stop, so it takes only locks a stopped thread cannot hold
 * (roots, finalizers: gc regions) and reads thread stacks from the stack
 * pointer each thread recorded when it stopped. Its memory comes from
 * mmap and goes back when it is done. */
#include <string.h>
#include <sys/mman.h>

#include "alloc/base.h"
#include "alloc/mheap.h"
#include "alloc/mspan.h"
#include "alloc/os.h"
#include "alloc/report.h"
#include "alloc/sizeclass.h"
#include "gc/cycle.h"
#include "gc/finalizer.h"
#include "gc/hooks.h"
#include "gc/mark.h"
#include "gc/roots.h"
#include "gc/stacks.h"
#include "gc/threads.h"
#include "gc/tls.h"
#include "gc/verify.h"

static uint8_t *visited;       /* 1 bit per 8 heap bytes from tc_heap_lo */
static uintptr_t *stack;       /* objects to scan */
static size_t nstack, stackcap;
static uintptr_t from;         /* the root or object being scanned */
static uintptr_t from_word;    /* the word that held the pointer */
static struct gthread *from_thread;

static int in_static_tls(struct gthread *t, uintptr_t w) {
    return t && w >= t->static_lo && w < t->static_hi;
}
static uint64_t checked;

static void *map(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) tc_fatal("gccheckmark: out of memory");
    return p;
}

static void push(uintptr_t obj) {
    if (nstack == stackcap) {
        size_t c = stackcap ? stackcap * 2 : 1 << 16;
        uintptr_t *n = tc_os_grow(stack, stackcap * sizeof *n, c * sizeof *n);
        if (!n) tc_fatal("gccheckmark: out of memory");
        stack = n;
        stackcap = c;
    }
    stack[nstack++] = obj;
}

static int strong; /* the words being scanned must point to marked objects */

static void visit(uintptr_t p) {
    unsigned idx;
    struct mspan *s = tc_find_object(p, &idx);
    if (!s) return;
    uintptr_t obj = s->startAddr + (uintptr_t)idx * s->elemsize;
    int marked = tc_mspan_marked(s, idx);
    if (!marked && !strong) return; /* a stale stack word (see above) */
    uintptr_t v = (obj - tc_heap_lo) / 8;
    if (visited[v / 8] & (1u << (v % 8))) return;
    visited[v / 8] |= (uint8_t)(1u << (v % 8));
    checked++;
    if (!marked)
        tc_fatal("gccheckmark: reachable object %p (span class %u, %zu bytes, slot %u of %u, "
                 "span sweepgen %u of %u, list %u, owner %p, gen %zu) is not marked; reached "
                 "from %p (word %p, thread %p, stack top %p, in static TLS %d)",
                 (void *)obj, (unsigned)s->spanclass, (size_t)s->elemsize, idx, (unsigned)s->nelems,
                 s->sweepgen, tc_sweepgen, (unsigned)s->list, (void *)atomic_load(&s->xowner),
                 (size_t)s->gen, (void *)from, (void *)from_word,
                 from_thread ? (void *)from_thread->tid : NULL,
                 from_thread ? (void *)from_thread->stack_hi : NULL,
                 in_static_tls(from_thread, from_word));
    if (tc_spanclass_kind(s->spanclass) == SPAN_SCAN) push(obj);
}

__attribute__((no_sanitize("address", "thread"))) static void scan(uintptr_t lo, uintptr_t hi) {
    from = lo;
    for (uintptr_t q = TC_ALIGN_UP(lo, 8); q + 8 <= hi; q += 8) {
        from_word = q;
        visit(*(uintptr_t *)q);
    }
}

static void drain(void) {
    strong = 1; /* everything on the stack is a marked object */
    while (nstack) {
        uintptr_t obj = stack[--nstack];
        struct mspan *s = tc_spanof(obj);
        scan(obj, obj + s->elemsize);
    }
}

static void visit_root_object(uintptr_t p) {
    from = p;
    visit(p);
}

void tc_checkmark(void) {
    if (tc_heap_hi <= tc_heap_lo) return;
    size_t bytes = (tc_heap_hi - tc_heap_lo) / 64 + 1;
    visited = map(bytes);
    checked = 0;
    strong = 1;
    tc_roots_lock();
    tc_roots_each(scan, visit_root_object);
    tc_user_stacks_each(scan);
    tc_roots_unlock();
    tc_finalizers_roots(scan, visit_root_object);
    tc_exit_values_each(scan);
    drain();
    for (struct gthread *t = tc_registry_first(); t; t = t->next) {
        if (t->dead) continue;
        from_thread = t;
        strong = 1;
        tc_thread_tls_each(t, scan);
        strong = 0;
        tc_roots_lock();
        tc_thread_stacks_each(t, scan);
        tc_roots_unlock();
        drain();
    }
    /* Linked statically, these are part of the program's data, which the
     * next cycle scans: they must not keep the last objects checked. */
    from_thread = NULL;
    from = from_word = 0;
    munmap(visited, bytes);
    visited = NULL;
    if (tc_gc_opts.gctrace) tc_print("gccheckmark: %zu reachable objects, all marked", (size_t)checked);
}
