/* escape/escape.c: Go's escape analysis (cmd/compile/internal/escape,
 * Go 1.19) over the IR.
 *
 * 1. Functions are split into strongly connected components of the call
 *    graph (Tarjan) and analysed callees first, one component ("batch")
 *    at a time, as ir.VisitFuncsBottomUp does. A call into a function
 *    already analysed uses that function's per-parameter tags; a call
 *    inside the batch is wired straight into the graph (argument -> the
 *    callee's parameter, the callee's result -> the call's destination);
 *    a call to a function the file does not define sends every argument
 *    to the heap.
 * 2. Every name, result and `new`/`make` site of the batch is a location;
 *    the heap is location 0. Each statement adds edges dst <- src with a
 *    dereference count: `p = &x` -1, `p = q` and `p = q + N` 0,
 *    `p = *q` +1; `*p = v` sends v to the heap (a store through a pointer
 *    is a store to the heap, as in Go); `return v` feeds result i;
 *    reading a global feeds nothing and writing one feeds the heap.
 * 3. Sites that must be on the heap whatever the data flow (a var over
 *    10 MiB, a new over 64 KiB, every make) get an address flow to the
 *    heap, which marks them escaping at once.
 * 4. walkAll/walkOne (solve.go): from every location as root, a
 *    Bellman-Ford walk over incoming edges finds the minimal derefs from
 *    each location to the root (clamped at 0 past an address). A location
 *    whose address reaches a root that outlives it escapes; a parameter
 *    whose value reaches such a root leaks there (to result i of its own
 *    function when the root is that result, else to the heap). A root is
 *    re-walked when it starts to escape, so the work is linear in the
 *    number of locations times the graph size.
 * 5. outlives(l, o): l escapes; or l is a result (callers are unknown);
 *    or both are in one function and l.hold_depth < o.def_depth -- Go's
 *    loop-depth rule, with the two depths explained in liveness.c.
 * 6. Tags: each parameter's leaks, minus result flows no shorter than the
 *    heap flow (Go's Optimize), become the summary later batches use. */
#include "escape.h"

#include <stdlib.h>
#include <string.h>

enum loc_kind { LOC_HEAP, LOC_NAME, LOC_RESULT, LOC_SITE, LOC_TEMP };

struct edge {
    int src;
    int derefs; /* >= -1 */
};

struct loc {
    enum loc_kind kind;
    int func;                 /* function index (-1 for the heap) */
    int def_depth, hold_depth;
    int result_index;         /* LOC_RESULT: 1-based, as Go's resultIndex */
    int is_param;
    struct edge *edges;
    int nedges, cap_edges;
    /* walk state */
    uint32_t walkgen;
    int derefs;
    int queued;
    int escapes;
    struct tc_escape_leaks leaks;
};

struct hole {
    int dst;    /* location, or -1 to discard */
    int derefs;
};

struct batch {
    const struct tc_ir_prog *prog;
    struct tc_escape_result *res;
    const uint8_t *tagged;       /* per function: tags are final */
    const int *batch_of;         /* per function: batch number */
    int batch_id;
    struct loc *locs;
    int nlocs, cap_locs;
    int *name_base, *result_base, *site_base; /* per function */
    int failed;
};

#define HEAP 0

static int new_loc(struct batch *b, enum loc_kind kind, int func, int depth)
{
    if (b->nlocs == b->cap_locs) {
        int ncap = b->cap_locs ? b->cap_locs * 2 : 64;
        struct loc *l = realloc(b->locs, (size_t)ncap * sizeof *l);
        if (!l) { b->failed = 1; return HEAP; }
        b->locs = l;
        b->cap_locs = ncap;
    }
    struct loc *l = &b->locs[b->nlocs];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->func = func;
    l->def_depth = l->hold_depth = depth;
    return b->nlocs++;
}

static struct hole hole_at(int dst, int derefs) { return (struct hole){dst, derefs}; }
static struct hole shift(struct hole k, int delta) { k.derefs += delta; return k; }

static void flow(struct batch *b, struct hole k, int src)
{
    if (k.dst < 0) return;
    if (k.dst == src && k.derefs >= 0) return; /* x = x, x = *x */
    struct loc *dst = &b->locs[k.dst];
    if (dst->escapes && k.derefs < 0) { /* dst = &src with dst on the heap */
        b->locs[src].escapes = 1;
        return;
    }
    if (dst->nedges == dst->cap_edges) {
        int ncap = dst->cap_edges ? dst->cap_edges * 2 : 4;
        struct edge *e = realloc(dst->edges, (size_t)ncap * sizeof *e);
        if (!e) { b->failed = 1; return; }
        dst->edges = e;
        dst->cap_edges = ncap;
    }
    dst->edges[dst->nedges++] = (struct edge){src, k.derefs};
}

