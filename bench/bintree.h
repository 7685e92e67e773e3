/* bintree.h - binary trees with explicit free (see bintree.c). */
#ifndef TC_BENCH_BINTREE_H
#define TC_BENCH_BINTREE_H

/* One whole run at maximum depth max_depth; returns the nodes made. */
long tcb_bintree_run(int max_depth);

#endif
