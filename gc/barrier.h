/* gc/barrier.h: the write barrier's per-thread buffer (Go's wbBuf).
 *
 * gc_store (gc/barrier.c) shades by appending to the calling thread's
 * buffer; a full buffer, a thread leaving, and mark termination (every
 * thread's, world stopped) flush it into the grey set. */
#ifndef TC_GC_BARRIER_H
#define TC_GC_BARRIER_H

#include <stdint.h>

#include "alloc/base.h"
#include "alloc/mheap.h"

/* Pointers per thread. Go's wbBuf holds 512, but Go flushes the buffers in
 * a ragged barrier before it stops the world; mark termination here
 * flushes every thread's buffer with the world stopped, so the pause grows
 * with what the buffers hold: up to 512 shades a thread made it 40-140 us
 * with four storing threads on two CPUs, 128 keeps it near 15-50 us. */
#define TC_WBBUF_ENTRIES 128

/* Pointers to shade. Written by its thread alone, inside a gc region; read
 * by the collector only while that thread is stopped. */
struct wbbuf {
    unsigned n;                         /* entries used */
    uintptr_t buf[TC_WBBUF_ENTRIES];    /* heap addresses, not yet greyed */
};

/* Grey every pointer in b if marking, and empty it (Go's wbBufFlush).
 * Its owner inside a gc region, or the collector with the owner stopped. */
TC_INTERNAL void tc_wbbuf_flush(struct wbbuf *b);

/* Queue p for shading if it may point into the heap (its owner, inside a
 * gc region, while the phase is not OFF). */
TC_INLINE void tc_wb_shade(struct wbbuf *b, uintptr_t p) {
    if (p - tc_heap_lo < tc_heap_hi - tc_heap_lo) {
        b->buf[b->n++] = p;
        if (TC_UNLIKELY(b->n == TC_WBBUF_ENTRIES)) tc_wbbuf_flush(b);
    }
}

#endif
