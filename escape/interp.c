/* escape/interp.c: running an IR program with the analysis' decisions.
 *
 * The executor walks the statement trees directly; memory (frames,
 * objects, death of stack objects) is mem.c's business. What this file
 * adds is the checking mode's three tests, each a violation of one of the
 * invariants escape analysis exists to keep (go-runtime-facts.md 7.1):
 *  1. a load, store, field address or print through a pointer whose stack
 *     object has died (its frame returned, or its site ran again in a
 *     loop) -- the dangling use itself;
 *  2. a store that puts a pointer to a stack object into a heap object or
 *     a global -- the heap must never point into a stack;
 *  3. a function returning a pointer into its own frame.
 * Each is reported as "unsound" with the line, and the run stops (the
 * value it would produce is garbage). Without --check none of this is
 * tested and a stale pointer reads whatever its slot holds now, as real
 * memory would; comparing such a run with --all-heap shows the damage.
 *
 * Runaway programs stop at a step limit (statements and loop iterations),
 * a call-depth limit and a stack size limit, each a clear fault. The run
 * happens on a thread with a large C stack (RUN_STACK), so that deep IR
 * recursion meets the call-depth or nesting limit long before the C stack
 * ends. A call to a function the file does not define (unknown code)
 * reads its arguments and returns nils. */
#include "interp.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define NEST_LIMIT 200000            /* nested blocks + calls, C recursion */
#define RUN_STACK ((size_t)512 << 20) /* C stack of the run thread */

void tc_escape_run_opts_default(struct tc_escape_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_steps = 100000000;
    o->max_depth = 10000;
    o->max_object = (uint64_t)1 << 30;
    o->max_stack = (uint64_t)1 << 30;
}

#define FAULT(in, line, ...) tc_escape_fail((in), TC_RUN_FAULT, (line), __VA_ARGS__)

static int dangling(struct tc_escape_interp *in, int line, const char *what, struct tc_escape_val p)
{
    char d[256];
    if (p.obj == &in->poison)
        return tc_escape_fail(in, TC_RUN_UNSOUND, line, "%s through a value read from a dead frame", what);
    if (p.obj->gen == 0) {
        tc_escape_describe(p.obj, d, sizeof d);
        return tc_escape_fail(in, TC_RUN_UNSOUND, line, "%s through a dangling pointer to %s, placed on the stack and dead (%s)",
                              what, d, p.obj->death == TC_DIED_RERUN ? "its site ran again" : "its frame returned");
    }
    return tc_escape_fail(in, TC_RUN_UNSOUND, line, "%s through a dangling pointer to a dead stack object", what);
}

/* The word p points at, for a load or store. */
static struct tc_escape_val *word_at(struct tc_escape_interp *in, int line, struct tc_escape_val p,
                                     const char *what, const char *name)
{
    char d[256];
    if (!p.obj) { FAULT(in, line, "nil pointer dereference: %s through %s", what, name); return NULL; }
    if (!tc_escape_live(in, p)) { dangling(in, line, what, p); return NULL; }
    if (p.off % 8 || p.off + (uint64_t)8 > p.obj->size) {
        tc_escape_describe(p.obj, d, sizeof d);
        tc_escape_fail(in, TC_RUN_FAULT, line, "%s through %s at offset %u is outside %s (%llu bytes)%s",
                       what, name, p.off, d, (unsigned long long)p.obj->size,
                       p.off % 8 ? ": not word-aligned" : "");
        return NULL;
    }
    return &p.obj->cells[p.off / 8];
}

/* Check mode, invariant 2: may v be stored into heap memory? */
static int heap_store_ok(struct tc_escape_interp *in, int line, struct tc_escape_val v, const char *into)
{
    char d[256];
    if (!in->o->check || !v.obj || v.obj == &in->poison || v.obj->frame == 0) return 0;
    tc_escape_describe(v.obj, d, sizeof d);
    return tc_escape_fail(in, TC_RUN_UNSOUND, line, "a pointer to %s, placed on the stack, is stored into %s", d, into);
}

/* The word of var `ref` in frame fr. */
static struct tc_escape_val *var_word(struct tc_escape_interp *in, struct tc_escape_frame *fr, int line, int ref)
{
    const struct tc_ir_name *n = &fr->f->names[ref];
    struct tc_escape_val v = fr->slots[ref];
    if (!v.obj) {
        FAULT(in, line, "%s is used before its var statement (line %d) has run", n->name, n->line);
        return NULL;
    }
    if (v.obj->size < 8) {
        FAULT(in, line, "var %s is smaller than a word: it cannot be read or assigned by name", n->name);
        return NULL;
    }
    return &v.obj->cells[0];
}

static int read_name(struct tc_escape_interp *in, struct tc_escape_frame *fr, int line, int ref,
                     struct tc_escape_val *out)
{
    if (tc_ir_is_global(ref)) {
        *out = in->globals[tc_ir_global_index(ref)];
    } else if (fr->f->names[ref].kind == TC_IR_VARNAME) {
        struct tc_escape_val *w = var_word(in, fr, line, ref);
        if (!w) return -1;
        *out = *w;
    } else {
        *out = fr->slots[ref];
    }
    return 0;
}

