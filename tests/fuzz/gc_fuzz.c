/* tests/fuzz/gc_fuzz.c: libFuzzer target: random programs on the
 * collected heap, checked for lost objects.
 *
 * Each input is decoded (fuzz_input.h) into a program over sixteen
 * registers (a local array: stack roots), sixteen globals (data roots,
 * written with gc_store), a malloc'd range that gc_add_roots makes a root
 * and gc_remove_roots unmakes, and uncollectable objects. Its operations:
 * allocate (scan, noscan, uncollectable), store and load slots, copy with
 * gc_memmove, clear with gc_memclr, sort with gc_qsort, set finalizers,
 * gc_free, create and join threads that return objects, gc_collect, a
 * background thread collecting back to back, and full checks. HOLD
 * stops a cycle in the middle of marking, through the collector's test
 * hook, with the roots marked and no stack scanned yet or with every
 * stack scanned, and the program's next operations run in that window
 * (where a missing barrier loses an object) until RELEASE.
 *
 * The oracle. Every reference is a pair {pointer, id of the object it
 * must reach} (struct slot), so the program carries its own shadow model
 * of what is alive: the id of each reachable object. An object's id
 * encodes a serial number, its kind and its size, and its bytes after the
 * header are a pattern derived from the id, so one word says what a
 * pointer must find. A freed and reused slot holds another id or a broken
 * pattern. CHECK walks everything reachable from the roots and checks
 * every object; the collector's checkmark (GODEBUG=gccheckmark=1, set by
 * LLVMFuzzerInitialize) aborts when a cycle leaves a reachable object
 * unmarked. A finalizer checks its object, what the object references,
 * and its arg (a collected object the finalizer table alone keeps), then
 * writes a tombstone into the object: a program that later reaches a
 * finalized object finds it.
 *
 * Only the main thread writes slots; worker threads read their start
 * argument's header and pattern only (which nobody writes), and the
 * finalizer thread reads objects that are unreachable. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <tricolor.h>

#include "fuzz_input.h"
#include "gc/cycle.h" /* tc_gc_testhook: the library is linked in whole */

enum kind { K_SCAN, K_NOSCAN, K_UNC, K_ARG, K_EXIT };
/* id: serial << 27 | kind << 24 | size. Bit 63: finalized (tombstone). */
#define ID(serial, kind, size) ((uint64_t)(serial) << 27 | (uint64_t)(kind) << 24 | (uint64_t)(size))
#define ID_KIND(id) ((unsigned)((id) >> 24) & 7u)
#define ID_SIZE(id) ((size_t)((id) & 0xffffffu))
#define TOMB (1ULL << 63)

struct slot {
    void *p;
    uint64_t id; /* 0: p is NULL */
};
struct fobj { /* scan kinds; a noscan object has only the id word */
    uint64_t id;
    uint64_t nslots;
    struct slot slot[];
};

#define NREG 16
#define MAXTHREADS 4
#define MAXUNC 8
#define MAXOBJS 4000
#define MAXBYTES ((size_t)64 << 20)
#define WALK_MAX (1 << 14) /* reachable objects: MAXOBJS and what workers make */

static struct slot globals[NREG];
static atomic_ullong serial = 1, n_final, n_checked;

static int scan_kind(uint64_t id) {
    unsigned k = ID_KIND(id);
    return k == K_SCAN || k == K_UNC || k == K_EXIT;
}

/* Where the pattern starts; 0 when the header is inconsistent. */
static size_t pattern_start(const void *p, uint64_t id) {
    size_t size = ID_SIZE(id);
    if (ID_KIND(id) == K_NOSCAN) return 8;
    if (ID_KIND(id) == K_ARG) return 16;
    uint64_t n = ((const struct fobj *)p)->nslots;
    return n <= (size - 16) / 16 ? 16 + 16 * n : 0;
}

