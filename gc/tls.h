/* gc/tls.h: thread-local storage as a root (gc/tls.c). */
#ifndef TC_GC_TLS_H
#define TC_GC_TLS_H

#include <stdint.h>

#include "alloc/base.h"

struct gthread;

TC_INTERNAL void tc_thread_record_tls(struct gthread *t); /* the thread itself */
TC_INTERNAL void tc_tls_init(void);    /* once, at start-up */
TC_INTERNAL void tc_tls_refresh(void); /* collector thread, each cycle */
/* scan() the parts of [lo, hi) that can be read, page by page (collector
 * thread, or with the world stopped). */
TC_INTERNAL void tc_scan_mapped(uintptr_t lo, uintptr_t hi, void (*scan)(uintptr_t lo, uintptr_t hi));
/* scan() each TLS block of t, stopped (or the caller itself). */
TC_INTERNAL void tc_thread_tls_each(struct gthread *t, void (*scan)(uintptr_t lo, uintptr_t hi));

#endif
