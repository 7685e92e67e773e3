/* tests/public/with_boehm.c: a program may include Boehm GC's <gc/gc.h>
 * and tricolor.h together (to compare the two, as bench/ does) with
 * -Werror: no macro of one redefines the other's (tricolor.h once defined
 * GC_API, Boehm's own export macro). compile.py builds it in both
 * include orders, with and without GC_THREADS (which makes Boehm's header
 * redirect the pthread functions). Compiled, not run. */
#ifdef TC_TRICOLOR_FIRST
#include <tricolor.h>
#include <gc/gc.h>
#else
#include <gc/gc.h>
#include <tricolor.h>
#endif

int main(void) {
    GC_INIT();
    void **boehm = (void **)GC_MALLOC(2 * sizeof(void *));
    void **ours = (void **)gc_alloc(2 * sizeof(void *));
    GC_PTR_STORE_AND_DIRTY(boehm, GC_MALLOC(8));
    GC_STORE(ours[0], gc_alloc(8));
    return boehm[0] != 0 && ours[0] != 0 && gc_version() != 0 && GC_get_version() != 0;
}
