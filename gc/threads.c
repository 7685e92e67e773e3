/* gc/threads.c: the thread registry, and thread creation interposed.
 *
 * Every thread that may hold pointers into the collected heap is
 * registered: the main thread at start-up, threads made by pthread_create
 * (interposed below) before their start routine runs, others on their
 * first gc_* call or through gc_register_thread. The record (struct
 * gthread) lives in mmap'd memory and knows the thread's stack top and
 * static TLS blocks; a thread unregisters when it exits. The registry
 * lock keeps the list still while the collector stops or scans threads
 * (gc/stw.c), and records are reused, never unmapped, so a pointer to one
 * stays readable. The collector's own threads (tc_create_system_thread)
 * are not registered: they hold no pointers to the heap the collector
 * could miss, and take no signals. */
#include "gc/gc.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/mcache.h"
#include "alloc/report.h"
#include "include/tricolor.h"

__thread struct gthread *tc_gthread __attribute__((tls_model("initial-exec")));

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gthread *threads;      /* registry lock */
static struct gthread *free_records; /* registry lock */
static uint32_t nthreads;            /* registry lock */

/* ---- registry ---- */

void tc_registry_lock(void) { pthread_mutex_lock(&registry_lock); }
void tc_registry_unlock(void) { pthread_mutex_unlock(&registry_lock); }
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

/* The top (highest address, exclusive) of this thread's stack. */
static uintptr_t stack_top(void) {
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
    }
    if (!addr) tc_fatal("cannot find the stack of thread %p", (void *)pthread_self());
    return (uintptr_t)addr + size;
}

struct gthread *tc_thread_register(void) {
    if (tc_gthread) return tc_gthread;
    uintptr_t top = stack_top(); /* may allocate: before the lock */
    tc_registry_lock();
    struct gthread *t = new_record();
    t->tid = pthread_self();
    t->stack_hi = top;
    t->depth = &tc_region_depth;
    tc_thread_record_tls(t);
    t->next = threads;
    threads = t;
    nthreads++;
    tc_gthread = t;
    tc_registry_unlock();
    return t;
}

void tc_thread_unregister(void) {
    struct gthread *t = tc_gthread;
    if (!t) return;
    /* Give the P back while still registered (its flush is a region). */
    tc_p_release();
    tc_region_begin();
    tc_wbbuf_flush(t);
    tc_region_end();
    /* Parked while it waits: a stop under way needs nothing from this
     * thread, which may not even take signals any more. */
    tc_parked_mutex_lock(&registry_lock);
    for (struct gthread **pp = &threads; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    nthreads--;
    tc_gthread = NULL;
    t->next = free_records;
    free_records = t;
    tc_registry_unlock();
}

void tc_registry_after_fork_child(void) {
    pthread_mutex_init(&registry_lock, NULL);
    struct gthread *self = tc_gthread;
    threads = NULL;
    nthreads = 0;
    if (self) {
        self->next = NULL;
        threads = self;
        nthreads = 1;
    }
}

/* ---- pthread_create interposition ---- */

static __thread int creating_system_thread
    __attribute__((tls_model("initial-exec"))); /* tc_create_system_thread */

struct start_args {
    void *(*fn)(void *);
    void *arg;
};

static void unregister_cleanup(void *unused) {
    (void)unused;
    tc_thread_unregister();
}

static void *thread_start(void *p) {
    struct start_args a = *(struct start_args *)p; /* arg is now on our stack */
    tc_thread_register();
    gc_remove_roots(p, (char *)p + sizeof a); /* it kept arg visible till now */
    free(p);
    void *r;
    pthread_cleanup_push(unregister_cleanup, NULL);
    r = a.fn(a.arg);
    pthread_cleanup_pop(1);
    return r;
}

typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

__attribute__((visibility("default"))) int pthread_create(pthread_t *tid,
                                                          const pthread_attr_t *attr,
                                                          void *(*fn)(void *), void *arg) {
    static create_fn real;
    if (!real) real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
    if (!real) return EAGAIN;
    if (creating_system_thread) return real(tid, attr, fn, arg);
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
    static create_fn first;
    if (!first) first = (create_fn)dlsym(RTLD_DEFAULT, "pthread_create");
    if (!first) return EAGAIN;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old); /* system threads take no signals */
    creating_system_thread = 1;
    int rc = first(tid, &attr, fn, arg);
    creating_system_thread = 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return rc;
}

void tc_threads_init(void) { tc_thread_register(); }
