/* gc/barrier.c: the write barrier (Go's mbarrier.go and mwbbuf.go).
 *
 * The invariant. Marking runs while the program does, so the program can
 * move a pointer behind the marker's back: copy it into an object already
 * scanned (black) and delete it from where the marker would have found
 * it. The object it points to is then reachable but never shaded, and the
 * sweep frees it. The barrier keeps the weak tri-colour invariant: every
 * white object a black one points to is also reachable from some grey
 * object through white ones (its "grey protection").
 *
 * Two classic barriers keep it, each at a price. Yuasa's deletion barrier
 * shades the pointer being overwritten: nothing reachable at the start of
 * marking is lost (a snapshot), but only if stacks, whose stores run
 * without a barrier, are all scanned at once, at the start. Dijkstra's
 * insertion barrier shades the pointer being written: a black object
 * never points to a white one, but the same stores go unseen when they
 * are a stack's, so stacks must be scanned again, world stopped, at the
 * end (Go before 1.8). The hybrid barrier (Go's proposal 17503) does both:
 *
 *   gc_store(slot, value):  shade(*slot); shade(value); *slot = value;
 *
 * The design shades the value only while the current stack is grey (not
 * scanned yet); Go's implementation shades it always, which costs less
 * than finding out and leaves no race on a colour, and so does this one
 * (a C thread could not even tell its stack's colour).
 *
 * Why no stack is scanned twice. A stack already scanned holds only
 * shaded objects; a white one reaches it only as a load from the heap or
 * a global, and the stack can hide it only if every heap copy is then
 * overwritten, which the deletion half shades. A stack not scanned yet
 * may hold the only pointer to a white object and store it into a black
 * one, which the insertion half shades. Objects allocated while marking
 * are black from the start (below). Each stack is therefore scanned once
 * per cycle, one thread at a time, and mark termination scans none: it
 * only flushes the buffers (below), and its pause grows neither with the
 * heap nor with stack depth. Stores into a thread's own locals need no
 * barrier.
 *
 * Allocate-black (gc/api.c) completes it: an object handed out during
 * MARK is marked at once, holds no pointer yet, and every pointer later
 * written into it goes through this barrier. During MARKSTART (the barrier
 * already on in every thread, allocation still white) nothing is scanned
 * yet, so a white new object is found from a stack or through the barrier.
 *
 * Collector calls (regions). The barrier is a gc region (alloc/region.h):
 * a stop, a handshake, a phase change cannot fall between the phase check
 * and the store, or between shading and storing, so every store is seen
 * either wholly before or wholly after the collector switches the barrier
 * on, and the barrier's buffer is consistent whenever its thread stops.
 * The collector turns the barrier on (MARKSTART) and then waits, by a
 * handshake, until every thread has been outside its regions once, so
 * each thread's next region runs it, before any stack is scanned or any
 * object allocated black (gc/cycle.c, sweep termination).
 *
 * The buffer (Go's wbBuf). Shading needs the work queue's lock; doing it
 * per store would put a lock in every pointer write. So a store appends
 * both values to its thread's 128-entry buffer (gc/barrier.h, inline) and
 * a full buffer is flushed into the grey set in one marking context. Mark
 * termination flushes every thread's buffer with the world stopped, and
 * marking continues if that greyed anything (gc/cycle.c). A thread that
 * unregisters flushes its own.
 *
 * The fast path, phase OFF, is inline in include/tricolor.h: a region
 * entered and left by hand around the store, with the phase and the stop
 * request read through the constant pointers exported below. Bulk moves
 * (memmove, memclr, qsort) have their own barrier in gc/bulkbarrier.c. */
#include "alloc/region.h"
#include "gc/barrier.h"
#include "gc/mark.h"
#include "gc/phase.h"
#include "gc/stw.h"
#include "gc/threads.h"
#include "include/tricolor.h"

/* For the inline barrier in include/tricolor.h. */
TRICOLOR_API const volatile int *const gc_phase_p_ = (const volatile int *)&tc_gcphase;
TRICOLOR_API const volatile uint32_t *const gc_stop_poll_p_ =
    (const volatile uint32_t *)&tc_stop_poll;
TRICOLOR_API void gc_region_exit_slow_(void) { tc_gc_region_exit_slow(); }

/* The barrier's work inside its region: shade the old and the new
 * pointer while a cycle marks, then store. */
