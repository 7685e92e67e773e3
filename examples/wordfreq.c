/* examples/wordfreq.c: an ordinary C program; nothing in it is tricolor's.
 *
 * It counts the words of a generated text with a hash table (malloc,
 * calloc, realloc, strdup, free) and prints the most frequent ones, and
 * which shared object its malloc comes from. Run as it is, that is glibc;
 * linked with -ltricolor, or started with tricolor preloaded, the same
 * program runs on tricolor's malloc:
 *
 *     LD_PRELOAD=/usr/local/lib/x86_64-linux-gnu/libtricolor.so ./wordfreq
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr, RTLD_DEFAULT */
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NWORDS 300000

struct entry {
    struct entry *next;
    char *word;
    long count;
};

static struct entry **buckets;
static size_t nbuckets, nentries;

static size_t hash(const char *s) {
    size_t h = 14695981039346656037u; /* FNV-1a */
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211u;
    return h;
}

static void rehash(size_t n) {
    struct entry **b = calloc(n, sizeof *b);
    if (!b) exit(1);
    for (size_t i = 0; i < nbuckets; i++) {
        for (struct entry *e = buckets[i], *next; e; e = next) {
            next = e->next;
            e->next = b[hash(e->word) % n];
            b[hash(e->word) % n] = e;
        }
    }
    free(buckets);
    buckets = b;
    nbuckets = n;
}

static void count(const char *word) {
    struct entry **head = &buckets[hash(word) % nbuckets];
    for (struct entry *e = *head; e; e = e->next) {
        if (strcmp(e->word, word) == 0) {
            e->count++;
            return;
        }
    }
    struct entry *e = malloc(sizeof *e);
    if (!e || !(e->word = strdup(word))) exit(1);
    e->count = 1;
    e->next = *head;
    *head = e;
    if (++nentries > nbuckets) rehash(nbuckets * 2);
}

static int by_count(const void *a, const void *b) {
    const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->word, y->word);
}

static const char *malloc_origin(void) {
    Dl_info info;
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    if (!m || !dladdr(m, &info) || !info.dli_fname) return "unknown";
    const char *slash = strrchr(info.dli_fname, '/');
    return slash ? slash + 1 : info.dli_fname;
}

int main(void) {
    static const char *syllables[] = {"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo"};
    nbuckets = 16;
    buckets = calloc(nbuckets, sizeof *buckets);
    size_t cap = 8;
    char *word = malloc(cap);
    if (!buckets || !word) return 1;
    unsigned long long x = 42;
    for (int i = 0; i < NWORDS; i++) { /* 1 to 4 syllables, the first ones likelier */
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        size_t len = 0;
        for (unsigned s = 0, n = 1 + (unsigned)(x >> 62); s < n; s++) {
            if (len + 3 > cap && !(word = realloc(word, cap *= 2))) return 1;
            const char *syl = syllables[(x >> (40 + 3 * s)) % 8 * ((x >> 33) % 8) / 8];
            memcpy(word + len, syl, 2);
            len += 2;
        }
        word[len] = '\0';
        count(word);
    }
    struct entry **all = malloc(nentries * sizeof *all);
    if (!all) return 1;
    size_t k = 0;
    for (size_t i = 0; i < nbuckets; i++)
        for (struct entry *e = buckets[i]; e; e = e->next) all[k++] = e;
    qsort(all, k, sizeof *all, by_count);
    printf("malloc comes from %s\n", malloc_origin());
    printf("%d words, %zu different; the most frequent:\n", NWORDS, k);
    for (size_t i = 0; i < 3 && i < k; i++) printf("  %-8s %ld\n", all[i]->word, all[i]->count);
    for (size_t i = 0; i < k; i++) {
        free(all[i]->word);
        free(all[i]);
    }
    free(all);
    free(buckets);
    free(word);
    return 0;
}