/* p must be the intact object `id`; deep: its slots' pairs agree too. */
static void check_obj(const void *p, uint64_t id, const char *where, int deep) {
    if (!p || (uintptr_t)p % 8) FUZZ_FAIL("%s: bad pointer %p for id %#llx", where, p,
                                          (unsigned long long)id);
    uint64_t have = *(const uint64_t *)p;
    if (have != id)
        FUZZ_FAIL("%s: %p should hold object %#llx, holds %#llx%s", where, p,
                  (unsigned long long)id, (unsigned long long)have,
                  have == (id | TOMB) ? " (finalized while reachable)" : " (freed and reused?)");
    size_t from = pattern_start(p, id), size = ID_SIZE(id);
    if (!from) FUZZ_FAIL("%s: object %#llx at %p: slot count broken", where,
                         (unsigned long long)id, p);
    size_t bad = fin_check(p, from, size, id);
    if (bad != size)
        FUZZ_FAIL("%s: object %#llx at %p: byte %zu of %zu overwritten", where,
                  (unsigned long long)id, p, bad, size);
    atomic_fetch_add_explicit(&n_checked, 1, memory_order_relaxed);
    if (!deep || !scan_kind(id)) return;
    const struct fobj *o = p;
    for (uint64_t i = 0; i < o->nslots; i++)
        if ((o->slot[i].p == NULL) != (o->slot[i].id == 0))
            FUZZ_FAIL("%s: object %#llx slot %llu: pointer %p with id %#llx", where,
                      (unsigned long long)id, (unsigned long long)i, o->slot[i].p,
                      (unsigned long long)o->slot[i].id);
}

static struct fobj *new_obj(enum kind k, unsigned nslots, size_t size) {
    size_t min = scan_kind(ID(0, k, 0)) ? 16 + 16 * (size_t)nslots : k == K_ARG ? 16 : 8;
    if (size < min) size = min;
    uint64_t id = ID(atomic_fetch_add(&serial, 1), k, size);
    unsigned char *p = k == K_NOSCAN || k == K_ARG ? gc_alloc_noscan(size)
                       : k == K_UNC                ? gc_alloc_uncollectable(size)
                                                   : gc_alloc(size);
    if (!p) FUZZ_FAIL("allocation of %zu bytes failed", size);
    for (size_t i = 0; i < size; i++)
        if (p[i]) FUZZ_FAIL("new object %p of %zu bytes: byte %zu not zero", (void *)p, size, i);
    *(uint64_t *)p = id;
    if (scan_kind(id)) ((struct fobj *)p)->nslots = nslots;
    fin_fill(p, pattern_start(p, id), size, id);
    return (struct fobj *)p;
}

static struct slot ref(struct fobj *o) { return (struct slot){o, o ? o->id : 0}; }

static void on_final(void *obj, void *arg) {
    const uint64_t *a = arg;
    if (!a || ID_KIND(a[0]) != K_ARG)
        FUZZ_FAIL("finalizer of %p: arg %p is not its arg object (freed before it ran?)", obj, arg);
    check_obj(a, a[0], "finalizer arg", 0);
    check_obj(obj, a[1], "finalized object", 1);
    if (scan_kind(a[1])) {
        const struct fobj *o = obj;
        for (uint64_t i = 0; i < o->nslots; i++)
            if (o->slot[i].id && o->slot[i].p != obj)
                check_obj(o->slot[i].p, o->slot[i].id, "object a finalized object references", 0);
    }
    *(uint64_t *)obj = a[1] | TOMB;
    atomic_fetch_add(&n_final, 1);
}

/* A worker: builds a chain, may collect, returns (or pthread_exit's) an
 * object whose slot 0 is its start argument. */
static void *worker(void *arg) {
    uint64_t sid = arg ? *(uint64_t *)arg : 0;
    unsigned n = 1 + (unsigned)(fin_mix(sid) % 8);
    struct fobj *head = NULL;
    for (unsigned i = 0; i < n; i++) {
        struct fobj *o = new_obj(K_SCAN, 2, 64);
        gc_store(&o->slot[0].p, head);
        o->slot[0].id = head ? head->id : 0;
        struct fobj *leaf = new_obj(K_NOSCAN, 0, 8 + i * 5);
        gc_store(&o->slot[1].p, leaf);
        o->slot[1].id = leaf->id;
        head = o;
    }
    if (sid % 3 == 0) gc_collect();
    struct fobj *x = new_obj(K_EXIT, 2, 48);
    gc_store(&x->slot[0].p, arg);
    x->slot[0].id = sid;
    gc_store(&x->slot[1].p, head);
    x->slot[1].id = head->id;
    if (sid & 1) pthread_exit(x);
    return x;
}

