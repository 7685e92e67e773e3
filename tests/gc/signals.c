/* tests/gc/signals.c: the program never sees the collector's signal.
 *
 *   sigwait_thread_design: a process that blocks every signal in every
 *     thread and waits for them in one sigwait thread (run in a child)
 *     completes cycles while its threads allocate, and its sigwait thread
 *     still gets the program's own signal at the end.
 *   mask_never_blocks_gc_signal: after blocking every signal, exactly one
 *     real-time signal from SIGRTMIN+4 up is still unblocked (the
 *     collector's), through pthread_sigmask and sigprocmask alike, beyond
 *     any the system call itself cannot block.
 *   handler_mask_lets_stops_in: a program handler installed with every
 *     signal in its mask runs long; a cycle completes meanwhile (the stop
 *     of its thread is not held off until the handler returns).
 *   handler_never_runs_inside_a_region: the same handler sent to a thread
 *     that allocates and stores pointers without pause, so that it lands
 *     inside the collector's regions: it runs only after the region ends
 *     (it sees depth 0), and a cycle completes while it runs.
 *   held_signal_keeps_its_siginfo: real-time signals queued with values
 *     to such a thread, one at a time, each arrive once, with their value
 *     and si_code, outside any region.
 *   no_eintr_*: a thread blocked in a call that SA_RESTART does not
 *     restart, with a timeout, while cycles run back to back for a while:
 *     the call never fails with EINTR, and times out as asked.
 *   pause_and_sigsuspend: they return once, for the program's signal, not
 *     for the collector's. */
#include <errno.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ipc.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gc_test.h"

static atomic_int stop_flag;

static void *allocator(void *arg) {
    (void)arg;
    void **keep = gc_alloc(32 * sizeof(void *));
    for (long i = 0; !atomic_load(&stop_flag); i++) gc_store(&keep[i % 32], gc_alloc(256));
    return NULL;
}

/* ---- masks ---- */

static void *sigwaiter(void *arg) {
    sigset_t all;
    sigfillset(&all);
    int sig = 0;
    while (sig != SIGUSR1) sigwait(&all, &sig);
    *(int *)arg = 1;
    return NULL;
}

static int sigwait_child(void) {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    int got = 0;
    pthread_t w, a[2];
    pthread_create(&w, NULL, sigwaiter, &got);
    for (int i = 0; i < 2; i++) pthread_create(&a[i], NULL, allocator, NULL);
    uint32_t c0 = gct_stats().gc_num;
    uint64_t end = gct_now_ns() + 20000000000u;
    while (gct_stats().gc_num - c0 < 5 && gct_now_ns() < end) gc_collect();
    uint32_t cycles = gct_stats().gc_num - c0;
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < 2; i++) pthread_join(a[i], NULL);
    kill(getpid(), SIGUSR1);
    pthread_join(w, NULL);
    return cycles >= 5 && got ? 0 : 1;
}

