/* alloc/mcentral.c: see mcentral.h.
 *
 * Spans move between lists only under the class lock, and a span's
 * `list` field always says where it is, so a remote freer arriving late
 * (after the span was cached, or even freed and reused: the generation
 * check) can tell whether there is anything left for it to do. A span is
 * given back to the heap only when it holds no object and no remote free
 * is in flight (xremoteCount == 0 after the merge), so a freer that has
 * counted itself in but not yet set its bit never writes into a span that
 * changed hands.
 *
 * Collected spans have no remote frees: the sweeper frees their objects.
 * Lists are taken from both ends: refills take the newest swept partial
 * span, sweepers the oldest unswept one (tc_mcentral_sweep_some). */
#include "alloc/mcentral.h"

#include "alloc/lockrank.h"
#include "alloc/mheap.h"
#include "alloc/region.h"
#include "gc/hooks.h"

struct mcentral tc_mcentral_[TC_NUM_SPAN_CLASSES];

/* mcentral locks are only ever held inside a region (alloc/region.h). */
static void central_lock(struct mcentral *c) { tc_region_lock(&c->lock, LOCKRANK_MCENTRAL); }
static void central_unlock(struct mcentral *c) { tc_region_unlock(&c->lock, LOCKRANK_MCENTRAL); }

/* Adaptive mutexes: refills and remote-free bookkeeping hold the lock for
 * a few list operations; with more threads than cores, sleeping on every
 * contended acquisition cost more than the work (measured: a third of the
 * 4-thread mixed workload went to futex wake-ups and rescheduling). */
void tc_mcentral_init(void) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
    for (unsigned i = 0; i < TC_NUM_SPAN_CLASSES; i++) pthread_mutex_init(&tc_mcentral_[i].lock, &a);
    pthread_mutexattr_destroy(&a);
}

/* Which list s is (or goes) on: its kind, and the parity of its sweepgen. */
static struct spanlist *list_of(struct mcentral *c, const struct mspan *s, unsigned list) {
    unsigned par = (s->sweepgen >> 1) & 1;
    return list == LIST_PARTIAL ? &c->partial[par] : &c->full[par];
}

static unsigned swept_parity(void) { return (tc_sweepgen >> 1) & 1; }

static int collected(const struct mspan *s) {
    return tc_spanclass_kind(s->spanclass) != SPAN_MANUAL;
}

static void list_push(struct mcentral *c, struct mspan *s, unsigned list) {
    struct spanlist *l = list_of(c, s, list);
    __atomic_store_n(&s->list, (uint8_t)list, __ATOMIC_SEQ_CST);
    s->prev = NULL;
    s->next = l->first;
    if (l->first) l->first->prev = s;
    else l->last = s;
    __atomic_store_n(&l->first, s, __ATOMIC_RELAXED); /* peeked without the lock */
}

static void list_remove(struct mcentral *c, struct mspan *s) {
    struct spanlist *l = list_of(c, s, s->list);
    if (s->prev) s->prev->next = s->next;
    else __atomic_store_n(&l->first, s->next, __ATOMIC_RELAXED);
    if (s->next) s->next->prev = s->prev;
    else l->last = s->prev;
    s->next = s->prev = NULL;
    __atomic_store_n(&s->list, LIST_NONE, __ATOMIC_SEQ_CST);
}

/* Any remote free whose bit is set but not merged yet? (seq_cst loads:
 * see settle.) */
static int remote_bits_set(const struct mspan *s) {
    for (unsigned w = 0; w < s->nwords; w++)
        if (atomic_load(&s->remoteBits[w])) return 1;
    return 0;
}

/* Lock held, span uncached and on no list. Put it on the right list, or
 * return 1 if it should go back to the heap.
 *
 * Partial means a free slot in allocBits, so whoever caches it finds one.
 * A span goes on the full list only if no remote bit is set after the list
 * is published. The store of `list` and the load of the bits are seq_cst,
 * as are the freer's bit and its load of `list`: either we see its bit and
 * choose partial, or it sees "full" and reconciles. A freer that counted
 * itself but has not set its bit yet does not keep the span partial (it
 * would have no slot to give), it only keeps the span from the heap. */
