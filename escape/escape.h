/* escape/escape.h: Go's escape analysis over the IR (escape.c), the -m
 * diagnostics (diag.c) and the interpreter (interp.c). */
#ifndef TC_ESCAPE_ESCAPE_H
#define TC_ESCAPE_ESCAPE_H

#include <stdint.h>
#include <stdio.h>

#include "ir.h"

/* A parameter's leak summary, Go's `leaks` (escape/leaks.go): slot 0 is
 * the heap, slot 1+i is result i; each holds the minimal number of
 * dereferences + 1 on a flow from the parameter there, 0 for no flow,
 * saturating at 255. */
struct tc_escape_leaks {
    uint8_t slot[1 + TC_IR_NUM_ESC_RESULTS];
};

/* Heap derefs of the leak, or -1 when there is no flow. */
static inline int tc_escape_leak_heap(const struct tc_escape_leaks *l) { return (int)l->slot[0] - 1; }
static inline int tc_escape_leak_result(const struct tc_escape_leaks *l, int i) { return (int)l->slot[1 + i] - 1; }

struct tc_escape_func_result {
    uint8_t *site_heap;               /* per site: 1 = heap, 0 = stack */
    struct tc_escape_leaks *params;   /* per parameter, after Go's Optimize */
};

struct tc_escape_result {
    struct tc_escape_func_result *funcs;  /* per function */
    int nfuncs;
};

/* Analyse the whole program. Returns 0, or -1 when memory runs out. */
int tc_escape_analyze(const struct tc_ir_prog *p, struct tc_escape_result *out);
void tc_escape_result_free(struct tc_escape_result *r);

/* Write the -m lines for the program, in source order, each prefixed
 * with "file:LINE: ". Returns the number of lines written. */
int tc_escape_diag_print(FILE *out, const char *file, const struct tc_ir_prog *p,
                         const struct tc_escape_result *r);

/* ---- the interpreter -------------------------------------------------- */

struct tc_escape_run_opts {
    int check;              /* poison dead frames, report unsound accesses */
    int all_heap;           /* ignore the decisions: every object on the heap */
    int all_stack;          /* testing the checker: every object the analysis
                               could place is put on the stack (make and the
                               size-forced sites stay on the heap) */
    uint64_t max_steps;     /* statements executed before giving up */
    int max_depth;          /* nested calls before giving up */
    uint64_t max_object;    /* bytes in one object */
    uint64_t max_stack;     /* bytes of interpreter stack (frames) */
};

/* The defaults used by the command line. */
void tc_escape_run_opts_default(struct tc_escape_run_opts *o);

enum tc_escape_run_status {
    TC_RUN_OK = 0,
    TC_RUN_FAULT = 2,       /* the program faulted: nil deref, bounds, limits */
    TC_RUN_UNSOUND = 3,     /* --check caught a wrong stack decision */
    TC_RUN_NOMEM = 4,       /* the interpreter itself ran out of memory */
};

struct tc_escape_run_report {
    enum tc_escape_run_status status;
    int line;                       /* where the fault or unsound access happened */
    char msg[256];
    uint64_t stack_allocs, stack_bytes;
    uint64_t heap_allocs, heap_bytes;
    uint64_t steps;
};

/* Run func main of p with the decisions in r (ignored with all_heap);
 * print statements write to out. Fills *rep and returns rep->status. */
enum tc_escape_run_status tc_escape_run(const struct tc_ir_prog *p, const struct tc_escape_result *r,
                                        const struct tc_escape_run_opts *o, FILE *out,
                                        struct tc_escape_run_report *rep);

#endif /* TC_ESCAPE_ESCAPE_H */
