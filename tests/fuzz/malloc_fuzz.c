/* tests/fuzz/malloc_fuzz.c: libFuzzer target: random malloc-family
 * sequences checked against a shadow model.
 *
 * The input is decoded (fuzz_input.h) into calls of malloc, calloc,
 * realloc, reallocarray, free, posix_memalign, aligned_alloc, memalign,
 * valloc, pvalloc and malloc_usable_size on 64 shadow slots, with sizes from 0 to
 * 2 MiB, alignments up to 64 KiB, and arguments that must fail (bad
 * alignments, products and sizes that overflow). The model keeps each
 * block's address, size, alignment and a fresh id; the block holds the
 * id's pattern (fuzz_input.h), so a block that another block overlaps, or
 * that was handed out twice, shows a wrong byte. Checked on every call:
 * C's and glibc's contract as alloc/malloc.c states it (errno, NULL, zeroed
 * calloc memory, realloc keeping the prefix, alignment, usable size at
 * least the size asked for and writable to its end); at the end of each
 * input, every block's pattern and that no two blocks overlap.
 *
 * Built with the whole library linked in (tests/fuzz/meson.build), so
 * this malloc is also the one libFuzzer itself and libc use. */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_input.h"

#define NSLOT 64

struct block {
    unsigned char *p;
    size_t size;
    size_t align; /* asked for; 0: malloc's own */
    uint64_t id;
};

static uint64_t next_id = 1;

/* What malloc promises without being asked (alloc/malloc.c): 16 bytes
 * for every request of 32 bytes or more, 8 below. */
static size_t natural_align(size_t size) { return size >= 32 ? 16 : 8; }

static void check_block(const struct block *b, const char *where) {
    if (!b->p) return;
    size_t want = b->align ? b->align : natural_align(b->size);
    if ((uintptr_t)b->p % want)
        FUZZ_FAIL("%s: block %p of %zu bytes not aligned to %zu", where, (void *)b->p, b->size,
                  want);
    size_t bad = fin_check(b->p, 0, b->size, b->id);
    if (bad != b->size)
        FUZZ_FAIL("%s: block %p of %zu bytes: byte %zu overwritten", where, (void *)b->p, b->size,
                  bad);
}

static void fill(struct block *b, unsigned char *p, size_t size, size_t align) {
    b->p = p, b->size = size, b->align = align, b->id = next_id++;
    fin_fill(p, 0, size, b->id);
    check_block(b, "new block");
}

static size_t pick_size(struct fuzz_in *in) {
    unsigned c = fin_byte(in);
    if (c < 160) return c;                          /* tiny and small */
    if (c < 240) return 160 + 409 * (size_t)(c - 160); /* up to 32 KiB */
    if (c < 250) return (size_t)(c - 239) * 33000;  /* large */
    if (c < 253) return (size_t)2 << 20;            /* 2 MiB */
    return 4096 * (size_t)fin_below(in, 16) + fin_byte(in);
}

static size_t pick_align(struct fuzz_in *in) {
    unsigned c = fin_byte(in);
    if (c < 200) return (size_t)1 << (c % 17);      /* 1 .. 64 KiB */
    return c;                                       /* mostly not a power of two */
}

static int pow2(size_t a) { return a && !(a & (a - 1)); }

/* Release a block and clear its slot. */
static void drop(struct block *b) {
    check_block(b, "free");
    free(b->p);
    *b = (struct block){0};
}

