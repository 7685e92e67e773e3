#!/usr/bin/env python3
"""gc_workloads.py: the collector workloads of bench/gc_workloads.c and
bench/gc_workloads.go, each run in its own process against every peer:

  trees     binary trees, depth 21: time, peak RSS, cycles (tricolor,
            Boehm, Boehm incremental, Go)
  window    200 000 live 1 KiB messages, a million pushes: worst and p99.9
            push latency (the same, and malloc/free)
  churn     4 threads rewiring a shared graph: throughput and pauses
  steadyG   a steady live set of 64 MiB replaced 20 times under GOGC=G
            (50, 100, 200): peak heap against 1.1 x L x (1 + G/100) + 4 MiB
            (tricolor, Go; Boehm with the free-space divisor 200/G)
  memlimit  GOGC=off GOMEMLIMIT=256MiB, 128 MiB live: peak RSS against
            1.05 x the limit (tricolor, Go)
  release   1 GiB allocated, dropped and given back: RSS after against the
            start (tricolor, Boehm, Go, malloc/free)

Each figure is the median and range over --reps repetitions, the peers
interleaved (the first one rotated each repetition); the targets of issue
14 follow the tables, MET only when every repetition meets them. Go's
pauses come from its gctrace lines between GCWORK-MEASURE and GCWORK-END
(gc_report.go_trace); tricolor's and Go's peak heap in the steady and
memlimit workloads from the same lines: the largest heap at the end of a
mark phase (gctrace's middle figure, whole MiB rounded down).
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
from benchlib import fmt, table, verdict

STEADY_GOGC = (50, 100, 200)
PEERS = {"trees": ["tricolor", "boehm", "boehm-incremental", "go"],
         "window": ["tricolor", "boehm", "boehm-incremental", "go", "malloc"],
         "churn": ["tricolor", "boehm", "boehm-incremental", "go"],
         **{f"steady{g}": ["tricolor", "boehm", "go"] for g in STEADY_GOGC},
         "memlimit": ["tricolor", "go"],
         "release": ["tricolor", "boehm", "go", "malloc"]}
# (arguments, estimated seconds of one run) per workload, full and --quick.
ARGS = {False: {"trees": (["--depth=21"], 30), "window": (["--window=200000", "--pushes=1000000"], 4),
                "churn": (["--threads=4", "--nodes=131072", "--seconds=5"], 7),
                **{f"steady{g}": (["--live-mb=64", "--turnover=20"], 4) for g in STEADY_GOGC},
                "memlimit": (["--live-mb=128", "--turnover=10"], 4), "release": (["--release-mb=1024"], 3)},
        True: {"trees": (["--depth=14"], 1), "window": (["--window=20000", "--pushes=100000"], 1),
               "churn": (["--threads=4", "--nodes=16384", "--seconds=1"], 2),
               **{f"steady{g}": (["--live-mb=16", "--turnover=5"], 1) for g in STEADY_GOGC},
               "memlimit": (["--live-mb=32", "--turnover=5"], 1), "release": (["--release-mb=64"], 1)}}
MEMLIMIT_MIB = {False: 256, True: 64}  # GOMEMLIMIT of the memlimit workload


def build_go(build):
    return gc_report.build_go(os.path.join(build, "bench-go"), ["gc_workloads.go", "gc_workloads_mem.go"],
                              "gc-workloads-go")


def settings(impl, workload, quick):
    """The environment a workload sets (GOGC, GOMEMLIMIT and gctrace for
    tricolor and Go; for Boehm, the free-space divisor that allocates as
    much between collections as GOGC does: it aims at 2 x traced bytes /
    divisor, GOGC at live x GOGC/100, and every object here is traced)."""
    if workload.startswith("steady"):
        g = int(workload[len("steady"):])
        return {"GC_FREE_SPACE_DIVISOR": f"{200 / g:g}"} if impl == "boehm" else \
            {"GOGC": str(g), "GODEBUG": "gctrace=1"}
    if workload == "memlimit":
        return {"GOGC": "off", "GOMEMLIMIT": f"{MEMLIMIT_MIB[quick]}MiB", "GODEBUG": "gctrace=1"}
    return {"GODEBUG": "gctrace=1"} if impl == "go" else {}


def workload_cmd(impl, workload, quick, build, go_exe):
    """(argv, env) of one run, or None if that peer is not built."""
    args = ARGS[quick][workload][0]
    program = "steady" if workload.startswith("steady") else workload
    if impl == "go":
        if not go_exe:
            return None
        env = {k: v for k, v in os.environ.items() if k not in ("GOGC", "GOMEMLIMIT")}
        return ([go_exe, program] + [a.replace("--", "-", 1) for a in args],
                dict(env, **settings(impl, workload, quick)))
    exe = os.path.join(build, "bench", "gc-workloads-" + impl.replace("-incremental", ""))
    extra = ["--incremental"] if impl.endswith("-incremental") else []
    env = dict(gc_report.own_env(), **settings(impl, workload, quick))
    return ([exe, program] + args + extra, env) if os.access(exe, os.X_OK) else None


def trace_heap_peak(stderr, marker="GCWORK"):
    """The largest heap at a mark termination (bytes) in the gctrace lines
    between MARKER-MEASURE and MARKER-END; None without a cycle there."""
    peak, inside = None, False
    for line in stderr.splitlines():
        if line.startswith(marker + "-MEASURE") or line.startswith(marker + "-END"):
            inside = line.startswith(marker + "-MEASURE")
        elif inside:
            m = gc_report.TRACE.match(line)
            if m:
                peak = max(peak or 0, int(m.group(5)) << 20)
    return peak


def run_workload(impl, workload, cmd, timeout):
    c = benchlib.run_child(cmd[0], cmd[1], timeout)
    r = benchlib.tagged_json(c["out"], "GCWORK")
    if c["status"] != 0 or r is None:
        return {"impl": impl, "workload": workload, "failed": benchlib.failure(c)}
    if impl == "go":
        r["pauses_ns"] = gc_report.go_trace(c["err"], "GCWORK")[0]
        r["npauses"], r["pause_max_ns"] = len(r["pauses_ns"]), max(r["pauses_ns"], default=0)
    if impl in ("tricolor", "go") and "heap_peak_bytes" in r:
        r["heap_peak_bytes"] = trace_heap_peak(c["err"])
    if workload.startswith("steady"):
        r["gogc_set"] = int(workload[len("steady"):])
    ps = sorted(r.get("pauses_ns", []))
    r["pause_us"] = {"p50": benchlib.pct(ps, 50) / 1e3, "p99": benchlib.pct(ps, 99) / 1e3,
                     "max": r.get("pause_max_ns", 0) / 1e3 if ps or r.get("npauses") else 0.0}
    return r


def render(runs, md=False):
    """runs maps (workload, impl) to repetitions; one table per workload,
    then the targets."""
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
                  ["{:.2f}", "{:.0f}", "{:.0f}", "{:.0f}", "{:.0f}", "{:.0f}"]),
        "memlimit": ("GOGC=off with GOMEMLIMIT: peak RSS against the limit",
                     ["limit MiB", "live MiB", "peak heap MiB", "peak RSS MiB", "1.05 x limit", "cycles",
                      "time s", "max pause us"],
                     [lambda r: r["memory_limit"] / MIB, lambda r: r["live_bytes"] / MIB,
                      lambda r: mib(r["heap_peak_bytes"]), lambda r: r["peak_rss_kib"] / 1024,
                      lambda r: 1.05 * r["memory_limit"] / MIB, lambda r: r["cycles"], lambda r: r["time_s"],
                      lambda r: r["pause_us"]["max"]],
                     ["{:.0f}", "{:.0f}", "{:.0f}", "{:.1f}", "{:.1f}", "{:.0f}", "{:.2f}", "{:.0f}"]),
        "release": ("objects of 1..64 KiB written, dropped and given back (gc_release_memory; Boehm "
                    "GC_gcollect_and_unmap; Go debug.FreeOSMemory; malloc: free, malloc_trim); the start "
                    "after one collection and one such release",
                    ["RSS start MiB", "RSS full MiB", "RSS after MiB", "after - start MiB",
                     "(after - start) / start", "release ms"],
                    [lambda r: r["rss_start_kib"] / 1024, lambda r: r["rss_full_kib"] / 1024,
                     lambda r: r["rss_after_kib"] / 1024, lambda r: release_growth(r) * r["rss_start_kib"] / 1024,
                     release_growth, lambda r: r["release_ms"]],
                    ["{:.1f}", "{:.0f}", "{:.1f}", "{:.1f}", "{:.2f}", "{:.0f}"])}
    for w in ("trees", "window", "churn", "steady", "memlimit", "release"):
        if w == "steady":
            L += render_steady(runs, md)
            continue
        title, hdr, fs, specs_ = specs[w]
        impls = [i for i in PEERS[w] if (w, i) in runs]
        if not impls:
            continue
        first = next((r for i in impls for r in runs[(w, i)] if "failed" not in r), {})
        shape = {"trees": lambda: f"D={first.get('depth', '?')}",
                 "window": lambda: f"{first.get('window', '?')} live, {first.get('pushes', '?')} pushes",
                 "churn": lambda: f"{first.get('threads', '?')} threads, {first.get('nodes', '?')} nodes",
                 "memlimit": lambda: f"{first.get('allocated_bytes', 0) / MIB:.0f} MiB allocated",
                 "release": lambda: f"{first.get('bytes', 0) / MIB:.0f} MiB of them"}[w]()
        rows = [[i] + cells(runs[(w, i)], fs, specs_) for i in impls]
        L += table(["peer"] + hdr, rows, md, title=f"{w}: {title}; {shape}")
    lines = targets(runs)
    if lines:
        L += [("- " if md else "") + t for t in lines] + [""]
    return L


MIB = 1048576.0


def mib(b):
    return None if b is None else b / MIB


def cells(rs, fs, specs):
    """One row's figures (median and range), and why any repetition failed."""
    bad = [r["failed"] for r in rs if "failed" in r]
    ok = [r for r in rs if "failed" not in r]
    return [fmt([v for v in (f(r) for r in ok) if v is not None], s) for f, s in zip(fs, specs)] + \
        ([f"FAILED {len(bad)} of {len(rs)}: {bad[0]}"] if bad else [])


