/* gc/tsanwait.c: under ThreadSanitizer, the program's waits on locks,
 * barriers and condition variables are parked (built only with
 * -Db_sanitize=thread).
 *
 * Normally a thread blocked in pthread_mutex_lock is stopped like any
 * other: the collector's signal interrupts the wait, the handler stops
 * the thread, and the wait goes on afterwards. ThreadSanitizer installs
 * its own handler, which runs the program's at once only inside the calls
 * it knows to block (sleeps, I/O, waits for signals) and otherwise holds
 * the signal until the thread's next intercepted call. A wait for a lock,
 * a barrier or a condition ends in no such call, and if what it waits for
 * belongs to a thread the stop already holds, never ends at all. So here
 * these waits are parked (gc/park.c) as the blocking calls of
 * gc/blocking.c are: a stop holds the waiter without a signal. The
 * uncontended lock takes the try path first and parks nothing. Every call
 * goes on to the runtime's interceptor (tc_next_symbol), so ThreadSanitizer
 * still sees each acquisition and release. */
#include <errno.h>
#include <pthread.h>

#include "gc/interpose.h"
#include "gc/park.h"

#define REAL(ret, name, params) static ret(*real_##name) params

REAL(int, pthread_mutex_lock, (pthread_mutex_t *));
REAL(int, pthread_mutex_trylock, (pthread_mutex_t *));
EXPORT int pthread_mutex_lock(pthread_mutex_t *m) {
    NEED(pthread_mutex_lock, EINVAL);
    NEED(pthread_mutex_trylock, EINVAL);
    int r = real_pthread_mutex_trylock(m);
    if (r != EBUSY) return r;
    PARKED_CALL(int, real_pthread_mutex_lock(m), m, 0, 0, 0);
}

REAL(int, pthread_rwlock_rdlock, (pthread_rwlock_t *));
EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l) {
    NEED(pthread_rwlock_rdlock, EINVAL);
    PARKED_CALL(int, real_pthread_rwlock_rdlock(l), l, 0, 0, 0);
}

REAL(int, pthread_rwlock_wrlock, (pthread_rwlock_t *));
EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l) {
    NEED(pthread_rwlock_wrlock, EINVAL);
    PARKED_CALL(int, real_pthread_rwlock_wrlock(l), l, 0, 0, 0);
}

REAL(int, pthread_barrier_wait, (pthread_barrier_t *));
EXPORT int pthread_barrier_wait(pthread_barrier_t *b) {
    NEED(pthread_barrier_wait, EINVAL);
    PARKED_CALL(int, real_pthread_barrier_wait(b), b, 0, 0, 0);
}

REAL(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *));
EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
    NEED(pthread_cond_wait, EINVAL);
    PARKED_CALL(int, real_pthread_cond_wait(c, m), c, m, 0, 0);
}

REAL(int, pthread_cond_timedwait, (pthread_cond_t *, pthread_mutex_t *, const struct timespec *));
EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                  const struct timespec *abs) {
    NEED(pthread_cond_timedwait, EINVAL);
    PARKED_CALL(int, real_pthread_cond_timedwait(c, m, abs), c, m, abs, 0);
}
