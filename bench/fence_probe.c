/* bench/fence_probe.c: this machine's floor under a pause.
 *
 * Two measurements, each with a thread spinning on every other CPU (as
 * the program's threads are during a collection):
 *
 * Fence. A stop that reads no stack (mark termination, gc/stw.c) and the
 * handshakes that start marking cannot tell a thread outside the
 * collector's regions from one just entering one without a fence on every
 * CPU running the program: membarrier(2), which interrupts those CPUs and
 * waits for each. The collector makes that call before a pause, not in
 * it, so its latency delays a stop but is not part of one. Timed here
 * over --calls calls, --gap-us apart.
 *
 * Stalls. A thread that never gives up its CPU reads the clock in a loop
 * for --stall-ms; a gap between two reads is time the CPU spent elsewhere
 * (an interrupt, the kernel, or the hypervisor running another guest).
 * The collector's thread is such a thread during a pause, so a pause of
 * d microseconds meets a stall of 100 us or more with a probability of
 * about d times their rate, whatever the collector does.
 *
 *   fence-probe [--calls=N] [--gap-us=U] [--stall-ms=M]
 *
 * prints one line, FENCEPROBE {json}: calls, spinning threads, the
 * fence's latency distribution in nanoseconds (p50, p99, p99.9, max, and
 * how many calls took over 100 us), then the stall test's length and its
 * stalls over 20, 50 and 100 us, and the longest. Exit status 0; 1 when
 * membarrier is missing. */
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

/* Gaps between consecutive clock reads of one running thread, for
 * length_ns: how many exceeded 20, 50 and 100 us, and the longest. */
struct stalls {
    long over[3];
    uint64_t max;
};
static struct stalls stalls(uint64_t length_ns) {
    static const uint64_t limit[3] = {20000, 50000, 100000};
    struct stalls st = {{0, 0, 0}, 0};
    uint64_t prev = now_ns(), end = prev + length_ns;
    while (prev < end) {
        uint64_t t = now_ns(), gap = t - prev;
        prev = t;
        for (int k = 0; k < 3; k++) st.over[k] += gap > limit[k];
        if (gap > st.max) st.max = gap;
    }
    return st;
}

static long membarrier(int cmd) { return syscall(SYS_membarrier, cmd, 0, 0); }

int main(int argc, char **argv) {
    long calls = 10000, gap_us = 100, stall_ms = 2000;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--calls=", 8) == 0) calls = atol(argv[i] + 8);
        else if (strncmp(argv[i], "--gap-us=", 9) == 0) gap_us = atol(argv[i] + 9);
        else if (strncmp(argv[i], "--stall-ms=", 11) == 0) stall_ms = atol(argv[i] + 11);
        else {
            fprintf(stderr, "fence-probe: unknown argument %s (--calls=N --gap-us=U --stall-ms=M)\n",
                    argv[i]);
            return 2;
        }
    }
    if (calls < 1 || gap_us < 0 || stall_ms < 1) {
        fprintf(stderr, "fence-probe: --calls and --stall-ms must be positive, --gap-us not negative\n");
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
    struct stalls st = stalls((uint64_t)stall_ms * 1000000u);
    atomic_store(&done, 1);
    for (int i = 0; i < nspin; i++) pthread_join(tids[i], NULL);
    qsort(lat, (size_t)calls, sizeof *lat, cmp_u64);
    long over = 0;
    for (long i = 0; i < calls; i++) over += lat[i] > 100000;
    printf("FENCEPROBE {\"calls\":%ld,\"spinning_threads\":%d,\"p50_ns\":%llu,\"p99_ns\":%llu,"
           "\"p999_ns\":%llu,\"max_ns\":%llu,\"over_100us\":%ld,\"stall_ms\":%ld,"
           "\"stalls_over_20us\":%ld,\"stalls_over_50us\":%ld,\"stalls_over_100us\":%ld,"
           "\"stall_max_ns\":%llu}\n",
           calls, nspin, (unsigned long long)lat[calls / 2],
           (unsigned long long)lat[calls * 99 / 100], (unsigned long long)lat[calls * 999 / 1000],
           (unsigned long long)lat[calls - 1], over, stall_ms, st.over[0], st.over[1], st.over[2],
           (unsigned long long)st.max);
    free(lat);
    free(tids);
    return 0;
}
