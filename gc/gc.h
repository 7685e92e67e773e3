/* gc/gc.h: the collector's shared state and its modules' interfaces.
 *
 * Modules: cycle.c (the driver: phases, pacing, gc_collect, statistics),
 * threads.c (thread registry, pthread_create), stw.c (signals, stopping
 * and starting the world, the handshake), roots.c (globals, TLS,
 * registered ranges), mark.c (work queue, shading, scanning, assists),
 * barrier.c (gc_store, write-barrier buffers; gc/barrier.h), bulkbarrier.c
 * (gc_memmove...), sweep.c (sweeping spans), finalizer.c, verify.c
 * (checkmark mode), api.c (gc_alloc, gc_free...).
 *
 * Phases: GC_OFF (no barrier; sweeping may be under way), GC_MARKSTART
 * (barrier on, allocate white, nothing scanned yet: while the collector
 * waits for every thread to see the barrier, cycle.c), GC_MARK (barrier
 * on, allocate black, roots and heap marked concurrently), GC_MARKTERM
 * (world stopped, marking finished). A thread reads the phase inside a
 * gc region; OFF -> MARKSTART -> MARK change while threads run, MARK ->
 * MARKTERM -> OFF only while the world is stopped.
 *
 * Locks: their ranks (the order they are taken in) and their region
 * rules are in alloc/lockrank.h, checked in debug builds. While the world
 * is stopped the collector takes only the registry, roots, finalizer,
 * GC-class mcentral and work-queue locks: a suspended thread is never
 * inside a region that holds one of them (gc regions, below), and it may
 * hold the heap lock or a malloc-class mcentral lock, which the collector
 * therefore never takes during a stop.
 */
#ifndef TC_GC_GC_H
#define TC_GC_GC_H

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "alloc/base.h"
#include "alloc/mheap.h"
#include "alloc/mspan.h"
#include "alloc/region.h"
#include "gc/assist.h"
#include "gc/barrier.h"
#include "gc/pacing.h"
#include "gc/stats.h"

enum gcphase { GC_OFF = 0, GC_MARKSTART = 1, GC_MARK = 2, GC_MARKTERM = 3 };
TC_INTERNAL extern _Atomic int tc_gcphase;

#define TC_DEFERRED_SIGNALS 8 /* program signals held per thread for a region's end */

/* A registered thread. Owned by the thread; the collector reads it while
 * the thread is suspended, or under the registry lock. */
struct gthread {
    struct gthread *next;          /* registry list; registry lock */
    pthread_t tid;
    uintptr_t stack_lo, stack_hi;  /* the stack mapping's bounds [lo, hi) */
    /* TLS (gc/tls.c), set at registration: the thread pointer, where the
     * thread's DTV pointer lives, and its static TLS area [lo, hi). */
    uintptr_t tp;
    void *dtv;
    uintptr_t static_lo, static_hi;
    /* Suspension protocol (futex words, sequence numbers). */
    _Atomic uint32_t suspend_seq;  /* collector: "stop for round N" */
    _Atomic uint32_t ack_seq;      /* thread: "stopped for round N" */
    uintptr_t sp;                  /* stack pointer while stopped */
    /* Other stacks (gc/stacks.c); owner writes, collector reads stopped. */
    uintptr_t alt_lo, alt_hi;      /* the alternate signal stack last run on */
    uintptr_t alt_from_sp;         /* sp the thread entered it from; 0: unknown */
    uintptr_t own_saved_sp;        /* sp where it left its own stack for a user
                                    * stack (gc_switch_stack); 0: on it */
    /* Parking (gc/park.c): a thread blocked in a call that cannot touch
     * the collected heap is taken as stopped without a signal. */
    _Atomic uint32_t park;         /* PARK_*: see park.c */
    uintptr_t park_sp;             /* owner: stack pointer while parked */
    int held;                      /* collector: took it as stopped; registry lock */
    int held_woke;                 /* collector: woke while held, needs a wake-up; registry lock */
    /* Thread: the handshake round it saw last as it left a region while
     * the poll was up (gc/stw.c, tc_handshake). */
    _Atomic uint32_t outside_round;
    /* The thread's tc_region_depth (its TLS, written by it alone): the
     * collector reads it, ordered by a membarrier (tc_handshake, and
     * the arming of a stop that reads no stack: gc/stw.c). */
    int *depth;
    /* Write-barrier buffer (gc/barrier.c): owner only (or stopped). */
    struct wbbuf wbbuf;
    /* Thread exit (gc/threads.c). */
    unsigned dtor_rounds;  /* owner: times the exit key's destructor ran */
    /* Registered by a destructor after its last round (late): nothing
     * unregisters it, so the collector checks it for death (alive, a
     * robust mutex the thread holds until it dies) and reaps it. */
    int late;              /* set at registration */
    int dead;              /* collector, registry lock: its thread is gone */
    pthread_mutex_t alive; /* robust; held by a late thread */
    pid_t ktid;            /* the kernel's id of the thread */
    /* Program signals that arrived inside a gc region, sent again at its
     * end (gc/signals.c); owner only, from its signal handlers. */
    _Atomic int ndeferred;
    int deferred_sig[TC_DEFERRED_SIGNALS];
    siginfo_t deferred_si[TC_DEFERRED_SIGNALS];
};

