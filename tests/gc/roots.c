/* tests/gc/roots.c: every kind of root the collector promises to see, and
 * what it must not see.
 *
 * Each test parks a watched, checksummed object (gc_test.h) where only
 * one kind of root refers to it, runs 100 collections with churn, and
 * checks the object stayed: finalizer not run, bytes intact. Then it
 * drops that one root and waits for the finalizer: that proves the root
 * was really the only reference, so the survival could not have come
 * from a stray copy elsewhere. The roots:
 *   register   a pointer kept in a callee-saved register by a spin loop in
 *              inline asm, after the asm zeroed the dead stack (x86-64);
 *              a second object whose address is only kept xor-ed is the
 *              control and must be reclaimed meanwhile (rule 3)
 *   stack      a local of another thread blocked in read() on a pipe
 *   dlopen     the .bss and .data statics of a module dlopen'ed at run time
 *              (the collector must find segments loaded after start), and
 *              after dlclose the objects must become garbage
 *   tls        a __thread variable of the main thread and of another one;
 *              of a dlopen'ed module (dynamic TLS), in both threads; of
 *              ten modules linked in (more blocks than a fixed table held)
 *   dlclose    modules loaded and unloaded back to back while cycles run
 *   range      a malloc'd buffer given to gc_add_roots; gc_remove_roots
 *              makes the object collectable again
 *   malloc     a pointer stored only in malloc'd memory keeps nothing
 *              alive (rule 2: malloc'd memory is not scanned)
 *   uncollectable  an object referenced only from gc_alloc_uncollectable
 *              memory survives; gc_free ends that
 * and unreachable_reclaimed: N dropped objects are freed by one cycle. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include "gc_test.h"

#define ROUNDS 100

static void *global_slot;

/* ---- register ---- */

#if defined(__x86_64__)
static volatile int reg_go, reg_done;

