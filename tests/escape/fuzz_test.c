/* tests/escape/fuzz_test.c: seeded random mutations of the test inputs.
 *
 * The corpus is every .ir file under tests/escape (golden, errors, faults,
 * checker). Each iteration takes one file and applies one to four
 * mutations -- change a byte, delete, duplicate or swap lines, insert a
 * token the grammar knows (or a huge number), splice in a line of another
 * file, cut the text short -- then feeds the result to the parser. A
 * rejected input must come with a message and a line inside the file. An
 * accepted one is analysed, printed as -m lines, and run twice with small
 * limits (decisions with --check, then all on the heap): nothing may be
 * unsound and both runs must agree. What the test looks for is a crash, a
 * hang or a leak (run it under ASan/LSan: see README.md), and any input
 * the analysis gets wrong.
 *
 * Environment: at most TC_ESCAPE_FUZZ_COUNT iterations (default 5000) or
 * as many as TC_ESCAPE_FUZZ_SECONDS allow (default 5), at least 500, from
 * seed TC_ESCAPE_FUZZ_SEED (default 1); TC_ESCAPE_TESTS_DIR overrides the
 * corpus directory compiled in. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "harness.h"
#include "run_twice.h"

#ifndef TC_ESCAPE_TESTS_DIR
#define TC_ESCAPE_TESTS_DIR "tests/escape"
#endif

struct text {
    char *s;
    size_t len;
};

static struct text *corpus;
static int ncorpus;
static uint64_t rng;

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

static size_t pick(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

static int only_ir(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n >= 4 && strcmp(e->d_name + n - 3, ".ir") == 0;
}

/* Files in name order, so a seed means the same inputs everywhere. */
static void load_dir(const char *dir)
{
    struct dirent **list;
    int nlist = scandir(dir, &list, only_ir, alphasort);
    for (int k = 0; k < nlist; k++) {
        char path[4096];
        int toolong = snprintf(path, sizeof path, "%s/%s", dir, list[k]->d_name) >= (int)sizeof path;
        free(list[k]);
        if (toolong) continue;
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        struct text t = {malloc(1 << 16), 0};
        if (t.s) t.len = fread(t.s, 1, (1 << 16) - 1, f);
        fclose(f);
        if (!t.s) continue;
        corpus = realloc(corpus, (size_t)(ncorpus + 1) * sizeof *corpus);
        if (!corpus) abort();
        corpus[ncorpus++] = t;
    }
    if (nlist >= 0) free(list);
}

/* Start and length of line k (0-based) of t, or of the last line. */
static void line_span(const struct text *t, size_t k, size_t *start, size_t *len)
{
    size_t i = 0, line = 0;
    while (i < t->len && line < k) {
        if (t->s[i++] == '\n') line++;
    }
    size_t j = i;
    while (j < t->len && t->s[j] != '\n') j++;
    *start = i;
    *len = j - i + (j < t->len);
}

static size_t count_lines(const struct text *t)
{
    size_t n = 1;
    for (size_t i = 0; i < t->len; i++) n += t->s[i] == '\n';
    return n;
}

/* Replace [at, at+del) of t by ins[0..nins). t->s has room (see mutate). */
static void splice(struct text *t, size_t at, size_t del, const char *ins, size_t nins, size_t cap)
{
    if (at > t->len) at = t->len;
    if (at + del > t->len) del = t->len - at;
    if (t->len - del + nins >= cap) return;
    memmove(t->s + at + nins, t->s + at + del, t->len - at - del);
    memcpy(t->s + at, ins, nins);
    t->len = t->len - del + nins;
}

static const char *const tokens[] = {
    "func ", "global ", "var ", "new ", "make ", "call ", "return ", "loop ", "if ", "else ",
    "print ", "nil", "results ", "{", "}", "} else {", "=", "&", "*", "+", ",", "(", ")", "\n",
    "x", "p", "q", "main", "f", "g", "0", "8", "16", "65537", "10485768", "4294967296",
    "9007199254740993", "1000000000", "#", "\t", "\x01", "\xff",
};

