/* gc/roots.h: globals, registered ranges, uncollectable objects (gc/roots.c). */
#ifndef TC_GC_ROOTS_H
#define TC_GC_ROOTS_H

#include <stdint.h>

#include "alloc/base.h"

TC_INTERNAL void tc_roots_refresh_globals(void); /* concurrent only */
TC_INTERNAL void tc_roots_mark(void);           /* globals, ranges, TLS */
TC_INTERNAL void tc_roots_lock(void);
TC_INTERNAL void tc_roots_unlock(void);
TC_INTERNAL int tc_roots_remove_object(uintptr_t p); /* gc_free */
/* Call scan on the globals listed at the cycle's start (unless a dlclose
 * may have unmapped some since) and on every registered range, and
 * object on each range's start (roots lock held; the checkmark). */
TC_INTERNAL void tc_roots_each(void (*scan)(uintptr_t lo, uintptr_t hi),
                               void (*object)(uintptr_t p));

#endif
