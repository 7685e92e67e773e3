/* escape/heap.h: where the interpreter gets heap memory (heap.c).
 *
 * Every heap allocation of the interpreter goes through this interface:
 * the IR's heap objects, its globals array and its frame stack; and so
 * does every store of a pointer into that memory. It is tricolor's
 * collected heap: gc_alloc, gc_store as the store (the write barrier
 * tricolor.h requires for pointers stored into collected objects), and a
 * close that leaves the run's garbage to the collector. That works
 * because the interpreter keeps every heap object reachable from its own
 * frames and globals, which live in memory from this interface, referenced
 * from the interpreter's C stack -- never from malloc'd side tables alone. */
#ifndef TC_ESCAPE_HEAP_H
#define TC_ESCAPE_HEAP_H

#include <stddef.h>

struct tc_escape_heap;

/* Start a run's heap. NULL when out of memory. */
struct tc_escape_heap *tc_escape_heap_open(void);

/* size zeroed bytes, 16-byte aligned; NULL when out of memory. */
void *tc_escape_heap_alloc(struct tc_escape_heap *h, size_t size);

/* *slot = value, where slot is inside memory from tc_escape_heap_alloc. */
void tc_escape_heap_store(void **slot, void *value);

/* The run is over: everything tc_escape_heap_alloc returned is garbage
 * from now on (the collector takes it back). */
void tc_escape_heap_close(struct tc_escape_heap *h);

#endif /* TC_ESCAPE_HEAP_H */
