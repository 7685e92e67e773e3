/* gc/blocking.c: blocking calls, run parked and kept from EINTR.
 *
 * A registered thread of a program that uses the collected heap parks
 * around each of these calls (gc/park.c), so a stop holds it instead of
 * signalling it: no signal, no wake-up, and no EINTR from calls that
 * SA_RESTART does not restart (signal(7): the multiplexers, the sleeps,
 * the waits for signals, System V IPC, sockets with a timeout, semaphores).
 * The race that is left is retried (gc/park.h), with what is left of a
 * relative timeout; a socket's own timeout (SO_RCVTIMEO, SO_SNDTIMEO)
 * starts again in that rare case. Masks passed to ppoll, pselect,
 * epoll_pwait and sigsuspend lose the collector's signal, and so do the
 * sets of sigwait and its relatives: that signal is never blocked and
 * never taken by the program (gc/signals.c). A thread that would not park
 * (unregistered, or a program that never called gc_alloc) makes the call
 * directly, after one load and a compare. */
#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "gc/interpose.h"
#include "gc/park.h"
#include "gc/signals.h"

#define REAL(ret, name, params) static ret(*real_##name) params

/* ---- sleeps ---- */

REAL(int, nanosleep, (const struct timespec *, struct timespec *));
REAL(int, clock_nanosleep, (clockid_t, int, const struct timespec *, struct timespec *));

EXPORT int nanosleep(const struct timespec *req, struct timespec *rem) {
    NEED(nanosleep, -1);
    struct tc_deadline d;
    tc_deadline_start(&d, req);
    PARKED_ERRNO(int, real_nanosleep(tc_deadline_left(&d), rem), req, rem, 0, 0);
}

EXPORT int clock_nanosleep(clockid_t c, int flags, const struct timespec *req, struct timespec *rem) {
    NEED(clock_nanosleep, ENOSYS);
    struct tc_deadline d;
    tc_deadline_start(&d, req);
    const struct timespec *abs = req;
    PARKED_RC(real_clock_nanosleep(c, flags, flags & TIMER_ABSTIME ? abs : tc_deadline_left(&d), rem),
              req, rem, 0, 0);
}

/* Both through nanosleep above (glibc's call its own, not ours). */
EXPORT int usleep(useconds_t us) {
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
    return nanosleep(&ts, NULL);
}

EXPORT unsigned sleep(unsigned s) {
    struct timespec ts = {s, 0}, rem = {0, 0};
    if (nanosleep(&ts, &rem) == 0) return 0;
    return (unsigned)rem.tv_sec + (rem.tv_nsec > 0);
}

/* ---- multiplexers ---- */

REAL(int, poll, (struct pollfd *, nfds_t, int));
REAL(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *));
REAL(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *));
REAL(int, pselect,
     (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *));
REAL(int, epoll_wait, (int, struct epoll_event *, int, int));
REAL(int, epoll_pwait, (int, struct epoll_event *, int, int, const sigset_t *));

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout) {
    NEED(poll, -1);
    struct tc_deadline d;
    tc_deadline_start_ms(&d, timeout);
    PARKED_ERRNO(int, real_poll(fds, n, tc_deadline_left_ms(&d)), fds, 0, 0, 0);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask) {
    NEED(ppoll, -1);
    sigset_t buf;
    const sigset_t *const m = tc_without_gc_signal(mask, &buf);
    struct tc_deadline d;
    tc_deadline_start(&d, ts);
    PARKED_ERRNO(int, real_ppoll(fds, n, tc_deadline_left(&d), m), fds, ts, m, 0);
}

/* The sets are the caller's, changed by a failed call too: kept aside for
 * a retry. */
struct fdsets {
    fd_set *p[3];
    fd_set saved[3];
};

static void sets_save(struct fdsets *s, fd_set *r, fd_set *w, fd_set *e) {
    s->p[0] = r, s->p[1] = w, s->p[2] = e;
    for (int i = 0; i < 3; i++)
        if (s->p[i]) s->saved[i] = *s->p[i];
}

static struct fdsets *sets_restore(struct fdsets *s) {
    for (int i = 0; i < 3; i++)
        if (s->p[i]) *s->p[i] = s->saved[i];
    return s;
}

/* One try; its timeout is what is left (Linux updates *tv as well). */
static int select_once(int n, struct fdsets *s, struct timeval *tv, struct tc_deadline *d) {
    sets_restore(s);
    struct timespec *left = tc_deadline_left(d);
    if (left) {
        tv->tv_sec = left->tv_sec;
        tv->tv_usec = left->tv_nsec / 1000;
    }
    return real_select(n, s->p[0], s->p[1], s->p[2], left ? tv : NULL);
}

EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv) {
    NEED(select, -1);
    struct tc_deadline d;
    struct timespec ts = {tv ? tv->tv_sec : 0, tv ? tv->tv_usec * 1000 : 0};
    tc_deadline_start(&d, tv ? &ts : NULL);
    struct fdsets s;
    sets_save(&s, r, w, e);
    PARKED_ERRNO(int, select_once(n, &s, tv, &d), r, w, e, tv);
}

EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
                   const sigset_t *mask) {
    NEED(pselect, -1);
    sigset_t buf;
    const sigset_t *const m = tc_without_gc_signal(mask, &buf);
    struct tc_deadline d;
    tc_deadline_start(&d, ts);
    struct fdsets s;
    sets_save(&s, r, w, e);
    PARKED_ERRNO(int, (sets_restore(&s), real_pselect(n, r, w, e, tc_deadline_left(&d), m)), r,
                 w, e, ts);
}

EXPORT int epoll_wait(int fd, struct epoll_event *ev, int n, int timeout) {
    NEED(epoll_wait, -1);
    struct tc_deadline d;
    tc_deadline_start_ms(&d, timeout);
    PARKED_ERRNO(int, real_epoll_wait(fd, ev, n, tc_deadline_left_ms(&d)), ev, 0, 0, 0);
}

EXPORT int epoll_pwait(int fd, struct epoll_event *ev, int n, int timeout, const sigset_t *mask) {
    NEED(epoll_pwait, -1);
    sigset_t buf;
    const sigset_t *const m = tc_without_gc_signal(mask, &buf);
    struct tc_deadline d;
    tc_deadline_start_ms(&d, timeout);
    PARKED_ERRNO(int, real_epoll_pwait(fd, ev, n, tc_deadline_left_ms(&d), m), ev, m, 0, 0);
}

/* ---- waiting for signals ---- */

REAL(int, pause, (void));
REAL(int, sigsuspend, (const sigset_t *));
REAL(int, sigwait, (const sigset_t *, int *));
REAL(int, sigwaitinfo, (const sigset_t *, siginfo_t *));
REAL(int, sigtimedwait, (const sigset_t *, siginfo_t *, const struct timespec *));

/* They return when a handler ran: again if it was the collector's alone. */
EXPORT int pause(void) {
    NEED(pause, -1);
    PARKED_ERRNO(int, real_pause(), 0, 0, 0, 0);
}

EXPORT int sigsuspend(const sigset_t *mask) {
    NEED(sigsuspend, -1);
    sigset_t buf;
    const sigset_t *const m = tc_without_gc_signal(mask, &buf);
    PARKED_ERRNO(int, real_sigsuspend(m), m, 0, 0, 0);
}

EXPORT int sigwait(const sigset_t *set, int *sig) {
    NEED(sigwait, ENOSYS);
    sigset_t buf;
    const sigset_t *const m = tc_without_gc_signal(set, &buf);
    PARKED_RC(real_sigwait(m, sig), m, sig, 0, 0);
}

EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info) {
    NEED(sigwaitinfo, -1);
    sigset_t buf;
    const sigset_t *const m = tc_without_gc_signal(set, &buf);
    PARKED_ERRNO(int, real_sigwaitinfo(m, info), m, info, 0, 0);
}

EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *ts) {
    NEED(sigtimedwait, -1);
    sigset_t buf;
    const sigset_t *const m = tc_without_gc_signal(set, &buf);
    struct tc_deadline d;
    tc_deadline_start(&d, ts);
    PARKED_ERRNO(int, real_sigtimedwait(m, info, tc_deadline_left(&d)), m, info, ts, 0);
}

/* ---- System V IPC and semaphores ---- */

REAL(int, semop, (int, struct sembuf *, size_t));
REAL(int, semtimedop, (int, struct sembuf *, size_t, const struct timespec *));
REAL(ssize_t, msgrcv, (int, void *, size_t, long, int));
REAL(int, msgsnd, (int, const void *, size_t, int));
REAL(int, sem_wait, (sem_t *));
REAL(int, sem_timedwait, (sem_t *, const struct timespec *));
REAL(int, sem_clockwait, (sem_t *, clockid_t, const struct timespec *));

EXPORT int semop(int id, struct sembuf *ops, size_t n) {
    NEED(semop, -1);
    PARKED_ERRNO(int, real_semop(id, ops, n), ops, 0, 0, 0);
}

EXPORT int semtimedop(int id, struct sembuf *ops, size_t n, const struct timespec *ts) {
    NEED(semtimedop, -1);
    struct tc_deadline d;
    tc_deadline_start(&d, ts);
    PARKED_ERRNO(int, real_semtimedop(id, ops, n, tc_deadline_left(&d)), ops, ts, 0, 0);
}

