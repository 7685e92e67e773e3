/* alloc/options.h: runtime knobs, read once from the environment.
 *
 * Every knob is one line of TC_OPTIONS below: where it is read from (its
 * own variable, such as GOGC, or GODEBUG), its name (GODEBUG's key, and
 * the field of struct tc_options), type, default, minimum, maximum and a
 * line of documentation. The parser, the defaults, the range checks and
 * the list printed by tc_options_print all come from that table, so a new
 * knob is one line; README.md's Environment table is checked against it
 * (tests/docs/check_docs.py).
 *
 * Types: INT (decimal), SIZE (bytes, with an optional K, M or G suffix
 * for KiB, MiB, GiB), CHOICE (one of the words before the ':' of the doc
 * line, stored as its index), PERCENT (GOGC: a decimal number, or "off";
 * off and negative numbers are stored as -1) and GOBYTES (GOMEMLIMIT: Go's
 * syntax, a byte count with an optional B, KiB, MiB, GiB or TiB suffix, or
 * "off", stored as INT64_MAX). GODEBUG is a comma-separated list of
 * key=value pairs shared with Go programs, so keys tricolor does not know
 * are ignored. A bad value gets a one-line error on stderr and the knob
 * keeps its default; an empty variable counts as unset. Parsing uses no
 * malloc (it runs inside the first malloc). */
#ifndef TC_ALLOC_OPTIONS_H
#define TC_ALLOC_OPTIONS_H

#include <stdint.h>

#include "alloc/base.h"

#define TC_KiB ((int64_t)1 << 10)
#define TC_MiB ((int64_t)1 << 20)
#define TC_GiB ((int64_t)1 << 30)

/* X(source, name, type, default, min, max, doc) */
#define TC_OPTIONS(X)                                                                           \
    X(GOGC, gogc, PERCENT, 100, -1, INT32_MAX,                                                  \
      "off|N: a cycle when the heap has grown N % past the live heap")                          \
    X(GOMEMLIMIT, gomemlimit, GOBYTES, INT64_MAX, 0, INT64_MAX,                                 \
      "off|bytes: the soft limit on the memory the runtime holds")                              \
    X(GOMAXPROCS, gomaxprocs, INT, 0, 1, 1024, "CPUs the collector plans for (0: those online)") \
    X(GODEBUG, badfree, CHOICE, 0, 0, 1, "abort|warn: what a bad free() does after its line")  \
    X(GODEBUG, gctrace, INT, 0, 0, 2, "a line on stderr per collection when > 0")              \
    X(GODEBUG, gccheckmark, INT, 0, 0, 1, "re-mark with the world stopped after each cycle")   \
    X(GODEBUG, gcsignal, INT, 0, 1, 64, "the signal that stops threads (default: choose)")     \
    X(GODEBUG, gcfullstop, INT, 0, 0, 1, "stop every thread at both ends of marking")          \
    X(GODEBUG, gcstress, INT, 0, 0, 100000000,                                                  \
      "ask for a cycle every N gc_alloc calls of a thread")                                     \
    X(GODEBUG, mstats, INT, 0, 0, 1, "print per-size-class statistics at exit")                \
    X(GODEBUG, binbytes, SIZE, 128 * TC_KiB, 0, 16 * TC_MiB,                                   \
      "bytes of freed objects a thread keeps per size class")                                   \
    X(GODEBUG, binobjs, INT, 2048, 1, 65536, "at most this many objects per size class")       \
    X(GODEBUG, ownempty, INT, 2, 0, 1024, "empty spans a thread keeps per size class")         \
    X(GODEBUG, largecache, SIZE, 1 * TC_MiB, 0, 1 * TC_GiB,                                    \
      "bytes of freed large blocks (<= 256 KiB each) a thread keeps")

enum badfree_policy { BADFREE_ABORT = 0, BADFREE_WARN = 1 };

#define TC_OPT_CTYPE_INT int
#define TC_OPT_CTYPE_CHOICE int
#define TC_OPT_CTYPE_SIZE int64_t
#define TC_OPT_CTYPE_PERCENT int
#define TC_OPT_CTYPE_GOBYTES int64_t

struct tc_options {
#define TC_OPT_FIELD(src, name, type, def, min, max, doc) TC_OPT_CTYPE_##type name;
    TC_OPTIONS(TC_OPT_FIELD)
#undef TC_OPT_FIELD
};

/* The process's options: the defaults until tc_options_init. */
TC_INTERNAL extern struct tc_options tc_opts;

/* Parse the environment into tc_opts. Called once, at initialisation. */
TC_INTERNAL void tc_options_init(void);
/* 1 while tc_options_init ran before libc had set environ. */
TC_INTERNAL extern int tc_options_pending;
/* Parse again if tc_options_init saw no environment (from a constructor,
 * before the collector reads tc_opts). */
TC_INTERNAL void tc_options_reread(void);

/* Parse one GODEBUG-style string into o (exposed for unit tests). */
TC_INTERNAL void tc_options_parse_godebug(struct tc_options *o, const char *s);
/* Set the knob read from variable var (GOGC...) to value s, as the
 * environment would (exposed for unit tests); GODEBUG: parse s. */
TC_INTERNAL void tc_options_parse_env(struct tc_options *o, const char *var, const char *s);
/* GOGC's and GOMEMLIMIT's syntax: 0 and *out set, or -1 and *out untouched. */
TC_INTERNAL int tc_options_parse_gogc(const char *s, int32_t *out);
TC_INTERNAL int tc_options_parse_memlimit(const char *s, int64_t *out);

/* Set o to the defaults. */
TC_INTERNAL void tc_options_defaults(struct tc_options *o);

/* Write the table (source, key, type, range, default, doc) to fd, one line each. */
TC_INTERNAL void tc_options_print(int fd);

#endif
