/*
 * wl_bintree.c - binary trees with explicit free in the report.
 *
 *   malloc/bintree/D   one iteration is one whole run of bintree.c at
 *                      depth D; one operation is one 16-byte node (its
 *                      malloc, a write, a read and its free)
 *
 * tc-bintree (bintree_main.c) runs the same code once as a plain program,
 * for timing a whole process at depth 20 (2^21 nodes live at the peak).
 */
#include "bintree.h"
#include "workload.h"

static void bintree(struct tc_bench_state *st) {
    int depth = (int)tc_bench_arg(st, 0);
    int64_t nodes = 0;
    while (tc_bench_keep_running(st)) nodes += tcb_bintree_run(depth);
    tc_bench_set_items(st, nodes);
}

void tcb_register_bintree(void) {
    tcb_register(&(struct tc_bench_spec){
        .name = "malloc/bintree", .fn = bintree, .nargs = 1, .args = {16},
        .what = "one 16-byte tree node: malloc, write, read, free (binary trees)"});
}
