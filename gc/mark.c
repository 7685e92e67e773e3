/* gc/mark.c: the grey set and the marking loop.
 *
 * Colours (Go's): an object is white while its mark byte is 0, grey once
 * the byte is set and its address sits in a work buffer, black once
 * scanned (or at once, for noscan objects). The byte is set with a plain
 * store after a plain load found it 0 (mspan.h says why not a bit and an
 * atomic OR): markers, allocate-black and barrier flushes may race on one
 * object, and then more than one of them pushes it; it is scanned twice,
 * which is harmless, and never left white.
 *
 * Shading is conservative: any word that falls inside an allocated slot
 * of a scan or noscan span marks that slot (interior pointers included,
 * resolved through the arena index and divMul). Malloc'd (manual) spans
 * are neither marked nor scanned. A free slot is never marked, so sweeping
 * can make the mark bits the next alloc bits.
 *
 * Work buffers hold 510 grey entries each: an object's address and its
 * size, so that scanning it needs no second span lookup. A marking context
 * (struct gcw: a worker, an assist, a barrier flush) fills and drains a
 * private buffer and trades full ones through one global list under
 * work_lock. The marking loop takes grey objects in prefetched batches
 * and keeps its own state in registers (struct mstate). An
 * object larger than 128 KiB is scanned in 128 KiB oblets, each its own
 * grey entry, so one huge array spreads over workers and assists instead
 * of stalling one of them (Go's maxObletBytes).
 *
 * Termination: marking is done when the global list is empty and no
 * context holds a buffer (nbusy == 0); the driver then stops the world,
 * flushes every thread's write-barrier buffer and, if that produced work,
 * lets the world go and marks on (Go's gcMarkDone loop).
 *
 * Markers. The collector thread is marker slot 0 and GOMAXPROCS - 1
 * worker threads are the others; mark_mode decides, slice by slice, which
 * of them mark, as Go's scheduler runs its gcBgMarkWorkers: the pacer's
 * dedicated slots always, the fractional one for its share of the time
 * (with 2 Ps, a quarter of each), and one more per P the program leaves
 * idle (the process's CPU time, less the markers', says how many it keeps
 * busy; a thread waiting in gc_collect keeps none). So a busy
 * program gives the collector 25 % of the CPU, assists pay for the rest,
 * and an idle one lends it every CPU. Slice times feed the pacer
 * (cons/mark, gctrace) and the CPU limiter. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "alloc/base.h"
#include "alloc/lockrank.h"
#include "alloc/mcache.h"
#include "alloc/mheap.h"
#include "alloc/mspan.h"
#include "alloc/region.h"
#include "alloc/report.h"
#include "alloc/sizeclass.h"
#include "gc/cycle.h"
#include "gc/hooks.h"
#include "gc/mark.h"
#include "gc/pacer.h"
#include "gc/pacing.h"
#include "gc/phase.h"
#include "gc/stats.h"
#include "gc/stw.h"

#define OBLET_BYTES ((uintptr_t)128 << 10)
#define WORKBUF_ENTRIES 510

struct workbuf {
    struct workbuf *next;
    uint64_t n;
    uintptr_t obj[WORKBUF_ENTRIES];
};

struct gcw {
    struct workbuf *buf; /* private, never NULL between gcw_begin and gcw_end */
    uint64_t marked;     /* bytes marked, flushed to bytes_marked */
    struct mspan *last;  /* the span greyobject last found (never NULL) */
};

static pthread_mutex_t work_lock = PTHREAD_MUTEX_INITIALIZER;
static struct workbuf *full_list, *empty_list; /* work_lock */
static _Atomic unsigned nfull; /* buffers on full_list; work_lock writes */
static unsigned nbusy;                         /* work_lock */
static _Atomic uint64_t bytes_marked;

/* ---- buffers ---- */

static struct workbuf *get_empty_locked(void) {
    struct workbuf *b = empty_list;
    if (b) {
        empty_list = b->next;
    } else {
        b = mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (b == MAP_FAILED) tc_fatal("out of memory for mark work buffers");
    }
    b->n = 0;
    b->next = NULL;
    return b;
}