EXPORT ssize_t msgrcv(int id, void *msg, size_t size, long type, int flags) {
    NEED(msgrcv, -1);
    PARKED_ERRNO(ssize_t, real_msgrcv(id, msg, size, type, flags), msg, 0, 0, 0);
}

EXPORT int msgsnd(int id, const void *msg, size_t size, int flags) {
    NEED(msgsnd, -1);
    PARKED_ERRNO(int, real_msgsnd(id, msg, size, flags), msg, 0, 0, 0);
}

/* Absolute timeouts: the same arguments again. */
EXPORT int sem_wait(sem_t *s) {
    NEED(sem_wait, -1);
    PARKED_ERRNO(int, real_sem_wait(s), s, 0, 0, 0);
}

EXPORT int sem_timedwait(sem_t *s, const struct timespec *abs) {
    NEED(sem_timedwait, -1);
    PARKED_ERRNO(int, real_sem_timedwait(s, abs), s, abs, 0, 0);
}

EXPORT int sem_clockwait(sem_t *s, clockid_t c, const struct timespec *abs) {
    NEED(sem_clockwait, -1);
    PARKED_ERRNO(int, real_sem_clockwait(s, c, abs), s, abs, 0, 0);
}

/* ---- sockets and descriptors ---- */

REAL(int, connect, (int, const struct sockaddr *, socklen_t));
REAL(int, accept, (int, struct sockaddr *, socklen_t *));
REAL(int, accept4, (int, struct sockaddr *, socklen_t *, int));
REAL(ssize_t, read, (int, void *, size_t));
REAL(ssize_t, readv, (int, const struct iovec *, int));
REAL(ssize_t, recv, (int, void *, size_t, int));
REAL(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *));
REAL(ssize_t, recvmsg, (int, struct msghdr *, int));
REAL(ssize_t, write, (int, const void *, size_t));
REAL(ssize_t, writev, (int, const struct iovec *, int));
REAL(ssize_t, send, (int, const void *, size_t, int));
REAL(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t));
REAL(ssize_t, sendmsg, (int, const struct msghdr *, int));

static int connect_parked(int fd, const struct sockaddr *addr, socklen_t len) {
    PARKED_RETRY(int, real_connect(fd, addr, len), 0, addr, 0, 0, 0);
}

/* An interrupted connect goes on in the background, and calling it again
 * would say EALREADY: wait for it with poll, as a program would. */
EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    NEED(connect, -1);
    unsigned gc = tc_gc_signals_taken, user = tc_user_signals_taken;
    int r = connect_parked(fd, addr, len);
    if (r == 0 || errno != EINTR || gc == tc_gc_signals_taken || user != tc_user_signals_taken)
        return r;
    struct pollfd p = {fd, POLLOUT, 0};
    if (poll(&p, 1, -1) < 0) return -1;
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) return -1;
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len) {
    NEED(accept, -1);
    PARKED_ERRNO(int, real_accept(fd, addr, len), addr, len, 0, 0);
}

EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    NEED(accept4, -1);
    PARKED_ERRNO(int, real_accept4(fd, addr, len, flags), addr, len, 0, 0);
}

EXPORT ssize_t read(int fd, void *buf, size_t n) {
    NEED(read, -1);
    PARKED_ERRNO(ssize_t, real_read(fd, buf, n), buf, 0, 0, 0);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int n) {
    NEED(readv, -1);
    PARKED_ERRNO(ssize_t, real_readv(fd, iov, n), iov, 0, 0, 0);
}

EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags) {
    NEED(recv, -1);
    PARKED_ERRNO(ssize_t, real_recv(fd, buf, n, flags), buf, 0, 0, 0);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *l) {
    NEED(recvfrom, -1);
    PARKED_ERRNO(ssize_t, real_recvfrom(fd, buf, n, flags, a, l), buf, a, l, 0);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
    NEED(recvmsg, -1);
    PARKED_ERRNO(ssize_t, real_recvmsg(fd, msg, flags), msg, 0, 0, 0);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n) {
    NEED(write, -1);
    PARKED_ERRNO(ssize_t, real_write(fd, buf, n), buf, 0, 0, 0);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int n) {
    NEED(writev, -1);
    PARKED_ERRNO(ssize_t, real_writev(fd, iov, n), iov, 0, 0, 0);
}

EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags) {
    NEED(send, -1);
    PARKED_ERRNO(ssize_t, real_send(fd, buf, n, flags), buf, 0, 0, 0);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a,
                      socklen_t l) {
    NEED(sendto, -1);
    PARKED_ERRNO(ssize_t, real_sendto(fd, buf, n, flags, a, l), buf, a, 0, 0);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    NEED(sendmsg, -1);
    PARKED_ERRNO(ssize_t, real_sendmsg(fd, msg, flags), msg, 0, 0, 0);
}