static void mutate(struct text *t, size_t cap)
{
    size_t lines = count_lines(t), s1, l1, s2, l2;
    char buf[256];
    switch (pick(8)) {
    case 0: /* one byte */
        if (t->len) t->s[pick(t->len)] = (char)(pick(4) ? " \n#{}=&*+,()0123456789abcxyz"[pick(28)] : (int)pick(256));
        break;
    case 1: /* delete a line */
        line_span(t, pick(lines), &s1, &l1);
        splice(t, s1, l1, "", 0, cap);
        break;
    case 2: /* duplicate a line somewhere */
        line_span(t, pick(lines), &s1, &l1);
        if (l1 < sizeof buf) {
            memcpy(buf, t->s + s1, l1);
            line_span(t, pick(lines), &s2, &l2);
            splice(t, s2, 0, buf, l1, cap);
        }
        break;
    case 3: /* swap two lines (by moving one) */
        line_span(t, pick(lines), &s1, &l1);
        if (l1 < sizeof buf) {
            memcpy(buf, t->s + s1, l1);
            splice(t, s1, l1, "", 0, cap);
            line_span(t, pick(count_lines(t)), &s2, &l2);
            splice(t, s2, 0, buf, l1, cap);
        }
        break;
    case 4: case 5: { /* insert a token */
        const char *tok = tokens[pick(sizeof tokens / sizeof tokens[0])];
        splice(t, pick(t->len + 1), 0, tok, strlen(tok), cap);
        break;
    }
    case 6: { /* a line of another file */
        const struct text *o = &corpus[pick((size_t)ncorpus)];
        line_span(o, pick(count_lines(o)), &s1, &l1);
        line_span(t, pick(lines), &s2, &l2);
        splice(t, s2, pick(2) ? l2 : 0, o->s + s1, l1, cap);
        break;
    }
    default: /* cut */
        if (t->len) t->len = pick(t->len + 1);
        break;
    }
}

TEST(mutated_inputs)
{
    const char *dir = getenv("TC_ESCAPE_TESTS_DIR");
    const char *e;
    uint64_t max = (e = getenv("TC_ESCAPE_FUZZ_COUNT")) ? strtoull(e, NULL, 10) : 5000, count = 0;
    double end = tc_test_now() + tc_test_seconds("TC_ESCAPE_FUZZ_SECONDS", 5);
    rng = ((e = getenv("TC_ESCAPE_FUZZ_SEED")) ? strtoull(e, NULL, 10) : 1) * 0x9E3779B97F4A7C15ULL + 7;
    if (!dir) dir = TC_ESCAPE_TESTS_DIR;
    static const char *const subdirs[] = {"golden", "errors", "faults", "checker"};
    for (size_t i = 0; i < 4; i++) {
        char path[2048];
        if (snprintf(path, sizeof path, "%s/%s", dir, subdirs[i]) >= (int)sizeof path) continue;
        load_dir(path);
    }
    ASSERT_TRUE(ncorpus >= 50);
    uint64_t parsed = 0, rejected = 0, ran = 0;
    size_t cap = (1 << 16) + 4096;
    char *work = malloc(cap);
    ASSERT_TRUE(work != NULL);
    for (uint64_t it = 0; it < max && (it < 500 || tc_test_now() < end); it++, count++) {
        const struct text *base = &corpus[pick((size_t)ncorpus)];
        struct text t = {work, base->len};
        memcpy(work, base->s, base->len);
        for (size_t m = 1 + pick(4); m > 0; m--) mutate(&t, cap);
        struct tc_ir_error err;
        struct tc_ir_prog *p = tc_ir_parse(t.s, t.len, &err);
        if (!p) {
            rejected++;
            if (err.msg[0] == '\0' || err.line < 1 || (size_t)err.line > count_lines(&t)) {
                fprintf(stderr, "iteration %llu: bad error (line %d, \"%s\") for:\n%.*s\n",
                        (unsigned long long)it, err.line, err.msg, (int)t.len, t.s);
                TC_FAIL_("parser error without a valid line or message");
                break;
            }
            continue;
        }
        parsed++;
        struct tc_escape_result res;
        ASSERT_TRUE(tc_escape_analyze(p, &res) == 0);
        char *diag = NULL;
        size_t dlen = 0;
        FILE *f = open_memstream(&diag, &dlen);
        ASSERT_TRUE(f != NULL);
        EXPECT_TRUE(tc_escape_diag_print(f, "fuzz.ir", p, &res) >= 0);
        fclose(f);
        free(diag);
        if (p->main_func >= 0) {
            struct run_twice rt;
            int bad = run_twice(p, &res, &rt);
            ran++;
            if (bad) {
                fprintf(stderr, "iteration %llu: runs disagree or unsound: %d \"%s\" / %d \"%s\"\n%.*s\n",
                        (unsigned long long)it, rt.s1, rt.r1.msg, rt.s2, rt.r2.msg, (int)t.len, t.s);
                TC_FAIL_("mutated program run");
            }
            free(rt.o1);
            free(rt.o2);
            if (bad) { tc_escape_result_free(&res); tc_ir_free(p); break; }
        }
        tc_escape_result_free(&res);
        tc_ir_free(p);
    }
    printf("%llu inputs: %llu rejected with an error, %llu accepted, %llu run\n", (unsigned long long)count,
           (unsigned long long)rejected, (unsigned long long)parsed, (unsigned long long)ran);
    EXPECT_TRUE(parsed * 10 > count && rejected * 10 > count); /* both paths exercised */
    free(work);
    for (int i = 0; i < ncorpus; i++) free(corpus[i].s);
    free(corpus);
}

TC_TEST_MAIN()
