/* gc/stw.c: stopping the world, and the handshake.
 *
 * Stopping. The collector (holding the registry lock, so nobody joins or
 * leaves meanwhile) bumps a thread's suspend_seq and raises tc_stop_poll.
 * A thread that leaves its outermost gc region sees the poll and stops
 * there, after spilling its callee-saved registers into its frame (Go's
 * cooperative preemption: allocation and gc_store are regions, so a
 * thread that uses the heap answers within microseconds). Threads that
 * have not answered after POLL_NS get the gc signal (Go's async
 * preemption); its handler stops the thread where it is, or, inside a
 * region (the barrier, allocation, anything holding a lock the collector
 * needs while the world is stopped), only notes the request for the
 * region's end. Stopped, a thread publishes its stack pointer (everything
 * above it is scanned: for the handler, the signal frame with the
 * interrupted registers and the red zone too), stores ack_seq and waits
 * on a futex until resume_round reaches its round: one word for all
 * threads, so the world starts with one wake-up system call. Everything
 * in the handler is async-signal-safe: atomics, futex system calls, errno
 * saved and restored. A thread parked in a blocking call is held, neither
 * asked nor signalled (gc/park.c); one that parks while asked is held too.
 * A stop that reads no stack (mark termination) is lighter still: a
 * thread outside its gc regions is taken as stopped, without a signal,
 * because it cannot enter one until the stop is over (gather_inside,
 * below; a membarrier before the pause makes that readable); and turning
 * the barrier on at the start of a cycle stops nobody at all
 * (tc_handshake). Both rest on membarrier; without it every stop is full.
 *
 * Fork gate. fork() must not catch a thread inside a gc region (see
 * gc/cycle.c), but stopping threads for it would be wrong: one stopped
 * while holding a lock fork takes after our handler (stdio's list lock)
 * would deadlock it. So the forking thread closes the gate and asks the
 * same way (poll, then signal); a thread outside its regions only
 * acknowledges and goes on, one inside acknowledges when it leaves, and
 * an outermost gc region
 * entered while the gate is closed waits for it to open. The gate's check
 * at a region's entry is a relaxed load, and needs no more on a weakly
 * ordered machine: the gate is stored before the request (release), and a
 * thread acknowledges only after reading its request (acquire), so every
 * region it enters afterwards sees the gate closed; a region entered
 * before that is one the gate waits for.
 *
 * The signal is the first real-time signal nobody handles (or
 * GODEBUG=gcsignal=N), installed with SA_RESTART so blocking calls in the
 * program do not fail with EINTR, and only when the first cycle starts;
 * if the program later replaces our handler, the next stop says so and
 * aborts rather than hang. */
#include <errno.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alloc/base.h"
#include "alloc/region.h"
#include "alloc/report.h"
#include "gc/cycle.h"
#include "gc/park.h"
#include "gc/signals.h"
#include "gc/stacks.h"
#include "gc/stats.h"
#include "gc/stw.h"
#include "gc/threads.h"

static uint32_t round_seq;           /* registry lock */
static _Atomic uint32_t resume_round; /* futex: rounds up to this one are over */
static int gc_signal;                /* 0 until installed */
static struct sigaction installed;

/* ---- the stop protocol, thread side ---- */

