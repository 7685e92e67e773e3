/* gc/stacks.h: the stacks of a thread: its own, alternate signal stacks, user
 * stacks (gc/stacks.c). */
#ifndef TC_GC_STACKS_H
#define TC_GC_STACKS_H

#include <stdint.h>

#include "alloc/base.h"

struct gthread;

/* A program handler starts (returns 1 if it entered an alternate stack),
 * and ends (with what enter returned); async-signal-safe. */
TC_INTERNAL int tc_stack_handler_enter(struct gthread *t, void *uc);
TC_INTERNAL void tc_stack_handler_leave(struct gthread *t, int entered);
/* The thread publishes sp to stop or park: note the stack it is on. */
TC_INTERNAL void tc_stack_note_sp(struct gthread *t, uintptr_t sp);
/* scan() what is live on every stack of t, stopped (roots lock held). */
TC_INTERNAL void tc_thread_stacks_each(struct gthread *t, void (*scan)(uintptr_t lo, uintptr_t hi));
/* scan() the suspended user stacks (roots lock held). */
TC_INTERNAL void tc_user_stacks_each(void (*scan)(uintptr_t lo, uintptr_t hi));

#endif
