/* gc/signals.c: the program's signal handlers and signal masks.
 *
 * Handlers. Every handler the program installs through sigaction or
 * signal runs through a trampoline: it unparks the thread first (waiting
 * if the collector holds it, gc/park.c) and parks it again afterwards, so
 * nothing runs on a parked thread; on an alternate signal stack it notes
 * where the thread came from (gc/stacks.c); it counts the program's signals, so a
 * blocking call cut short by the collector's signal alone can be made
 * again (gc/park.h); and the program still sees its own handlers in what
 * sigaction returns. The handler's mask never includes the collector's
 * signal: a handler that runs long must not hold a stop off.
 *
 * Regions. A thread inside a gc region (alloc/region.h) cannot be stopped
 * until the region ends, so a program handler run there would hold every
 * stop off for as long as it runs, and one that waits for another thread
 * (which may be waiting for the cycle) would deadlock. An asynchronous
 * signal that lands inside a region is therefore held for the region's
 * end, as a signal blocked for a moment would be: the trampoline keeps
 * its siginfo, blocks the signal in the context it returns to (further
 * instances stay pending in the kernel) and marks the region; the
 * region's end (gc/stw.c) sends it again to the thread with the same
 * siginfo and unblocks it, and the handler runs there, outside. Faults
 * (SIGSEGV and the like from the kernel), SA_RESETHAND handlers and a
 * ninth held signal run where they land. A queued real-time signal held
 * this way is delivered after the instances queued behind it.
 *
 * Masks. The collector stops a thread that is outside the collected heap
 * with its signal (gc/stw.c); a thread that blocks it cannot be stopped,
 * and a program that blocks every signal in every thread and waits for
 * them in one sigwait thread (a common design) would stall every cycle,
 * and with it thread creation and exit. As in Boehm GC, the program
 * never blocks that signal: pthread_sigmask and sigprocmask take it out
 * of what they block, the sigmask arguments of sigsuspend, ppoll, pselect
 * and epoll_pwait and the sets of sigwait and its relatives lose it too
 * (gc/blocking.c), and a new thread unblocks it as it starts. The
 * signal's number is chosen when the library starts (the first real-time
 * signal nobody handles, or GODEBUG=gcsignal=N) and installed at the first
 * cycle (gc/stw.c); a program that installs a handler for it before then
 * keeps it, and the collector chooses another. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "alloc/region.h"
#include "alloc/report.h"
#include "gc/interpose.h"
#include "gc/park.h"
#include "gc/signals.h"
#include "gc/stacks.h"
#include "gc/stw.h"
#include "gc/threads.h"

/* The collector's signal, chosen at start-up; 0 before. */
static int reserved;

static int handler_is_free(int sig) {
    struct sigaction old;
    return tc_real_sigaction(sig, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
           old.sa_handler == SIG_DFL;
}

int tc_gc_signal_choose(int want, int warn) {
    int sig = want;
    if (sig && (sig < SIGRTMIN || sig > SIGRTMAX || !handler_is_free(sig))) {
        if (warn)
            tc_print("tricolor: GODEBUG: gcsignal=%d is not a free real-time signal; choosing "
                     "another", sig);
        sig = 0;
    }
    for (int s = SIGRTMIN + 4; !sig && s <= SIGRTMAX; s++)
        if (handler_is_free(s)) sig = s;
    __atomic_store_n(&reserved, sig, __ATOMIC_RELAXED);
    return sig;
}

int tc_gc_signal_reserved(void) { return __atomic_load_n(&reserved, __ATOMIC_RELAXED); }

static void unblock_gc(sigset_t *set) {
    int sig = tc_gc_signal() ? tc_gc_signal() : tc_gc_signal_reserved();
    if (sig) sigdelset(set, sig);
}

const sigset_t *tc_without_gc_signal(const sigset_t *set, sigset_t *buf) {
    if (!set) return NULL;
    *buf = *set;
    unblock_gc(buf);
    return buf;
}

/* ---- masks ---- */

static int (*real_pthread_sigmask)(int, const sigset_t *, sigset_t *);
static int (*real_sigprocmask)(int, const sigset_t *, sigset_t *);

int tc_real_pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
    if (!RESOLVE(pthread_sigmask)) return ENOSYS;
    return real_pthread_sigmask(how, set, old);
}

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
    sigset_t buf;
    if (how != SIG_UNBLOCK) set = tc_without_gc_signal(set, &buf);
    return tc_real_pthread_sigmask(how, set, old);
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
    NEED(sigprocmask, -1);
    sigset_t buf;
    if (how != SIG_UNBLOCK) set = tc_without_gc_signal(set, &buf);
    return real_sigprocmask(how, set, old);
}

