/* gc/assist.c: mark assists, Go's gcAssistAlloc, paid after the
 * allocation instead of inside it.
 *
 * The object is already black, so a stop between two chunks is safe, and
 * a stop no longer waits for a whole assist (paid inside gc_alloc's
 * region, a span's worth of scanning kept stops waiting for milliseconds
 * whenever the thread lost its CPU in the middle of it). Each chunk is a
 * region of its own, so its grey buffer is published before a stop can
 * take the thread, and it ends early when a stop is asked for. The phase
 * only changes with the world stopped, so inside a region it holds still.
 * Debt left when marking ends is forgiven.
 *
 * The debt (bytes) becomes scan work at the pacer's assist ratio, at
 * least 64 KiB of it (Go's gcOverAssistWork: small debts do not each stop
 * to scan); the workers' credit pays first, and what was paid beyond the
 * debt is this thread's credit for the rest of the cycle. While the CPU
 * limiter is on, nothing is paid. */
#include <time.h>

#include "alloc/region.h"
#include "gc/assist.h"
#include "gc/cycle.h"
#include "gc/mark.h"
#include "gc/pacer.h"
#include "gc/phase.h"
#include "gc/stats.h"
#include "gc/stw.h"

/* Bumped as each mark begins (collector thread): assist credit from an
 * older cycle is void. */
static _Atomic uint32_t mark_cycle;

void tc_assist_new_cycle(void) { atomic_fetch_add(&mark_cycle, 1); }

__thread uint64_t tc_assist_debt __attribute__((tls_model("initial-exec")));
static __thread uint64_t assist_credit; /* bytes paid ahead, in cycle assist_cycle */
static __thread uint32_t assist_cycle;
#define ASSIST_CHUNK ((uint64_t)64 << 10)

/* An assist found nothing grey while cycle cyc still marks: the work is
 * in the markers' hands. As Go parks the goroutine until background credit
 * arrives, wait (outside any region, parked) for the workers' credit to
 * cover it; forgiving the debt let the heap run past its goal (seen: a
 * 64 MiB heap at GOGC=100 peaking at 199 MiB on a loaded machine, its
 * markers descheduled). Returns 0 when marking ended (debt forgiven) or
 * the credit paid it. */
static int assist_wait(uint32_t cyc, uint64_t work, uint64_t *paid, uint64_t done) {
    struct gccontroller *c = &tc_gcController;
    struct timespec ts = {0, 20 * 1000};
    while (*paid + done < work) {
        if (atomic_load_explicit(&tc_gcphase, memory_order_relaxed) != GC_MARK ||
            atomic_load_explicit(&mark_cycle, memory_order_relaxed) != cyc ||
            tc_limiter_on(&tc_gcLimiter) || atomic_load(&tc_gc_testhook_holding))
            return 0;
        *paid += tc_pacer_take_credit(c, work - *paid - done);
        tc_region_enter(); /* the work queue's lock is taken inside regions */
        int empty = tc_work_empty();
        tc_region_end();
        if (!empty) return 1; /* grey objects to take again */
        nanosleep(&ts, NULL);
    }
    return 0;
}

void tc_gc_assist(void) {
    struct gccontroller *c = &tc_gcController;
    uint64_t debt = tc_assist_debt;
    tc_assist_debt = 0;
    if (debt & TC_ASSIST_WAIT_START) {
        debt &= ~TC_ASSIST_WAIT_START;
        tc_gc_wait_start();
        if (!debt) return;
    }
    uint32_t cyc = atomic_load_explicit(&mark_cycle, memory_order_relaxed);
    if (assist_cycle != cyc) assist_cycle = cyc, assist_credit = 0;
    if (assist_credit >= debt) {
        assist_credit -= debt;
        return;
    }
    debt -= assist_credit;
    assist_credit = 0;
    if (tc_limiter_on(&tc_gcLimiter)) return;
    uint64_t work = tc_pacer_assist_work(c, debt), done = 0, t0 = 0;
    if (work < TC_PACER_OVER_ASSIST) work = TC_PACER_OVER_ASSIST;
    uint64_t paid = tc_pacer_take_credit(c, work);
    while (paid + done < work) {
        if (!t0) t0 = tc_thread_cpu_ns();
        uint64_t left = work - paid - done;
        tc_region_enter();
        uint64_t n = 0;
        if (atomic_load_explicit(&tc_gcphase, memory_order_relaxed) == GC_MARK)
            n = tc_drain_assist(left < ASSIST_CHUNK ? left : ASSIST_CHUNK);
        tc_region_end(); /* a stop asked for meanwhile happens here */
        done += n;
        if (n == 0 && !assist_wait(cyc, work, &paid, done)) break;
    }
    if (t0) atomic_fetch_add_explicit(&c->assistTime, (int64_t)(tc_thread_cpu_ns() - t0),
                                      memory_order_relaxed);
    uint64_t bytes = tc_pacer_work_bytes(c, paid + done);
    assist_credit = bytes > debt ? bytes - debt : 0;
}