static void put_full_locked(struct workbuf *b) {
    b->next = full_list;
    full_list = b;
    nfull++;
}

/* The private buffer is full: it goes to the global list and an empty one
 * takes its place. */
static TC_NOINLINE void get_empty(struct gcw *w) {
    tc_lock(&work_lock, LOCKRANK_WORK);
    put_full_locked(w->buf);
    w->buf = get_empty_locked();
    tc_unlock(&work_lock, LOCKRANK_WORK);
}

/* The private buffer is empty: swap it for a full one from the global
 * list. Returns 0 when there is none. */
static TC_NOINLINE int get_full(struct gcw *w) {
    int got = 0;
    tc_lock(&work_lock, LOCKRANK_WORK);
    if (full_list) {
        w->buf->next = empty_list;
        empty_list = w->buf;
        w->buf = full_list;
        full_list = w->buf->next;
        nfull--;
        got = 1;
    }
    tc_unlock(&work_lock, LOCKRANK_WORK);
    return got;
}

static void gcw_begin(struct gcw *w) {
    w->marked = 0;
    w->last = &tc_emptyspan;
    tc_lock(&work_lock, LOCKRANK_WORK);
    w->buf = get_empty_locked();
    nbusy++;
    tc_unlock(&work_lock, LOCKRANK_WORK);
}

/* Publish what is left of w's buffer and its byte count. */
static void gcw_end(struct gcw *w) {
    tc_lock(&work_lock, LOCKRANK_WORK);
    if (w->buf->n) {
        put_full_locked(w->buf);
    } else {
        w->buf->next = empty_list;
        empty_list = w->buf;
    }
    w->buf = NULL;
    nbusy--;
    tc_unlock(&work_lock, LOCKRANK_WORK);
    atomic_fetch_add_explicit(&bytes_marked, w->marked, memory_order_relaxed);
}

/* Go's gcw.balance: a marker whose private buffer holds work while the
 * global list is empty gives the older half away. Without it a depth-first
 * walk of a tree, whose grey stack stays far below a full buffer, keeps
 * every other marker idle for the whole cycle. The older half holds the
 * entries nearest the roots: the largest pieces of work. */
static TC_NOINLINE void balance(struct gcw *w) {
    struct workbuf *b = w->buf;
    tc_lock(&work_lock, LOCKRANK_WORK);
    struct workbuf *nb = get_empty_locked();
    uint64_t half = b->n / 2;
    memcpy(nb->obj, b->obj, half * sizeof b->obj[0]);
    memmove(b->obj, b->obj + half, (b->n - half) * sizeof b->obj[0]);
    nb->n = half;
    b->n -= half;
    put_full_locked(nb);
    tc_unlock(&work_lock, LOCKRANK_WORK);
}

size_t tc_mark_release_buffers(void) {
    size_t n = 0;
    tc_region_enter(); /* mutators take work_lock inside regions only */
    tc_lock(&work_lock, LOCKRANK_WORK);
    struct workbuf *b = empty_list;
    empty_list = NULL;
    tc_unlock(&work_lock, LOCKRANK_WORK);
    tc_region_end();
    while (b) { /* off every list: nobody else can reach them */
        struct workbuf *next = b->next;
        munmap(b, sizeof *b);
        n += sizeof *b;
        b = next;
    }
    return n;
}

int tc_work_empty(void) {
    tc_lock(&work_lock, LOCKRANK_WORK);
    int e = !full_list && nbusy == 0;
    tc_unlock(&work_lock, LOCKRANK_WORK);
    return e;
}

void tc_mark_reset(void) { atomic_store(&bytes_marked, 0); }
uint64_t tc_mark_bytes_take(uint64_t *traced) {
    uint64_t n = *traced = atomic_load(&bytes_marked);
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink) {
        n += atomic_load_explicit(&pp->gc_black_bytes, memory_order_relaxed);
        atomic_store_explicit(&pp->gc_black_bytes, 0, memory_order_relaxed);
    }
    return n;
}