static int write_name(struct tc_escape_interp *in, struct tc_escape_frame *fr, int line, int ref,
                      struct tc_escape_val v)
{
    char into[200];
    if (tc_ir_is_global(ref)) {
        snprintf(into, sizeof into, "global %s", in->prog->globals[tc_ir_global_index(ref)].name);
        if (heap_store_ok(in, line, v, into)) return -1;
        tc_escape_set(&in->globals[tc_ir_global_index(ref)], v);
    } else if (fr->f->names[ref].kind == TC_IR_VARNAME) {
        struct tc_escape_val *w = var_word(in, fr, line, ref);
        if (!w) return -1;
        if (fr->slots[ref].obj->frame == 0) {
            snprintf(into, sizeof into, "var %s, which is on the heap", fr->f->names[ref].name);
            if (heap_store_ok(in, line, v, into)) return -1;
        }
        tc_escape_set(w, v);
    } else {
        tc_escape_set(&fr->slots[ref], v);
    }
    return 0;
}

static int exec_block(struct tc_escape_interp *in, struct tc_escape_frame *fr, const struct tc_ir_block *b);

/* Count one step: a statement, or a loop's next iteration. */
static int step(struct tc_escape_interp *in, int line)
{
    if (in->rep->steps == in->o->max_steps)
        return FAULT(in, line, "step limit of %llu exceeded (a runaway program?)",
                     (unsigned long long)in->o->max_steps);
    in->rep->steps++;
    return 0;
}

static int exec_call(struct tc_escape_interp *in, struct tc_escape_frame *fr, const struct tc_ir_stmt *s)
{
    struct tc_escape_val nil = {0};
    if (s->callee < 0) { /* unknown code: reads its arguments, returns nils */
        struct tc_escape_val ignored;
        for (int i = 0; i < s->nargs; i++)
            if (read_name(in, fr, s->line, s->args[i], &ignored)) return -1;
        for (int i = 0; i < s->nouts; i++)
            if (write_name(in, fr, s->line, s->outs[i], nil)) return -1;
        return 0;
    }
    if (in->depth >= in->o->max_depth)
        return FAULT(in, s->line, "call depth limit of %d exceeded calling %s", in->o->max_depth, s->callee_name);
    struct tc_escape_frame callee;
    if (tc_escape_frame_push(in, s->callee, s->line, &callee)) return -1;
    for (int i = 0; i < s->nargs; i++) {
        struct tc_escape_val arg;
        if (read_name(in, fr, s->line, s->args[i], &arg)) return -1;
        tc_escape_set(&callee.slots[i], arg);
    }
    in->depth++;
    if (exec_block(in, &callee, &callee.f->body) < 0) return -1;
    in->depth--;
    struct tc_escape_val *res = callee.slots + callee.lay->results;
    for (int i = 0; i < callee.f->nresults; i++) {
        struct tc_escape_val v = res[i];
        if (in->o->check && v.obj && v.obj->frame == callee.serial && v.obj->gen == v.gen) {
            char d[256];
            tc_escape_describe(v.obj, d, sizeof d);
            return tc_escape_fail(in, TC_RUN_UNSOUND, s->line, "%s returns a pointer to %s, placed on its own stack",
                                  callee.f->name, d);
        }
    }
    for (int i = 0; i < s->nouts; i++)
        if (write_name(in, fr, s->line, s->outs[i], res[i])) return -1;
    tc_escape_frame_pop(in, &callee);
    return 0;
}

