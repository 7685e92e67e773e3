/* alloc/options.c: see options.h. One table names each GODEBUG key, the
 * values it accepts and where the result goes, so adding a knob is one
 * line. */
#include "alloc/options.h"

#include <stdlib.h>
#include <string.h>

#include "alloc/report.h"

struct tc_options tc_opts;

struct choice {
    const char *key;
    const char *values[3]; /* value i stores i */
    size_t offset;         /* of the int field in struct tc_options */
};

static const struct choice choices[] = {
    {"badfree", {"abort", "warn", NULL}, offsetof(struct tc_options, badfree)},
};

static int match(const char *s, size_t n, const char *word) {
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

static void apply(struct tc_options *o, const char *kv, size_t n) {
    const char *eq = memchr(kv, '=', n);
    if (!eq) return;
    size_t klen = (size_t)(eq - kv), vlen = n - klen - 1;
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

void tc_options_init(void) {
    tc_options_parse_godebug(&tc_opts, getenv("GODEBUG"));
}