/* This thread's record, or NULL if it is not registered. */
TC_INTERNAL extern __thread struct gthread *tc_gthread
    __attribute__((tls_model("initial-exec")));

/* ---- park.c ---- */
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

/* The futex system call on a 32-bit word (stw.c and park.c). */
TC_INLINE long tc_futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts) {
    return syscall(SYS_futex, (uint32_t *)w, op, val, ts, NULL, 0);
}
/* The runtime's own blocking waits, parked; they hold no lock. */
TC_INTERNAL long tc_parked_futex_wait(_Atomic uint32_t *w, uint32_t v);
TC_INTERNAL void tc_futex_wake_all(_Atomic uint32_t *w);
TC_INTERNAL int tc_parked_sem_wait(sem_t *s);
TC_INTERNAL int tc_parked_mutex_lock(pthread_mutex_t *m);
struct sigaction;
/* sigaction itself, past the interposition that wraps the program's
 * handlers (the collector's own handler is not wrapped). */
TC_INTERNAL int tc_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
TC_INTERNAL int tc_gc_signal(void); /* 0 until installed */
/* ---- signals.c ---- */
/* Choose the collector's signal: want if it is a free real-time signal
 * (else say so, if warn), or the first free one from SIGRTMIN+4; 0 if
 * none. Remembered as the reserved signal. */
TC_INTERNAL int tc_gc_signal_choose(int want, int warn);
TC_INTERNAL int tc_gc_signal_reserved(void);
/* set without the collector's signal (in buf), or NULL for NULL. */
TC_INTERNAL const sigset_t *tc_without_gc_signal(const sigset_t *set, sigset_t *buf);
TC_INTERNAL void tc_unblock_gc_signal(void); /* in the calling thread */
TC_INTERNAL int tc_real_pthread_sigmask(int how, const sigset_t *set, sigset_t *old);
/* At the end of t's outermost region: send again the program's signals
 * that arrived inside it (t is the calling thread). */
TC_INTERNAL void tc_signals_redeliver(struct gthread *t);

/* ---- threads.c ---- */
TC_INTERNAL void tc_threads_init(void); /* registers the calling thread */
TC_INTERNAL struct gthread *tc_thread_register(void);
TC_INTERNAL void tc_thread_unregister(void);
TC_INTERNAL void tc_registry_lock(void);
TC_INTERNAL void tc_registry_unlock(void);
TC_INTERNAL struct gthread *tc_registry_first(void); /* registry lock held */
TC_INTERNAL uint32_t tc_registry_count(void);
TC_INTERNAL void tc_registry_after_fork_child(void); /* only the caller is left */
/* Registry lock held: 1 if t is a late record whose thread has exited (it
 * is then marked dead and never stopped, signalled or scanned again). */
TC_INTERNAL int tc_thread_gone(struct gthread *t);
/* Registry lock held: unlink dead records (not while a walk is under way). */
TC_INTERNAL void tc_registry_reap(void);
/* Exit values of joinable threads not joined yet: scan() each (registry
 * lock held by the caller). */
TC_INTERNAL void tc_exit_values_each(void (*scan)(uintptr_t lo, uintptr_t hi));
/* After a join that returned rc: store v into *ret, forget the value. */
TC_INTERNAL int tc_thread_joined(int rc, pthread_t tid, void *v, void **ret);

