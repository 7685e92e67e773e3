/* bench/gc_pause.c: stop-the-world pauses and mark throughput with a
 * large live heap, for tricolor and for Boehm GC (the same source, built
 * twice: -DGCP_TRICOLOR links libtricolor, -DGCP_BOEHM links -lgc).
 *
 * The heap is a forest of complete binary trees of 3-word nodes (left,
 * right, depth): --heap-mb MiB of 24-byte objects (the size class tricolor
 * and Go use for them; Boehm rounds to 32 bytes, so its heap is a third
 * larger for the same objects). Roots are a global array of trees. After
 * the build, --threads mutators churn it: each owns every threads-th tree
 * and repeatedly replaces a random depth-8 subtree (511 nodes) with a new
 * one, at --churn-mbps MB/s in all (0: as fast as they can), so the live
 * heap stays the same while garbage is made. Meanwhile the main thread
 * forces --cycles collections back to back. Automatic cycles happen too.
 *
 * Measured over that window:
 *   pauses: every stop-the-world pause. tricolor: gc_read_pauses, the
 *     newest gc_stats.gc_npause difference of them (one per cycle, more
 *     when marking has to go on after the stop). Boehm: from
 *     GC_EVENT_PRE_STOP_WORLD to POST_START_WORLD
 *     (non-incremental Boehm marks with the world stopped, so this is the
 *     whole mark).
 *   mark throughput: bytes traced per second of marking. tricolor: the
 *     deltas of gc_marked_bytes_total and gc_mark_ns (concurrent mark wall
 *     time, mutators running). Boehm: live bytes after each forced
 *     collection (GC_get_memory_use) times collections, over the time
 *     between GC_EVENT_MARK_START and MARK_END.
 *   mutator progress: subtree replacements done in the window (each
 *     allocates op_bytes), against the --churn-mbps they aimed at.
 *   pause_max_run_ns: the longest pause of the whole run, the build (one
 *     thread allocating the heap as fast as it can) included.
 * At the end every tree is walked: node count and depths must be intact.
 *
 * Output: one line "GCPAUSE {json}" with the raw figures; the report
 * (gc_report.py) computes percentiles and ratios from it, the same way for
 * Go's peer (gc_pause.go). Bad options: one-line error, exit 2. */
#if defined(GCP_BOEHM)
#define GC_THREADS
#include <gc/gc.h>
#elif !defined(GCP_TRICOLOR)
#error "build with -DGCP_TRICOLOR or -DGCP_BOEHM"
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gcbench.h"

#if defined(GCP_TRICOLOR)
#include <tricolor.h>
#define IMPL "tricolor"
#define ALLOC(n) gc_alloc(n)
#define STORE(slot, v) gc_store((void **)&(slot), (v))
#define COLLECT() gc_collect()
#else
#define IMPL "boehm"
#define ALLOC(n) GC_MALLOC(n)
#define STORE(slot, v) ((slot) = (v)) /* non-incremental Boehm: no barrier */
#define COLLECT() GC_gcollect()
#endif

#define TREE_DEPTH 16 /* 131071 nodes, 3 MiB of 24-byte nodes */
#define SUB_DEPTH 8   /* replaced subtrees: 511 nodes */
#define MAX_TREES 65536
#define MAX_PAUSES 65536

struct node {
    struct node *l, *r;
    uintptr_t depth;
};

static struct node *trees[MAX_TREES];
static long ntrees, nthreads = 4, ncycles = 10;
static double heap_mb = 1024, churn_mbps = 50;
static atomic_int stop;
static atomic_llong ops_done;

static struct node *build(int depth, int max) {
    struct node *n = ALLOC(sizeof *n);
    if (!n) {
        fprintf(stderr, "gc_pause: out of memory\n");
        exit(1);
    }
    n->depth = (uintptr_t)depth;
    if (depth < max) {
        STORE(n->l, build(depth + 1, max));
        STORE(n->r, build(depth + 1, max));
    }
    return n;
}

static long count_ok(const struct node *n, uintptr_t depth) {
    if (!n) return depth == TREE_DEPTH + 1 ? 0 : -1;
    if (n->depth != depth) return -1;
    long a = count_ok(n->l, depth + 1), b = count_ok(n->r, depth + 1);
    return a < 0 || b < 0 ? -1 : a + b + 1;
}

