/* gc/verify.c: Go's checkmark mode (GODEBUG=gccheckmark=1).
 *
 * After concurrent marking has finished, with the world still stopped,
 * walk the whole object graph again from every root, single-threaded and
 * with a private visited bitmap, and check that every object it reaches
 * carries a mark bit. An unmarked reachable object is exactly the bug a
 * concurrent collector must never have (a lost object: the barrier or a
 * root was missed), so the report names the object, its span class and
 * the root or object that led to it, and aborts before the sweep can free
 * it.
 *
 * Runs during a stop, so it takes only locks a stopped thread cannot hold
 * (roots, finalizers: gc regions) and reads thread stacks from the stack
 * pointer each thread recorded when it stopped. Its memory comes from
 * mmap and goes back when it is done. */
#include <string.h>
#include <sys/mman.h>

#include "alloc/mheap.h"
#include "alloc/report.h"
#include "gc/gc.h"

static uint8_t *visited;       /* 1 bit per 8 heap bytes from tc_heap_lo */
static uintptr_t *stack;       /* objects to scan */
static size_t nstack, stackcap;
static uintptr_t from;         /* the root or object being scanned */
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
        uintptr_t *n = map(c * sizeof *n);
        if (stack) {
            memcpy(n, stack, nstack * sizeof *n);
            munmap(stack, stackcap * sizeof *n);
        }
        stack = n;
        stackcap = c;
    }
    stack[nstack++] = obj;
}

static void visit(uintptr_t p) {
    if (p - tc_heap_lo >= tc_heap_hi - tc_heap_lo) return;
    struct mspan *s = tc_spanof(p);
    if (!s || s->state != MSPAN_INUSE || p >= s->limit) return;
    enum span_kind kind = tc_spanclass_kind(s->spanclass);
    if (kind == SPAN_MANUAL) return;
    unsigned idx = (unsigned)(((p - s->startAddr) * s->divMul) >> 32);
    uint64_t bit = 1ull << (idx & 63);
    if (!(tc_bits_load(&s->allocBits[idx >> 6]) & bit)) return;
    uintptr_t obj = s->startAddr + (uintptr_t)idx * s->elemsize;
    uintptr_t v = (obj - tc_heap_lo) / 8;
    if (visited[v / 8] & (1u << (v % 8))) return;
    visited[v / 8] |= (uint8_t)(1u << (v % 8));
    checked++;
    if (!(tc_bits_load(&s->gcmarkBits[idx >> 6]) & bit))
        tc_fatal("gccheckmark: reachable object %p (span class %u, %zu bytes) is not marked; "
                 "reached from %p",
                 (void *)obj, (unsigned)s->spanclass, (size_t)s->elemsize, (void *)from);
    if (kind == SPAN_SCAN) push(obj);
}

__attribute__((no_sanitize("address", "thread"))) static void scan(uintptr_t lo, uintptr_t hi) {
    from = lo;
    for (uintptr_t q = TC_ALIGN_UP(lo, 8); q + 8 <= hi; q += 8) visit(*(uintptr_t *)q);
}

static void drain(void) {
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
    tc_roots_lock();
    tc_roots_each(scan, visit_root_object);
    tc_roots_unlock();
    drain();
    for (struct gthread *t = tc_registry_first(); t; t = t->next) {
        scan(t->sp, t->stack_hi);
        for (unsigned i = 0; i < t->ntls; i++) scan(t->tls[i][0], t->tls[i][1]);
        drain();
    }
    tc_checkmark_finalizers(scan, visit_root_object);
    drain();
    munmap(visited, bytes);
    visited = NULL;
    if (tc_gc_opts.gctrace) tc_print("gccheckmark: %zu reachable objects, all marked", (size_t)checked);
}