TEST(sigwait_thread_design) {
    pid_t pid = fork();
    if (pid == 0) _exit(sigwait_child());
    int st = 0;
    uint64_t end = gct_now_ns() + 60000000000u;
    while (waitpid(pid, &st, WNOHANG) == 0) {
        if (gct_now_ns() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        gct_sleep_us(10000);
    }
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int unblocked_rt(int (*mask)(int, const sigset_t *, sigset_t *)) {
    sigset_t all, now, old;
    sigfillset(&all);
    mask(SIG_BLOCK, &all, &old);
    mask(SIG_BLOCK, NULL, &now);
    mask(SIG_SETMASK, &old, NULL);
    int n = 0;
    for (int s = SIGRTMIN + 4; s <= SIGRTMAX; s++) n += !sigismember(&now, s);
    return n;
}

/* The same through the system call itself, past the interposition: the
 * signals nobody can block here (none on Linux; an emulator may keep
 * some of its own). */
static int raw_mask(int how, const sigset_t *set, sigset_t *old) {
    return (int)syscall(SYS_rt_sigprocmask, how, set, old, _NSIG / 8);
}

TEST(mask_never_blocks_gc_signal) {
    gc_collect();
    int base = unblocked_rt(raw_mask);
    EXPECT_TRUE(unblocked_rt(pthread_sigmask) == base + 1);
    EXPECT_TRUE(unblocked_rt(sigprocmask) == base + 1);
}

/* ---- a long handler ---- */

static atomic_int ready, in_handler, collected, handler_saw, handler_done, depth_seen;

/* Runs until a cycle has completed, or for a bounded time. */
static void long_handler(int sig) {
    (void)sig;
    atomic_fetch_or(&depth_seen, gc_region_depth_);
    atomic_store(&in_handler, 1);
    uint64_t end = gct_now_ns() + 3000000000u;
    while (!atomic_load(&collected) && gct_now_ns() < end) {
    }
    atomic_store(&handler_saw, atomic_load(&collected));
    atomic_store(&handler_done, 1);
}

static void *spinner(void *arg) {
    (void)arg;
    gc_alloc(16);
    atomic_store(&ready, 1);
    while (!atomic_load(&handler_done)) {
    }
    return NULL;
}

static void *region_worker(void *arg) {
    (void)arg;
    void **keep = gc_alloc(32 * sizeof(void *));
    atomic_store(&ready, 1);
    for (long i = 0; !atomic_load(&handler_done); i++) gc_store(&keep[i % 32], gc_alloc(64));
    return NULL;
}

/* Start worker, send it SIGUSR2 (handler: long_handler, every signal in
 * its mask) once it is registered, collect while the handler runs; 1 if
 * the cycle completed while the handler ran. */
static int collect_during_handler(void *(*worker)(void *)) {
    struct sigaction sa = {0};
    sa.sa_handler = long_handler;
    sigfillset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    atomic_store(&ready, 0);
    atomic_store(&in_handler, 0);
    atomic_store(&collected, 0);
    atomic_store(&handler_saw, 0);
    atomic_store(&handler_done, 0);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    while (!atomic_load(&ready)) gct_sleep_us(100);
    pthread_kill(t, SIGUSR2);
    while (!atomic_load(&in_handler)) gct_sleep_us(100);
    gc_collect(); /* scans the worker's stack: needs it stopped */
    atomic_store(&collected, 1);
    pthread_join(t, NULL);
    signal(SIGUSR2, SIG_DFL);
    return atomic_load(&handler_saw);
}

TEST(handler_mask_lets_stops_in) {
    SKIP_UNDER_TSAN("the handler spins without calls, where a stop cannot reach it");
    EXPECT_TRUE(collect_during_handler(spinner) == 1);
}

/* Most signals land inside a region here; a handler run there would hold
 * the stop off until it returned (and see a depth above 0). */
TEST(handler_never_runs_inside_a_region) {
    atomic_store(&depth_seen, 0);
    int rounds = 0, ok = 0;
    uint64_t end = gct_now_ns() + 2000000000u;
    while (rounds < 3 || (gct_now_ns() < end && rounds < 20)) {
        ok += collect_during_handler(region_worker);
        rounds++;
    }
    printf("%d rounds, %d with a cycle during the handler, depth seen %d\n", rounds, ok,
           atomic_load(&depth_seen));
    if (!TC_UNDER_TSAN) /* there no stop reaches a handler that makes no call */
        EXPECT_TRUE(ok == rounds);
    EXPECT_TRUE(atomic_load(&depth_seen) == 0);
}

static atomic_int got_value = -1, got_code, got_depth, got_count;

static void on_queued(int sig, siginfo_t *si, void *uc) {
    (void)sig, (void)uc;
    atomic_store(&got_value, si->si_value.sival_int);
    atomic_store(&got_code, si->si_code);
    atomic_fetch_or(&got_depth, gc_region_depth_);
    atomic_fetch_add(&got_count, 1);
}

TEST(held_signal_keeps_its_siginfo) {
    int sig = SIGRTMIN + 1;
    struct sigaction sa = {0};
    sa.sa_sigaction = on_queued;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(sig, &sa, NULL);
    atomic_store(&ready, 0);
    atomic_store(&handler_done, 0);
    pthread_t t;
    pthread_create(&t, NULL, region_worker, NULL);
    while (!atomic_load(&ready)) gct_sleep_us(100);
    int sent = 0, bad = 0;
    uint64_t end = gct_now_ns() + 1000000000u;
    while (sent < 50 || (sent < 2000 && gct_now_ns() < end)) {
        union sigval v = {.sival_int = sent};
        if (pthread_sigqueue(t, sig, v) != 0) break;
        sent++;
        uint64_t wait_end = gct_now_ns() + 5000000000u;
        while (atomic_load(&got_count) < sent && gct_now_ns() < wait_end) {
        }
        bad += atomic_load(&got_value) != sent - 1 || atomic_load(&got_code) != SI_QUEUE;
    }
    atomic_store(&handler_done, 1);
    pthread_join(t, NULL);
    signal(sig, SIG_DFL);
    printf("%d queued, %d received, %d wrong, depth seen %d\n", sent, atomic_load(&got_count),
           bad, atomic_load(&got_depth));
    EXPECT_TRUE(sent >= 50 && atomic_load(&got_count) == sent && bad == 0);
    EXPECT_TRUE(atomic_load(&got_depth) == 0);
}

/* ---- no EINTR ---- */

#define WAIT_MS 50

static atomic_long eintr, waits, short_waits;

static uint64_t since(uint64_t t0) { return (gct_now_ns() - t0) / 1000000u; }

/* One timed wait of WAIT_MS by call(); counts EINTR and waits that ended
 * early (a wait must time out, nothing wakes it). */
static void timed(int (*call)(void *), void *arg) {
    uint64_t t0 = gct_now_ns();
    int r = call(arg);
    if (r < 0 && errno == EINTR) atomic_fetch_add(&eintr, 1);
    if (since(t0) + 5 < WAIT_MS) atomic_fetch_add(&short_waits, 1);
    atomic_fetch_add(&waits, 1);
}

struct waiter {
    int (*call)(void *);
    void *arg;
};

static void *wait_loop(void *p) {
    struct waiter *w = p;
    gc_alloc(16); /* registered, and the heap in use: this thread parks */
    while (!atomic_load(&stop_flag)) timed(w->call, w->arg);
    return NULL;
}

/* Run w in a thread for a while, collecting back to back. */
static void under_collection(int (*call)(void *), void *arg) {
    atomic_store(&stop_flag, 0);
    atomic_store(&eintr, 0);
    atomic_store(&waits, 0);
    atomic_store(&short_waits, 0);
    struct waiter w = {call, arg};
    pthread_t t;
    pthread_create(&t, NULL, wait_loop, &w);
    uint64_t end = gct_now_ns() + 800000000u;
    while (gct_now_ns() < end) {
        gc_collect();
        gct_sleep_us(1000);
    }
    atomic_store(&stop_flag, 1);
    pthread_join(t, NULL);
}

static int fds[2];

static int do_ppoll(void *a) {
    (void)a;
    struct pollfd p = {fds[0], POLLIN, 0};
    struct timespec ts = {0, WAIT_MS * 1000000L};
    return ppoll(&p, 1, &ts, NULL);
}
static int do_pselect(void *a) {
    (void)a;
    fd_set r;
    FD_ZERO(&r);
    FD_SET(fds[0], &r);
    struct timespec ts = {0, WAIT_MS * 1000000L};
    return pselect(fds[0] + 1, &r, NULL, NULL, &ts, NULL);
}
static int do_epoll_pwait(void *a) {
    struct epoll_event ev;
    return epoll_pwait(*(int *)a, &ev, 1, WAIT_MS, NULL);
}
static int do_sigtimedwait(void *a) {
    (void)a;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGURG);
    struct timespec ts = {0, WAIT_MS * 1000000L};
    return sigtimedwait(&s, NULL, &ts);
}
static int do_semtimedop(void *a) {
    struct sembuf op = {0, -1, 0};
    struct timespec ts = {0, WAIT_MS * 1000000L};
    return semtimedop(*(int *)a, &op, 1, &ts);
}
static int do_sem_timedwait(void *a) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += WAIT_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    return sem_timedwait(a, &ts);
}
static int do_recv_timeout(void *a) {
    char c;
    return (int)recv(*(int *)a, &c, 1, 0);
}
static int do_read_timeout(void *a) {
    char c;
    return (int)read(*(int *)a, &c, 1);
}

