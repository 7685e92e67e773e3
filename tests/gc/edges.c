/* tests/gc/edges.c: objects the collector must not lose at the edges of
 * ordinary C programs, each case at a known moment of a cycle.
 *
 * The collector calls tc_gc_testhook at fixed points of every cycle (with
 * roots marked, or with every stack scanned); a test that needs to act in
 * the middle of marking runs gc_collect on a helper thread and does its
 * step while the collector waits in the hook (mid_mark). Objects whose
 * loss the test looks for are kept only in malloc'd memory beforehand
 * (not scanned: rule 2 of tricolor.h), so no stray copy on a stack hides
 * a loss; after the step the test churns the heap, so a freed object's
 * slot is reused and its checksum breaks. The checkmark (GODEBUG=
 * gccheckmark=1 in meson) also aborts on a reachable object left white.
 *
 *   exit_value_*          a thread's return value or pthread_exit value
 *                         lives until pthread_join
 *   destructor_*          TLS destructors run while the thread is still
 *                         scanned, and may use the collector, even in
 *                         glibc's last round of key destructors
 *   root_added_mid_mark   gc_add_roots while marking shades the range
 *   root_removed_mid_mark gc_remove_roots while marking shades it too
 *   thread_arg_mid_mark   pthread_create's argument, mid-mark
 *   bulk_copy_mid_mark    gc_memcpy/gc_memclr move a pointer past the
 *                         scan of its new home
 *   dlclose_mid_cycle     a module unloaded between the listing of the
 *                         loaded objects and their scan
 *   finalizer_*           gc_set_finalizer while marking scans the
 *                         object; the finalizer's arg is a root until it ran
 *   alloc_waits_for_cycle_start  with the collector held up for 50 ms
 *                         between the trigger and the mark (not holding),
 *                         the allocating thread waits: the heap grows by
 *                         under 2 MiB meanwhile
 *   signal_during_registration  a program handler that lands while a
 *                         thread registers (the registry lock held) runs
 *                         after it, so a cycle can complete while the
 *                         handler waits for one */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include "gc/cycle.h"
#include "gc/pacer.h"
#include "gc_test.h"

/* Reuse freed slots of both kinds at size bytes and a few others. */
static GCT_NOINLINE void churn_both(size_t size, int n) {
    for (int i = 0; i < n; i++) {
        memset(gc_alloc(size), 0xA5, size);
        memset(gc_alloc_noscan(size), 0x5A, size);
    }
    gct_churn(n);
}

/* ---- acting in the middle of marking ---- */

static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hook_cv = PTHREAD_COND_INITIALIZER;
static enum tc_gc_point hook_at;
static int hook_waiting, hook_go;

static void hook(enum tc_gc_point pt) {
    pthread_mutex_lock(&hook_mu);
    if (pt == hook_at && !hook_go) {
        hook_waiting = 1;
        atomic_store(&tc_gc_testhook_holding, 1);
        pthread_cond_broadcast(&hook_cv);
        while (!hook_go) pthread_cond_wait(&hook_cv, &hook_mu);
        atomic_store(&tc_gc_testhook_holding, 0);
    }
    pthread_mutex_unlock(&hook_mu);
}

static void *collect_main(void *arg) {
    (void)arg;
    gc_collect();
    return NULL;
}

static void *step_main(void *step) {
    ((void (*)(void))step)();
    return NULL;
}

/* Run step() while the collector waits at point pt of a cycle, then let
 * the cycle finish (sweep included). The step runs on a thread of its own
 * that is gone before the collector goes on: its registers and frames,
 * which may still hold what it moved, are never scanned. */
