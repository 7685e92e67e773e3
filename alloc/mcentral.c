/* alloc/mcentral.c: see mcentral.h.
 *
 * Spans move between lists only under the class lock, and a span's
 * `list` field always says where it is, so a remote freer arriving late
 * (after the span was cached, or even freed and reused: the generation
 * check) can tell whether there is anything left for it to do. A span is
 * given back to the heap only when it holds no object and no remote free
 * is in flight (xremoteCount == 0 after the merge), so a freer that has
 * counted itself in but not yet set its bit never writes into a span that
 * changed hands. */
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
static struct mspan **list_head(struct mcentral *c, const struct mspan *s, unsigned list) {
    unsigned par = (s->sweepgen >> 1) & 1;
    return list == LIST_PARTIAL ? &c->partial[par] : &c->full[par];
}

static unsigned swept_parity(void) { return (tc_sweepgen >> 1) & 1; }

static int collected(const struct mspan *s) {
    return tc_spanclass_kind(s->spanclass) != SPAN_MANUAL;
}

static void list_push(struct mcentral *c, struct mspan *s, unsigned list) {
    struct mspan **head = list_head(c, s, list);
    __atomic_store_n(&s->list, (uint8_t)list, __ATOMIC_SEQ_CST);
    s->prev = NULL;
    s->next = *head;
    if (*head) (*head)->prev = s;
    __atomic_store_n(head, s, __ATOMIC_RELAXED); /* peeked without the lock */
}

static void list_remove(struct mcentral *c, struct mspan *s) {
    struct mspan **head = list_head(c, s, s->list);
    if (s->prev) s->prev->next = s->next;
    else __atomic_store_n(head, s->next, __ATOMIC_RELAXED);
    if (s->next) s->next->prev = s->prev;
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

/* Lock held. A collected class's next span: a swept partial one, else
 * unswept spans swept on demand (Go's mcentral.cacheSpan) until one has
 * room; full ones go to the full list. */
static struct mspan *take_collected(struct mcentral *c) {
    unsigned sw = swept_parity();
    struct mspan *s;
    while ((s = c->partial[sw]) == NULL &&
           ((s = c->partial[!sw]) != NULL || (s = c->full[!sw]) != NULL)) {
        list_remove(c, s);
        if (tc_sweep_span(s) != SWEEP_FULL) return s;
        list_push(c, s, LIST_FULL);
    }
    if (s) list_remove(c, s);
    return s;
}

struct mspan *tc_mcentral_cache_span(unsigned spc, struct p *pp) {
    struct mcentral *c = &tc_mcentral_[spc];
    central_lock(c);
    struct mspan *s = c->partial[0];
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
    s = tc_mheap_alloc(tc_class_to_npages[sc], spc, 1);
    if (!s) return NULL;
    s->sweepgen = tc_spanclass_kind(spc) == SPAN_MANUAL ? 0 : tc_sweepgen;
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
        if (__atomic_load_n(&c->partial[un], __ATOMIC_RELAXED) ||
            __atomic_load_n(&c->full[un], __ATOMIC_RELAXED))
            return 0;
    }
    return 1;
}

/* Lock held: an unswept span of c, off its list, or NULL. */
static struct mspan *pop_unswept(struct mcentral *c) {
    unsigned un = !swept_parity();
    struct mspan *s = c->partial[un] ? c->partial[un] : c->full[un];
    if (s) list_remove(c, s);
    return s;
}

/* Whether c may hold unswept spans of parity un: a peek without the
 * lock, which the caller takes before it believes the answer. */
static int may_have_unswept(struct mcentral *c, unsigned un) {
    return __atomic_load_n(&c->partial[un], __ATOMIC_RELAXED) ||
           __atomic_load_n(&c->full[un], __ATOMIC_RELAXED);
}

uint64_t tc_mcentral_sweep_some(uint64_t budget) {
    uint64_t n = 0;
    for (unsigned spc = 0; spc < TC_NUM_SPAN_CLASSES && n < budget; spc++) {
        if (tc_spanclass_kind(spc) == SPAN_MANUAL || spc % 4 == 3) continue;
        struct mcentral *c = &tc_mcentral_[spc];
        unsigned un = !swept_parity();
        while (n < budget && may_have_unswept(c, un)) {
            central_lock(c);
            struct mspan *s = pop_unswept(c), *dead = NULL;
            if (s) {
                enum sweep_result r = tc_sweep_span(s);
                if (r == SWEEP_EMPTY) {
                    c->nspans--;
                    dead = s;
                } else {
                    list_push(c, s, r == SWEEP_FULL ? LIST_FULL : LIST_PARTIAL);
                }
                n++;
            }
            central_unlock(c);
            if (dead) tc_mheap_free(dead);
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
