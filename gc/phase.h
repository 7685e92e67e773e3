/* gc/phase.h: the collector's phase, which every gc module reads.
 *
 * GC_OFF (no barrier; sweeping may be under way), GC_MARKSTART (barrier
 * on, allocate white, nothing scanned yet: while the collector waits for
 * every thread to see the barrier, gc/cycle.c), GC_MARK (barrier on,
 * allocate black, roots and heap marked concurrently), GC_MARKTERM (world
 * stopped, marking finished). A thread reads the phase inside a gc region
 * (gc/stw.h); OFF -> MARKSTART -> MARK change while threads run, MARK ->
 * MARKTERM -> OFF only while the world is stopped. */
#ifndef TC_GC_PHASE_H
#define TC_GC_PHASE_H

#include "alloc/base.h"

enum gcphase { GC_OFF = 0, GC_MARKSTART = 1, GC_MARK = 2, GC_MARKTERM = 3 };
/* enum gcphase; written by the collector thread (gc/cycle.c). */
TC_INTERNAL extern _Atomic int tc_gcphase;

#endif
