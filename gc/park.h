/* gc/park.h: running a blocking call parked (gc/park.c), for the modules
 * that interpose such calls (gc/park.c, gc/blocking.c, gc/threads.c).
 *
 * A registered thread of a program that uses the collected heap parks
 * around a blocking call, so a stop holds it without a signal. The race
 * that is left (asked just before it parked, signalled as it enters the
 * call) can still cut the call short with EINTR: PARKED_RETRY calls again
 * when the collector's signal alone arrived during the call, and a call
 * with a timeout is given what is left of it (struct tc_deadline). The
 * program's own signals still interrupt it as they would. */
#ifndef TC_GC_PARK_H
#define TC_GC_PARK_H

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "gc/gc.h"

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

/* Signals this thread has taken: the collector's (gc/stw.c) and the
 * program's (the trampoline, gc/signals.c). Async-signal-safe counters. */
TC_INTERNAL extern __thread volatile unsigned tc_gc_signals_taken
    __attribute__((tls_model("initial-exec")));
TC_INTERNAL extern __thread volatile unsigned tc_user_signals_taken
    __attribute__((tls_model("initial-exec")));

/* Whether this thread would park: registered, and the heap in use. */
TC_INLINE int tc_may_park(void) {
    return tc_gthread != NULL && atomic_load_explicit(&tc_collected_used, memory_order_relaxed);
}

TC_INTERNAL void tc_cleanup_unpark(void *unused);

/* What is left of a relative timeout, for a call made again. */
struct tc_deadline {
    uint64_t end_ns; /* CLOCK_MONOTONIC; 0: no timeout */
    struct timespec left;
};
TC_INTERNAL void tc_deadline_start(struct tc_deadline *d, const struct timespec *rel);
TC_INTERNAL void tc_deadline_start_ms(struct tc_deadline *d, int ms); /* < 0: none */
/* The time left (never negative), or NULL for no timeout. */
TC_INTERNAL struct timespec *tc_deadline_left(struct tc_deadline *d);
TC_INTERNAL int tc_deadline_left_ms(struct tc_deadline *d); /* -1: none */

/* Run `call` (of type `type`) parked, and again while `intr` (an
 * expression of r_, the result) says it was cut short by the collector's
 * signal alone. The callers' registers go into this frame (gc.h), and so
 * do the call's pointer arguments (a..d, 0 if none): the kernel may be
 * using what they point to, and otherwise they might sit only in
 * registers or in the callee's frames below the published stack pointer.
 * A thread that would not park makes the call directly: it is never
 * signalled by the collector. */
#define PARKED_RETRY(type, call, intr, a, b, c, d)                                                 \
    do {                                                                                           \
        if (!tc_may_park()) return call;                                                           \
        uintptr_t regs_[TC_SPILL_WORDS];                                                           \
        volatile uintptr_t keep_[4] = {(uintptr_t)(a), (uintptr_t)(b), (uintptr_t)(c),            \
                                       (uintptr_t)(d)};                                            \
        tc_spill_regs(regs_);                                                                      \
        type r_;                                                                                   \
        for (;;) {                                                                                 \
            unsigned gc_ = tc_gc_signals_taken, user_ = tc_user_signals_taken;                     \
            volatile int parked_ = tc_park(tc_current_sp()); /* volatile: across setjmp */         \
            pthread_cleanup_push(tc_cleanup_unpark, NULL);                                         \
            r_ = call;                                                                             \
            pthread_cleanup_pop(0);                                                                \
            int e_ = errno;                                                                        \
            if (parked_) tc_unpark();                                                              \
            errno = e_;                                                                            \
            if (!(intr) || gc_ == tc_gc_signals_taken || user_ != tc_user_signals_taken) break;    \
        }                                                                                          \
        TC_KEEP(regs_);                                                                            \
        TC_KEEP(keep_);                                                                            \
        return r_;                                                                                 \
    } while (0)

/* The usual cases: -1 and errno EINTR; an error number EINTR returned. */
#define PARKED_ERRNO(type, call, a, b, c, d) \
    PARKED_RETRY(type, call, (r_ == -1 && errno == EINTR), a, b, c, d)
#define PARKED_RC(call, a, b, c, d) PARKED_RETRY(int, call, (r_ == EINTR), a, b, c, d)

#endif