/* ---- shading and scanning ---- */

/* The marking loop's copy of a gcw: the private buffer as a stack pointer
 * and its bounds, the span found last, the bytes marked. It lives in
 * registers: mark bytes are chars, and a store through a char pointer
 * would otherwise make the compiler load every field of the gcw and the
 * buffer again after each mark. Slow paths work on the gcw itself, in
 * between ms_save and ms_load. */
struct mstate {
    uintptr_t *top, *bottom, *end;
    struct mspan *last;
    uint64_t marked;
};

TC_INLINE void ms_load(struct mstate *m, const struct gcw *w) {
    m->bottom = w->buf->obj;
    m->top = m->bottom + w->buf->n;
    m->end = m->bottom + WORKBUF_ENTRIES;
    m->last = w->last;
    m->marked = 0;
}

TC_INLINE void ms_save(const struct mstate *m, struct gcw *w) {
    w->buf->n = (uint64_t)(m->top - m->bottom);
    w->last = m->last;
    w->marked += m->marked;
}

TC_INLINE void ms_push(struct mstate *m, struct gcw *w, uintptr_t e) {
    if (TC_UNLIKELY(m->top == m->end)) {
        ms_save(m, w);
        get_empty(w);
        ms_load(m, w);
    }
    *m->top++ = e;
}

/* A grey entry is the object's address with its size in words in the top
 * bits (addresses fit in 48): scanobject then needs no span lookup, which
 * is a dependent miss per object. Size 0: a large object's first visit,
 * whose span says how to cut it into oblets. */
#define GREY_SHIFT 48
#define GREY_ADDR(e) ((e) & (((uintptr_t)1 << GREY_SHIFT) - 1))
#define GREY_BYTES(e) (((e) >> GREY_SHIFT) * sizeof(uintptr_t))

TC_INLINE uintptr_t grey_entry(uintptr_t p, uintptr_t bytes) {
    TC_ASSERT_INTERNAL(p >> GREY_SHIFT == 0);
    return p | (bytes <= OBLET_BYTES ? bytes / sizeof(uintptr_t) << GREY_SHIFT : 0);
}

/* The collected span holding p, known to lie between the heap's bounds,
 * if p is below its last slot; tc_find_object's checks without the bounds
 * test and the slot. */
TC_INLINE struct mspan *lookup(uintptr_t p) {
    struct heaparena *ha =
        atomic_load_explicit(&tc_arenas_[p >> TC_ARENA_SHIFT], memory_order_acquire);
    if (TC_UNLIKELY(!ha)) return NULL;
    struct mspan *s = atomic_load_explicit(&ha->spans[tc_arena_page(p)], memory_order_acquire);
    if (!s || __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != MSPAN_INUSE ||
        p - s->startAddr >= s->limit - s->startAddr ||
        tc_spanclass_kind(s->spanclass) == SPAN_MANUAL)
        return NULL;
    return s;
}

/* Shade the object p points into, if any; p lies between the heap's
 * bounds. The span found last is tried first: the objects one object
 * points to often share its span (built together), and the lookup is
 * three dependent loads. A span found once stays valid for the whole mark:
 * collected spans are freed only by the sweep. No local here has its
 * address taken: under ASan such a variable's scope marks, inlined into
 * an unsanitized caller, would leave poison behind on the stack. */
TC_INLINE void greyobject(struct mstate *m, struct gcw *w, uintptr_t p) {
    struct mspan *s = m->last;
    if (TC_UNLIKELY(p - s->startAddr >= s->limit - s->startAddr)) {
        s = lookup(p);
        if (!s) return;
        m->last = s;
    }
    unsigned idx = (unsigned)(((p - s->startAddr) * s->divMul) >> 32);
    if (!tc_slot_allocated(s, idx)) return;
    TC_ASSERT_INTERNAL(atomic_load(&tc_gcphase) != GC_OFF);
    if (tc_mspan_marked(s, idx)) return;
    uintptr_t size = s->elemsize, obj = s->startAddr + (uintptr_t)idx * size;
    int scan = tc_spanclass_kind(s->spanclass) == SPAN_SCAN;
    tc_mspan_set_marked(s, idx);
    m->marked += size;
    if (scan) ms_push(m, w, grey_entry(obj, size));
}