static int name_loc(struct batch *b, int func, int ref) { return b->name_base[func] + ref; }

/* Where an assignment to ref goes: the heap for a global. */
static struct hole dst_hole(struct batch *b, int func, int ref)
{
    return tc_ir_is_global(ref) ? hole_at(HEAP, 0) : hole_at(name_loc(b, func, ref), 0);
}

/* Evaluate a name into k. Globals feed nothing (Go: ONAME of PEXTERN). */
static void expr(struct batch *b, struct hole k, int func, int ref)
{
    if (!tc_ir_is_global(ref)) flow(b, k, name_loc(b, func, ref));
}

/* Go's teeHole: one value into several holes through a temporary. */
static struct hole tee(struct batch *b, struct hole *ks, int n, int func, int depth)
{
    if (n == 0) return hole_at(-1, 0);
    if (n == 1) return ks[0];
    int t = new_loc(b, LOC_TEMP, func, depth);
    for (int i = 0; i < n; i++) flow(b, ks[i], t);
    return hole_at(t, 0);
}

static void build_call(struct batch *b, int func, const struct tc_ir_stmt *s)
{
    struct hole ks[TC_IR_NUM_ESC_RESULTS + 1];
    int callee = s->callee;
    if (callee < 0) { /* unknown code: every argument escapes */
        for (int i = 0; i < s->nargs; i++) expr(b, hole_at(HEAP, 0), func, s->args[i]);
        return;
    }
    const struct tc_ir_func *cf = &b->prog->funcs[callee];
    if (b->batch_of[callee] == b->batch_id && !b->tagged[callee]) {
        for (int i = 0; i < s->nouts; i++)
            flow(b, dst_hole(b, func, s->outs[i]), b->result_base[callee] + i);
        for (int i = 0; i < s->nargs; i++)
            expr(b, hole_at(name_loc(b, callee, i), 0), func, s->args[i]);
        return;
    }
    for (int i = 0; i < s->nargs; i++) {
        const struct tc_escape_leaks *tag = &b->res->funcs[callee].params[i];
        int n = 0;
        int x = tc_escape_leak_heap(tag);
        if (x >= 0) ks[n++] = hole_at(HEAP, x);
        for (int r = 0; s->nouts && r < TC_IR_NUM_ESC_RESULTS && r < cf->nresults; r++) {
            x = tc_escape_leak_result(tag, r);
            if (x >= 0) ks[n++] = shift(dst_hole(b, func, s->outs[r]), x);
        }
        expr(b, tee(b, ks, n, func, s->depth), func, s->args[i]);
    }
}

static void build_block(struct batch *b, int func, const struct tc_ir_block *blk)
{
    for (int i = 0; i < blk->n && !b->failed; i++) {
        const struct tc_ir_stmt *s = &blk->stmts[i];
        switch (s->op) {
        case TC_IR_VAR: case TC_IR_NIL: case TC_IR_PRINT:
            break;
        case TC_IR_NEW: case TC_IR_MAKE:
            flow(b, shift(dst_hole(b, func, s->dst), -1), b->site_base[func] + s->site);
            break;
        case TC_IR_ADDR:
            flow(b, shift(dst_hole(b, func, s->dst), -1), name_loc(b, func, s->src));
            break;
        case TC_IR_COPY: case TC_IR_FIELD:
            expr(b, dst_hole(b, func, s->dst), func, s->src);
            break;
        case TC_IR_LOAD:
            expr(b, shift(dst_hole(b, func, s->dst), 1), func, s->src);
            break;
        case TC_IR_STORE: /* *p = v: v goes to the heap; p is only read */
            expr(b, hole_at(HEAP, 0), func, s->src);
            break;
        case TC_IR_CALL:
            build_call(b, func, s);
            break;
        case TC_IR_RETURN:
            for (int r = 0; r < s->nargs; r++)
                expr(b, hole_at(b->result_base[func] + r, 0), func, s->args[r]);
            break;
        case TC_IR_LOOP: case TC_IR_IF:
            build_block(b, func, &s->body);
            build_block(b, func, &s->els);
            break;
        }
    }
}

