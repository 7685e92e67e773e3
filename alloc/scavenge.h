/* alloc/scavenge.h: the background scavenger's policy (alloc/scavenge.c).
 *
 * How much resident free memory the heap keeps is decided here; the heap
 * (alloc/mheap.c) releases pages when asked, and wakes the scavenger when
 * a free leaves more than this allows. Targets are set by the collector
 * after each cycle and by gc_set_memory_limit; they are atomics read under
 * the heap lock. */
#ifndef TC_ALLOC_SCAVENGE_H
#define TC_ALLOC_SCAVENGE_H

#include <stdint.h>

#include "alloc/base.h"

/* Go's GOGC-based goal: retained heap (spans in use plus free resident
 * pages), bytes; 0 for none (before the first cycle, or GOGC=off). */
TC_INTERNAL void tc_scavenge_set_gc_goal(uint64_t retained);
/* The memory limit (INT64_MAX: none): what is mapped is kept under 95 %
 * of it. */
TC_INTERNAL void tc_scavenge_set_limit(int64_t bytes);
/* Heap lock held: resident free bytes beyond what the targets allow. */
TC_INTERNAL uint64_t tc_scavenge_excess_locked(void);
/* There is excess: have the scavenger thread release it (started on the
 * first call made outside any gc region). Outside the heap lock. */
TC_INTERNAL void tc_scavenge_wake(void);
TC_INTERNAL void tc_scavenge_after_fork_child(void);

#endif
