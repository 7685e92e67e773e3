/* tests/gc/procs.c: the collector and the process around it: environment
 * variables, signals, blocking system calls and fork.
 *
 *   gogc_env: GOGC=37, GOGC=off and no GOGC, each in a child process
 *     (the variable is read once, at start): stats and gc_setpercent see
 *     37, a negative value, and 100.
 *   memlimit_env: GOMEMLIMIT=512MiB, =off, unset and a malformed one,
 *     each in a child: gc_set_memory_limit(-1) reads 536870912, INT64_MAX
 *     and INT64_MAX; the malformed value (and a malformed GOGC) gets one
 *     line on stderr naming the variable, and the default.
 *   gctrace: with GODEBUG=gctrace=1 a child's stderr gets one line per
 *     completed cycle, "gc N ...", N counting up from 1, as many lines as
 *     gc_num; without it, none.
 *   blocked_read_no_eintr: a thread blocked in read() on a pipe across 200
 *     collections gets its byte, never EINTR: the stop signal's handler is
 *     installed with SA_RESTART (rule 6).
 *   app_signal_handlers: the collector did not take SIGUSR1, SIGUSR2 or
 *     SIGPWR (the usual choices of other collectors), and the program's
 *     own handlers for them run, raised and sent, while a thread collects
 *     back to back.
 *   fork_from_thread: four threads build and verify checksummed lists and
 *     a fifth collects in a loop while a sixth (not the main thread)
 *     forks for TC_FORK_SECONDS (default 2), at least 5 times (bounded by
 *     time: a fork costs 0.2-1 s on a loaded 2-core machine); each child
 *     must allocate, collect three times,
 *     verify the lists it inherited after each cycle and exit 0 within
 *     its 10 s alarm. (A parent that deadlocks in fork shows up as the
 *     test's meson timeout.)
 *
 * Children are this program again (/proc/self/exe) with TC_GC_PROCS_CHILD
 * naming their job; a constructor runs the job and exits before the
 * harness's main. Their environment is ours without GOGC and GODEBUG, plus
 * what the test sets. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gc_test.h"

extern char **environ;

__attribute__((constructor)) static void child_main(void) {
    const char *job = getenv("TC_GC_PROCS_CHILD");
    if (!job) return;
    if (strcmp(job, "gogc") == 0) {
        int now = gct_stats().gc_percent;
        printf("%d %d\n", now, gc_setpercent(100));
    } else if (strcmp(job, "memlimit") == 0) {
        printf("%lld\n", (long long)gc_set_memory_limit(-1));
    } else if (strcmp(job, "trace") == 0) {
        for (int i = 0; i < 5; i++) gc_collect();
        gct_sleep_us(100000); /* a trace line printed after the cycle ended */
        printf("%u\n", gct_stats().gc_num);
    } else {
        fprintf(stderr, "TC_GC_PROCS_CHILD=%s: unknown job\n", job);
        exit(2);
    }
    fflush(stdout);
    exit(0);
}

/* Run this program as a child doing job with extra variables; collect
 * its stdout and stderr. Returns the wait status, or -1. */
static int run_child(const char *job, const char *const *extra, char *out, size_t outn, char *err,
                     size_t errn) {
    char *envp[512];
    size_t n = 0;
    static char jobvar[64];
    for (char **e = environ; *e && n < 500; e++)
        if (strncmp(*e, "GOGC=", 5) && strncmp(*e, "GODEBUG=", 8) &&
            strncmp(*e, "TC_GC_PROCS_CHILD=", 18))
            envp[n++] = *e;
    snprintf(jobvar, sizeof jobvar, "TC_GC_PROCS_CHILD=%s", job);
    envp[n++] = jobvar;
    for (; extra && *extra; extra++) envp[n++] = (char *)*extra;
    envp[n] = NULL;

    int po[2], pe[2];
    if (pipe(po) || pipe(pe)) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawn_file_actions_addclose(&fa, po[0]);
    posix_spawn_file_actions_addclose(&fa, pe[0]);
    char *argv[] = {"procs-child", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    if (rc) return -1;
    struct pollfd pf[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    char *buf[2] = {out, err};
    size_t cap[2] = {outn - 1, errn - 1}, len[2] = {0, 0};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(pf, 2, 30000) <= 0) break; /* a hung child: give up */
        for (int i = 0; i < 2; i++) {
            if (pf[i].fd < 0 || !pf[i].revents) continue;
            char tmp[4096];
            ssize_t r = read(pf[i].fd, tmp, sizeof tmp);
            if (r <= 0) {
                close(pf[i].fd);
                pf[i].fd = -1;
                open_fds--;
                continue;
            }
            size_t k = (size_t)r < cap[i] - len[i] ? (size_t)r : cap[i] - len[i];
            memcpy(buf[i] + len[i], tmp, k);
            len[i] += k;
        }
    }
    out[len[0]] = err[len[1]] = 0;
    for (int i = 0; i < 2; i++)
        if (pf[i].fd >= 0) close(pf[i].fd);
    int status;
    if (open_fds > 0) kill(pid, SIGKILL);
    if (waitpid(pid, &status, 0) != pid) return -1;
    return status;
}