static int settle(struct mcentral *c, struct mspan *s) {
    if (collected(s)) { /* only the sweeper frees collected spans */
        list_push(c, s, tc_mspan_count(s) < s->nelems ? LIST_PARTIAL : LIST_FULL);
        return 0;
    }
    tc_mspan_merge_remote(s);
    uint32_t n = tc_mspan_count(s);
    if (n == 0 && atomic_load(&s->xremoteCount) == 0) {
        /* Keep one emptied span for the next refill: classes with few
         * objects per span empty and refill spans constantly, and each
         * round trip through the heap takes its global lock (measured:
         * the 4-thread mixed workload spent most of its time there). */
        if (!c->spare) {
            c->spare = s;
            return 0;
        }
        c->nspans--;
        return 1;
    }
    if (n < s->nelems) {
        list_push(c, s, LIST_PARTIAL);
        return 0;
    }
    list_push(c, s, LIST_FULL);
    if (remote_bits_set(s)) { /* a freer raced the store */
        list_remove(c, s);
        list_push(c, s, LIST_PARTIAL);
        tc_mspan_merge_remote(s);
    }
    return 0;
}

/* Lock held: the oldest unswept span of c, off its list, or NULL. Oldest
 * first, as Go's spanSets pop: the spans filled longest ago are the likeliest
 * to hold nothing live by now. */
static struct mspan *pop_unswept(struct mcentral *c) {
    unsigned un = !swept_parity();
    struct mspan *s = c->partial[un].last ? c->partial[un].last : c->full[un].last;
    if (s) list_remove(c, s);
    return s;
}

/* Lock held. A collected class's next span: a swept partial one, else
 * unswept spans swept on demand (Go's mcentral.cacheSpan, with its budget
 * of 100) until one has room; full ones go to the full list. NULL: ask
 * the heap. */
static struct mspan *take_collected(struct mcentral *c) {
    unsigned sw = swept_parity();
    struct mspan *s = c->partial[sw].first;
    if (s) {
        list_remove(c, s);
        return s;
    }
    for (unsigned budget = 100; budget && (s = pop_unswept(c)) != NULL; budget--) {
        if (tc_sweep_span(s) != SWEEP_FULL) return s;
        list_push(c, s, LIST_FULL);
    }
    return NULL;
}

struct mspan *tc_mcentral_cache_span(unsigned spc, struct p *pp) {
    struct mcentral *c = &tc_mcentral_[spc];
    central_lock(c);
    struct mspan *s = c->partial[0].first;
    if (tc_spanclass_kind(spc) != SPAN_MANUAL) s = take_collected(c);
    else if (s) list_remove(c, s);
    else if ((s = c->spare) != NULL) c->spare = NULL;
    if (s) {
        s->list = LIST_CACHED;
        atomic_store_explicit(&s->xowner, pp, memory_order_relaxed);
    }
    central_unlock(c);
    if (s) {
        tc_mspan_merge_remote(s);
        tc_mspan_rewind(s);
        return s;
    }
    unsigned sc = tc_spanclass_sizeclass(spc);
    int manual = tc_spanclass_kind(spc) == SPAN_MANUAL;
    s = tc_mheap_alloc(manual ? tc_class_to_npages[sc] : tc_class_to_npages_gc[sc], spc, 1);
    if (!s) return NULL;
    s->sweepgen = manual ? 0 : tc_sweepgen;
    central_lock(c);
    c->nspans++;
    s->list = LIST_CACHED;
    atomic_store_explicit(&s->xowner, pp, memory_order_relaxed);
    central_unlock(c);
    return s;
}

void tc_mcentral_uncache_span(struct mspan *s) {
    struct mcentral *c = &tc_mcentral_[s->spanclass];
    central_lock(c);
    atomic_store_explicit(&s->xowner, NULL, memory_order_relaxed);
    s->list = LIST_NONE;
    int empty = settle(c, s);
    central_unlock(c);
    if (empty) tc_mheap_free(s);
}

void tc_mcentral_reconcile(struct mspan *s, unsigned spc, uint64_t gen) {
    struct mcentral *c = &tc_mcentral_[spc];
    central_lock(c);
    if (__atomic_load_n(&s->gen, __ATOMIC_RELAXED) != gen ||
        (s->list != LIST_PARTIAL && s->list != LIST_FULL)) {
        central_unlock(c); /* reused, cached or in transit */
        return;
    }
    list_remove(c, s);
    int empty = settle(c, s);
    central_unlock(c);
    if (empty) tc_mheap_free(s);
}

