/* alloc/options.c: see options.h. One table names each GODEBUG key, the
 * values it accepts and where the result goes, so adding a knob is one
 * line. */
#include "alloc/options.h"

#include <stdlib.h>
#include <string.h>

#include "alloc/report.h"

struct tc_options tc_opts;

static int match(const char *s, size_t n, const char *word) {
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

struct choice {
    const char *key;
    const char *values[3]; /* value i stores i */
    size_t offset;         /* of the int field in struct tc_options */
};

static const struct choice choices[] = {
    {"badfree", {"abort", "warn", NULL}, offsetof(struct tc_options, badfree)},
};

struct number {
    const char *key;
    int min, max;
    size_t offset; /* of the int field in struct tc_options */
};

static const struct number numbers[] = {
    {"gctrace", 0, 2, offsetof(struct tc_options, gctrace)},
    {"gccheckmark", 0, 1, offsetof(struct tc_options, gccheckmark)},
    {"gcsignal", 1, 64, offsetof(struct tc_options, gcsignal)},
    {"gcfullstop", 0, 1, offsetof(struct tc_options, gcfullstop)},
};

static int apply_number(struct tc_options *o, const char *kv, size_t klen, const char *val,
                        size_t vlen) {
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
        const struct number *n = &numbers[i];
        if (!match(kv, klen, n->key)) continue;
        long v = 0;
        size_t j = 0;
        while (j < vlen && j < 9 && val[j] >= '0' && val[j] <= '9') v = v * 10 + (val[j++] - '0');
        if (vlen && j == vlen && v >= n->min && v <= n->max) {
            *(int *)((char *)o + n->offset) = (int)v;
        } else {
            char buf[64];
            size_t m = vlen < sizeof buf - 1 ? vlen : sizeof buf - 1;
            memcpy(buf, val, m);
            buf[m] = '\0';
            tc_print("tricolor: GODEBUG: bad value %s=%s (want %d..%d); ignored", n->key, buf,
                     n->min, n->max);
        }
        return 1;
    }
    return 0;
}


static void apply(struct tc_options *o, const char *kv, size_t n) {
    const char *eq = memchr(kv, '=', n);
    if (!eq) return;
    size_t klen = (size_t)(eq - kv), vlen = n - klen - 1;
    if (apply_number(o, kv, klen, eq + 1, vlen)) return;
    for (size_t i = 0; i < sizeof choices / sizeof choices[0]; i++) {
        const struct choice *c = &choices[i];
        if (!match(kv, klen, c->key)) continue;
        for (int v = 0; v < 3 && c->values[v]; v++) {
            if (match(eq + 1, vlen, c->values[v])) {
                *(int *)((char *)o + c->offset) = v;
                return;
            }
        }
        char val[64];
        size_t m = vlen < sizeof val - 1 ? vlen : sizeof val - 1;
        memcpy(val, eq + 1, m);
        val[m] = '\0';
        tc_print("tricolor: GODEBUG: bad value %s=%s (want %s or %s); keeping %s", c->key, val,
                 c->values[0], c->values[1], c->values[*(int *)((char *)o + c->offset)]);
        return;
    }
}

void tc_options_parse_godebug(struct tc_options *o, const char *s) {
    while (s && *s) {
        const char *end = strchr(s, ',');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        apply(o, s, n);
        s = end ? end + 1 : NULL;
    }
}

int tc_options_pending;

/* A sanitizer's start-up code (libFuzzer's, UBSan's) may call malloc
 * before libc's own initialisers have set environ: getenv then finds
 * nothing, and tc_options_reread parses again from a constructor. */
void tc_options_init(void) {
    extern char **environ;
    tc_options_pending = environ == NULL;
    tc_options_parse_godebug(&tc_opts, getenv("GODEBUG"));
}

void tc_options_reread(void) {
    if (tc_options_pending) tc_options_init();
}
