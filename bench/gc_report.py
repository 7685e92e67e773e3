#!/usr/bin/env python3
"""gc_report.py: the collector benchmark (bench/gc_pause.c).

Runs gc-pause-tricolor and gc-pause-boehm (built by meson from gc_pause.c)
and Go's peer (gc_pause.go, built with `go build` into the build
directory, never committed), each in its own process, on the same heap:
--heap-mb MiB of 24-byte tree nodes, --threads mutators churning at
--churn-mbps, --cycles forced collections; --reps times, the collectors
interleaved. Per collector: the stop-the-world pause distribution
(p50/p99/max over every pause in the window), mark throughput (MB of heap
traced per second of marking), cycle count, wall time per forced cycle,
the mutators' allocation rate reached in the window (mut MB/s, against
--churn-mbps: how much the collector held them back) and peak RSS, each
as the median and range over the repetitions; then the targets, MET only
when every repetition meets them:
  every STW pause < 100 us (in the window and over the whole run, the
  heap's build included);  mark throughput >= Boehm's.

Then the machine's floor under a pause: fence-probe (fence_probe.c), with
a thread spinning on every other CPU, counts the stalls of a thread that
never gives up its CPU (time taken by interrupts, the kernel or the
hypervisor: a pause meets them whatever the collector does), and times
membarrier(2), the cross-CPU fence the collector makes before a pause.

Go's figures come from GODEBUG=gctrace=1 lines between its GCPAUSE-MEASURE
and GCPAUSE-END markers: the two STW clock times of each cycle, the
concurrent mark clock time, and the live heap after mark (MB, rounded by
Go to whole MB).

scripts/bench-report runs this part with the heap-size and thread sweeps
(bench_report.py); by hand:
  python3 bench/gc_report.py --build BUILD [--quick] [--reps N] [--json FILE]
Exit status: 0 when every run completed, 1 if one failed, 2 for usage or
set-up errors. Targets are reported, not enforced.
"""
import argparse
import json
import os
import re
import shutil
import sys

import benchlib
from benchlib import fmt, ok_runs, table, verdict

HERE = os.path.dirname(os.path.abspath(__file__))
COLLECTORS = ("tricolor", "boehm", "go")
PAUSE_TARGET_US = 100.0

TRACE = re.compile(
    r"^gc \d+ @[\d.]+s \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock.*?"
    r"(\d+)->(\d+)->(\d+) MB")


def own_env():
    """tricolor's and Boehm's runs: their own settings, not the caller's."""
    return {k: v for k, v in os.environ.items()
            if k not in ("GOGC", "GOMEMLIMIT", "GODEBUG", "GC_MARKERS", "GC_FREE_SPACE_DIVISOR")}


def go_trace(stderr, marker="GCPAUSE"):
    """Pauses (ns), mark seconds and marked bytes from the gctrace lines
    between MARKER-MEASURE and MARKER-END; and the longest pause of the
    whole run (ns)."""
    pauses, mark_s, marked, inside, run_max = [], 0.0, 0.0, False, 0.0
    for line in stderr.splitlines():
        if line.startswith(marker + "-MEASURE"):
            inside = True
        elif line.startswith(marker + "-END"):
            inside = False
        else:
            m = TRACE.match(line)
            if not m:
                continue
            stw1, mark, stw2 = (float(m.group(i)) for i in (1, 2, 3))
            run_max = max(run_max, stw1 * 1e6, stw2 * 1e6)
            if inside:
                pauses += [stw1 * 1e6, stw2 * 1e6]
                mark_s += mark / 1e3
                marked += float(m.group(6)) * 1048576
    return pauses, mark_s, marked, run_max


def build_go(outdir, source, exe_name, timeout=900):
    """go build SOURCE (a file of bench/, or a list of them: one program)
    into OUTDIR/EXE_NAME: (path, None) or (None, why)."""
    sources = [source] if isinstance(source, str) else list(source)
    go = shutil.which("go")
    if not go:
        return None, "go not found (Debian package golang-go)"
    outdir = os.path.abspath(outdir)  # go rejects a relative GOPATH
    os.makedirs(outdir, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("GOCACHE", os.path.join(outdir, "go-cache"))
    env.setdefault("GOPATH", os.path.join(outdir, "go-path"))
    exe = os.path.join(outdir, exe_name)
    r = benchlib.run_child([go, "build", "-o", exe] + [os.path.join(HERE, s) for s in sources], env, timeout)
    if r["status"] != 0:
        return None, "go build failed: " + benchlib.failure(r)
    return exe, None


def pause_cmd(name, build, go_exe, heap_mb, threads, cycles, churn_mbps):
    """(argv, env) of one pause run, or None if the collector is not built."""
    args = [f"--heap-mb={heap_mb:g}", f"--cycles={cycles}", f"--threads={threads}",
            f"--churn-mbps={churn_mbps:g}"]
    if name == "go":
        if not go_exe:
            return None
        return [go_exe] + [a.replace("--", "-", 1) for a in args], dict(os.environ, GODEBUG="gctrace=1")
    exe = os.path.join(build, "bench", "gc-pause-" + name)
    return ([exe] + args, own_env()) if os.access(exe, os.X_OK) else None


def summarize(r):
    ps = sorted(r.get("pauses_ns", []))
    r["pause_us"] = {k: benchlib.pct(ps, p) / 1e3 for k, p in
                     (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))}
    r["npauses"] = len(ps)
    r["mark_mb_s"] = (r["marked_bytes"] / 1e6 / r["mark_s"]) if r.get("mark_s") else float("nan")
    r["cycle_ms"] = r["wall_s"] * 1e3 / r["forced_cycles"]
    r["mutator_mb_s"] = r["mutator_ops"] * r["op_bytes"] / 1e6 / r["wall_s"]
    return r


