/* alloc/own.c: the malloc'd spans a P owns, and the free bins' way back.
 *
 * Go's mcache holds one span per class and gives it back to the mcentral
 * when it is full; Go never frees explicitly, so nothing is lost. With
 * free() that rule turns most frees into remote ones: an object whose
 * span went back full is freed with atomic read-modify-writes and an
 * mcentral lock, even by the thread that allocated it. So a P keeps the
 * malloc'd spans it took (mimalloc's pages belong to their heap the same
 * way) until they hold no object or the P is released:
 *
 *   alloc[spc]          the span malloc takes slots from (mcache.h)
 *   own[sc].partial     owned spans with a free slot
 *   own[sc].full        owned spans with none known
 *
 * Every page of an owned span says so (the owner half of its pageinfo), so free() sees
 * without the span struct that the object is its own P's, puts it in the
 * bin, and the bin's overflow goes back to the spans with plain stores
 * (tc_freebin_flush). An owned span that empties stays for reuse while the
 * P has fewer than tc_opts.ownempty empty ones of its class; past that it
 * goes back to the mcentral (and on to the heap).
 *
 * Remote frees. A thread whose P does not own the span sets the slot's
 * remote bit (alloc.c), then tells the owner: it sets the bit of the
 * span's slot in the owner's pending mask (one atomic OR, skipped when the
 * bit is already set: once per span until the owner merges). The owner,
 * when it needs a span, exchanges the mask's words with 0 and merges those
 * spans (one exchange per bitmap word for a whole burst of frees): into
 * its free bin while the bin has room, the rest into allocBits, which
 * moves a span to partial. A P owns at most TC_OWNSLOTS spans with a slot;
 * a free into one without sets overflow, and the owner then looks at
 * every span it owns.
 *
 * Why this is safe without a lock on the freer's side: the freer's remote
 * bit is set before it reads the owner and the slot, and the owner
 * exchanges the mask word before it merges, so either the merge sees the
 * bit or the mask bit is seen at the next merge. A freer that read a span
 * just given up (slot reused, or owner gone) sets a stray bit: the owner
 * merges whatever span holds that slot now, which is harmless, and the
 * span given up had its remote bits merged by its mcentral (settle).
 *
 * Locking. The P lock guards the lists, the slots and every change of
 * ownership (xowner, the owner half of pageinfo) of a P's malloc'd spans.
 * Allocation state of owned spans that are not current changes only under
 * the lock too, which keeps them whole across fork (the P locks are taken
 * first). */
#include "alloc/own.h"

#include "alloc/lockrank.h"
#include "alloc/mcentral.h"
#include "alloc/mheap.h"
#include "alloc/options.h"
#include "alloc/region.h"
#include "alloc/sizeclass.h"

static void plock(struct p *pp) { tc_region_lock(&pp->lock, LOCKRANK_P); }
static void punlock(struct p *pp) { tc_region_unlock(&pp->lock, LOCKRANK_P); }

/* Pages of a span that crosses into the next arena are not marked (their
 * class half is 0 too, mheap.c): the slow path serves those rare spans. */
static void set_page_owner(struct mspan *s, uint16_t id) {
    if (id == 0xffff) id = 0; /* a P without a page id: the slow path serves it */
    if ((s->startAddr ^ (s->startAddr + s->npages * TC_PAGE_SIZE - 1)) >> TC_ARENA_SHIFT) id = 0;
    for (uintptr_t a = s->startAddr; a < s->startAddr + s->npages * TC_PAGE_SIZE; a += TC_PAGE_SIZE)
        tc_pageinfo_set(&tc_arenaof(a)->pageinfo[tc_arena_page(a)], 0xffff0000u, (uint32_t)id << 16);
}

static uint64_t free_bytes(const struct mspan *s) {
    return (uint64_t)(s->nelems - tc_mspan_count(s)) * s->elemsize;
}

static void add_ownfree(struct mcache *c, int64_t d) {
    atomic_store_explicit(&c->ownfree,
                          atomic_load_explicit(&c->ownfree, memory_order_relaxed) + (uint64_t)d,
                          memory_order_relaxed);
}

static struct mspan **own_head(struct mcache *c, const struct mspan *s, unsigned list) {
    struct ownspans *o = &c->own[tc_spanclass_sizeclass(s->spanclass)];
    return list == OWN_PARTIAL ? &o->partial : &o->full;
}

