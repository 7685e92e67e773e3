/* bench/gcw_memory.c: the collector workloads about memory, beside
 * gc_workloads.c's (which has the options, main and the pause recorder),
 * built into the same three programs. Go's peer: gc_workloads_mem.go.
 *
 *   steady    a live set of --live-mb MiB (L) replaced continuously:
 *             a FIFO of scanned objects of 64, 128, 256 or 512 bytes
 *             (exact size classes in tricolor and Go, no rounding),
 *             each linked to the next newer one through the barrier;
 *             every allocation appends one and drops the oldest while
 *             more than L bytes are queued. After the first L, --turnover
 *             x L bytes are allocated in the measured phase. Run with
 *             GOGC=50, 100, 200: the heap must stay near L x (1 + GOGC/100).
 *   memlimit  the same under GOGC=off and GOMEMLIMIT (set by the caller):
 *             the process must stay near the limit.
 *   release   --release-mb MiB of noscan objects of 1 to 64 KiB, each
 *             written through, then dropped and given back
 *             (gc_release_memory; Boehm: GC_gcollect_and_unmap; malloc:
 *             free and malloc_trim(0)): the resident set before, full and
 *             after. Before: after one collection and one such release,
 *             with nothing allocated (the runtime and its threads up).
 *
 * The heap at its peak is what the collector saw at the end of each mark
 * phase: tricolor's and Go's gctrace lines between the GCWORK-MEASURE and
 * GCWORK-END markers this file prints on stderr (gc_workloads.py reads
 * them); Boehm's, the heap blocks in use at the start of each collection
 * (gc_workloads.c's event callback), its own measure, not the same one.
 *
 * Conservative roots: a stale copy of a pointer on the stack keeps its
 * object alive. So a dropped FIFO head has its link cleared (a stale head
 * keeps one object, not the chain behind it), and release clears every
 * slot of its array before dropping it: the figure is then the
 * collector's, not the luck of what the stack still holds. */
#include "gc_workloads.h"

#if defined(GCW_MALLOC)
#include <malloc.h>
#endif

/* ---- steady and memlimit ---- */

struct robj {
    struct robj *next; /* the next newer object; NULL for the newest */
    uint64_t seq, size;
    uint64_t words[]; /* (size - 24) / 8 copies of seq: never heap addresses */
};

static size_t robj_size(uint64_t seq) {
    return (size_t)64 << ((seq * 0x9E3779B97F4A7C15ULL) >> 62);
}

static struct robj *new_robj(uint64_t seq) {
    size_t size = robj_size(seq);
    struct robj *o = must(ALLOC(size));
    o->seq = seq;
    o->size = size;
    for (size_t i = 0; i < (size - sizeof *o) / 8; i++) o->words[i] = seq;
    return o;
}

static int robj_ok(const struct robj *o, uint64_t seq) {
    if (!o || o->seq != seq || o->size != robj_size(seq)) return 0;
    for (size_t i = 0; i < (o->size - sizeof *o) / 8; i++)
        if (o->words[i] != seq) return 0;
    return 1;
}

/* The FIFO: head is the oldest object, tail the newest; both on this
 * stack, so stores to them need no barrier. */
struct fifo {
    struct robj *head, *tail;
    uint64_t next_seq, live;
    long bad;
};

/* Append one object, then drop the oldest while more than limit bytes
 * are queued; returns the bytes allocated. */
static size_t push(struct fifo *q, uint64_t limit) {
    struct robj *o = new_robj(q->next_seq++);
    if (q->tail) STORE(q->tail->next, o);
    else q->head = o;
    q->tail = o;
    q->live += o->size;
    while (q->live > limit) {
        struct robj *old = q->head;
        q->bad += !robj_ok(old, old->seq) || (old->next && old->next->seq != old->seq + 1);
        q->head = old->next;
        q->live -= old->size;
        STORE(old->next, NULL);
    }
    return o->size;
}

