/* tests/gc/stacks.c: threads on stacks other than their own.
 *
 *   altstack_stopped: a thread runs a program handler on an alternate
 *     signal stack (SA_ONSTACK) and spins there while cycles run; an
 *     object kept only by the handler's frame (on the alternate stack)
 *     and one kept only by the interrupted frame (on the thread's own
 *     stack) both survive (intact, never finalized while referenced), and
 *     the collector reads no unmapped memory
 *     between the two stacks.
 *   altstack_parked: the same handler sleeps (parked) instead of spinning.
 *   coroutines: ucontext coroutines on registered stacks (gc_add_stack,
 *     gc_switch_stack) keep objects in their locals across switches,
 *     hand them to one another, and check them, while another thread
 *     collects back to back.
 * The checkmark is on (meson): a reachable object left unmarked aborts. */
#include <signal.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "gc_test.h"

/* ---- alternate signal stacks ---- */

static atomic_int in_handler, handler_go, handler_ok, outer_ok, park_in_handler;
static struct gct_watch w_inner[2], w_outer[2]; /* per run: earlier objects' finalizers may run late */

static void *collect_loop(void *arg) {
    (void)arg;
    while (!atomic_load(&handler_go)) {
        gc_collect();
        gct_churn(100);
    }
    return NULL;
}

static GCT_NOINLINE void on_alt(int sig) {
    (void)sig;
    volatile uintptr_t mine = (uintptr_t)gct_make(&w_inner[atomic_load(&park_in_handler)], 901, GCT_OBJ_SIZE);
    atomic_store(&in_handler, 1);
    while (!atomic_load(&handler_go)) {
        if (atomic_load(&park_in_handler)) gct_sleep_us(2000);
    }
    /* checked while still referenced: once dropped it may die at once */
    int park = atomic_load(&park_in_handler);
    atomic_store(&handler_ok, gct_intact((void *)mine, GCT_OBJ_SIZE, 901) &&
                                  atomic_load(&w_inner[park].ran) == 0);
    mine = 0;
}

static GCT_NOINLINE void *alt_thread(void *arg) {
    (void)arg;
    stack_t ss = {0};
    ss.ss_size = 256 << 10;
    ss.ss_sp = mmap(NULL, ss.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    sigaltstack(&ss, NULL);
    volatile uintptr_t outer = (uintptr_t)gct_make(&w_outer[atomic_load(&park_in_handler)], 902, GCT_OBJ_SIZE);
    pthread_kill(pthread_self(), SIGUSR1); /* runs on_alt on the alternate stack */
    atomic_store(&outer_ok, gct_intact((void *)outer, GCT_OBJ_SIZE, 902) &&
                                atomic_load(&w_outer[atomic_load(&park_in_handler)].ran) == 0);
    outer = 0;
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    return NULL;
}

static void run_altstack(int park) {
    struct sigaction sa = {0};
    sa.sa_handler = on_alt;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR1, &sa, NULL);
    atomic_store(&in_handler, 0);
    atomic_store(&handler_go, 0);
    atomic_store(&park_in_handler, park);
    pthread_t t, c;
    pthread_create(&t, NULL, alt_thread, NULL);
    while (!atomic_load(&in_handler)) gct_sleep_us(100);
    pthread_create(&c, NULL, collect_loop, NULL);
    gct_sleep_us(1500000);
    atomic_store(&handler_go, 1);
    pthread_join(c, NULL);
    pthread_join(t, NULL);
    EXPECT_TRUE(atomic_load(&handler_ok) == 1);
    EXPECT_TRUE(atomic_load(&outer_ok) == 1);
    signal(SIGUSR1, SIG_DFL);
}

TEST(altstack_stopped) {
    SKIP_UNDER_TSAN("the handler spins without calls, where a stop cannot reach it");
    run_altstack(0);
}
TEST(altstack_parked) { run_altstack(1); }

/* ---- coroutines ---- */

#define NCO 4
#define CO_STACK (256 << 10)

