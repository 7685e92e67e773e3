/* gc/interpose.h: calling the definition an interposed libc function
 * hides (gc/park.c, gc/blocking.c, gc/signals.c, gc/threads.c). */
#ifndef TC_GC_INTERPOSE_H
#define TC_GC_INTERPOSE_H

#include <dlfcn.h>
#include <errno.h>

#include "alloc/base.h"

/* An interposed function: exported, whatever the library's default. */
#define EXPORT __attribute__((visibility("default")))
/* The definition of name that ours passes calls on to: the next one in
 * the search order, or ThreadSanitizer's interceptor (gc/park.c). */
TC_INTERNAL void *tc_next_symbol(const char *name);
/* That definition of name, into real_name: written once (gc/park.c,
 * under a lock) and read with acquire, so a plain call through it
 * afterwards is ordered after the write. */
TC_INTERNAL int tc_resolve_slow(void **slot, const char *name);
TC_INLINE int tc_resolve(void **slot, const char *name) {
    return __atomic_load_n(slot, __ATOMIC_ACQUIRE) ? 1 : tc_resolve_slow(slot, name);
}
#define RESOLVE(name) tc_resolve((void **)&real_##name, #name)
/* A symbol the next library does not have: fail as the call would. */
#define NEED(name, fail)                                                                           \
    do {                                                                                           \
        if (!RESOLVE(name)) {                                                                      \
            errno = ENOSYS;                                                                        \
            return fail;                                                                           \
        }                                                                                          \
    } while (0)

#endif