/* ---- the solver (solve.go) ------------------------------------------- */

static int outlives(const struct batch *b, int li, int oi)
{
    const struct loc *l = &b->locs[li], *o = &b->locs[oi];
    if (l->escapes) return 1;
    if (l->kind == LOC_RESULT) return 1;
    return l->func == o->func && l->hold_depth < o->def_depth;
}

static void leak_add(struct tc_escape_leaks *lk, int slot, int derefs)
{
    int v = derefs + 1 > 255 ? 255 : derefs + 1;
    if (lk->slot[slot] == 0 || v < lk->slot[slot]) lk->slot[slot] = (uint8_t)v;
}

static void leak_to(struct batch *b, int li, int sink, int derefs)
{
    struct loc *l = &b->locs[li], *s = &b->locs[sink];
    if (!s->escapes && s->kind == LOC_RESULT && s->func == l->func &&
        s->result_index - 1 < TC_IR_NUM_ESC_RESULTS) {
        leak_add(&l->leaks, s->result_index, derefs);
        return;
    }
    leak_add(&l->leaks, 0, derefs);
}

struct queue {
    int *items;
    int n, cap;
};

static int push_q(struct batch *b, struct queue *q, int v)
{
    if (q->n == q->cap) {
        int ncap = q->cap ? q->cap * 2 : 64;
        int *it = realloc(q->items, (size_t)ncap * sizeof *it);
        if (!it) { b->failed = 1; return -1; }
        q->items = it;
        q->cap = ncap;
    }
    q->items[q->n++] = v;
    return 0;
}

static void enqueue(struct batch *b, struct queue *todo, int li)
{
    if (!b->locs[li].queued && push_q(b, todo, li) == 0) b->locs[li].queued = 1;
}

static void walk_one(struct batch *b, int root, uint32_t walkgen, struct queue *todo, struct queue *work)
{
    b->locs[root].walkgen = walkgen;
    b->locs[root].derefs = 0;
    work->n = 0;
    if (push_q(b, work, root)) return;
    while (work->n > 0 && !b->failed) {
        int li = work->items[--work->n];
        struct loc *l = &b->locs[li];
        int derefs = l->derefs;
        int address_of = derefs < 0;
        if (address_of) derefs = 0; /* root = &l; l = x: x's value, not address */
        if (outlives(b, root, li)) {
            if (l->is_param) leak_to(b, li, root, derefs);
            if (address_of && !l->escapes) {
                l->escapes = 1;
                enqueue(b, todo, li);
                continue;
            }
        }
        for (int i = 0; i < l->nedges; i++) {
            struct edge e = b->locs[li].edges[i];
            struct loc *src = &b->locs[e.src];
            if (src->escapes) continue;
            int d = derefs + e.derefs;
            if (src->walkgen != walkgen || src->derefs > d) {
                src->walkgen = walkgen;
                src->derefs = d;
                if (push_q(b, work, e.src)) return;
            }
        }
    }
}

static void walk_all(struct batch *b)
{
    struct queue todo = {0}, work = {0};
    for (int i = 1; i < b->nlocs; i++) enqueue(b, &todo, i);
    enqueue(b, &todo, HEAP);
    uint32_t walkgen = 0;
    while (todo.n > 0 && !b->failed) {
        int root = todo.items[--todo.n];
        b->locs[root].queued = 0;
        walk_one(b, root, ++walkgen, &todo, &work);
    }
    free(todo.items);
    free(work.items);
}

/* ---- batches ----------------------------------------------------------- */

