/* alloc/mspan.c: slot search, explicit free and remote-free merging.
 *
 * Go never frees explicitly, so allocation only moves forward: freeindex
 * climbs, and sweeping resets it. tricolor's malloc side frees at any
 * moment, so this file adds two rules on top of Go's scheme (see the
 * invariants in mspan.h):
 *   - a free by the owner clears the slot's allocBit and, if the slot lies
 *     behind the search cursor, moves the cursor back to it, so the very
 *     next allocation of that class reuses the slot (LIFO, cache warm);
 *   - a free by anyone else only sets a bit in remoteBits; the owner folds
 *     those in when its forward search finds nothing, before asking the
 *     mcentral for another span. */
#include "alloc/mspan.h"

#include <string.h>

struct mspan tc_emptyspan;

unsigned tc_mspan_nwords(unsigned spc, uintptr_t npages) {
    unsigned sc = tc_spanclass_sizeclass(spc);
    if (sc == 0) return 1;
    unsigned nelems = (unsigned)(npages * TC_PAGE_SIZE / tc_class_size(sc));
    return (nelems + 63) / 64;
}

void tc_mspan_init(struct mspan *s, unsigned spc, _Atomic uint64_t *alloc,
                   _Atomic uint64_t *aux) {
    unsigned sc = tc_spanclass_sizeclass(spc);
    uintptr_t bytes = s->npages * TC_PAGE_SIZE;
    s->spanclass = (uint16_t)spc;
    if (sc == 0) {
        s->elemsize = bytes;
        s->divMul = 0;
        s->nelems = 1;
    } else {
        s->elemsize = tc_class_size(sc);
        s->divMul = tc_class_to_divmagic[sc];
        s->nelems = (uint16_t)(bytes / s->elemsize);
    }
    s->nwords = (uint16_t)((s->nelems + 63) / 64);
    s->limit = s->startAddr + (uintptr_t)s->nelems * s->elemsize;
    s->allocBits = alloc;
    s->remoteBits = aux; /* or gcmarkBytes: the same address */
    unsigned clear = tc_spanclass_kind(spc) == SPAN_MANUAL ? 2u * s->nwords : s->nwords;
    for (unsigned w = 0; w < clear; w++) tc_bits_store(&alloc[w], 0); /* and in-bin bits */
    for (unsigned w = 0, n = tc_mspan_auxwords(spc, s->nwords); w < n; w++)
        tc_bits_store(&aux[w], 0);
    unsigned tail = s->nelems & 63;
    if (tail) { /* I2: slots past the end look allocated (and I7: binned) */
        tc_bits_store(&alloc[s->nwords - 1], ~0ull << tail);
        if (clear > s->nwords) tc_bits_store(&alloc[2 * s->nwords - 1], ~0ull << tail);
    }
    atomic_store_explicit(&s->xallocCount, 0, memory_order_relaxed);
    atomic_store_explicit(&s->xremoteCount, 0, memory_order_relaxed);
    atomic_store_explicit(&s->xowner, NULL, memory_order_relaxed);
    s->list = LIST_NONE;
    s->ownlist = OWN_NONE;
    atomic_store_explicit(&s->xownslot, TC_NOSLOT, memory_order_relaxed);
    tc_mspan_rewind(s);
}

void tc_mspan_rewind(struct mspan *s) {
    s->cacheword = 0;
    s->freeindex = 0;
    s->allocCache = ~tc_bits_load(&s->allocBits[0]);
}

int tc_mspan_next_window(struct mspan *s) {
    for (unsigned w = s->cacheword + 1u; w < s->nwords; w++) {
        uint64_t free = ~tc_bits_load(&s->allocBits[w]);
        if (free) {
            s->cacheword = (uint16_t)w;
            s->freeindex = (uint16_t)(w * 64);
            s->allocCache = free;
            return 1;
        }
    }
    s->cacheword = (uint16_t)(s->nwords - 1);
    s->freeindex = (uint16_t)(s->nwords * 64);
    s->allocCache = 0;
    return 0;
}

unsigned tc_mspan_merge_remote(struct mspan *s) {
    if (tc_spanclass_kind(s->spanclass) != SPAN_MANUAL) return 0; /* gcmarkBytes */
    unsigned n = 0;
    for (unsigned w = 0; w < s->nwords; w++) {
        if (!tc_bits_load(&s->remoteBits[w])) continue;
        uint64_t x = atomic_exchange_explicit(&s->remoteBits[w], 0, memory_order_acquire);
        uint64_t word = tc_bits_load(&s->allocBits[w]);
        x &= word & ~tc_bits_load(&tc_mspan_binbits(s)[w]); /* a binned slot stays */
        tc_bits_store(&s->allocBits[w], word & ~x);
        n += (unsigned)__builtin_popcountll(x);
    }
    if (n) {
        atomic_store_explicit(&s->xallocCount, tc_mspan_count(s) - n, memory_order_relaxed);
        atomic_fetch_sub_explicit(&s->xremoteCount, (int32_t)n, memory_order_relaxed);
        tc_mspan_rewind(s); /* freed slots may lie behind the cursor */
    }
    return n;
}

/* Allocated slots by the bits: popcount of allocBits below nelems. Returns
 * UINT32_MAX if I2 (padding set) does not hold. */
static uint32_t count_bits(const struct mspan *s) {
    uint32_t count = 0;
    for (unsigned w = 0; w < s->nwords; w++) {
        uint64_t word = tc_bits_load(&s->allocBits[w]);
        unsigned lo = w * 64, valid = s->nelems - lo < 64 ? s->nelems - lo : 64;
        if (valid < 64 && (word >> valid) != ~0ull >> valid) return UINT32_MAX; /* I2 */
        uint64_t mask = valid < 64 ? (1ull << valid) - 1 : ~0ull;
        count += (unsigned)__builtin_popcountll(word & mask);
    }
    return count;
}

void tc_mspan_repair(struct mspan *s) {
    atomic_store_explicit(&s->xallocCount, count_bits(s), memory_order_relaxed);
    tc_mspan_rewind(s);
}

int tc_mspan_verify(const struct mspan *s) {
    uint32_t count = count_bits(s);
    if (count == UINT32_MAX || count != tc_mspan_count(s)) return 0; /* I2, I1 */
    for (unsigned i = 0; i < s->freeindex && i < s->nelems; i++) /* I3 */
        if (!(tc_bits_load(&s->allocBits[i >> 6]) >> (i & 63) & 1)) return 0;
    if (tc_spanclass_kind(s->spanclass) == SPAN_MANUAL && tc_spanclass_sizeclass(s->spanclass))
        for (unsigned w = 0; w < s->nwords; w++) { /* I6, I7 */
            uint64_t in = tc_bits_load(&tc_mspan_binbits(s)[w]);
            unsigned lo = w * 64, valid = s->nelems - lo < 64 ? s->nelems - lo : 64;
            if (in & ~tc_bits_load(&s->allocBits[w])) return 0;
            if (valid < 64 && (in >> valid) != ~0ull >> valid) return 0;
        }
    unsigned base = s->cacheword * 64u;
    if (s->freeindex < base || s->freeindex > base + 64) return 0; /* I4 */
    if (s->freeindex == base + 64) return s->allocCache == 0;
    uint64_t want = ~tc_bits_load(&s->allocBits[s->cacheword]) >> (s->freeindex - base);
    return s->allocCache == want; /* I5 */
}