static void own_push(struct mcache *c, struct mspan *s, unsigned list) {
    struct mspan **head = own_head(c, s, list);
    s->ownlist = (uint8_t)list;
    s->prev = NULL;
    s->next = *head;
    if (*head) (*head)->prev = s;
    *head = s;
    add_ownfree(c, (int64_t)free_bytes(s));
    if (list == OWN_PARTIAL && tc_mspan_count(s) == 0)
        c->own[tc_spanclass_sizeclass(s->spanclass)].nempty++;
}

static void own_remove(struct mcache *c, struct mspan *s) {
    struct mspan **head = own_head(c, s, s->ownlist);
    if (s->prev) s->prev->next = s->next;
    else *head = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = s->prev = NULL;
    add_ownfree(c, -(int64_t)free_bytes(s));
    if (s->ownlist == OWN_PARTIAL && tc_mspan_count(s) == 0)
        c->own[tc_spanclass_sizeclass(s->spanclass)].nempty--;
    s->ownlist = OWN_NONE;
}

/* P lock held: give s (just taken from its mcentral) a pending slot. */
static void take_slot(struct p *pp, struct mspan *s) {
    unsigned k = TC_NOSLOT;
    if (pp->slotfree) {
        k = pp->slotfree - 1;
        pp->slotfree = pp->slotnext[k];
    } else if (pp->slotbump < TC_OWNSLOTS) {
        k = pp->slotbump++;
    }
    if (k != TC_NOSLOT) pp->slotspan[k] = s;
    atomic_store_explicit(&s->xownslot, (uint16_t)k, memory_order_relaxed);
}

/* P lock held; s owned by pp, current or on a list. */
static void disown(struct p *pp, struct mspan *s) {
    struct mcache *c = &pp->mcache;
    if (s->ownlist != OWN_NONE) own_remove(c, s);
    else if (c->alloc[s->spanclass] == s) c->alloc[s->spanclass] = &tc_emptyspan;
    unsigned k = atomic_load_explicit(&s->xownslot, memory_order_relaxed);
    if (k != TC_NOSLOT) {
        atomic_store_explicit(&s->xownslot, TC_NOSLOT, memory_order_relaxed);
        pp->slotspan[k] = NULL;
        pp->slotnext[k] = (uint16_t)pp->slotfree;
        pp->slotfree = k + 1;
    }
    set_page_owner(s, 0);
    tc_mcentral_uncache_span(s); /* xowner = NULL, then the right list */
}

/* P lock held. Slots of s (owned, maybe current) were just freed: move it
 * between lists, or give it up when it is one empty span too many. */
static void after_free(struct p *pp, struct mspan *s, uint64_t freed) {
    struct mcache *c = &pp->mcache;
    if (s->ownlist == OWN_NONE) return; /* the current span */
    add_ownfree(c, (int64_t)freed);
    struct ownspans *o = &c->own[tc_spanclass_sizeclass(s->spanclass)];
    if (s->ownlist == OWN_FULL) {
        own_remove(c, s);
        own_push(c, s, OWN_PARTIAL); /* counts it in nempty if empty */
    } else if (tc_mspan_count(s) == 0) {
        o->nempty++;
    }
    if (tc_mspan_count(s) == 0 && o->nempty > (uint32_t)tc_opts.ownempty) disown(pp, s);
}

/* P lock held: k slots of owned span s had their allocation bits cleared
 * by the caller; count them out. The current span's cursor is not behind
 * them only if they lie ahead of it, so its frees go through
 * tc_mspan_free_local instead (flush below); other spans are rewound when
 * they become current again, so their cursors may go stale meanwhile. */
static void commit(struct p *pp, struct mspan *s, uint32_t k) {
    atomic_store_explicit(&s->xallocCount, tc_mspan_count(s) - k, memory_order_relaxed);
    after_free(pp, s, (uint64_t)k * s->elemsize);
}

/* The pending run of tc_freebin_flush: bits pm of in-bin word in (and of
 * the allocation word nw words before it) go back to their span. */
static uint32_t flush_run(_Atomic uint64_t *in, uint64_t pm, unsigned nw) {
    _Atomic uint64_t *w = in - nw;
    TC_ASSERT((tc_bits_load(w) & pm) == pm && (tc_bits_load(in) & pm) == pm);
    tc_bits_store(in, tc_bits_load(in) & ~pm);
    tc_bits_store(w, tc_bits_load(w) & ~pm);
    return (uint32_t)__builtin_popcountll(pm);
}

/* Objects go back to their spans in place: the in-bin word of an entry is
 * nwords after its allocation word (tc_mspan_binbits), so neither the slot
 * index nor the span struct is needed per object, only once per run of
 * objects of one span: an entry inside the address range of the current
 * span or of the last other one needs no lookup (a bin's entries mostly
 * come in runs from a few spans). Entries of the last span that share a
 * bitmap word are gathered into one mask and cleared with one store per
 * word. */
