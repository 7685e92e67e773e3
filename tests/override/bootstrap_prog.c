/* tests/override/bootstrap_prog.c: allocation before main under LD_PRELOAD.
 *
 * Not linked with tricolor: it is run with LD_PRELOAD="libtricolor.so
 * libtc_openhook.so" (and the other order) by preload.py. Its
 * constructors allocate in every way (malloc, calloc, strdup, realloc,
 * posix_memalign, stdio buffers) and open files through the hooked open()
 * before main runs, which is where preloaded allocators deadlock or crash
 * (malloc-and-gc-users-issues.md 1.1). main checks that the early objects
 * are intact and were tricolor's (gc_read_stats().nmalloc moved while the
 * first constructor allocated), that the hook saw the opens, and that a
 * new thread can allocate too. It prints a few "key: value" lines that
 * the driver checks, and "bootstrap: ok" last. */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct stats_prefix { /* the first fields of struct gc_stats, in order */
    size_t size; /* in: how much of the struct to fill */
    uint64_t heap_sys, heap_inuse, heap_free, heap_released, alloc_bytes, nmalloc;
};

static uint64_t nmalloc_now(void) {
    int (*rd)(void *) = (int (*)(void *))dlsym(RTLD_DEFAULT, "gc_read_stats");
    struct stats_prefix st = {sizeof st, 0, 0, 0, 0, 0, 0}; /* only the prefix is filled */
    if (!rd) return 0;
    rd(&st);
    return st.nmalloc;
}

static char *early_small, *early_copy, *early_big, *early_aligned, *early_line;
static uint64_t early_counted;

__attribute__((constructor(101))) static void first(void) {
    uint64_t before = nmalloc_now();
    early_small = malloc(24);
    early_copy = strdup("allocated before main");
    early_big = calloc(1, 1 << 20);
    early_counted = nmalloc_now() - before;
    if (early_small) memcpy(early_small, "early small object", 19);
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd >= 0) close(fd);
}

__attribute__((constructor)) static void second(void) {
    early_big = realloc(early_big, 3 << 20);
    if (early_big) early_big[(3 << 20) - 1] = 42;
    void *p = NULL;
    if (posix_memalign(&p, 4096, 10000) == 0) early_aligned = p;
    FILE *f = fopen("/proc/self/maps", "r"); /* stdio allocates its buffer */
    char line[512];
    if (f && fgets(line, sizeof line, f)) early_line = strdup(line);
    if (f) fclose(f);
}

static void *thread_body(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) free(malloc((size_t)i * 7 + 1));
    return strdup("thread");
}

int main(void) {
    int ok = early_small && early_copy && early_big && early_aligned && early_line;
    ok = ok && strcmp(early_small, "early small object") == 0 && strcmp(early_copy, "allocated before main") == 0;
    ok = ok && early_big[0] == 0 && early_big[(3 << 20) - 1] == 42 && (uintptr_t)early_aligned % 4096 == 0;
    pthread_t t;
    void *ret = NULL;
    ok = ok && pthread_create(&t, NULL, thread_body, NULL) == 0 && pthread_join(t, &ret) == 0 && ret;
    ok = ok && strcmp(ret, "thread") == 0;
    int *hook = dlsym(RTLD_DEFAULT, "tc_openhook_count");
    printf("tricolor: %s\n", dlsym(RTLD_DEFAULT, "gc_read_stats") ? "yes" : "no");
    printf("counted before main: %s\n", early_counted > 0 ? "yes" : "no");
    printf("hooked opens: %d\n", hook ? *hook : -1);
    free(early_small), free(early_copy), free(early_big), free(early_aligned), free(early_line), free(ret);
    printf("bootstrap: %s\n", ok ? "ok" : "objects damaged");
    return ok ? 0 : 1;
}