void tc_mcentral_add_large(struct mspan *s) {
    struct mcentral *c = &tc_mcentral_[s->spanclass];
    central_lock(c);
    s->sweepgen = tc_sweepgen;
    c->nspans++;
    list_push(c, s, LIST_FULL);
    central_unlock(c);
}

int tc_mcentral_unswept_empty(void) {
    unsigned un = !swept_parity();
    for (unsigned spc = 0; spc < TC_NUM_SPAN_CLASSES; spc++) {
        if (tc_spanclass_kind(spc) == SPAN_MANUAL || spc % 4 == 3) continue;
        struct mcentral *c = &tc_mcentral_[spc];
        if (__atomic_load_n(&c->partial[un].first, __ATOMIC_RELAXED) ||
            __atomic_load_n(&c->full[un].first, __ATOMIC_RELAXED))
            return 0;
    }
    return 1;
}

/* Whether c may hold unswept spans of parity un: a peek without the
 * lock, which the caller takes before it believes the answer. */
static int may_have_unswept(struct mcentral *c, unsigned un) {
    return __atomic_load_n(&c->partial[un].first, __ATOMIC_RELAXED) ||
           __atomic_load_n(&c->full[un].first, __ATOMIC_RELAXED);
}

/* The lock is held only to take a span off its list and to put it back:
 * the sweep itself runs without it, so refills of the class do not wait
 * for it. The span, on no list meanwhile, is the sweeper's alone. An
 * emptied span goes back to the heap at once, as in Go: kept in its class,
 * it would be memory that neither other classes nor the scavenger see. */
uint64_t tc_mcentral_sweep_some(uint64_t budget) {
    uint64_t n = 0;
    for (unsigned spc = 0; spc < TC_NUM_SPAN_CLASSES && n < budget; spc++) {
        if (tc_spanclass_kind(spc) == SPAN_MANUAL || spc % 4 == 3) continue;
        struct mcentral *c = &tc_mcentral_[spc];
        unsigned un = !swept_parity();
        while (n < budget && may_have_unswept(c, un)) {
            central_lock(c);
            struct mspan *s = pop_unswept(c);
            central_unlock(c);
            if (!s) break;
            enum sweep_result r = tc_sweep_span(s);
            central_lock(c);
            if (r == SWEEP_EMPTY) c->nspans--;
            else list_push(c, s, r == SWEEP_FULL ? LIST_FULL : LIST_PARTIAL);
            central_unlock(c);
            if (r == SWEEP_EMPTY) tc_mheap_free(s);
            n++;
        }
    }
    return n;
}

void tc_mcentral_unsweep_cached(struct mspan *s) {
    struct mcentral *c = &tc_mcentral_[s->spanclass];
    tc_lock(&c->lock, LOCKRANK_MCENTRAL);
    atomic_store_explicit(&s->xowner, NULL, memory_order_relaxed);
    s->list = LIST_NONE;
    s->sweepgen = tc_sweepgen - 2;
    list_push(c, s, LIST_PARTIAL);
    tc_unlock(&c->lock, LOCKRANK_MCENTRAL);
}

void tc_mcentral_release_spares(void) {
    for (unsigned spc = 0; spc < TC_NUM_SPAN_CLASSES; spc++) {
        struct mcentral *c = &tc_mcentral_[spc];
        central_lock(c);
        struct mspan *s = c->spare;
        c->spare = NULL;
        if (s) c->nspans--;
        central_unlock(c);
        if (s) tc_mheap_free(s);
    }
}

void tc_mcentral_lock_all(void) {
    tc_lock_all_begin(LOCKRANK_MCENTRAL);
    for (unsigned i = 0; i < TC_NUM_SPAN_CLASSES; i++) tc_lock(&tc_mcentral_[i].lock, LOCKRANK_MCENTRAL);
    tc_lock_all_end(LOCKRANK_MCENTRAL);
}
void tc_mcentral_unlock_all(void) {
    tc_lock_all_begin(LOCKRANK_MCENTRAL);
    for (unsigned i = TC_NUM_SPAN_CLASSES; i-- > 0;) tc_unlock(&tc_mcentral_[i].lock, LOCKRANK_MCENTRAL);
    tc_lock_all_end(LOCKRANK_MCENTRAL);
}
