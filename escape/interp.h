/* escape/interp.h: the interpreter's memory model (mem.c), shared with
 * the statement executor (interp.c). Private to escape/.
 *
 * Every IR word is a struct tc_escape_val: a pointer to the header of the
 * object it points into (NULL for nil), a byte offset, and the header's
 * incarnation number at the time the pointer was made. A heap object is
 * one block from heap.c: its header followed by its words, so a value
 * pointing at it holds the block's address, which is what a conservative
 * collector needs to see. A stack object keeps its words in its frame
 * and its header in a pool; the header is retired (incarnation 0) when
 * the frame returns or the statement that made it runs again, and every
 * pointer made before that is then recognisably stale. */
#ifndef TC_ESCAPE_INTERP_H
#define TC_ESCAPE_INTERP_H

#include "escape.h"
#include "heap.h"

struct tc_escape_obj;

struct tc_escape_val {
    struct tc_escape_obj *obj; /* NULL = nil */
    uint32_t off;              /* bytes into the object */
    uint32_t gen;              /* obj->gen when the pointer was made */
};

enum tc_escape_death { TC_ALIVE, TC_DIED_RETURN, TC_DIED_RERUN };

struct tc_escape_obj {
    struct tc_escape_val *cells;    /* ceil(size/8) words */
    uint64_t size;                  /* bytes */
    uint64_t frame;                 /* owning frame's serial; 0 on the heap */
    const struct tc_ir_func *func;  /* where its site is */
    const struct tc_ir_site *site;
    struct tc_escape_obj *next_free;
    uint32_t gen;                   /* incarnation; 0 once dead */
    uint8_t death;                  /* enum tc_escape_death */
};

/* Where a function's frame keeps things, in words (struct tc_escape_val). */
struct tc_escape_layout {
    size_t nslots;      /* whole frame */
    size_t site_ref;    /* first of nsites slots: current incarnation per site */
    size_t results;     /* first of nresults slots */
    size_t *site_cells; /* per site: first word of its stack storage */
    uint8_t *on_heap;   /* per site: placement for this run */
};

struct tc_escape_chunk {
    struct tc_escape_chunk *prev, *next_spare;
    size_t cap, used; /* words */
    struct tc_escape_val mem[];
};

struct tc_escape_frame {
    const struct tc_ir_func *f;
    int fi;                          /* function index */
    const struct tc_escape_layout *lay;
    struct tc_escape_val *slots;
    struct tc_escape_chunk *chunk;   /* where the frame starts */
    size_t base;
    uint64_t serial;
};

struct tc_escape_interp {
    const struct tc_ir_prog *prog;
    const struct tc_escape_result *res;
    const struct tc_escape_run_opts *o;
    FILE *out;
    struct tc_escape_run_report *rep;
    struct tc_escape_heap *heap;
    struct tc_escape_layout *layouts;   /* per function */
    struct tc_escape_val *globals;      /* from the heap: scanned as a root block */
    struct tc_escape_chunk *chunk;      /* top of the frame stack */
    struct tc_escape_chunk *spares;
    size_t stack_words;                 /* in frames now */
    struct tc_escape_obj *free_head, *free_tail; /* retired stack headers, FIFO */
    size_t nfree;
    void **slabs;                       /* header slabs, for freeing */
    size_t nslabs;
    struct tc_escape_obj *slab_next, *slab_end;
    struct tc_escape_obj poison;        /* what dead frames are filled with */
    uint32_t gen;
    uint64_t serial;
    int depth, nest;
};

/* The only ways the interpreter writes an IR word into its memory (frames,
 * objects, globals, all from heap.c): the pointer goes through the heap's
 * store, so a collector's write barrier sees every one. */
static inline void tc_escape_set(struct tc_escape_val *slot, struct tc_escape_val v)
{
    tc_escape_heap_store((void **)&slot->obj, v.obj);
    slot->off = v.off;
    slot->gen = v.gen;
}

static inline void tc_escape_clear(struct tc_escape_val *slots, size_t n)
{
    static const struct tc_escape_val nil;
    for (size_t i = 0; i < n; i++) tc_escape_set(&slots[i], nil);
}

/* Record a fault (status 2), an unsound access (3) or running out of
 * memory (4) at line; returns -1 so callers can `return fault(...)`. */
int tc_escape_fail(struct tc_escape_interp *in, enum tc_escape_run_status st, int line,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

int tc_escape_mem_init(struct tc_escape_interp *in);
void tc_escape_mem_fini(struct tc_escape_interp *in);

/* Push/pop a frame for function fi. push returns -1 on overflow. */
int tc_escape_frame_push(struct tc_escape_interp *in, int fi, int line, struct tc_escape_frame *fr);
void tc_escape_frame_pop(struct tc_escape_interp *in, struct tc_escape_frame *fr);

/* Run site `site` of the frame's function: a new zeroed object on the
 * stack or the heap; *out (a C variable) gets the pointer to it. */
int tc_escape_new_object(struct tc_escape_interp *in, struct tc_escape_frame *fr, int site, int line,
                         struct tc_escape_val *out);

/* Whether p may be used: always outside check mode; in check mode, only
 * if its object is still the incarnation it was made for. */
static inline int tc_escape_live(const struct tc_escape_interp *in, struct tc_escape_val p)
{
    return !in->o->check || (p.obj && p.obj->gen == p.gen && p.obj != &in->poison);
}

/* "new(16) at line 5 in f" for messages. */
void tc_escape_describe(const struct tc_escape_obj *o, char *buf, size_t n);

#endif /* TC_ESCAPE_INTERP_H */
