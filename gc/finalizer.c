/* gc/finalizer.c: Go's finalizers (runtime.SetFinalizer).
 *
 * The table maps an object's address to (fn, arg); it lives in mmap'd
 * memory, so it keeps nothing alive. Marking scans the contents of every
 * object that has a finalizer, but not the object itself: what it points
 * to survives until its finalizer has run (Go's markrootSpans). Sweeping a
 * span that holds such objects (mspan.hasfinal) moves each unmarked one to
 * the ready queue and marks it, so this sweep keeps it. The ready queue
 * is a root until the finalizer thread, a registered thread, has taken the
 * entry onto its own stack and run it; afterwards the object is freed by a
 * later cycle if nothing made it reachable again. Each finalizer runs
 * once: its entry leaves the table when it is queued. A finalizer's arg is
 * a root until the finalizer has run (C programs pass their context
 * there); a finalizer set while marking scans its object and shades its
 * arg at once, as the root scan would have.
 *
 * Locking: fin_lock, taken inside gc regions only (sweeps take it under an
 * mcentral lock: mcentral < fin_lock). */
#include <semaphore.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/lockrank.h"
#include "alloc/mheap.h"
#include "alloc/mspan.h"
#include "alloc/os.h"
#include "alloc/region.h"
#include "alloc/report.h"
#include "alloc/sizeclass.h"
#include "gc/finalizer.h"
#include "gc/mark.h"
#include "gc/park.h"
#include "gc/phase.h"
#include "gc/stw.h"
#include "include/tricolor.h"

struct finentry {
    uintptr_t obj; /* 0: empty slot; 1: deleted */
    gc_finalizer_fn fn;
    void *arg;
};

static pthread_mutex_t fin_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t fin_ready; /* counts queued entries; waited on outside regions */
static struct finentry *table; /* open addressing; fin_lock */
static size_t cap, used;       /* slots, live + deleted entries */
static struct finentry *ready; /* queue of entries to run; fin_lock */
static size_t nready, readycap;
static _Atomic uint64_t nrun;
static int thread_started;

static void *map(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) tc_fatal("out of memory for finalizers");
    return p;
}

static size_t slot_of(uintptr_t obj, size_t c) {
    return (size_t)((obj >> 3) * 0x9e3779b97f4a7c15ull >> 17) & (c - 1);
}

static struct finentry *find(uintptr_t obj) {
    if (!cap) return NULL;
    for (size_t i = slot_of(obj, cap);; i = (i + 1) & (cap - 1)) {
        if (table[i].obj == obj) return &table[i];
        if (table[i].obj == 0) return NULL;
    }
}

static void insert(struct finentry e);

static void grow(void) {
    struct finentry *old = table;
    size_t oldcap = cap;
    cap = cap ? cap * 2 : 1024;
    table = map(cap * sizeof *table);
    used = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].obj > 1) insert(old[i]);
    if (old) munmap(old, oldcap * sizeof *old);
}

static void insert(struct finentry e) {
    if ((used + 1) * 4 >= cap * 3) grow();
    size_t i = slot_of(e.obj, cap);
    while (table[i].obj > 1) i = (i + 1) & (cap - 1);
    if (table[i].obj == 0) used++;
    table[i] = e;
}

static void enqueue_ready(struct finentry e) {
    tc_os_vec_room((void **)&ready, &readycap, nready, sizeof *ready, 256, "finalizers");
    ready[nready++] = e;
}

/* ---- the finalizer thread ---- */

/* After a finalizer ran, its object's address may linger in scratch
 * registers and in the dead frames just below our stack pointer; a stop
 * while we wait for the next entry would scan both (the signal frame
 * saves the registers, the handler's frames reuse that stack), keeping the
 * object and all it points to alive for good. So wipe them. */
__attribute__((noinline)) static void wipe_stack_below(void) {
    volatile uintptr_t pad[512];
    for (size_t i = 0; i < sizeof pad / sizeof pad[0]; i++) pad[i] = 0;
    __asm__ volatile("" : : "r"(pad) : "memory");
}

