/*
 * remotecount.c - remote frees in batches, for instruction counts.
 *
 * Two threads in lockstep: thread A mallocs a batch of 1024 objects of
 * 16..128 bytes (a fixed trace) and writes a byte of each, thread B frees
 * the batch A made in the round before, so every free is of an object
 * another thread allocated (xbatch's shape with two threads, without the
 * timing harness). Run under
 *
 *   valgrind --tool=callgrind --toggle-collect=tcb_remote_free \
 *       tc-remotecount 2000
 *
 * (or --toggle-collect=tcb_remote_alloc) with an allocator preloaded:
 * callgrind counts the freeing (allocating) side only, callees included;
 * divided by the object count the program prints, that is the cost of a
 * remote free (of a malloc that reuses remotely freed memory) in
 * instructions, independent of the machine's load. Each loop costs about
 * 6 (9) instructions an object itself.
 *
 * Usage: tc-remotecount [ROUNDS]   (default 1000)
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "malloc_id.h"

#define BATCH 1024

static void *batches[2][BATCH];
static size_t sizes[BATCH];
static pthread_barrier_t turn;
static long rounds = 1000;

__attribute__((noinline)) void tcb_remote_alloc(void **v);
__attribute__((noinline)) void tcb_remote_alloc(void **v) {
    for (int i = 0; i < BATCH; i++) {
        char *p = malloc(sizes[i]);
        if (p == NULL) abort();
        *p = 1;
        v[i] = p;
    }
}

__attribute__((noinline)) void tcb_remote_free(void **v);
__attribute__((noinline)) void tcb_remote_free(void **v) {
    for (int i = 0; i < BATCH; i++) free(v[i]);
}

/* A allocates batch r while B frees batch r - 1: the barrier hands each
 * batch over, and the two never touch the same batch at once. */
static void *allocator(void *arg) {
    (void)arg;
    for (long r = 0; r <= rounds; r++) {
        if (r < rounds) tcb_remote_alloc(batches[r & 1]);
        pthread_barrier_wait(&turn);
    }
    return NULL;
}

static void *freer(void *arg) {
    (void)arg;
    for (long r = 0; r <= rounds; r++) {
        pthread_barrier_wait(&turn);
        if (r < rounds) tcb_remote_free(batches[r & 1]);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 2) {
        fprintf(stderr, "usage: tc-remotecount [ROUNDS]\n");
        return 2;
    }
    if (argc == 2) {
        char *end;
        errno = 0;
        rounds = strtol(argv[1], &end, 10);
        if (errno != 0 || *end != '\0' || rounds <= 0 || rounds > 100000000) {
            fprintf(stderr, "tc-remotecount: bad round count '%s'\n", argv[1]);
            return 2;
        }
    }
    if (tcb_check_malloc_lib("tc-remotecount") != 0) return 1;
    uint32_t seed = 12345;
    for (int i = 0; i < BATCH; i++) {
        seed = seed * 1103515245u + 12345u;
        sizes[i] = 16 + (seed >> 16) % 113;
    }
    pthread_barrier_init(&turn, NULL, 2);
    pthread_t a, b;
    if (pthread_create(&a, NULL, allocator, NULL) != 0 || pthread_create(&b, NULL, freer, NULL) != 0) {
        fprintf(stderr, "tc-remotecount: cannot start the threads\n");
        return 1;
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("objects=%ld\n", rounds * BATCH);
    return 0;
}
