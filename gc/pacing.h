/* gc/pacing.h: the pacer at work in the running program (gc/pacing.c):
 * its commits, the scavenger's goal, the CPU limiter's feed. */
#ifndef TC_GC_PACING_H
#define TC_GC_PACING_H

#include <stdint.h>

#include "alloc/base.h"

/* Start-up: GOGC (percent), GOMEMLIMIT (bytes, or TC_PACER_NO_LIMIT), now
 * (tc_nanotime); GOMAXPROCS from tc_gc_procs. */
TC_INTERNAL void tc_pacing_init(int32_t gcpercent, int64_t memlimit, uint64_t now);
/* Collector thread, as marking begins: the pacer's cycle starts. */
TC_INTERNAL void tc_pacing_mark_start(uint64_t now);
/* Marking (any marker, every ms): revise the assist ratio, feed the CPU
 * limiter. */
TC_INTERNAL void tc_gc_pace_tick(uint64_t now);
/* Mark termination, world stopped: close the pacer's cycle (mark end at
 * now, bytes live and traced) and note the cycle's peak heap; no trigger
 * until the next tc_pacing_commit. */
TC_INTERNAL void tc_pacing_mark_end_stopped(uint64_t now, uint64_t live, uint64_t traced);
/* Commit the pacer and tell the scavenger: collector thread after the
 * world restarts, or inside a gc region. Takes the pacer lock. */
TC_INTERNAL void tc_pacing_commit(void);
/* With a memory limit, commit again if the memory outside the collected
 * heap has moved since the last commit (allocation, inside a region). */
TC_INTERNAL void tc_pacing_limit_poll(void);
/* Give the limiter the GC CPU used since its last update, plus stw_ns of
 * stopped time on every P. Collector thread. */
TC_INTERNAL void tc_pacing_limiter_tick(uint64_t now, uint64_t stw_ns);
/* This cycle's GC CPU time so far (ns): assists and workers, idle excluded. */
TC_INTERNAL uint64_t tc_pacing_cycle_gc_cpu(void);
TC_INTERNAL void tc_pacing_after_fork_child(void);

#endif
