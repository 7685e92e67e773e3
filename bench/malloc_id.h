/*
 * malloc_id.h - which shared object really provides malloc in this process.
 *
 * The report runs one benchmark binary under several LD_PRELOADs; a preload
 * that silently fails to load (wrong path, missing symbol version) would
 * make glibc's numbers appear under another allocator's name. Every child
 * therefore names the object its malloc family resolves to.
 */
#ifndef TC_BENCH_MALLOC_ID_H
#define TC_BENCH_MALLOC_ID_H

#include <stddef.h>

/* Path of the object defining malloc, free, calloc and realloc, written to
 * buf. If they come from different objects (a half-working override) the
 * text starts with "mixed:" and lists each, so no expectation can match.
 * Returns buf. */
const char *tcb_malloc_lib(char *buf, size_t len);

/* If the environment variable TC_BENCH_EXPECT_MALLOC is set and is not a
 * substring of tcb_malloc_lib(), print one line to stderr and return -1;
 * otherwise 0. */
int tcb_check_malloc_lib(const char *prog);

#endif