static void *reg_collector(void *arg) {
    (void)arg;
    while (!__atomic_load_n(&reg_go, __ATOMIC_ACQUIRE)) gct_sleep_us(100);
    for (int i = 0; i < ROUNDS; i++) {
        gc_collect();
        gct_churn(64);
    }
    gct_sleep_us(20000);
    __atomic_store_n(&reg_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

GCT_NOINLINE static uintptr_t make_hidden(struct gct_watch *w, uint64_t seed) {
    return (uintptr_t)gct_make(w, seed, GCT_OBJ_SIZE) ^ (uintptr_t)0x5a5a5a5a5a5a5a5aULL;
}

TEST(register_root) {
    SKIP_UNDER_TSAN("this thread spins without calls, where a stop cannot reach it");
    static struct gct_watch wa, wb;
    pthread_t t;
    ASSERT_TRUE(pthread_create(&t, NULL, reg_collector, NULL) == 0);
    uintptr_t hidden = make_hidden(&wa, 101);
    void *b = gct_make(&wb, 102, GCT_OBJ_SIZE);
    /* From here until the asm ends b lives in one callee-saved register.
     * The asm zeroes 64 KiB below the red zone and the red zone itself
     * (gct_make's dead frames), the caller-saved registers, then starts
     * the collector thread and spins, without a call or a store of b,
     * until it finished its collections. */
    __asm__ volatile(
        "lea -128(%%rsp), %%rdi\n\t"
        "sub %[n], %%rdi\n\t"
        "mov %[n], %%rcx\n\t"
        "add $128, %%rcx\n\t"
        "xor %%eax, %%eax\n\t"
        "rep stosb\n\t"
        "xor %%esi, %%esi\n\t"
        "xor %%edx, %%edx\n\t"
        "xor %%r8d, %%r8d\n\t"
        "xor %%r9d, %%r9d\n\t"
        "xor %%r10d, %%r10d\n\t"
        "xor %%r11d, %%r11d\n\t"
        "movl $1, %[go]\n\t"
        "1: pause\n\t"
        "movl %[done], %%eax\n\t"
        "test %%eax, %%eax\n\t"
        "jz 1b\n\t"
        : "+r"(b), [go] "=m"(reg_go)
        : [n] "i"(65536), [done] "m"(reg_done)
        : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "cc", "memory");
    pthread_join(t, NULL);
    EXPECT_TRUE(atomic_load(&wb.ran) == 0);
    EXPECT_TRUE(gct_intact(b, GCT_OBJ_SIZE, 102));
    /* The control: if this fails, something besides the register kept
     * objects alive and the survival above proves nothing. */
    if (atomic_load(&wa.ran) == 0)
        TC_FAIL_("control object (address only kept xor-ed, %#jx) was not reclaimed in %d cycles",
                 (uintmax_t)(hidden ^ (uintptr_t)0x5a5a5a5a5a5a5a5aULL), ROUNDS);
    EXPECT_TRUE(atomic_load(&wa.intact) == 1);
    gc_keepalive(b);
}
#endif

/* ---- another thread's stack ---- */

struct parked {
    int ready[2], go[2];
    struct gct_watch *w;
    int intact;
    int tls; /* park the object in this thread's TLS instead of its stack */
};

static __thread void *tls_slot;

GCT_NOINLINE static int parked_check_stack(void *volatile *slot, const struct gct_watch *w) {
    return gct_intact(*slot, w->size, w->seed);
}

static void *parked_thread(void *arg) {
    struct parked *pk = arg;
    void *volatile slot = NULL; /* volatile: it lives in this frame */
    if (pk->tls)
        gct_attach(&tls_slot, pk->w, 202);
    else
        slot = gct_make(pk->w, 201, GCT_OBJ_SIZE);
    gct_clobber_stack();
    char c = 1;
    if (write(pk->ready[1], &c, 1) != 1) abort();
    ssize_t r;
    while ((r = read(pk->go[0], &c, 1)) < 0 && errno == EINTR) {
    }
    pk->intact = pk->tls ? gct_check_slot(&tls_slot, pk->w) : parked_check_stack(&slot, pk->w);
    /* The TLS pointer is left in place: once this thread is gone its
     * static TLS is no longer a root. */
    slot = NULL;
    return NULL;
}

static void parked_run(int tls) {
    static struct gct_watch w;
    struct parked pk = {.w = &w, .tls = tls};
    ASSERT_TRUE(pipe(pk.ready) == 0 && pipe(pk.go) == 0);
    pthread_t t;
    ASSERT_TRUE(pthread_create(&t, NULL, parked_thread, &pk) == 0);
    char c;
    ASSERT_TRUE(read(pk.ready[0], &c, 1) == 1);
    EXPECT_TRUE(gct_survives(&w, ROUNDS));
    ASSERT_TRUE(write(pk.go[1], &c, 1) == 1);
    pthread_join(t, NULL);
    EXPECT_TRUE(pk.intact);
    if (GCT_PRECISE) EXPECT_TRUE(gct_wait_final(&w, 10));
    for (int i = 0; i < 2; i++) {
        close(pk.ready[i]);
        close(pk.go[i]);
    }
}

TEST(other_thread_stack_root) { parked_run(0); }
TEST(other_thread_tls_root) { parked_run(1); }

/* An object held only in *slot (of this thread) survives; cleared, it goes. */
static void slot_root_run(void **slot, struct gct_watch *w, int tag) {
    gct_attach(slot, w, tag);
    gct_clobber_stack();
    EXPECT_TRUE(gct_survives(w, ROUNDS));
    EXPECT_TRUE(gct_check_slot(slot, w));
    gc_store(slot, NULL);
    if (GCT_PRECISE) EXPECT_TRUE(gct_wait_final(w, 10));
}

TEST(main_thread_tls_root) {
    static struct gct_watch w;
    slot_root_run(&tls_slot, &w, 301);
}

TEST(global_root) {
    static struct gct_watch w;
    slot_root_run(&global_slot, &w, 351);
}

/* ---- a dlopen'ed module's statics ---- */

static void module_path(char *buf, size_t n) {
    const char *env = getenv("TC_GC_DLMOD");
    if (env && *env) {
        snprintf(buf, n, "%s", env);
        return;
    }
    /* Next to this program, as meson builds it. */
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    buf[len > 0 ? len : 0] = 0;
    char *slash = strrchr(buf, '/');
    size_t dir = slash ? (size_t)(slash - buf) + 1 : 0;
    snprintf(buf + dir, n - dir, "libgcrootmod.so");
}

TEST(dlopen_static_root) {
    static struct gct_watch wbss, wdata;
    char path[PATH_MAX];
    module_path(path, sizeof path);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        TC_FAIL_("dlopen %s: %s", path, dlerror());
        return;
    }
    void **(*bss)(void) = (void **(*)(void))dlsym(h, "gcrootmod_bss_slot");
    void **(*data)(void) = (void **(*)(void))dlsym(h, "gcrootmod_data_slot");
    ASSERT_TRUE(bss && data);
    gct_attach(bss(), &wbss, 401);
    gct_attach(data(), &wdata, 402);
    gct_clobber_stack();
    EXPECT_TRUE(gct_survives(&wbss, ROUNDS));
    EXPECT_TRUE(atomic_load(&wdata.ran) == 0);
    EXPECT_TRUE(gct_check_slot(bss(), &wbss));
    EXPECT_TRUE(gct_check_slot(data(), &wdata));
    /* Unloaded: its segments are gone, so are the roots (and the
     * collector must not touch the unmapped pages). */
    bss = data = NULL;
    ASSERT_TRUE(dlclose(h) == 0);
    EXPECT_TRUE(gct_wait_final(&wbss, 10));
    EXPECT_TRUE(gct_wait_final(&wdata, 10));
}

/* A __thread variable of the dlopen'ed module, in the main thread and in
 * another: blocks the dynamic TLS allocator made after start. */
static void **(*mod_tls)(void);
static struct gct_watch wtls_other;
static atomic_int tls_go, tls_ok;

static void *tls_holder(void *arg) {
    (void)arg;
    gct_attach(mod_tls(), &wtls_other, 412);
    while (!atomic_load(&tls_go)) gct_sleep_us(1000);
    atomic_store(&tls_ok, gct_check_slot(mod_tls(), &wtls_other));
    *mod_tls() = NULL;
    return NULL;
}

TEST(dlopen_tls_root) {
    static struct gct_watch wmain;
    char path[PATH_MAX];
    module_path(path, sizeof path);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ASSERT_TRUE(h != NULL);
    mod_tls = (void **(*)(void))dlsym(h, "gcrootmod_tls_slot");
    ASSERT_TRUE(mod_tls != NULL);
    pthread_t t;
    pthread_create(&t, NULL, tls_holder, NULL);
    gct_attach(mod_tls(), &wmain, 411);
    gct_clobber_stack();
    EXPECT_TRUE(gct_survives(&wmain, ROUNDS));
    EXPECT_TRUE(atomic_load(&wtls_other.ran) == 0);
    EXPECT_TRUE(gct_check_slot(mod_tls(), &wmain));
    atomic_store(&tls_go, 1);
    pthread_join(t, NULL);
    EXPECT_TRUE(atomic_load(&tls_ok) == 1);
    *mod_tls() = NULL;
    EXPECT_TRUE(gct_wait_final(&wmain, 10));
    EXPECT_TRUE(gct_wait_final(&wtls_other, 10));
    mod_tls = NULL;
    dlclose(h);
}

/* dlopen and dlclose, back to back, while cycles run: the collector must
 * never read a module's segments after dlclose unmapped them. */
static atomic_int churn_stop;

static void *dl_churner(void *arg) {
    const char *path = arg;
    while (!atomic_load(&churn_stop)) {
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) return (void *)1;
        void **(*bss)(void) = (void **(*)(void))dlsym(h, "gcrootmod_bss_slot");
        gc_store(bss(), gc_alloc(64));
        dlclose(h);
    }
    return NULL;
}