static void expect_clean(const char *what) {
    long e = atomic_load(&eintr), n = atomic_load(&waits), s = atomic_load(&short_waits);
    printf("%s: %ld waits, %ld EINTR, %ld ended early\n", what, n, e, s);
    EXPECT_TRUE(n > 0);
    EXPECT_TRUE(e == 0);
    EXPECT_TRUE(s == 0);
}

TEST(no_eintr_multiplexers) {
    ASSERT_TRUE(pipe(fds) == 0);
    under_collection(do_ppoll, NULL);
    expect_clean("ppoll");
    under_collection(do_pselect, NULL);
    expect_clean("pselect");
    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {0}};
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev);
    under_collection(do_epoll_pwait, &ep);
    expect_clean("epoll_pwait");
    close(ep);
    close(fds[0]);
    close(fds[1]);
}

TEST(no_eintr_signals_and_ipc) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGURG);
    pthread_sigmask(SIG_BLOCK, &s, NULL); /* inherited by the waiter */
    under_collection(do_sigtimedwait, NULL);
    expect_clean("sigtimedwait");
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    int id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    ASSERT_TRUE(id >= 0);
    under_collection(do_semtimedop, &id);
    expect_clean("semtimedop");
    semctl(id, 0, IPC_RMID);
    sem_t sem;
    sem_init(&sem, 0, 0);
    under_collection(do_sem_timedwait, &sem);
    expect_clean("sem_timedwait");
    sem_destroy(&sem);
}

