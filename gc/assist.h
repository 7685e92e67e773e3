/* gc/assist.h: mark assists (gc/assist.c; Go's gcAssistAlloc). */
#ifndef TC_GC_ASSIST_H
#define TC_GC_ASSIST_H

#include <stdint.h>

#include "alloc/base.h"

/* Scan work this thread owes for what it allocated during mark (bytes);
 * added by tc_gc_note_alloc inside a region, paid by tc_gc_assist once the
 * allocation's region has ended. Owner only. */
TC_INTERNAL extern __thread uint64_t tc_assist_debt __attribute__((tls_model("initial-exec")));
/* In tc_assist_debt: this thread passed the trigger and waits for the
 * cycle's mark to begin (tc_gc_wait_start) before anything else. */
#define TC_ASSIST_WAIT_START ((uint64_t)1 << 63)
TC_INTERNAL void tc_gc_assist(void); /* outside any gc region */
/* A mark phase begins (collector thread): credit from older cycles is void. */
TC_INTERNAL void tc_assist_new_cycle(void);

#endif
