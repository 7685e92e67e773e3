/* gc/park.h: parking (gc/park.c), and running a blocking call parked,
 * for the modules that interpose such calls (gc/park.c, gc/blocking.c,
 * gc/threads.c).
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

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alloc/base.h"
#include "gc/cycle.h"
#include "gc/threads.h"

enum { PARK_RUNNING = 0, PARK_PARKED = 1, PARK_HELD = 2, PARK_HELD_WAITING = 3 };
/* Thread side: park before a blocking call (returns 0 if it did not:
 * unregistered, inside a region, already parked), unpark after it; an
 * unpark waits while the collector holds the thread. */
TC_INTERNAL int tc_park(uintptr_t sp);
TC_INTERNAL int tc_unpark(void); /* 1 if the thread was parked */
/* Collector side (registry lock held): take a parked thread as stopped
 * (1), or leave it to be asked (0); give it back (tc_unhold lets it go,
 * and notes in held_woke whether tc_unhold_wake must wake it). */
TC_INTERNAL int tc_hold(struct gthread *t);
TC_INTERNAL void tc_unhold(struct gthread *t);
TC_INTERNAL void tc_unhold_wake(struct gthread *t);

/* Signals this thread has taken: the collector's (gc/stw.c) and the
 * program's (the trampoline, gc/signals.c). Async-signal-safe counters. */
TC_INTERNAL extern __thread volatile unsigned tc_gc_signals_taken
    __attribute__((tls_model("initial-exec")));
TC_INTERNAL extern __thread volatile unsigned tc_user_signals_taken
    __attribute__((tls_model("initial-exec")));

/* A thread that stops or parks publishes a stack pointer, and the
 * collector scans its stack from there up. Values its callers keep in
 * callee-saved registers must be in memory above that point: the thread
 * stores them into a buffer in a frame that lives until it goes on
 * (tc_spill_regs), then takes the stack pointer below it (tc_current_sp).
 * __builtin_unwind_init alone is not enough: GCC may save the registers
 * on some paths only and tail-call out of the frame (seen in
 * tc_gc_region_exit_slow, which then stopped with a caller's pointer in
 * a register nobody scanned). */
#if defined(__x86_64__)
#define TC_SPILL_WORDS 6
TC_INLINE void tc_spill_regs(uintptr_t *buf) {
    __asm__ volatile("mov %%rbx, 0(%0)\n\tmov %%rbp, 8(%0)\n\tmov %%r12, 16(%0)\n\t"
                     "mov %%r13, 24(%0)\n\tmov %%r14, 32(%0)\n\tmov %%r15, 40(%0)"
                     : : "r"(buf) : "memory");
}
TC_INLINE uintptr_t tc_current_sp(void) {
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return sp;
}
#elif defined(__aarch64__)
#define TC_SPILL_WORDS 12
TC_INLINE void tc_spill_regs(uintptr_t *buf) {
    __asm__ volatile("stp x19, x20, [%0]\n\tstp x21, x22, [%0, #16]\n\tstp x23, x24, [%0, #32]\n\t"
                     "stp x25, x26, [%0, #48]\n\tstp x27, x28, [%0, #64]\n\tstp x29, x30, [%0, #80]"
                     : : "r"(buf) : "memory");
}
TC_INLINE uintptr_t tc_current_sp(void) {
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}
#else
#error "tc_spill_regs: name this architecture's callee-saved registers"
#endif
/* Keeps buf (and so its frame) alive up to here: no tail call before. */
#define TC_KEEP(buf) __asm__ volatile("" : : "r"(buf) : "memory")

/* The futex system call on a 32-bit word (stw.c and park.c). Under
 * ThreadSanitizer, which holds an asynchronous signal until the thread's
 * next intercepted call and does not know this one, an untimed wait wakes
 * every millisecond (callers allow spurious wake-ups) and makes such a
 * call: the collector's signal reaches a thread waiting here. */
TC_INLINE long tc_futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts) {
#if TC_TSAN
    struct timespec ms = {0, 1000000}, now;
    if ((op & FUTEX_CMD_MASK) == FUTEX_WAIT && !ts) {
        long r = syscall(SYS_futex, (uint32_t *)w, op, val, &ms, NULL, 0);
        clock_gettime(CLOCK_MONOTONIC, &now);
        return r;
    }
#endif
    return syscall(SYS_futex, (uint32_t *)w, op, val, ts, NULL, 0);
}
/* The runtime's own blocking waits, parked; they hold no lock. */
TC_INTERNAL long tc_parked_futex_wait(_Atomic uint32_t *w, uint32_t v);
/* The same for at most *ts (relative). */
TC_INTERNAL long tc_parked_futex_wait_for(_Atomic uint32_t *w, uint32_t v, const struct timespec *ts);
TC_INTERNAL void tc_futex_wake_all(_Atomic uint32_t *w);
TC_INTERNAL int tc_parked_sem_wait(sem_t *s);
TC_INTERNAL int tc_parked_mutex_lock(pthread_mutex_t *m);

/* Whether this thread would park: registered, and the heap in use (under
 * ThreadSanitizer always: its runtime would hold the signal that stops a
 * thread blocked here). */
TC_INLINE int tc_may_park(void) {
    return tc_gthread != NULL &&
           (TC_TSAN || atomic_load_explicit(&tc_collected_used, memory_order_relaxed));
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
 * signal alone. The callers' registers go into this frame (above), and so
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
/* Calls retried by nothing: the runtime's own (their callers loop) and
 * the lock waits of gc/tsanwait.c. */
#define PARKED_CALL(type, call, a, b, c, d) PARKED_RETRY(type, call, 0, a, b, c, d)

#endif
