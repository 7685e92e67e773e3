#!/usr/bin/env python3
"""gc_workloads.py: the collector workloads of bench/gc_workloads.c and
bench/gc_workloads.go, each run in its own process against every peer:

  trees   binary trees: time, peak RSS, cycles (tricolor, Boehm, Boehm
          incremental, Go)
  window  200 000 live 1 KiB messages, a million pushes: worst and p99.9
          push latency (the same, and malloc/free)
  churn   4 threads rewiring a shared graph: throughput and pauses

Each figure is the median and range over --reps repetitions, the peers
interleaved (the first one rotated each repetition). Go's pauses come from
its gctrace lines between GCWORK-MEASURE and GCWORK-END (gc_report.go_trace).
scripts/bench-report runs this part (bench_report.py); by hand:
  python3 bench/gc_workloads.py --build BUILD [--quick] [--reps N] [--json FILE]
Exit status: 0 when every run completed, 1 if one failed, 2 for usage or
set-up errors.
"""
import argparse
import json
import os
import sys

import benchlib
import gc_report
from benchlib import fmt, table

PEERS = {"trees": ["tricolor", "boehm", "boehm-incremental", "go"],
         "window": ["tricolor", "boehm", "boehm-incremental", "go", "malloc"],
         "churn": ["tricolor", "boehm", "boehm-incremental", "go"]}
# (arguments, estimated seconds of one run) per workload, full and --quick.
ARGS = {False: {"trees": (["--depth=18"], 8), "window": (["--window=200000", "--pushes=1000000"], 4),
                "churn": (["--threads=4", "--nodes=131072", "--seconds=5"], 7)},
        True: {"trees": (["--depth=14"], 1), "window": (["--window=20000", "--pushes=100000"], 1),
               "churn": (["--threads=4", "--nodes=16384", "--seconds=1"], 2)}}


def build_go(build):
    return gc_report.build_go(os.path.join(build, "bench-go"), "gc_workloads.go", "gc-workloads-go")


def workload_cmd(impl, workload, quick, build, go_exe):
    """(argv, env) of one run, or None if that peer is not built."""
    args = ARGS[quick][workload][0]
    if impl == "go":
        if not go_exe:
            return None
        return ([go_exe, workload] + [a.replace("--", "-", 1) for a in args],
                dict(os.environ, GODEBUG="gctrace=1"))
    exe = os.path.join(build, "bench", "gc-workloads-" + impl.replace("-incremental", ""))
    extra = ["--incremental"] if impl.endswith("-incremental") else []
    return ([exe, workload] + args + extra, gc_report.own_env()) if os.access(exe, os.X_OK) else None


def run_workload(impl, workload, cmd, timeout):
    c = benchlib.run_child(cmd[0], cmd[1], timeout)
    r = benchlib.tagged_json(c["out"], "GCWORK")
    if c["status"] != 0 or r is None:
        return {"impl": impl, "workload": workload, "failed": benchlib.failure(c)}
    if impl == "go":
        r["pauses_ns"] = gc_report.go_trace(c["err"], "GCWORK")[0]
        r["npauses"], r["pause_max_ns"] = len(r["pauses_ns"]), max(r["pauses_ns"], default=0)
    ps = sorted(r.get("pauses_ns", []))
    r["pause_us"] = {"p50": benchlib.pct(ps, 50) / 1e3, "p99": benchlib.pct(ps, 99) / 1e3,
                     "max": r.get("pause_max_ns", 0) / 1e3 if ps or r.get("npauses") else 0.0}
    return r