static GCT_NOINLINE void mid_mark(enum tc_gc_point pt, void (*step)(void)) {
    gc_collect(); /* nothing of an earlier cycle is left in flight */
    pthread_mutex_lock(&hook_mu);
    hook_at = pt;
    hook_waiting = hook_go = 0;
    pthread_mutex_unlock(&hook_mu);
    tc_gc_testhook = hook;
    pthread_t c;
    pthread_create(&c, NULL, collect_main, NULL);
    pthread_mutex_lock(&hook_mu);
    while (!hook_waiting) pthread_cond_wait(&hook_cv, &hook_mu);
    pthread_mutex_unlock(&hook_mu);
    pthread_t st;
    pthread_create(&st, NULL, step_main, (void *)step);
    pthread_join(st, NULL);
    pthread_mutex_lock(&hook_mu);
    hook_go = 1;
    pthread_cond_broadcast(&hook_cv);
    pthread_mutex_unlock(&hook_mu);
    pthread_join(c, NULL);
    tc_gc_testhook = NULL;
}

/* ---- 1. a thread's exit value ---- */

static void *return_object(void *arg) {
    void *p = gc_alloc_noscan(GCT_OBJ_SIZE);
    gct_fill(p, GCT_OBJ_SIZE, (uintptr_t)arg);
    return p;
}

static void *exit_with_object(void *arg) {
    pthread_exit(return_object(arg));
}

/* Wait until no more threads are registered than before the test made
 * its own (the finalizer thread, once started, stays). */
static uint32_t base_threads;
static void note_threads(void) { base_threads = gct_stats().gc_threads; }
static int wait_threads_gone(void) {
    for (int i = 0; i < 5000; i++) {
        if (gct_stats().gc_threads == base_threads) return 1;
        gct_sleep_us(1000);
    }
    return 0;
}

static GCT_NOINLINE int exit_value_round(void *(*fn)(void *), uint64_t seed) {
    pthread_t t;
    note_threads();
    if (pthread_create(&t, NULL, fn, (void *)(uintptr_t)seed) != 0) return 0;
    if (!wait_threads_gone()) return 0;
    gct_sleep_us(2000); /* and the kernel has seen it exit */
    gc_collect();
    churn_both(GCT_OBJ_SIZE, 2000);
    gc_collect();
    churn_both(GCT_OBJ_SIZE, 2000);
    void *r = NULL;
    if (pthread_join(t, &r) != 0) return 0;
    return gct_intact(r, GCT_OBJ_SIZE, seed);
}

TEST(exit_value_returned) {
    for (int i = 0; i < 5; i++) EXPECT_TRUE(exit_value_round(return_object, 1000 + (uint64_t)i));
}

TEST(exit_value_pthread_exit) {
    for (int i = 0; i < 5; i++) EXPECT_TRUE(exit_value_round(exit_with_object, 2000 + (uint64_t)i));
}

/* Into a collected object: pthread_join's store goes through the barrier. */
TEST(exit_value_joined_into_object) {
    void **box = gc_alloc(sizeof(void *));
    pthread_t t;
    note_threads();
    ASSERT_TRUE(pthread_create(&t, NULL, return_object, (void *)(uintptr_t)2500) == 0);
    ASSERT_TRUE(wait_threads_gone());
    ASSERT_TRUE(pthread_join(t, box) == 0);
    gc_collect();
    churn_both(GCT_OBJ_SIZE, 2000);
    EXPECT_TRUE(gct_intact(*box, GCT_OBJ_SIZE, 2500));
    gc_keepalive(box);
}

/* Detached threads leave nothing behind: their values are not roots. */
TEST(exit_value_detached_not_kept) {
    static struct gct_watch w;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    gct_watch_init(&w, 2600, GCT_OBJ_SIZE);
    pthread_t t;
    note_threads();
    ASSERT_TRUE(pthread_create(&t, &a, return_object, (void *)(uintptr_t)2600) == 0);
    pthread_attr_destroy(&a);
    EXPECT_TRUE(wait_threads_gone());
    /* nothing to check directly: the value is dropped; the test only
     * proves a detached thread's exit leaves the collector consistent */
    for (int i = 0; i < 3; i++) gc_collect();
    EXPECT_TRUE(gct_stats().gc_threads == base_threads);
}

/* ---- 1b. TLS destructors ---- */

static __thread void *tls_obj;
static pthread_key_t dkey;
static atomic_int dtor_ok, dtor_ran;

