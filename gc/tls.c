/* gc/tls.c: every thread's TLS blocks, static and dynamic.
 *
 * A __thread variable lives in a block per module and thread:
 *  - static TLS, one area per thread just below the thread pointer (x86-64;
 *    above it on aarch64), holds the blocks of the modules loaded at
 *    start-up and of later ones built for the initial-exec model (placed
 *    in the area's surplus). A thread made by pthread_create has its area
 *    at the top of its stack mapping, which its stack scan covers; the
 *    main thread's lies elsewhere, so it is scanned on its own: the
 *    area's size comes from glibc (_dl_get_tls_static_info, less the TCB
 *    that size counts), and its pages are probed before they are read;
 *  - dynamic TLS: a module dlopen'ed later gets a block from malloc (ours:
 *    not scanned) the first time a thread touches it. glibc lists each
 *    thread's blocks in its dynamic thread vector (DTV): dtv[m] is module
 *    m's block, or -1 while it is unallocated, and dtv[-1] the vector's
 *    length. The vector hangs off the TCB (x86-64: its second word;
 *    aarch64: the first), so each thread records where its DTV pointer
 *    lives when it registers, and the collector walks the vector while
 *    the thread is stopped (the thread is the only writer of its vector).
 *    Block sizes come from the modules' PT_TLS segments, read with
 *    dl_iterate_phdr at the start of each cycle; a block is read no
 *    further than its heap slot, or the top of the thread's stack.
 * This is glibc's layout, not an interface: at the first cycle the
 * collector's thread checks it against what dl_iterate_phdr says of that
 * thread, and if they disagree it warns and scans static TLS only. */
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alloc/base.h"
#include "alloc/mheap.h"
#include "alloc/mspan.h"
#include "alloc/os.h"
#include "alloc/report.h"
#include "gc/threads.h"
#include "gc/tls.h"

union dtv {
    size_t counter;
    struct {
        void *val;
        void *to_free;
    } pointer;
};
#define DTV_UNALLOCATED ((void *)-1l)

static size_t *modsize;     /* bytes of module m's TLS block; collector thread */
static size_t nmods;        /* entries in modsize */
static int dtv_usable = -1; /* -1 unchecked, 0 no, 1 yes; collector thread */
static size_t static_size;  /* bytes of a thread's static TLS area (with the TCB) */
/* x86-64: bytes of static_size that are the TCB, above the thread pointer:
 * the area below it is that much smaller, and the main thread's lies in
 * an allocation of just that size, so reading static_size below its
 * thread pointer reads whatever is mapped beneath (a coroutine stack, say).
 * Measured on the first thread whose TCB tops its stack mapping
 * (pthread_create's: the stack's top less the thread pointer); 0 until
 * then. Written once. */
static _Atomic size_t tcb_size;

static uintptr_t thread_pointer(void) {
    uintptr_t tp;
#if defined(__x86_64__)
    __asm__("mov %%fs:0, %0" : "=r"(tp));
#elif defined(__aarch64__)
    __asm__("mrs %0, tpidr_el0" : "=r"(tp));
#endif
    return tp;
}

/* Where the DTV pointer of the calling thread lives. */
static union dtv **dtv_slot(void) {
#if defined(__x86_64__)
    return (union dtv **)(thread_pointer() + sizeof(void *));
#else
    return (union dtv **)thread_pointer();
#endif
}

/* ---- per module, at each cycle ---- */

static int module_size(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size, (void)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_TLS || !ph->p_memsz || !info->dlpi_tls_modid) continue;
        size_t m = info->dlpi_tls_modid;
        if (m >= nmods) {
            size_t n = m + 64;
            size_t *v = tc_os_grow(modsize, nmods * sizeof *v, n * sizeof *v);
            if (!v) tc_fatal("out of memory for the TLS table");
            modsize = v;
            nmods = n;
        }
        modsize[m] = ph->p_memsz;
    }
    return 0;
}

/* Every block dl_iterate_phdr reports for the calling thread is where its
 * DTV says. */
static int dtv_agrees(struct dl_phdr_info *info, size_t size, void *bad) {
    (void)size;
    if (!info->dlpi_tls_data) return 0;
    union dtv *dtv = *dtv_slot();
    size_t m = info->dlpi_tls_modid;
    if (!dtv || m > dtv[-1].counter || dtv[m].pointer.val != info->dlpi_tls_data) *(int *)bad = 1;
    return 0;
}

void tc_tls_refresh(void) {
    if (modsize) memset(modsize, 0, nmods * sizeof *modsize);
    dl_iterate_phdr(module_size, NULL);
    if (dtv_usable < 0) {
        int bad = 0;
        dl_iterate_phdr(dtv_agrees, &bad);
        dtv_usable = !bad;
        if (bad)
            tc_print("tricolor: warning: this C library's TLS layout is not glibc's; __thread "
                     "variables of modules dlopen'ed later are not scanned");
    }
}