static void *mutator(void *arg) {
    long t = (long)(intptr_t)arg;
    uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(t + 1);
    long mine = (ntrees - t + nthreads - 1) / nthreads;
    if (mine <= 0) return NULL;
    const double op_bytes = ((1 << (TREE_DEPTH - SUB_DEPTH + 1)) - 1) * (double)sizeof(struct node);
    /* Pacing: each op is due op_ns after the previous one; a thread that
     * fell behind (say, stopped by a collection) catches up by at most
     * 100 ms of work, so pauses do not turn into bursts of allocation. */
    double op_ns = churn_mbps > 0 ? op_bytes / (churn_mbps * 1e6 / (double)nthreads) * 1e9 : 0;
    double due = (double)gcb_now_ns();
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        struct node *p = trees[t + nthreads * (long)(gcb_rnd(&rng) % (uint64_t)mine)];
        for (int d = 0; d < SUB_DEPTH - 1; d++) p = gcb_rnd(&rng) & 1 ? p->l : p->r;
        struct node *sub = build(SUB_DEPTH, TREE_DEPTH);
        if (gcb_rnd(&rng) & 1)
            STORE(p->l, sub);
        else
            STORE(p->r, sub);
        atomic_fetch_add_explicit(&ops_done, 1, memory_order_relaxed);
        if (op_ns > 0) {
            due += op_ns;
            double now = (double)gcb_now_ns();
            if (due > now + 50e3) {
                uint64_t d = (uint64_t)(due - now);
                struct timespec ts = {(time_t)(d / 1000000000u), (long)(d % 1000000000u)};
                nanosleep(&ts, NULL);
            } else if (now - due > 100e6) {
                due = now - 100e6;
            }
        }
    }
    return NULL;
}

#if defined(GCP_BOEHM)
static uint64_t b_pauses[MAX_PAUSES];
static size_t b_npauses;
static uint64_t b_stop_at, b_mark_at, b_mark_ns, b_run_max;
static long b_collections;
static volatile int b_recording;

static void GC_CALLBACK on_event(GC_EventType e) {
    uint64_t t = gcb_now_ns();
    if (e == GC_EVENT_PRE_STOP_WORLD) b_stop_at = t;
    if (e == GC_EVENT_POST_START_WORLD && b_stop_at && t - b_stop_at > b_run_max) b_run_max = t - b_stop_at;
    if (!b_recording) {
        if (e == GC_EVENT_POST_START_WORLD) b_stop_at = 0;
        return;
    }
    switch (e) {
    case GC_EVENT_START: b_collections++; break;
    case GC_EVENT_PRE_STOP_WORLD: b_stop_at = t; break;
    case GC_EVENT_POST_START_WORLD:
        if (b_stop_at && b_npauses < MAX_PAUSES) b_pauses[b_npauses++] = t - b_stop_at;
        b_stop_at = 0;
        break;
    case GC_EVENT_MARK_START: b_mark_at = t; break;
    case GC_EVENT_MARK_END:
        if (b_mark_at) b_mark_ns += t - b_mark_at;
        b_mark_at = 0;
        break;
    default: break;
    }
}
#endif

static void parse_args(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strncmp(a, "--heap-mb=", 10)) heap_mb = gcb_num("gc_pause", a + 10, "heap-mb", 16, 65536);
        else if (!strncmp(a, "--cycles=", 9)) ncycles = (long)gcb_num("gc_pause", a + 9, "cycles", 1, 10000);
        else if (!strncmp(a, "--threads=", 10)) nthreads = (long)gcb_num("gc_pause", a + 10, "threads", 0, 64);
        else if (!strncmp(a, "--churn-mbps=", 13)) churn_mbps = gcb_num("gc_pause", a + 13, "churn-mbps", 0, 1e6);
        else {
            fprintf(stderr, "gc_pause: unknown option %s (options: --heap-mb=N --cycles=N "
                            "--threads=N --churn-mbps=N)\n", a);
            exit(2);
        }
    }
}

