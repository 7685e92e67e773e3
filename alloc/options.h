/* alloc/options.h: runtime knobs, read once from the environment.
 *
 * Every knob is one line of TC_OPTIONS below: its GODEBUG key (also the
 * field of struct tc_options), type, default, minimum, maximum and a line
 * of documentation. The parser, the defaults, the range checks and the
 * list printed by tc_options_print all come from that table, so a new knob
 * (GOGC and GOMEMLIMIT can join as their own keys) is one line.
 *
 * Types: INT (decimal), SIZE (bytes, with an optional K, M or G suffix
 * for KiB, MiB, GiB) and CHOICE (one of the words before the ':' of the
 * doc line, stored as its index). GODEBUG is a comma-separated list of
 * key=value pairs shared with Go programs, so keys tricolor does not know
 * are ignored; a known key with a bad value gets a one-line error on
 * stderr and keeps its default. Parsing uses no malloc (it runs inside the
 * first malloc). */
#ifndef TC_ALLOC_OPTIONS_H
#define TC_ALLOC_OPTIONS_H

#include <stdint.h>

#include "alloc/base.h"

#define TC_KiB ((int64_t)1 << 10)
#define TC_MiB ((int64_t)1 << 20)
#define TC_GiB ((int64_t)1 << 30)

/* X(name, type, default, min, max, doc) */
#define TC_OPTIONS(X)                                                                  \
    X(badfree, CHOICE, 0, 0, 1, "abort|warn: what a bad free() does after its line")   \
    X(gctrace, INT, 0, 0, 2, "a line on stderr per collection when > 0")               \
    X(gccheckmark, INT, 0, 0, 1, "re-mark with the world stopped after each cycle")    \
    X(gcsignal, INT, 0, 1, 64, "the signal that stops threads (default: choose)")      \
    X(gcfullstop, INT, 0, 0, 1, "stop every thread at both ends of marking")           \
    X(gcstress, INT, 0, 0, 100000000, "ask for a cycle every N gc_alloc calls of a thread") \
    X(mstats, INT, 0, 0, 1, "print per-size-class statistics at exit")                 \
    X(binbytes, SIZE, 128 * TC_KiB, 0, 16 * TC_MiB,                                    \
      "bytes of freed objects a thread keeps per size class")                          \
    X(binobjs, INT, 2048, 1, 65536, "at most this many objects per size class")        \
    X(ownempty, INT, 2, 0, 1024, "empty spans a thread keeps per size class")          \
    X(largecache, SIZE, 1 * TC_MiB, 0, 1 * TC_GiB,                                     \
      "bytes of freed large blocks (<= 256 KiB each) a thread keeps")

enum badfree_policy { BADFREE_ABORT = 0, BADFREE_WARN = 1 };

#define TC_OPT_CTYPE_INT int
#define TC_OPT_CTYPE_CHOICE int
#define TC_OPT_CTYPE_SIZE int64_t

struct tc_options {
#define TC_OPT_FIELD(name, type, def, min, max, doc) TC_OPT_CTYPE_##type name;
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

/* Set o to the defaults. */
TC_INTERNAL void tc_options_defaults(struct tc_options *o);

/* Write the table (key, type, range, default, doc) to fd, one line each. */
TC_INTERNAL void tc_options_print(int fd);

#endif