TC_INLINE void store_in_region(struct gthread *t, void **slot, void *value) {
    if (atomic_load_explicit(&tc_gcphase, memory_order_relaxed) != GC_OFF) {
        tc_wb_shade(&t->wbbuf, (uintptr_t)*slot); /* Yuasa: the pointer being deleted */
        tc_wb_shade(&t->wbbuf, (uintptr_t)value); /* Dijkstra: the pointer being inserted */
    }
    __atomic_store_n(slot, value, __ATOMIC_RELEASE); /* a publication (tricolor.h) */
}

/* The whole barrier, entering its region as any other: a thread's first
 * call (registration), a nested region, or a buffer that may fill up. */
static TC_NOINLINE void store_slow(void **slot, void *value) {
    struct gthread *t = tc_region_enter();
    store_in_region(t, slot, value);
    tc_region_end();
}

/* The outermost region entered (depth 1 stored) while a stop was asked
 * for or the fork gate was closed: the rest of tc_region_enter, then the
 * barrier. */
static TC_NOINLINE void store_entered_slow(struct gthread *t, void **slot, void *value) {
    if (atomic_load_explicit(&tc_stop_poll, memory_order_acquire)) tc_gc_region_enter_slow();
    atomic_signal_fence(memory_order_seq_cst);
    if (TC_UNLIKELY(atomic_load_explicit(&tc_fork_gate, memory_order_relaxed) != 0) &&
        tc_region_depth == 1)
        tc_fork_gate_wait();
    store_in_region(t, slot, value);
    tc_region_end();
}

/* Leaving the outermost region with a stop asked for. */
static TC_NOINLINE void store_exit_slow(void) { tc_gc_region_exit_slow(); }

/* The barrier when the inline fast path does not apply (the name in
 * parentheses: tricolor.h makes gc_store a macro for that path). Its
 * common case, a registered thread outside any region with room for two
 * entries in its buffer (a full one is flushed by tc_wb_shade, in
 * store_slow), makes no call and so needs no frame: it enters
 * the region as tc_region_enter does an outermost one (the stop poll and
 * the fork gate read after the depth is stored; either raised goes on in
 * store_entered_slow) and leaves it as tc_region_end does. */
TRICOLOR_API void(gc_store)(void **slot, void *value) {
    struct gthread *t = tc_gthread;
    if (TC_UNLIKELY(!t || tc_region_depth != 0 || t->wbbuf.n >= TC_WBBUF_ENTRIES - 2)) {
        store_slow(slot, value);
        return;
    }
    tc_region_depth = 1;
    atomic_signal_fence(memory_order_seq_cst);
    if (TC_UNLIKELY(atomic_load_explicit(&tc_stop_poll, memory_order_acquire) |
                    atomic_load_explicit(&tc_fork_gate, memory_order_relaxed))) {
        store_entered_slow(t, slot, value);
        return;
    }
    atomic_signal_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&tc_gcphase, memory_order_relaxed) != GC_OFF) {
        struct wbbuf *b = &t->wbbuf; /* two entries fit and leave it short of full */
        uintptr_t lo = tc_heap_lo, len = tc_heap_hi - lo, old = (uintptr_t)*slot;
        unsigned n = b->n;
        if (old - lo < len) b->buf[n++] = old;                           /* Yuasa */
        if ((uintptr_t)value - lo < len) b->buf[n++] = (uintptr_t)value; /* Dijkstra */
        b->n = n;
    }
    __atomic_store_n(slot, value, __ATOMIC_RELEASE); /* a publication (tricolor.h) */
    atomic_signal_fence(memory_order_seq_cst);
    __atomic_store_n(&tc_region_depth, 0, __ATOMIC_RELEASE);
    atomic_signal_fence(memory_order_seq_cst);
    if (TC_UNLIKELY(tc_region_pending | atomic_load_explicit(&tc_stop_poll, memory_order_relaxed)))
        store_exit_slow();
}

/* Outside marking the entries are stale (a flush at mark termination
 * found the buffer as the phase went OFF): dropped. */
void tc_wbbuf_flush(struct wbbuf *b) {
    if (!b->n) return;
    if (atomic_load_explicit(&tc_gcphase, memory_order_relaxed) != GC_OFF)
        tc_shade_batch(b->buf, b->n);
    b->n = 0;
}
