/* escape/ir.c: building and freeing the in-memory IR.
 *
 * Only the parser builds a program, through the small growable-array
 * helpers below; everything else treats the program as read-only. Arrays
 * grow by doubling; on allocation failure a helper returns NULL or -1 and
 * leaves the program consistent, so tc_ir_free can always release it.
 * Name and global lookups are linear: IR functions are small, and the
 * parser looks each name up once per occurrence. */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

char *tc_ir_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Make room for one more element of size elt in *arr (count n, capacity
 * *cap). Returns 0, or -1 when memory runs out. */
static int grow(void **arr, int n, int *cap, size_t elt)
{
    if (n < *cap) return 0;
    int ncap = *cap ? *cap * 2 : 8;
    void *a = realloc(*arr, (size_t)ncap * elt);
    if (!a) return -1;
    memset((char *)a + (size_t)*cap * elt, 0, (size_t)(ncap - *cap) * elt);
    *arr = a;
    *cap = ncap;
    return 0;
}

struct tc_ir_stmt *tc_ir_block_push(struct tc_ir_block *b)
{
    if (grow((void **)&b->stmts, b->n, &b->cap, sizeof *b->stmts)) return NULL;
    struct tc_ir_stmt *s = &b->stmts[b->n++];
    memset(s, 0, sizeof *s);
    s->dst = s->src = TC_IR_NONE;
    s->site = s->loop_id = -1;
    return s;
}

int tc_ir_func_add_name(struct tc_ir_func *f, const char *name, enum tc_ir_name_kind kind,
                        int line, int depth)
{
    if (grow((void **)&f->names, f->nnames, &f->cap_names, sizeof *f->names)) return -1;
    struct tc_ir_name *n = &f->names[f->nnames];
    n->name = tc_ir_strdup(name);
    if (!n->name) return -1;
    n->kind = kind;
    n->line = line;
    n->def_depth = n->hold_depth = depth;
    n->site = -1;
    return f->nnames++;
}

int tc_ir_func_add_site(struct tc_ir_func *f, enum tc_ir_op op, int line, int depth,
                        uint64_t size, int name)
{
    if (grow((void **)&f->sites, f->nsites, &f->cap_sites, sizeof *f->sites)) return -1;
    f->sites[f->nsites] = (struct tc_ir_site){op, line, depth, size, name};
    return f->nsites++;
}

int tc_ir_func_find_name(const struct tc_ir_func *f, const char *name)
{
    for (int i = 0; i < f->nnames; i++)
        if (strcmp(f->names[i].name, name) == 0) return i;
    return -1;
}

int tc_ir_prog_find_global(const struct tc_ir_prog *p, const char *name)
{
    for (int i = 0; i < p->nglobals; i++)
        if (strcmp(p->globals[i].name, name) == 0) return i;
    return -1;
}

int tc_ir_prog_find_func(const struct tc_ir_prog *p, const char *name)
{
    for (int i = 0; i < p->nfuncs; i++)
        if (strcmp(p->funcs[i].name, name) == 0) return i;
    return -1;
}

const char *tc_ir_ref_name(const struct tc_ir_prog *p, const struct tc_ir_func *f, int ref)
{
    if (tc_ir_is_global(ref)) return p->globals[tc_ir_global_index(ref)].name;
    if (ref >= 0 && ref < f->nnames) return f->names[ref].name;
    return "?";
}

static void free_block(struct tc_ir_block *b)
{
    for (int i = 0; i < b->n; i++) {
        struct tc_ir_stmt *s = &b->stmts[i];
        free(s->callee_name);
        free(s->args);
        free(s->outs);
        free_block(&s->body);
        free_block(&s->els);
    }
    free(b->stmts);
}

void tc_ir_free(struct tc_ir_prog *p)
{
    if (!p) return;
    for (int i = 0; i < p->nglobals; i++) free(p->globals[i].name);
    free(p->globals);
    for (int i = 0; i < p->nfuncs; i++) {
        struct tc_ir_func *f = &p->funcs[i];
        free(f->name);
        for (int j = 0; j < f->nnames; j++) free(f->names[j].name);
        free(f->names);
        free(f->sites);
        free_block(&f->body);
    }
    free(p->funcs);
    free(p);
}

int tc_ir_prog_add_global(struct tc_ir_prog *p, const char *name, int line)
{
    if (grow((void **)&p->globals, p->nglobals, &p->cap_globals, sizeof *p->globals)) return -1;
    char *d = tc_ir_strdup(name);
    if (!d) return -1;
    p->globals[p->nglobals] = (struct tc_ir_global){d, line};
    return p->nglobals++;
}

int tc_ir_prog_add_func(struct tc_ir_prog *p, const char *name, int line)
{
    if (grow((void **)&p->funcs, p->nfuncs, &p->cap_funcs, sizeof *p->funcs)) return -1;
    struct tc_ir_func *f = &p->funcs[p->nfuncs];
    memset(f, 0, sizeof *f);
    f->name = tc_ir_strdup(name);
    if (!f->name) return -1;
    f->line = line;
    return p->nfuncs++;
}
