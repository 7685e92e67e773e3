/* escape/liveness.c: the loop depth a name has when it holds a pointer.
 *
 * Go's rule (escape/solve.go, outlives): a location l outlives an object
 * o of the same function when l.loopDepth < o.loopDepth, i.e. when l is
 * declared outside the loop that re-creates o on every iteration. Go can
 * use the declaration depth for both roles because its variables are
 * block-scoped: a variable declared in a loop body is a new variable on
 * every iteration and cannot be read after the loop.
 *
 * IR names are function-scoped instead: a name first defined inside a
 * loop keeps its value into the next iteration and after the loop. With
 * the declaration depth alone, this program would be analysed unsoundly:
 *
 *     loop 2 {
 *         var x          # depth 2; its stack slot is re-zeroed per iteration
 *         if p { ... *p ... }   # iteration 2 reads x of iteration 1
 *         p = &x         # p first defined at depth 2: "same depth as x"
 *     }
 *
 * So every name gets a second depth, hold_depth, used when the name is
 * the location that outlives (l above); def_depth stays the depth used
 * when the name (a var) is the object (o above). hold_depth starts at
 * def_depth and drops to the depth of every loop at whose header the name
 * is live: a value it holds there was written in an earlier iteration (or
 * before the loop) and may be read later, so the name behaves as if it
 * were declared outside that loop. In a program Go can express, every
 * name declared inside a loop is defined before it is read in each
 * iteration and is dead after the loop, so it is never live at a header
 * of its own loops and hold_depth == def_depth: the rule only changes
 * programs Go would reject.
 *
 * Liveness is the textbook backward may-analysis over the structured
 * statements: defs are assignments to the name and its `var` statement;
 * uses are reads and `&x` (taking the address exposes the object's
 * current contents to later loads). A loop header's live set is the
 * fixed point H = out U in(body, H); an `if` joins both branches;
 * `return` ends the path. */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

struct live_ctx {
    struct tc_ir_func *f;
    int nwords;          /* 64-bit words per bitset */
    uint64_t *loop_live; /* nloops bitsets: live names at each loop header */
    int *loop_depth;     /* depth of each loop statement */
    int failed;          /* out of memory */
};

/* Every transfer function here has the gen/kill form in(X) = G U (X - K),
 * and so do their compositions, joins and loop fixed points. A loop's
 * header set is the least fixed point of H = out U G_body U (H - K_body),
 * which is simply out U G_body: one summary of the body, no iteration, so
 * nested loops cost one visit per nesting level instead of an exponential
 * number of fixed-point rounds. */
struct summary {
    uint64_t *gen, *kill;
};

static void set_bit(uint64_t *b, int ref)
{
    if (ref >= 0) b[ref / 64] |= UINT64_C(1) << (ref % 64);
}

static void clear_bit(uint64_t *b, int ref)
{
    if (ref >= 0) b[ref / 64] &= ~(UINT64_C(1) << (ref % 64));
}

static uint64_t *new_set(struct live_ctx *c)
{
    uint64_t *b = calloc((size_t)c->nwords, sizeof *b);
    if (!b) c->failed = 1;
    return b;
}

/* Summary of a block into *sum (both sets zeroed by the caller). */
static void summarize_block(struct live_ctx *c, const struct tc_ir_block *blk, struct summary *sum);

/* Prepend statement s to the summary of what follows it:
 * G = G_s U (G_rest - K_s), K = K_s U K_rest. */
