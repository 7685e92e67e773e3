/* gc/interpose.h: calling the definition an interposed libc function
 * hides (gc/park.c, gc/blocking.c, gc/signals.c, gc/threads.c). */
#ifndef TC_GC_INTERPOSE_H
#define TC_GC_INTERPOSE_H

#include <dlfcn.h>
#include <errno.h>

/* An interposed function: exported, whatever the library's default. */
#define EXPORT __attribute__((visibility("default")))
/* The next definition of name in the search order, into real_name. */
#define RESOLVE(name) (real_##name ? 1 : ((real_##name = dlsym(RTLD_NEXT, #name)) != NULL))
/* A symbol the next library does not have: fail as the call would. */
#define NEED(name, fail)                                                                           \
    do {                                                                                           \
        if (!RESOLVE(name)) {                                                                      \
            errno = ENOSYS;                                                                        \
            return fail;                                                                           \
        }                                                                                          \
    } while (0)

#endif
