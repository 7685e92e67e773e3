#!/usr/bin/env python3
"""The escape-analysis benchmark: one allocation-heavy IR program run by
tricolor-escape with its escape decisions applied and with --all-heap.

Both runs execute the same program on tricolor's collected heap (GOGC as
set in the environment, 100 by default); the difference is what escape
analysis saves: heap allocations and bytes avoided, collection cycles
avoided, time and peak RSS. Runs alternate (decisions, all-heap, ...) and
the report quotes medians of each figure; the print output of the two
modes must be identical (it is also checked by tests/escape).

usage: escape_bench.py TRICOLOR_ESCAPE PROGRAM.ir [--reps N]
"""
import os
import shutil
import re
import resource
import statistics
import subprocess
import sys
import time

SUMMARY = re.compile(r"stack allocations: (\d+) \((\d+) bytes\), heap allocations: (\d+) "
                     r"\((\d+) bytes\), steps: (\d+), gc cycles: (\d+)$")


def run_once(exe, prog, all_heap):
    argv = [exe, "run"] + (["--all-heap"] if all_heap else []) + [prog]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit(f"escape_bench: {' '.join(argv)} exited {p.returncode}: {p.stderr.strip()[-300:]}")
    m = SUMMARY.search(p.stderr.strip().splitlines()[-1])
    if not m:
        sys.exit(f"escape_bench: no summary line in: {p.stderr[-300:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    sa, sb, ha, hb, steps, gcs = (int(x) for x in m.groups())
    return {"wall": wall, "stack": sa, "heap": ha, "heap_bytes": hb, "gc": gcs, "out": p.stdout,
            "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    exe, prog = os.path.abspath(sys.argv[1]), sys.argv[2]
    if not shutil.which(exe):
        sys.exit(f"escape_bench: {exe} not found (build with -Descape=true)")
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 5
    runs = {False: [], True: []}
    for _ in range(reps):
        for mode in (False, True):
            runs[mode].append(run_once(exe, prog, mode))
    if runs[False][0]["out"] != runs[True][0]["out"]:
        sys.exit("escape_bench: print output differs between decisions and --all-heap")
    med = {m: {k: statistics.median(r[k] for r in runs[m]) for k in ("wall", "cpu", "gc", "heap",
                                                                     "heap_bytes", "stack")}
           for m in runs}
    d, a = med[False], med[True]
    print(f"== escape: {os.path.basename(prog)}, decisions applied vs --all-heap, "
          f"{reps} runs each, medians ==")
    print(f"  {'mode':14} {'time s':>8} {'cpu s':>8} {'heap allocs':>12} {'heap MB':>9} "
          f"{'stack allocs':>12} {'gc cycles':>9}")
    for name, x in (("decisions", d), ("all-heap", a)):
        print(f"  {name:14} {x['wall']:8.3f} {x['cpu']:8.3f} {x['heap']:12.0f} "
              f"{x['heap_bytes'] / 1e6:9.1f} {x['stack']:12.0f} {x['gc']:9.0f}")
    avoided = a["heap"] - d["heap"]
    print(f"  heap allocations avoided: {avoided:.0f} of {a['heap']:.0f} "
          f"({100 * avoided / max(a['heap'], 1):.1f}%), {(a['heap_bytes'] - d['heap_bytes']) / 1e6:.1f} MB; "
          f"gc cycles {d['gc']:.0f} vs {a['gc']:.0f}; time decisions/all-heap "
          f"{d['wall'] / a['wall']:.2f}x")


if __name__ == "__main__":
    main()