/* A call that must fail: NULL, and errno set to want. */
#define EXPECT_FAIL(call, want)                                             \
    do {                                                                    \
        errno = 0;                                                          \
        void *r_ = (call);                                                  \
        if (r_) FUZZ_FAIL("%s succeeded where it must fail", #call);        \
        if (errno != (want)) FUZZ_FAIL("%s: errno %d, expected %d", #call, errno, (want)); \
    } while (0)

static void step(struct block *slots, struct fuzz_in *in) {
    unsigned op = fin_below(in, 12);
    struct block *b = &slots[fin_below(in, NSLOT)];
    size_t size = pick_size(in);
    if (b->p && op <= 8 && op != 3) drop(b);
    switch (op) {
    case 0: fill(b, malloc(size), size, 0); break;
    case 1: {
        size_t n = fin_below(in, 9);
        unsigned char *p = calloc(n, size);
        if (!p) FUZZ_FAIL("calloc(%zu, %zu) failed", n, size);
        for (size_t i = 0; i < n * size; i++)
            if (p[i]) FUZZ_FAIL("calloc(%zu, %zu): byte %zu not zero", n, size, i);
        fill(b, p, n * size, 0);
        break;
    }
    case 2: fill(b, pvalloc(size), size, (size_t)getpagesize()); break;
    case 3: { /* realloc, and realloc(NULL, n) */
        check_block(b, "realloc");
        if (size == 0 && b->p) {
            errno = 0;
            if (realloc(b->p, 0) != NULL) FUZZ_FAIL("realloc(p, 0) did not return NULL");
            *b = (struct block){0};
            break;
        }
        unsigned char *q = realloc(b->p, size);
        if (!q) FUZZ_FAIL("realloc(%p, %zu) failed", (void *)b->p, size);
        size_t keep = b->size < size ? b->size : size;
        size_t bad = fin_check(q, 0, keep, b->id);
        if (bad != keep)
            FUZZ_FAIL("realloc %zu -> %zu: byte %zu of the kept prefix changed", b->size, size,
                      bad);
        b->align = 0;
        fill(b, q, size, 0);
        break;
    }
    case 4: {
        size_t align = pick_align(in);
        void *p = NULL;
        int rc = posix_memalign(&p, align, size);
        if (!pow2(align) || align % sizeof(void *)) {
            if (rc != EINVAL || p) FUZZ_FAIL("posix_memalign(%zu): rc %d, expected EINVAL", align, rc);
            break;
        }
        if (rc) FUZZ_FAIL("posix_memalign(%zu, %zu) returned %d", align, size, rc);
        fill(b, p, size, align);
        break;
    }
    case 5:
    case 6: {
        size_t align = pick_align(in);
        if (!pow2(align) && !(op == 6 && align == 0)) {
            if (op == 5) EXPECT_FAIL(aligned_alloc(align, size), EINVAL);
            else EXPECT_FAIL(memalign(align, size), EINVAL);
            break;
        }
        unsigned char *p = op == 5 ? aligned_alloc(align, size) : memalign(align, size);
        if (!p) FUZZ_FAIL("aligned allocation (%zu, %zu) failed", align, size);
        fill(b, p, size, align < 8 ? 0 : align);
        break;
    }
    case 7: fill(b, valloc(size), size, (size_t)getpagesize()); break;
    case 8: { /* calls that must fail, and leave nothing behind */
        size_t big = SIZE_MAX - size;
        EXPECT_FAIL(malloc(big), ENOMEM);
        EXPECT_FAIL(calloc(big / 2 + 1, 2 + size), ENOMEM);
        EXPECT_FAIL(reallocarray(NULL, big / 2 + 1, 3), ENOMEM);
        break;
    }
    case 9: /* the usable size: at least what was asked, writable to the end */
        if (b->p) {
            size_t u = malloc_usable_size(b->p);
            if (u < b->size) FUZZ_FAIL("malloc_usable_size %zu < %zu", u, b->size);
            memset(b->p + b->size, 0x5A, u - b->size);
            check_block(b, "malloc_usable_size");
        }
        break;
    case 10: if (b->p) drop(b); break;
    default: check_block(b, "check"); break;
    }
}

static int by_addr(const void *x, const void *y) {
    const struct block *a = x, *b = y;
    return a->p < b->p ? -1 : a->p > b->p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static struct block slots[NSLOT];
    struct fuzz_in in = {data, size};
    while (fin_more(&in)) step(slots, &in);
    for (int i = 0; i < NSLOT; i++) check_block(&slots[i], "end of input");
    qsort(slots, NSLOT, sizeof *slots, by_addr);
    for (int i = 1; i < NSLOT; i++)
        if (slots[i - 1].p && slots[i - 1].p + (slots[i - 1].size ? slots[i - 1].size : 1) >
                                  slots[i].p)
            FUZZ_FAIL("blocks %p (%zu bytes) and %p overlap", (void *)slots[i - 1].p,
                      slots[i - 1].size, (void *)slots[i].p);
    for (int i = 0; i < NSLOT; i++)
        if (slots[i].p) drop(&slots[i]);
    return 0;
}
