/*
 * wl_realloc.c - buffers that grow by appending.
 *
 * String builders and vectors are where realloc earns its keep: an
 * allocator that can grow a block in place (or remap its pages) saves the
 * copy, and one that keeps freed large blocks around saves the page faults.
 *
 *   malloc/realloc_append  four string builders, appended to in turn with
 *                          1..64-byte pieces, each append a realloc to the
 *                          exact new length (the naive builder many C
 *                          programs contain). A builder that reaches 1 MiB
 *                          is freed and starts again from empty, so every
 *                          size from a few bytes to 1 MiB is crossed.
 *                          One operation is one append (one realloc).
 *   malloc/realloc_vector  four vectors, grown in turn by doubling from
 *                          64 B to 1 MiB, each new half filled as a vector
 *                          would fill it; a full vector is freed and starts
 *                          again. The vectors start at different sizes so
 *                          they stay staggered. One operation is one
 *                          doubling realloc, copy and fill included.
 *
 * Interleaving several buffers keeps the block after each one occupied now
 * and then, so in-place growth is not free for the taking.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

enum {
    BUILDERS = 4,
    BUF_LIMIT = 1 << 20,  /* a buffer is dropped once it reaches 1 MiB */
    APPEND_TRACE = 4096,  /* append lengths before the trace repeats */
    APPEND_CHUNK = 1024,  /* appends per benchmark iteration */
    VEC_FIRST = 64,       /* first capacity of a vector, bytes */
    VEC_STEPS = 15,       /* 64 B -> 1 MiB is 14 doublings, plus the first */
};

struct buffer {
    char *p;
    size_t len;
};

static void realloc_append(struct tc_bench_state *st) {
    unsigned char lens[APPEND_TRACE];
    uint64_t seed = TCB_SEED;
    for (int i = 0; i < APPEND_TRACE; i++) lens[i] = (unsigned char)tcb_uniform(&seed, 1, 64);
    struct buffer b[BUILDERS] = {{0}};
    size_t pos = 0;
    while (tc_bench_keep_running(st)) {
        for (int k = 0; k < APPEND_CHUNK; k++) {
            struct buffer *s = &b[k % BUILDERS];
            size_t add = lens[pos];
            pos = (pos + 1) % APPEND_TRACE;
            char *p = realloc(s->p, s->len + add);
            if (p == NULL) tcb_oom(s->len + add);
            memset(p + s->len, 'a' + k % 26, add);
            s->p = p;
            s->len += add;
            if (s->len >= BUF_LIMIT) {
                free(s->p);
                s->p = NULL;
                s->len = 0;
            }
        }
    }
    tc_bench_set_items(st, tc_bench_iterations(st) * APPEND_CHUNK);
    for (int i = 0; i < BUILDERS; i++) free(b[i].p);
}

static void realloc_vector(struct tc_bench_state *st) {
    struct buffer v[BUILDERS]; /* len is the capacity, always filled */
    for (int i = 0; i < BUILDERS; i++) {
        /* Stagger: vector i starts i*VEC_STEPS/BUILDERS doublings in. */
        size_t cap = (size_t)VEC_FIRST << (i * VEC_STEPS / BUILDERS);
        v[i].p = malloc(cap);
        if (v[i].p == NULL) tcb_oom(cap);
        memset(v[i].p, 'v', cap);
        v[i].len = cap;
    }
    while (tc_bench_keep_running(st)) {
        for (int k = 0; k < BUILDERS * VEC_STEPS; k++) {
            struct buffer *s = &v[k % BUILDERS];
            size_t old = s->len, cap = old ? old * 2 : VEC_FIRST;
            char *p = realloc(s->p, cap);
            if (p == NULL) tcb_oom(cap);
            memset(p + old, 'v', cap - old);
            s->p = p;
            s->len = cap;
            if (cap >= BUF_LIMIT) { /* full: the next step regrows it */
                free(s->p);
                s->p = NULL;
                s->len = 0;
            }
        }
    }
    tc_bench_set_items(st, tc_bench_iterations(st) * BUILDERS * VEC_STEPS);
    for (int i = 0; i < BUILDERS; i++) free(v[i].p);
}

void tcb_register_realloc(void) {
    tcb_register(&(struct tc_bench_spec){
        .name = "malloc/realloc_append", .fn = realloc_append,
        .what = "one 1..64 B append (exact-size realloc), 4 builders to 1 MiB"});
    tcb_register(&(struct tc_bench_spec){
        .name = "malloc/realloc_vector", .fn = realloc_vector,
        .what = "one doubling realloc + fill, 4 vectors 64 B..1 MiB"});
}
