/* gc/roots.c: the roots that are not thread stacks.
 *
 * Globals: the writable PT_LOAD segments (data, bss) of the program and of
 * every loaded shared object, scanned inside dl_iterate_phdr while the
 * world runs (so objects dlopen'ed later are included, and none is
 * unmapped under the scan); the checkmark, which runs with the world
 * stopped and must not take the loader lock (a stopped thread may hold
 * it), reads a list made at the start of the cycle, unless a dlclose
 * may have unmapped part of it since.
 * libtricolor's own data is left out when it is a shared object: it holds
 * no roots by design (registered ranges and finalizers are walked
 * explicitly), and words like the heap bounds would pin objects. Linked
 * statically it is part of the program's data; then at least the arena
 * index (32 MiB of pointers to metadata) is cut out.
 *
 * Registered ranges: gc_add_roots, and every uncollectable object (its
 * own range, so the object stays marked and its contents scanned). A range
 * added while marking is scanned at once (gc_add_roots).
 *
 * TLS: gc/tls.c.
 *
 * All scanning is conservative, through tc_scan_range. The roots lock is
 * only taken inside gc regions (it is taken during the checkmark stop). */
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc/lockrank.h"
#include "alloc/mheap.h"
#include "alloc/os.h"
#include "alloc/region.h"
#include "gc/finalizer.h"
#include "gc/mark.h"
#include "gc/phase.h"
#include "gc/roots.h"
#include "gc/stacks.h"
#include "gc/stw.h"
#include "gc/threads.h"
#include "gc/tls.h"
#include "gc/interpose.h"
#include "include/tricolor.h"

struct range {
    uintptr_t lo, hi;
};

struct rangevec {
    struct range *v;
    size_t n, cap;
};

static pthread_mutex_t roots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rangevec roots;   /* roots lock */
static struct rangevec globals; /* collector thread only */

static void vec_push(struct rangevec *r, uintptr_t lo, uintptr_t hi) {
    tc_os_vec_room((void **)&r->v, &r->cap, r->n, sizeof *r->v, 256, "the root table");
    r->v[r->n++] = (struct range){lo, hi};
}

void tc_roots_lock(void) { tc_lock(&roots_lock, LOCKRANK_ROOTS); }
void tc_roots_unlock(void) { tc_unlock(&roots_lock, LOCKRANK_ROOTS); }

/* ---- globals ---- */

/* Each writable segment of every loaded object but ours, cut around the
 * arena index when the library is part of the program. */
struct segment_walk {
    void *self_base;
    void (*fn)(uintptr_t lo, uintptr_t hi);
};

static void each_cut(void (*fn)(uintptr_t, uintptr_t), uintptr_t lo, uintptr_t hi) {
    uintptr_t xlo = (uintptr_t)tc_arenas_, xhi = xlo + sizeof tc_arenas_;
    if (hi <= xlo || lo >= xhi) {
        fn(lo, hi);
        return;
    }
    if (lo < xlo) fn(lo, xlo);
    if (hi > xhi) fn(xhi, hi);
}

static int global_segments(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    struct segment_walk *w = arg;
    if (info->dlpi_name && info->dlpi_name[0] && (void *)info->dlpi_addr == w->self_base)
        return 0; /* libtricolor.so itself */
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && ph->p_memsz)
            each_cut(w->fn, info->dlpi_addr + ph->p_vaddr, info->dlpi_addr + ph->p_vaddr + ph->p_memsz);
    }
    return 0;
}

static void walk_globals(void (*fn)(uintptr_t lo, uintptr_t hi)) {
    Dl_info self;
    struct segment_walk w = {dladdr((void *)&tc_heap_lo, &self) ? self.dli_fbase : NULL, fn};
    dl_iterate_phdr(global_segments, &w);
}

/* dlclose, counted: the checkmark, which runs while the world is stopped
 * and so cannot take the loader's lock, reads the list made at the start
 * of the cycle only if no dlclose was under way then or began since. */
static _Atomic uint64_t dlcloses_begun, dlcloses_done;
static uint64_t globals_begun; /* dlcloses_begun when the list was made, or ~0 */