/* Scanning is conservative: it reads words other threads may be writing,
 * and stack or global red zones under ASan. The scanning loop and every
 * function it is inlined into carry this. */
#define UNSANITIZED __attribute__((no_sanitize("address", "thread")))

/* One word of a scanned block, which its owner may be writing. */
UNSANITIZED TC_INLINE uintptr_t scan_word(uintptr_t q) {
#if TC_TSAN /* an atomic load, even here, would be checked */
    return *(volatile uintptr_t *)q;
#else
    return __atomic_load_n((uintptr_t *)q, __ATOMIC_RELAXED);
#endif
}

/* Shade what the words of [lo, hi) point to; both word aligned. The heap's
 * bounds are read once: an arena added meanwhile holds only objects
 * allocated black. */
UNSANITIZED TC_INLINE void
scan_block(struct mstate *m, struct gcw *w, uintptr_t lo, uintptr_t hi, uintptr_t heap_lo,
           uintptr_t heap_len) {
    for (uintptr_t q = lo; q < hi; q += sizeof(uintptr_t)) {
        uintptr_t v = scan_word(q);
        if (v - heap_lo < heap_len) greyobject(m, w, v);
    }
}

/* A large object's first visit: queue its other oblets, each with its
 * size (on the gcw: between ms_save and ms_load); returns the first
 * one's. */
static TC_NOINLINE uintptr_t oblets(struct gcw *w, uintptr_t p) {
    struct mspan *s = tc_spanof(p);
    TC_ASSERT_INTERNAL(s && p == s->startAddr && s->elemsize > OBLET_BYTES);
    for (uintptr_t o = p + OBLET_BYTES; o < s->limit; o += OBLET_BYTES) {
        if (w->buf->n == WORKBUF_ENTRIES) get_empty(w);
        w->buf->obj[w->buf->n++] =
            grey_entry(o, s->limit - o < OBLET_BYTES ? s->limit - o : OBLET_BYTES);
    }
    return OBLET_BYTES;
}

/* Grey objects are taken from the stack in batches of PREFETCH_BATCH, and
 * each is prefetched as it is taken, its first and its last line (a small
 * object straddles two lines often: two 24-byte slots in eight); a batch
 * is scanned while the next one is being fetched, so an object's lines
 * have been on their way for a whole batch when it is scanned. A heap of
 * small linked objects is otherwise one cache miss after another (Boehm's
 * marker prefetches the same way). Two arrays, not a ring: taking and
 * scanning are then plain loops. A batch of 16 keeps 32 lines in flight;
 * twice that was slower. */
#define PREFETCH_BATCH 16

