/*
 * pairloop.c - the tightest malloc(32)/free loop, for instruction counts.
 *
 * Run under `valgrind --tool=callgrind --toggle-collect=tcb_pair_loop`
 * with each allocator preloaded: callgrind counts only instructions
 * executed inside tcb_pair_loop (callees included), which divided by the
 * pair count is the fast-path cost of malloc(32)+free in instructions, a
 * figure that does not depend on the noise of a shared machine. A warm-up
 * loop first takes the one-time costs (lazy binding, allocator and thread
 * cache initialisation) outside the counted function.
 *
 * Usage: tc-pairloop [PAIRS]   (default 1000000)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "malloc_id.h"

/* Keep p alive in the compiler's eyes: malloc/free pairs may be elided. */
static inline void escape(void *p) {
    __asm__ volatile("" : : "r"(p) : "memory");
}

__attribute__((noinline)) void tcb_pair_loop(long pairs);
__attribute__((noinline)) void tcb_pair_loop(long pairs) {
    for (long i = 0; i < pairs; i++) {
        void *p = malloc(32);
        if (p == NULL) abort();
        escape(p);
        free(p);
    }
}

/* Not the same code as tcb_pair_loop (it fills the object): identical
 * functions get folded into one symbol, and callgrind would then name the
 * counted loop after this one. */
__attribute__((noinline)) static void warm_up(long pairs) {
    for (long i = 0; i < pairs; i++) {
        void *p = malloc(32);
        if (p == NULL) abort();
        memset(p, (int)i, 32);
        escape(p);
        free(p);
    }
}

int main(int argc, char **argv) {
    long pairs = 1000000;
    if (argc > 2) {
        fprintf(stderr, "usage: tc-pairloop [PAIRS]\n");
        return 2;
    }
    if (argc == 2) {
        char *end;
        errno = 0;
        pairs = strtol(argv[1], &end, 10);
        if (errno != 0 || *end != '\0' || pairs <= 0) {
            fprintf(stderr, "tc-pairloop: bad pair count '%s'\n", argv[1]);
            return 2;
        }
    }
    if (tcb_check_malloc_lib("tc-pairloop") != 0) return 3;
    char lib[1024];
    warm_up(1000);
    tcb_pair_loop(pairs);
    printf("pairs=%ld malloc_lib=%s\n", pairs, tcb_malloc_lib(lib, sizeof lib));
    return 0;
}
