/* escape/parse.c: IR text -> struct tc_ir_prog, with one clear error.
 *
 * Two passes over the lines. Pass 1 collects every global and every
 * well-formed `func` header, so that a function may call a function or
 * read a global defined further down. Pass 2 parses everything again in
 * order, builds the statement trees and resolves names, and stops at the
 * first error, so the error reported is always the first one in the file.
 *
 * Name rules (the spec plus what the analysis relies on):
 *  - parameters are names[0..nparams-1]; a parameter may shadow a global;
 *  - `var x` declares an addressable local; it must come before every
 *    other use of x in the text, may not repeat, and may not shadow a
 *    global (otherwise the meaning of x would change mid-function);
 *  - an assignment to a name that is neither local nor global creates an
 *    implicit local whose loop depth is that of this first definition;
 *  - a read of a name not defined yet creates a "pending" local, which a
 *    later assignment in the same function must define (it reads nil
 *    until then, e.g. in a loop's first iteration); a pending name is
 *    marked by def_depth == 0 until its definition is seen;
 *  - `&x` requires x to be a var declared above.
 * Blocks nest at most TC_PARSE_MAX_NEST deep, which also bounds the
 * recursion of every later pass over the statement tree. */
#include "lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TC_PARSE_MAX_NEST 200
#define TC_PARSE_MAX_RESULTS 1000

enum block_kind { BK_FUNC, BK_LOOP, BK_IF, BK_ELSE };

struct open_block {
    struct tc_ir_block *b;
    enum block_kind kind;
    int line;
    struct tc_ir_stmt *owner; /* the IF whose else may follow */
};

struct parser {
    struct tc_ir_prog *prog;
    struct tc_ir_error *err;
    struct tc_ir_line toks;
    int pos;
    int line;
    int nheaders;              /* pass 2: headers consumed so far */
    struct tc_ir_func *fn;     /* function being parsed, or NULL */
    int depth;                 /* loop depth of the next statement */
    struct open_block stack[TC_PARSE_MAX_NEST];
    int nstack;
};

