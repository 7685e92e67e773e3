/* gc/stacks.c: the stacks a thread runs on, besides its own.
 *
 * A stopped or parked thread publishes its stack pointer (gc/stw.c,
 * gc/park.c), and the collector scans from there to the top of the stack
 * it lies in. Normally that is the thread's own stack. Two other kinds:
 *
 * Alternate signal stacks. A program handler installed with SA_ONSTACK
 * runs on the stack given to sigaltstack; a stop that finds the thread in
 * it (the collector's signal, a gc call the handler makes, a blocking
 * call it parks in) publishes a pointer into the alternate stack. The
 * trampoline every program handler runs through (gc/signals.c) notes, as
 * it enters the alternate stack, that stack's bounds and the stack pointer
 * it came from (the interrupted context's, from the ucontext): the
 * collector scans the alternate stack from the published pointer, and the
 * stack it came from from that pointer (less the 128-byte red zone) up. A
 * handler that did not come through the trampoline leaves no such note;
 * the alternate stack's bounds are then asked of the kernel (sigaltstack,
 * async-signal-safe) as the thread stops, and its own stack is scanned
 * whole, page by page where it can be read.
 *
 * User-level stacks (ucontext coroutines, fibers). The program registers
 * each with gc_add_stack and tells the collector, with gc_switch_stack,
 * just before a thread switches to one (or back to its own). The stack a
 * thread leaves is suspended, and its pointer at that moment is kept: a
 * suspended stack is a root, scanned from that pointer (whole, if it was
 * never run). The rule that keeps this sound without rescans: a stack
 * holds pointers only while it is scanned at one instant with no thread
 * moving them, so a stack is scanned (a) suspended, by the root scan;
 * (b) running, with its thread stopped, as the thread's current stack;
 * and (c) at the moment it is left, by the leaving thread itself, while
 * a cycle is marking: values that travel from one stack to another in
 * registers are then always shaded on one side or the other.
 *
 * The user-stack table is guarded by the roots lock (inside gc regions);
 * the per-thread notes are written by their thread and read by the
 * collector while the thread is stopped. */
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "alloc/os.h"
#include "alloc/region.h"
#include "alloc/report.h"
#include "gc/mark.h"
#include "gc/park.h"
#include "gc/phase.h"
#include "gc/roots.h"
#include "gc/stacks.h"
#include "gc/stw.h"
#include "gc/threads.h"
#include "gc/tls.h"
#include "include/tricolor.h"

#define RED_ZONE 128

struct ustack {
    uintptr_t lo, hi;
    uintptr_t saved_sp;     /* where it was left; 0: never run, scan whole */
    struct gthread *runner; /* the thread on it, or NULL: suspended */
};

static struct ustack *ustacks; /* roots lock */
static size_t nustacks, ustackcap;

static struct ustack *find_ustack(uintptr_t p) {
    for (size_t i = 0; i < nustacks; i++)
        if (p >= ustacks[i].lo && p < ustacks[i].hi) return &ustacks[i];
    return NULL;
}

/* ---- alternate signal stacks, thread side ---- */

static uintptr_t context_sp(void *uc) {
#if defined(__x86_64__)
    return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)((ucontext_t *)uc)->uc_mcontext.sp;
#endif
}

static int on_own_stack(struct gthread *t, uintptr_t sp) {
    return sp >= t->stack_lo && sp < t->stack_hi;
}

/* The alternate stack the thread is on, if any, into t (async-signal-safe). */
static int note_altstack(struct gthread *t) {
    stack_t ss;
    if (sigaltstack(NULL, &ss) != 0 || !(ss.ss_flags & SS_ONSTACK)) return 0;
    t->alt_lo = (uintptr_t)ss.ss_sp;
    t->alt_hi = (uintptr_t)ss.ss_sp + ss.ss_size;
    return 1;
}

int tc_stack_handler_enter(struct gthread *t, void *uc) {
    uintptr_t here = tc_current_sp();
    if (!t || on_own_stack(t, here) || !note_altstack(t)) return 0;
    uintptr_t from = context_sp(uc);
    if (from >= t->alt_lo && from < t->alt_hi) return 0; /* nested: already noted */
    t->alt_from_sp = from;
    atomic_signal_fence(memory_order_seq_cst);
    return 1;
}

void tc_stack_handler_leave(struct gthread *t, int entered) {
    if (!entered) return;
    atomic_signal_fence(memory_order_seq_cst);
    t->alt_from_sp = 0;
}

void tc_stack_note_sp(struct gthread *t, uintptr_t sp) {
    if (!on_own_stack(t, sp) && !(sp >= t->alt_lo && sp < t->alt_hi)) note_altstack(t);
}

/* ---- scanning ---- */

/* The top of the stack p is in, for a thread t: its own, its alternate
 * stack, or a registered one (roots lock held, or the world stopped). */
static uintptr_t top_of(struct gthread *t, uintptr_t p) {
    if (on_own_stack(t, p)) return t->stack_hi;
    if (p >= t->alt_lo && p < t->alt_hi) return t->alt_hi;
    struct ustack *u = find_ustack(p);
    return u ? u->hi : 0;
}