static void forget_object(void) {
    wipe_stack_below();
#if defined(__x86_64__)
    __asm__ volatile("xor %%eax, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\t"
                     "xor %%esi, %%esi\n\txor %%edi, %%edi\n\txor %%r8d, %%r8d\n\t"
                     "xor %%r9d, %%r9d\n\txor %%r10d, %%r10d\n\txor %%r11d, %%r11d\n\t"
                     "pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2\n\t"
                     "pxor %%xmm3, %%xmm3\n\tpxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
                     "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7"
                     :
                     :
                     : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "xmm0",
                       "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "memory");
#elif defined(__aarch64__) /* the caller-saved registers, vector ones included */
    __asm__ volatile("mov x0, xzr\n\tmov x1, xzr\n\tmov x2, xzr\n\tmov x3, xzr\n\t"
                     "mov x4, xzr\n\tmov x5, xzr\n\tmov x6, xzr\n\tmov x7, xzr\n\t"
                     "mov x8, xzr\n\tmov x9, xzr\n\tmov x10, xzr\n\tmov x11, xzr\n\t"
                     "mov x12, xzr\n\tmov x13, xzr\n\tmov x14, xzr\n\tmov x15, xzr\n\t"
                     "mov x16, xzr\n\tmov x17, xzr\n\t"
                     "movi v0.16b, #0\n\tmovi v1.16b, #0\n\tmovi v2.16b, #0\n\t"
                     "movi v3.16b, #0\n\tmovi v4.16b, #0\n\tmovi v5.16b, #0\n\t"
                     "movi v6.16b, #0\n\tmovi v7.16b, #0"
                     :
                     :
                     : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
                       "x12", "x13", "x14", "x15", "x16", "x17", "v0", "v1", "v2", "v3", "v4",
                       "v5", "v6", "v7", "memory");
#endif
}

/* Run one queued finalizer. A function of its own, not inlined: the
 * object's address lives only in this frame and in registers it uses, so
 * when it returns the callee-saved registers hold the loop's values again
 * (a register kept alive across the call would otherwise hold the object
 * while we sleep, and the stop signal's frame would keep it forever). */
__attribute__((noinline)) static void run_one(void) {
    tc_region_begin();
    tc_lock(&fin_lock, LOCKRANK_FIN);
    struct finentry e = ready[--nready]; /* obj is on our stack now */
    tc_unlock(&fin_lock, LOCKRANK_FIN);
    tc_region_end();
    e.fn((void *)e.obj, e.arg);
    atomic_fetch_add(&nrun, 1);
    gc_keepalive((void *)e.obj);
}

static void *finalizer_main(void *arg) {
    (void)arg;
    for (;;) {
        while (tc_parked_sem_wait(&fin_ready) != 0) continue; /* no lock held */
        run_one();
        forget_object();
    }
    return NULL;
}

static void start_thread(void) {
    pthread_t tid;
    if (pthread_create(&tid, NULL, finalizer_main, NULL) != 0)
        tc_fatal("cannot start the finalizer thread");
    pthread_detach(tid);
}

/* ---- collector side ---- */

/* What finalizers keep alive: scan() the contents (not the object) of
 * every object with a finalizer and every finalizer's arg, object() every
 * queued one. The marker
 * and the checkmark walk the same roots through this one function. */
void tc_finalizers_roots(void (*scan)(uintptr_t lo, uintptr_t hi), void (*object)(uintptr_t p)) {
    tc_lock(&fin_lock, LOCKRANK_FIN);
    for (size_t i = 0; i < cap; i++) {
        if (table[i].obj <= 1) continue;
        struct mspan *s = tc_spanof(table[i].obj);
        if (s && tc_spanclass_kind(s->spanclass) == SPAN_SCAN)
            scan(table[i].obj, table[i].obj + s->elemsize);
        scan((uintptr_t)&table[i].arg, (uintptr_t)(&table[i].arg + 1));
    }
    for (size_t i = 0; i < nready; i++) {
        object(ready[i].obj);
        scan((uintptr_t)&ready[i].arg, (uintptr_t)(&ready[i].arg + 1));
    }
    tc_unlock(&fin_lock, LOCKRANK_FIN);
}

void tc_finalizers_mark(void) {
    tc_region_begin();
    tc_finalizers_roots(tc_scan_range, tc_shade);
    tc_region_end();
}

void tc_finalizers_sweep(struct mspan *s) {
    tc_lock(&fin_lock, LOCKRANK_FIN);
    for (unsigned w = 0; w < s->nwords && used; w++) {
        uint64_t dead = tc_bits_load(&s->allocBits[w]) & ~tc_mspan_mark_word(s, w);
        while (dead) {
            unsigned idx = w * 64 + (unsigned)__builtin_ctzll(dead);
            dead &= dead - 1;
            if (idx >= s->nelems) break;
            struct finentry *e = find(s->startAddr + (uintptr_t)idx * s->elemsize);
            if (!e) continue;
            enqueue_ready(*e);
            e->obj = 1; /* deleted */
            tc_mspan_set_marked(s, idx); /* revive */
            sem_post(&fin_ready);
        }
    }
    tc_unlock(&fin_lock, LOCKRANK_FIN);
}

uint64_t tc_finalizers_run_count(void) { return atomic_load(&nrun); }


void tc_finalizers_after_fork_child(void) {
    pthread_mutex_init(&fin_lock, NULL);
    sem_init(&fin_ready, 0, (unsigned)nready);
    thread_started = 0; /* restarted at the next gc_set_finalizer */
}

/* ---- the API ---- */

TRICOLOR_API void gc_set_finalizer(void *obj, gc_finalizer_fn fn, void *arg) {
    uintptr_t p = (uintptr_t)obj;
    struct mspan *s = tc_spanof(p);
    int exact = 0;
    if (s && s->state == MSPAN_INUSE && tc_spanclass_kind(s->spanclass) != SPAN_MANUAL &&
        p < s->limit)
        tc_mspan_index(s, p, &exact);
    if (!exact) {
        tc_print("tricolor: gc_set_finalizer(): %p is not the start of a collected object", obj);
        return;
    }
    tc_region_enter();
    /* Marking already scanned the finalizer roots: do now what they would
     * have done for this object (Go's addfinalizer), or what it points to
     * could be freed while it is kept for its finalizer. */
    if (fn && atomic_load_explicit(&tc_gcphase, memory_order_relaxed) != GC_OFF) {
        if (tc_spanclass_kind(s->spanclass) == SPAN_SCAN) tc_scan_range(p, p + s->elemsize);
        tc_shade((uintptr_t)arg);
    }
    tc_lock(&fin_lock, LOCKRANK_FIN);
    struct finentry *e = find(p);
    if (!fn) {
        if (e) e->obj = 1;
    } else if (e) {
        e->fn = fn, e->arg = arg;
    } else {
        insert((struct finentry){p, fn, arg});
        __atomic_store_n(&s->hasfinal, 1, __ATOMIC_RELAXED); /* sweepers read it unlocked */
    }
    int start = fn && !thread_started;
    if (start) {
        thread_started = 1;
        sem_init(&fin_ready, 0, (unsigned)nready);
    }
    tc_unlock(&fin_lock, LOCKRANK_FIN);
    tc_region_end();
    if (start) start_thread();
}