/* ---- stw.c ---- */
/* The last stop round (registry lock held): a new record starts there. */
TC_INTERNAL uint32_t tc_stop_round(void);
/* Install the stop signal if needed and check that it is still ours;
 * before tc_stop_world or tc_suspend_thread, outside the timed pause. */
TC_INTERNAL void tc_stop_prepare(void);
/* A mark worker gives its CPU to the threads a stop waits for: it sleeps
 * while tc_stop_poll is up. */
TC_INTERNAL void tc_stop_poll_wait(void);
/* Stop every registered thread but the caller (registry lock held), and
 * return when the pause began (tc_nanotime). With stacks 0 the caller
 * will not read the threads' stacks or registers, and a thread outside
 * its regions may be left running (gc/stw.c, gather_inside). */
TC_INTERNAL uint64_t tc_stop_world(int stacks);
/* After tc_stop_world(0), in the same pause: stop the threads it left
 * running, so every stack can be read (the checkmark). */
TC_INTERNAL void tc_stop_world_rest(void);
/* Returns when every thread was let go, before the wake-up calls
 * (tc_nanotime). */
TC_INTERNAL uint64_t tc_start_world(void);
/* Registry lock held: return once every other registered thread has been
 * outside its gc regions since the call, so its next region sees every
 * store made before it; no thread is stopped. Returns 0, having done
 * nothing, if the kernel has no membarrier or GODEBUG=gcfullstop=1: the
 * caller stops the world instead. */
TC_INTERNAL int tc_handshake(void);
/* Stop one thread, so its stack can be scanned; then resume it. */
TC_INTERNAL void tc_suspend_thread(struct gthread *t);
TC_INTERNAL void tc_resume_thread(struct gthread *t);
TC_INTERNAL void tc_stw_after_fork_child(void);
TC_INTERNAL uint64_t tc_stop_signals(void); /* signals sent, since start */

/* The fork gate (registry lock held): close it and return once every other
 * registered thread is outside its gc regions; it then enters none until
 * the gate opens. Threads outside regions are not stopped, only asked. */
TC_INTERNAL void tc_fork_gate_close(void);
TC_INTERNAL void tc_fork_gate_open(void);
TC_INTERNAL extern _Atomic uint32_t tc_fork_gate; /* 1 while closed */
TC_INTERNAL void tc_fork_gate_wait(void);
/* Whether fork needs the gate: set by the first gc_alloc, before its region. */
TC_INTERNAL extern _Atomic int tc_collected_used;
TC_INTERNAL void tc_note_collected_use(void);

/* Enter a gc region (alloc/region.h) as a registered thread: code that
 * takes locks the collector takes while the world is stopped (GC-class
 * mcentral, work queue, roots) or that must not be split by a stop (the
 * barrier, allocate-black). An outermost entry waits while the fork gate
 * is closed. Leave with tc_region_end(). */
TC_INLINE struct gthread *tc_region_enter(void) {
    struct gthread *t = tc_gthread;
    if (TC_UNLIKELY(!t)) t = tc_thread_register();
    /* Nothing runs parked: the program's handlers unpark (gc/park.c). */
    TC_ASSERT(atomic_load_explicit(&t->park, memory_order_relaxed) == PARK_RUNNING);
    tc_region_begin();
    if (TC_UNLIKELY(atomic_load_explicit(&tc_fork_gate, memory_order_relaxed) != 0) &&
        tc_region_depth == 1)
        tc_fork_gate_wait();
    return t;
}

/* ---- roots.c ---- */
TC_INTERNAL void tc_roots_refresh_globals(void); /* concurrent only */
TC_INTERNAL void tc_roots_mark(void);           /* globals, ranges, TLS */
TC_INTERNAL void tc_roots_lock(void);
TC_INTERNAL void tc_roots_unlock(void);
TC_INTERNAL void tc_roots_after_fork_child(void); /* fork's prepare holds the lock */
TC_INTERNAL int tc_roots_remove_object(uintptr_t p); /* gc_free */
/* Call scan on the globals listed at the cycle's start (unless a dlclose
 * may have unmapped some since) and on every registered range, and
 * object on each range's start (roots lock held; the checkmark). */