/* Analyse the functions members[0..n) as one batch. */
static int run_batch(struct batch *b, const int *members, int n)
{
    const struct tc_ir_prog *p = b->prog;
    b->nlocs = 0;
    new_loc(b, LOC_HEAP, -1, 0);
    if (b->failed) return -1;
    b->locs[HEAP].escapes = 1;
    for (int m = 0; m < n; m++) {
        int fi = members[m];
        const struct tc_ir_func *f = &p->funcs[fi];
        b->name_base[fi] = b->nlocs;
        for (int i = 0; i < f->nnames; i++) {
            const struct tc_ir_name *nm = &f->names[i];
            int li = new_loc(b, LOC_NAME, fi, nm->def_depth);
            b->locs[li].hold_depth = nm->hold_depth;
            b->locs[li].is_param = nm->kind == TC_IR_PARAM;
        }
        b->result_base[fi] = b->nlocs;
        for (int r = 0; r < f->nresults; r++) {
            int li = new_loc(b, LOC_RESULT, fi, 1);
            b->locs[li].result_index = r + 1;
        }
        b->site_base[fi] = b->nlocs;
        /* One location per site so that site_base + s indexes any site; a
         * var's own location is its name's, its site slot stays unused. */
        for (int s = 0; s < f->nsites; s++) new_loc(b, LOC_SITE, fi, f->sites[s].depth);
    }
    if (b->failed) return -1;
    for (int m = 0; m < n; m++) build_block(b, members[m], &p->funcs[members[m]].body);

    /* HeapAllocReason: sites too big (or too dynamic) for any stack. */
    for (int m = 0; m < n; m++) {
        int fi = members[m];
        const struct tc_ir_func *f = &p->funcs[fi];
        for (int s = 0; s < f->nsites; s++) {
            const struct tc_ir_site *st = &f->sites[s];
            int forced = st->op == TC_IR_MAKE ||
                         (st->op == TC_IR_VAR && st->size > TC_IR_MAX_STACK_VAR) ||
                         (st->op == TC_IR_NEW && st->size > TC_IR_MAX_IMPLICIT_STACK);
            int li = st->op == TC_IR_VAR ? name_loc(b, fi, st->name) : b->site_base[fi] + s;
            if (forced) flow(b, hole_at(HEAP, -1), li);
        }
    }
    if (b->failed) return -1;
    walk_all(b);
    if (b->failed) return -1;

    for (int m = 0; m < n; m++) {
        int fi = members[m];
        const struct tc_ir_func *f = &p->funcs[fi];
        struct tc_escape_func_result *fr = &b->res->funcs[fi];
        for (int s = 0; s < f->nsites; s++) {
            const struct tc_ir_site *st = &f->sites[s];
            int li = st->op == TC_IR_VAR ? name_loc(b, fi, st->name) : b->site_base[fi] + s;
            fr->site_heap[s] = (uint8_t)b->locs[li].escapes;
        }
        for (int i = 0; i < f->nparams; i++) {
            struct tc_escape_leaks lk = b->locs[name_loc(b, fi, i)].leaks;
            int heap = tc_escape_leak_heap(&lk);
            if (heap >= 0) /* Optimize: drop result flows no shorter than the heap's */
                for (int r = 0; r < TC_IR_NUM_ESC_RESULTS; r++)
                    if (tc_escape_leak_result(&lk, r) >= heap) lk.slot[1 + r] = 0;
            fr->params[i] = lk;
        }
    }
    for (int i = 0; i < b->nlocs; i++) free(b->locs[i].edges);
    return 0;
}

/* ---- call graph components (Tarjan, iterative) ------------------------ */

struct callgraph {
    int **callees;   /* per function: known callees, in call order */
    int *ncallees;
};

static int collect_callees(const struct tc_ir_block *blk, int **out, int *n, int *cap)
{
    for (int i = 0; i < blk->n; i++) {
        const struct tc_ir_stmt *s = &blk->stmts[i];
        if (s->op == TC_IR_CALL && s->callee >= 0) {
            if (*n == *cap) {
                int ncap = *cap ? *cap * 2 : 8;
                int *a = realloc(*out, (size_t)ncap * sizeof *a);
                if (!a) return -1;
                *out = a;
                *cap = ncap;
            }
            (*out)[(*n)++] = s->callee;
        }
        if (collect_callees(&s->body, out, n, cap) || collect_callees(&s->els, out, n, cap)) return -1;
    }
    return 0;
}

/* Number the components of the call graph in the order Tarjan completes
 * them, which puts every callee's component before its callers'. Fills
 * order[] with the functions grouped by component and comp_start[c] with
 * where component c begins; returns the number of components. */