static char out[4096], err[65536];

static void expect_gogc(const char *var, int want_percent) {
    const char *extra[] = {var, NULL};
    int st = run_child("gogc", var ? extra : NULL, out, sizeof out, err, sizeof err);
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
        TC_FAIL_("child with %s: status %#x, stderr: %s", var ? var : "no GOGC", st, err);
        return;
    }
    int now, prev;
    if (sscanf(out, "%d %d", &now, &prev) != 2) {
        TC_FAIL_("child with %s printed \"%s\"", var ? var : "no GOGC", out);
        return;
    }
    if (want_percent < 0 ? (now >= 0 || prev >= 0) : (now != want_percent || prev != want_percent))
        TC_FAIL_("%s: gc_percent %d, gc_setpercent returned %d, want %d", var ? var : "no GOGC",
                 now, prev, want_percent);
}

TEST(gogc_env) {
    expect_gogc("GOGC=37", 37);
    expect_gogc("GOGC=off", -1);
    expect_gogc(NULL, 100);
}

/* The child's limit, or -2; err gets its stderr. */
static long long child_limit(const char *var) {
    const char *extra[] = {var, NULL};
    int st = run_child("memlimit", var ? extra : NULL, out, sizeof out, err, sizeof err);
    long long v;
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) || sscanf(out, "%lld", &v) != 1) return -2;
    return v;
}

