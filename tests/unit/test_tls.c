/* Unit test for gc/tls.c: the static TLS area scanned for a thread.
 *
 * On x86-64 the area lies below the thread pointer and the TCB above it;
 * glibc's static size counts both. A thread made by pthread_create has
 * both at the top of its stack mapping, so its TCB's size is the stack's
 * top less its thread pointer. The main thread's area is scanned on its
 * own, and must be the same size as any other thread's: reading the
 * whole static size below its thread pointer reads the TCB's size of
 * memory that is not TLS (whatever is mapped below it). */
#include <pthread.h>

#include "gc/threads.h"
#include "gc/tls.h"
#include "harness.h"
#include "include/tricolor.h"

struct range {
    uintptr_t lo, hi;
};

static struct range seen[64];
static int nseen;

static void record(uintptr_t lo, uintptr_t hi) {
    if (nseen < 64) seen[nseen++] = (struct range){lo, hi};
}

static void stack_bounds(struct gthread *t) {
    pthread_attr_t a;
    void *lo;
    size_t size;
    pthread_getattr_np(pthread_self(), &a);
    pthread_attr_getstack(&a, &lo, &size);
    pthread_attr_destroy(&a);
    t->stack_lo = (uintptr_t)lo;
    t->stack_hi = (uintptr_t)lo + size;
}

static __thread void *tls_word;

/* A pthread's layout, recorded by the thread itself. */
struct layout {
    uintptr_t tp, stack_hi, static_lo;
};

static void *record_layout(void *arg) {
    struct gthread t = {0};
    stack_bounds(&t);
    tc_thread_record_tls(&t);
    *(struct layout *)arg = (struct layout){t.tp, t.stack_hi, t.static_lo};
    return NULL;
}

TEST(main_thread_static_area_is_a_threads_area) {
#if defined(__x86_64__)
    gc_collect(); /* the collector, and with it gc/tls.c, is initialised */
    struct layout other;
    pthread_t th;
    ASSERT_TRUE(pthread_create(&th, NULL, record_layout, &other) == 0);
    pthread_join(th, NULL);
    ASSERT_TRUE(other.tp < other.stack_hi && other.static_lo < other.tp);
    size_t tcb = other.stack_hi - other.tp;
    size_t area = other.tp - other.static_lo - tcb; /* static size less the TCB */

    struct gthread m = {0};
    stack_bounds(&m);
    tc_thread_record_tls(&m);
    ASSERT_TRUE(!(m.tp >= m.stack_lo && m.tp < m.stack_hi)); /* scanned on its own */
    nseen = 0;
    tc_thread_tls_each(&m, record);
    uintptr_t lo = m.tp;
    for (int i = nseen - 1; i >= 0; i--) /* the pieces that end at tp */
        if (seen[i].hi == lo) lo = seen[i].lo;
    EXPECT_EQ_U(m.tp - lo, area);
    tls_word = &tls_word;
    EXPECT_TRUE((uintptr_t)&tls_word >= lo && (uintptr_t)&tls_word < m.tp);
#else
    printf("SKIP: the TCB lies below the static area on this machine\n");
#endif
}

TC_TEST_MAIN()