/* Returns 0 to go on, 1 after a return statement, -1 to stop the run. */
static int exec_stmt(struct tc_escape_interp *in, struct tc_escape_frame *fr, const struct tc_ir_stmt *s)
{
    struct tc_escape_val v = {0}, p;
    struct tc_escape_val *w;
    const char *src = s->src != TC_IR_NONE ? tc_ir_ref_name(in->prog, fr->f, s->src) : "";
    if (step(in, s->line)) return -1;
    switch (s->op) {
    case TC_IR_VAR:
        if (tc_escape_new_object(in, fr, s->site, s->line, &v)) return -1;
        tc_escape_set(&fr->slots[s->dst], v);
        return 0;
    case TC_IR_NEW: case TC_IR_MAKE:
        if (tc_escape_new_object(in, fr, s->site, s->line, &v)) return -1;
        return write_name(in, fr, s->line, s->dst, v);
    case TC_IR_ADDR:
        v = fr->slots[s->src];
        if (!v.obj) return FAULT(in, s->line, "&%s: its var statement (line %d) has not run", src, fr->f->names[s->src].line);
        return write_name(in, fr, s->line, s->dst, v);
    case TC_IR_COPY:
        return read_name(in, fr, s->line, s->src, &v) ? -1 : write_name(in, fr, s->line, s->dst, v);
    case TC_IR_NIL:
        return write_name(in, fr, s->line, s->dst, v);
    case TC_IR_FIELD:
        if (read_name(in, fr, s->line, s->src, &v)) return -1;
        if (!v.obj) return FAULT(in, s->line, "nil pointer dereference: %s + %llu", src, (unsigned long long)s->n);
        if (!tc_escape_live(in, v)) return dangling(in, s->line, "field address", v);
        if (v.off + s->n > v.obj->size) {
            char d[256];
            tc_escape_describe(v.obj, d, sizeof d);
            return FAULT(in, s->line, "%s + %llu points past the end of %s (%llu bytes)", src,
                         (unsigned long long)s->n, d, (unsigned long long)v.obj->size);
        }
        v.off += (uint32_t)s->n;
        return write_name(in, fr, s->line, s->dst, v);
    case TC_IR_LOAD:
        if (read_name(in, fr, s->line, s->src, &p) || !(w = word_at(in, s->line, p, "load", src))) return -1;
        return write_name(in, fr, s->line, s->dst, *w);
    case TC_IR_STORE: {
        const char *dst = tc_ir_ref_name(in->prog, fr->f, s->dst);
        if (read_name(in, fr, s->line, s->dst, &p) || read_name(in, fr, s->line, s->src, &v)) return -1;
        if (!(w = word_at(in, s->line, p, "store", dst))) return -1;
        if (p.obj->frame == 0) {
            char d[256], into[300];
            tc_escape_describe(p.obj, d, sizeof d);
            snprintf(into, sizeof into, "%s, which is on the heap", d);
            if (heap_store_ok(in, s->line, v, into)) return -1;
        }
        tc_escape_set(w, v);
        return 0;
    }
    case TC_IR_CALL:
        return exec_call(in, fr, s);
    case TC_IR_RETURN:
        for (int i = 0; i < s->nargs; i++) {
            if (read_name(in, fr, s->line, s->args[i], &v)) return -1;
            tc_escape_set(&fr->slots[fr->lay->results + (size_t)i], v);
        }
        return 1;
    case TC_IR_LOOP:
        for (uint64_t i = 0; i < s->n; i++) {
            int r = i ? step(in, s->line) : 0; /* an empty body must not spin forever */
            if (!r) r = exec_block(in, fr, &s->body);
            if (r) return r;
        }
        return 0;
    case TC_IR_IF:
        if (read_name(in, fr, s->line, s->src, &v)) return -1;
        return exec_block(in, fr, v.obj ? &s->body : &s->els);
    case TC_IR_PRINT:
        if (read_name(in, fr, s->line, s->src, &v)) return -1;
        if (!v.obj) {
            fputs("nil\n", in->out);
            return 0;
        }
        if (!tc_escape_live(in, v)) return dangling(in, s->line, "print", v);
        fprintf(in->out, "%d+%u\n", v.obj->site->line, v.off);
        return 0;
    }
    return 0;
}

static int exec_block(struct tc_escape_interp *in, struct tc_escape_frame *fr, const struct tc_ir_block *b)
{
    if (++in->nest > NEST_LIMIT)
        return FAULT(in, b->n ? b->stmts[0].line : fr->f->line, "interpreter nesting limit of %d exceeded", NEST_LIMIT);
    int r = 0;
    for (int i = 0; i < b->n && r == 0; i++) r = exec_stmt(in, fr, &b->stmts[i]);
    in->nest--;
    return r;
}

static void *run_main(void *arg)
{
    struct tc_escape_interp *in = arg;
    struct tc_escape_frame fr;
    int mi = in->prog->main_func;
    if (tc_escape_frame_push(in, mi, in->prog->funcs[mi].line, &fr) == 0 &&
        exec_block(in, &fr, &in->prog->funcs[mi].body) >= 0)
        tc_escape_frame_pop(in, &fr);
    return NULL;
}

enum tc_escape_run_status tc_escape_run(const struct tc_ir_prog *p, const struct tc_escape_result *r,
                                        const struct tc_escape_run_opts *o, FILE *out,
                                        struct tc_escape_run_report *rep)
{
    struct tc_escape_interp in;
    struct tc_escape_run_opts opts = *o;
    memset(&in, 0, sizeof in);
    memset(rep, 0, sizeof *rep);
    /* Offsets are 32-bit: no object may reach 2 GiB. */
    if (opts.max_object > ((uint64_t)1 << 31) - 8) opts.max_object = ((uint64_t)1 << 31) - 8;
    in.prog = p;
    in.res = r;
    in.o = &opts;
    in.out = out;
    in.rep = rep;
    if (p->main_func < 0) {
        tc_escape_fail(&in, TC_RUN_FAULT, 1, "no func main to run");
    } else if (tc_escape_mem_init(&in)) {
        tc_escape_fail(&in, TC_RUN_NOMEM, 1, "out of memory");
    } else {
        pthread_attr_t attr;
        pthread_t t;
        int ok = pthread_attr_init(&attr) == 0 && pthread_attr_setstacksize(&attr, RUN_STACK) == 0 &&
                 pthread_create(&t, &attr, run_main, &in) == 0;
        if (ok) pthread_join(t, NULL);
        else tc_escape_fail(&in, TC_RUN_NOMEM, 1, "cannot start the interpreter thread");
        pthread_attr_destroy(&attr);
    }
    tc_escape_mem_fini(&in);
    fflush(out);
    return rep->status;
}