/* Rounds are sequence numbers; "a reached b" tolerates wrap-around. */
static int reached(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

/* Stop for round seq until the collector lets round seq (or a later one)
 * go; the stack is scanned from sp up. A thread stopping at the end of a
 * region waits with signals open, so the next round's signal can arrive
 * inside this wait and complete a nested stop: hence "reached", not
 * "equals". */
static void stop_here(struct gthread *t, uint32_t seq, uintptr_t sp) {
    tc_stack_note_sp(t, sp); /* an alternate stack, if it is on one */
    t->sp = sp;
    atomic_store_explicit(&t->ack_seq, seq, memory_order_release);
    tc_futex(&t->ack_seq, FUTEX_WAKE_PRIVATE, 1, NULL);
    uint32_t r;
    while (!reached(r = atomic_load_explicit(&resume_round, memory_order_acquire), seq))
        tc_futex(&resume_round, FUTEX_WAIT_PRIVATE, r, NULL);
}

/* The round of the last fork gate: a thread asked in that round only
 * acknowledges that it is outside its regions, and goes on. */
static _Atomic uint32_t fork_round;
_Atomic uint32_t tc_fork_gate;

static void acknowledge(struct gthread *t, uint32_t seq) {
    atomic_store_explicit(&t->ack_seq, seq, memory_order_release);
    tc_futex(&t->ack_seq, FUTEX_WAKE_PRIVATE, 1, NULL);
}

__thread volatile unsigned tc_gc_signals_taken __attribute__((tls_model("initial-exec")));

static void suspend_handler(int sig, siginfo_t *si, void *uc) {
    (void)sig, (void)si, (void)uc;
    int saved = errno;
    struct gthread *t = tc_gthread;
    tc_gc_signals_taken++;
    if (t) {
        uint32_t seq = atomic_load_explicit(&t->suspend_seq, memory_order_acquire);
        if (!reached(atomic_load_explicit(&t->ack_seq, memory_order_relaxed), seq)) {
            if (tc_region_depth) tc_region_pending = 1;
            else if (seq == atomic_load(&fork_round)) acknowledge(t, seq);
            else if (TC_TSAN && atomic_load_explicit(&t->park, memory_order_relaxed) != PARK_RUNNING)
                tc_futex(&t->ack_seq, FUTEX_WAKE_PRIVATE, 1, NULL); /* wait_stopped holds it */
            else stop_here(t, seq, tc_current_sp()); /* the signal frame is above */
        }
    }
    errno = saved;
}

/* The end of a region: the callers' registers into this frame, which
 * stays until the stop is over (gc/park.h). */
static __attribute__((noinline)) void stop_spilled(struct gthread *t, uint32_t seq) {
    uintptr_t regs[TC_SPILL_WORDS];
    tc_spill_regs(regs);
    stop_here(t, seq, tc_current_sp());
    TC_KEEP(regs);
}

static _Atomic uint32_t handshake_round; /* written under the registry lock */

/* The end of an outermost region, with a stop asked for (or a program
 * signal held for it): stop here if this thread is among the asked. */
static void region_exit_stop(struct gthread *t) {
    /* Outside a region now: a handshake under way need not see depth 0. */
    atomic_store_explicit(&t->outside_round,
                          atomic_load_explicit(&handshake_round, memory_order_acquire),
                          memory_order_release);
    (void)atomic_load_explicit(&tc_stop_poll, memory_order_acquire); /* then suspend_seq */
    uint32_t seq = atomic_load_explicit(&t->suspend_seq, memory_order_acquire);
    if (reached(atomic_load_explicit(&t->ack_seq, memory_order_relaxed), seq)) return;
    if (seq == atomic_load(&fork_round)) {
        acknowledge(t, seq);
        return;
    }
    stop_spilled(t, seq);
}

void tc_gc_region_exit_slow(void) {
    struct gthread *t = tc_gthread;
    tc_region_pending = 0;
    if (!t) return;
    region_exit_stop(t);
    if (atomic_load_explicit(&t->ndeferred, memory_order_relaxed)) tc_signals_redeliver(t);
}

/* Entering an outermost region (depth 1 already) while a stop is asked
 * for: if this thread is among the asked, leave, stop (or acknowledge),
 * and enter again; the poll is read again after each entry, which is what
 * lets a stop take a thread outside its regions as stopped. */
void tc_gc_region_enter_slow(void) {
    struct gthread *t = tc_gthread;
    if (!t) return;
    for (;;) {
        atomic_thread_fence(memory_order_seq_cst); /* the depth, then suspend_seq (arm) */
        uint32_t seq = atomic_load_explicit(&t->suspend_seq, memory_order_acquire);
        if (reached(atomic_load_explicit(&t->ack_seq, memory_order_relaxed), seq)) return;
        atomic_signal_fence(memory_order_seq_cst);
        TC_SET_DEPTH(0);
        atomic_signal_fence(memory_order_seq_cst);
        tc_gc_region_exit_slow();
        TC_SET_DEPTH(1);
        atomic_signal_fence(memory_order_seq_cst);
        if (!atomic_load_explicit(&tc_stop_poll, memory_order_acquire)) return;
    }
}

/* An outermost gc region was entered with the gate closed: leave it
 * (acknowledging if asked), wait for the gate to open, enter again. The
 * gate was closed before the request was sent, so a thread that
 * acknowledged outside a region sees it closed at its next entry. */
void tc_fork_gate_wait(void) {
    do {
        tc_region_end();
        while (atomic_load(&tc_fork_gate)) tc_futex(&tc_fork_gate, FUTEX_WAIT_PRIVATE, 1, NULL);
        tc_region_begin();
    } while (atomic_load(&tc_fork_gate));
}

/* ---- signal installation ---- */

static void install_signal(void) {
    int sig = tc_gc_signal_choose(tc_gc_signal_reserved(), 0);
    if (!sig) tc_fatal("no free real-time signal for the collector");
    memset(&installed, 0, sizeof installed);
    installed.sa_sigaction = suspend_handler;
    installed.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&installed.sa_mask);
    if (tc_real_sigaction(sig, &installed, NULL) != 0) tc_fatal("cannot install the gc signal %d", sig);
    __atomic_store_n(&gc_signal, sig, __ATOMIC_RELAXED); /* others read it (tc_gc_signal) */
}