static pthread_t bg_thread;
static atomic_int bg_run;
static void *bg_collect(void *unused) {
    (void)unused;
    while (atomic_load(&bg_run)) {
        gc_collect();
        usleep(50);
    }
    return NULL;
}

/* ---- a cycle held in the middle of marking ---- */

static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static enum tc_gc_point hold_point;
static int hold_state; /* 0 idle, 1 armed, 2 holding, 3 released; hold_mu */
static pthread_t hold_thread;

static void hold_hook(enum tc_gc_point pt) { /* on the collector's thread */
    pthread_mutex_lock(&hold_mu);
    if (hold_state == 1 && pt == hold_point) {
        hold_state = 2;
        atomic_store(&tc_gc_testhook_holding, 1); /* our allocations must not wait for us */
        pthread_cond_broadcast(&hold_cv);
        while (hold_state == 2) pthread_cond_wait(&hold_cv, &hold_mu);
        atomic_store(&tc_gc_testhook_holding, 0);
    }
    pthread_mutex_unlock(&hold_mu);
}

static void *hold_collect(void *unused) {
    (void)unused;
    gc_collect();
    return NULL;
}

/* Return once a cycle waits at pt. */
static void hold(enum tc_gc_point pt) {
    if (hold_state) return;
    hold_point = pt, hold_state = 1;
    tc_gc_testhook = hold_hook;
    if (pthread_create(&hold_thread, NULL, hold_collect, NULL) != 0)
        FUZZ_FAIL("pthread_create failed");
    pthread_mutex_lock(&hold_mu);
    while (hold_state == 1) pthread_cond_wait(&hold_cv, &hold_mu);
    pthread_mutex_unlock(&hold_mu);
}

/* Let the held cycle finish (before anything that waits for a cycle). */
static void release(void) {
    if (!hold_state) return;
    pthread_mutex_lock(&hold_mu);
    hold_state = 3;
    pthread_cond_broadcast(&hold_cv);
    pthread_mutex_unlock(&hold_mu);
    pthread_join(hold_thread, NULL);
    tc_gc_testhook = NULL;
    hold_state = 0;
}

/* ---- the program's state ---- */

struct thr {
    pthread_t t;
    uint64_t sid; /* id of the start argument */
    int live;
};
struct prog {
    struct slot *regs;  /* on run()'s stack */
    struct slot *range; /* malloc'd; a root while range_on */
    int range_on;
    struct slot unc[MAXUNC]; /* malloc'd with prog: hidden, they are roots themselves */
    int nunc;
    struct thr thr[MAXTHREADS];
    size_t nobjs, bytes;
    struct slot *walk; /* malloc'd work list and visited set */
    uintptr_t *seen;
    size_t seen_cap;
};

/* An array of slots named by a selector: registers, globals, the range,
 * or the slots of the scanned object in a register. */
static struct slot *slots_of(struct prog *pg, unsigned sel, size_t *n) {
    *n = NREG;
    if (sel == 0) return pg->regs;
    if (sel == 1) return globals;
    if (sel == 2) return pg->range_on ? pg->range : NULL;
    struct slot *r = &pg->regs[(sel - 3) % NREG];
    if (!r->id || !scan_kind(r->id)) return NULL;
    struct fobj *o = r->p;
    *n = o->nslots;
    return o->nslots ? o->slot : NULL;
}

static void set_slot(struct slot *dst, struct slot v) {
    gc_store(&dst->p, v.p);
    dst->id = v.id;
}

static int seen_add(struct prog *pg, uintptr_t p) {
    size_t mask = pg->seen_cap - 1, h = (size_t)(fin_mix(p) & mask);
    while (pg->seen[h]) {
        if (pg->seen[h] == p) return 0;
        h = (h + 1) & mask;
    }
    pg->seen[h] = p;
    return 1;
}

/* Queue s for the walk unless its object was queued before (then only
 * its id is compared). */
