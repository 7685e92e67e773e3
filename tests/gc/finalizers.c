/* tests/gc/finalizers.c: gc_set_finalizer has Go's semantics.
 *
 * Go's runtime.SetFinalizer promises: the finalizer runs once, on another
 * thread, some time after the object became unreachable and never while it
 * is reachable; the object's memory is intact when it runs; whatever the
 * object points to stays alive until it ran (so chains finalize in order,
 * one link per cycle); a cycle through finalizer objects is never
 * collected; fn == NULL removes the finalizer. Each test checks one of
 * these. "Never runs" is only meaningful if finalizers do run meanwhile,
 * so those tests drop a control object alongside and wait for it first.
 * Waits are bounded (gct_wait_final: collect, sleep 1 ms, up to seconds).
 * Pointers are made and dropped in non-inlined helpers so no stale copy
 * in this frame keeps an object alive (gc_test.h). */
#include "gc_test.h"

#define WAIT_S 10.0

static void *slot_a, *slot_b;

/* Drop a control object and wait for its finalizer, then run 30 more
 * cycles: a finalizer that was going to run has had its chance. 0 if the
 * control never ran. */
static int control_ran_then_settle(struct gct_watch *control, int tag) {
    gct_attach(&slot_b, control, tag);
    gc_store(&slot_b, NULL);
    if (!gct_wait_final(control, WAIT_S)) return 0;
    for (int i = 0; i < 30; i++) {
        gc_collect();
        gct_sleep_us(500);
    }
    return 1;
}

TEST(runs_once_after_unreachable_on_another_thread) {
    if (!GCT_PRECISE) return; /* it needs the object to go */
    static struct gct_watch w;
    gct_attach(&slot_a, &w, 11);
    gct_clobber_stack();
    EXPECT_TRUE(gct_survives(&w, 20));
    gc_store(&slot_a, NULL);
    ASSERT_TRUE(gct_wait_final(&w, WAIT_S));
    EXPECT_TRUE(atomic_load(&w.intact) == 1);
    EXPECT_TRUE(!pthread_equal(w.thread, pthread_self()));
    /* Revived for the finalizer, then freed: it must never run again. */
    for (int i = 0; i < 30; i++) {
        gc_collect();
        gct_churn(64);
        gct_sleep_us(500);
    }
    EXPECT_EQ_U(atomic_load(&w.ran), 1);
}

TEST(never_runs_while_reachable) {
    static struct gct_watch kept, control;
    gct_attach(&slot_a, &kept, 21);
    gct_attach(&slot_b, &control, 22);
    gc_store(&slot_b, NULL);
    ASSERT_TRUE(gct_wait_final(&control, WAIT_S));
    EXPECT_TRUE(gct_survives(&kept, 200));
    EXPECT_TRUE(gct_check_slot(&slot_a, &kept));
    gc_store(&slot_a, NULL);
    if (GCT_PRECISE) EXPECT_TRUE(gct_wait_final(&kept, WAIT_S));
}

GCT_NOINLINE static void attach_then_remove(struct gct_watch *w) {
    void *p = gct_make(w, 31, GCT_OBJ_SIZE);
    gc_set_finalizer(p, NULL, NULL);
}

TEST(removed_with_null_fn) {
    static struct gct_watch removed, control;
    attach_then_remove(&removed);
    ASSERT_TRUE(control_ran_then_settle(&control, 32));
    EXPECT_EQ_U(atomic_load(&removed.ran), 0);
}

/* A chain parent -> child -> grandchild, each with a finalizer. The
 * objects are bigger than the default so the link fits in the bytes the
 * checksum does not cover. */
struct link {
    unsigned char body[96]; /* checksummed: a struct gct_obj of 96 bytes */
    void *next;
};

static struct gct_watch chain_w[3];

GCT_NOINLINE static void make_chain(void) {
    void *next = NULL;
    for (int i = 2; i >= 0; i--) {
        struct link *l = gc_alloc(sizeof *l);
        ASSERT_TRUE(l != NULL);
        gct_watch_init(&chain_w[i], 40 + (uint64_t)i, 96);
        gct_fill(l, 96, 40 + (uint64_t)i);
        gc_store(&l->next, next);
        gc_set_finalizer(l, gct_on_final, &chain_w[i]);
        next = l;
    }
    gc_store(&slot_a, next);
}

TEST(referents_stay_alive_until_it_ran) {
    make_chain();
    gc_store(&slot_a, NULL);
    for (int i = 0; i < 3; i++) ASSERT_TRUE(gct_wait_final(&chain_w[i], WAIT_S));
    for (int i = 0; i < 3; i++) {
        EXPECT_TRUE(atomic_load(&chain_w[i].intact) == 1);
        EXPECT_EQ_U(atomic_load(&chain_w[i].ran), 1);
    }
    /* Each link was reachable from the one before until that one's
     * finalizer ran, so they ran in chain order. (The finalizer thread
     * must also forget each object it finalized, as Go's runfinq clears
     * its frame: a stale copy on its stack would keep the next link
     * alive for ever.) */
    EXPECT_TRUE(atomic_load(&chain_w[0].seq) < atomic_load(&chain_w[1].seq));
    EXPECT_TRUE(atomic_load(&chain_w[1].seq) < atomic_load(&chain_w[2].seq));
}