long run_ring(const char *name, long live_mb, double turnover) {
    uint64_t limit = (uint64_t)live_mb << 20, want = (uint64_t)(turnover * (double)limit), allocated = 0;
    struct fifo q = {0};
    while (q.live + 512 <= limit) push(&q, limit);
    long cycles0 = cycles();
    fprintf(stderr, "GCWORK-MEASURE\n");
    record_start();
    uint64_t t0 = gcb_now_ns();
    while (allocated < want) allocated += push(&q, limit);
    double secs = (double)(gcb_now_ns() - t0) / 1e9;
    record_stop();
    fprintf(stderr, "GCWORK-END\n");
    /* The whole FIFO, oldest to newest: consecutive, every object whole. */
    long objects = 0;
    uint64_t seq = q.head->seq, bytes = 0;
    for (struct robj *o = q.head; o; o = o->next, seq++, objects++) {
        q.bad += !robj_ok(o, seq);
        bytes += o->size;
    }
    q.bad += bytes != q.live || seq != q.next_seq;
    printf("GCWORK {\"workload\":\"%s\",\"impl\":\"%s\",\"live_bytes\":%llu,\"live_objects\":%ld,"
           "\"allocated_bytes\":%llu,\"time_s\":%.4f,\"heap_peak_bytes\":%llu,",
           name, IMPL(), (unsigned long long)q.live, objects, (unsigned long long)allocated, secs,
           (unsigned long long)heap_peak_bytes());
#if defined(GCW_TRICOLOR)
    struct gc_stats s = GC_STATS_INIT;
    gc_read_stats(&s);
    printf("\"gogc\":%d,\"memory_limit\":%lld,", (int)s.gc_percent, (long long)s.gc_memory_limit);
#elif defined(GCW_BOEHM)
    printf("\"free_space_divisor\":%lu,", (unsigned long)GC_get_free_space_divisor());
#endif
    print_tail(cycles0, q.bad);
    return q.bad;
}

/* ---- release ---- */

static size_t release_size(uint64_t i) {
    return (size_t)1024 << ((i * 0x9E3779B97F4A7C15ULL >> 32) % 7);
}

/* Give every free page back to the OS now; bytes released where known. */
static size_t release_all(void) {
#if defined(GCW_TRICOLOR)
    return gc_release_memory();
#elif defined(GCW_BOEHM)
    GC_gcollect_and_unmap();
    return 0;
#else
    malloc_trim(0);
    return 0;
#endif
}

/* Fill the n objects, take the full RSS, check and drop them all. Its
 * own frame, not inlined: once it returns, no register or live stack
 * slot of the caller still holds the array (a stale copy kept the 450
 * KiB array of a 1 GiB run alive through the release). */
static __attribute__((noinline)) long fill_and_drop(long n, double *fill_s, long *rss_full) {
    long bad = 0;
    uint64_t **objs = must(ALLOC((size_t)n * sizeof *objs));
    uint64_t t0 = gcb_now_ns();
    for (long i = 0; i < n; i++) {
        size_t words = release_size((uint64_t)i) / 8;
        uint64_t *o = must(ALLOC_NOSCAN(words * 8));
        for (size_t j = 0; j < words; j++) o[j] = (uint64_t)i;
        STORE(objs[i], o);
    }
    *fill_s = (double)(gcb_now_ns() - t0) / 1e9;
    *rss_full = rss_kib();
    for (long i = 0; i < n; i++) {
        size_t words = release_size((uint64_t)i) / 8;
        bad += objs[i][0] != (uint64_t)i || objs[i][words / 2] != (uint64_t)i || objs[i][words - 1] != (uint64_t)i;
#if defined(GCW_MALLOC)
        free(objs[i]);
#endif
        STORE(objs[i], NULL);
    }
#if defined(GCW_MALLOC)
    free(objs);
#endif
    return bad;
}

long run_release(long mb) {
    uint64_t want = (uint64_t)mb << 20, total = 0;
    long n = 0, bad = 0, rss_full = 0;
    double fill_s = 0;
    while (total < want) total += release_size((uint64_t)n++);
    /* The start: a program that has initialised its runtime, run one
     * collection and given back what it could (the collector's threads
     * exist then), before the big allocation. */
#if defined(GCW_MALLOC)
    free(must(ALLOC(64)));
#else
    must(ALLOC(64));
#endif
    COLLECT();
    release_all();
    long rss0 = rss_kib(), cycles0 = cycles();
    bad += fill_and_drop(n, &fill_s, &rss_full);
    long rss_dropped = rss_kib();
    uint64_t t0 = gcb_now_ns();
    size_t released = release_all();
    double release_ms = (double)(gcb_now_ns() - t0) / 1e6;
    long rss_after = rss_kib();
    printf("GCWORK {\"workload\":\"release\",\"impl\":\"%s\",\"objects\":%ld,\"bytes\":%llu,"
           "\"fill_s\":%.4f,\"rss_start_kib\":%ld,\"rss_full_kib\":%ld,\"rss_dropped_kib\":%ld,"
           "\"rss_after_kib\":%ld,\"released_bytes\":%zu,\"release_ms\":%.2f,",
           IMPL(), n, (unsigned long long)total, fill_s, rss0, rss_full, rss_dropped, rss_after, released,
           release_ms);
    print_tail(cycles0, bad);
    return bad;
}