static void push(struct prog *pg, size_t *top, struct slot s, const char *when) {
    if (!s.id) return;
    if (!seen_add(pg, (uintptr_t)s.p)) {
        if (*(const uint64_t *)s.p != s.id) check_obj(s.p, s.id, when, 0); /* reports */
        return;
    }
    if (*top >= WALK_MAX) FUZZ_FAIL("%s: more than %d objects reachable", when, WALK_MAX);
    pg->walk[(*top)++] = s;
}

/* Check every object reachable from the roots. */
static void check_all(struct prog *pg, const char *when) {
    memset(pg->seen, 0, pg->seen_cap * sizeof *pg->seen);
    size_t top = 0;
    for (unsigned sel = 0; sel < 3; sel++) {
        size_t n;
        struct slot *s = slots_of(pg, sel, &n);
        for (size_t i = 0; s && i < n; i++) push(pg, &top, s[i], when);
    }
    for (int i = 0; i < pg->nunc; i++) push(pg, &top, pg->unc[i], when);
    while (top) {
        struct slot s = pg->walk[--top];
        check_obj(s.p, s.id, when, 1);
        if (!scan_kind(s.id)) continue;
        struct fobj *o = s.p;
        for (uint64_t i = 0; i < o->nslots; i++) push(pg, &top, o->slot[i], when);
    }
}

static void join_thread(struct prog *pg, int i, struct slot *out) {
    void *v = NULL;
    if (pthread_join(pg->thr[i].t, &v) != 0) FUZZ_FAIL("pthread_join failed");
    pg->thr[i].live = 0;
    struct fobj *x = v;
    if (!x || ID_KIND(x->id) != K_EXIT)
        FUZZ_FAIL("joined value %p is not the thread's exit object (freed before the join?)", v);
    check_obj(x, x->id, "exit value", 1);
    if (x->slot[0].id != pg->thr[i].sid)
        FUZZ_FAIL("exit value %p: start argument id %#llx, expected %#llx", v,
                  (unsigned long long)x->slot[0].id, (unsigned long long)pg->thr[i].sid);
    if (x->slot[0].id) check_obj(x->slot[0].p, x->slot[0].id, "thread start argument", 1);
    if (out) *out = ref(x);
}

static void range_toggle(struct prog *pg) {
    if (pg->range_on) {
        gc_remove_roots(pg->range, pg->range + NREG);
        free(pg->range); /* no longer a root: what only it held may go */
        pg->range = NULL;
        pg->range_on = 0;
        return;
    }
    /* Filled while the registers still hold the same objects, rooted
     * after: a cycle that scanned the roots before must shade them. */
    pg->range = malloc(NREG * sizeof *pg->range);
    if (!pg->range) FUZZ_FAIL("malloc failed");
    memcpy(pg->range, pg->regs, NREG * sizeof *pg->range);
    gc_add_roots(pg->range, pg->range + NREG);
    pg->range_on = 1;
}

static int cmp_slot(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const struct slot *)a)->p, y = (uintptr_t)((const struct slot *)b)->p;
    return x < y ? -1 : x > y;
}

static size_t alloc_size(struct fuzz_in *in) {
    unsigned c = fin_byte(in);
    if (c < 200) return c;                           /* small, tiny included */
    if (c < 250) return 256 + 97 * (size_t)(c - 200); /* medium */
    if (c < 254) return (size_t)32 << 10 << (c - 250); /* large: 32 KiB .. 256 KiB */
    return (size_t)1 << 20;
}

enum op {
    OP_ALLOC, OP_ALLOC_NOSCAN, OP_ALLOC_UNC, OP_STORE, OP_LOAD, OP_COPY, OP_DROP,
    OP_GSTORE, OP_GLOAD, OP_RANGE, OP_RSTORE, OP_RLOAD, OP_MEMMOVE, OP_MEMCLR, OP_QSORT,
    OP_FINAL, OP_GCFREE, OP_THREAD, OP_JOIN, OP_COLLECT, OP_BG, OP_CHECK, OP_CHURN,
    OP_PERCENT, OP_HOLD, OP_RELEASE, NOPS
};

