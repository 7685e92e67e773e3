/* gc/sweep.h: sweeping (gc/sweep.c; the span sweep itself is in gc/hooks.h). */
#ifndef TC_GC_SWEEP_H
#define TC_GC_SWEEP_H

#include <stdint.h>

#include "alloc/base.h"

TC_INTERNAL int tc_sweep_done(void);
TC_INTERNAL uint64_t tc_sweep_freed(void);
TC_INTERNAL uint64_t tc_sweep_freed_bytes(void);
/* World stopped: h += 2; every collected span goes to its mcentral's
 * unswept list (cached ones too); tiny blocks are dropped. */
TC_INTERNAL void tc_sweep_begin_stopped(void);

/* Sweep up to budget spans (collector thread, or a cycle's start);
 * returns how many it swept. */
TC_INTERNAL uint64_t tc_sweep_some(uint64_t budget);

#endif