/* yield: return early when a stop is asked for (tc_stop_poll). */
UNSANITIZED static uint64_t drain(struct gcw *w, uint64_t budget, int yield) {
    uintptr_t batch[2][PREFETCH_BATCH];
    unsigned len[2] = {0, 0}, cur = 0, nbatches = 0;
    uint64_t scanned = 0;
    uintptr_t heap_lo = tc_heap_lo, heap_len = tc_heap_hi - heap_lo;
    struct mstate m;
    ms_load(&m, w);
    for (;;) {
        unsigned next = cur ^ 1, k = 0;
        for (; k < PREFETCH_BATCH && m.top != m.bottom; k++) {
            uintptr_t e = *--m.top;
            __builtin_prefetch((const void *)GREY_ADDR(e));
            __builtin_prefetch((const void *)(GREY_ADDR(e) + GREY_BYTES(e) - 1));
            batch[next][k] = e;
        }
        len[next] = k;
        for (unsigned i = 0; i < len[cur]; i++) {
            uintptr_t e = batch[cur][i], p = GREY_ADDR(e), size = GREY_BYTES(e);
            if (size == 2 * sizeof(uintptr_t)) { /* the commonest object: no loop */
                uintptr_t v0 = scan_word(p), v1 = scan_word(p + sizeof(uintptr_t));
                if (v0 - heap_lo < heap_len) greyobject(&m, w, v0);
                if (v1 - heap_lo < heap_len) greyobject(&m, w, v1);
                scanned += size;
                continue;
            }
            if (TC_UNLIKELY(size == 0)) {
                ms_save(&m, w);
                size = oblets(w, p);
                ms_load(&m, w);
            }
            scan_block(&m, w, p, p + size, heap_lo, heap_len);
            scanned += size;
        }
        len[cur] = 0;
        cur = next;
        if (len[cur] == 0) {
            if (m.top != m.bottom) continue; /* the scan pushed more */
            ms_save(&m, w);
            int got = get_full(w);
            ms_load(&m, w);
            if (!got) break;
            continue;
        }
        if (budget && scanned >= budget) break;
        if (TC_UNLIKELY((++nbatches & 3) == 0)) {
            if (m.top - m.bottom >= 8 && atomic_load_explicit(&nfull, memory_order_relaxed) == 0) {
                ms_save(&m, w);
                balance(w);
                ms_load(&m, w);
            }
            if (yield && atomic_load_explicit(&tc_stop_poll, memory_order_relaxed)) break;
        }
    }
    for (unsigned i = 0; i < len[cur]; i++) ms_push(&m, w, batch[cur][i]); /* over budget */
    ms_save(&m, w);
    return scanned;
}

/* ---- entry points for the other modules ---- */

/* Roots and barrier flushes shade through a gcw of their own. */
static __thread struct gcw *ctx;

/* Shade p[0..n) through w. */
UNSANITIZED static void shade_words(struct gcw *w, const uintptr_t *p, unsigned n) {
    uintptr_t heap_lo = tc_heap_lo, heap_len = tc_heap_hi - heap_lo;
    struct mstate m;
    ms_load(&m, w);
    for (unsigned i = 0; i < n; i++)
        if (p[i] - heap_lo < heap_len) greyobject(&m, w, p[i]);
    ms_save(&m, w);
}

void tc_shade(uintptr_t p) {
    struct gcw w, *c = ctx;
    if (c) {
        shade_words(c, &p, 1);
        return;
    }
    gcw_begin(&w);
    shade_words(&w, &p, 1);
    gcw_end(&w);
}

/* Root bytes scanned; cycle.c hands them to the pacer as globals or stacks. */
static _Atomic uint64_t root_scanned;

uint64_t tc_mark_root_scanned_take(void) { return atomic_exchange(&root_scanned, 0); }

/* Roots need not be word aligned at either end. */
UNSANITIZED static void scan_words(struct gcw *w, uintptr_t lo, uintptr_t hi) {
    lo = TC_ALIGN_UP(lo, sizeof(uintptr_t));
    hi = TC_ALIGN_DOWN(hi, sizeof(uintptr_t));
    if (hi <= lo) return;
    struct mstate m;
    ms_load(&m, w);
    scan_block(&m, w, lo, hi, tc_heap_lo, tc_heap_hi - tc_heap_lo);
    ms_save(&m, w);
}

void tc_scan_range(uintptr_t lo, uintptr_t hi) {
    struct gcw w, *c = ctx;
    if (hi > lo) atomic_fetch_add_explicit(&root_scanned, hi - lo, memory_order_relaxed);
    if (c) {
        scan_words(c, lo, hi);
        return;
    }
    gcw_begin(&w);
    ctx = &w;
    scan_words(&w, lo, hi);
    ctx = NULL;
    gcw_end(&w);
}

/* Every drain's bytes are the pacer's heap scan work. */
static uint64_t drain_ctx(uint64_t budget, int yield) {
    struct gcw w;
    gcw_begin(&w);
    uint64_t n = drain(&w, budget, yield);
    gcw_end(&w);
    atomic_fetch_add_explicit(&tc_gcController.heapScanWork, (int64_t)n, memory_order_relaxed);
    return n;
}

