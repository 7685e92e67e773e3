/* gc/threads.c: the thread registry, thread creation and thread exit.
 *
 * Every thread that may hold pointers into the collected heap is
 * registered: the main thread at start-up, threads made by pthread_create
 * (interposed below) before their start routine runs, others on their
 * first gc_* call or through gc_register_thread. The record (struct
 * gthread) lives in mmap'd memory and knows the thread's stack top and
 * static TLS blocks. The registry lock keeps the list still while the
 * collector stops or scans threads (gc/stw.c), and records are reused,
 * never unmapped, so a pointer to one stays readable. The collector's own
 * threads (tc_create_system_thread) are not registered: they hold no
 * pointers to the heap the collector could miss, and take no signals.
 *
 * Exit. A thread stays registered, and so scanned, until glibc has run
 * its TLS destructors: C++ thread_local destructors, then pthread key
 * destructors, in up to PTHREAD_DESTRUCTOR_ITERATIONS rounds. Our exit
 * key's destructor sets itself again in every round and unregisters the
 * thread in the last one, so the objects those destructors use stay
 * alive and a destructor may call the collector. A later key destructor
 * of the same last round that uses the collector registers the thread
 * again as a late record, which nothing would unregister: a late thread
 * holds a robust mutex until it dies, and the collector, which must not
 * wait forever for a thread that has stopped taking signals (glibc blocks
 * them all once the destructors are done), asks the mutex before waiting
 * and reaps the record once its owner is gone.
 *
 * A joinable thread's exit value (its start routine's result, or
 * pthread_exit's argument) waits for pthread_join in glibc's thread
 * descriptor, which nobody scans once the thread has gone: it is kept in
 * a table of exit values, a root, from the moment the thread finishes
 * until pthread_join or pthread_detach (both interposed) takes it out. A
 * value recorded while marking is shaded. pthread_join stores the value
 * through the barrier when the caller's slot is in the collected heap. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc/base.h"
#include "alloc/lockrank.h"
#include "alloc/mcache.h"
#include "alloc/mheap.h"
#include "alloc/os.h"
#include "alloc/region.h"
#include "alloc/report.h"
#include "gc/barrier.h"
#include "gc/cycle.h"
#include "gc/hooks.h"
#include "gc/interpose.h"
#include "gc/mark.h"
#include "gc/park.h"
#include "gc/phase.h"
#include "gc/signals.h"
#include "gc/stw.h"
#include "gc/threads.h"
#include "gc/tls.h"
#include "include/tricolor.h"

__thread struct gthread *tc_gthread __attribute__((tls_model("initial-exec")));

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gthread *threads;      /* registry lock */
static struct gthread *free_records; /* registry lock */
static uint32_t nthreads;            /* registry lock */
static pthread_key_t exit_key;       /* value: the thread's record */
struct exitval {
    pthread_t tid;
    void *value;
};
static struct exitval *exits;        /* exit values not joined yet; registry lock */
static size_t nexits, exitscap;      /* registry lock */
/* This thread's exit key ran its last round: a registration now is late. */
static __thread int past_last_round __attribute__((tls_model("initial-exec")));

/* ---- registry ---- */

void tc_registry_lock(void) { tc_lock(&registry_lock, LOCKRANK_REGISTRY); }
void tc_registry_unlock(void) { tc_unlock(&registry_lock, LOCKRANK_REGISTRY); }
/* Parked while it waits (gc/park.c): a stop under way holds it. */
static void registry_lock_parked(void) {
    tc_lockrank_acquire(LOCKRANK_REGISTRY);
    tc_parked_mutex_lock(&registry_lock);
}
struct gthread *tc_registry_first(void) { return threads; }
uint32_t tc_registry_count(void) { return nthreads; }

/* A zeroed record that has seen every stop round so far. */
static struct gthread *new_record(void) {
    struct gthread *t = free_records;
    if (t) {
        free_records = t->next;
        memset(t, 0, sizeof *t);
    } else {
        t = mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (t == MAP_FAILED) tc_fatal("out of memory registering a thread");
    }
    uint32_t seq = tc_stop_round();
    atomic_store(&t->ack_seq, seq);
    atomic_store(&t->suspend_seq, seq);
    return t;
}

