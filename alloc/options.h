/* alloc/options.h: runtime knobs, read once from the environment.
 *
 * Go's variables: GODEBUG is a comma-separated list of key=value pairs
 * shared with Go programs, so keys tricolor does not know are ignored; a
 * known key with a bad value gets a one-line warning and its default.
 * Parsing uses no malloc (it runs inside the first malloc). */
#ifndef TC_ALLOC_OPTIONS_H
#define TC_ALLOC_OPTIONS_H

#include "alloc/base.h"

enum badfree_policy { BADFREE_ABORT = 0, BADFREE_WARN = 1 };

struct tc_options {
    int badfree;     /* enum badfree_policy; GODEBUG=badfree=abort|warn */
    int gctrace;     /* GODEBUG=gctrace=N: a line per cycle when N > 0 */
    int gccheckmark; /* GODEBUG=gccheckmark=1: verify every cycle */
    int gcsignal;    /* GODEBUG=gcsignal=N: stop signal; 0 = choose */
    int gcfullstop;  /* GODEBUG=gcfullstop=1: stops stop every thread */
};

TC_INTERNAL extern struct tc_options tc_opts;

/* Parse the environment into tc_opts. Called once, at initialisation. */
TC_INTERNAL void tc_options_init(void);
/* 1 while tc_options_init ran before libc had set environ. */
TC_INTERNAL extern int tc_options_pending;
/* Parse again if tc_options_init saw no environment (from a constructor,
 * before the collector reads tc_opts). */
TC_INTERNAL void tc_options_reread(void);

/* Parse one GODEBUG-style string (exposed for unit tests). */
TC_INTERNAL void tc_options_parse_godebug(struct tc_options *o, const char *s);

#endif