static void check_signal(void) {
    struct sigaction now;
    if (tc_real_sigaction(gc_signal, NULL, &now) == 0 && now.sa_sigaction != suspend_handler)
        tc_fatal("the program replaced the handler of signal %d, which the collector uses "
                 "(choose another with GODEBUG=gcsignal=N)", gc_signal);
}

/* ---- the stop protocol, collector side (registry lock held) ---- */

/* How long a stop waits for threads to notice tc_stop_poll before it
 * signals the rest: long enough for a running thread between two
 * allocations, short against the signal's own cost. */
#define POLL_NS 20000

static inline void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

static void ask(struct gthread *t, uint32_t seq) {
    atomic_store_explicit(&t->suspend_seq, seq, memory_order_release);
}

static int acked(struct gthread *t, uint32_t seq) {
    return reached(atomic_load_explicit(&t->ack_seq, memory_order_acquire), seq);
}

/* t parked after it was asked: hold it, and acknowledge for it (a held
 * thread runs none of our code until it is let go, so the word is ours),
 * or it would stop for this round at its next region exit. */
static int hold_late(struct gthread *t, uint32_t seq) {
    if (!tc_hold(t)) return 0;
    atomic_store_explicit(&t->ack_seq, seq, memory_order_relaxed);
    return 1;
}

static _Atomic uint64_t nsignals;
uint64_t tc_stop_signals(void) { return atomic_load(&nsignals); }

static void signal_thread(struct gthread *t) {
    atomic_fetch_add(&nsignals, 1);
    if (pthread_kill(t->tid, gc_signal) != 0 && !tc_thread_gone(t))
        tc_fatal("cannot signal thread %p to stop", (void *)t->tid);
}

/* t is inside a gc region; meaningful after fence_all (acquire: a 0 read
 * from the release at a region's end shows what the region wrote). */
static int in_region(struct gthread *t) { return __atomic_load_n(t->depth, __ATOMIC_ACQUIRE) != 0; }

/* Wait until t has stopped for round seq. signalled: it was sent the gc
 * signal; otherwise it was inside a gc region after an armed request
 * (gather_inside), and having left the region is enough: it may have read
 * the request too early to stop, but it will not enter another region
 * unasked. Such a thread wakes nobody as it leaves, hence the short
 * timeout. Under ThreadSanitizer, if may_hold, a signalled thread that
 * parks meanwhile is held, as gather's poll would have: TSan holds its
 * signal until an intercepted call, which a parked wait for a lock never
 * makes; its handler, if it runs, leaves a parked thread to this. Warns
 * every 5 s. */