void tc_unblock_gc_signal(void) {
    int sig = tc_gc_signal() ? tc_gc_signal() : tc_gc_signal_reserved();
    if (!sig) return;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    tc_real_pthread_sigmask(SIG_UNBLOCK, &s, NULL);
}

void tc_program_signals_hold(sigset_t *old) {
    sigset_t all, buf;
    sigfillset(&all);
    tc_real_pthread_sigmask(SIG_BLOCK, tc_without_gc_signal(&all, &buf), old);
}

void tc_program_signals_release(const sigset_t *old) {
    tc_real_pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* ---- handlers ---- */


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

__thread volatile unsigned tc_user_signals_taken __attribute__((tls_model("initial-exec")));

/* Hold sig for the end of t's region, if it landed inside one and may
 * wait: 1 if held. */
static int defer(struct gthread *t, int sig, const siginfo_t *si, ucontext_t *uc, int flags) {
    if (!t || tc_region_depth == 0 || (flags & SA_RESETHAND)) return 0;
    switch (sig) {
    case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGTRAP: case SIGSYS:
        if (si->si_code > 0) return 0; /* a fault here, not one sent */
    }
    int n = atomic_fetch_add_explicit(&t->ndeferred, 1, memory_order_relaxed);
    if (n >= TC_DEFERRED_SIGNALS) {
        atomic_fetch_sub_explicit(&t->ndeferred, 1, memory_order_relaxed);
        return 0;
    }
    t->deferred_sig[n] = sig;
    t->deferred_si[n] = *si;
    sigaddset(&uc->uc_sigmask, sig);
    tc_region_pending = 1;
    return 1;
}

void tc_signals_redeliver(struct gthread *t) {
    sigset_t old;
    tc_program_signals_hold(&old); /* no handler changes the list meanwhile */
    int n = atomic_load_explicit(&t->ndeferred, memory_order_relaxed);
    if (n > TC_DEFERRED_SIGNALS) n = TC_DEFERRED_SIGNALS;
    pid_t pid = getpid(), tid = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < n; i++) {
        int sig = t->deferred_sig[i];
        /* The same siginfo: a thread may send itself any si_code. */
        if (syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, &t->deferred_si[i]) != 0)
            syscall(SYS_tgkill, pid, tid, sig);
        sigdelset(&old, sig); /* blocked by defer, not by the program */
    }
    atomic_store_explicit(&t->ndeferred, 0, memory_order_relaxed);
    tc_program_signals_release(&old); /* they arrive here, outside */
}

static void trampoline(int sig, siginfo_t *si, void *uc) {
    struct gthread *t = tc_gthread;
    int flags = atomic_load(&user_flags[sig]);
    if (defer(t, sig, si, uc, flags)) return;
    tc_user_signals_taken++;
    int parked = t && atomic_load_explicit(&t->park, memory_order_relaxed) != PARK_RUNNING &&
                 tc_unpark();
    int alt = tc_stack_handler_enter(t, uc); /* on an alternate stack: from where */
    uintptr_t fn = atomic_load(&user_fn[sig]);
    if (flags & SA_RESETHAND) atomic_store(&user_fn[sig], (uintptr_t)SIG_DFL); /* as the kernel did */
    if (fn != (uintptr_t)SIG_DFL && fn != (uintptr_t)SIG_IGN) {
        if (flags & SA_SIGINFO) ((void (*)(int, siginfo_t *, void *))fn)(sig, si, uc);
        else ((void (*)(int))fn)(sig);
    }
    tc_stack_handler_leave(t, alt);
    if (parked) atomic_store(&t->park, PARK_PARKED); /* the blocked frames above are unchanged */
}

static int wrappable(int sig) {
    return sig > 0 && sig < NSIG && sig != tc_gc_signal() && sig != tc_gc_signal_reserved();
}

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
    if (!wrappable(sig)) return tc_real_sigaction(sig, act, old);
    struct sigaction mine, prev;
    const struct sigaction *use = act;
    if (act && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
        mine = *act;
        mine.sa_sigaction = trampoline;
        mine.sa_flags |= SA_SIGINFO;
        unblock_gc(&mine.sa_mask); /* a long handler must not hold a stop off */
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