def steady_bound(r, gogc):
    """Issue 14's bound on the peak heap: 1.1 x L x (1 + GOGC/100) + 4 MiB."""
    return 1.1 * r["live_bytes"] * (1 + gogc / 100) + 4 * MIB


def release_growth(r):
    """What the release left: (RSS after - RSS at start) / RSS at start."""
    return (r["rss_after_kib"] - r["rss_start_kib"]) / r["rss_start_kib"]


def render_steady(runs, md):
    ws = [f"steady{g}" for g in STEADY_GOGC if any((f"steady{g}", i) in runs for i in PEERS[f"steady{g}"])]
    if not ws:
        return []
    first = next((r for w in ws for i in PEERS[w] for r in runs.get((w, i), []) if "failed" not in r), {})
    hdr = ["GOGC", "peer", "L MiB", "peak heap MiB", "bound MiB", "peak RSS MiB", "cycles", "time s",
           "max pause us"]
    rows = []
    for w in ws:
        g = int(w[len("steady"):])
        fs = [lambda r: r["live_bytes"] / MIB, lambda r: mib(r["heap_peak_bytes"]),
              lambda r: steady_bound(r, g) / MIB, lambda r: r["peak_rss_kib"] / 1024, lambda r: r["cycles"],
              lambda r: r["time_s"], lambda r: r["pause_us"]["max"]]
        for i in PEERS[w]:
            if (w, i) in runs:
                name = f"{i} (divisor {200 / g:g})" if i == "boehm" else i
                rows.append([str(g), name] + cells(runs[(w, i)], fs, ["{:.0f}", "{:.0f}", "{:.1f}", "{:.0f}",
                                                                       "{:.0f}", "{:.2f}", "{:.0f}"]))
    title = (f"steady: a live set of L bytes (FIFO of 64..512-byte scanned objects) replaced "
             f"{first.get('allocated_bytes', 0) / max(first.get('live_bytes', 1), 1):.0f} times; peak heap: "
             "the largest at a mark termination (gctrace; Boehm: its blocks in use when a collection "
             "starts), bound 1.1 x L x (1 + GOGC/100) + 4 MiB")
    return table(hdr, rows, md, title=title)


