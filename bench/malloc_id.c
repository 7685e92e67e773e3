/*
 * malloc_id.c - find the object that provides malloc (see malloc_id.h).
 *
 * dlsym(RTLD_DEFAULT, ...) resolves a name in the global scope, in the
 * same order the dynamic linker used for this program's own calls: the
 * executable, then LD_PRELOAD objects, then DT_NEEDED libraries. dladdr()
 * then names the object that address lives in.
 */
#include "malloc_id.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *object_of(const char *sym) {
    void *p = dlsym(RTLD_DEFAULT, sym);
    Dl_info info;
    if (p == NULL || dladdr(p, &info) == 0 || info.dli_fname == NULL) return "(unknown)";
    return info.dli_fname;
}

const char *tcb_malloc_lib(char *buf, size_t len) {
    static const char *const names[] = {"malloc", "free", "calloc", "realloc"};
    const char *first = object_of(names[0]);
    int same = 1;
    for (size_t i = 1; i < sizeof names / sizeof names[0]; i++)
        same &= strcmp(object_of(names[i]), first) == 0;
    if (same) {
        snprintf(buf, len, "%s", first);
        return buf;
    }
    snprintf(buf, len, "mixed: malloc=%s free=%s calloc=%s realloc=%s", first,
             object_of("free"), object_of("calloc"), object_of("realloc"));
    return buf;
}

int tcb_check_malloc_lib(const char *prog) {
    const char *want = getenv("TC_BENCH_EXPECT_MALLOC");
    char have[1024];
    tcb_malloc_lib(have, sizeof have);
    if (want == NULL || strstr(have, want) != NULL) return 0;
    fprintf(stderr, "%s: malloc comes from %s, expected %s (did LD_PRELOAD take?)\n", prog,
            have, want);
    return -1;
}