/* This thread's stack mapping [*lo, return value). */
static uintptr_t stack_bounds(uintptr_t *lo) {
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
    }
    if (!addr) tc_fatal("cannot find the stack of thread %p", (void *)pthread_self());
    *lo = (uintptr_t)addr;
    return (uintptr_t)addr + size;
}

static void init_alive(struct gthread *t) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&t->alive, &a);
    pthread_mutexattr_destroy(&a);
}

struct gthread *tc_thread_register(void) {
    if (tc_gthread) return tc_gthread;
    uintptr_t lo, top = stack_bounds(&lo); /* may allocate: before the lock */
    /* The registry lock is held outside any gc region: a program handler
     * run there that waited for another thread (and so for a cycle, which
     * needs the lock) would deadlock. The collector's own signal stays
     * open: a thread asked to stop before it parked for the lock is
     * waited for until it answers. */
    sigset_t mask;
    tc_program_signals_hold(&mask);
    registry_lock_parked();
    struct gthread *t = new_record();
    t->tid = pthread_self();
    t->stack_lo = lo;
    t->stack_hi = top;
    t->depth = &tc_region_depth;
    t->late = past_last_round;
    t->ktid = (pid_t)syscall(SYS_gettid);
    if (t->late) {
        init_alive(t);
        pthread_mutex_lock(&t->alive);
    }
    tc_thread_record_tls(t);
    t->next = threads;
    threads = t;
    nthreads++;
    tc_gthread = t;
#if TC_DEBUG >= 1
    tc_lockrank_stoppable = 1;
#endif
    tc_gc_hook(TC_GC_POINT_REGISTER);
    tc_registry_unlock();
    tc_program_signals_release(&mask);
    if (!t->late) pthread_setspecific(exit_key, t);
    tc_unblock_gc_signal(); /* say, a creator's pthread_attr_setsigmask_np */
    return t;
}

/* The exit key's destructor: again in every round, unregister in the
 * last (PTHREAD_DESTRUCTOR_ITERATIONS rounds at most, and ours always has
 * a value, so glibc runs exactly that many). ThreadSanitizer's runtime
 * ends the thread in that last round with a key made before ours, whose
 * destructor runs first: after it no instrumented code may run, ours
 * included, so under TSan ours unregisters one round earlier. */
#define LAST_ROUND (PTHREAD_DESTRUCTOR_ITERATIONS - TC_TSAN)
static void exit_key_destructor(void *v) {
    struct gthread *t = v;
    if (t != tc_gthread) return; /* unregistered by hand meanwhile */
    if (++t->dtor_rounds < LAST_ROUND) {
        pthread_setspecific(exit_key, t);
        return;
    }
    tc_thread_unregister();
    past_last_round = 1;
}

int tc_thread_gone(struct gthread *t) {
    if (t->dead) return 1;
    if (!t->late) return 0;
    int rc = pthread_mutex_trylock(&t->alive);
    /* Without robust futexes (some emulators) the kernel thread id says
     * it: gone once no thread of ours has it (a reused id only delays). */
    if (rc == EBUSY && !(syscall(SYS_tgkill, getpid(), t->ktid, 0) != 0 && errno == ESRCH))
        return 0;
    if (rc == EBUSY) rc = ESRCH;
    if (rc == EOWNERDEAD) pthread_mutex_consistent(&t->alive);
    if (rc == 0 || rc == EOWNERDEAD) pthread_mutex_unlock(&t->alive);
    t->dead = 1;
    return 1;
}