def per_rep(runs, w, f, impl="tricolor"):
    """f of each repetition of impl that did not fail."""
    return [f(r) for r in runs.get((w, impl), []) if "failed" not in r]


def paired(runs, w, f, peer):
    """f(tricolor's run, peer's run) for each repetition both completed."""
    return [f(x, y) for x, y in zip(runs.get((w, "tricolor"), []), runs.get((w, peer), []))
            if "failed" not in x and "failed" not in y]


def targets(runs):
    """Issue 14's targets for tricolor, each with its value per repetition."""
    L, j = [], lambda xs, s: ", ".join(s.format(x) for x in xs) or "-"
    if ("trees", "tricolor") in runs:
        t = paired(runs, "trees", lambda x, y: x["time_s"] / y["time_s"], "boehm")
        m = paired(runs, "trees", lambda x, y: x["peak_rss_kib"] / y["peak_rss_kib"], "boehm")
        L += [f"target: binary trees, time <= 0.6 x Boehm's: tricolor/Boehm per repetition {j(t, '{:.2f}')} "
              f"-> {verdict(t, lambda x: x <= 0.6)}",
              f"target: binary trees, peak RSS <= Boehm's: tricolor/Boehm per repetition {j(m, '{:.2f}')} "
              f"-> {verdict(m, lambda x: x <= 1)}"]
    for g in STEADY_GOGC:
        w = f"steady{g}"
        if (w, "tricolor") in runs:
            v = per_rep(runs, w, lambda r: None if r["heap_peak_bytes"] is None else
                        (r["heap_peak_bytes"] / MIB, steady_bound(r, g) / MIB))
            L.append(f"target: steady live set, GOGC={g}, peak heap <= 1.1 x L x {1 + g / 100:g} + 4 MiB: "
                     f"tricolor's peak/bound MiB per repetition "
                     f"{', '.join('-' if p is None else f'{p[0]:.0f}/{p[1]:.1f}' for p in v) or '-'} -> "
                     f"{verdict([None if p is None else p[0] / p[1] for p in v], lambda x: x <= 1)}"
                     + (" (a repetition without a cycle)" if None in v else ""))
    if ("memlimit", "tricolor") in runs:
        v = per_rep(runs, "memlimit", lambda r: (r["peak_rss_kib"] / 1024, 1.05 * r["memory_limit"] / MIB))
        L.append(f"target: GOGC=off GOMEMLIMIT=X, peak RSS <= 1.05 X: tricolor's peak RSS/1.05 X MiB per "
                 f"repetition {', '.join(f'{p[0]:.1f}/{p[1]:.1f}' for p in v) or '-'} -> "
                 f"{verdict([p[0] / p[1] for p in v], lambda x: x <= 1)}")
    if ("release", "tricolor") in runs:
        v = per_rep(runs, "release", release_growth)
        size = next((r["bytes"] / MIB for r in runs[("release", "tricolor")] if "failed" not in r), 0)
        L.append(f"target: RSS after releasing {size:.0f} MiB, (after - start) <= 10 % of the start: tricolor's "
                 f"per repetition {j([100 * x for x in v], '{:.0f} %')} -> {verdict(v, lambda x: x <= 0.1)}")
    if ("window", "tricolor") in runs:
        p = per_rep(runs, "window", lambda r: r["pause_us"]["max"])
        q = paired(runs, "window", lambda x, y: x["push_ns"]["p999"] / y["push_ns"]["p999"], "malloc")
        L += [f"target: message window, no pause over 100 us: tricolor's longest per repetition "
              f"{j(p, '{:.1f}')} us -> {verdict(p, lambda x: x <= 100)}",
              f"target: message window, p99.9 push <= malloc/free's: tricolor/malloc per repetition "
              f"{j(q, '{:.2f}')} -> {verdict(q, lambda x: x <= 1)}"]
    return L


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="meson build directory")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small shapes, for a smoke run")
    ap.add_argument("--workloads", default=",".join(PEERS))
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
