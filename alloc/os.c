/* alloc/os.c: mmap and madvise, and nothing else.
 *
 * Arenas must be aligned to their size (64 MiB) so that an address maps to
 * its arena by a shift. mmap gives no alignment, so a reservation first
 * tries the caller's hint (Go's 0xc000000000 family, which keeps heap
 * addresses recognisable), and otherwise maps size + align bytes and
 * trims both ends. */
#include "alloc/os.h"

#include "alloc/report.h"

#include <errno.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older headers lack the name */
#endif

#define PROT (PROT_READ | PROT_WRITE)
#define FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)

void *tc_os_reserve(size_t size, size_t align, uintptr_t hint) {
    if (hint) {
        void *p = mmap((void *)hint, size, PROT, FLAGS, -1, 0);
        if (p != MAP_FAILED) {
            if (((uintptr_t)p & (align - 1)) == 0) return p;
            munmap(p, size);
        }
    }
    if (size + align < size) return NULL;
    char *p = mmap(NULL, size + align, PROT, FLAGS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    uintptr_t base = TC_ALIGN_UP((uintptr_t)p, align);
    size_t head = base - (uintptr_t)p;
    if (head) munmap(p, head);
    size_t tail = align - head;
    if (tail) munmap((char *)base + size, tail);
    return (void *)base;
}

void tc_os_release(void *p, size_t size) {
    madvise(p, size, MADV_DONTNEED);
}

int tc_os_populate(void *p, size_t size) {
    uintptr_t pagesz = getauxval(AT_PAGESZ); /* the OS page: no system call */
    if (!pagesz) pagesz = 4096;
    uintptr_t lo = (uintptr_t)p & ~(pagesz - 1), hi = TC_ALIGN_UP((uintptr_t)p + size, pagesz);
    int saved = errno, r = 1;
    if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) != 0) r = errno == EINVAL ? -1 : 0;
    errno = saved;
    return r;
}

void tc_os_release_inner(void *p, size_t size) {
    uintptr_t pagesz = getauxval(AT_PAGESZ); /* the OS page: no system call */
    if (!pagesz) pagesz = 4096;
    uintptr_t lo = TC_ALIGN_UP((uintptr_t)p, pagesz);
    uintptr_t hi = ((uintptr_t)p + size) & ~(pagesz - 1);
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

void *tc_os_grow(void *p, size_t old_size, size_t new_size) {
    void *q = p ? mremap(p, old_size, new_size, MREMAP_MAYMOVE) : tc_os_alloc_meta(new_size);
    return q == MAP_FAILED ? NULL : q;
}

void *tc_os_alloc_meta(size_t size) {
    void *p = mmap(NULL, size, PROT, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void tc_os_vec_room(void **v, size_t *cap, size_t n, size_t elem, size_t first, const char *what) {
    if (n < *cap) return;
    size_t c = *cap ? *cap * 2 : first;
    void *g = tc_os_grow(*v, *cap * elem, c * elem);
    if (!g) tc_fatal("out of memory for %s", what);
    *v = g;
    *cap = c;
}