static struct gct_watch cyc_w[2];

GCT_NOINLINE static void make_finalizer_cycle(void) {
    struct link *a = gc_alloc(sizeof *a), *b = gc_alloc(sizeof *b);
    ASSERT_TRUE(a && b);
    gct_watch_init(&cyc_w[0], 51, 96);
    gct_watch_init(&cyc_w[1], 52, 96);
    gct_fill(a, 96, 51);
    gct_fill(b, 96, 52);
    gc_store(&a->next, b);
    gc_store(&b->next, a);
    gc_set_finalizer(a, gct_on_final, &cyc_w[0]);
    gc_set_finalizer(b, gct_on_final, &cyc_w[1]);
}

TEST(cycle_of_finalizer_objects_is_kept) {
    static struct gct_watch control;
    make_finalizer_cycle();
    ASSERT_TRUE(control_ran_then_settle(&control, 53));
    EXPECT_EQ_U(atomic_load(&cyc_w[0].ran), 0);
    EXPECT_EQ_U(atomic_load(&cyc_w[1].ran), 0);
}

/* A finalizer that allocates and publishes a new object: the finalizer
 * thread must be a full mutator (P, barrier, roots). */
static void *published;
static struct gct_watch pub_w;

static void publish_final(void *obj, void *arg) {
    gct_on_final(obj, arg);
    gct_attach(&published, &pub_w, 61);
}

GCT_NOINLINE static void make_publisher(struct gct_watch *w) {
    void *p = gc_alloc(GCT_OBJ_SIZE);
    ASSERT_TRUE(p != NULL);
    gct_watch_init(w, 60, GCT_OBJ_SIZE);
    gct_fill(p, GCT_OBJ_SIZE, 60);
    gc_set_finalizer(p, publish_final, w);
}

TEST(finalizer_may_allocate) {
    static struct gct_watch w;
    make_publisher(&w);
    ASSERT_TRUE(gct_wait_final(&w, WAIT_S));
    /* publish_final stored it before returning; give it a moment. */
    for (int i = 0; i < 1000 && !__atomic_load_n(&published, __ATOMIC_ACQUIRE); i++)
        gct_sleep_us(1000);
    ASSERT_TRUE(__atomic_load_n(&published, __ATOMIC_ACQUIRE) != NULL);
    EXPECT_TRUE(gct_survives(&pub_w, 20));
    EXPECT_TRUE(gct_check_slot(&published, &pub_w));
    gc_store(&published, NULL);
    EXPECT_TRUE(gct_wait_final(&pub_w, WAIT_S));
}

/* Many at once, scanned and noscan: each runs exactly once, the stats
 * count them, and the objects are freed afterwards. */
enum { MANY = 2000 };
static struct gct_watch many_w[MANY];

GCT_NOINLINE static void make_many(void) {
    for (int i = 0; i < MANY; i++) {
        void *p = (i & 1) ? gc_alloc_noscan(GCT_OBJ_SIZE) : gc_alloc(GCT_OBJ_SIZE);
        ASSERT_TRUE(p != NULL);
        gct_watch_init(&many_w[i], 1000 + (uint64_t)i, GCT_OBJ_SIZE);
        gct_fill(p, GCT_OBJ_SIZE, 1000 + (uint64_t)i);
        gc_set_finalizer(p, gct_on_final, &many_w[i]);
    }
}

TEST(many_run_once_and_are_freed) {
    gc_collect();
    struct gc_stats before = gct_stats();
    make_many();
    for (int i = 0; i < MANY; i++)
        if (!gct_wait_final(&many_w[i], WAIT_S)) {
            TC_FAIL_("finalizer %d of %d did not run", i, MANY);
            return;
        }
    for (int i = 0; i < 5; i++) gc_collect();
    struct gc_stats after = gct_stats();
    int bad = 0;
    for (int i = 0; i < MANY; i++)
        bad += atomic_load(&many_w[i].ran) != 1 || atomic_load(&many_w[i].intact) != 1;
    EXPECT_EQ_U(bad, 0);
    EXPECT_TRUE(after.gc_finalizers_run - before.gc_finalizers_run >= MANY);
    /* Freed one cycle after their finalizer ran; a few may be held by
     * stray words (conservative roots). */
    EXPECT_TRUE(after.gc_freed - before.gc_freed >= MANY - MANY / 50);
}

TC_TEST_MAIN()