static int lines_in(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

TEST(memlimit_env) {
    EXPECT_EQ_U(child_limit("GOMEMLIMIT=512MiB"), 536870912);
    EXPECT_EQ_U(strlen(err), 0);
    EXPECT_EQ_U(child_limit("GOMEMLIMIT=off"), INT64_MAX);
    EXPECT_EQ_U(child_limit(NULL), INT64_MAX);
    EXPECT_EQ_U(child_limit("GOMEMLIMIT=512MB"), INT64_MAX);
    EXPECT_TRUE(strstr(err, "GOMEMLIMIT=512MB") != NULL && lines_in(err) == 1);
    const char *bad[] = {"GOGC=lots", NULL};
    int st = run_child("gogc", bad, out, sizeof out, err, sizeof err);
    EXPECT_TRUE(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    EXPECT_TRUE(strncmp(out, "100 100", 7) == 0);
    EXPECT_TRUE(strstr(err, "GOGC=lots") != NULL && lines_in(err) == 1);
}

/* Lines of s; each must read "gc N ..." with N = 1, 2, ... */
static int trace_lines(const char *s, int *bad) {
    int n = 0;
    *bad = 0;
    for (const char *line = s; *line; n++) {
        unsigned num;
        if (sscanf(line, "gc %u ", &num) != 1 || num != (unsigned)n + 1) {
            if (!*bad) fprintf(stderr, "unexpected trace line %d: %.*s\n", n + 1,
                               (int)strcspn(line, "\n"), line);
            *bad = 1;
        }
        line += strcspn(line, "\n");
        if (*line) line++;
    }
    return n;
}

TEST(gctrace) {
    const char *on[] = {"GODEBUG=gctrace=1", "GOGC=off", NULL};
    int st = run_child("trace", on, out, sizeof out, err, sizeof err);
    ASSERT_TRUE(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    unsigned num = 0;
    ASSERT_TRUE(sscanf(out, "%u", &num) == 1);
    int bad, lines = trace_lines(err, &bad);
    EXPECT_TRUE(num >= 5);
    EXPECT_EQ_U(lines, num);
    EXPECT_TRUE(!bad);

    const char *off[] = {"GOGC=off", NULL};
    st = run_child("trace", off, out, sizeof out, err, sizeof err);
    ASSERT_TRUE(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    EXPECT_EQ_U(strlen(err), 0);
}

struct reader {
    int fds[2];
    ssize_t r;
    int err;
    atomic_int started;
};

static void *reader_thread(void *arg) {
    struct reader *rd = arg;
    char c;
    atomic_store(&rd->started, 1);
    rd->r = read(rd->fds[0], &c, 1);
    rd->err = rd->r < 0 ? errno : 0;
    return NULL;
}

TEST(blocked_read_no_eintr) {
    struct reader rd = {.r = -2};
    ASSERT_TRUE(pipe(rd.fds) == 0);
    pthread_t t;
    ASSERT_TRUE(pthread_create(&t, NULL, reader_thread, &rd) == 0);
    while (!atomic_load(&rd.started)) gct_sleep_us(1000);
    gct_sleep_us(20000); /* now inside read() */
    for (int i = 0; i < 200; i++) gc_collect();
    EXPECT_TRUE(rd.r == -2); /* still blocked */
    ASSERT_TRUE(write(rd.fds[1], "x", 1) == 1);
    pthread_join(t, NULL);
    if (rd.r != 1) TC_FAIL_("read returned %zd (%s)", rd.r, strerror(rd.err));
    close(rd.fds[0]);
    close(rd.fds[1]);
}

static const int app_sigs[] = {SIGUSR1, SIGUSR2, SIGPWR};
static atomic_int sig_count[3];
static atomic_int collect_stop;
static atomic_int collect_cycles;

static void app_handler(int sig) {
    for (int i = 0; i < 3; i++)
        if (sig == app_sigs[i]) atomic_fetch_add(&sig_count[i], 1);
}

static void *collector_loop(void *arg) {
    (void)arg;
    while (!atomic_load(&collect_stop)) {
        gc_collect();
        atomic_fetch_add(&collect_cycles, 1);
    }
    return NULL;
}

TEST(app_signal_handlers) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = app_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++) {
        ASSERT_TRUE(sigaction(app_sigs[i], &sa, &old) == 0);
        if (old.sa_handler != SIG_DFL) TC_FAIL_("signal %d had a handler already", app_sigs[i]);
    }
    atomic_store(&collect_stop, 0);
    atomic_store(&collect_cycles, 0);
    pthread_t t;
    ASSERT_TRUE(pthread_create(&t, NULL, collector_loop, NULL) == 0);
    int lost = 0, round = 0;
    /* At least 100 rounds, and until 20 collections overlapped them. */
    uint64_t give_up = gct_now_ns() + 30000000000u;
    for (; (round < 100 || atomic_load(&collect_cycles) < 20) && gct_now_ns() < give_up; round++) {
        for (int i = 0; i < 3; i++) {
            int before = atomic_load(&sig_count[i]);
            raise(app_sigs[i]); /* runs the handler before returning */
            lost += atomic_load(&sig_count[i]) != before + 1;
            kill(getpid(), app_sigs[i]); /* any thread may take it */
            uint64_t end = gct_now_ns() + 1000000000u;
            while (atomic_load(&sig_count[i]) != before + 2 && gct_now_ns() < end)
                gct_sleep_us(100);
            lost += atomic_load(&sig_count[i]) != before + 2;
        }
        gct_churn(32);
    }
    atomic_store(&collect_stop, 1);
    pthread_join(t, NULL);
    EXPECT_EQ_U(lost, 0);
    if (atomic_load(&collect_cycles) < 20)
        TC_FAIL_("only %d collections completed in %d rounds (30 s)", atomic_load(&collect_cycles), round);
    sa.sa_handler = SIG_DFL;
    for (int i = 0; i < 3; i++) sigaction(app_sigs[i], &sa, NULL);
}

/* ---- fork from a non-main thread while collecting ---- */

struct lnode {
    uint64_t seed, idx;
    struct lnode *next;
    unsigned char pad[40];
};

enum { SLOTS = 16, LIST_LEN = 200, MIN_FORKS = 5, MUTATORS = 4 };
static struct lnode *lists[SLOTS];
static pthread_mutex_t lists_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int fork_stop, verify_errors;

static struct lnode *build_list(uint64_t seed, int len) {
    struct lnode *head = NULL;
    for (int i = len - 1; i >= 0; i--) {
        struct lnode *n = gc_alloc(sizeof *n);
        if (!n) return NULL;
        n->seed = seed;
        n->idx = (uint64_t)i;
        for (size_t k = 0; k < sizeof n->pad; k++) n->pad[k] = (unsigned char)gct_mix(seed + (uint64_t)i * 64 + k);
        gc_store((void **)&n->next, head);
        head = n;
    }
    return head;
}

static int list_ok(const struct lnode *n, int len) {
    if (!n) return 1; /* slot not filled yet */
    uint64_t seed = n->seed;
    for (int i = 0; i < len; i++, n = n->next) {
        if (!n || n->seed != seed || n->idx != (uint64_t)i) return 0;
        for (size_t k = 0; k < sizeof n->pad; k++)
            if (n->pad[k] != (unsigned char)gct_mix(seed + (uint64_t)i * 64 + k)) return 0;
    }
    return n == NULL;
}

static void *list_mutator(void *arg) {
    uint64_t seed = (uintptr_t)arg * 1000000;
    while (!atomic_load(&fork_stop)) {
        struct lnode *l = build_list(++seed, LIST_LEN);
        int s = (int)(seed % SLOTS);
        pthread_mutex_lock(&lists_lock);
        if (!list_ok(lists[s], LIST_LEN)) atomic_fetch_add(&verify_errors, 1);
        gc_store((void **)&lists[s], l);
        pthread_mutex_unlock(&lists_lock);
    }
    return NULL;
}

/* In the child: only this thread exists; the lists lock may have been
 * held by a parent thread at fork time, so the slots are read without it
 * (nobody writes them here). */
static int child_work(void) {
    alarm(10);
    for (int s = 0; s < SLOTS; s++)
        if (!list_ok(__atomic_load_n(&lists[s], __ATOMIC_ACQUIRE), LIST_LEN)) return 3;
    /* Three cycles: a span the parent's threads left in flight keeps its
     * mark bits unless the child sweeps it, which shows from the second. */
    for (int round = 0; round < 3; round++) {
        struct lnode *mine = build_list(424242 + (uint64_t)round, 2000);
        gc_collect();
        if (!list_ok(mine, 2000)) return 4;
        for (int s = 0; s < SLOTS; s++)
            if (!list_ok(__atomic_load_n(&lists[s], __ATOMIC_ACQUIRE), LIST_LEN)) return 5 + round;
    }
    return gc_alloc(1 << 20) ? 0 : 8;
}

static void *forker(void *arg) {
    int *failures = arg;
    uint64_t end = gct_now_ns() + (uint64_t)(gct_env_double("TC_FORK_SECONDS", 2) * 1e9);
    for (int i = 0; (i < MIN_FORKS || gct_now_ns() < end) && *failures < 3; i++) { /* 3 failures are enough */
        gct_sleep_us(1000);
        pid_t pid = fork();
        if (pid == 0) _exit(child_work()); /* _exit: no stdio flush of the parent's buffers */
        if (pid < 0) {
            (*failures)++;
            continue;
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            if (*failures < 5)
                fprintf(stderr, "fork child %d: %s %d\n", i,
                        WIFSIGNALED(st) ? "killed by signal" : "exit status",
                        WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
            (*failures)++;
        }
    }
    return NULL;
}

TEST(fork_from_thread) {
    pthread_t m[MUTATORS], c, f;
    int failures = 0;
    atomic_store(&fork_stop, 0);
    atomic_store(&collect_stop, 0);
    for (int i = 0; i < MUTATORS; i++)
        ASSERT_TRUE(pthread_create(&m[i], NULL, list_mutator, (void *)(uintptr_t)(i + 1)) == 0);
    ASSERT_TRUE(pthread_create(&c, NULL, collector_loop, NULL) == 0);
    ASSERT_TRUE(pthread_create(&f, NULL, forker, &failures) == 0);
    pthread_join(f, NULL);
    atomic_store(&fork_stop, 1);
    atomic_store(&collect_stop, 1);
    for (int i = 0; i < MUTATORS; i++) pthread_join(m[i], NULL);
    pthread_join(c, NULL);
    EXPECT_EQ_U(failures, 0);
    EXPECT_EQ_U(atomic_load(&verify_errors), 0);
    for (int s = 0; s < SLOTS; s++) EXPECT_TRUE(list_ok(lists[s], LIST_LEN));
}

TC_TEST_MAIN()
