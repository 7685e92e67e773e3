/* gc/park.c: threads blocked outside the collected heap need no signal.
 *
 * A stop asks every registered thread and waits for each to answer; a
 * thread asleep in the kernel would first have to be signalled, woken and
 * scheduled, which on a small machine costs tens of microseconds per
 * thread and dominates the pause (measured: 30-90 us just to send five
 * signals, because each woken thread preempts the collector). Go does not
 * stop goroutines that sit in a system call either. So a registered
 * thread about to block in a call that cannot touch the collected heap
 * parks: it stores its callee-saved registers in its own frame (gc.h),
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
 * held) and parks again afterwards, and each blocking wrapper pushes a
 * cleanup handler that unparks. The program sees its own handlers in what
 * sigaction returns.
 *
 * The wrappers: gc_collect's wait and the finalizer thread's (direct),
 * and the sleeps, poll, select, epoll_wait and pthread_join with its
 * variants (interposed; a sanitizer's runtime, which must see every join,
 * comes before us in the search order and calls ours as the real one). A
 * program that has never called gc_alloc does not park. */
#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alloc/report.h"
#include "gc/gc.h"

#define EXPORT __attribute__((visibility("default")))

/* ---- thread side ---- */

int tc_park(uintptr_t sp) {
    struct gthread *t = tc_gthread;
    if (!t || tc_region_depth || !atomic_load_explicit(&tc_collected_used, memory_order_relaxed) ||
        atomic_load_explicit(&t->park, memory_order_relaxed) != PARK_RUNNING)
        return 0;
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

void tc_unpark(void) {
    struct gthread *t = tc_gthread;
    if (t) unpark(t);
}

/* A thread only ever enters a wrapper running (the program's handlers
 * unpark first), so unparking on cancellation needs no flag: if the
 * wrapper did not park, the thread is running and this does nothing. */
static void cleanup_unpark(void *unused) {
    (void)unused;
    tc_unpark();
}

/* Run `call` parked. The callers' registers go into this frame (gc.h),
 * and so do the call's pointer arguments (a..d, 0 if none): the kernel
 * may be using what they point to, and otherwise they might sit only in
 * registers or in the callee's frames below the published stack pointer. */
#define PARKED_CALL(type, call, a, b, c, d)                                                        \
    do {                                                                                           \
        uintptr_t regs_[TC_SPILL_WORDS];                                                           \
        volatile uintptr_t keep_[4] = {(uintptr_t)(a), (uintptr_t)(b), (uintptr_t)(c),            \
                                       (uintptr_t)(d)};                                            \
        tc_spill_regs(regs_);                                                                      \
        volatile int parked_ = tc_park(tc_current_sp()); /* volatile: across setjmp */             \
        type r_;                                                                                   \
        pthread_cleanup_push(cleanup_unpark, NULL);                                                \
        r_ = call;                                                                                 \
        pthread_cleanup_pop(0);                                                                    \
        if (parked_) {                                                                             \
            int e_ = errno;                                                                        \
            tc_unpark();                                                                           \
            errno = e_;                                                                            \
        }                                                                                          \
        TC_KEEP(regs_);                                                                            \
        TC_KEEP(keep_);                                                                            \
        return r_;                                                                                 \
    } while (0)

#define RESOLVE(name) (real_##name ? 1 : ((real_##name = dlsym(RTLD_NEXT, #name)) != NULL))

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

/* ---- the program's signal handlers ---- */

static _Atomic(uintptr_t) user_fn[NSIG]; /* the program's handler, SIG_DFL or SIG_IGN */
static _Atomic int user_flags[NSIG];
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);

int tc_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
    if (!RESOLVE(sigaction)) {
        errno = ENOSYS;
        return -1;
    }
    return real_sigaction(sig, act, old);
}

static void trampoline(int sig, siginfo_t *si, void *uc) {
    struct gthread *t = tc_gthread;
    int parked = t && atomic_load_explicit(&t->park, memory_order_relaxed) != PARK_RUNNING &&
                 unpark(t);
    uintptr_t fn = atomic_load(&user_fn[sig]);
    int flags = atomic_load(&user_flags[sig]);
    if (flags & SA_RESETHAND) atomic_store(&user_fn[sig], (uintptr_t)SIG_DFL); /* as the kernel did */
    if (fn != (uintptr_t)SIG_DFL && fn != (uintptr_t)SIG_IGN) {
        if (flags & SA_SIGINFO) ((void (*)(int, siginfo_t *, void *))fn)(sig, si, uc);
        else ((void (*)(int))fn)(sig);
    }
    if (parked) atomic_store(&t->park, PARK_PARKED); /* the blocked frames above are unchanged */
}