uint64_t tc_drain_assist(uint64_t budget) { return drain_ctx(budget, 1); }

void tc_mark_black(struct p *pp, struct mspan *s, uintptr_t obj) {
    TC_ASSERT(atomic_load(&tc_gcphase) >= GC_MARK);
    unsigned idx = (unsigned)(((obj - s->startAddr) * s->divMul) >> 32);
    tc_mspan_set_marked(s, idx);
    tc_stat_add(&pp->gc_black_bytes, s->elemsize);
}

void tc_shade_batch(const uintptr_t *p, unsigned n) {
    struct gcw w;
    gcw_begin(&w);
    shade_words(&w, p, n);
    gcw_end(&w);
}

/* ---- who marks, and when: Go's worker modes ---- */

static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t worker_cond = PTHREAD_COND_INITIALIZER;
static int workers_on, workers_started;

enum mark_mode { MARK_NONE, MARK_DEDICATED, MARK_FRACTIONAL, MARK_IDLE };

/* The CPUs the program keeps busy: the process's CPU time less the
 * markers' own, over wall time, measured again every 10 ms by whichever
 * marker finds the figure stale (a marker's slice is counted when it ends,
 * a fraction of a millisecond later: the window keeps that error small).
 * A count of the threads not parked was tried first: threads asleep in
 * calls tricolor does not interpose counted as busy, and a benchmark whose
 * mutators sleep between operations marked on one CPU of two. */
#define BUSY_WINDOW_NS 10000000
static _Atomic int busy_cpus;
static _Atomic uint64_t busy_at;
/* At busy_at; written by the refresher of the window, which a slow one
 * of the window before may still be reading. */
static _Atomic uint64_t busy_proc_cpu, busy_mark_cpu;

static uint64_t process_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int busy_ps(uint64_t now) {
    uint64_t at = atomic_load_explicit(&busy_at, memory_order_relaxed);
    if (now - at >= BUSY_WINDOW_NS && atomic_compare_exchange_strong(&busy_at, &at, now)) {
        struct gccontroller *c = &tc_gcController;
        uint64_t cpu = process_cpu_ns();
        uint64_t mark = (uint64_t)(atomic_load(&c->dedicatedMarkTime) +
                                   atomic_load(&c->fractionalMarkTime) +
                                   atomic_load(&c->idleMarkTime));
        uint64_t dmark = mark >= busy_mark_cpu ? mark - busy_mark_cpu : mark; /* a new cycle */
        uint64_t dcpu = cpu - busy_proc_cpu;
        double mut = (double)(dcpu > dmark ? dcpu - dmark : 0) / (double)(now - at);
        int n = (int)(mut + 0.5);
        atomic_store_explicit(&busy_cpus, n < c->procs ? n : c->procs, memory_order_relaxed);
        busy_proc_cpu = cpu;
        busy_mark_cpu = mark;
    }
    return atomic_load_explicit(&busy_cpus, memory_order_relaxed);
}

/* Marker slot k (0: the collector thread, 1..GOMAXPROCS-1: workers) as Go
 * schedules gcBgMarkWorker: slots below the dedicated count always mark;
 * the next one is the fractional worker while its time is under its share
 * of the cycle (fractionalUtilizationGoal x procs x elapsed); after those,
 * one slot per P the program leaves idle marks too (idle mode: free CPU,
 * not counted against the 25 %). *sleep_ns: how long a slot told to wait
 * should. */
static enum mark_mode mark_mode(int slot, uint64_t now, uint64_t *sleep_ns) {
    struct gccontroller *c = &tc_gcController;
    int d = c->dedicatedMarkWorkersNeeded;
    *sleep_ns = 1000000;
    if (slot < d) return MARK_DEDICATED;
    if (slot == d && c->fractionalUtilizationGoal > 0) {
        double share = c->fractionalUtilizationGoal * c->procs;
        double used = (double)atomic_load_explicit(&c->fractionalMarkTime, memory_order_relaxed);
        double elapsed = (double)(now - c->markStartTime);
        if (used < share * elapsed) return MARK_FRACTIONAL;
        double wait = used / share - elapsed; /* until the share catches up */
        *sleep_ns = wait < 100e3 ? 100000 : wait > 2e6 ? 2000000 : (uint64_t)wait;
    }
    int idle = c->procs - d - busy_ps(now);
    return slot - d < idle ? MARK_IDLE : MARK_NONE;
}

