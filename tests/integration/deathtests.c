/* tests/integration/deathtests.c: what tricolor does with a bad free.
 *
 * A bad free (twice, a foreign pointer, a pointer into the middle of an
 * object) must end the process with ONE clear line on stderr and SIGABRT,
 * never a silent heap corruption or a crash somewhere later; with
 * GODEBUG=badfree=warn it prints the same line and carries on, ignoring
 * the call (realloc then returns NULL with errno EINVAL), and the heap is
 * still sound afterwards. The lines are checked byte for byte:
 *
 *   tricolor: free(): double free of 0x...
 *   tricolor: free(): invalid pointer 0x... (not from this heap)
 *   tricolor: free(): interior pointer 0x... (object at 0x...)
 *
 * with realloc() for pointers that came through realloc, and addresses in
 * lower-case hex without leading zeros. A freed large object may already
 * be unmapped, so for it "invalid pointer" is accepted as well.
 *
 * Each case runs in a fresh process (fork + exec of this program with
 * "--case NAME"), because GODEBUG is read once at tricolor's first
 * allocation. The child prints the addresses it is about to pass on
 * stdout, so the parent knows the exact line to expect. Core dumps are
 * switched off; every child has an alarm so a hang fails instead of
 * blocking. Without tricolor (plain glibc) the program skips (exit 77). */
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "tc_check.h"

enum kind { DOUBLE, INVALID, INTERIOR, DOUBLE_OR_INVALID };

struct bad {
    void *ptr, *obj; /* what is passed; the object it lies in (INTERIOR) */
};

static void *glibc_malloc(size_t n) {
    /* libc's own malloc, bypassing the interposed one */
    void *h = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    void *(*m)(size_t) = h ? (void *(*)(size_t))dlsym(h, "malloc") : NULL;
    return m ? m(n) : NULL;
}

static struct bad make_double(size_t n) {
    void *p = malloc(n);
    memset(p, 1, n);
    free(p);
    return (struct bad){p, NULL};
}
static struct bad mk_double_small(void) { return make_double(48); }
static struct bad mk_double_page(void) { return make_double(20000); }
static struct bad mk_double_large(void) { return make_double(1 << 20); }
static struct bad mk_stack(void) {
    static volatile char *where; /* address of a live stack slot */
    char local[64];
    where = local;
    return (struct bad){tc_launder((void *)where), NULL};
}
static struct bad mk_mmap(void) {
    char *m = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return (struct bad){m == MAP_FAILED ? NULL : m + 4096, NULL};
}
static struct bad mk_glibc(void) { return (struct bad){glibc_malloc(100), NULL}; }
static struct bad mk_interior_small(void) {
    char *p = malloc(64);
    return (struct bad){p + 16, p};
}
static struct bad mk_interior_large(void) {
    char *p = malloc(256 << 10);
    return (struct bad){p + 8192 + 8, p};
}

