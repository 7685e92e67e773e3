/* bench/gc_workloads.h: what the two halves of the collector workloads
 * share (gc_workloads.c: trees, window, churn, the options and main;
 * gcw_memory.c: steady, memlimit, release). Both are built once per
 * implementation, and these macros are the only place the three differ:
 * -DGCW_TRICOLOR (gc_alloc, stores through gc_store), -DGCW_BOEHM (-lgc,
 * plain stores) or -DGCW_MALLOC (malloc/free). */
#ifndef TC_BENCH_GC_WORKLOADS_H
#define TC_BENCH_GC_WORKLOADS_H

#if defined(GCW_BOEHM)
#define GC_THREADS
#include <gc/gc.h>
#elif !defined(GCW_TRICOLOR) && !defined(GCW_MALLOC)
#error "build with -DGCW_TRICOLOR, -DGCW_BOEHM or -DGCW_MALLOC"
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcbench.h"

#if defined(GCW_TRICOLOR)
#include <tricolor.h>
#define IMPL() "tricolor"
#define ALLOC(n) gc_alloc(n)
#define ALLOC_NOSCAN(n) gc_alloc_noscan(n)
#define STORE(lv, v) gc_store((void **)&(lv), (void *)(v))
#define COLLECT() gc_collect()
#elif defined(GCW_BOEHM)
extern int incremental;
#define IMPL() (incremental ? "boehm-incremental" : "boehm")
#define ALLOC(n) GC_MALLOC(n)
#define ALLOC_NOSCAN(n) GC_MALLOC_ATOMIC(n)
#define STORE(lv, v) ((lv) = (v))
#define COLLECT() GC_gcollect()
#else
#define IMPL() "malloc"
#define ALLOC(n) calloc(1, n)
#define ALLOC_NOSCAN(n) malloc(n)
#define STORE(lv, v) ((lv) = (v))
#define COLLECT() ((void)0)
#endif
#define LOAD(lv) __atomic_load_n(&(lv), __ATOMIC_RELAXED)

/* p, or a one-line error and exit 1 when an allocation failed. */
void *must(void *p);
/* This process's resident set now (VmRSS) and at its peak (VmHWM), KiB. */
long rss_kib(void);
long peak_rss_kib(void);
/* Completed collections (0 for malloc). */
long cycles(void);
/* Keep the pauses from record_start to record_stop (gc_workloads.c). */
void record_start(void);
void record_stop(void);
/* Boehm: the most heap its blocks held at the start of a collection
 * while recording; 0 for the others (their trace gives it). */
uint64_t heap_peak_bytes(void);
/* The common tail of every output line: cycles, RSS, pauses. */
void print_tail(long cycles0, long bad);

/* gcw_memory.c's workloads; each returns the number of damaged objects. */
long run_ring(const char *name, long live_mb, double turnover);
long run_release(long mb);

#endif