static void wait_stopped(struct gthread *t, uint32_t seq, int signalled, int may_hold) {
    struct timespec ts = {0, signalled ? 10 * 1000 * 1000 : 50 * 1000};
    uint64_t start = tc_nanotime(), warn = start + 5000000000u;
    uint32_t a;
    while (!reached(a = atomic_load_explicit(&t->ack_seq, memory_order_acquire), seq) &&
           !tc_thread_gone(t) && (signalled || in_region(t)) &&
           !(TC_TSAN && may_hold && hold_late(t, seq))) {
        tc_futex(&t->ack_seq, FUTEX_WAIT_PRIVATE, a, &ts);
        uint64_t now = tc_nanotime();
        if (now < warn) continue;
        warn += 5000000000u;
        unsigned secs = (unsigned)((now - start) / 1000000000u);
        if (signalled) /* the signal may be blocked */
            tc_print("tricolor: warning: thread %p has not stopped for %u s (gc signal %d blocked?)",
                     (void *)t->tid, secs, gc_signal);
        else
            tc_print("tricolor: warning: thread %p has not left a collector call for %u s",
                     (void *)t->tid, secs);
    }
}

static int is_self(struct gthread *t) { return t == tc_gthread; }

/* ---- the handshake: every thread past a region boundary, none stopped ----
 *
 * Turning the barrier on needs no stop (cycle.c): only that each thread,
 * from some point on, reads the new phase in its gc regions. A thread
 * outside its regions will; one inside may have read the old phase, and
 * is waited for until it leaves. Reading another thread's depth is a
 * Dekker race (it stores its depth, then loads the phase; we store the
 * phase, then load its depth), and the thread's side must stay free of
 * fences: it is every gc_alloc and gc_store. membarrier gives the fence
 * to every running thread of the process at once (a thread that is not
 * running passed one when it was switched out), so after it either we
 * see the thread's depth or it sees our phase. Costs tens of
 * microseconds on this kind of machine, but stops nobody. A thread whose
 * regions follow one another may seldom be seen at depth 0, so while a
 * handshake runs the poll is up, every region end takes the slow path,
 * and there the thread records the handshake round it read
 * (outside_round): having read it, its next region reads the phase
 * stored before it. */
static int membarrier_ok; /* 1 registered, -1 unavailable, 0 untried; registry lock */

/* Registering waits for an RCU grace period once the process has more
 * than one thread, so it is done while there is likely only one: at
 * start-up and in a forked child. Done by the first handshake instead,
 * it held up the first cycle's start while the program allocated
 * freely, without assists. */
static void membarrier_register(void) {
    long r = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
    membarrier_ok = r == 0 ? 1 : -1;
}

void tc_stw_init(void) {
    if (!tc_gc_opts.fullstop && !TC_TSAN) membarrier_register();
}

/* ThreadSanitizer does not model membarrier's fences, so under it every
 * stop is full: a handshake of acquire and release it does see. */
static int fence_all(void) {
    if (TC_TSAN) return 0;
    for (int tries = 0; tries < 2; tries++) {
        if (membarrier_ok == 0) membarrier_register();
        if (membarrier_ok < 0) return 0;
        if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0) return 1;
        membarrier_ok = 0; /* say, a forked child not registered yet: once more */
    }
    return 0;
}