void tc_freebin_flush(struct p *pp, unsigned sc, int all) {
    struct freebin *b = &pp->mcache.free[sc];
    uint32_t n = all ? b->n : (b->n + 1) / 2, k = 0;
    unsigned nw = tc_classinfo[sc].nwords;
    struct mspan *cur = pp->mcache.alloc[tc_spanclass(sc, SPAN_MANUAL)], *last = NULL;
    /* [lo, lo + len) of cur and of last; empty for the empty span */
    uintptr_t curlo = cur->startAddr, curlen = cur->limit - cur->startAddr, lastlo = 0, lastlen = 0;
    _Atomic uint64_t *pin = NULL; /* the pending run's in-bin word */
    uint64_t pm = 0;              /* and its bits; 0: none */
    const struct binent *it = b->items;
    plock(pp);
    for (uint32_t i = 0; i < n; i++) {
        uintptr_t ep = (uintptr_t)it[i].p, wb = it[i].wb;
        _Atomic uint64_t *in = tc_binent_word(wb);
        uint64_t bit = tc_binent_bit(wb);
        if (ep - curlo < curlen) {
            TC_ASSERT(tc_spanof(ep) == cur);
            tc_bits_store(in, tc_bits_load(in) & ~bit); /* out of the bin */
            tc_mspan_free_local(cur, (unsigned)((in - nw - cur->allocBits) * 64 + (wb & 63)));
            continue;
        }
        TC_ASSERT(atomic_load_explicit(&tc_spanof(ep)->xowner, memory_order_relaxed) == pp);
        if (in == pin) { /* a word of the pending run: the same span */
            pm |= bit;
            continue;
        }
        if (pm) k += flush_run(pin, pm, nw);
        if (ep - lastlo >= lastlen) {
            if (last) commit(pp, last, k);
            last = tc_spanof(ep);
            lastlo = last->startAddr;
            lastlen = last->limit - last->startAddr;
            k = 0;
        }
        TC_ASSERT(tc_spanof(ep) == last);
        pin = in;
        pm = bit;
    }
    if (pm) k += flush_run(pin, pm, nw);
    if (last) commit(pp, last, k);
    punlock(pp);
    for (uint32_t i = n; i < b->n; i++) b->items[i - n] = b->items[i];
    b->n -= n;
    tc_stat_add(&b->nout, n);
}

/* P lock held: fold in the remote frees of owned span s. While its
 * class's bin has room they go there, allocated and marked in-bin as an
 * own free leaves them, so the mallocs that follow pop them (a few
 * stores each here, against the span cursor's search and bit updates
 * per object later); the rest are freed in allocBits. The mask words
 * are exchanged first, as tc_mspan_merge_remote does, and a slot
 * already in a bin stays. */
static void merge(struct p *pp, struct mspan *s) {
    unsigned sc = tc_spanclass_sizeclass(s->spanclass);
    struct freebin *b = &pp->mcache.free[sc];
    _Atomic uint64_t *in = tc_mspan_binbits(s);
    uint32_t n = b->n, n0 = n, freed = 0;
    for (unsigned w = 0; w < s->nwords; w++) {
        if (!tc_bits_load(&s->remoteBits[w])) continue;
        uint64_t x = atomic_exchange_explicit(&s->remoteBits[w], 0, memory_order_acquire);
        uint64_t word = tc_bits_load(&s->allocBits[w]), ib = tc_bits_load(&in[w]);
        x &= word & ~ib;
        uint64_t x0 = x;
        uintptr_t wb = (uintptr_t)&in[w] << 6, base = s->startAddr + w * 64 * s->elemsize;
        struct binent *e = b->items + n, *end = b->items + b->cap;
        for (; x && e < end; x &= x - 1, e++) {
            unsigned k = (unsigned)__builtin_ctzll(x);
            *e = (struct binent){(void *)(base + k * s->elemsize), wb | k};
        }
        n = (uint32_t)(e - b->items);
        if (x0 != x) tc_bits_store(&in[w], ib | (x0 & ~x));
        if (x) {
            tc_bits_store(&s->allocBits[w], word & ~x);
            freed += (unsigned)__builtin_popcountll(x);
        }
    }
    b->n = n;
    tc_stat_add(&pp->mcache.binin[sc], n - n0);
    if (n - n0 + freed)
        atomic_fetch_sub_explicit(&s->xremoteCount, (int32_t)(n - n0 + freed), memory_order_relaxed);
    if (freed) {
        atomic_store_explicit(&s->xallocCount, tc_mspan_count(s) - freed, memory_order_relaxed);
        tc_mspan_rewind(s); /* freed slots may lie behind the cursor */
        after_free(pp, s, (uint64_t)freed * s->elemsize);
    }
}