TEST(no_eintr_socket_timeouts) {
    int sv[2];
    ASSERT_TRUE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct timeval tv = {0, WAIT_MS * 1000};
    setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    under_collection(do_recv_timeout, &sv[0]);
    expect_clean("recv with SO_RCVTIMEO");
    under_collection(do_read_timeout, &sv[0]);
    expect_clean("read with SO_RCVTIMEO");
    close(sv[0]);
    close(sv[1]);
}

/* ---- pause and sigsuspend ---- */

static atomic_int usr_hits, returns;
static void on_usr1(int sig) {
    (void)sig;
    atomic_fetch_add(&usr_hits, 1);
}

/* sigsuspend's caller starts with SIGUSR1 blocked (inherited), so a
 * signal sent before it waits is held for it; pause() has no such form,
 * so the test sends again until it returns (a signal that lands before
 * pause() only runs the handler). */
static void *pauser(void *arg) {
    int use_suspend = *(int *)arg;
    sigset_t none;
    sigemptyset(&none);
    gc_alloc(16);
    if (use_suspend) sigsuspend(&none);
    else pause();
    atomic_fetch_add(&returns, 1);
    return NULL;
}

TEST(pause_and_sigsuspend) {
    signal(SIGUSR1, on_usr1);
    for (int use_suspend = 0; use_suspend < 2; use_suspend++) {
        atomic_store(&returns, 0);
        atomic_store(&usr_hits, 0);
        pthread_t t;
        sigset_t usr1, old;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        pthread_sigmask(use_suspend ? SIG_BLOCK : SIG_UNBLOCK, &usr1, &old);
        pthread_create(&t, NULL, pauser, &use_suspend);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        uint64_t end = gct_now_ns() + 500000000u;
        while (gct_now_ns() < end) gc_collect();
        EXPECT_TRUE(atomic_load(&returns) == 0); /* not for the collector */
        end = gct_now_ns() + 20000000000u;
        do {
            pthread_kill(t, SIGUSR1);
            usleep(10000);
        } while (!use_suspend && atomic_load(&returns) == 0 && gct_now_ns() < end);
        pthread_join(t, NULL);
        EXPECT_TRUE(atomic_load(&returns) == 1);
        if (use_suspend) EXPECT_TRUE(atomic_load(&usr_hits) == 1);
        else EXPECT_TRUE(atomic_load(&usr_hits) >= 1);
    }
    signal(SIGUSR1, SIG_DFL);
}

TC_TEST_MAIN()