static void tls_destructor(void *v) {
    (void)v;
    gc_collect(); /* the dying thread's TLS must still be scanned */
    churn_both(GCT_OBJ_SIZE, 2000);
    gc_collect();
    churn_both(GCT_OBJ_SIZE, 2000);
    void *fresh = gc_alloc(64); /* and it may allocate and store */
    gc_store((void **)fresh, tls_obj);
    atomic_store(&dtor_ok, gct_intact(tls_obj, GCT_OBJ_SIZE, 3000));
    atomic_fetch_add(&dtor_ran, 1);
}

static void *tls_worker(void *arg) {
    (void)arg;
    void *p = gc_alloc_noscan(GCT_OBJ_SIZE);
    gct_fill(p, GCT_OBJ_SIZE, 3000);
    tls_obj = p;
    pthread_setspecific(dkey, (void *)1);
    return NULL;
}

TEST(destructor_sees_tls_objects) {
    ASSERT_TRUE(pthread_key_create(&dkey, tls_destructor) == 0);
    pthread_t t;
    note_threads();
    ASSERT_TRUE(pthread_create(&t, NULL, tls_worker, NULL) == 0);
    ASSERT_TRUE(pthread_join(t, NULL) == 0);
    EXPECT_TRUE(atomic_load(&dtor_ran) == 1);
    EXPECT_TRUE(atomic_load(&dtor_ok) == 1);
    /* no record of the dead thread is left to be stopped */
    EXPECT_TRUE(wait_threads_gone());
    for (int i = 0; i < 3; i++) gc_collect();
    EXPECT_TRUE(gct_stats().gc_threads == base_threads);
    pthread_key_delete(dkey);
}

/* A destructor in glibc's last round, after ours unregistered the thread:
 * it registers again (late), and the collector must not wait for it once
 * it has exited, nor keep its record. */
static pthread_key_t lkey;
static atomic_int late_rounds, late_ok;

static void late_destructor(void *v) {
    int round = atomic_fetch_add(&late_rounds, 1) + 1;
    if (round < PTHREAD_DESTRUCTOR_ITERATIONS) {
        pthread_setspecific(lkey, v);
        return;
    }
    void **o = gc_alloc(64);
    gc_store(o, gc_alloc_noscan(GCT_OBJ_SIZE));
    gct_fill(*o, GCT_OBJ_SIZE, 3100);
    gc_collect();
    churn_both(GCT_OBJ_SIZE, 500);
    atomic_store(&late_ok, gct_intact(*o, GCT_OBJ_SIZE, 3100));
}

static void *late_worker(void *arg) {
    (void)arg;
    gc_alloc(16); /* registered, with the exit key set (a lower index) */
    pthread_setspecific(lkey, (void *)1);
    return NULL;
}

TEST(destructor_in_last_round) {
    SKIP_UNDER_TSAN("TSan retires the thread before glibc's last destructor round");
    ASSERT_TRUE(pthread_key_create(&lkey, late_destructor) == 0);
    note_threads();
    pthread_t t;
    ASSERT_TRUE(pthread_create(&t, NULL, late_worker, NULL) == 0);
    ASSERT_TRUE(pthread_join(t, NULL) == 0);
    EXPECT_TRUE(atomic_load(&late_rounds) == PTHREAD_DESTRUCTOR_ITERATIONS);
    EXPECT_TRUE(atomic_load(&late_ok) == 1);
    for (int i = 0; i < 3; i++) gc_collect(); /* no stop waits for the dead thread */
    EXPECT_TRUE(wait_threads_gone());
    pthread_key_delete(lkey);
}

/* ---- 2. roots that appear while marking ----
 *
 * The object starts on the main thread's stack, which is scanned after
 * the roots: at TC_GC_POINT_ROOTS the test moves it from there into a root
 * that appeared after the roots were marked, and clears its stack copy. */

static volatile uintptr_t *slot; /* the main thread's stack copy */

static GCT_NOINLINE void *take_from_stack(void) {
    void *p = (void *)*slot;
    *slot = 0;
    return p;
}

