/* gc/park.c: threads blocked outside the collected heap need no signal.
 *
 * A stop asks every registered thread and waits for each to answer; a
 * thread asleep in the kernel would first have to be signalled, woken and
 * scheduled, which on a small machine costs tens of microseconds per
 * thread and dominates the pause (measured: 30-90 us just to send five
 * signals, because each woken thread preempts the collector). Go does not
 * stop goroutines that sit in a system call either. So a registered
 * thread about to block in a call that cannot touch the collected heap
 * parks: it stores its callee-saved registers in its own frame (gc/park.h),
 * publishes its stack pointer and sets park = PARKED. The collector takes
 * a parked thread as stopped by moving it to HELD (compare-and-swap, so a
 * thread that wakes at the same moment either parks out first and is
 * asked, or finds itself held and waits on the park word until the
 * collector lets it go), scans it from the published stack pointer and
 * never signals it.
 *
 * Parking is sound only if nothing runs on the thread while it is parked.
 * Two things can: the program's signal handlers and cancellation cleanup
 * handlers. So every handler the program installs through sigaction or
 * signal is called through a trampoline that unparks first (waiting if
 * held) and parks again afterwards (gc/signals.c), and each blocking
 * wrapper pushes a cleanup handler that unparks (gc/park.h).
 *
 * The wrappers: gc_collect's wait and the finalizer thread's (direct),
 * pthread_join with its variants (below; a sanitizer's runtime, which
 * must see every join, comes before us in the search order and calls
 * ours as the real one), and the blocking calls of gc/blocking.c. A
 * program that has never called gc_alloc does not park. */
#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alloc/region.h"
#include "gc/cycle.h"
#include "gc/interpose.h"
#include "gc/park.h"
#include "gc/stacks.h"
#include "gc/threads.h"

/* ---- thread side ---- */

int tc_park(uintptr_t sp) {
    struct gthread *t = tc_gthread;
    if (!t || tc_region_depth || !tc_may_park() ||
        atomic_load_explicit(&t->park, memory_order_relaxed) != PARK_RUNNING)
        return 0;
    tc_stack_note_sp(t, sp);
    t->park_sp = sp;
    atomic_store(&t->park, PARK_PARKED); /* seq_cst: after park_sp and every store before */
    return 1;
}

/* Returns 1 if the thread was parked. A held thread says it waits
 * (HELD_WAITING) before it sleeps, so the collector makes the wake-up
 * system call only for threads that woke while held, not for every
 * thread still asleep in its call. */
static int unpark(struct gthread *t) {
    for (;;) {
        uint32_t v = atomic_load(&t->park);
        if (v == PARK_RUNNING) return 0;
        if (v == PARK_PARKED) {
            if (atomic_compare_exchange_strong(&t->park, &v, PARK_RUNNING)) return 1;
            continue;
        }
        if (v == PARK_HELD && !atomic_compare_exchange_strong(&t->park, &v, PARK_HELD_WAITING))
            continue;
        tc_futex(&t->park, FUTEX_WAIT_PRIVATE, PARK_HELD_WAITING, NULL); /* the collector has us */
    }
}

int tc_unpark(void) {
    struct gthread *t = tc_gthread;
    return t ? unpark(t) : 0;
}

/* A thread only ever enters a wrapper running (the program's handlers
 * unpark first), so unparking on cancellation needs no flag: if the
 * wrapper did not park, the thread is running and this does nothing. */
void tc_cleanup_unpark(void *unused) {
    (void)unused;
    tc_unpark();
}


/* ---- deadlines ---- */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tc_deadline_start(struct tc_deadline *d, const struct timespec *rel) {
    d->end_ns = 0;
    if (!rel) return;
    uint64_t n = rel->tv_sec < 0 ? 0 : (uint64_t)rel->tv_sec * 1000000000u + (uint64_t)rel->tv_nsec;
    d->end_ns = now_ns() + n;
    if (d->end_ns == 0) d->end_ns = 1;
    d->left = *rel;
}

void tc_deadline_start_ms(struct tc_deadline *d, int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    tc_deadline_start(d, ms < 0 ? NULL : &ts);
}

struct timespec *tc_deadline_left(struct tc_deadline *d) {
    if (!d->end_ns) return NULL;
    uint64_t now = now_ns(), left = d->end_ns > now ? d->end_ns - now : 0;
    d->left.tv_sec = (time_t)(left / 1000000000u);
    d->left.tv_nsec = (long)(left % 1000000000u);
    return &d->left;
}