static int components(const struct tc_ir_prog *p, const struct callgraph *g, int *batch_of,
                      int *order, int *comp_start)
{
    int nf = p->nfuncs, ncomp = 0, norder = 0, counter = 0, sp = 0, csp = 0;
    int *index = malloc((size_t)nf * sizeof *index), *low = malloc((size_t)nf * sizeof *low);
    int *onstack = calloc((size_t)nf, sizeof *onstack), *stack = malloc((size_t)nf * sizeof *stack);
    int *cstack = malloc((size_t)nf * sizeof *cstack), *cedge = malloc((size_t)nf * sizeof *cedge);
    if (!index || !low || !onstack || !stack || !cstack || !cedge) { ncomp = -1; goto out; }
    for (int i = 0; i < nf; i++) index[i] = -1;
    for (int root = 0; root < nf; root++) {
        if (index[root] >= 0) continue;
        cstack[csp] = root; cedge[csp++] = 0;
        index[root] = low[root] = counter++;
        stack[sp++] = root; onstack[root] = 1;
        while (csp > 0) {
            int v = cstack[csp - 1];
            if (cedge[csp - 1] < g->ncallees[v]) {
                int w = g->callees[v][cedge[csp - 1]++];
                if (index[w] < 0) {
                    index[w] = low[w] = counter++;
                    stack[sp++] = w; onstack[w] = 1;
                    cstack[csp] = w; cedge[csp++] = 0;
                } else if (onstack[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            csp--;
            if (csp > 0 && low[v] < low[cstack[csp - 1]]) low[cstack[csp - 1]] = low[v];
            if (low[v] == index[v]) {
                comp_start[ncomp] = norder;
                int w;
                do {
                    w = stack[--sp];
                    onstack[w] = 0;
                    batch_of[w] = ncomp;
                    order[norder++] = w;
                } while (w != v);
                ncomp++;
            }
        }
    }
    comp_start[ncomp] = norder;
out:
    free(index); free(low); free(onstack); free(stack); free(cstack); free(cedge);
    return ncomp;
}

void tc_escape_result_free(struct tc_escape_result *r)
{
    if (!r->funcs) return;
    for (int i = 0; i < r->nfuncs; i++) {
        free(r->funcs[i].site_heap);
        free(r->funcs[i].params);
    }
    free(r->funcs);
    r->funcs = NULL;
}

int tc_escape_analyze(const struct tc_ir_prog *p, struct tc_escape_result *out)
{
    int nf = p->nfuncs, rc = -1;
    memset(out, 0, sizeof *out);
    out->nfuncs = nf;
    out->funcs = calloc((size_t)nf + 1, sizeof *out->funcs);
    struct callgraph g = {calloc((size_t)nf + 1, sizeof *g.callees), calloc((size_t)nf + 1, sizeof *g.ncallees)};
    struct batch b = {.prog = p, .res = out};
    uint8_t *tagged = calloc((size_t)nf + 1, 1);
    int *batch_of = calloc((size_t)nf + 1, sizeof *batch_of);
    int *order = calloc((size_t)nf + 1, sizeof *order), *comp_start = calloc((size_t)nf + 2, sizeof *comp_start);
    b.name_base = calloc((size_t)nf + 1, sizeof *b.name_base);
    b.result_base = calloc((size_t)nf + 1, sizeof *b.result_base);
    b.site_base = calloc((size_t)nf + 1, sizeof *b.site_base);
    if (!out->funcs || !g.callees || !g.ncallees || !tagged || !batch_of || !order || !comp_start ||
        !b.name_base || !b.result_base || !b.site_base)
        goto out;
    for (int i = 0; i < nf; i++) {
        const struct tc_ir_func *f = &p->funcs[i];
        out->funcs[i].site_heap = calloc((size_t)f->nsites + 1, 1);
        out->funcs[i].params = calloc((size_t)f->nparams + 1, sizeof *out->funcs[i].params);
        int cap = 0;
        if (!out->funcs[i].site_heap || !out->funcs[i].params ||
            collect_callees(&f->body, &g.callees[i], &g.ncallees[i], &cap))
            goto out;
    }
    int ncomp = components(p, &g, batch_of, order, comp_start);
    if (ncomp < 0) goto out;
    b.tagged = tagged;
    b.batch_of = batch_of;
    for (int c = 0; c < ncomp; c++) {
        b.batch_id = c;
        if (run_batch(&b, order + comp_start[c], comp_start[c + 1] - comp_start[c])) goto out;
        for (int k = comp_start[c]; k < comp_start[c + 1]; k++) tagged[order[k]] = 1;
    }
    rc = 0;
out:
    if (b.failed || rc) {
        for (int i = 0; i < b.nlocs; i++) free(b.locs[i].edges);
        rc = -1;
    }
    for (int i = 0; g.callees && i < nf; i++) free(g.callees[i]);
    free(g.callees); free(g.ncallees); free(tagged); free(batch_of); free(order); free(comp_start);
    free(b.name_base); free(b.result_base); free(b.site_base); free(b.locs);
    if (rc) tc_escape_result_free(out);
    return rc;
}
