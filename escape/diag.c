/* escape/diag.c: the -m lines, in Go's words (escape.go finish/paramTag).
 *
 * Go emits one line per fact: for each parameter of each function,
 * "p does not escape" when it has no flow at all, otherwise
 * "leaking param: p" (heap, 0 derefs) or "leaking param content: p"
 * (heap, >= 1 deref), then "leaking param: p to result ~rI level=D" for
 * each result it reaches; for each var that escapes "moved to heap: x";
 * for each allocation "new(SIZE) escapes to heap" or "... does not
 * escape" (make always escapes: its size is not a constant).
 *
 * Ordering: Go 1.19 prints each -m line the moment it is produced (batch
 * by batch, parameters before variables before allocation sites), but its
 * error list is otherwise ordered by position, and the IR spec asks for
 * source order. We sort by line, keeping emission order within a line,
 * which gives a func line's parameters in declaration order and, for each
 * parameter, the heap line before its result lines -- the order Go's
 * position sort gives. Identical consecutive lines are printed once, as
 * Go's FlushErrors does. */
#include "escape.h"

#include <stdlib.h>
#include <string.h>

struct msg {
    int line;
    int seq;
    char text[224]; /* the longest: a 128-byte name in a result leak */
};

static int cmp_msg(const void *a, const void *b)
{
    const struct msg *x = a, *y = b;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

struct msgs {
    struct msg *m;
    int n, cap;
    int failed;
};

static struct msg *add(struct msgs *ms, int line)
{
    if (ms->n == ms->cap) {
        int ncap = ms->cap ? ms->cap * 2 : 32;
        struct msg *m = realloc(ms->m, (size_t)ncap * sizeof *m);
        if (!m) { ms->failed = 1; return NULL; }
        ms->m = m;
        ms->cap = ncap;
    }
    struct msg *m = &ms->m[ms->n];
    m->line = line;
    m->seq = ms->n++;
    return m;
}

static void param_msgs(struct msgs *ms, const struct tc_ir_func *f, const struct tc_escape_func_result *fr)
{
    for (int i = 0; i < f->nparams; i++) {
        const char *name = f->names[i].name;
        const struct tc_escape_leaks *lk = &fr->params[i];
        struct msg *m;
        int empty = 1;
        for (size_t s = 0; s < sizeof lk->slot; s++) empty &= lk->slot[s] == 0;
        if (empty && (m = add(ms, f->line)))
            snprintf(m->text, sizeof m->text, "%s does not escape", name);
        int heap = tc_escape_leak_heap(lk);
        if (heap >= 0 && (m = add(ms, f->line)))
            snprintf(m->text, sizeof m->text, heap == 0 ? "leaking param: %s" : "leaking param content: %s", name);
        for (int r = 0; r < TC_IR_NUM_ESC_RESULTS; r++) {
            int level = tc_escape_leak_result(lk, r);
            if (level >= 0 && (m = add(ms, f->line)))
                snprintf(m->text, sizeof m->text, "leaking param: %s to result ~r%d level=%d", name, r, level);
        }
    }
}

static void site_msgs(struct msgs *ms, const struct tc_ir_func *f, const struct tc_escape_func_result *fr)
{
    for (int s = 0; s < f->nsites; s++) {
        const struct tc_ir_site *st = &f->sites[s];
        int heap = fr->site_heap[s];
        struct msg *m;
        if (st->op == TC_IR_VAR) {
            if (heap && (m = add(ms, st->line)))
                snprintf(m->text, sizeof m->text, "moved to heap: %s", f->names[st->name].name);
        } else if (st->op == TC_IR_NEW) {
            if ((m = add(ms, st->line)))
                snprintf(m->text, sizeof m->text, "new(%llu) %s", (unsigned long long)st->size,
                         heap ? "escapes to heap" : "does not escape");
        } else if ((m = add(ms, st->line))) {
            snprintf(m->text, sizeof m->text, "make %s", heap ? "escapes to heap" : "does not escape");
        }
    }
}

int tc_escape_diag_print(FILE *out, const char *file, const struct tc_ir_prog *p,
                         const struct tc_escape_result *r)
{
    struct msgs ms = {0};
    for (int i = 0; i < p->nfuncs; i++) {
        param_msgs(&ms, &p->funcs[i], &r->funcs[i]);
        site_msgs(&ms, &p->funcs[i], &r->funcs[i]);
    }
    if (ms.failed) {
        free(ms.m);
        return -1;
    }
    if (ms.n) qsort(ms.m, (size_t)ms.n, sizeof *ms.m, cmp_msg);
    int written = 0;
    for (int i = 0; i < ms.n; i++) {
        if (i > 0 && ms.m[i].line == ms.m[i - 1].line && strcmp(ms.m[i].text, ms.m[i - 1].text) == 0)
            continue;
        fprintf(out, "%s:%d: %s\n", file, ms.m[i].line, ms.m[i].text);
        written++;
    }
    free(ms.m);
    return written;
}