TC_INTERNAL void tc_roots_each(void (*scan)(uintptr_t lo, uintptr_t hi),
                               void (*object)(uintptr_t p));
/* ---- stacks.c ---- */
/* A program handler starts (returns 1 if it entered an alternate stack),
 * and ends (with what enter returned); async-signal-safe. */
TC_INTERNAL int tc_stack_handler_enter(struct gthread *t, void *uc);
TC_INTERNAL void tc_stack_handler_leave(struct gthread *t, int entered);
/* The thread publishes sp to stop or park: note the stack it is on. */
TC_INTERNAL void tc_stack_note_sp(struct gthread *t, uintptr_t sp);
/* scan() what is live on every stack of t, stopped (roots lock held). */
TC_INTERNAL void tc_thread_stacks_each(struct gthread *t, void (*scan)(uintptr_t lo, uintptr_t hi));
/* scan() the suspended user stacks (roots lock held). */
TC_INTERNAL void tc_user_stacks_each(void (*scan)(uintptr_t lo, uintptr_t hi));

/* ---- tls.c ---- */
TC_INTERNAL void tc_thread_record_tls(struct gthread *t); /* the thread itself */
TC_INTERNAL void tc_tls_init(void);    /* once, at start-up */
TC_INTERNAL void tc_tls_refresh(void); /* collector thread, each cycle */
/* scan() the parts of [lo, hi) that can be read, page by page (collector
 * thread, or with the world stopped). */
TC_INTERNAL void tc_scan_mapped(uintptr_t lo, uintptr_t hi, void (*scan)(uintptr_t lo, uintptr_t hi));
/* scan() each TLS block of t, stopped (or the caller itself). */
TC_INTERNAL void tc_thread_tls_each(struct gthread *t, void (*scan)(uintptr_t lo, uintptr_t hi));

/* The allocated object of a collected span that address p points into
 * (interior pointers included): its span, and its slot in *idx. NULL when
 * p is outside the heap, in a free span or slot, past the last slot, or
 * in malloc'd memory. Lock-free: reads racy but validated fields, as the
 * marker must for any word that may look like a pointer.
 *
 * While marking (the only time it is called) a collected span's slots are
 * only ever allocated: the sweep frees them, and every span was swept
 * before marking began. So a span whose count says full has no free slot,
 * and its allocation bits (a cache miss of their own, on a line apart
 * from the span's) need not be read. tc_object_slot is that last step,
 * for a span already validated: the slot p is in, and whether it is
 * allocated. */
TC_INLINE int tc_object_slot(struct mspan *s, uintptr_t p, unsigned *idx) {
    unsigned i = (unsigned)(((p - s->startAddr) * s->divMul) >> 32);
    *idx = i;
    return tc_mspan_count(s) == s->nelems || (tc_bits_load(&s->allocBits[i >> 6]) >> (i & 63) & 1);
}

/* Both bounds are checked (Go's findObject): a malloc'd span found here
 * may be freed meanwhile and its struct reused for a span at a higher
 * address, and p - startAddr would then wrap. */
TC_INLINE struct mspan *tc_find_object(uintptr_t p, unsigned *idx) {
    if (p - tc_heap_lo >= tc_heap_hi - tc_heap_lo) return NULL;
    struct mspan *s = tc_spanof(p);
    if (!s || __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != MSPAN_INUSE ||
        p - s->startAddr >= s->limit - s->startAddr)
        return NULL;
    if (tc_spanclass_kind(s->spanclass) == SPAN_MANUAL) return NULL;
    return tc_object_slot(s, p, idx) ? s : NULL;
}

/* ---- mark.c ---- */
/* Grey the object containing p, if p points into a collected object. */
TC_INTERNAL void tc_shade(uintptr_t p);
/* Shade every word of [lo, hi) (conservative root or object scan). */
TC_INTERNAL void tc_scan_range(uintptr_t lo, uintptr_t hi);
/* The collector thread's marking (marker slot 0; mark.c): drain grey
 * objects until none is left or budget bytes were scanned (0: no limit),
 * or sleep a little when the pacer gives the slot no time now. Returns
 * bytes scanned. */
TC_INTERNAL uint64_t tc_drain(uint64_t budget);
/* The same for an assist, inside a gc region: it also returns early once a
 * stop is asked for (tc_stop_poll), so the region ends and the thread
 * stops without making the pause wait for its debt. */
