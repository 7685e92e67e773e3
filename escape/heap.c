/* escape/heap.c: the interpreter's heap is tricolor's collected heap.
 *
 * Escaping objects, the globals array and the frame-stack chunks come from
 * gc_alloc; every pointer stored into them goes through gc_store, the
 * write barrier tricolor.h requires, so the collector can mark while the
 * program runs. The interpreter keeps each live object reachable from its
 * frames and globals, which are themselves reachable from its C stack, so
 * nothing here has to remember what was allocated: when the run is over
 * its memory is garbage, and the collector takes it back (GOGC applies
 * during the run as to any program). */
#include "heap.h"

#include "tricolor.h"

struct tc_escape_heap {
    int unused;
};

struct tc_escape_heap *tc_escape_heap_open(void)
{
    static struct tc_escape_heap the_heap;
    return &the_heap;
}

/* Objects of 32 bytes or more are 16-byte aligned (Go's size classes:
 * README); smaller requests are rounded up so that holds for every block. */
void *tc_escape_heap_alloc(struct tc_escape_heap *h, size_t size)
{
    (void)h;
    return gc_alloc(size < 32 ? 32 : size);
}

void tc_escape_heap_store(void **slot, void *value)
{
    gc_store(slot, value);
}

void tc_escape_heap_close(struct tc_escape_heap *h)
{
    (void)h; /* garbage now: the collector reclaims it */
}