static GCT_NOINLINE uintptr_t make_filled(uint64_t seed, int noscan) {
    void *p = noscan ? gc_alloc_noscan(GCT_OBJ_SIZE) : gc_alloc(GCT_OBJ_SIZE);
    gct_fill(p, GCT_OBJ_SIZE, seed);
    return (uintptr_t)p;
}

static void **range;

static GCT_NOINLINE void step_add_root(void) {
    range = malloc(2 * sizeof(void *));
    range[0] = take_from_stack();
    range[1] = NULL;
    gc_add_roots(range, range + 2);
}

TEST(root_added_mid_mark) {
    volatile uintptr_t local = make_filled(4000, 1);
    slot = &local;
    gct_clobber_stack(); /* no stale copy below this frame */
    mid_mark(TC_GC_POINT_ROOTS, step_add_root);
    churn_both(GCT_OBJ_SIZE, 4000);
    EXPECT_TRUE(gct_intact(range[0], GCT_OBJ_SIZE, 4000));
    gc_remove_roots(range, range + 2);
    free(range);
}

/* The other way round: a root removed while marking, its object kept
 * only on a stack. */
static GCT_NOINLINE void step_remove_root(void) {
    *slot = (uintptr_t)range[0];
    range[0] = NULL;
    gc_remove_roots(range, range + 2);
}

TEST(root_removed_mid_mark) {
    volatile uintptr_t local = 0;
    slot = &local;
    range = malloc(2 * sizeof(void *));
    range[0] = (void *)make_filled(4100, 1);
    range[1] = NULL;
    gc_add_roots(range, range + 2);
    mid_mark(TC_GC_POINT_ROOTS, step_remove_root);
    churn_both(GCT_OBJ_SIZE, 4000);
    EXPECT_TRUE(gct_intact((void *)local, GCT_OBJ_SIZE, 4100));
    free(range);
}

static atomic_int arg_go, arg_ok;

static void *check_arg(void *arg) {
    while (!atomic_load(&arg_go)) gct_sleep_us(200);
    atomic_store(&arg_ok, gct_intact(arg, GCT_OBJ_SIZE, 4200) ? 1 : 2);
    return NULL;
}

static pthread_t arg_thread;
static GCT_NOINLINE void step_thread_arg(void) {
    pthread_create(&arg_thread, NULL, check_arg, take_from_stack());
}

TEST(thread_arg_mid_mark) {
    volatile uintptr_t local = make_filled(4200, 1);
    slot = &local;
    gct_clobber_stack(); /* no stale copy below this frame */
    mid_mark(TC_GC_POINT_ROOTS, step_thread_arg);
    churn_both(GCT_OBJ_SIZE, 4000);
    atomic_store(&arg_go, 1);
    pthread_join(arg_thread, NULL);
    EXPECT_TRUE(atomic_load(&arg_ok) == 1);
}

/* ---- bulk copies while marking ----
 *
 * dst is reachable from a global and scanned (black) by the time the step
 * runs; src is only on the main stack, not scanned yet. The step copies
 * src's pointer into dst with gc_memcpy, clears src with gc_memclr and
 * drops src: only the barrier's shading keeps what was copied. (The same
 * with memcpy and memset loses the object: the checkmark aborts.) */
static void **bulk_dst;

static GCT_NOINLINE void step_bulk_copy(void) {
    gct_sleep_us(20000); /* the mark workers scan bulk_dst meanwhile */
    void **src = (void **)*slot;
    *slot = 0;
    gc_memcpy(bulk_dst, src, 4 * sizeof(void *));
    gc_memclr(src, 4 * sizeof(void *));
}

static GCT_NOINLINE uintptr_t make_src(void) {
    void **src = gc_alloc(4 * sizeof(void *));
    gc_store(&src[2], (void *)make_filled(4300, 1));
    return (uintptr_t)src;
}

TEST(bulk_copy_mid_mark) {
    bulk_dst = gc_alloc(4 * sizeof(void *));
    volatile uintptr_t local = make_src();
    slot = &local;
    gct_clobber_stack();
    mid_mark(TC_GC_POINT_ROOTS, step_bulk_copy);
    churn_both(GCT_OBJ_SIZE, 4000);
    EXPECT_TRUE(gct_intact(bulk_dst[2], GCT_OBJ_SIZE, 4300));
}