/* One slice of marking by slot k: bytes scanned, or -1 (and *sleep_ns) if
 * the slot is not to mark now. The work is the workers' credit, which
 * assists take before scanning themselves (gc/pacer.c). */
static int64_t mark_slice(int slot, uint64_t budget, int yield, uint64_t *sleep_ns) {
    struct gccontroller *c = &tc_gcController;
    enum mark_mode mode = mark_mode(slot, tc_nanotime(), sleep_ns);
    if (mode == MARK_NONE) return -1;
    uint64_t t0 = tc_thread_cpu_ns();
    uint64_t n = drain_ctx(budget, yield);
    int64_t dt = (int64_t)(tc_thread_cpu_ns() - t0);
    _Atomic int64_t *time = mode == MARK_DEDICATED    ? &c->dedicatedMarkTime
                            : mode == MARK_FRACTIONAL ? &c->fractionalMarkTime
                                                      : &c->idleMarkTime;
    atomic_fetch_add_explicit(time, dt, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->bgScanCredit, (int64_t)n, memory_order_relaxed);
    return (int64_t)n;
}

static void sleep_ns(uint64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    nanosleep(&ts, NULL);
}

/* The collector thread marks as slot 0, pacing as it goes (every ms). */
uint64_t tc_drain(uint64_t budget) {
    static uint64_t last_tick;
    uint64_t now = tc_nanotime(), wait;
    if (now - last_tick > 1000000) {
        tc_gc_pace_tick(now);
        last_tick = now;
    }
    int64_t n = mark_slice(0, budget, 0, &wait);
    if (n >= 0) return (uint64_t)n;
    sleep_ns(wait);
    return 0;
}

static void *worker_main(void *arg) {
    int slot = (int)(intptr_t)arg;
    for (;;) {
        tc_lock(&worker_lock, LOCKRANK_WORKER);
        while (!workers_on) pthread_cond_wait(&worker_cond, &worker_lock);
        tc_unlock(&worker_lock, LOCKRANK_WORKER);
        uint64_t wait;
        int64_t n = mark_slice(slot, 256 << 10, 1, &wait);
        /* A stop waits for mutators that may need this CPU: yield it. */
        if (atomic_load_explicit(&tc_stop_poll, memory_order_relaxed)) tc_stop_poll_wait();
        else if (n < 0) sleep_ns(wait);
        else if (n == 0) sleep_ns(50 * 1000); /* nothing queued: doze briefly */
    }
    return NULL;
}

/* GOMAXPROCS - 1 workers besides the collector thread, so that every
 * idle P can mark; how many mark at a time is mark_mode's decision. */
void tc_mark_start_workers(void) {
    if (workers_started) return;
    workers_started = 1;
    for (int i = 1; i < tc_gc_procs(); i++) {
        pthread_t tid;
        if (tc_create_system_thread(&tid, worker_main, (void *)(intptr_t)i) != 0)
            tc_fatal("cannot start a mark worker");
    }
}

void tc_mark_wake_workers(int on) {
    tc_lock(&worker_lock, LOCKRANK_WORKER);
    workers_on = on;
    pthread_cond_broadcast(&worker_cond);
    tc_unlock(&worker_lock, LOCKRANK_WORKER);
}

void tc_mark_after_fork_child(void) {
    pthread_mutex_init(&work_lock, NULL);
    pthread_mutex_init(&worker_lock, NULL);
    pthread_cond_init(&worker_cond, NULL);
    workers_on = workers_started = 0;
    nbusy = 0;
    atomic_store(&busy_at, 0);
}
