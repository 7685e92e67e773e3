/* hello_gc.c: lists on the collected heap, dropped and collected. */
#include <stdio.h>
#include <tricolor.h>

struct node {
    struct node *next;
    long value;
};

int main(void) {
    long sum = 0;
    for (int round = 0; round < 100; round++) {
        struct node *list = NULL;                 /* a local: no barrier */
        for (long i = 1; i <= 10000; i++) {
            struct node *n = gc_alloc(sizeof *n); /* zeroed, never freed by hand */
            n->value = i;                         /* not a pointer: plain store */
            GC_STORE(n->next, list);              /* a pointer into the heap */
            list = n;
        }
        for (struct node *n = list; n; n = n->next) sum += n->value;
    }                                             /* each list is garbage now */
    gc_collect();                                 /* a full cycle, sweep included */
    struct gc_stats st = GC_STATS_INIT;
    gc_read_stats(&st);
    int ok = st.gc_freed >= 900000;               /* of the 1000000 nodes */
    printf("sum %ld, %s\n", sum, ok ? "garbage collected" : "NOT collected");
    return ok ? 0 : 1;
}