/* ---- dlclose while a cycle is under way ----
 *
 * The module is unloaded after the cycle listed the loaded objects and
 * before it scans them: the scan must not touch its unmapped segments. */
static void *dl_handle;

static void step_dlclose(void) { dlclose(dl_handle); }

TEST(dlclose_mid_cycle) {
    const char *path = getenv("TC_GC_DLMOD");
    if (!path) return; /* meson sets it */
    dl_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ASSERT_TRUE(dl_handle != NULL);
    void **(*bss)(void) = (void **(*)(void))dlsym(dl_handle, "gcrootmod_bss_slot");
    gc_store(bss(), gc_alloc(64));
    mid_mark(TC_GC_POINT_START, step_dlclose);
    gc_collect();
}

/* ---- 3. finalizers ---- */

static atomic_int fin_go, fin_ok, fin_ran;

static void fin_check_child(void *obj, void *arg) {
    (void)arg;
    while (!atomic_load(&fin_go)) gct_sleep_us(200);
    atomic_store(&fin_ok, gct_intact(*(void **)obj, GCT_OBJ_SIZE, 5001));
    atomic_fetch_add(&fin_ran, 1);
}

/* X -> Y; returns X. */
static GCT_NOINLINE uintptr_t make_pair(void) {
    void **x = gc_alloc(GCT_OBJ_SIZE);
    gc_store(x, (void *)make_filled(5001, 1));
    return (uintptr_t)x;
}

static GCT_NOINLINE void step_set_finalizer(void) {
    gc_set_finalizer(take_from_stack(), fin_check_child, NULL);
}

/* X, only on the main stack (not scanned yet), gets a finalizer and is
 * dropped: X is kept for its finalizer, and so must Y be. */
TEST(finalizer_set_mid_mark) {
    volatile uintptr_t local = make_pair();
    slot = &local;
    atomic_store(&fin_go, 0);
    atomic_store(&fin_ran, 0);
    mid_mark(TC_GC_POINT_ROOTS, step_set_finalizer);
    churn_both(GCT_OBJ_SIZE, 4000);
    atomic_store(&fin_go, 1);
    for (int i = 0; i < 5000 && !atomic_load(&fin_ran); i++) {
        if (i % 100 == 99) gc_collect();
        gct_sleep_us(1000);
    }
    EXPECT_TRUE(atomic_load(&fin_ran) == 1);
    EXPECT_TRUE(atomic_load(&fin_ok) == 1);
}

static atomic_int argfin_ok, argfin_ran, argfin_entered;
static struct gct_watch arg_watch;

static void fin_check_arg(void *obj, void *arg) {
    (void)obj;
    atomic_store(&argfin_entered, 1);
    while (!atomic_load(&fin_go)) gct_sleep_us(200);
    atomic_store(&argfin_ok, gct_intact(arg, GCT_OBJ_SIZE, 5100));
    /* watched from now on: once this finalizer ran, arg is garbage */
    gc_set_finalizer(arg, gct_on_final, &arg_watch);
    atomic_fetch_add(&argfin_ran, 1);
}

static GCT_NOINLINE void make_with_arg(void) {
    void *z = (void *)make_filled(5100, 0);
    gct_watch_init(&arg_watch, 5100, GCT_OBJ_SIZE);
    void *x = gc_alloc(32);
    gc_set_finalizer(x, fin_check_arg, z);
}

