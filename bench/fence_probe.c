/* bench/fence_probe.c: how long this machine takes to fence every CPU.
 *
 * A stop that reads no stack (mark termination, gc/stw.c) waits 20 us for
 * the threads to answer by themselves; if one has not, it cannot tell a
 * thread outside the collector's regions from one just entering one
 * without a fence on every CPU running the program: membarrier(2), which
 * interrupts those CPUs and waits for each. That call's latency is then
 * part of the pause, and no collector code can make it shorter. This
 * program measures it in the conditions of such a stop: one thread
 * spinning on every other CPU, so that each call must interrupt them.
 *
 *   fence-probe [--calls=N] [--gap-us=U]
 *
 * prints one line, FENCEPROBE {json}: calls, spinning threads, and the
 * latency distribution in nanoseconds (p50, p99, p99.9, max, and how many
 * calls took over 100 us). Exit status 0; 1 when membarrier is missing. */
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static atomic_int done;

static void *spin(void *arg) {
    (void)arg;
    while (!atomic_load_explicit(&done, memory_order_relaxed)) continue;
    return NULL;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static long membarrier(int cmd) { return syscall(SYS_membarrier, cmd, 0, 0); }

int main(int argc, char **argv) {
    long calls = 10000, gap_us = 100;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--calls=", 8) == 0) calls = atol(argv[i] + 8);
        else if (strncmp(argv[i], "--gap-us=", 9) == 0) gap_us = atol(argv[i] + 9);
        else {
            fprintf(stderr, "fence-probe: unknown argument %s (--calls=N --gap-us=U)\n", argv[i]);
            return 2;
        }
    }
    if (calls < 1 || gap_us < 0) {
        fprintf(stderr, "fence-probe: --calls must be positive and --gap-us not negative\n");
        return 2;
    }
    if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) != 0) {
        fprintf(stderr, "fence-probe: membarrier(PRIVATE_EXPEDITED) is not available\n");
        return 1;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int nspin = ncpu > 1 ? (int)(ncpu - 1) : 0;
    pthread_t *tids = calloc((size_t)nspin + 1, sizeof *tids);
    uint64_t *lat = malloc((size_t)calls * sizeof *lat);
    if (!tids || !lat) {
        fprintf(stderr, "fence-probe: out of memory\n");
        return 2;
    }
    for (int i = 0; i < nspin; i++)
        if (pthread_create(&tids[i], NULL, spin, NULL) != 0) nspin = i;
    struct timespec gap = {0, gap_us * 1000};
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL); /* let them start */
    for (long i = 0; i < calls; i++) {
        uint64_t t0 = now_ns();
        membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
        lat[i] = now_ns() - t0;
        if (gap_us) nanosleep(&gap, NULL);
    }
    atomic_store(&done, 1);
    for (int i = 0; i < nspin; i++) pthread_join(tids[i], NULL);
    qsort(lat, (size_t)calls, sizeof *lat, cmp_u64);
    long over = 0;
    for (long i = 0; i < calls; i++) over += lat[i] > 100000;
    printf("FENCEPROBE {\"calls\":%ld,\"spinning_threads\":%d,\"p50_ns\":%llu,\"p99_ns\":%llu,"
           "\"p999_ns\":%llu,\"max_ns\":%llu,\"over_100us\":%ld}\n",
           calls, nspin, (unsigned long long)lat[calls / 2],
           (unsigned long long)lat[calls * 99 / 100], (unsigned long long)lat[calls * 999 / 1000],
           (unsigned long long)lat[calls - 1], over);
    free(lat);
    free(tids);
    return 0;
}
