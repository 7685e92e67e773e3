/* gc/sweep.c: turning marks into alloc bits.
 *
 * Go's bitmap sweep: no free list is built. A span's marks (a byte per
 * slot, packed into words here) become its allocation bits (a slot is
 * allocated after the sweep iff it was marked), its mark bytes are
 * cleared for the next cycle, and its search cursor goes
 * back to slot 0. A span with no mark left goes back to the heap; a large
 * object's span is one slot and follows the same rule.
 *
 * When. At mark termination (world stopped) the sweep generation h moves
 * on by 2, which by itself turns every listed collected span into an
 * unswept one (mcentral lists are indexed by sweep parity), and the spans
 * the Ps cached join them: the stop costs O(Ps), not O(heap). Spans are
 * then swept concurrently by the collector thread (tc_sweep_some) and by
 * allocation, lazily (the mcentral sweeps the span it is about to hand
 * out). A sweeper owns the span it sweeps by having taken it off its
 * list under the class's mcentral lock (Go's h-2 -> h-1 -> h CAS). Every
 * span is swept before the next cycle starts: the collector thread, which
 * starts it, sweeps what is left first.
 *
 * Finalizers: before the bits are swapped, an unmarked object with a
 * finalizer is queued and marked, so it survives this sweep (Go revives it
 * for one more cycle). */
#include "alloc/base.h"
#include "alloc/mcache.h"
#include "alloc/mcentral.h"
#include "alloc/mspan.h"
#include "alloc/region.h"
#include "alloc/sizeclass.h"
#include "gc/finalizer.h"
#include "gc/hooks.h"
#include "gc/sweep.h"

uint32_t tc_sweepgen = 2;
static _Atomic uint64_t freed;    /* objects freed, all cycles */
static _Atomic uint64_t freed_bytes; /* their slot bytes */

enum sweep_result tc_sweep_span(struct mspan *s) {
    TC_ASSERT(s->sweepgen == tc_sweepgen - 2);
    s->sweepgen = tc_sweepgen - 1;
    if (__atomic_load_n(&s->hasfinal, __ATOMIC_RELAXED)) tc_finalizers_sweep(s);
    uint32_t before = tc_mspan_count(s), live = 0;
    for (unsigned w = 0; w < s->nwords; w++) {
        unsigned valid = s->nelems - w * 64 < 64 ? s->nelems - w * 64 : 64;
        uint64_t mask = valid < 64 ? (1ull << valid) - 1 : ~0ull;
        uint64_t m = tc_mspan_mark_word(s, w) & mask;
        live += (unsigned)__builtin_popcountll(m);
        tc_bits_store(&s->allocBits[w], m | ~mask); /* I2: padding stays set */
    }
    memset((void *)s->gcmarkBytes, 0, (size_t)s->nwords * 64);
    atomic_store_explicit(&s->xallocCount, live, memory_order_relaxed);
    tc_mspan_rewind(s);
    s->needzero = 1;
    s->sweepgen = tc_sweepgen;
    uint64_t nfreed = before > live ? before - live : 0;
    atomic_fetch_add_explicit(&freed, nfreed, memory_order_relaxed);
    atomic_fetch_add_explicit(&freed_bytes, nfreed * s->elemsize, memory_order_relaxed);
    TC_ASSERT_INTERNAL(tc_mspan_verify(s));
    return live == 0 ? SWEEP_EMPTY : live < s->nelems ? SWEEP_PARTIAL : SWEEP_FULL;
}

int tc_sweep_done(void) { return tc_mcentral_unswept_empty(); }
uint64_t tc_sweep_freed(void) { return atomic_load(&freed); }
uint64_t tc_sweep_freed_bytes(void) { return atomic_load(&freed_bytes); }

void tc_sweep_begin_stopped(void) {
    tc_sweepgen += 2;
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink) {
        struct mcache *c = &pp->mcache;
        for (unsigned sc = 0; sc < TC_NUM_SIZE_CLASSES; sc++) {
            for (unsigned k = SPAN_SCAN; k <= SPAN_NOSCAN; k++) {
                unsigned spc = tc_spanclass(sc, (enum span_kind)k);
                struct mspan *s = c->alloc[spc];
                if (s == &tc_emptyspan) continue;
                c->alloc[spc] = &tc_emptyspan;
                tc_mcentral_unsweep_cached(s);
            }
        }
        c->tiny = c->tinyoffset = 0;
    }
}

/* Sweep in the background (gc/sweep.h). */
uint64_t tc_sweep_some(uint64_t budget) {
    tc_region_begin();
    uint64_t n = tc_mcentral_sweep_some(budget);
    tc_region_end();
    return n;
}
