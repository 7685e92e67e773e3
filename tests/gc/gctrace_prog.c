/* tests/gc/gctrace_prog.c: cycles for tests/gc/gctrace_format.py to read
 * the GODEBUG=gctrace=1 lines of: a forced cycle 47 ms after start (its
 * "@0.047s"-style time is checked against what this program prints), then
 * trees of 16-byte nodes allocated until automatic cycles ran, then a
 * forced one. gctrace/main.go does the same in Go. */
#include <stdio.h>
#include <time.h>

#include <tricolor.h>

struct node {
    struct node *l, *r;
};

static struct node *tree(int d) {
    struct node *n = gc_alloc(sizeof *n);
    if (d > 0) {
        GC_STORE(n->l, tree(d - 1));
        GC_STORE(n->r, tree(d - 1));
    }
    return n;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct node *sink;

int main(void) {
    double start = now();
    struct timespec ts = {0, 47 * 1000 * 1000};
    nanosleep(&ts, NULL);
    printf("%.3f\n", now() - start);
    fflush(stdout);
    gc_collect();
    for (int i = 0; i < 40; i++) GC_STORE(sink, tree(14));
    gc_collect();
    nanosleep(&ts, NULL); /* as the Go twin, which may still be printing */
    return 0;
}
