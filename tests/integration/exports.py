#!/usr/bin/env python3
"""Check what libtricolor exports, with nm.

A malloc replacement works only if every entry point a program or glibc
itself may call is defined by it: a missing one (reallocarray, cfree, a
__libc_* alias) sends that call to glibc's allocator and the pointer later
reaches the wrong free. So:

  - the shared library must export each malloc-family symbol and the gc_*
    API as a defined dynamic symbol (nm -D --defined-only);
  - the static archive must define each of them as a global symbol, or a
    -static link pulls glibc's malloc.o in beside it;
  - nothing else may be exported: internal names (tc_*) are hidden.

usage: exports.py NM LIBTRICOLOR.so LIBTRICOLOR.a
"""
import subprocess
import sys

MALLOC_FAMILY = [
    "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign",
    "aligned_alloc", "memalign", "valloc", "pvalloc", "malloc_usable_size",
    "cfree", "malloc_trim", "__libc_malloc", "__libc_calloc",
    "__libc_realloc", "__libc_free", "__libc_memalign", "__libc_valloc",
    "__libc_pvalloc", "mallinfo", "mallinfo2", "malloc_stats", "malloc_info",
]
PUBLIC_API = ["gc_version", "gc_read_stats", "gc_release_memory", "gc_thread_idle",
              "gc_alloc", "gc_alloc_noscan", "gc_alloc_uncollectable", "gc_free", "gc_store",
              "gc_collect", "gc_setpercent", "gc_set_memory_limit", "gc_add_roots",
              "gc_remove_roots",
              "gc_register_thread", "gc_unregister_thread", "gc_set_finalizer",
              "gc_keepalive", "gc_read_pauses", "gc_stats_print", "gc_memmove", "gc_memcpy",
              "gc_memclr", "gc_qsort", "gc_qsort_r", "gc_add_stack", "gc_remove_stack",
              "gc_switch_stack",
              # interposed so every thread is known to the collector, and
              # its exit value kept until it is joined (gc/threads.c)
              "pthread_create", "pthread_exit", "pthread_join", "pthread_tryjoin_np",
              "pthread_timedjoin_np", "pthread_clockjoin_np", "pthread_detach",
              # interposed so a thread blocked in them needs no stop signal
              # (gc/park.c), and the program's handlers run unparked
              "nanosleep", "clock_nanosleep", "usleep", "sleep", "poll",
              "select", "epoll_wait", "sigaction", "signal", "bsd_signal",
              # ... and kept from EINTR (gc/blocking.c), with the collector's
              # signal never blocked (gc/signals.c)
              "ppoll", "pselect", "epoll_pwait", "pause", "sigsuspend", "sigwait",
              "sigwaitinfo", "sigtimedwait", "semop", "semtimedop", "msgrcv", "msgsnd",
              "sem_wait", "sem_timedwait", "sem_clockwait", "connect", "accept", "accept4",
              "read", "readv", "recv", "recvfrom", "recvmsg", "write", "writev", "send",
              "sendto", "sendmsg", "pthread_sigmask", "sigprocmask",
              # counted, so the checkmark knows its list of globals is whole
              "dlclose"]
# linker-made symbols some toolchains put in .dynsym
LINKER_SYMBOLS = {"_init", "_fini", "_edata", "_end", "__bss_start"}
DEFINED = set("TWi")  # text, weak, indirect function


def symbols(nm, args):
    out = subprocess.run([nm] + args, check=True, capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:  # address, type, name
            syms[parts[2].split("@")[0]] = parts[1]
    return syms


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: exports.py NM LIBTRICOLOR.so LIBTRICOLOR.a")
    nm, shared, static = sys.argv[1:]
    problems = []

    dyn = symbols(nm, ["-D", "--defined-only", shared])
    for name in MALLOC_FAMILY + PUBLIC_API:
        if dyn.get(name) not in DEFINED:
            problems.append(f"{shared}: {name} not exported (nm type {dyn.get(name, 'absent')})")
    allowed = set(MALLOC_FAMILY) | set(PUBLIC_API) | LINKER_SYMBOLS
    for name in sorted(dyn):
        if name not in allowed and not name.startswith("gc_"):
            problems.append(f"{shared}: unexpected export {name}")

    arch = symbols(nm, ["--defined-only", static])
    for name in MALLOC_FAMILY + PUBLIC_API:
        if arch.get(name) not in set("TWi"):
            problems.append(f"{static}: no global definition of {name} (nm type {arch.get(name, 'absent')})")

    for p in problems:
        print("FAIL", p)
    print(f"{len(MALLOC_FAMILY + PUBLIC_API)} symbols checked in {shared} and {static}: "
          f"{len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