static int perr(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    p->err->line = p->line;
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static struct tc_ir_tok *peek(struct parser *p) { return &p->toks.tok[p->pos]; }
static struct tc_ir_tok *next(struct parser *p)
{
    struct tc_ir_tok *t = &p->toks.tok[p->pos];
    if (t->kind != TC_TOK_END) p->pos++;
    return t;
}

/* A token for messages. Returned by value (no static buffer: parsing is
 * reentrant); the array lives until the end of the calling expression. */
struct tokdesc {
    char s[TC_TOK_NAME_MAX + 16];
};

static struct tokdesc describe(const struct tc_ir_tok *t)
{
    struct tokdesc d;
    if (t->kind == TC_TOK_END) snprintf(d.s, sizeof d.s, "end of line");
    else snprintf(d.s, sizeof d.s, "'%s'", t->text);
    return d;
}

static int is_punct(const struct tc_ir_tok *t, char c) { return t->kind == TC_TOK_PUNCT && t->text[0] == c; }
static int is_word(const struct tc_ir_tok *t, const char *w) { return t->kind == TC_TOK_NAME && strcmp(t->text, w) == 0; }

static int expect_punct(struct parser *p, char c, const char *where)
{
    struct tc_ir_tok *t = next(p);
    if (!is_punct(t, c)) return perr(p, "expected '%c' %s, found %s", c, where, describe(t).s);
    return 0;
}

static int expect_name(struct parser *p, const char *what, const char **out)
{
    struct tc_ir_tok *t = next(p);
    if (t->kind != TC_TOK_NAME) return perr(p, "expected %s, found %s", what, describe(t).s);
    if (tc_ir_is_keyword(t->text)) return perr(p, "expected %s, found keyword '%s'", what, t->text);
    *out = t->text;
    return 0;
}

static int expect_num(struct parser *p, const char *what, uint64_t *out)
{
    struct tc_ir_tok *t = next(p);
    if (t->kind != TC_TOK_NUM) return perr(p, "expected %s, found %s", what, describe(t).s);
    *out = t->num;
    return 0;
}

static int expect_end(struct parser *p)
{
    struct tc_ir_tok *t = peek(p);
    if (t->kind != TC_TOK_END) return perr(p, "unexpected %s after the statement", describe(t).s);
    return 0;
}

static int oom(struct parser *p) { return perr(p, "out of memory"); }

/* ---- function headers ------------------------------------------------ */

/* func NAME ( [NAME {, NAME}] ) [results N] {   -- into *f (params only). */
static int parse_header(struct parser *p, struct tc_ir_func *f)
{
    const char *name;
    next(p); /* func */
    if (expect_name(p, "a function name after 'func'", &name)) return -1;
    if (!(f->name = tc_ir_strdup(name))) return oom(p);
    if (expect_punct(p, '(', "after the function name")) return -1;
    if (!is_punct(peek(p), ')')) {
        for (;;) {
            if (expect_name(p, "a parameter name", &name)) return -1;
            if (tc_ir_func_find_name(f, name) >= 0) return perr(p, "duplicate parameter %s", name);
            if (tc_ir_func_add_name(f, name, TC_IR_PARAM, p->line, 1) < 0) return oom(p);
            f->nparams++;
            if (!is_punct(peek(p), ',')) break;
            next(p);
        }
    }
    if (expect_punct(p, ')', "after the parameters")) return -1;
    if (is_word(peek(p), "results")) {
        uint64_t n;
        next(p);
        if (expect_num(p, "a result count after 'results'", &n)) return -1;
        if (n > TC_PARSE_MAX_RESULTS) return perr(p, "too many results (%llu, the limit is %d)",
                                                  (unsigned long long)n, TC_PARSE_MAX_RESULTS);
        f->nresults = (int)n;
    }
    if (expect_punct(p, '{', "to open the function body")) return -1;
    return expect_end(p);
}

static void free_func_parts(struct tc_ir_func *f)
{
    free(f->name);
    for (int i = 0; i < f->nnames; i++) free(f->names[i].name);
    free(f->names);
    memset(f, 0, sizeof *f);
}

/* ---- name resolution ------------------------------------------------- */
/* Each resolver stores a name reference in *ref and returns 0, or -1
 * with the error set. */

/* A name read as a value. */
static int ref_read(struct parser *p, const char *name, int *ref)
{
    int i = tc_ir_func_find_name(p->fn, name);
    if (i < 0) {
        int g = tc_ir_prog_find_global(p->prog, name);
        if (g >= 0) { *ref = TC_IR_GLOBAL_REF(g); return 0; }
        i = tc_ir_func_add_name(p->fn, name, TC_IR_TEMP, p->line, 0); /* pending */
        if (i < 0) return oom(p);
    }
    *ref = i;
    return 0;
}

/* A name assigned to. */
static int ref_write(struct parser *p, const char *name, int *ref)
{
    int i = tc_ir_func_find_name(p->fn, name);
    if (i >= 0) {
        struct tc_ir_name *n = &p->fn->names[i];
        if (n->def_depth == 0) { /* pending: this is its first definition */
            n->def_depth = n->hold_depth = p->depth;
            n->line = p->line;
        }
    } else {
        int g = tc_ir_prog_find_global(p->prog, name);
        if (g >= 0) { *ref = TC_IR_GLOBAL_REF(g); return 0; }
        i = tc_ir_func_add_name(p->fn, name, TC_IR_TEMP, p->line, p->depth);
        if (i < 0) return oom(p);
    }
    *ref = i;
    return 0;
}

static int ref_addr(struct parser *p, const char *name, int *ref)
{
    int i = tc_ir_func_find_name(p->fn, name);
    if (i >= 0 && p->fn->names[i].kind == TC_IR_VARNAME) { *ref = i; return 0; }
    if (i >= 0 && p->fn->names[i].kind == TC_IR_PARAM)
        return perr(p, "cannot take the address of %s: it is a parameter, not a var", name);
    if (i < 0 && tc_ir_prog_find_global(p->prog, name) >= 0)
        return perr(p, "cannot take the address of %s: it is a global, not a var", name);
    return perr(p, "cannot take the address of %s: it is not a var declared above", name);
}

static int declare_var(struct parser *p, const char *name, uint64_t size, int *ref)
{
    if (tc_ir_prog_find_global(p->prog, name) >= 0)
        return perr(p, "var %s would shadow the global %s", name, name);
    int i = tc_ir_func_find_name(p->fn, name);
    if (i >= 0) {
        struct tc_ir_name *n = &p->fn->names[i];
        if (n->kind == TC_IR_PARAM) return perr(p, "var %s: %s is a parameter", name, name);
        if (n->kind == TC_IR_VARNAME)
            return perr(p, "var %s: %s is already declared at line %d", name, name, n->line);
        if (n->def_depth == 0)
            return perr(p, "var %s: %s is used at line %d, before its var statement", name, name, n->line);
        return perr(p, "var %s: %s is already an implicit local (assigned at line %d)", name, name, n->line);
    }
    i = tc_ir_func_add_name(p->fn, name, TC_IR_VARNAME, p->line, p->depth);
    if (i < 0) return oom(p);
    int site = tc_ir_func_add_site(p->fn, TC_IR_VAR, p->line, p->depth, size, i);
    if (site < 0) return oom(p);
    p->fn->names[i].site = site;
    *ref = i;
    return 0;
}

/* ---- statements ------------------------------------------------------ */

static struct tc_ir_stmt *emit(struct parser *p, enum tc_ir_op op)
{
    struct tc_ir_stmt *s = tc_ir_block_push(p->stack[p->nstack - 1].b);
    if (!s) { oom(p); return NULL; }
    s->op = op;
    s->line = p->line;
    s->depth = p->depth;
    return s;
}

static int push_block(struct parser *p, struct tc_ir_block *b, enum block_kind k, struct tc_ir_stmt *owner)
{
    if (p->nstack == TC_PARSE_MAX_NEST)
        return perr(p, "blocks nested too deeply (the limit is %d)", TC_PARSE_MAX_NEST);
    p->stack[p->nstack++] = (struct open_block){b, k, p->line, owner};
    if (k == BK_LOOP) p->depth++;
    return 0;
}

static int push_ref(struct parser *p, int **arr, int *n, int ref)
{
    int *a = realloc(*arr, (size_t)(*n + 1) * sizeof *a);
    if (!a) return oom(p);
    a[(*n)++] = ref;
    *arr = a;
    return 0;
}

/* call NAME ( [NAME {, NAME}] )  -- the 'call' keyword is next. The
 * arguments are resolved here; outs (already collected as names by the
 * caller) are resolved after them, because the call reads its arguments
 * before it writes its results. */
static int parse_call(struct parser *p, const char **outs, int nouts)
{
    const char *name;
    next(p); /* call */
    if (expect_name(p, "a function name after 'call'", &name)) return -1;
    struct tc_ir_stmt *s = emit(p, TC_IR_CALL);
    if (!s) return -1;
    if (!(s->callee_name = tc_ir_strdup(name))) return oom(p);
    s->callee = tc_ir_prog_find_func(p->prog, name);
    if (expect_punct(p, '(', "after the function name")) return -1;
    while (!is_punct(peek(p), ')')) {
        const char *arg;
        int r = -1; /* set by the call that reports success */
        if (s->nargs && expect_punct(p, ',', "between arguments")) return -1;
        if (expect_name(p, "an argument name", &arg)) return -1;
        if (ref_read(p, arg, &r) || push_ref(p, &s->args, &s->nargs, r)) return -1;
    }
    next(p);
    if (expect_end(p)) return -1;
    if (s->callee >= 0) {
        const struct tc_ir_func *f = &p->prog->funcs[s->callee];
        if (s->nargs != f->nparams)
            return perr(p, "call to %s with %d argument%s, but %s takes %d", name, s->nargs,
                        s->nargs == 1 ? "" : "s", name, f->nparams);
        if (nouts && nouts != f->nresults)
            return perr(p, "call to %s assigns %d result%s, but %s returns %d", name, nouts,
                        nouts == 1 ? "" : "s", name, f->nresults);
    }
    for (int i = 0; i < nouts; i++) {
        int r = -1; /* set by the call that reports success */
        for (int j = 0; j < i; j++)
            if (strcmp(outs[i], outs[j]) == 0) return perr(p, "%s assigned twice by one call", outs[i]);
        if (ref_write(p, outs[i], &r) || push_ref(p, &s->outs, &s->nouts, r)) return -1;
    }
    return 0;
}

/* NAME {, NAME} = call ...  |  NAME = (new N | make N | &NAME | *NAME | nil | NAME [+ N]) */
static int parse_assign(struct parser *p)
{
    const char *outs[TC_PARSE_MAX_RESULTS]; /* token texts: stable for the line */
    int nouts = 0;
    for (;;) {
        const char *name;
        if (expect_name(p, "a name", &name)) return -1;
        if (nouts == TC_PARSE_MAX_RESULTS)
            return perr(p, "too many names on the left of '=' (the limit is %d)", TC_PARSE_MAX_RESULTS);
        outs[nouts++] = name;
        if (!is_punct(peek(p), ',')) break;
        next(p);
    }
    if (expect_punct(p, '=', "in the assignment")) return -1;
    struct tc_ir_tok *t = peek(p);
    if (is_word(t, "call")) return parse_call(p, outs, nouts);
    if (nouts > 1) return perr(p, "only a call can assign several names");

    struct tc_ir_stmt *s;
    const char *src;
    uint64_t n;
    int r = -1; /* set by the call that reports success */
    if (is_word(t, "new") || is_word(t, "make")) {
        enum tc_ir_op op = is_word(t, "new") ? TC_IR_NEW : TC_IR_MAKE;
        next(p);
        if (expect_num(p, op == TC_IR_NEW ? "a size after 'new'" : "a size after 'make'", &n)) return -1;
        if (expect_end(p) || !(s = emit(p, op))) return -1;
        s->n = n;
        s->site = tc_ir_func_add_site(p->fn, op, p->line, p->depth, n, -1);
        if (s->site < 0) return oom(p);
    } else if (is_word(t, "nil")) {
        next(p);
        if (expect_end(p) || !(s = emit(p, TC_IR_NIL))) return -1;
    } else if (is_punct(t, '&') || is_punct(t, '*')) {
        int addr = is_punct(t, '&');
        next(p);
        if (expect_name(p, addr ? "a var name after '&'" : "a name after '*'", &src)) return -1;
        if (expect_end(p)) return -1;
        if (addr ? ref_addr(p, src, &r) : ref_read(p, src, &r)) return -1;
        if (!(s = emit(p, addr ? TC_IR_ADDR : TC_IR_LOAD))) return -1;
        s->src = r;
    } else if (t->kind == TC_TOK_NAME) {
        if (expect_name(p, "a value", &src)) return -1;
        enum tc_ir_op op = TC_IR_COPY;
        n = 0;
        if (is_punct(peek(p), '+')) {
            next(p);
            if (expect_num(p, "a byte offset after '+'", &n)) return -1;
            op = TC_IR_FIELD;
        }
        if (expect_end(p) || ref_read(p, src, &r) || !(s = emit(p, op))) return -1;
        s->src = r;
        s->n = n;
    } else {
        return perr(p, "expected a value after '=', found %s", describe(t).s);
    }
    return ref_write(p, outs[0], &s->dst);
}

static int parse_return(struct parser *p)
{
    struct tc_ir_stmt *s = emit(p, TC_IR_RETURN);
    if (!s) return -1;
    next(p); /* return */
    while (peek(p)->kind != TC_TOK_END) {
        const char *name;
        int r = -1; /* set by the call that reports success */
        if (s->nargs && expect_punct(p, ',', "between returned names")) return -1;
        if (expect_name(p, "a name to return", &name)) return -1;
        if (ref_read(p, name, &r) || push_ref(p, &s->args, &s->nargs, r)) return -1;
    }
    if (s->nargs != p->fn->nresults)
        return perr(p, "return with %d value%s in %s, which has %d result%s", s->nargs,
                    s->nargs == 1 ? "" : "s", p->fn->name, p->fn->nresults,
                    p->fn->nresults == 1 ? "" : "s");
    return 0;
}

/* } [else {] */
static int close_block(struct parser *p)
{
    next(p); /* } */
    struct open_block *top = &p->stack[p->nstack - 1];
    if (is_word(peek(p), "else")) {
        next(p);
        if (top->kind != BK_IF) return perr(p, "'else' without a matching 'if' block");
        if (expect_punct(p, '{', "after 'else'") || expect_end(p)) return -1;
        struct tc_ir_stmt *owner = top->owner;
        p->nstack--;
        return push_block(p, &owner->els, BK_ELSE, owner);
    }
    if (expect_end(p)) return -1;
    if (top->kind == BK_LOOP) p->depth--;
    if (top->kind == BK_FUNC) {
        p->fn->end_line = p->line;
        /* Every name read before its definition must be defined somewhere. */
        for (int i = 0; i < p->fn->nnames; i++) {
            struct tc_ir_name *n = &p->fn->names[i];
            if (n->def_depth == 0) {
                p->line = n->line;
                return perr(p, "undefined: %s (read in %s but never assigned)", n->name, p->fn->name);
            }
        }
        p->fn = NULL;
    }
    p->nstack--;
    return 0;
}

static int parse_var(struct parser *p)
{
    const char *name;
    uint64_t size = 8;
    int r = TC_IR_NONE;
    next(p); /* var */
    if (expect_name(p, "a name after 'var'", &name)) return -1;
    if (peek(p)->kind == TC_TOK_NUM) size = next(p)->num;
    if (expect_end(p) || declare_var(p, name, size, &r)) return -1;
    struct tc_ir_stmt *s = emit(p, TC_IR_VAR);
    if (!s) return -1;
    s->dst = r;
    s->n = size;
    s->site = p->fn->names[r].site;
    return 0;
}

static int parse_loop_or_if(struct parser *p, int is_loop)
{
    struct tc_ir_stmt *s;
    next(p); /* loop / if */
    if (is_loop) {
        uint64_t n;
        if (expect_num(p, "an iteration count after 'loop'", &n)) return -1;
        if (expect_punct(p, '{', "after the loop count") || expect_end(p)) return -1;
        if (!(s = emit(p, TC_IR_LOOP))) return -1;
        s->n = n;
        s->loop_id = p->fn->nloops++;
        return push_block(p, &s->body, BK_LOOP, s);
    }
    const char *name;
    int r = -1; /* set by the call that reports success */
    if (expect_name(p, "a name after 'if'", &name)) return -1;
    if (expect_punct(p, '{', "after the condition") || expect_end(p)) return -1;
    if (ref_read(p, name, &r) || !(s = emit(p, TC_IR_IF))) return -1;
    s->src = r;
    return push_block(p, &s->body, BK_IF, s);
}

static int parse_stmt(struct parser *p)
{
    struct tc_ir_tok *t = peek(p);
    if (is_punct(t, '}')) return close_block(p);
    if (is_punct(t, '*')) { /* *NAME = NAME */
        const char *ptr, *val;
        int rp = -1, rv = -1; /* set by ref_read on success */
        next(p);
        if (expect_name(p, "a pointer name after '*'", &ptr)) return -1;
        if (expect_punct(p, '=', "in the store")) return -1;
        if (expect_name(p, "a value to store", &val) || expect_end(p)) return -1;
        if (ref_read(p, ptr, &rp) || ref_read(p, val, &rv)) return -1;
        struct tc_ir_stmt *s = emit(p, TC_IR_STORE);
        if (!s) return -1;
        s->dst = rp;
        s->src = rv;
        return 0;
    }
    if (t->kind != TC_TOK_NAME) return perr(p, "unexpected %s at the start of a statement", describe(t).s);
    if (is_word(t, "var")) return parse_var(p);
    if (is_word(t, "loop")) return parse_loop_or_if(p, 1);
    if (is_word(t, "if")) return parse_loop_or_if(p, 0);
    if (is_word(t, "return")) return parse_return(p);
    if (is_word(t, "call")) return parse_call(p, NULL, 0);
    if (is_word(t, "print")) {
        const char *name;
        int r = -1; /* set by the call that reports success */
        next(p);
        if (expect_name(p, "a name after 'print'", &name) || expect_end(p)) return -1;
        if (ref_read(p, name, &r)) return -1;
        struct tc_ir_stmt *s = emit(p, TC_IR_PRINT);
        if (!s) return -1;
        s->src = r;
        return 0;
    }
    if (is_word(t, "func")) return perr(p, "func inside the body of %s (missing '}'?)", p->fn->name);
    if (is_word(t, "global")) return perr(p, "global inside the body of %s (missing '}'?)", p->fn->name);
    if (is_word(t, "else")) return perr(p, "'else' must follow '}' on the same line");
    if (tc_ir_is_keyword(t->text)) return perr(p, "unexpected keyword '%s' at the start of a statement", t->text);
    return parse_assign(p);
}

/* ---- top level ------------------------------------------------------- */

static int parse_global(struct parser *p, int pass)
{
    const char *name;
    next(p); /* global */
    if (expect_name(p, "a name after 'global'", &name) || expect_end(p)) return -1;
    int g = tc_ir_prog_find_global(p->prog, name);
    if (pass == 1) {
        if (g < 0 && tc_ir_prog_add_global(p->prog, name, p->line) < 0) return oom(p);
        return 0;
    }
    if (p->prog->globals[g].line != p->line)
        return perr(p, "duplicate global %s (first declared at line %d)", name, p->prog->globals[g].line);
    return 0;
}

/* Pass 2 at a `func` line: open the function pass 1 recorded here. */
static int open_func(struct parser *p)
{
    struct tc_ir_prog *prog = p->prog;
    if (p->nheaders >= prog->nfuncs || prog->funcs[p->nheaders].line != p->line) {
        /* Pass 1 rejected this header: parse it again for the message. */
        struct tc_ir_func scratch;
        memset(&scratch, 0, sizeof scratch);
        int rc = parse_header(p, &scratch);
        free_func_parts(&scratch);
        return rc ? -1 : perr(p, "internal error: function header parsed differently");
    }
    int idx = p->nheaders++;
    struct tc_ir_func *f = &prog->funcs[idx];
    int first = tc_ir_prog_find_func(prog, f->name);
    if (first != idx)
        return perr(p, "duplicate function %s (first defined at line %d)", f->name, prog->funcs[first].line);
    if (strcmp(f->name, "main") == 0 && (f->nparams || f->nresults))
        return perr(p, "func main must have no parameters and no results");
    p->fn = f;
    p->depth = 1;
    p->nstack = 0;
    return push_block(p, &f->body, BK_FUNC, NULL);
}

typedef int (*line_fn)(struct parser *p, int pass);

/* Call fn for every line that holds a token. Stops at the first error. */
static int for_each_line(struct parser *p, const char *text, size_t len, int pass, line_fn fn)
{
    size_t i = 0;
    p->line = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && text[j] != '\n') j++;
        p->line++;
        if (tc_ir_lex_line(text + i, j - i, p->line, &p->toks, p->err)) {
            if (pass == 2 || strcmp(p->err->msg, "out of memory") == 0) return -1;
            p->toks.n = 0; /* pass 1 skips the line; pass 2 reports it in order */
        }
        p->pos = 0;
        if (p->toks.n > 0 && fn(p, pass)) return -1;
        i = j + 1;
    }
    return 0;
}

