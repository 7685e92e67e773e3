/* tests/fuzz/fuzz_input.h: decoding a fuzz input, and the content
 * patterns both heap fuzzers write and check.
 *
 * An input is read front to back as a program: one byte picks an
 * operation, the next bytes its operands. Once the input runs out every
 * read returns 0, so any prefix is a valid (shorter) program and
 * libFuzzer's mutations never produce an input the decoder rejects. */
#ifndef TC_FUZZ_INPUT_H
#define TC_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gc/gc_test.h"

struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline int fin_more(const struct fuzz_in *in) { return in->n > 0; }

static inline unsigned fin_byte(struct fuzz_in *in) {
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

/* A value in [0, bound) (bound <= 256 reads one byte, else two). */
static inline unsigned fin_below(struct fuzz_in *in, unsigned bound) {
    unsigned v = fin_byte(in);
    if (bound > 256) v = v << 8 | fin_byte(in);
    return bound ? v % bound : 0;
}

#define fin_mix gct_mix /* the tests' 64-bit mixer (gc/gc_test.h) */

/* Byte i of the pattern of object `id`. */
static inline unsigned char fin_pat(uint64_t id, size_t i) {
    return (unsigned char)fin_mix(id * 0x9e3779b97f4a7c15ULL + i);
}

static inline void fin_fill(unsigned char *p, size_t from, size_t to, uint64_t id) {
    for (size_t i = from; i < to; i++) p[i] = fin_pat(id, i);
}

/* The first offset in [from, to) whose byte is not the pattern, or to. */
static inline size_t fin_check(const unsigned char *p, size_t from, size_t to, uint64_t id) {
    for (size_t i = from; i < to; i++)
        if (p[i] != fin_pat(id, i)) return i;
    return to;
}

#define FUZZ_FAIL(...)                                                      \
    do {                                                                    \
        fprintf(stderr, "fuzz: ");                                          \
        fprintf(stderr, __VA_ARGS__);                                       \
        fputc('\n', stderr);                                                \
        abort();                                                            \
    } while (0)

#endif