static void unlink_record(struct gthread *t) {
    for (struct gthread **pp = &threads; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    nthreads--;
    t->next = free_records;
    free_records = t;
}

void tc_registry_reap(void) {
    for (struct gthread *t = threads, *next; t; t = next) {
        next = t->next;
        if (tc_thread_gone(t)) unlink_record(t);
    }
}

void tc_thread_unregister(void) {
    struct gthread *t = tc_gthread;
    if (!t) return;
    /* Give the P back while still registered (its flush is a region). */
    tc_p_release();
    tc_region_begin();
    tc_wbbuf_flush(&t->wbbuf);
    tc_region_end();
    /* Parked while it waits: a stop under way needs nothing from this
     * thread, which may not even take signals any more. */
    sigset_t mask;
    tc_program_signals_hold(&mask);
    registry_lock_parked();
    if (t->late) pthread_mutex_unlock(&t->alive);
    unlink_record(t);
    tc_gthread = NULL;
    tc_tls_gcp = NULL;
#if TC_DEBUG >= 1
    tc_lockrank_stoppable = 0;
#endif
    tc_registry_unlock();
    tc_program_signals_release(&mask);
    pthread_setspecific(exit_key, NULL);
}

/* The other threads are gone, and so are the exit values of threads the
 * child cannot join. A late child re-takes its mutex: the parent's owner
 * id is in it, and the child's robust list starts empty. Fork's prepare
 * took the registry lock: released here, once the registry is the
 * child's. */
void tc_registry_after_fork_child(void) {
    struct gthread *self = tc_gthread;
    threads = NULL;
    nthreads = 0;
    nexits = 0;
    if (self) {
        self->next = NULL;
        threads = self;
        nthreads = 1;
        if (self->late) {
            init_alive(self);
            pthread_mutex_lock(&self->alive);
        }
    }
    tc_registry_unlock();
}

/* ---- exit values ---- */

void tc_exit_values_each(void (*scan)(uintptr_t lo, uintptr_t hi)) {
    for (size_t i = 0; i < nexits; i++)
        scan((uintptr_t)&exits[i].value, (uintptr_t)(&exits[i].value + 1));
}

/* Registry lock held. */
static int take_exit_value(pthread_t tid) {
    for (size_t i = 0; i < nexits; i++) {
        if (pthread_equal(exits[i].tid, tid)) {
            exits[i] = exits[--nexits];
            return 1;
        }
    }
    return 0;
}

/* Whether pthread_join may still ask for this thread's value: glibc's
 * own state, read under the registry lock, which pthread_detach takes
 * after detaching (so a value is either never kept or taken out). */
static int joinable_now(void) {
    pthread_attr_t a;
    int state = PTHREAD_CREATE_DETACHED;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        pthread_attr_getdetachstate(&a, &state);
        pthread_attr_destroy(&a);
    }
    return state == PTHREAD_CREATE_JOINABLE;
}

/* The calling thread has finished with value v (before its destructors). */
static void thread_finished(void *v) {
    if (!tc_gthread || !atomic_load_explicit(&tc_collected_used, memory_order_relaxed) ||
        (uintptr_t)v - tc_heap_lo >= tc_heap_hi - tc_heap_lo)
        return; /* nothing the collector could free */
    registry_lock_parked();
    int keep = joinable_now();
    if (keep) {
        tc_os_vec_room((void **)&exits, &exitscap, nexits, sizeof *exits, 64,
                       "thread exit values");
        exits[nexits++] = (struct exitval){pthread_self(), v};
    }
    tc_registry_unlock();
    if (!keep) return;
    tc_region_enter(); /* a root recorded while marking: shade it now */
    if (atomic_load_explicit(&tc_gcphase, memory_order_relaxed) != GC_OFF) tc_shade((uintptr_t)v);
    tc_region_end();
}

/* ---- pthread_create interposition ---- */

static __thread int creating_system_thread
    __attribute__((tls_model("initial-exec"))); /* tc_create_system_thread */

struct start_args {
    void *(*fn)(void *);
    void *arg;
};

static void *thread_start(void *p) {
    struct start_args a = *(struct start_args *)p; /* arg is now on our stack */
    tc_thread_register();
    gc_remove_roots(p, (char *)p + sizeof a); /* it kept arg visible till now */
    free(p);
    void *r = a.fn(a.arg);
    thread_finished(r);
    return r;
}

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