def render(runs, md=False):
    """runs maps (workload, impl) to repetitions; one table per workload."""
    L = []
    col = lambda rs, f: [f(r) for r in rs if "failed" not in r]
    specs = {
        "trees": ("binary trees (16-byte nodes, depths 4..D): lower is better",
                  ["time s", "peak RSS MiB", "cycles", "max pause us"],
                  [lambda r: r["time_s"], lambda r: r["peak_rss_kib"] / 1024, lambda r: r["cycles"],
                   lambda r: r["pause_us"]["max"]], ["{:.2f}", "{:.0f}", "{:.0f}", "{:.0f}"]),
        "window": ("message window (1 KiB messages): push latency, lower is better",
                   ["p99 us", "p99.9 us", "worst us", "time s", "peak RSS MiB", "max pause us"],
                   [lambda r: r["push_ns"]["p99"] / 1e3, lambda r: r["push_ns"]["p999"] / 1e3,
                    lambda r: r["push_ns"]["max"] / 1e3, lambda r: r["time_s"],
                    lambda r: r["peak_rss_kib"] / 1024, lambda r: r["pause_us"]["max"]],
                   ["{:.1f}", "{:.1f}", "{:.0f}", "{:.2f}", "{:.0f}", "{:.0f}"]),
        "churn": ("graph churn (threads rewiring a shared graph through the barrier)",
                  ["Mops/s", "cycles", "pauses", "p99 pause us", "max pause us", "peak RSS MiB"],
                  [lambda r: r["ops_per_s"] / 1e6, lambda r: r["cycles"], lambda r: r["npauses"],
                   lambda r: r["pause_us"]["p99"], lambda r: r["pause_us"]["max"],
                   lambda r: r["peak_rss_kib"] / 1024],
                  ["{:.2f}", "{:.0f}", "{:.0f}", "{:.0f}", "{:.0f}", "{:.0f}"])}
    for w, (title, hdr, fs, specs_) in specs.items():
        impls = [i for i in PEERS[w] if (w, i) in runs]
        if not impls:
            continue
        first = next((r for i in impls for r in runs[(w, i)] if "failed" not in r), {})
        shape = {"trees": f"D={first.get('depth', '?')}",
                 "window": f"{first.get('window', '?')} live, {first.get('pushes', '?')} pushes",
                 "churn": f"{first.get('threads', '?')} threads, {first.get('nodes', '?')} nodes"}[w]
        rows = []
        for i in impls:
            rs = runs[(w, i)]
            bad = [r["failed"] for r in rs if "failed" in r]
            rows.append([i] + [fmt(col(rs, f), s) for f, s in zip(fs, specs_)]
                        + ([f"FAILED {len(bad)} of {len(rs)}: {bad[0]}"] if bad else []))
        L += table(["peer"] + hdr, rows, md, title=f"{w}: {title}; {shape}")
    return L


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="meson build directory")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small shapes, for a smoke run")
    ap.add_argument("--workloads", default="trees,window,churn")
    ap.add_argument("--timeout", type=float, default=600, help="seconds for one run")
    ap.add_argument("--json", help="write all results here")
    a = ap.parse_args()
    chosen = [w for w in a.workloads.split(",") if w]
    if any(w not in PEERS for w in chosen) or a.reps < 1:
        print(f"gc_workloads: workloads are {', '.join(PEERS)}; --reps >= 1", file=sys.stderr)
        return 2
    go_exe, why = build_go(a.build)
    if why:
        print(f"gc_workloads: Go peer skipped: {why}", file=sys.stderr)
    runs = {}
    for rep in range(a.reps):
        for w in chosen:
            peers = PEERS[w][rep % len(PEERS[w]):] + PEERS[w][:rep % len(PEERS[w])]
            for i in peers:
                cmd = workload_cmd(i, w, a.quick, a.build, go_exe)
                if cmd is None:
                    continue
                print(f"gc_workloads: repetition {rep + 1}/{a.reps}: {w} {i} ...", file=sys.stderr, flush=True)
                runs.setdefault((w, i), []).append(run_workload(i, w, cmd, a.timeout))
    print("\n".join(render(runs)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({f"{w} @ {i}": rs for (w, i), rs in runs.items()}, f, indent=1)
    return 1 if any("failed" in r for rs in runs.values() for r in rs) else 0


if __name__ == "__main__":
    sys.exit(main())