TC_INTERNAL uint64_t tc_drain_assist(uint64_t budget);
TC_INTERNAL int tc_work_empty(void);
TC_INTERNAL void tc_mark_reset(void);
/* Bytes marked this cycle, allocations included, and in *traced those
 * the marking found (allocate-black excluded); zeroes the Ps' counts
 * (mark termination, world stopped). */
TC_INTERNAL uint64_t tc_mark_bytes_take(uint64_t *traced);
/* Allocate black: mark obj, allocated by the caller on its P pp. */
TC_INTERNAL void tc_mark_black(struct p *pp, struct mspan *s, uintptr_t obj);
/* Grey the objects p[0..n) point into, in one marking context (a
 * write-barrier buffer's flush, gc/barrier.c). */
TC_INTERNAL void tc_shade_batch(const uintptr_t *p, unsigned n);
/* Root bytes scanned since the last call (tc_scan_range). */
TC_INTERNAL uint64_t tc_mark_root_scanned_take(void);
TC_INTERNAL void tc_mark_start_workers(void);
TC_INTERNAL void tc_mark_wake_workers(int on);
TC_INTERNAL void tc_mark_after_fork_child(void);

/* ---- sweep.c (plus gc/hooks.h) ---- */
TC_INTERNAL int tc_sweep_done(void);
TC_INTERNAL uint64_t tc_sweep_freed(void);
TC_INTERNAL uint64_t tc_sweep_freed_bytes(void);
/* World stopped: h += 2; every collected span goes to its mcentral's
 * unswept list (cached ones too); tiny blocks are dropped. */
TC_INTERNAL void tc_sweep_begin_stopped(void);

/* ---- finalizer.c ---- */
TC_INTERNAL void tc_finalizers_mark(void);  /* shade what they reach */
/* Sweeping s (mcentral lock held): queue finalizers of unmarked objects
 * and keep those objects (set their mark bits). */
TC_INTERNAL void tc_finalizers_sweep(struct mspan *s);
TC_INTERNAL uint64_t tc_finalizers_run_count(void);
/* Walk what finalizers keep alive: scan() each finalizer object's
 * contents, object() each queued object (the marker and the checkmark). */
TC_INTERNAL void tc_finalizers_roots(void (*scan)(uintptr_t lo, uintptr_t hi),
                                     void (*object)(uintptr_t p));
TC_INTERNAL void tc_finalizers_after_fork_child(void);

/* ---- verify.c ---- */
TC_INTERNAL void tc_checkmark(void); /* world stopped, marking done */

/* ---- cycle.c ---- */
TC_INTERNAL void tc_gc_init(void);
/* GOMAXPROCS (the environment's, else the CPUs online): marker slots. */
TC_INTERNAL int tc_gc_procs(void);
/* gcstress: count an allocation; every stress-th asks for a cycle. */
TC_INTERNAL void tc_gc_stress_tick(void);
/* Tests only: when set, the collector thread calls it at these points of
 * every cycle, outside any stop and lock, so a test can act at a known
 * moment of the mark phase (tests/gc/edges.c). */
enum tc_gc_point {
    TC_GC_POINT_START = 3, /* sweeping done, the loaded objects listed */
    TC_GC_POINT_ROOTS = 1, /* globals, ranges, finalizers marked; no stack yet */
    TC_GC_POINT_STACKS = 2 /* every stack scanned; mark termination next */
};
TC_INTERNAL extern void (*tc_gc_testhook)(enum tc_gc_point);
/* Set by a hook while it holds the cycle at its point: marking makes no
 * progress then, so an assist does not wait for it (it would wait for the
 * test, which waits for the assisting thread). */
TC_INTERNAL extern _Atomic int tc_gc_testhook_holding;

struct tc_gc_options {
    int gctrace;
    int checkmark;
    int signal; /* 0: choose */
    int fullstop; /* GODEBUG=gcfullstop=1: every stop stops every thread, and
                   * marking starts with one instead of a handshake */
    unsigned stress; /* GODEBUG=gcstress=N: a cycle asked for every N gc_alloc
                      * calls of a thread, without waiting (0: off) */
};
TC_INTERNAL extern struct tc_gc_options tc_gc_opts;

#endif
