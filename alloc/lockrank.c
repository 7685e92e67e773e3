/* alloc/lockrank.c: the debug-build checker of alloc/lockrank.h.
 *
 * Each thread keeps the ranks it holds as a small stack in TLS (at most
 * MAXHELD; locks are usually released in reverse order, but need not be).
 * An acquisition checks its region rule against tc_region_depth and, for
 * a stoppable thread, the registry lock held; then that no held rank is
 * higher or equal (a lock_all window allows equal). Messages go through
 * tc_fatal, which never allocates. Under ThreadSanitizer it also holds
 * the lock wait of alloc/lockrank.h. */
#include "alloc/lockrank.h"

#include "alloc/region.h"
#include "alloc/report.h"

#if TC_DEBUG >= 1

enum rule { INSIDE, OUTSIDE, LEAF, ANY };

static const struct {
    const char *name;
    enum rule rule;
} ranks[LOCKRANK_COUNT] = {
    [LOCKRANK_INIT] = {"init", ANY},
    [LOCKRANK_CYCLE] = {"cycle", OUTSIDE},
    [LOCKRANK_REGISTRY] = {"registry", OUTSIDE},
    [LOCKRANK_CTL] = {"ctl", INSIDE},
    [LOCKRANK_PACER] = {"pacer", INSIDE},
    [LOCKRANK_PAUSE] = {"pause ring", LEAF},
    [LOCKRANK_ROOTS] = {"roots", INSIDE},
    [LOCKRANK_PPOOL] = {"P pool", INSIDE},
    [LOCKRANK_P] = {"P", INSIDE},
    [LOCKRANK_MCENTRAL] = {"mcentral", INSIDE},
    [LOCKRANK_FIN] = {"finalizers", INSIDE},
    [LOCKRANK_HEAP] = {"heap", INSIDE},
    [LOCKRANK_WORK] = {"work queue", INSIDE},
    [LOCKRANK_WORKER] = {"mark workers", INSIDE},
};

#define MAXHELD 16
static __thread unsigned char held[MAXHELD] __attribute__((tls_model("initial-exec")));
static __thread unsigned nheld __attribute__((tls_model("initial-exec")));
static __thread int all_rank __attribute__((tls_model("initial-exec"))) = -1;
__thread int tc_lockrank_stoppable __attribute__((tls_model("initial-exec")));

static int holds(enum tc_lockrank r) {
    for (unsigned i = 0; i < nheld; i++)
        if (held[i] == r) return 1;
    return 0;
}

void tc_lockrank_acquire(enum tc_lockrank r) {
    if (tc_lockrank_stoppable) {
        int inside = tc_region_depth > 0;
        if (ranks[r].rule == INSIDE && !inside && !holds(LOCKRANK_REGISTRY))
            tc_fatal("lock rank: %s lock taken outside a gc region by a thread the collector "
                     "can stop", ranks[r].name);
        if ((ranks[r].rule == OUTSIDE || ranks[r].rule == LEAF) && inside)
            tc_fatal("lock rank: %s lock taken inside a gc region (the collector may hold it "
                     "while it stops threads)", ranks[r].name);
    }
    if (all_rank == (int)r && holds(r)) return; /* lock_all: the rank is held once */
    for (unsigned i = 0; i < nheld; i++)
        if (held[i] >= r)
            tc_fatal("lock rank: %s lock taken while holding the %s lock (order: %s first)",
                     ranks[r].name, ranks[held[i]].name, ranks[r].name);
    if (nheld == MAXHELD) tc_fatal("lock rank: more than %d locks held", MAXHELD);
    held[nheld++] = (unsigned char)r;
}

void tc_lockrank_release(enum tc_lockrank r) {
    for (unsigned i = nheld; i-- > 0;) {
        if (held[i] == r) {
            held[i] = held[--nheld];
            return;
        }
    }
    if (all_rank != (int)r) tc_fatal("lock rank: %s lock released but not held", ranks[r].name);
}

void tc_lock_all_begin(enum tc_lockrank r) { all_rank = (int)r; }
void tc_lock_all_end(enum tc_lockrank r) {
    (void)r;
    all_rank = -1;
}

#else

void tc_lock_all_begin(enum tc_lockrank r) { (void)r; }
void tc_lock_all_end(enum tc_lockrank r) { (void)r; }

#endif

#if TC_TSAN
#include <dlfcn.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

void tc_mutex_lock_tsan(pthread_mutex_t *m) {
    typedef int (*sleep_fn)(const struct timespec *, struct timespec *);
    static _Atomic(sleep_fn) runtime_sleep; /* the runtime's, not ours (gc/blocking.c) */
    if (pthread_mutex_trylock(m) == 0) return;
    sleep_fn f = atomic_load_explicit(&runtime_sleep, memory_order_relaxed);
    if (!f) {
        f = (sleep_fn)dlsym(RTLD_DEFAULT, "__interceptor_nanosleep");
        atomic_store_explicit(&runtime_sleep, f, memory_order_relaxed);
    }
    const struct timespec ts = {0, 20000};
    do {
        if (f) f(&ts, NULL);
        else sched_yield();
    } while (pthread_mutex_trylock(m) != 0);
}
#endif
