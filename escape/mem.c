/* escape/mem.c: objects, frames and the frame stack of the interpreter.
 *
 * Placement. At the start of a run each function gets a frame layout:
 * one word per name (a var's word holds a pointer to its current object),
 * one word per site holding the site's current stack incarnation, one per
 * result, then the storage of every site placed on the stack. Sites on
 * the heap get no storage in the frame; each execution allocates a block
 * through heap.c. A stack site's storage is reused each time the site
 * runs again, exactly as Go reuses one stack slot per allocation site
 * inside a loop; the previous incarnation dies then.
 *
 * The frame stack is a list of chunks allocated from heap.c (so the
 * collector will scan them); a frame never straddles two chunks, and a
 * chunk emptied by a return is kept as a spare. Chunks are freed only at
 * the end of the run, so even a stale pointer never reaches freed memory.
 *
 * Death. A stack object dies when its frame returns or its site runs
 * again. Its header's incarnation becomes 0, so in check mode every
 * pointer made earlier fails tc_escape_live(); the dead frame is then
 * filled with poison values. Retired headers are reused first-in
 * first-out after a delay, so that a report about a stale pointer can
 * still name the object it pointed to. */
#include "interp.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_WORDS ((size_t)1 << 16)  /* 1 MiB of 16-byte words */
#define SLAB_HEADERS 256
#define REUSE_DELAY 1024              /* retired headers kept before reuse */

int tc_escape_fail(struct tc_escape_interp *in, enum tc_escape_run_status st, int line,
                   const char *fmt, ...)
{
    va_list ap;
    if (in->rep->status != TC_RUN_OK) return -1; /* keep the first */
    in->rep->status = st;
    in->rep->line = line;
    va_start(ap, fmt);
    vsnprintf(in->rep->msg, sizeof in->rep->msg, fmt, ap);
    va_end(ap);
    return -1;
}

void tc_escape_describe(const struct tc_escape_obj *o, char *buf, size_t n)
{
    const struct tc_ir_site *s = o->site;
    if (!s) {
        snprintf(buf, n, "a dead frame's poison");
    } else if (s->op == TC_IR_VAR) {
        snprintf(buf, n, "var %s at line %d in %s", o->func->names[s->name].name, s->line, o->func->name);
    } else if (s->op == TC_IR_NEW) {
        snprintf(buf, n, "new(%llu) at line %d in %s", (unsigned long long)s->size, s->line, o->func->name);
    } else {
        snprintf(buf, n, "make at line %d in %s", s->line, o->func->name);
    }
}

int tc_escape_mem_init(struct tc_escape_interp *in)
{
    const struct tc_ir_prog *p = in->prog;
    in->heap = tc_escape_heap_open();
    in->layouts = calloc((size_t)p->nfuncs + 1, sizeof *in->layouts);
    if (!in->heap || !in->layouts) return -1;
    in->globals = tc_escape_heap_alloc(in->heap, ((size_t)p->nglobals + 1) * sizeof *in->globals);
    if (!in->globals) return -1;
    for (int i = 0; i < p->nfuncs; i++) {
        const struct tc_ir_func *f = &p->funcs[i];
        struct tc_escape_layout *l = &in->layouts[i];
        l->site_cells = calloc((size_t)f->nsites + 1, sizeof *l->site_cells);
        l->on_heap = calloc((size_t)f->nsites + 1, 1);
        if (!l->site_cells || !l->on_heap) return -1;
        l->site_ref = (size_t)f->nnames;
        l->results = l->site_ref + (size_t)f->nsites;
        size_t next = l->results + (size_t)f->nresults;
        for (int s = 0; s < f->nsites; s++) {
            uint64_t size = f->sites[s].size;
            const struct tc_ir_site *st = &f->sites[s];
            int forced = st->op == TC_IR_MAKE ||
                         (st->op == TC_IR_VAR && size > TC_IR_MAX_STACK_VAR) ||
                         (st->op == TC_IR_NEW && size > TC_IR_MAX_IMPLICIT_STACK);
            if (in->o->all_heap) l->on_heap[s] = 1;
            else if (in->o->all_stack) l->on_heap[s] = (uint8_t)forced;
            else l->on_heap[s] = in->res->funcs[i].site_heap[s];
            l->site_cells[s] = next;
            /* An object over the limit faults when its site runs; it
             * takes no frame space. */
            if (!l->on_heap[s] && size <= in->o->max_object) next += (size_t)((size + 7) / 8);
        }
        l->nslots = next;
    }
    in->poison.gen = 0;
    return 0;
}

void tc_escape_mem_fini(struct tc_escape_interp *in)
{
    for (int i = 0; in->layouts && i < in->prog->nfuncs; i++) {
        free(in->layouts[i].site_cells);
        free(in->layouts[i].on_heap);
    }
    free(in->layouts);
    for (size_t i = 0; i < in->nslabs; i++) free(in->slabs[i]);
    free(in->slabs);
    tc_escape_heap_close(in->heap); /* chunks, globals and heap objects */
}

static struct tc_escape_obj *header_get(struct tc_escape_interp *in)
{
    if (in->nfree > REUSE_DELAY) {
        struct tc_escape_obj *o = in->free_head;
        in->free_head = o->next_free;
        if (!in->free_head) in->free_tail = NULL;
        in->nfree--;
        return o;
    }
    if (in->slab_next == in->slab_end) {
        void **s = realloc(in->slabs, (in->nslabs + 1) * sizeof *s);
        if (!s) return NULL;
        in->slabs = s;
        struct tc_escape_obj *slab = calloc(SLAB_HEADERS, sizeof *slab);
        if (!slab) return NULL;
        in->slabs[in->nslabs++] = slab;
        in->slab_next = slab;
        in->slab_end = slab + SLAB_HEADERS;
    }
    return in->slab_next++;
}