TEST(dlclose_during_cycles) {
    static char path[PATH_MAX];
    module_path(path, sizeof path);
    atomic_store(&churn_stop, 0);
    pthread_t t;
    pthread_create(&t, NULL, dl_churner, path);
    uint32_t c0 = gct_stats().gc_num;
    uint64_t end = gct_now_ns() + 2000000000u;
    while (gct_now_ns() < end) gc_collect();
    atomic_store(&churn_stop, 1);
    void *r;
    pthread_join(t, &r);
    EXPECT_TRUE(r == NULL);
    EXPECT_TRUE(gct_stats().gc_num > c0);
}

/* ---- more TLS blocks than a fixed table held ---- */

#define NTLSMOD 10
#define TLSMOD(n) void **tlsmod##n##_slot(void);
TLSMOD(0) TLSMOD(1) TLSMOD(2) TLSMOD(3) TLSMOD(4) TLSMOD(5) TLSMOD(6) TLSMOD(7) TLSMOD(8) TLSMOD(9)
static void **(*const tlsmods[NTLSMOD])(void) = {
    tlsmod0_slot, tlsmod1_slot, tlsmod2_slot, tlsmod3_slot, tlsmod4_slot,
    tlsmod5_slot, tlsmod6_slot, tlsmod7_slot, tlsmod8_slot, tlsmod9_slot};

/* The main thread's static TLS is not on its stack: only the TLS scan
 * finds these. */
TEST(many_tls_modules) {
    static struct gct_watch w[NTLSMOD];
    for (int i = 0; i < NTLSMOD; i++) gct_attach(tlsmods[i](), &w[i], 700 + (uint64_t)i);
    gct_clobber_stack();
    for (int r = 0; r < 10; r++) {
        gc_collect();
        gct_churn(200);
    }
    gct_sleep_us(20000);
    for (int i = 0; i < NTLSMOD; i++) {
        EXPECT_TRUE(atomic_load(&w[i].ran) == 0);
        EXPECT_TRUE(gct_check_slot(tlsmods[i](), &w[i]));
    }
    for (int i = 0; i < NTLSMOD; i++) *tlsmods[i]() = NULL;
}