static void step(struct prog *pg, struct fuzz_in *in) {
    struct slot *regs = pg->regs;
    unsigned op = fin_below(in, NOPS), a = fin_below(in, NREG);
    int full = pg->nobjs >= MAXOBJS || pg->bytes >= MAXBYTES;
    switch (op) {
    case OP_ALLOC:
    case OP_ALLOC_UNC: {
        unsigned ns = fin_below(in, 8);
        size_t sz = alloc_size(in);
        if (full || (op == OP_ALLOC_UNC && pg->nunc == MAXUNC)) break;
        struct fobj *o = new_obj(op == OP_ALLOC ? K_SCAN : K_UNC, ns, sz);
        regs[a] = ref(o);
        if (op == OP_ALLOC_UNC) pg->unc[pg->nunc++] = regs[a];
        pg->nobjs++, pg->bytes += sz;
        break;
    }
    case OP_ALLOC_NOSCAN: {
        size_t sz = alloc_size(in);
        if (full) break;
        regs[a] = ref(new_obj(K_NOSCAN, 0, sz));
        pg->nobjs++, pg->bytes += sz;
        break;
    }
    case OP_STORE:
    case OP_LOAD: {
        unsigned b = fin_below(in, NREG), k = fin_byte(in);
        size_t n;
        struct slot *s = slots_of(pg, 3 + b, &n);
        if (!s) break;
        if (op == OP_STORE) set_slot(&s[k % n], regs[a]);
        else regs[a] = s[k % n];
        break;
    }
    case OP_COPY: regs[a] = regs[fin_below(in, NREG)]; break;
    case OP_DROP: regs[a] = (struct slot){0, 0}; break;
    case OP_GSTORE: set_slot(&globals[fin_below(in, NREG)], regs[a]); break;
    case OP_GLOAD: regs[a] = globals[fin_below(in, NREG)]; break;
    case OP_RANGE: range_toggle(pg); break;
    case OP_RSTORE:
    case OP_RLOAD: {
        unsigned i = fin_below(in, NREG);
        if (!pg->range_on) break;
        if (op == OP_RSTORE) set_slot(&pg->range[i], regs[a]);
        else regs[a] = pg->range[i];
        break;
    }
    case OP_MEMMOVE: {
        unsigned ssel = fin_below(in, 3 + NREG), dsel = fin_below(in, 3 + NREG);
        unsigned so = fin_byte(in), dof = fin_byte(in), cnt = fin_byte(in);
        size_t sn, dn;
        struct slot *s = slots_of(pg, ssel, &sn), *d = slots_of(pg, dsel, &dn);
        if (!s || !d) break;
        so %= sn, dof %= dn;
        size_t c = cnt % 17;
        if (c > sn - so) c = sn - so;
        if (c > dn - dof) c = dn - dof;
        if (a & 1) gc_memmove(d + dof, s + so, c * sizeof *s);
        else if (d + dof + c <= s + so || s + so + c <= d + dof) gc_memcpy(d + dof, s + so, c * sizeof *s);
        break;
    }
    case OP_MEMCLR: {
        unsigned sel = fin_below(in, 3 + NREG), off = fin_byte(in), cnt = fin_byte(in);
        size_t n;
        struct slot *s = slots_of(pg, sel, &n);
        if (!s) break;
        off %= n;
        size_t c = cnt % (n - off + 1);
        gc_memclr(s + off, c * sizeof *s);
        break;
    }
    case OP_QSORT: {
        size_t n;
        struct slot *s = slots_of(pg, fin_below(in, 3 + NREG), &n);
        if (s) gc_qsort(s, n, sizeof *s, cmp_slot);
        break;
    }
    case OP_FINAL: {
        unsigned mode = fin_byte(in);
        struct slot r = regs[a];
        unsigned k = ID_KIND(r.id);
        if (!r.id || k == K_UNC || k == K_ARG || ID_SIZE(r.id) < 16) break;
        if (mode % 4 == 0) {
            gc_set_finalizer(r.p, NULL, NULL);
            break;
        }
        uint64_t *arg = (uint64_t *)new_obj(K_ARG, 0, 16 + mode % 64);
        arg[1] = r.id; /* not part of the pattern, which starts at 16 */
        gc_set_finalizer(r.p, on_final, arg);
        arg = NULL;
        break;
    }
    case OP_GCFREE:
        if (pg->nunc) {
            int i = (int)(a % (unsigned)pg->nunc);
            check_obj(pg->unc[i].p, pg->unc[i].id, "gc_free", 1);
            gc_free(pg->unc[i].p);
            pg->unc[i] = pg->unc[--pg->nunc];
        }
        break;
    case OP_THREAD:
        for (int i = 0; i < MAXTHREADS; i++)
            if (!pg->thr[i].live) {
                pg->thr[i].sid = regs[a].id;
                if (pthread_create(&pg->thr[i].t, NULL, worker, regs[a].p) != 0)
                    FUZZ_FAIL("pthread_create failed");
                pg->thr[i].live = 1;
                pg->nobjs += 17; /* what the worker makes */
                break;
            }
        break;
    case OP_JOIN: {
        int i = (int)fin_below(in, MAXTHREADS);
        if (!pg->thr[i].live) break;
        release(); /* the thread may be waiting for a cycle */
        join_thread(pg, i, &regs[a]);
        break;
    }
    case OP_COLLECT:
        release();
        gc_collect();
        break;
    case OP_BG:
        if (atomic_load(&bg_run)) {
            release();
            atomic_store(&bg_run, 0);
            pthread_join(bg_thread, NULL);
        } else {
            atomic_store(&bg_run, 1);
            if (pthread_create(&bg_thread, NULL, bg_collect, NULL) != 0)
                FUZZ_FAIL("pthread_create failed");
        }
        break;
    case OP_CHECK: check_all(pg, "check"); break;
    case OP_CHURN:
        for (unsigned i = 0; i < 4 * a && !full; i++) {
            void *p = gc_alloc(16 + 8 * i);
            if (p) memset(p, 0xA5, 16 + 8 * i);
        }
        break;
    case OP_PERCENT: {
        static const int pct[4] = {1, 5, 20, 100};
        gc_setpercent(pct[a % 4]);
        break;
    }
    case OP_HOLD: hold(a & 1 ? TC_GC_POINT_STACKS : TC_GC_POINT_ROOTS); break;
    case OP_RELEASE: release(); break;
    }
}