static int pass1_line(struct parser *p, int pass)
{
    struct tc_ir_tok *t = peek(p);
    if (is_word(t, "global")) {
        if (parse_global(p, pass) && strcmp(p->err->msg, "out of memory") == 0) return -1;
    } else if (is_word(t, "func")) {
        struct tc_ir_prog *prog = p->prog;
        if (tc_ir_prog_add_func(prog, "", p->line) < 0) return oom(p);
        struct tc_ir_func *f = &prog->funcs[prog->nfuncs - 1];
        free(f->name);
        f->name = NULL;
        if (parse_header(p, f)) { /* pass 2 reports it */
            int nomem = strcmp(p->err->msg, "out of memory") == 0;
            free_func_parts(f);
            prog->nfuncs--;
            if (nomem) return -1;
        }
    }
    return 0;
}

static int pass2_line(struct parser *p, int pass)
{
    struct tc_ir_tok *t = peek(p);
    if (p->fn) return parse_stmt(p);
    if (is_word(t, "global")) return parse_global(p, pass);
    if (is_word(t, "func")) return open_func(p);
    if (is_punct(t, '}')) return perr(p, "unexpected '}' outside a function");
    return perr(p, "unexpected %s outside a function (expected 'func' or 'global')", describe(t).s);
}

struct tc_ir_prog *tc_ir_parse(const char *text, size_t len, struct tc_ir_error *err)
{
    struct parser p;
    memset(&p, 0, sizeof p);
    memset(err, 0, sizeof *err);
    p.err = err;
    p.prog = calloc(1, sizeof *p.prog);
    if (!p.prog) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return NULL;
    }
    p.prog->main_func = -1;
    struct tc_ir_error pass1_err;
    memset(&pass1_err, 0, sizeof pass1_err);
    p.err = &pass1_err; /* pass 1 only fails when memory runs out */
    int rc = for_each_line(&p, text, len, 1, pass1_line);
    p.err = err;
    if (rc) {
        *err = pass1_err;
    } else {
        rc = for_each_line(&p, text, len, 2, pass2_line);
    }
    if (rc == 0 && p.fn) {
        struct open_block *top = &p.stack[p.nstack - 1];
        p.line = top->line;
        if (top->kind == BK_FUNC)
            rc = perr(&p, "missing '}': func %s is not closed at end of file", p.fn->name);
        else
            rc = perr(&p, "missing '}': the block opened here is not closed at end of file");
    }
    if (rc == 0 && tc_ir_compute_hold_depths(p.prog)) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        rc = -1;
    }
    free(p.toks.tok);
    if (rc) {
        tc_ir_free(p.prog);
        return NULL;
    }
    p.prog->main_func = tc_ir_prog_find_func(p.prog, "main");
    return p.prog;
}
