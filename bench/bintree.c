/*
 * bintree.c - binary trees with explicit free (the shape of the
 * benchmarks game's binary-trees, written for malloc and free).
 *
 * A node is two pointers (16 bytes). For a maximum depth D: one tree of
 * depth D+1 is built, checked and freed (the stretch tree); one tree of
 * depth D is built and kept; then for d = 4, 6, ..., D, 2^(D-d+4) trees of
 * depth d are built, checked (a recursive node count) and freed, children
 * before parents; last the long-lived tree is freed. Every node is written
 * once when made and read once when checked: the allocator's cost, the
 * locality of what it hands out and its freeing of whole trees dominate.
 *
 * Used by malloc/bintree/D (wl_bintree.c) and by the plain program
 * tc-bintree (bintree_main.c), so it depends on nothing but libc.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bintree.h"

struct node {
    struct node *left, *right;
};

static struct node *make(int depth) {
    struct node *n = malloc(sizeof *n);
    if (n == NULL) {
        fprintf(stderr, "bintree: malloc(%zu) returned NULL\n", sizeof *n);
        abort();
    }
    if (depth > 0) {
        n->left = make(depth - 1);
        n->right = make(depth - 1);
    } else {
        n->left = n->right = NULL;
    }
    return n;
}

static long check(const struct node *n) {
    return 1 + (n->left ? check(n->left) + check(n->right) : 0);
}

static void drop(struct node *n) {
    if (n->left) {
        drop(n->left);
        drop(n->right);
    }
    free(n);
}

static long build_check_drop(int depth) {
    struct node *t = make(depth);
    long c = check(t);
    drop(t);
    return c;
}

long tcb_bintree_run(int max_depth) {
    long nodes = build_check_drop(max_depth + 1);
    struct node *keep = make(max_depth);
    for (int d = 4; d <= max_depth; d += 2)
        for (long i = 0, n = 1L << (max_depth - d + 4); i < n; i++) nodes += build_check_drop(d);
    nodes += check(keep);
    drop(keep);
    return nodes;
}