def run_pause(name, cmd, timeout):
    """One pause run: its summarized result, or {"impl", "failed"}."""
    argv, env = cmd
    c = benchlib.run_child(argv, env, timeout)
    r = benchlib.tagged_json(c["out"], "GCPAUSE")
    if c["status"] != 0 or r is None:
        return {"impl": name, "failed": benchlib.failure(c)}
    if name == "go":
        r["pauses_ns"], r["mark_s"], r["marked_bytes"], r["pause_max_run_ns"] = go_trace(c["err"])
    r["max_rss_mb"] = c["maxrss_kib"] / 1024.0
    return summarize(r)


def run_fence(build, timeout=120):
    probe = os.path.join(build, "bench", "fence-probe")
    if not os.access(probe, os.X_OK):
        return {"failed": "fence-probe not built"}
    c = benchlib.run_child([probe], None, timeout)
    f = benchlib.tagged_json(c["out"], "FENCEPROBE")
    return f if c["status"] == 0 and f else {"failed": benchlib.failure(c)}


def render(by_name, cfg, fence=None, md=False):
    """The pause table of one configuration (lists of repetitions per
    collector), the targets and the platform line."""
    L = [f"GC pauses and mark throughput: {cfg['heap_mb']:g} MiB live heap of 24-byte tree nodes, "
         f"{cfg['threads']} mutator threads churning {cfg['churn_mbps']:g} MB/s, {cfg['cycles']} "
         f"forced cycles, {cfg['reps']} repetitions, the collectors interleaved (median (min-max) "
         f"over the repetitions; Boehm's nodes take 32 bytes)", ""]
    hdr = ["collector", "cycles", "pauses", "p50 us", "p99 us", "max us", "run max us",
           "mark MB/s", "ms/cycle", "mut MB/s", "RSS MiB"]
    rows = []
    for name, runs in by_name.items():
        ok = ok_runs(runs)
        if len(ok) < len(runs):
            rows.append([name, "FAILED", f"{len(runs) - len(ok)} of {len(runs)}: "
                         + next(r["failed"] for r in runs if "failed" in r)] + [""] * 8)
        if not ok:
            continue
        col = lambda f: [f(r) for r in ok]
        rows.append([name, fmt(col(lambda r: r["cycles"]), "{:.0f}"),
                     fmt(col(lambda r: r["npauses"]), "{:.0f}"),
                     fmt(col(lambda r: r["pause_us"]["p50"])), fmt(col(lambda r: r["pause_us"]["p99"])),
                     fmt(col(lambda r: r["pause_us"]["max"])),
                     fmt(col(lambda r: r.get("pause_max_run_ns", 0) / 1e3)),
                     fmt(col(lambda r: r["mark_mb_s"]), "{:.0f}"), fmt(col(lambda r: r["cycle_ms"])),
                     fmt(col(lambda r: r["mutator_mb_s"])), fmt(col(lambda r: r["max_rss_mb"]), "{:.0f}")])
    L += table(hdr, rows, md)
    L.append("(p50..max: the pauses of the measured window; run max: the longest pause of the "
             "whole run, the heap's build by one thread included)")
    L += [""] + targets(by_name)
    if fence and "failed" in fence:
        L.append(f"platform: stalls and cross-CPU fence not measured ({fence['failed']})")
    elif fence:
        per_s = lambda k: fence[k] * 1000.0 / fence["stall_ms"]
        L.append(f"platform: a thread that never gives up its CPU (as the collector's in a pause) "
                 f"lost over 100 us {per_s('stalls_over_100us'):.1f} times a second, over 50 us "
                 f"{per_s('stalls_over_50us'):.1f} times, at most {fence['stall_max_ns'] / 1e3:.0f} us, "
                 f"on this machine; a cross-CPU fence (membarrier, made before a pause) took p50 "
                 f"{fence['p50_ns'] / 1e3:.1f}, p99.9 {fence['p999_ns'] / 1e3:.1f}, max "
                 f"{fence['max_ns'] / 1e3:.1f} us")
    for name, runs in by_name.items():
        for r in ok_runs(runs):
            if r.get("trees_bad"):
                L.append(f"{name}: {r['trees_bad']} trees damaged (live nodes freed)")
    return L