static void summarize_stmt(struct live_ctx *c, const struct tc_ir_stmt *s, struct summary *sum)
{
    int nw = c->nwords;
    uint64_t *g = sum->gen, *k = sum->kill;
    switch (s->op) {
    case TC_IR_VAR: case TC_IR_NEW: case TC_IR_MAKE: case TC_IR_NIL:
    case TC_IR_ADDR: case TC_IR_COPY: case TC_IR_FIELD: case TC_IR_LOAD:
    case TC_IR_STORE: case TC_IR_PRINT: case TC_IR_CALL: case TC_IR_RETURN:
        /* Simple statements act on the running sets directly. */
        if (s->op == TC_IR_RETURN) {
            memset(g, 0, (size_t)nw * sizeof *g);
            memset(k, 0xff, (size_t)nw * sizeof *k);
            for (int i = 0; i < s->nargs; i++) set_bit(g, s->args[i]);
            break;
        }
        if (s->op == TC_IR_CALL) {
            for (int i = 0; i < s->nouts; i++) { clear_bit(g, s->outs[i]); set_bit(k, s->outs[i]); }
            for (int i = 0; i < s->nargs; i++) set_bit(g, s->args[i]);
            break;
        }
        if (s->op != TC_IR_STORE && s->op != TC_IR_PRINT) { clear_bit(g, s->dst); set_bit(k, s->dst); }
        if (s->op == TC_IR_STORE) set_bit(g, s->dst);
        if (s->op != TC_IR_VAR && s->op != TC_IR_NEW && s->op != TC_IR_MAKE && s->op != TC_IR_NIL)
            set_bit(g, s->src);
        break;
    case TC_IR_IF: case TC_IR_LOOP: {
        struct summary a = {new_set(c), new_set(c)}, b = {new_set(c), new_set(c)};
        if (!c->failed) {
            summarize_block(c, &s->body, &a);
            if (s->op == TC_IR_IF) {
                summarize_block(c, &s->els, &b);
                for (int w = 0; w < nw; w++) { /* join: G = Ga U Gb, K = Ka n Kb */
                    a.gen[w] |= b.gen[w];
                    a.kill[w] &= b.kill[w];
                }
                set_bit(a.gen, s->src);
            } else {
                memset(a.kill, 0, (size_t)nw * sizeof *a.kill); /* may run 0 times */
            }
            for (int w = 0; w < nw; w++) {
                g[w] = a.gen[w] | (g[w] & ~a.kill[w]);
                k[w] |= a.kill[w];
            }
        }
        free(a.gen); free(a.kill); free(b.gen); free(b.kill);
        break;
    }
    }
}

static void summarize_block(struct live_ctx *c, const struct tc_ir_block *blk, struct summary *sum)
{
    for (int i = blk->n - 1; i >= 0 && !c->failed; i--) summarize_stmt(c, &blk->stmts[i], sum);
}

/* live: on entry the names live after blk; on return those live before
 * it. Records the header set of every loop inside blk. */
static void live_block(struct live_ctx *c, const struct tc_ir_block *blk, uint64_t *live)
{
    int nw = c->nwords;
    for (int i = blk->n - 1; i >= 0 && !c->failed; i--) {
        const struct tc_ir_stmt *s = &blk->stmts[i];
        if (s->op == TC_IR_IF) {
            uint64_t *other = new_set(c);
            if (!other) return;
            memcpy(other, live, (size_t)nw * sizeof *live);
            live_block(c, &s->body, live);
            live_block(c, &s->els, other);
            for (int w = 0; w < nw; w++) live[w] |= other[w];
            set_bit(live, s->src);
            free(other);
        } else if (s->op == TC_IR_LOOP) {
            struct summary body = {new_set(c), new_set(c)};
            uint64_t *inner = new_set(c);
            if (!c->failed) {
                summarize_block(c, &s->body, &body);
                for (int w = 0; w < nw; w++) live[w] |= body.gen[w]; /* H = out U G_body */
                memcpy(c->loop_live + (size_t)s->loop_id * nw, live, (size_t)nw * sizeof *live);
                c->loop_depth[s->loop_id] = s->depth;
                memcpy(inner, live, (size_t)nw * sizeof *live);
                live_block(c, &s->body, inner); /* record the loops inside */
            }
            free(body.gen); free(body.kill); free(inner);
        } else {
            struct summary one = {new_set(c), new_set(c)};
            if (!c->failed) {
                summarize_stmt(c, s, &one);
                for (int w = 0; w < nw; w++) live[w] = one.gen[w] | (live[w] & ~one.kill[w]);
            }
            free(one.gen); free(one.kill);
        }
    }
}

static int func_hold_depths(struct tc_ir_func *f)
{
    if (f->nloops == 0 || f->nnames == 0) return 0;
    struct live_ctx c = {.f = f, .nwords = (f->nnames + 63) / 64};
    c.loop_live = calloc((size_t)f->nloops * c.nwords, sizeof *c.loop_live);
    c.loop_depth = calloc((size_t)f->nloops, sizeof *c.loop_depth);
    uint64_t *live = calloc((size_t)c.nwords, sizeof *live);
    if (c.loop_live && c.loop_depth && live) live_block(&c, &f->body, live);
    else c.failed = 1;
    for (int l = 0; l < f->nloops && !c.failed; l++) {
        const uint64_t *h = c.loop_live + (size_t)l * c.nwords;
        for (int n = 0; n < f->nnames; n++)
            if ((h[n / 64] >> (n % 64) & 1) && f->names[n].hold_depth > c.loop_depth[l])
                f->names[n].hold_depth = c.loop_depth[l];
    }
    free(c.loop_live);
    free(c.loop_depth);
    free(live);
    return c.failed ? -1 : 0;
}

int tc_ir_compute_hold_depths(struct tc_ir_prog *p)
{
    for (int i = 0; i < p->nfuncs; i++)
        if (func_hold_depths(&p->funcs[i])) return -1;
    return 0;
}