int tc_deadline_left_ms(struct tc_deadline *d) {
    struct timespec *ts = tc_deadline_left(d);
    if (!ts) return -1;
    uint64_t ms = (uint64_t)ts->tv_sec * 1000u + (uint64_t)(ts->tv_nsec + 999999) / 1000000;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* ---- collector side (registry lock held) ---- */

int tc_hold(struct gthread *t) {
    uint32_t v = PARK_PARKED;
    if (!atomic_compare_exchange_strong(&t->park, &v, PARK_HELD)) return 0;
    t->sp = t->park_sp;
    t->held = 1;
    return 1;
}

void tc_unhold(struct gthread *t) {
    t->held = 0;
    t->held_woke = atomic_exchange(&t->park, PARK_PARKED) == PARK_HELD_WAITING;
}

void tc_unhold_wake(struct gthread *t) {
    if (t->held_woke) tc_futex(&t->park, FUTEX_WAKE_PRIVATE, 1, NULL);
    t->held_woke = 0;
}

static int (*real_pthread_join)(pthread_t, void **);
static int (*real_pthread_tryjoin_np)(pthread_t, void **);
static int (*real_pthread_timedjoin_np)(pthread_t, void **, const struct timespec *);
static int (*real_pthread_clockjoin_np)(pthread_t, void **, clockid_t, const struct timespec *);

static int join_parked(pthread_t tid, void **v, int how, clockid_t c, const struct timespec *ts) {
    if (how == 0) PARKED_CALL(int, real_pthread_join(tid, v), v, 0, 0, 0);
    if (how == 1) return real_pthread_tryjoin_np(tid, v);
    if (how == 2) PARKED_CALL(int, real_pthread_timedjoin_np(tid, v, ts), v, ts, 0, 0);
    PARKED_CALL(int, real_pthread_clockjoin_np(tid, v, c, ts), v, ts, 0, 0);
}

/* The exit value goes through a local: the joined thread's table entry
 * (gc/threads.c) keeps it alive until it is stored where the caller
 * wants it. */
#define JOIN(name, how, c, ts)                                                                     \
    do {                                                                                           \
        if (!RESOLVE(name)) return ENOSYS;                                                         \
        void *v = NULL;                                                                            \
        int rc = join_parked(tid, &v, how, c, ts);                                                 \
        return tc_thread_joined(rc, tid, v, ret);                                                  \
    } while (0)

EXPORT int pthread_join(pthread_t tid, void **ret) { JOIN(pthread_join, 0, 0, NULL); }
EXPORT int pthread_tryjoin_np(pthread_t tid, void **ret) { JOIN(pthread_tryjoin_np, 1, 0, NULL); }
EXPORT int pthread_timedjoin_np(pthread_t tid, void **ret, const struct timespec *ts) {
    JOIN(pthread_timedjoin_np, 2, 0, ts);
}
EXPORT int pthread_clockjoin_np(pthread_t tid, void **ret, clockid_t c, const struct timespec *ts) {
    JOIN(pthread_clockjoin_np, 3, c, ts);
}

/* Normally the next definition in the search order. A ThreadSanitizer
 * runtime linked into the program defines the interposed calls as weak
 * aliases of its __interceptor_ functions, which pass calls on to the
 * next definition: with tricolor's shared library that is ours, found
 * after the runtime's. With tricolor linked into the program as well, our
 * strong definitions replace the aliases and come first: the runtime
 * must still see every thread start, join, signal handler and blocking
 * call, so ours pass calls on to its interceptor. */
void *tc_next_symbol(const char *name) {
#if TC_TSAN
    char wrapper[64];
    Dl_info first, self;
    void *f = dlsym(RTLD_DEFAULT, name);
    if (f && dladdr(f, &first) && dladdr((void *)tc_next_symbol, &self) &&
        first.dli_fbase == self.dli_fbase &&
        (size_t)snprintf(wrapper, sizeof wrapper, "__interceptor_%s", name) < sizeof wrapper) {
        void *w = dlsym(RTLD_DEFAULT, wrapper);
        if (w) return w;
    }
#endif
    return dlsym(RTLD_NEXT, name);
}

/* A spin lock, not a mutex: pthread_mutex_lock may be one of the names
 * being resolved (gc/tsanwait.c). Held only around one dlsym, the first
 * time a name is used. */
int tc_resolve_slow(void **slot, const char *name) {
    static atomic_flag lock = ATOMIC_FLAG_INIT;
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) sched_yield();
    void *f = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (!f && (f = tc_next_symbol(name)) != NULL) __atomic_store_n(slot, f, __ATOMIC_RELEASE);
    atomic_flag_clear_explicit(&lock, memory_order_release);
    return f != NULL;
}

/* The runtime's own waits. Never park holding a lock that code inside a
 * region takes: a thread that wakes while held waits for the collector,
 * and the collector waits for the threads in regions. */
long tc_parked_futex_wait(_Atomic uint32_t *w, uint32_t v) {
    PARKED_CALL(long, tc_futex(w, FUTEX_WAIT_PRIVATE, v, NULL), 0, 0, 0, 0);
}
long tc_parked_futex_wait_for(_Atomic uint32_t *w, uint32_t v, const struct timespec *ts) {
    PARKED_CALL(long, tc_futex(w, FUTEX_WAIT_PRIVATE, v, ts), 0, 0, 0, 0);
}
void tc_futex_wake_all(_Atomic uint32_t *w) { tc_futex(w, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL); }
static int (*real_sem_wait)(sem_t *);
int tc_parked_sem_wait(sem_t *s) {
    NEED(sem_wait, -1);
    PARKED_CALL(int, real_sem_wait(s), s, 0, 0, 0);
}
/* Only for a lock the collector may hold while it stops threads (the
 * registry lock): the thread waiting for it is then held, not signalled,
 * and once it has the lock no stop can be under way to hold it. */
int tc_parked_mutex_lock(pthread_mutex_t *m) { PARKED_CALL(int, pthread_mutex_lock(m), 0, 0, 0, 0); }