def target_values(by_name):
    """Per repetition: tricolor's longest pause (window and whole run, us)
    and its mark throughput over Boehm's of the same repetition."""
    t = by_name.get("tricolor", [])
    b = by_name.get("boehm", [])
    worst = [max(r["pause_us"]["max"], r.get("pause_max_run_ns", 0) / 1e3) for r in ok_runs(t)]
    ratio = [x["mark_mb_s"] / y["mark_mb_s"] for x, y in zip(t, b)
             if "failed" not in x and "failed" not in y and y["mark_mb_s"] > 0]
    return worst, ratio


def targets(by_name):
    worst, ratio = target_values(by_name)
    return [f"target: every STW pause < {PAUSE_TARGET_US:g} us: tricolor's longest per repetition "
            f"{', '.join(f'{w:.1f}' for w in worst) or '-'} us -> "
            f"{verdict(worst, lambda w: w < PAUSE_TARGET_US)}",
            f"target: mark throughput >= Boehm's: tricolor/Boehm per repetition "
            f"{', '.join(f'{x:.2f}' for x in ratio) or '-'} -> {verdict(ratio, lambda x: x >= 1)}"]


def sweep_points(doc, kind):
    """A sweep of collector.json ("heap" or "threads") as (collector, value)
    -> repetitions; the main configuration is a point of the heap sweep."""
    runs = {(k.split(" @ ")[0], float(k.split(" @ ")[1])): v for k, v in doc[kind + "_sweep"].items()}
    if kind == "heap":
        for n, rs in doc["main"].items():
            runs[(n, float(doc["config"]["heap_mb"]))] = rs
    return runs


def sweep_fixed(doc, kind):
    """What a sweep holds fixed, in words: "256 MiB live", "4 threads"."""
    return ", ".join(f"{v:g} MiB live" if k == "heap_mb" else f"{v:g} threads"
                     for k, v in doc[kind + "_sweep_at"].items())


def render_sweep(runs, axis, md=False):
    """Worst and p99 pause per collector against one axis (heap_mb or
    threads): runs maps (collector, value) to repetitions."""
    values = sorted({v for _, v in runs})
    names = [n for n in COLLECTORS if any(k[0] == n for k in runs)]
    hdr = [axis] + [f"{n} {w}" for n in names for w in ("max us", "p99 us")]
    rows = []
    for v in values:
        row = [f"{v:g}"]
        for n in names:
            ok = ok_runs(runs.get((n, v), []))
            row += [fmt([r["pause_us"]["max"] for r in ok]), fmt([r["pause_us"]["p99"] for r in ok])]
        rows.append(row)
    return table(hdr, rows, md)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="meson build directory")
    ap.add_argument("--heap-mb", type=float, default=1024)
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--churn-mbps", type=float, default=50)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--collectors", default=",".join(COLLECTORS),
                    help="comma list of tricolor, boehm, go (default: all)")
    ap.add_argument("--quick", action="store_true", help="256 MiB, 5 cycles")
    ap.add_argument("--timeout", type=float, default=900, help="seconds for one run")
    ap.add_argument("--json", help="write all results here")
    a = ap.parse_args()
    if a.quick:
        a.heap_mb, a.cycles = min(a.heap_mb, 256), min(a.cycles, 5)
    chosen = [p for p in a.collectors.split(",") if p]
    if any(p not in COLLECTORS for p in chosen) or a.reps < 1:
        print(f"gc_report: collectors are {', '.join(COLLECTORS)}; --reps >= 1", file=sys.stderr)
        return 2
    go_exe = None
    if "go" in chosen:
        go_exe, why = build_go(os.path.join(a.build, "bench-go"), "gc_pause.go", "gc-pause-go")
        if why:
            print(f"gc_report: Go peer skipped: {why}", file=sys.stderr)
            chosen.remove("go")
    by_name = {n: [] for n in chosen}
    for rep in range(a.reps):
        for name in chosen[rep % len(chosen):] + chosen[:rep % len(chosen)]:
            cmd = pause_cmd(name, a.build, go_exe, a.heap_mb, a.threads, a.cycles, a.churn_mbps)
            if cmd is None:
                print(f"gc_report: gc-pause-{name} not built (meson compile -C {a.build})", file=sys.stderr)
                return 2
            print(f"gc_report: repetition {rep + 1}/{a.reps}: {name} ...", file=sys.stderr, flush=True)
            by_name[name].append(run_pause(name, cmd, a.timeout))
    fence = run_fence(a.build)
    cfg = {"heap_mb": a.heap_mb, "threads": a.threads, "churn_mbps": a.churn_mbps,
           "cycles": a.cycles, "reps": a.reps}
    print("\n".join(render(by_name, cfg, fence)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"config": cfg, "runs": by_name, "fence": fence}, f, indent=1)
    return 1 if any("failed" in r for rs in by_name.values() for r in rs) else 0


if __name__ == "__main__":
    sys.exit(main())