static int (*real_dlclose)(void *);
__attribute__((visibility("default"))) int dlclose(void *h) {
    if (!RESOLVE(dlclose)) return -1;
    atomic_fetch_add(&dlcloses_begun, 1);
    int r = real_dlclose(h);
    atomic_fetch_add(&dlcloses_done, 1);
    return r;
}

static void add_global(uintptr_t lo, uintptr_t hi) { vec_push(&globals, lo, hi); }

void tc_roots_refresh_globals(void) {
    uint64_t done = atomic_load(&dlcloses_done), begun = atomic_load(&dlcloses_begun);
    globals.n = 0;
    walk_globals(add_global);
    globals_begun = begun == done ? begun : ~(uint64_t)0;
    tc_tls_refresh();
}

/* ---- marking ---- */

void tc_roots_each(void (*scan)(uintptr_t lo, uintptr_t hi), void (*object)(uintptr_t p)) {
    if (globals_begun == atomic_load(&dlcloses_begun))
        for (size_t i = 0; i < globals.n; i++) scan(globals.v[i].lo, globals.v[i].hi);
    for (size_t i = 0; i < roots.n; i++) {
        object(roots.v[i].lo); /* an uncollectable object stays allocated */
        scan(roots.v[i].lo, roots.v[i].hi);
    }
}

/* The globals are scanned inside dl_iterate_phdr, under the loader's
 * lock: dlclose takes an object off the list under that lock and unmaps
 * it only afterwards, so nothing listed is unmapped under the scan. */
void tc_roots_mark(void) {
    walk_globals(tc_scan_range);
    tc_region_begin();
    tc_roots_lock();
    for (size_t i = 0; i < roots.n; i++) {
        tc_shade(roots.v[i].lo);
        tc_scan_range(roots.v[i].lo, roots.v[i].hi);
    }
    tc_user_stacks_each(tc_scan_range);
    tc_roots_unlock();
    tc_region_end();
    tc_finalizers_mark();
    tc_registry_lock(); /* outside regions: the collector's thread */
    tc_exit_values_each(tc_scan_range);
    tc_registry_unlock();
}

/* ---- the API ---- */

/* A range added while marking may hold the only copy of a pointer that
 * was on a stack not scanned yet (pthread_create's argument): its words
 * are shaded now, in the caller's region, so the cycle cannot end before.
 * The region also keeps the phase still: a range added with the phase
 * still off is seen by the root scan that follows the handshake. Removing
 * a range needs no shading: every root was scanned before any stack. */
TRICOLOR_API void gc_add_roots(void *lo, void *hi) {
    if ((uintptr_t)hi <= (uintptr_t)lo) return;
    tc_region_enter();
    int marking = atomic_load_explicit(&tc_gcphase, memory_order_relaxed) != GC_OFF;
    tc_roots_lock();
    vec_push(&roots, (uintptr_t)lo, (uintptr_t)hi);
    tc_roots_unlock();
    if (marking) tc_scan_range((uintptr_t)lo, (uintptr_t)hi);
    tc_region_end();
}

static int remove_where(int (*match)(const struct range *, uintptr_t, uintptr_t), uintptr_t lo,
                        uintptr_t hi) {
    int found = 0;
    tc_region_begin();
    tc_roots_lock();
    for (size_t i = roots.n; i-- > 0;) {
        if (match(&roots.v[i], lo, hi)) {
            roots.v[i] = roots.v[--roots.n];
            found = 1;
            break;
        }
    }
    tc_roots_unlock();
    tc_region_end();
    return found;
}

static int same_range(const struct range *r, uintptr_t lo, uintptr_t hi) {
    return r->lo == lo && r->hi == hi;
}

static int starts_at(const struct range *r, uintptr_t lo, uintptr_t hi) {
    (void)hi;
    return r->lo == lo;
}

TRICOLOR_API void gc_remove_roots(void *lo, void *hi) {
    remove_where(same_range, (uintptr_t)lo, (uintptr_t)hi);
}

int tc_roots_remove_object(uintptr_t p) { return remove_where(starts_at, p, 0); }