static void merge_list(struct p *pp, struct mspan *s) {
    while (s) {
        struct mspan *next = s->next; /* merge may give s up */
        merge(pp, s);
        s = next;
    }
}

/* P lock held: merge every span remote frees have touched. The mask words
 * are exchanged before the merges (see the essay). */
static void merge_pending(struct p *pp) {
    uint64_t any = atomic_exchange(&pp->pendany, 0);
    while (any) {
        unsigned w = (unsigned)__builtin_ctzll(any);
        any &= any - 1;
        uint64_t m = atomic_exchange(&pp->pendmask[w], 0);
        while (m) {
            struct mspan *s = pp->slotspan[w * 64 + (unsigned)__builtin_ctzll(m)];
            m &= m - 1;
            if (s) merge(pp, s);
        }
    }
    if (!atomic_load_explicit(&pp->overflow, memory_order_relaxed) || !atomic_exchange(&pp->overflow, 0))
        return;
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) {
        struct mspan *cur = pp->mcache.alloc[tc_spanclass(sc, SPAN_MANUAL)];
        if (cur != &tc_emptyspan) merge(pp, cur);
        merge_list(pp, pp->mcache.own[sc].full);
        merge_list(pp, pp->mcache.own[sc].partial);
    }
}

void tc_own_notify_slow(struct p *o, unsigned k) {
    if (k == TC_NOSLOT) {
        if (!atomic_load_explicit(&o->overflow, memory_order_relaxed)) atomic_store(&o->overflow, 1);
        return;
    }
    uint64_t bit = 1ull << (k % 64);
    if (!(atomic_fetch_or(&o->pendmask[k / 64], bit) & ~bit))
        atomic_fetch_or(&o->pendany, 1ull << (k / 64));
}

void *tc_own_refill(struct p *pp, unsigned spc) {
    struct mcache *c = &pp->mcache;
    unsigned sc = tc_spanclass_sizeclass(spc);
    void *v = NULL;
    struct freebin *b = &c->free[sc];
    uint32_t n0 = b->n;
    plock(pp);
    if (atomic_load_explicit(&pp->pendany, memory_order_relaxed) ||
        atomic_load_explicit(&pp->overflow, memory_order_relaxed))
        merge_pending(pp);
    if (b->n > n0) { /* a merge put objects in the bin: hand one out */
        v = tc_freebin_pop(b);
        tc_stat_add(&c->binin[sc], (uint64_t)-1); /* counted by the caller */
        goto out;
    }
    struct mspan *s = c->alloc[spc];
    if (s != &tc_emptyspan) {
        if ((v = tc_span_take(s)) != NULL) goto out; /* a merge gave it room */
        c->alloc[spc] = &tc_emptyspan;
        own_push(c, s, OWN_FULL);
    }
    while ((s = c->own[sc].partial) != NULL) {
        own_remove(c, s);
        tc_mspan_rewind(s);
        if ((v = tc_span_take(s)) != NULL) {
            c->alloc[spc] = s;
            goto out;
        }
        own_push(c, s, OWN_FULL); /* not expected: partial spans have a free slot */
    }
    if ((s = tc_mcentral_cache_span(spc, pp)) != NULL) {
        set_page_owner(s, pp->ownid);
        take_slot(pp, s);
        v = tc_span_take(s);
        c->alloc[spc] = s;
    }
out:
    punlock(pp);
    return v;
}

void tc_own_release_empty(struct p *pp) {
    plock(pp);
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) {
        for (struct mspan *s = pp->mcache.own[sc].partial, *next; s; s = next) {
            next = s->next;
            if (tc_mspan_count(s) == 0) disown(pp, s);
        }
    }
    punlock(pp);
}

void tc_own_release_all(struct p *pp) {
    plock(pp);
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) {
        struct ownspans *o = &pp->mcache.own[sc];
        while (o->partial) disown(pp, o->partial);
        while (o->full) disown(pp, o->full);
        struct mspan *cur = pp->mcache.alloc[tc_spanclass(sc, SPAN_MANUAL)];
        if (cur != &tc_emptyspan) disown(pp, cur);
    }
    atomic_store(&pp->pendany, 0); /* every notice is stale now */
    for (unsigned w = 0; w < TC_OWNSLOTS / 64; w++) atomic_store(&pp->pendmask[w], 0);
    atomic_store(&pp->overflow, 0);
    punlock(pp);
}