static void retire(struct tc_escape_interp *in, struct tc_escape_obj *o, enum tc_escape_death why)
{
    o->gen = 0;
    o->death = (uint8_t)why;
    o->next_free = NULL;
    if (in->free_tail) in->free_tail->next_free = o;
    else in->free_head = o;
    in->free_tail = o;
    in->nfree++;
}

int tc_escape_frame_push(struct tc_escape_interp *in, int fi, int line, struct tc_escape_frame *fr)
{
    const struct tc_escape_layout *l = &in->layouts[fi];
    size_t n = l->nslots ? l->nslots : 1;
    if ((in->stack_words + n) > in->o->max_stack / sizeof(struct tc_escape_val))
        return tc_escape_fail(in, TC_RUN_FAULT, line,
                              "interpreter stack overflow calling %s (the limit is %llu bytes)",
                              in->prog->funcs[fi].name, (unsigned long long)in->o->max_stack);
    struct tc_escape_chunk *c = in->chunk;
    if (!c || c->cap - c->used < n) {
        struct tc_escape_chunk **sp = &in->spares;
        while (*sp && (*sp)->cap < n) sp = &(*sp)->next_spare;
        if (*sp) {
            c = *sp;
            tc_escape_heap_store((void **)sp, c->next_spare);
        } else {
            size_t cap = n > CHUNK_WORDS ? n : CHUNK_WORDS;
            c = tc_escape_heap_alloc(in->heap, sizeof *c + cap * sizeof c->mem[0]);
            if (!c) return tc_escape_fail(in, TC_RUN_NOMEM, line, "out of memory for a frame of %s",
                                          in->prog->funcs[fi].name);
            c->cap = cap;
        }
        c->used = 0;
        tc_escape_heap_store((void **)&c->prev, in->chunk);
        in->chunk = c;
    }
    fr->f = &in->prog->funcs[fi];
    fr->fi = fi;
    fr->lay = l;
    fr->chunk = c;
    fr->base = c->used;
    fr->slots = c->mem + c->used;
    fr->serial = ++in->serial;
    tc_escape_clear(fr->slots, n);
    c->used += n;
    in->stack_words += n;
    return 0;
}

void tc_escape_frame_pop(struct tc_escape_interp *in, struct tc_escape_frame *fr)
{
    const struct tc_escape_layout *l = fr->lay;
    size_t n = l->nslots ? l->nslots : 1;
    for (int s = 0; s < fr->f->nsites; s++) {
        struct tc_escape_val *ref = &fr->slots[l->site_ref + (size_t)s];
        if (ref->obj && ref->obj->gen == ref->gen) retire(in, ref->obj, TC_DIED_RETURN);
    }
    if (in->o->check) {
        struct tc_escape_val poison = {&in->poison, 0xdeadbeefu, 0};
        for (size_t i = 0; i < n; i++) tc_escape_set(&fr->slots[i], poison);
    }
    struct tc_escape_chunk *c = fr->chunk;
    c->used = fr->base;
    in->stack_words -= n;
    if (c->used == 0 && c->prev) { /* keep the emptied chunk as a spare */
        in->chunk = c->prev;
        tc_escape_heap_store((void **)&c->next_spare, in->spares);
        in->spares = c;
    }
}

int tc_escape_new_object(struct tc_escape_interp *in, struct tc_escape_frame *fr, int site, int line,
                         struct tc_escape_val *out)
{
    const struct tc_ir_site *st = &fr->f->sites[site];
    struct tc_escape_run_report *rep = in->rep;
    if (st->size > in->o->max_object)
        return tc_escape_fail(in, TC_RUN_FAULT, line, "object of %llu bytes is larger than the interpreter's limit of %llu",
                              (unsigned long long)st->size, (unsigned long long)in->o->max_object);
    if (in->gen == UINT32_MAX)
        return tc_escape_fail(in, TC_RUN_FAULT, line, "too many objects for one run");
    size_t words = (size_t)((st->size + 7) / 8);
    struct tc_escape_obj *o;
    if (fr->lay->on_heap[site]) {
        o = tc_escape_heap_alloc(in->heap, sizeof *o + words * sizeof(struct tc_escape_val));
        if (!o) return tc_escape_fail(in, TC_RUN_NOMEM, line, "out of memory for %llu bytes",
                                      (unsigned long long)st->size);
        /* A fresh block: its header fields point into itself or into the
         * program (malloc'd), never at another collected object. */
        o->cells = (struct tc_escape_val *)(o + 1);
        o->frame = 0;
        rep->heap_allocs++;
        rep->heap_bytes += st->size;
    } else {
        struct tc_escape_val *ref = &fr->slots[fr->lay->site_ref + (size_t)site];
        if (ref->obj && ref->obj->gen == ref->gen) retire(in, ref->obj, TC_DIED_RERUN);
        if (!(o = header_get(in))) return tc_escape_fail(in, TC_RUN_NOMEM, line, "out of memory");
        o->cells = fr->slots + fr->lay->site_cells[site];
        tc_escape_clear(o->cells, words);
        o->frame = fr->serial;
        rep->stack_allocs++;
        rep->stack_bytes += st->size;
    }
    o->size = st->size;
    o->func = fr->f;
    o->site = st;
    o->gen = ++in->gen;
    o->death = TC_ALIVE;
    o->next_free = NULL;
    *out = (struct tc_escape_val){o, 0, o->gen};
    if (!fr->lay->on_heap[site]) tc_escape_set(&fr->slots[fr->lay->site_ref + (size_t)site], *out);
    return 0;
}