static ucontext_t main_ctx, co_ctx[NCO];
static char *co_stack[NCO];
static void *volatile passed;   /* handed from one coroutine to the next */
static int co_bad;
static atomic_int co_stop;
static int no_register;         /* TC_STACKS_UNREGISTERED: show the failure */

static void co_switch(ucontext_t *from, ucontext_t *to, int to_index) {
    if (!no_register) {
        if (to_index < 0) gc_switch_stack(NULL, NULL);
        else gc_switch_stack(co_stack[to_index], co_stack[to_index] + CO_STACK);
    }
    swapcontext(from, to);
}

static GCT_NOINLINE void co_body(int me) {
    uint64_t seed = 10000 + (uint64_t)me * 1000;
    void *mine = gc_alloc(GCT_OBJ_SIZE);
    gct_fill(mine, GCT_OBJ_SIZE, seed);
    for (uint64_t round = 1; !atomic_load(&co_stop); round++) {
        /* take what the previous coroutine passed, keep it a while */
        void *got = passed;
        gc_store((void **)&passed, NULL); /* a global: through the barrier */
        gct_churn(20);
        co_switch(&co_ctx[me], &main_ctx, -1);
        if (!gct_intact(mine, GCT_OBJ_SIZE, seed)) co_bad++;
        if (got && ((struct gct_obj *)got)->size != GCT_OBJ_SIZE) co_bad++;
        if (got && !gct_intact(got, GCT_OBJ_SIZE, ((struct gct_obj *)got)->seed)) co_bad++;
        void *fresh = gc_alloc(GCT_OBJ_SIZE);
        gct_fill(fresh, GCT_OBJ_SIZE, seed + round);
        gc_store((void **)&passed, fresh); /* the next one takes it */
        fresh = NULL;
        if (round % 16 == 0) { /* a new object of its own now and then */
            mine = gc_alloc(GCT_OBJ_SIZE);
            gct_fill(mine, GCT_OBJ_SIZE, seed);
        }
    }
    co_switch(&co_ctx[me], &main_ctx, -1);
}

static void co_entry(int me) { co_body(me); }

static void *collector(void *arg) {
    (void)arg;
    while (!atomic_load(&co_stop)) {
        gc_collect();
        gct_sleep_us(200);
    }
    return NULL;
}

/* Its own function: getcontext returns twice, which -Wclobbered minds. */
static GCT_NOINLINE int co_setup(int i) {
    co_stack[i] = mmap(NULL, CO_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!no_register && gc_add_stack(co_stack[i], co_stack[i] + CO_STACK) != 0) return 0;
    getcontext(&co_ctx[i]);
    co_ctx[i].uc_stack.ss_sp = co_stack[i];
    co_ctx[i].uc_stack.ss_size = CO_STACK;
    co_ctx[i].uc_link = &main_ctx;
    makecontext(&co_ctx[i], (void (*)(void))co_entry, 1, i);
    return 1;
}

TEST(coroutines) {
    no_register = getenv("TC_STACKS_UNREGISTERED") != NULL;
    for (int i = 0; i < NCO; i++) ASSERT_TRUE(co_setup(i));
    EXPECT_TRUE(gc_add_stack(co_stack[0] + 16, co_stack[0] + 32) == -1); /* overlaps */
    pthread_t c;
    pthread_create(&c, NULL, collector, NULL);
    uint64_t end = gct_now_ns() + 2000000000u;
    while (gct_now_ns() < end)
        for (int i = 0; i < NCO; i++) co_switch(&main_ctx, &co_ctx[i], i);
    atomic_store(&co_stop, 1);
    for (int i = 0; i < NCO; i++) co_switch(&main_ctx, &co_ctx[i], i); /* let each finish */
    pthread_join(c, NULL);
    EXPECT_TRUE(co_bad == 0);
    for (int i = 0; i < NCO; i++) {
        if (!no_register) EXPECT_TRUE(gc_remove_stack(co_stack[i], co_stack[i] + CO_STACK) == 0);
        munmap(co_stack[i], CO_STACK);
    }
}

TC_TEST_MAIN()