int main(int argc, char **argv) {
    parse_args(argc, argv);
#if defined(GCP_BOEHM)
    GC_INIT();
    GC_set_on_collection_event(on_event);
#endif
    const long per_tree = (1L << (TREE_DEPTH + 1)) - 1;
    ntrees = (long)(heap_mb * 1048576.0 / (double)sizeof(struct node) / (double)per_tree + 0.5);
    if (ntrees < 1) ntrees = 1;
    if (ntrees > MAX_TREES) ntrees = MAX_TREES;

    uint64_t t0 = gcb_now_ns();
    for (long i = 0; i < ntrees; i++) STORE(trees[i], build(0, TREE_DEPTH));
    double build_s = (double)(gcb_now_ns() - t0) / 1e9;

    pthread_t th[64];
    for (long t = 0; t < nthreads; t++)
        if (pthread_create(&th[t], NULL, mutator, (void *)(intptr_t)t)) {
            fprintf(stderr, "gc_pause: pthread_create failed\n");
            return 1;
        }
    COLLECT(); /* warm-up: the window starts after a full cycle */

#if defined(GCP_TRICOLOR)
    struct gc_stats s0 = GC_STATS_INIT, s1 = GC_STATS_INIT;
    gc_read_stats(&s0);
#else
    b_recording = 1;
    double live_sum = 0;
#endif
    long long ops0 = atomic_load(&ops_done);
    uint64_t w0 = gcb_now_ns();
    for (long c = 0; c < ncycles; c++) {
        COLLECT();
#if defined(GCP_BOEHM)
        live_sum += (double)GC_get_memory_use();
#endif
    }
    double wall_s = (double)(gcb_now_ns() - w0) / 1e9;
    long long window_ops = atomic_load(&ops_done) - ops0;
#if defined(GCP_TRICOLOR)
    gc_read_stats(&s1);
#else
    b_recording = 0;
#endif
    atomic_store(&stop, 1);
    for (long t = 0; t < nthreads; t++) pthread_join(th[t], NULL);

    long bad = 0;
    for (long i = 0; i < ntrees; i++) bad += count_ok(trees[i], 0) != per_tree;

    uint64_t *pauses;
    size_t np;
    long cycles;
    double mark_s, marked, live;
    uint64_t run_max;
#if defined(GCP_TRICOLOR)
    static uint64_t buf[256];
    size_t n = gc_read_pauses(buf, 256);
    cycles = (long)(s1.gc_num - s0.gc_num);
    uint64_t window = s1.gc_npause - s0.gc_npause; /* the window's pauses are the newest */
    np = window < n ? (size_t)window : n;
    pauses = buf + (n - np);
    mark_s = (double)(s1.gc_mark_ns - s0.gc_mark_ns) / 1e9;
    marked = (double)(s1.gc_marked_bytes_total - s0.gc_marked_bytes_total);
    live = (double)s1.gc_heap_marked;
    run_max = s1.gc_pause_max_ns;
#else
    run_max = b_run_max;
    pauses = b_pauses;
    np = b_npauses;
    cycles = b_collections;
    mark_s = (double)b_mark_ns / 1e9;
    live = live_sum / (double)ncycles;
    marked = live * (double)cycles;
#endif
    printf("GCPAUSE {\"impl\":\"%s\",\"heap_mb\":%g,\"node_bytes\":%zu,\"nodes\":%ld,"
           "\"threads\":%ld,\"churn_mbps\":%g,\"build_s\":%.3f,\"forced_cycles\":%ld,"
           "\"cycles\":%ld,\"wall_s\":%.3f,\"mark_s\":%.6f,\"marked_bytes\":%.0f,"
           "\"live_bytes\":%.0f,\"pause_max_run_ns\":%llu,\"mutator_ops\":%lld,\"op_bytes\":%zu,\"trees_bad\":%ld,\"pauses_ns\":[",
           IMPL, heap_mb, sizeof(struct node), ntrees * per_tree, nthreads, churn_mbps, build_s,
           ncycles, cycles, wall_s, mark_s, marked, live, (unsigned long long)run_max, window_ops,
           ((size_t)1 << (TREE_DEPTH - SUB_DEPTH + 1)) * sizeof(struct node) - sizeof(struct node), bad);
    for (size_t i = 0; i < np; i++) printf("%s%llu", i ? "," : "", (unsigned long long)pauses[i]);
    printf("]}\n");
    if (bad) fprintf(stderr, "gc_pause: %ld trees damaged: the collector freed live nodes\n", bad);
    return bad ? 1 : 0;
}
