/* alloc/mstats.c: per-size-class statistics, printed without malloc.
 *
 * gc_stats_print() and GODEBUG=mstats=1 (at exit) write the same table to
 * stderr: per size class of malloc'd objects, the live objects and bytes,
 * the spans holding them and how full those are, mallocs, frees and the
 * frees made by a thread other than the span's owner; then large objects,
 * the collected heap's totals and what the heap holds from the OS. Every
 * line is formatted into a stack buffer and written with write(2)
 * (alloc/report.h), so it may run from a destructor at exit, when stdio
 * may be gone, and never allocates. Counters are summed over Ps with
 * relaxed loads (gc_read_stats' rule): exact once threads are quiet. */
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "alloc/mcentral.h"
#include "alloc/mstats.h"
#include "alloc/options.h"
#include "alloc/report.h"
#include "include/tricolor.h"

TC_INTERNAL uint64_t tc_alloc_nofree_p(unsigned sc, uint64_t *large_bytes);

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

void tc_mstats_read(struct tc_classstats *cs) {
    memset(cs, 0, sizeof(struct tc_classstats) * TC_NUM_SIZE_CLASSES);
    uint64_t large_freed = 0;
    for (unsigned sc = 0; sc < TC_NUM_SIZE_CLASSES; sc++) {
        cs[sc].nfree = tc_alloc_nofree_p(sc, &large_freed);
        if (sc) cs[sc].nremote = cs[sc].nfree; /* a thread without a P frees remotely */
    }
    cs[0].bytes = 0;
    for (struct p *pp = tc_p_all(); pp; pp = pp->alllink) {
        for (unsigned sc = 0; sc < TC_NUM_SIZE_CLASSES; sc++) {
            struct freebin *b = &pp->mcache.free[sc];
            cs[sc].nmalloc += LOAD(pp->stats.nmalloc[sc]) + (sc ? tc_freebin_pops(&pp->mcache, sc) : 0);
            cs[sc].nfree += LOAD(pp->stats.nfree[sc]) + (sc ? LOAD(b->npush) : 0);
            cs[sc].nremote += LOAD(pp->stats.nremote[sc]);
        }
        cs[0].bytes += LOAD(pp->stats.largeBytesMalloc) - LOAD(pp->stats.largeBytesFree);
    }
    cs[0].bytes -= large_freed;
    for (unsigned sc = 0; sc < TC_NUM_SIZE_CLASSES; sc++) {
        cs[sc].live = cs[sc].nmalloc > cs[sc].nfree ? cs[sc].nmalloc - cs[sc].nfree : 0;
        if (sc) cs[sc].bytes = cs[sc].live * tc_class_size(sc);
        uint64_t spans = __atomic_load_n(&tc_mcentral_[tc_spanclass(sc, SPAN_MANUAL)].nspans,
                                         __ATOMIC_RELAXED);
        cs[sc].spans = sc ? spans : 0;
        cs[sc].spanbytes = sc ? spans * tc_class_to_npages[sc] * TC_PAGE_SIZE : 0;
    }
}

/* n as a whole number with a unit: bytes, KiB, MiB or GiB. */
static const char *human(char *buf, size_t cap, uint64_t n) {
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB"};
    unsigned u = 0;
    while (n >= 10240 && u < 3) n >>= 10, u++;
    tc_format(buf, cap, "%zu %s", (size_t)n, unit[u]);
    return buf;
}

void tc_mstats_print(int fd) {
    tc_ensure_init();
    struct tc_classstats cs[TC_NUM_SIZE_CLASSES];
    tc_mstats_read(cs);
    tc_fprint(fd, "tricolor: malloc'd objects by size class "
                  "(live objects | live bytes | spans | span bytes | used%% | mallocs | frees | "
                  "remote frees)");
    uint64_t tot_live = 0, tot_bytes = 0, tot_spans = 0, tot_sb = 0, tot_m = 0, tot_f = 0,
             tot_r = 0;
    for (unsigned sc = 1; sc < TC_NUM_SIZE_CLASSES; sc++) {
        struct tc_classstats *c = &cs[sc];
        if (!c->nmalloc && !c->spans) continue;
        unsigned used = c->spanbytes ? (unsigned)(100 * c->bytes / c->spanbytes) : 0;
        tc_fprint(fd, "  class %u (%zu B): %zu | %zu | %zu | %zu | %u%% | %zu | %zu | %zu", sc,
                  (size_t)tc_class_size(sc), (size_t)c->live, (size_t)c->bytes,
                  (size_t)c->spans, (size_t)c->spanbytes, used, (size_t)c->nmalloc,
                  (size_t)c->nfree, (size_t)c->nremote);
        tot_live += c->live, tot_bytes += c->bytes, tot_spans += c->spans;
        tot_sb += c->spanbytes, tot_m += c->nmalloc, tot_f += c->nfree, tot_r += c->nremote;
    }
    tc_fprint(fd, "  small: %zu | %zu | %zu | %zu | %u%% | %zu | %zu | %zu", (size_t)tot_live,
              (size_t)tot_bytes, (size_t)tot_spans, (size_t)tot_sb,
              tot_sb ? (unsigned)(100 * tot_bytes / tot_sb) : 0u, (size_t)tot_m, (size_t)tot_f,
              (size_t)tot_r);
    tc_fprint(fd, "  large (> 32 KiB, a span each): %zu objects, %zu bytes; %zu mallocs, %zu frees",
              (size_t)cs[0].live, (size_t)cs[0].bytes, (size_t)cs[0].nmalloc, (size_t)cs[0].nfree);
    struct gc_stats st = GC_STATS_INIT;
    gc_read_stats(&st);
    char a[32], b[32], c[32], d[32], e[32];
    tc_fprint(fd, "  collected heap: %zu live bytes (estimate), %u cycles, next at %s",
              (size_t)st.gc_heap_live, st.gc_num, human(a, sizeof a, st.gc_next));
    tc_fprint(fd, "  OS: heap mapped %s, in use %s, free %s (%s released), metadata %s",
              human(a, sizeof a, st.heap_sys), human(b, sizeof b, st.heap_inuse),
              human(c, sizeof c, st.heap_free), human(d, sizeof d, st.heap_released),
              human(e, sizeof e, st.metadata_sys));
    tc_fprint(fd, "  threads' caches: %s free in bins and owned spans; %u Ps (%u idle)",
              human(a, sizeof a, st.thread_cache_bytes), st.nprocs, st.nprocs_idle);
}

TRICOLOR_API void gc_stats_print(void) { tc_mstats_print(2); }

/* GODEBUG=mstats=1: the table once more as the process ends. A destructor
 * (not atexit, which may allocate) runs at exit and at dlclose. */
__attribute__((destructor)) static void mstats_at_exit(void) {
    if (atomic_load_explicit(&tc_inited, memory_order_acquire) && tc_opts.mstats)
        tc_mstats_print(2);
}