static const struct dcase {
    const char *name;
    const char *fn; /* "free" or "realloc" */
    enum kind kind;
    struct bad (*make)(void);
} cases[] = {
    {"free_double_small", "free", DOUBLE, mk_double_small},
    {"free_double_page", "free", DOUBLE, mk_double_page},
    {"free_double_large", "free", DOUBLE_OR_INVALID, mk_double_large},
    {"free_stack", "free", INVALID, mk_stack},
    {"free_mmap", "free", INVALID, mk_mmap},
    {"free_glibc_malloc", "free", INVALID, mk_glibc},
    {"free_interior_small", "free", INTERIOR, mk_interior_small},
    {"free_interior_large", "free", INTERIOR, mk_interior_large},
    {"realloc_double_small", "realloc", DOUBLE, mk_double_small},
    {"realloc_double_large", "realloc", DOUBLE_OR_INVALID, mk_double_large},
    {"realloc_stack", "realloc", INVALID, mk_stack},
    {"realloc_mmap", "realloc", INVALID, mk_mmap},
    {"realloc_interior_small", "realloc", INTERIOR, mk_interior_small},
    {"realloc_interior_large", "realloc", INTERIOR, mk_interior_large},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* After an ignored bad call: the heap must still hand out distinct,
 * writable objects (a double free that was not really ignored puts the
 * slot on a free list twice, and two mallocs return it). */
static int heap_still_sound(void) {
    enum { N = 3000 };
    static char *p[N];
    for (int i = 0; i < N; i++) {
        size_t n = i % 3 == 0 ? 48 : (size_t)(i * 97 % 70000) + 1;
        if (!(p[i] = malloc(n))) return 0;
        memset(p[i], i & 0xff, n < 64 ? n : 64);
    }
    for (int i = 0; i < N; i++) {
        if ((unsigned char)p[i][0] != (i & 0xff)) return 0; /* two objects share memory */
        free(p[i]);
    }
    return 1;
}

static int run_case(const char *name, int warn_mode) {
    const struct dcase *c = NULL;
    for (size_t i = 0; i < NCASES; i++)
        if (strcmp(cases[i].name, name) == 0) c = &cases[i];
    if (!c) return fprintf(stderr, "deathtests: no case %s\n", name), 2;
    alarm(10);
    /* stdout gets a static buffer: its first printf must not malloc
     * between the bad pointer's making and its use (that could reuse a
     * freed object's memory and make the bad call a good one) */
    static char outbuf[1024];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    free(malloc(1)); /* tricolor starts and reads GODEBUG now */
    struct bad b = c->make();
    if (!b.ptr) return printf("setup failed\n"), 2;
    printf("%p %p\n", b.ptr, b.obj);
    fflush(stdout);
    errno = 0;
    if (strcmp(c->fn, "free") == 0) {
        free(tc_launder(b.ptr));
    } else {
        void *r = realloc(tc_launder(b.ptr), 200);
        if (r != NULL || errno != EINVAL) return printf("realloc returned %p errno %d\n", r, errno), 3;
    }
    if (!warn_mode) return printf("returned\n"), 4;
    if (!heap_still_sound()) return printf("heap damaged\n"), 5;
    printf("survived\n");
    return 0;
}

/* Run one case in a fresh process; read its stdout and stderr. */
static int spawn(const char *name, const char *godebug, int warn_mode, char *out, size_t outcap, char *err, size_t errcap) {
    int po[2], pe[2];
    if (pipe(po) || pipe(pe)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        dup2(po[1], 1), dup2(pe[1], 2);
        close(po[0]), close(pe[0]), close(po[1]), close(pe[1]);
        if (godebug) setenv("GODEBUG", godebug, 1);
        else unsetenv("GODEBUG");
        execl("/proc/self/exe", "deathtests", "--case", name, warn_mode ? "warn" : "abort", (char *)NULL);
        _exit(127);
    }
    close(po[1]), close(pe[1]);
    size_t no = 0, ne = 0;
    ssize_t k;
    while (no + 1 < outcap && (k = read(po[0], out + no, outcap - 1 - no)) > 0) no += (size_t)k;
    while (ne + 1 < errcap && (k = read(pe[0], err + ne, errcap - 1 - ne)) > 0) ne += (size_t)k;
    out[no] = err[ne] = 0;
    close(po[0]), close(pe[0]);
    int status;
    waitpid(pid, &status, 0);
    return status;
}

static void expected_lines(const struct dcase *c, void *ptr, void *obj, char want[2][200]) {
    const char *fn = c->fn;
    snprintf(want[0], 200, "%s(): double free of 0x%lx\n", fn, (unsigned long)(uintptr_t)ptr);
    snprintf(want[1], 200, "%s(): invalid pointer 0x%lx (not from this heap)\n", fn, (unsigned long)(uintptr_t)ptr);
    if (c->kind == INTERIOR)
        snprintf(want[0], 200, "%s(): interior pointer 0x%lx (object at 0x%lx)\n", fn,
                 (unsigned long)(uintptr_t)ptr, (unsigned long)(uintptr_t)obj);
    if (c->kind == INVALID) memcpy(want[0], want[1], 200);
    if (c->kind != DOUBLE_OR_INVALID) memcpy(want[1], want[0], 200);
}

/* err must be exactly one of the two lines after one of the prefixes */
static int line_matches(const char *err, char want[2][200], int warn_mode) {
    const char *prefixes[] = {"tricolor: ", "tricolor: warning: "};
    for (int p = 0; p < 1 + warn_mode; p++) {
        size_t pl = strlen(prefixes[p]);
        if (strncmp(err, prefixes[p], pl) != 0) continue;
        if (strcmp(err + pl, want[0]) == 0 || strcmp(err + pl, want[1]) == 0) return 1;
    }
    return 0;
}

static void run_all(const char *godebug, int warn_mode) {
    for (size_t i = 0; i < NCASES; i++) {
        const struct dcase *c = &cases[i];
        char out[512], err[1024], want[2][200];
        void *ptr = NULL, *obj = NULL;
        int status = spawn(c->name, godebug, warn_mode, out, sizeof out, err, sizeof err);
        if (sscanf(out, "%p %p", &ptr, &obj) < 1 || !ptr) {
            TC_FAIL_("%s: child gave no addresses (stdout \"%s\", stderr \"%s\")", c->name, out, err);
            continue;
        }
        expected_lines(c, ptr, obj, want);
        if (!line_matches(err, want, warn_mode))
            TC_FAIL_("%s [%s]: stderr \"%s\", want \"tricolor: %s\"", c->name, godebug ? godebug : "-", err,
                     want[0]);
        if (!warn_mode && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT))
            TC_FAIL_("%s: want SIGABRT, got status 0x%x (stdout \"%s\")", c->name, status, out);
        if (warn_mode && !(WIFEXITED(status) && WEXITSTATUS(status) == 0 && strstr(out, "survived\n")))
            TC_FAIL_("%s [%s]: want survival, got status 0x%x (stdout \"%s\")", c->name, godebug, status, out);
    }
}

TC_PRESENCE_TEST()

TEST(bad_free_aborts_with_one_line) { run_all(NULL, 0); }
TEST(bad_free_explicit_abort_setting) { run_all("badfree=abort", 0); }
TEST(bad_free_warn_carries_on) { run_all("badfree=warn", 1); }
TEST(bad_free_warn_among_other_keys) { run_all("madvdontneed=1,badfree=warn,gctrace=0", 1); }

/* The harness's main runs the tests; ours first routes "--case". */
int harness_main(int argc, char **argv);
#define main harness_main
TC_TEST_MAIN()
#undef main

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "--case") == 0) return run_case(argv[2], strcmp(argv[3], "warn") == 0);
    if (!tc_have_tricolor() && !tc_expect_tricolor()) {
        printf("deathtests: the messages are tricolor's; skipped on another malloc\n");
        return 77;
    }
    return harness_main(argc, argv);
}
