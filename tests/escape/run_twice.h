/* tests/escape/run_twice.h: the check fuzz_test.c and libfuzzer_target.c
 * make of an accepted program: run it with its decisions under --check,
 * then with every object on the heap, with small limits. Nothing may be
 * unsound, and both runs must print the same and end the same way, except
 * where the stack limit strikes (frame sizes depend on placement). */
#ifndef TC_TESTS_ESCAPE_RUN_TWICE_H
#define TC_TESTS_ESCAPE_RUN_TWICE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

struct run_twice {
    int s1, s2;                         /* statuses: decisions, all on the heap */
    struct tc_escape_run_report r1, r2;
    char *o1, *o2;                      /* what each printed */
    size_t n1, n2;
};

static inline int run_twice_one(const struct tc_ir_prog *p, const struct tc_escape_result *r,
                                int all_heap, char **out, size_t *len,
                                struct tc_escape_run_report *rep)
{
    struct tc_escape_run_opts o;
    tc_escape_run_opts_default(&o);
    o.check = !all_heap;
    o.all_heap = all_heap;
    o.max_steps = 5000;
    o.max_depth = 32;
    o.max_object = 1 << 20;
    o.max_stack = 16 << 20;
    FILE *f = open_memstream(out, len);
    if (!f) abort();
    int st = (int)tc_escape_run(p, r, &o, f, rep);
    fclose(f);
    return st;
}

/* Run p both ways into *rt; 1 if the runs are unsound or disagree. The
 * caller frees rt->o1 and rt->o2. */
static inline int run_twice(const struct tc_ir_prog *p, const struct tc_escape_result *r,
                            struct run_twice *rt)
{
    rt->o1 = rt->o2 = NULL;
    rt->n1 = rt->n2 = 0;
    rt->s1 = run_twice_one(p, r, 0, &rt->o1, &rt->n1, &rt->r1);
    rt->s2 = run_twice_one(p, r, 1, &rt->o2, &rt->n2, &rt->r2);
    int overflow = strstr(rt->r1.msg, "stack overflow") || strstr(rt->r2.msg, "stack overflow");
    return rt->s1 == TC_RUN_UNSOUND || rt->s1 == TC_RUN_NOMEM || rt->s2 == TC_RUN_NOMEM ||
           (!overflow && (rt->s1 != rt->s2 || rt->n1 != rt->n2 ||
                          memcmp(rt->o1, rt->o2, rt->n1) != 0 || rt->r1.line != rt->r2.line));
}

#endif
