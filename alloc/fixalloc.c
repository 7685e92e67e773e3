/* alloc/fixalloc.c: see fixalloc.h. Blocks are zeroed when handed out, so
 * callers can rely on a fresh struct; that costs one memset of a small
 * block, which is noise next to the span work that asks for it. */
#include "alloc/fixalloc.h"

#include <string.h>

#include "alloc/os.h"

#define FIXALLOC_CHUNK (256u << 10)

void tc_fixalloc_init(struct fixalloc *f, size_t size) {
    memset(f, 0, sizeof *f);
    f->size = TC_ALIGN_UP(size, 8);
}

void *tc_fixalloc_alloc(struct fixalloc *f) {
    void *p = f->list;
    if (p) {
        f->list = *(void **)p;
        memset(p, 0, f->size);
    } else {
        if (f->nchunk < f->size) {
            size_t n = f->size > FIXALLOC_CHUNK ? f->size : FIXALLOC_CHUNK;
            char *c = tc_os_alloc_meta(n);
            if (!c) return NULL;
            f->chunk = c;
            f->nchunk = n;
            f->sys += n;
        }
        p = f->chunk; /* fresh from mmap: already zero */
        f->chunk += f->size;
        f->nchunk -= f->size;
    }
    f->inuse += f->size;
    return p;
}

void tc_fixalloc_free(struct fixalloc *f, void *p) {
    *(void **)p = f->list;
    f->list = p;
    f->inuse -= f->size;
}
