/* gc/hooks.h: the only doors from alloc/ into the collector.
 *
 * alloc/ knows nothing of marking; it calls these at the few points where
 * the collector must act: when collected memory is handed out (pacing and
 * mark assists), when an mcentral needs a swept span (sweep on demand),
 * and when a gc region ends with a stop pending (alloc/region.h); and it
 * borrows the collector's way of starting a thread of its own. */
#ifndef TC_GC_HOOKS_H
#define TC_GC_HOOKS_H

#include <pthread.h>
#include <stdint.h>

#include "alloc/base.h"
#include "alloc/mspan.h"

enum sweep_result { SWEEP_EMPTY, SWEEP_PARTIAL, SWEEP_FULL };

/* Sweep generation h (mspan.sweepgen is relative to it); even; +2 at
 * every mark termination, with the world stopped. */
TC_INTERNAL extern uint32_t tc_sweepgen;

/* Sweep collected span s: its mcentral lock is held, s is on no list and
 * cached by no P, s->sweepgen == h-2. Mark bits become alloc bits. */
TC_INTERNAL enum sweep_result tc_sweep_span(struct mspan *s);

/* bytes of collected memory were just handed to a P (a span refill or a
 * large object; scan: of a span that is scanned): pacing may start a
 * cycle; during mark the bytes become the thread's assist debt, paid
 * after its region (gc_alloc). Called inside a gc region. */
TC_INTERNAL void tc_gc_note_alloc(uint64_t bytes, int scan);

/* A thread of the runtime's own (not registered, every signal blocked,
 * through a sanitizer's pthread_create if one is loaded): gc/threads.c.
 * The scavenger's thread comes from here. */
TC_INTERNAL int tc_create_system_thread(pthread_t *tid, void *(*fn)(void *), void *arg);

/* gc_release_memory: a full cycle, swept, if gc_alloc was ever called;
 * then the mark work buffers it left empty go back to the OS. */
TC_INTERNAL void tc_gc_collect_if_used(void);

/* Fill the collector's fields of gc_read_stats. */
struct gc_stats;
TC_INTERNAL void tc_gc_read_stats(struct gc_stats *st);

#endif