__attribute__((visibility("default"))) int pthread_create(pthread_t *tid,
                                                          const pthread_attr_t *attr,
                                                          void *(*fn)(void *), void *arg) {
    static create_fn real_pthread_create;
    if (!RESOLVE(pthread_create)) return EAGAIN;
    create_fn real = real_pthread_create;
    if (creating_system_thread) return real(tid, attr, fn, arg);
#if TC_TSAN
    /* Called by ThreadSanitizer's interceptor, thread_start would run
     * before the runtime has set the new thread up, and its instrumented
     * code would crash: it must come after (tc_next_symbol). */
    if ((void *)real != dlsym(RTLD_DEFAULT, "__interceptor_pthread_create"))
        tc_fatal("under ThreadSanitizer, link tricolor's static library into the program");
#endif
    /* malloc'd and registered as a root, not gc_alloc'd: a program that
     * only uses malloc must not feed the collector's pacing. */
    struct start_args *a = malloc(sizeof *a);
    if (!a) return EAGAIN;
    a->fn = fn;
    a->arg = arg;
    gc_add_roots(a, a + 1);
    int rc = real(tid, attr, thread_start, a);
    if (rc != 0) {
        gc_remove_roots(a, a + 1);
        free(a);
    }
    return rc;
}

/* Thread creation for the collector's own threads: not registered. */
TC_INTERNAL int tc_create_system_thread(pthread_t *tid, void *(*fn)(void *), void *arg);
/* Through the first pthread_create in the search order, which is a
 * sanitizer's if one is loaded (it must see every thread it will run
 * code on), and then ours, which passes it on unregistered. */
int tc_create_system_thread(pthread_t *tid, void *(*fn)(void *), void *arg) {
    static create_fn first_seen;
    create_fn first = __atomic_load_n(&first_seen, __ATOMIC_ACQUIRE);
    if (!first) {
        first = (create_fn)dlsym(RTLD_DEFAULT, "pthread_create");
        if (!first) return EAGAIN;
        __atomic_store_n(&first_seen, first, __ATOMIC_RELEASE); /* every thread finds the same */
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    tc_real_pthread_sigmask(SIG_BLOCK, &all, &old); /* system threads take no signals */
    creating_system_thread = 1;
    int rc = first(tid, &attr, fn, arg);
    creating_system_thread = 0;
    tc_real_pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return rc;
}

/* ---- exit, join and detach ---- */

#define NEXT(name) (RESOLVE(name) ? real_##name : NULL)

static void (*real_pthread_exit)(void *);
EXPORT __attribute__((noreturn)) void pthread_exit(void *v) {
    thread_finished(v);
    if (!NEXT(pthread_exit)) tc_fatal("pthread_exit not found");
    real_pthread_exit(v);
    __builtin_unreachable();
}

/* pthread_join and its variants (gc/park.c, parked) after the real call:
 * the joiner now holds the value; out of the table, into *ret (through
 * the barrier if *ret is collected memory). */
int tc_thread_joined(int rc, pthread_t tid, void *v, void **ret) {
    if (rc != 0) return rc;
    if (ret) {
        if ((uintptr_t)ret - tc_heap_lo < tc_heap_hi - tc_heap_lo) gc_store(ret, v);
        else *ret = v;
    }
    registry_lock_parked();
    take_exit_value(tid);
    tc_registry_unlock();
    return 0;
}

static int (*real_pthread_detach)(pthread_t);
EXPORT int pthread_detach(pthread_t tid) {
    if (!NEXT(pthread_detach)) return ENOSYS;
    int rc = real_pthread_detach(tid);
    if (rc != 0) return rc;
    registry_lock_parked();
    take_exit_value(tid);
    tc_registry_unlock();
    return 0;
}

void tc_threads_init(void) {
    tc_tls_init();
    if (pthread_key_create(&exit_key, exit_key_destructor) != 0)
        tc_fatal("cannot create the thread exit key");
    tc_thread_register();
}
