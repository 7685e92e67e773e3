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

#include "alloc/mheap.h"

struct mcentral tc_mcentral_[TC_NUM_SPAN_CLASSES];

void tc_mcentral_init(void) {
    for (unsigned i = 0; i < TC_NUM_SPAN_CLASSES; i++)
        pthread_mutex_init(&tc_mcentral_[i].lock, NULL);
}

static struct mspan **list_head(struct mcentral *c, unsigned list) {
    return list == LIST_PARTIAL ? &c->partial : &c->full;
}

static void list_push(struct mcentral *c, struct mspan *s, unsigned list) {
    struct mspan **head = list_head(c, list);
    __atomic_store_n(&s->list, (uint8_t)list, __ATOMIC_SEQ_CST);
    s->prev = NULL;
    s->next = *head;
    if (*head) (*head)->prev = s;
    *head = s;
}

static void list_remove(struct mcentral *c, struct mspan *s) {
    struct mspan **head = list_head(c, s->list);
    if (s->prev) s->prev->next = s->next;
    else *head = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
    __atomic_store_n(&s->list, LIST_NONE, __ATOMIC_SEQ_CST);
}

/* Lock held, span uncached and on no list. Put it on the right list, or
 * return 1 if it should go back to the heap.
 *
 * A span goes on the full list only if no remote free is pending after the
 * list is published. The store of `list` and the load of xremoteCount are
 * seq_cst, as are the freer's increment and its load of `list`: either we
 * see its count and choose partial, or it sees "full" and reconciles. */
static int settle(struct mcentral *c, struct mspan *s) {
    tc_mspan_merge_remote(s);
    uint32_t n = tc_mspan_count(s);
    if (n == 0 && atomic_load(&s->xremoteCount) == 0) {
        c->nspans--;
        return 1;
    }
    if (n < s->nelems || atomic_load(&s->xremoteCount) > 0) {
        list_push(c, s, LIST_PARTIAL);
        return 0;
    }
    list_push(c, s, LIST_FULL);
    if (atomic_load(&s->xremoteCount) > 0) { /* a freer raced the store */
        list_remove(c, s);
        list_push(c, s, LIST_PARTIAL);
    }
    return 0;
}

struct mspan *tc_mcentral_cache_span(unsigned spc, struct p *pp) {
    struct mcentral *c = &tc_mcentral_[spc];
    pthread_mutex_lock(&c->lock);
    struct mspan *s = c->partial;
    if (s) {
        list_remove(c, s);
        s->list = LIST_CACHED;
        atomic_store_explicit(&s->xowner, pp, memory_order_relaxed);
    }
    pthread_mutex_unlock(&c->lock);
    if (s) {
        tc_mspan_merge_remote(s);
        tc_mspan_rewind(s);
        return s;
    }
    unsigned sc = tc_spanclass_sizeclass(spc);
    s = tc_mheap_alloc(tc_class_to_npages[sc], spc, 1);
    if (!s) return NULL;
    pthread_mutex_lock(&c->lock);
    c->nspans++;
    s->list = LIST_CACHED;
    atomic_store_explicit(&s->xowner, pp, memory_order_relaxed);
    pthread_mutex_unlock(&c->lock);
    return s;
}

void tc_mcentral_uncache_span(struct mspan *s) {
    struct mcentral *c = &tc_mcentral_[s->spanclass];
    pthread_mutex_lock(&c->lock);
    atomic_store_explicit(&s->xowner, NULL, memory_order_relaxed);
    s->list = LIST_NONE;
    int empty = settle(c, s);
    pthread_mutex_unlock(&c->lock);
    if (empty) tc_mheap_free(s);
}

void tc_mcentral_reconcile(struct mspan *s, unsigned spc, uint64_t gen) {
    struct mcentral *c = &tc_mcentral_[spc];
    pthread_mutex_lock(&c->lock);
    if (__atomic_load_n(&s->gen, __ATOMIC_RELAXED) != gen ||
        (s->list != LIST_PARTIAL && s->list != LIST_FULL)) {
        pthread_mutex_unlock(&c->lock); /* reused, cached or in transit */
        return;
    }
    list_remove(c, s);
    int empty = settle(c, s);
    pthread_mutex_unlock(&c->lock);
    if (empty) tc_mheap_free(s);
}

void tc_mcentral_lock_all(void) {
    for (unsigned i = 0; i < TC_NUM_SPAN_CLASSES; i++) pthread_mutex_lock(&tc_mcentral_[i].lock);
}
void tc_mcentral_unlock_all(void) {
    for (unsigned i = TC_NUM_SPAN_CLASSES; i-- > 0;) pthread_mutex_unlock(&tc_mcentral_[i].lock);
}
void tc_mcentral_reinit_locks(void) { tc_mcentral_init(); }
