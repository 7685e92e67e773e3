/* alloc/options.c: see options.h. The table in options.h is expanded
 * twice here: into an array of descriptors (name, type, range, default,
 * doc, where the value goes), which the parser walks, and into the static
 * initialiser of tc_opts. */
#include "alloc/options.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/report.h"

enum opt_type { OPT_INT, OPT_SIZE, OPT_CHOICE };

struct opt {
    const char *name;
    enum opt_type type;
    int64_t def, min, max;
    const char *doc;
    size_t offset; /* in struct tc_options */
};

static const struct opt opts[] = {
#define TC_OPT_DESC(name, type, def, min, max, doc) \
    {#name, OPT_##type, def, min, max, doc, offsetof(struct tc_options, name)},
    TC_OPTIONS(TC_OPT_DESC)
#undef TC_OPT_DESC
};

struct tc_options tc_opts = {
#define TC_OPT_INIT(name, type, def, min, max, doc) .name = def,
    TC_OPTIONS(TC_OPT_INIT)
#undef TC_OPT_INIT
};

void tc_options_defaults(struct tc_options *o) {
#define TC_OPT_SETDEF(name, type, def, min, max, doc) o->name = def;
    TC_OPTIONS(TC_OPT_SETDEF)
#undef TC_OPT_SETDEF
}

static void store(struct tc_options *o, const struct opt *d, int64_t v) {
    if (d->type == OPT_SIZE) *(int64_t *)((char *)o + d->offset) = v;
    else *(int *)((char *)o + d->offset) = (int)v;
}

static int64_t load(const struct tc_options *o, const struct opt *d) {
    if (d->type == OPT_SIZE) return *(const int64_t *)((const char *)o + d->offset);
    return *(const int *)((const char *)o + d->offset);
}

/* Index of word w (n bytes) among a choice's words ("a|b: doc"), or -1. */
static int choice_index(const char *doc, const char *w, size_t n) {
    int i = 0;
    for (const char *s = doc; *s && *s != ':'; i++) {
        size_t len = strcspn(s, "|:");
        if (len == n && memcmp(s, w, n) == 0) return i;
        s += len;
        if (*s == '|') s++;
    }
    return -1;
}

/* Decimal value with an optional K/M/G suffix (SIZE only); 0 on error. */
static int parse_number(const char *s, size_t n, int size, int64_t *out) {
    int64_t v = 0;
    size_t i = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > (INT64_MAX - 9) / 10) return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (i == 0) return 0;
    if (size && i + 1 == n) {
        int shift = s[i] == 'K' || s[i] == 'k' ? 10 : s[i] == 'M' || s[i] == 'm' ? 20
                  : s[i] == 'G' || s[i] == 'g' ? 30 : -1;
        if (shift < 0 || v > INT64_MAX >> shift) return 0;
        v <<= shift;
        i++;
    }
    if (i != n) return 0;
    *out = v;
    return 1;
}

static void apply(struct tc_options *o, const char *kv, size_t n) {
    const char *eq = memchr(kv, '=', n);
    if (!eq) return;
    size_t klen = (size_t)(eq - kv), vlen = n - klen - 1;
    const char *val = eq + 1;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const struct opt *d = &opts[i];
        if (strlen(d->name) != klen || memcmp(d->name, kv, klen) != 0) continue;
        int64_t v = 0;
        int ok = d->type == OPT_CHOICE ? (v = choice_index(d->doc, val, vlen)) >= 0
                                       : parse_number(val, vlen, d->type == OPT_SIZE, &v);
        if (ok && v >= d->min && v <= d->max) {
            store(o, d, v);
            return;
        }
        char buf[64];
        size_t m = vlen < sizeof buf - 1 ? vlen : sizeof buf - 1;
        memcpy(buf, val, m);
        buf[m] = '\0';
        if (d->type == OPT_CHOICE) {
            char want[64];
            size_t w = strcspn(d->doc, ":");
            w = w < sizeof want - 1 ? w : sizeof want - 1;
            memcpy(want, d->doc, w);
            want[w] = '\0';
            tc_print("tricolor: GODEBUG: bad value %s=%s (want %s); keeping the default",
                     d->name, buf, want);
        } else
            tc_print("tricolor: GODEBUG: bad value %s=%s (want %zd..%zd%s); keeping the default",
                     d->name, buf, (ptrdiff_t)d->min, (ptrdiff_t)d->max,
                     d->type == OPT_SIZE ? " bytes, or with K, M or G" : "");
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

void tc_options_print(int fd) {
    static const char *const type_name[] = {"int", "size", "choice"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const struct opt *d = &opts[i];
        tc_fprint(fd, "GODEBUG %s=%zd (%s %zd..%zd, default %zd): %s", d->name,
                  (ptrdiff_t)load(&tc_opts, d), type_name[d->type], (ptrdiff_t)d->min,
                  (ptrdiff_t)d->max, (ptrdiff_t)d->def, d->doc);
    }
}

void tc_options_reread(void) {
    if (tc_options_pending) tc_options_init();
}