/* A stack nobody registered: from p up to the first page that cannot be
 * read, at most 8 MiB; said once. */
static void scan_unknown(uintptr_t p, void (*scan)(uintptr_t, uintptr_t)) {
    static int said;
    if (!said) {
        said = 1;
        tc_print("tricolor: warning: a thread runs on a stack the collector does not know "
                 "(register coroutine stacks with gc_add_stack)");
    }
    tc_scan_mapped(p, p + ((uintptr_t)8 << 20), scan);
}

/* Roots lock held, t stopped. */
void tc_thread_stacks_each(struct gthread *t, void (*scan)(uintptr_t lo, uintptr_t hi)) {
    uintptr_t sp = t->sp, top = top_of(t, sp);
    if (top) scan(sp, top);
    else scan_unknown(sp, scan);
    /* a user stack it said it would switch to, and has not yet */
    for (size_t i = 0; i < nustacks; i++) {
        struct ustack *u = &ustacks[i];
        if (u->runner == t && !(sp >= u->lo && sp < u->hi))
            scan(u->saved_sp ? u->saved_sp : u->lo, u->hi);
    }
    if (top == t->stack_hi) return; /* on its own stack: nothing else is live */
    /* the stack the alternate stack was entered from */
    uintptr_t from = 0;
    if (sp >= t->alt_lo && sp < t->alt_hi && t->alt_from_sp) {
        from = t->alt_from_sp - RED_ZONE;
        uintptr_t ftop = top_of(t, t->alt_from_sp);
        if (ftop == t->stack_hi) {
            scan(from, ftop);
            return;
        }
        if (ftop) scan(from, ftop);
    }
    /* its own stack, left for a user stack or unknown */
    if (t->own_saved_sp) scan(t->own_saved_sp, t->stack_hi);
    else tc_scan_mapped(t->stack_lo, t->stack_hi, scan);
}

/* Roots lock held: the suspended ones. */
void tc_user_stacks_each(void (*scan)(uintptr_t lo, uintptr_t hi)) {
    for (size_t i = 0; i < nustacks; i++) {
        struct ustack *u = &ustacks[i];
        if (!u->runner) scan(u->saved_sp ? u->saved_sp : u->lo, u->hi);
    }
}

/* ---- the API ---- */

TRICOLOR_API int gc_add_stack(void *lo, void *hi) {
    if ((uintptr_t)hi <= (uintptr_t)lo) return -1;
    tc_region_enter();
    tc_roots_lock();
    int rc = 0;
    if (find_ustack((uintptr_t)lo) || find_ustack((uintptr_t)hi - 1)) {
        rc = -1;
    } else {
        tc_os_vec_room((void **)&ustacks, &ustackcap, nustacks, sizeof *ustacks, 64,
                       "the stack table");
        ustacks[nustacks++] = (struct ustack){(uintptr_t)lo, (uintptr_t)hi, 0, NULL};
    }
    tc_roots_unlock();
    tc_region_end();
    return rc;
}

TRICOLOR_API int gc_remove_stack(void *lo, void *hi) {
    tc_region_enter();
    tc_roots_lock();
    int rc = -1;
    for (size_t i = 0; i < nustacks; i++) {
        if (ustacks[i].lo == (uintptr_t)lo && ustacks[i].hi == (uintptr_t)hi && !ustacks[i].runner) {
            ustacks[i] = ustacks[--nustacks];
            rc = 0;
            break;
        }
    }
    tc_roots_unlock();
    tc_region_end();
    return rc;
}

/* The frame of this call holds the caller's callee-saved registers while
 * the stack it leaves is scanned, and the pointer kept for that stack
 * lies below it: the registers stay covered until the switch saves them
 * (swapcontext stores them in its ucontext, which the program keeps on a
 * stack or in scanned memory). */
TRICOLOR_API __attribute__((noinline)) void gc_switch_stack(void *lo, void *hi) {
    uintptr_t regs[TC_SPILL_WORDS];
    tc_spill_regs(regs);
    uintptr_t sp = tc_current_sp();
    struct gthread *t = tc_region_enter();
    tc_roots_lock();
    uintptr_t left_top;
    struct ustack *from = on_own_stack(t, sp) ? NULL : find_ustack(sp);
    if (from) {
        from->saved_sp = sp;
        from->runner = NULL;
        left_top = from->hi;
    } else {
        t->own_saved_sp = on_own_stack(t, sp) ? sp : t->own_saved_sp;
        left_top = on_own_stack(t, sp) ? t->stack_hi : 0;
    }
    struct ustack *to = lo ? find_ustack((uintptr_t)lo) : NULL;
    if (lo && (!to || to->hi != (uintptr_t)hi || to->runner)) {
        tc_roots_unlock();
        tc_fatal("gc_switch_stack(%p, %p): not a registered stack, or one in use", lo, hi);
    }
    if (to) to->runner = t;
    else t->own_saved_sp = 0;
    tc_roots_unlock();
    if (left_top && atomic_load_explicit(&tc_gcphase, memory_order_relaxed) != GC_OFF)
        tc_scan_range(sp, left_top);
    tc_region_end();
    TC_KEEP(regs);
}