/* ---- per thread ---- */

void tc_tls_init(void) {
    void (*info)(size_t *, size_t *) =
        (void (*)(size_t *, size_t *))dlvsym(RTLD_DEFAULT, "_dl_get_tls_static_info", "GLIBC_PRIVATE");
    size_t align = 0;
    if (info) info(&static_size, &align);
}

/* The static blocks dl_iterate_phdr knows of for the calling thread, if
 * glibc does not say how big the area is: [lowest, highest end). */
struct span_of_blocks {
    uintptr_t lo, hi;
};

static int block_bounds(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    struct span_of_blocks *b = arg;
    uintptr_t p = (uintptr_t)info->dlpi_tls_data;
    if (!p) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_TLS) continue;
        if (p < b->lo) b->lo = p;
        if (p + ph->p_memsz > b->hi) b->hi = p + ph->p_memsz;
    }
    return 0;
}

void tc_thread_record_tls(struct gthread *t) {
    t->tp = thread_pointer();
    t->dtv = dtv_slot();
    struct span_of_blocks b = {t->tp, t->tp};
    if (!static_size) dl_iterate_phdr(block_bounds, &b);
#if defined(__x86_64__) /* the area ends at the thread pointer (TCB above) */
    t->static_lo = static_size ? t->tp - static_size : b.lo;
    t->static_hi = t->tp;
    if (static_size && t->tp >= t->stack_lo && t->tp < t->stack_hi &&
        t->stack_hi - t->tp < static_size) {
        size_t none = 0;
        atomic_compare_exchange_strong(&tcb_size, &none, t->stack_hi - t->tp);
    }
#else /* it starts there (TCB first) */
    t->static_lo = t->tp;
    t->static_hi = static_size ? t->tp + static_size : b.hi;
#endif
}

/* [lo, lo + size), cut at the end of the heap slot it lies in (a module
 * unloaded and its id reused by a bigger one may leave a smaller block). */
static uintptr_t block_end(uintptr_t lo, size_t size) {
    uintptr_t hi = lo + size;
    struct mspan *s = tc_spanof(lo);
    if (s && s->state == MSPAN_INUSE && lo >= s->startAddr && lo < s->limit) {
        uintptr_t slot = s->startAddr + (lo - s->startAddr) / s->elemsize * s->elemsize;
        if (hi > slot + s->elemsize) hi = slot + s->elemsize;
    }
    return hi;
}

/* ---- reading memory that may not all be mapped ---- */

static int probe_pipe[2] = {-1, -1};

/* Whether the page at p can be read: the kernel copies a byte from it
 * into a pipe, and says EFAULT if it cannot (unmapped, or PROT_NONE). */
static int readable(uintptr_t p) {
    if (probe_pipe[0] < 0 && pipe2(probe_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return 0;
    if (syscall(SYS_write, probe_pipe[1], (void *)p, 1) != 1) return 0;
    char c;
    return syscall(SYS_read, probe_pipe[0], &c, 1) == 1;
}

void tc_scan_mapped(uintptr_t lo, uintptr_t hi, void (*scan)(uintptr_t lo, uintptr_t hi)) {
    uintptr_t start = 0;
    for (uintptr_t p = lo; p < hi;) {
        uintptr_t next = TC_ALIGN_DOWN(p, 4096) + 4096;
        if (next > hi) next = hi;
        if (readable(TC_ALIGN_DOWN(p, 4096))) {
            if (!start) start = p;
        } else if (start) {
            scan(start, p);
            start = 0;
        }
        p = next;
    }
    if (start) scan(start, hi);
}

/* Where t's static TLS area begins, the TCB's share taken off once known. */
static uintptr_t static_lo(const struct gthread *t) {
#if defined(__x86_64__)
    size_t tcb = atomic_load_explicit(&tcb_size, memory_order_relaxed);
    if (static_size && tcb) return t->static_lo + tcb;
#endif
    return t->static_lo;
}

void tc_thread_tls_each(struct gthread *t, void (*scan)(uintptr_t lo, uintptr_t hi)) {
    uintptr_t static_start = static_lo(t);
    if (!(t->tp >= t->stack_lo && t->tp < t->stack_hi)) /* not covered by its stack scan */
        tc_scan_mapped(static_start, t->static_hi, scan);
    union dtv *dtv = dtv_usable == 1 && t->dtv ? *(union dtv **)t->dtv : NULL;
    if (!dtv) return;
    size_t n = dtv[-1].counter;
    for (size_t m = 1; m <= n && m < nmods; m++) {
        void *v = dtv[m].pointer.val;
        if (!modsize[m] || v == NULL || v == DTV_UNALLOCATED) continue;
        uintptr_t lo = (uintptr_t)v;
        if (lo >= static_start && lo < t->static_hi) continue; /* scanned above */
        if (lo >= t->sp && lo < t->stack_hi) continue;         /* by the stack scan */
        scan(lo, block_end(lo, modsize[m]));
    }
}
