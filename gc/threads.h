/* gc/threads.h: a registered thread's record, and the registry
 * (gc/threads.c). */
#ifndef TC_GC_THREADS_H
#define TC_GC_THREADS_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "alloc/base.h"
#include "gc/barrier.h"

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

TC_INTERNAL void tc_threads_init(void); /* registers the calling thread */
TC_INTERNAL struct gthread *tc_thread_register(void);
TC_INTERNAL void tc_thread_unregister(void);
TC_INTERNAL void tc_registry_lock(void);
TC_INTERNAL void tc_registry_unlock(void);
TC_INTERNAL struct gthread *tc_registry_first(void); /* registry lock held */
TC_INTERNAL uint32_t tc_registry_count(void);
TC_INTERNAL void tc_registry_after_fork_child(void); /* only the caller is left; unlocks */
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

#endif