static int wrappable(int sig) { return sig > 0 && sig < NSIG && sig != tc_gc_signal(); }

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
    if (!wrappable(sig)) return tc_real_sigaction(sig, act, old);
    struct sigaction mine, prev;
    const struct sigaction *use = act;
    if (act && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
        mine = *act;
        mine.sa_sigaction = trampoline;
        mine.sa_flags |= SA_SIGINFO;
        use = &mine;
    }
    uintptr_t fn_before = atomic_load(&user_fn[sig]);
    int flags_before = atomic_load(&user_flags[sig]);
    if (act) { /* published first: a signal may arrive as soon as it is installed */
        atomic_store(&user_fn[sig], (uintptr_t)act->sa_handler);
        atomic_store(&user_flags[sig], act->sa_flags);
    }
    int rc = tc_real_sigaction(sig, use, &prev);
    if (rc != 0) {
        atomic_store(&user_fn[sig], fn_before);
        atomic_store(&user_flags[sig], flags_before);
        return rc;
    }
    if (old) {
        *old = prev;
        if (prev.sa_sigaction == trampoline) { /* report what the program set */
            old->sa_handler = (void (*)(int))fn_before;
            old->sa_flags = flags_before;
        }
    }
    return 0;
}

/* glibc's signal() reaches sigaction internally, past the interposition:
 * BSD semantics (SA_RESTART, the signal blocked in its handler). */
EXPORT sighandler_t signal(int sig, sighandler_t handler) {
    struct sigaction act = {0}, old;
    act.sa_handler = handler;
    act.sa_flags = SA_RESTART;
    sigemptyset(&act.sa_mask);
    if (sig > 0 && sig < NSIG) sigaddset(&act.sa_mask, sig);
    if (sigaction(sig, &act, &old) != 0) return SIG_ERR;
    return old.sa_handler;
}
EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler) { return signal(sig, handler); }

/* ---- blocking calls ---- */

static int (*real_nanosleep)(const struct timespec *, struct timespec *);
static int (*real_clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
static int (*real_usleep)(useconds_t);
static unsigned (*real_sleep)(unsigned);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);

/* A symbol the next library does not have: fail as the call would. */
#define NEED(name, fail)                                                                           \
    do {                                                                                           \
        if (!RESOLVE(name)) {                                                                      \
            errno = ENOSYS;                                                                        \
            return fail;                                                                           \
        }                                                                                          \
    } while (0)

EXPORT int nanosleep(const struct timespec *req, struct timespec *rem) {
    NEED(nanosleep, -1);
    PARKED_CALL(int, real_nanosleep(req, rem), req, rem, 0, 0);
}
EXPORT int clock_nanosleep(clockid_t c, int flags, const struct timespec *req, struct timespec *rem) {
    NEED(clock_nanosleep, ENOSYS);
    PARKED_CALL(int, real_clock_nanosleep(c, flags, req, rem), req, rem, 0, 0);
}
EXPORT int usleep(useconds_t us) {
    NEED(usleep, -1);
    PARKED_CALL(int, real_usleep(us), 0, 0, 0, 0);
}
EXPORT unsigned sleep(unsigned s) {
    NEED(sleep, s);
    PARKED_CALL(unsigned, real_sleep(s), 0, 0, 0, 0);
}
EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout) {
    NEED(poll, -1);
    PARKED_CALL(int, real_poll(fds, n, timeout), fds, 0, 0, 0);
}
EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv) {
    NEED(select, -1);
    PARKED_CALL(int, real_select(n, r, w, e, tv), r, w, e, tv);
}
EXPORT int epoll_wait(int fd, struct epoll_event *ev, int n, int timeout) {
    NEED(epoll_wait, -1);
    PARKED_CALL(int, real_epoll_wait(fd, ev, n, timeout), ev, 0, 0, 0);
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

/* The runtime's own waits. Never park holding a lock that code inside a
 * region takes: a thread that wakes while held waits for the collector,
 * and the collector waits for the threads in regions. */
long tc_parked_futex_wait(_Atomic uint32_t *w, uint32_t v) {
    PARKED_CALL(long, tc_futex(w, FUTEX_WAIT_PRIVATE, v, NULL), 0, 0, 0, 0);
}
void tc_futex_wake_all(_Atomic uint32_t *w) { tc_futex(w, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL); }
int tc_parked_sem_wait(sem_t *s) { PARKED_CALL(int, sem_wait(s), s, 0, 0, 0); }
/* Only for a lock the collector may hold while it stops threads (the
 * registry lock): the thread waiting for it is then held, not signalled,
 * and once it has the lock no stop can be under way to hold it. */
int tc_parked_mutex_lock(pthread_mutex_t *m) { PARKED_CALL(int, pthread_mutex_lock(m), 0, 0, 0, 0); }
