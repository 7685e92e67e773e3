/* gc/finalizer.h: finalizers (gc/finalizer.c). */
#ifndef TC_GC_FINALIZER_H
#define TC_GC_FINALIZER_H

#include <stdint.h>

#include "alloc/base.h"

struct mspan;

TC_INTERNAL void tc_finalizers_mark(void);  /* shade what they reach */
/* Sweeping s (mcentral lock held): queue finalizers of unmarked objects
 * and keep those objects (set their mark bits). */
TC_INTERNAL void tc_finalizers_sweep(struct mspan *s);
TC_INTERNAL uint64_t tc_finalizers_run_count(void);
/* Walk what finalizers keep alive: scan() each finalizer object's
 * contents, object() each queued object (the marker and the checkmark). */
TC_INTERNAL void tc_finalizers_roots(void (*scan)(uintptr_t lo, uintptr_t hi),
                                     void (*object)(uintptr_t p));
TC_INTERNAL void tc_finalizers_after_fork_child(void);

#endif