/* ---- registered malloc'd range, and plain malloc'd memory ---- */

TEST(added_range_root) {
    static struct gct_watch w;
    enum { WORDS = 512 };
    void **buf = calloc(WORDS, sizeof *buf);
    ASSERT_TRUE(buf != NULL);
    gc_add_roots(buf, buf + WORDS);
    gct_attach(&buf[WORDS - 3], &w, 501);
    gct_clobber_stack();
    EXPECT_TRUE(gct_survives(&w, ROUNDS));
    EXPECT_TRUE(gct_check_slot(&buf[WORDS - 3], &w));
    /* The pointer stays in the buffer; only the registration goes. */
    gc_remove_roots(buf, buf + WORDS);
    EXPECT_TRUE(gct_wait_final(&w, 10));
    free(buf);
}

GCT_NOINLINE static void hide_in_malloc(void **slot, struct gct_watch *w) {
    *slot = gct_make(w, 551, GCT_OBJ_SIZE); /* plain store: not a root */
}

TEST(malloc_memory_is_not_a_root) {
    static struct gct_watch w;
    void **buf = calloc(64, sizeof *buf);
    ASSERT_TRUE(buf != NULL);
    hide_in_malloc(&buf[7], &w);
    EXPECT_TRUE(gct_wait_final(&w, 10));
    EXPECT_TRUE(atomic_load(&w.intact) == 1);
    free(buf);
}

/* ---- uncollectable objects ---- */

static void *uncoll_slot; /* the uncollectable object itself */
/* Hiding must move the value out of the heap's range, not just into the
 * object's interior (an interior pointer is a reference). */
#define HIDE_KEY ((uintptr_t)0x5a5a5a5a5a5a5a5aULL)

GCT_NOINLINE static void make_uncollectable(struct gct_watch *w) {
    void **u = gc_alloc_uncollectable(64 * sizeof(void *));
    if (!u) abort();
    for (int i = 0; i < 64; i++) EXPECT_TRUE(u[i] == NULL); /* zeroed */
    gct_attach(&u[40], w, 601);
    gc_store(&uncoll_slot, u);
}

GCT_NOINLINE static uintptr_t hide_uncollectable(void) {
    uintptr_t h = (uintptr_t)uncoll_slot ^ HIDE_KEY;
    gc_store(&uncoll_slot, NULL);
    return h;
}

GCT_NOINLINE static int check_uncollectable(uintptr_t h, const struct gct_watch *w) {
    void **u = (void **)(h ^ HIDE_KEY);
    return gct_check_slot(&u[40], w);
}

GCT_NOINLINE static void free_uncollectable(uintptr_t h) { gc_free((void *)(h ^ HIDE_KEY)); }

TEST(uncollectable_is_a_root_until_freed) {
    static struct gct_watch w;
    make_uncollectable(&w);
    /* The uncollectable object's address is now kept only xor-ed: it is
     * a root by itself, and so is everything it points to. */
    uintptr_t h = hide_uncollectable();
    gct_clobber_stack();
    EXPECT_TRUE(gct_survives(&w, ROUNDS));
    EXPECT_TRUE(check_uncollectable(h, &w));
    free_uncollectable(h);
    EXPECT_TRUE(gct_wait_final(&w, 10));
}

/* ---- unreachable objects are reclaimed ---- */

GCT_NOINLINE static void make_garbage(int n) {
    for (int i = 0; i < n; i++) {
        unsigned char *p = gc_alloc(48);
        if (!p) abort();
        memset(p, 0x3c, 48);
    }
}

TEST(unreachable_reclaimed) {
    enum { N = 20000 };
    gc_collect();
    struct gc_stats before = gct_stats();
    make_garbage(N);
    gct_clobber_stack();
    gc_collect();
    gc_collect();
    struct gc_stats after = gct_stats();
    uint64_t freed = after.gc_freed - before.gc_freed;
    /* Conservative roots may retain a few of the N by chance (a stale
     * word on a stack or in a register); 2% slack allows for that
     * without hiding a collector that frees nothing. */
    if (freed < N - N / 50)
        TC_FAIL_("gc_freed grew by %ju after dropping %d objects", (uintmax_t)freed, N);
    EXPECT_TRUE(after.gc_num >= before.gc_num + 2);
}

TC_TEST_MAIN()