static __attribute__((noinline)) void run(const uint8_t *data, size_t size) {
    struct slot regs[NREG];
    memset(regs, 0, sizeof regs);
    struct prog *pg = calloc(1, sizeof *pg);
    if (!pg) FUZZ_FAIL("calloc failed");
    pg->regs = regs;
    pg->seen_cap = 4 * WALK_MAX;
    pg->seen = malloc(pg->seen_cap * sizeof *pg->seen);
    pg->walk = malloc(WALK_MAX * sizeof *pg->walk);
    if (!pg->seen || !pg->walk) FUZZ_FAIL("malloc failed");
    gc_setpercent(5);
    struct fuzz_in in = {data, size};
    while (fin_more(&in)) step(pg, &in);
    release();
    for (int i = 0; i < MAXTHREADS; i++)
        if (pg->thr[i].live) join_thread(pg, i, NULL);
    if (atomic_load(&bg_run)) {
        atomic_store(&bg_run, 0);
        pthread_join(bg_thread, NULL);
    }
    check_all(pg, "final check");
    /* Leave nothing rooted for the next input. */
    gc_memclr(globals, sizeof globals);
    if (pg->range_on) range_toggle(pg);
    for (int i = 0; i < pg->nunc; i++) gc_free(pg->unc[i].p);
    free(pg->seen);
    free(pg->walk);
    free(pg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The checkmark is read when the library starts: without it in the
 * environment, start again with it. */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    const char *g = getenv("GODEBUG");
    if (!g || !strstr(g, "gccheckmark=1")) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s%sgccheckmark=1", g ? g : "", g && *g ? "," : "");
        setenv("GODEBUG", buf, 1);
        execv("/proc/self/exe", *argv);
        FUZZ_FAIL("cannot re-execute with GODEBUG=%s", buf);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    run(data, size);
    return 0;
}