static void poll_end(void) {
    if (atomic_exchange(&tc_stop_poll, 0) == 2)
        tc_futex(&tc_stop_poll, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
}

void tc_stop_poll_wait(void) {
    uint32_t v = 1;
    if (atomic_compare_exchange_strong(&tc_stop_poll, &v, 2) || v == 2)
        tc_futex(&tc_stop_poll, FUTEX_WAIT_PRIVATE, 2, NULL);
}

/* t has been outside its regions since round r began: seen so, or it
 * said so as it left one (a thread whose regions follow each other
 * closely may never be seen at depth 0). */
static void wait_outside(struct gthread *t, uint32_t r) {
    for (unsigned i = 0; !tc_thread_gone(t) && in_region(t) &&
                         atomic_load_explicit(&t->outside_round, memory_order_acquire) != r;
         i++) {
        if (i < 4096) {
            spin_pause();
        } else { /* not running, probably: give it the CPU */
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
    }
}

int tc_handshake(void) {
    if (tc_gc_opts.fullstop) return 0;
    uint32_t down = 0; /* the poll sends region ends to tc_gc_region_exit_slow */
    int raised = atomic_compare_exchange_strong(&tc_stop_poll, &down, 1);
    uint32_t r = atomic_load_explicit(&handshake_round, memory_order_relaxed) + 1;
    if (r == 0) r = 1; /* 0 is a new record's */
    atomic_store(&handshake_round, r); /* after the caller's stores, before the fence */
    int ok = fence_all();
    if (ok)
        for (struct gthread *t = tc_registry_first(); t; t = t->next)
            if (!is_self(t)) wait_outside(t, r);
    if (raised) poll_end();
    return ok;
}

/* The threads of a round: one, or all but the caller; never held ones,
 * nor late ones that have exited (gc/threads.c). */
#define FOR_ASKED(t, one)                                                                  \
    for (struct gthread *t = (one) ? (one) : tc_registry_first(); t; t = (one) ? NULL : t->next) \
        if (!is_self(t) && !t->held && !tc_thread_gone(t))

/* Every thread asked for round seq has acknowledged: first by polling
 * (holding those that park meanwhile, if may_hold), then by signal. The
 * poll stays up until the threads go again (poll_end), so a mark worker
 * that yielded its CPU sleeps through the whole stop. */
static void gather(uint32_t seq, struct gthread *one, int may_hold) {
    uint32_t down = 0; /* up already (tc_stop_world_rest): a worker may wait on 2 */
    atomic_compare_exchange_strong(&tc_stop_poll, &down, 1); /* after the suspend_seq stores */
    uint64_t until = tc_nanotime() + POLL_NS;
    int left;
    do {
        left = 0;
        FOR_ASKED(t, one) if (!acked(t, seq) && !(may_hold && hold_late(t, seq))) left++;
        if (!left) break;
        spin_pause();
    } while (tc_nanotime() < until);
    if (!left) return;
    FOR_ASKED(t, one) if (!acked(t, seq)) signal_thread(t);
    FOR_ASKED(t, one) wait_stopped(t, seq, 1, may_hold);
}

/* ---- the stop that reads no stack (mark termination) ----
 *
 * Such a stop need not wait for the threads outside their regions: while
 * asked, none can enter one (tc_gc_region_enter_slow), and outside one a
 * thread touches nothing the collector changes while the world is
 * stopped; it is the same as one signalled there. So only the threads
 * inside a region are waited for, and they stop as they leave it. Telling
 * them apart is the handshake's Dekker race again, but a membarrier
 * inside the pause would put the machine's slowest interrupt into it
 * (tens of microseconds, at times milliseconds, on a virtual machine). It
 * is done before the pause instead: the collector raises the poll (arm),
 * and after the membarrier every thread either shows the depth of the
 * region it is in, or enters its next region by the slow path, which
 * fences (tc_gc_region_enter_slow). Then asking is a plain store, a
 * fence and a read of each depth: a thread whose depth reads 0 will see
 * the request at its next entry. Meanwhile threads only pay the slow
 * path's loads and a fence per region; nobody waits. The arming is the
 * handshake itself: it also waits until each thread has been outside its
 * regions once, so that a thread the kernel preempted inside one (often
 * for the collector itself, on a machine with few CPUs) runs out of it
 * before the pause rather than during it. */
static int arm(void) {
    atomic_store(&tc_stop_poll, 1);
    if (tc_handshake()) return 1;
    poll_end();
    return 0;
}

/* Armed, and the threads asked: wait for the ones inside a region. */
static void gather_inside(uint32_t seq) {
    atomic_thread_fence(memory_order_seq_cst); /* the suspend_seq stores, then the depths */
    uint64_t until = tc_nanotime() + POLL_NS;
    int left;
    do {
        left = 0;
        FOR_ASKED(t, NULL) if (!acked(t, seq) && in_region(t)) left++;
        if (!left) return;
        spin_pause();
    } while (tc_nanotime() < until);
    FOR_ASKED(t, NULL) wait_stopped(t, seq, 0, 0);
}

/* Every thread stopped in this round may go on: the store lets it, the
 * wake-up gets it off the futex. */
static void release_round(void) {
    atomic_store_explicit(&resume_round, round_seq, memory_order_release);
}

static void wake_round(void) { tc_futex(&resume_round, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL); }

int tc_gc_signal(void) { return __atomic_load_n(&gc_signal, __ATOMIC_RELAXED); }

void tc_stop_prepare(void) {
    if (!gc_signal) install_signal();
    check_signal();
}

/* A parked thread is held instead of asked (gc/park.c). The pause begins
 * with the first request, after the arming. */
uint64_t tc_stop_world(int stacks) {
    TC_ASSERT(gc_signal != 0); /* tc_stop_prepare ran */
    int armed = !stacks && !tc_gc_opts.fullstop && arm();
    uint64_t t0 = tc_nanotime();
    uint32_t seq = ++round_seq;
    for (struct gthread *t = tc_registry_first(); t; t = t->next)
        if (!is_self(t) && !t->dead && !tc_hold(t)) ask(t, seq);
    if (armed) gather_inside(seq);
    else gather(seq, NULL, 1);
    return t0;
}

/* The threads the last tc_stop_world(0) left running outside their
 * regions stop too, in the same round: as they would have had it been
 * tc_stop_world(1), but the stop that decided mark termination was the
 * lighter one, which is what the checkmark then verifies. */
void tc_stop_world_rest(void) { gather(round_seq, NULL, 1); }

/* A parked thread cannot be inside a region: it is skipped, and it meets
 * the closed gate at its next gc region. */
void tc_fork_gate_close(void) {
    tc_stop_prepare();
    atomic_store(&tc_fork_gate, 1);
    uint32_t seq = ++round_seq;
    atomic_store(&fork_round, seq);
    for (struct gthread *t = tc_registry_first(); t; t = t->next)
        t->held = !is_self(t) && atomic_load(&t->park) != PARK_RUNNING;
    for (struct gthread *t = tc_registry_first(); t; t = t->next)
        if (!is_self(t) && !t->held) ask(t, seq);
    gather(seq, NULL, 0);
    poll_end();
    for (struct gthread *t = tc_registry_first(); t; t = t->next) t->held = 0;
}

void tc_fork_gate_open(void) {
    atomic_store(&tc_fork_gate, 0);
    tc_futex(&tc_fork_gate, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
}

/* The pause ends when every thread may go: before the wake-up system
 * calls, as Go's mark termination ends its pause before it starts the
 * world. A woken thread often takes the collector's CPU inside the wake
 * call, and the collector then reads the clock a whole time slice later,
 * while the program runs; that is not a pause. */
uint64_t tc_start_world(void) {
    int stopped = 0;
    for (struct gthread *t = tc_registry_first(); t; t = t->next) {
        if (t->held) tc_unhold(t);
        else stopped |= !is_self(t);
    }
    release_round();
    uint64_t now = tc_nanotime();
    if (stopped) wake_round();
    for (struct gthread *t = tc_registry_first(); t; t = t->next) tc_unhold_wake(t);
    poll_end(); /* the mark workers after the program's threads */
    return now;
}

void tc_suspend_thread(struct gthread *t) {
    TC_ASSERT(gc_signal != 0); /* tc_stop_prepare ran */
    uint32_t seq = ++round_seq;
    if (tc_hold(t)) return;
    ask(t, seq);
    gather(seq, t, 1);
}

void tc_resume_thread(struct gthread *t) {
    if (t->held) {
        tc_unhold(t);
        tc_unhold_wake(t);
    } else {
        release_round();
        wake_round();
    }
    poll_end();
}

uint32_t tc_stop_round(void) { return round_seq; }

void tc_stw_after_fork_child(void) {
    atomic_store(&tc_fork_gate, 0);
    if (membarrier_ok > 0) membarrier_register(); /* a new process, with one thread */
    tc_registry_after_fork_child();
}