TEST(finalizer_arg_is_a_root) {
    atomic_store(&fin_go, 0);
    make_with_arg();
    gct_clobber_stack();
    /* until x is queued (a stray word may keep it a while): then z is
     * only in the finalizer's arg, and the churn would reuse its slot */
    uint64_t end = gct_now_ns() + 20000000000u;
    while (!atomic_load(&argfin_entered) && gct_now_ns() < end) {
        gc_collect();
        churn_both(GCT_OBJ_SIZE, 1000);
        gct_clobber_stack();
    }
    gc_collect();
    churn_both(GCT_OBJ_SIZE, 4000);
    atomic_store(&fin_go, 1);
    for (int i = 0; i < 2000 && !atomic_load(&argfin_ran); i++) gct_sleep_us(1000);
    EXPECT_TRUE(atomic_load(&argfin_ran) == 1);
    EXPECT_TRUE(atomic_load(&argfin_ok) == 1);
    /* once its finalizer ran, the arg is garbage like any other object */
    EXPECT_TRUE(gct_wait_final(&arg_watch, 20.0));
}

/* ---- a program signal while a thread registers ---- */

static atomic_int reg_armed, reg_in_handler, reg_collected, reg_saw;

static void reg_handler(int sig) {
    (void)sig;
    atomic_store(&reg_in_handler, 1);
    uint64_t end = gct_now_ns() + 2000000000u;
    while (!atomic_load(&reg_collected) && gct_now_ns() < end) {
    }
    atomic_store(&reg_saw, atomic_load(&reg_collected));
}

static void reg_hook(enum tc_gc_point pt) { /* on the registering thread */
    if (pt == TC_GC_POINT_REGISTER && atomic_exchange(&reg_armed, 0))
        pthread_kill(pthread_self(), SIGUSR2);
}

static void *registers(void *arg) {
    (void)arg;
    return gc_alloc(16);
}

TEST(signal_during_registration) {
    SKIP_UNDER_TSAN("the handler spins without calls, where a stop cannot reach it");
    struct sigaction sa = {0};
    sa.sa_handler = reg_handler;
    sigaction(SIGUSR2, &sa, NULL);
    atomic_store(&reg_armed, 1);
    tc_gc_testhook = reg_hook;
    pthread_t t;
    pthread_create(&t, NULL, registers, NULL);
    while (!atomic_load(&reg_in_handler)) gct_sleep_us(100);
    gc_collect(); /* takes the registry lock */
    atomic_store(&reg_collected, 1);
    pthread_join(t, NULL);
    tc_gc_testhook = NULL;
    signal(SIGUSR2, SIG_DFL);
    EXPECT_TRUE(atomic_load(&reg_saw) == 1);
}

/* ---- allocation does not outrun a cycle that has not started ---- */

static _Atomic int start_armed, start_done;
static _Atomic uint64_t start_live0, start_live1;

/* On the collector thread, sweeping done, the mark not begun: a collector
 * descheduled for 50 ms (it is not holding: allocation may wait). */
static void start_hook(enum tc_gc_point pt) {
    if (pt != TC_GC_POINT_START || !atomic_exchange(&start_armed, 0)) return;
    atomic_store(&start_live0, atomic_load(&tc_gcController.heapLive));
    gct_sleep_us(50000);
    atomic_store(&start_live1, atomic_load(&tc_gcController.heapLive));
    atomic_store(&start_done, 1);
}

GCT_NOINLINE static void churn_until_start_done(void) {
    uint64_t end = gct_now_ns() + 20000000000u;
    while (!atomic_load(&start_done) && gct_now_ns() < end) gc_alloc_noscan(1024);
}

TEST(alloc_waits_for_cycle_start) {
    GCT_SKIP_UNDER_STRESS(); /* the held cycle may be one gcstress asked for */
    int prev = gc_setpercent(100);
    gc_collect();
    tc_gc_testhook = start_hook;
    atomic_store(&start_armed, 1); /* the next cycle: the trigger's */
    churn_until_start_done();
    tc_gc_testhook = NULL;
    gc_collect();
    gc_setpercent(prev);
    uint64_t grew = atomic_load(&start_live1) - atomic_load(&start_live0);
    printf("  heap grew %llu KiB while the cycle's start was held up\n",
           (unsigned long long)(grew >> 10));
    EXPECT_TRUE(atomic_load(&start_done));
    if (grew > 2u << 20) TC_FAIL_("allocation went on: %llu KiB", (unsigned long long)(grew >> 10));
}

TC_TEST_MAIN()
