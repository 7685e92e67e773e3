/* alloc/options.c: see options.h. The table in options.h is expanded
 * twice here: into an array of descriptors (source, name, type, range,
 * default, doc, where the value goes), which the parsers walk, and into
 * the static initialiser of tc_opts. The collector takes its knobs from
 * tc_opts (gc/cycle.c): nothing else reads the environment. */
#include "alloc/options.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/report.h"

enum opt_type { OPT_INT, OPT_SIZE, OPT_CHOICE, OPT_PERCENT, OPT_GOBYTES };

struct opt {
    const char *src;  /* "GODEBUG", or the knob's own variable */
    const char *name;
    enum opt_type type;
    int64_t def, min, max;
    const char *doc;
    size_t offset; /* in struct tc_options */
};

static const struct opt opts[] = {
#define TC_OPT_DESC(src, name, type, def, min, max, doc) \
    {#src, #name, OPT_##type, def, min, max, doc, offsetof(struct tc_options, name)},
    TC_OPTIONS(TC_OPT_DESC)
#undef TC_OPT_DESC
};
#define NOPTS (sizeof opts / sizeof opts[0])

struct tc_options tc_opts = {
#define TC_OPT_INIT(src, name, type, def, min, max, doc) .name = def,
    TC_OPTIONS(TC_OPT_INIT)
#undef TC_OPT_INIT
};

void tc_options_defaults(struct tc_options *o) {
#define TC_OPT_SETDEF(src, name, type, def, min, max, doc) o->name = def;
    TC_OPTIONS(TC_OPT_SETDEF)
#undef TC_OPT_SETDEF
}

static int wide(const struct opt *d) { return d->type == OPT_SIZE || d->type == OPT_GOBYTES; }

static void store(struct tc_options *o, const struct opt *d, int64_t v) {
    if (wide(d)) *(int64_t *)((char *)o + d->offset) = v;
    else *(int *)((char *)o + d->offset) = (int)v;
}

static int64_t load(const struct tc_options *o, const struct opt *d) {
    if (wide(d)) return *(const int64_t *)((const char *)o + d->offset);
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

/* A decimal integer with an optional sign, the whole of [s, e). */
static int parse_int(const char *s, const char *e, int64_t *out) {
    int neg = 0;
    if (s < e && *s == '-') neg = 1, s++;
    if (s == e) return -1;
    uint64_t v = 0;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9' || v > (uint64_t)INT64_MAX / 10) return -1;
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > (uint64_t)INT64_MAX) return -1;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* Go's readGOGC: "off", or a number; a negative one is off too. */
int tc_options_parse_gogc(const char *s, int32_t *out) {
    int64_t v;
    if (strcmp(s, "off") == 0) v = -1;
    else if (parse_int(s, s + strlen(s), &v) || v > INT32_MAX || v < INT32_MIN) return -1;
    *out = v < 0 ? -1 : (int32_t)v;
    return 0;
}

/* Go's readGOMEMLIMIT (parseByteCount): "off", or digits and a unit of
 * B, KiB, MiB, GiB or TiB (none: bytes). */
int tc_options_parse_memlimit(const char *s, int64_t *out) {
    if (strcmp(s, "off") == 0) {
        *out = INT64_MAX;
        return 0;
    }
    size_t n = strlen(s);
    unsigned shift = 0;
    if (n >= 2 && s[n - 1] == 'B' && s[n - 2] >= '0' && s[n - 2] <= '9') {
        n -= 1;
    } else if (n >= 4 && s[n - 1] == 'B' && s[n - 2] == 'i') {
        const char *units = "KMGT", *u = memchr(units, s[n - 3], 4);
        if (!u) return -1;
        shift = 10 * (unsigned)(u - units + 1);
        n -= 3;
    } else if (!n || s[n - 1] < '0' || s[n - 1] > '9') {
        return -1;
    }
    int64_t v;
    if (parse_int(s, s + n, &v) || v < 0 || (uint64_t)v > (uint64_t)INT64_MAX >> shift) return -1;
    *out = (int64_t)((uint64_t)v << shift);
    return 0;
}

/* The value val (n bytes) for d: 1 and *v if it is one d accepts. */
static int parse_value(const struct opt *d, const char *val, size_t n, int64_t *v) {
    char buf[64];
    int ok;
    switch (d->type) {
    case OPT_CHOICE: return (*v = choice_index(d->doc, val, n)) >= 0;
    case OPT_INT: ok = parse_number(val, n, 0, v); break;
    case OPT_SIZE: ok = parse_number(val, n, 1, v); break;
    default: /* GOGC's and GOMEMLIMIT's syntax: whole strings */
        if (n >= sizeof buf) return 0;
        memcpy(buf, val, n);
        buf[n] = '\0';
        if (d->type == OPT_PERCENT) {
            int32_t p;
            ok = tc_options_parse_gogc(buf, &p) == 0;
            *v = p;
        } else {
            ok = tc_options_parse_memlimit(buf, v) == 0;
        }
        break;
    }
    return ok && *v >= d->min && *v <= d->max;
}

/* One line on stderr: val (n bytes) is not a value of d; d keeps its
 * default. */
static void complain(const struct opt *d, const char *val, size_t n) {
    char buf[64], want[64];
    size_t m = n < sizeof buf - 1 ? n : sizeof buf - 1;
    memcpy(buf, val, m);
    buf[m] = '\0';
    size_t w = strcspn(d->doc, ":");
    w = w < sizeof want - 1 ? w : sizeof want - 1;
    memcpy(want, d->doc, w);
    want[w] = '\0';
    int godebug = strcmp(d->src, "GODEBUG") == 0;
    if (!godebug && d->type == OPT_PERCENT)
        tc_print("tricolor: %s=%s is not a percentage or \"off\"; keeping the default, %zd",
                 d->src, buf, (ptrdiff_t)d->def);
    else if (!godebug && d->type == OPT_GOBYTES)
        tc_print("tricolor: %s=%s is not a byte count (such as 512MiB) or \"off\"; keeping the "
                 "default, no limit", d->src, buf);
    else if (!godebug)
        tc_print("tricolor: %s=%s is not a number from %zd to %zd; keeping the default", d->src,
                 buf, (ptrdiff_t)d->min, (ptrdiff_t)d->max);
    else if (d->type == OPT_CHOICE)
        tc_print("tricolor: GODEBUG: bad value %s=%s (want %s); keeping the default", d->name,
                 buf, want);
    else
        tc_print("tricolor: GODEBUG: bad value %s=%s (want %zd..%zd%s); keeping the default",
                 d->name, buf, (ptrdiff_t)d->min, (ptrdiff_t)d->max,
                 d->type == OPT_SIZE ? " bytes, or with K, M or G" : "");
}

static void set(struct tc_options *o, const struct opt *d, const char *val, size_t n) {
    int64_t v = 0;
    if (parse_value(d, val, n, &v)) store(o, d, v);
    else complain(d, val, n);
}

static void apply(struct tc_options *o, const char *kv, size_t n) {
    const char *eq = memchr(kv, '=', n);
    if (!eq) return;
    size_t klen = (size_t)(eq - kv);
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *d = &opts[i];
        if (strcmp(d->src, "GODEBUG") != 0 || strlen(d->name) != klen ||
            memcmp(d->name, kv, klen) != 0)
            continue;
        set(o, d, eq + 1, n - klen - 1);
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

void tc_options_parse_env(struct tc_options *o, const char *var, const char *s) {
    if (strcmp(var, "GODEBUG") == 0) {
        tc_options_parse_godebug(o, s);
        return;
    }
    if (!s || !*s) return;
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(opts[i].src, var) == 0) set(o, &opts[i], s, strlen(s));
}

int tc_options_pending;

/* A sanitizer's start-up code (libFuzzer's, UBSan's) may call malloc
 * before libc's own initialisers have set environ: getenv then finds
 * nothing, and tc_options_reread parses again from a constructor. Each
 * variable is read once, GODEBUG last. */
void tc_options_init(void) {
    extern char **environ;
    tc_options_pending = environ == NULL;
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(opts[i].src, "GODEBUG") != 0)
            tc_options_parse_env(&tc_opts, opts[i].src, getenv(opts[i].src));
    tc_options_parse_godebug(&tc_opts, getenv("GODEBUG"));
}

void tc_options_print(int fd) {
    static const char *const type_name[] = {"int", "size", "choice", "percent", "bytes"};
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *d = &opts[i];
        int godebug = strcmp(d->src, "GODEBUG") == 0;
        tc_fprint(fd, "%s%s%s=%zd (%s %zd..%zd, default %zd): %s", d->src, godebug ? " " : "",
                  godebug ? d->name : "", (ptrdiff_t)load(&tc_opts, d), type_name[d->type],
                  (ptrdiff_t)d->min, (ptrdiff_t)d->max, (ptrdiff_t)d->def, d->doc);
    }
}

void tc_options_reread(void) {
    if (tc_options_pending) tc_options_init();
}
