/* gc/signals.h: the program's signals and the collector's own (gc/signals.c). */
#ifndef TC_GC_SIGNALS_H
#define TC_GC_SIGNALS_H

#include <signal.h>

#include "alloc/base.h"

struct gthread;

/* sigaction itself, past the interposition that wraps the program's
 * handlers (the collector's own handler is not wrapped). */
TC_INTERNAL int tc_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* Choose the collector's signal: want if it is a free real-time signal
 * (else say so, if warn), or the first free one from SIGRTMIN+4; 0 if
 * none. Remembered as the reserved signal. */
TC_INTERNAL int tc_gc_signal_choose(int want, int warn);
TC_INTERNAL int tc_gc_signal_reserved(void);
/* set without the collector's signal (in buf), or NULL for NULL. */
TC_INTERNAL const sigset_t *tc_without_gc_signal(const sigset_t *set, sigset_t *buf);
TC_INTERNAL void tc_unblock_gc_signal(void); /* in the calling thread */
/* Block every signal but the collector's in the calling thread (the old
 * mask in *old), for a moment no program handler may run in; restore
 * with tc_program_signals_release. */
TC_INTERNAL void tc_program_signals_hold(sigset_t *old);
TC_INTERNAL void tc_program_signals_release(const sigset_t *old);
TC_INTERNAL int tc_real_pthread_sigmask(int how, const sigset_t *set, sigset_t *old);
/* At the end of t's outermost region: send again the program's signals
 * that arrived inside it (t is the calling thread). */
TC_INTERNAL void tc_signals_redeliver(struct gthread *t);

#endif
