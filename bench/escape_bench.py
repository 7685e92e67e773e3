#!/usr/bin/env python3
"""The escape-analysis benchmark: one allocation-heavy IR program run by
tricolor-escape with its escape decisions applied and with --all-heap.

Both runs execute the same program on tricolor's collected heap (GOGC as
set in the environment, 100 by default); the difference is what escape
analysis saves: heap allocations and bytes avoided, collection cycles
avoided, time and peak RSS. Runs alternate (decisions, all-heap, ...) and
the report quotes the median and range of each figure over the
repetitions; the print output of the two modes must be identical (it is
also checked by tests/escape).

usage: escape_bench.py TRICOLOR_ESCAPE PROGRAM.ir [--reps N] [--json FILE]
"""
import json
import os
import re
import shutil
import sys

import benchlib
from benchlib import fmt

SUMMARY = re.compile(r"stack allocations: (\d+) \((\d+) bytes\), heap allocations: (\d+) "
                     r"\((\d+) bytes\), steps: (\d+), gc cycles: (\d+)$")
MODES = {"decisions": False, "all-heap": True}


class Failed(Exception):
    pass


def run_once(exe, prog, all_heap, timeout=600):
    argv = [exe, "run"] + (["--all-heap"] if all_heap else []) + [prog]
    c = benchlib.run_child(argv, None, timeout)
    if c["status"] != 0:
        raise Failed(f"{' '.join(argv)}: {benchlib.failure(c)}")
    m = SUMMARY.search((c["err"].strip().splitlines() or [""])[-1])
    if not m:
        raise Failed(f"no summary line in: {c['err'][-300:]}")
    sa, sb, ha, hb, steps, gcs = (int(x) for x in m.groups())
    return {"wall": c["secs"], "rss_mib": c["maxrss_kib"] / 1024, "stack": sa, "heap": ha,
            "heap_bytes": hb, "gc": gcs, "out": c["out"]}


def summarize(runs):
    """runs maps a mode to its repetitions: the spread of every figure."""
    if runs["decisions"] and runs["all-heap"] and runs["decisions"][0]["out"] != runs["all-heap"][0]["out"]:
        raise Failed("print output differs between decisions and --all-heap")
    keys = ("wall", "rss_mib", "gc", "heap", "heap_bytes", "stack")
    return {m: {k: benchlib.spread([r[k] for r in rs]) for k in keys} for m, rs in runs.items() if rs}


def render(summary, prog, reps, md=False):
    d, a = summary["decisions"], summary["all-heap"]
    rows = [[name, fmt(x["wall"], "{:.3f}"), fmt(x["rss_mib"], "{:.0f}"), fmt(x["heap"], "{:.0f}"),
             fmt({k: v / 1e6 if k != "n" else v for k, v in x["heap_bytes"].items()}),
             fmt(x["stack"], "{:.0f}"), fmt(x["gc"], "{:.0f}")] for name, x in (("decisions", d),
                                                                                  ("all-heap", a))]
    L = benchlib.table(["mode", "time s", "peak RSS MiB", "heap allocs", "heap MB", "stack allocs",
                        "gc cycles"], rows, md,
                       title=f"escape: {os.path.basename(prog)}, decisions applied vs --all-heap, "
                       f"{reps} runs each, median (min-max)")
    avoided = a["heap"]["median"] - d["heap"]["median"]
    L.append(f"heap allocations avoided: {avoided:.0f} of {a['heap']['median']:.0f} "
             f"({100 * avoided / max(a['heap']['median'], 1):.1f}%), "
             f"{(a['heap_bytes']['median'] - d['heap_bytes']['median']) / 1e6:.1f} MB; gc cycles "
             f"{d['gc']['median']:.0f} vs {a['gc']['median']:.0f}; time decisions/all-heap "
             f"{d['wall']['median'] / a['wall']['median']:.2f}x")
    return L


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    exe, prog = os.path.abspath(sys.argv[1]), sys.argv[2]
    if not shutil.which(exe):
        sys.exit(f"escape_bench: {exe} not found (build with -Descape=true)")
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 5
    runs = {m: [] for m in MODES}
    try:
        for _ in range(reps):
            for m, all_heap in MODES.items():
                runs[m].append(run_once(exe, prog, all_heap))
        summary = summarize(runs)
    except Failed as e:
        sys.exit(f"escape_bench: {e}")
    print("\n".join(render(summary, prog, reps)))
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump({"program": prog, "summary": summary,
                       "runs": {m: [{k: v for k, v in r.items() if k != "out"} for r in rs]
                                for m, rs in runs.items()}}, f, indent=1)


if __name__ == "__main__":
    main()
