/*
 * bintree_main.c - tc-bintree DEPTH: binary trees with explicit free, one
 * whole run as a plain process (see wl_bintree.c), for timing a process
 * under each allocator (depth 20 is the usual figure). Prints the node
 * count, the seconds taken and the object that provides malloc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bintree.h"
#include "malloc_id.h"

int main(int argc, char **argv) {
    char *end = NULL;
    long depth = argc == 2 ? strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || *end != '\0' || depth < 4 || depth > 26) {
        fprintf(stderr, "usage: tc-bintree DEPTH   (4..26)\n");
        return 2;
    }
    if (tcb_check_malloc_lib("tc-bintree") != 0) return 3;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    long nodes = tcb_bintree_run((int)depth);
    clock_gettime(CLOCK_MONOTONIC, &b);
    char lib[1024];
    printf("depth=%ld nodes=%ld seconds=%.3f malloc_lib=%s\n", depth, nodes,
           (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9,
           tcb_malloc_lib(lib, sizeof lib));
    return 0;
}
