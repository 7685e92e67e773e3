/* bench/gcbench.h: what the collector benchmarks (gc_pause.c,
 * gc_workloads.c) share: the clock, their seeded generator, and numeric
 * options checked against their range (a bad one: one line, exit 2). */
#ifndef TC_BENCH_GCBENCH_H
#define TC_BENCH_GCBENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t gcb_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64: the same sequence in the Go peers. */
static inline uint64_t gcb_rnd(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The value of option --name=arg, which must be a number in [lo, hi]. */
static inline double gcb_num(const char *prog, const char *arg, const char *name, double lo, double hi) {
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "%s: --%s=%s: expected a number in [%g, %g]\n", prog, name, arg, lo, hi);
        exit(2);
    }
    return v;
}

#endif
