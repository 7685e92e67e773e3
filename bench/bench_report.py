#!/usr/bin/env python3
"""bench/bench_report.py: the main job, run by scripts/bench-report after
it has built the release tree (see that script for the options).

Four parts, each against its peers in the same run:
  allocator  malloc/free workloads under LD_PRELOAD: glibc, jemalloc,
             mimalloc (report.py), and callgrind's instruction counts
  escape     an allocation-heavy IR program, escape decisions against
             --all-heap (escape_bench.py)
  collector  pauses and mark throughput on a 1 GiB live heap against Boehm
             GC and Go, then the same against live heap size (64 MiB to
             2 GiB) and mutator threads (1 to 8, on 256 MiB) (gc_report.py)
  workloads  binary trees, the message window and graph churn against
             Boehm GC (default and incremental) and Go; a steady live set
             under GOGC 50/100/200, GOGC=off with GOMEMLIMIT, RSS after a
             release; and issue 14's targets (gc_workloads.py)
The whole run is planned first: every child process, each with its
estimated time and a timeout, so each progress line gives the part, the
repetition and the time left. Runs of the same repetition are
interleaved across peers, the first peer rotated each repetition.

Results go to one folder per run, bench-results/DATE-COMMIT/: a JSON file
per part, summary.md (date, commit, machine, load before and after, every
table and target), plots/ (PNG and SVG, plots.py) and readme-block.md, the
README's results section; --update-readme puts that block between the
README's markers and copies the plots into docs/results/.
"""
import argparse
import json
import os
import shutil
import signal
import sys
import time

import benchlib
import escape_bench
import gc_report
import gc_workloads
import readme_block
import report

SRC = benchlib.SRC
PARTS = ("allocator", "escape", "collector", "workloads")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def options(argv):
    ap = argparse.ArgumentParser(prog="scripts/bench-report", description="the main job's report")
    ap.add_argument("--build", default=os.path.join(SRC, "build-bench"))
    ap.add_argument("--out", help="results folder (default bench-results/DATE-COMMIT)")
    ap.add_argument("--quick", action="store_true", help="every part briefly (CI's smoke run)")
    ap.add_argument("--reps", type=int, help="repetitions of every part (default 5 allocator and "
                    "escape, 3 collector and workloads; --quick: 2 and 1)")
    ap.add_argument("--parts", default=",".join(PARTS), help="comma list of " + ", ".join(PARTS))
    ap.add_argument("--filter", help="allocator: only benchmarks matching this regex")
    ap.add_argument("--peers", help="allocator: comma list of glibc, jemalloc, mimalloc, tricolor")
    ap.add_argument("--min-time", type=float, help="allocator: Google Benchmark min time, seconds")
    ap.add_argument("--update-readme", action="store_true",
                    help="write the results block into README.md, the plots into docs/results/")
    ap.add_argument("--readme-from", metavar="DIR",
                    help="only update README.md and docs/results/ from a finished run's folder")
    ap.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    parts = [p for p in a.parts.split(",") if p]
    bad = [p for p in parts if p not in PARTS]
    if bad or not parts:
        ap.error(f"--parts: unknown part {', '.join(bad) or '(none)'}; parts: {', '.join(PARTS)}")
    if a.reps is not None and not 1 <= a.reps <= 100:
        ap.error("--reps: expected 1 to 100")
    if a.min_time is not None and not 0 < a.min_time <= 60:
        ap.error("--min-time: expected more than 0 and at most 60 seconds")
    a.parts = [p for p in PARTS if p in parts]
    return a


def reps(a, part):
    if a.reps:
        return a.reps
    return {"allocator": 2, "escape": 1, "collector": 1, "workloads": 1}[part] if a.quick else \
        {"allocator": 5, "escape": 5, "collector": 3, "workloads": 3}[part]


def collector_configs(a):
    """(name, heap MiB, threads, cycles, repetitions) of every pause run
    configuration: the main one first, then the heap sweep's other points
    (at the main one's thread count), then the thread sweep, on a smaller
    heap: Go needs minutes per run at 1 GiB on a loaded machine."""
    if a.quick:
        main, cycles = ("main", 256, 4, 3, reps(a, "collector")), 3
        heaps, threads_heap, threads = (64, 128), 64, (1, 2, 4)
    else:
        main, cycles = ("main", 1024, 4, 10, reps(a, "collector")), 10
        heaps, threads_heap, threads = (64, 128, 256, 512, 2048), 256, (1, 2, 4, 8)
    return [main] + [("heap", h, main[2], cycles, 1) for h in heaps] + \
        [("threads", threads_heap, t, cycles, 1) for t in threads]


def gc_estimate(heap_mb, threads, cycles):
    return 4 + heap_mb / 1024 * (20 + 1.5 * cycles) + threads * 0.5


class Report:
    def __init__(self, a):
        self.a, self.build = a, os.path.abspath(a.build)
        self.info = benchlib.machine()
        self.out = a.out or os.path.join(SRC, "bench-results", time.strftime("%Y%m%d-%H%M%S") + "-" +
                                         self.info["commit"])
        self.failed = []   # one line per failed run or part
        self.md = {}       # part -> Markdown lines
        self.plan = []     # (part, kind, estimate, label, rep, reps, function)

    def add(self, part, kind, est, label, rep, n, fn):
        self.plan.append((part, kind, est, label, rep, n, fn))

    # ---- planning ----

    def plan_allocator(self):
        a = self.a
        args = argparse.Namespace(
            build=self.build, reps=reps(a, "allocator"), filter=a.filter, peers=a.peers, groups=None,
            min_time=a.min_time or (0.1 if a.quick else 0.5), no_callgrind=False,
            pairs=100000 if a.quick else 1000000, timeout=120, no_bintree=False,
            bintree_depth=16 if a.quick else 20, bintree_reps=1 if a.quick else 3)
        build, known, plan = report.prepare(args)
        g, names, benches, binary, runstat = plan[0]
        runs = {(b, p): [] for b in benches for p in names}
        labels = {}
        est = 1.5 + 2.5 * args.min_time

        def one(b, p):
            def fn():
                r = report.run_one(runstat, binary, b, known[p], args)
                runs[(b, p)].append(r)
                labels.setdefault(b, r.get("label"))
                if "error" in r:
                    self.failed.append(f"allocator: {b} under {p}: {r['error']}")
            return fn
        for rep in range(args.reps):
            for b in benches:
                for p in names[rep % len(names):] + names[:rep % len(names)]:
                    self.add("allocator", "alloc:" + b, est, f"{b} under {p}", rep + 1, args.reps, one(b, p))

        def finish():
            text, md, doc, failed = report.finish(g, names, benches, known, runs, labels, build, args)
            if failed:
                self.failed.append("allocator: a run or callgrind failed (FAILED in its table)")
            self.write("allocator.json", doc)
            self.md["allocator"] = md
        self.add("allocator", "callgrind", 12 * len(names), "callgrind, every allocator", 1, 1, finish)

    def plan_escape(self):
        n = reps(self.a, "escape")
        exe = os.path.join(self.build, "escape", "tricolor-escape")
        prog = os.path.join(SRC, "tests", "escape", "bench_alloc.ir")
        runs = {m: [] for m in escape_bench.MODES}

        def one(mode):
            def fn():
                runs[mode].append(escape_bench.run_once(exe, prog, escape_bench.MODES[mode], 300))
            return fn
        for rep in range(n):
            for mode in escape_bench.MODES:
                self.add("escape", "escape:" + mode, 2, mode, rep + 1, n, one(mode))

        def finish():
            summary = escape_bench.summarize(runs)
            self.md["escape"] = escape_bench.render(summary, prog, n, md=True)
            self.write("escape.json", {"program": os.path.relpath(prog, SRC), "summary": summary,
                                       "runs": {m: [{k: v for k, v in r.items() if k != "out"} for r in rs]
                                                for m, rs in runs.items()}})
        self.add("escape", "escape:summary", 0, "summary", n, n, finish)

    def plan_collector(self):
        print("bench-report: building Go's peers (go build)", file=sys.stderr, flush=True)
        go_exe, why = gc_report.build_go(os.path.join(self.build, "bench-go"), "gc_pause.go", "gc-pause-go")
        names = [n for n in gc_report.COLLECTORS if n != "go" or go_exe]
        if why:
            self.failed.append(f"collector: Go peer skipped: {why}")
        doc = {"main": {n: [] for n in names}, "heap_sweep": {}, "threads_sweep": {}}
        configs = collector_configs(self.a)
        doc["config"] = dict(zip(("heap_mb", "threads", "cycles", "reps"), configs[0][1:]), churn_mbps=50)
        # What each sweep holds fixed.
        doc["heap_sweep_at"] = {"threads": configs[0][2]}
        doc["threads_sweep_at"] = {"heap_mb": next(c[1] for c in configs if c[0] == "threads")}

        def one(kind, name, heap, threads, cycles):
            cmd = gc_report.pause_cmd(name, self.build, go_exe, heap, threads, cycles, 50)

            def fn():
                r = gc_report.run_pause(name, cmd, 1800) if cmd else {"impl": name, "failed": "not built"}
                if "failed" in r:
                    self.failed.append(f"collector: {name} {heap} MiB, {threads} threads: {r['failed']}")
                if kind == "main":
                    doc["main"][name].append(r)
                else:
                    key = f"{name} @ {heap if kind == 'heap' else threads}"
                    doc[kind + "_sweep"].setdefault(key, []).append(r)
            return fn
        for kind, heap, threads, cycles, n in configs:
            for rep in range(n):
                for name in names[rep % len(names):] + names[:rep % len(names)]:
                    self.add("collector", f"gc:{name}:{heap}:{threads}", gc_estimate(heap, threads, cycles),
                             f"{name}, {heap} MiB, {threads} threads", rep + 1, n,
                             one(kind, name, heap, threads, cycles))

        def finish():
            doc["fence"] = gc_report.run_fence(self.build)
            md = gc_report.render(doc["main"], dict(doc["config"]), doc["fence"], md=True)
            for kind, axis in (("heap", "heap_mb"), ("threads", "threads")):
                runs = gc_report.sweep_points(doc, kind)
                md += ["", f"**worst and p99 pause against {axis} ({gc_report.sweep_fixed(doc, kind)}; "
                           "one run per point"
                           + (", the main configuration's median" if kind == "heap" else "") + ")**", ""]
                md += gc_report.render_sweep(runs, axis, md=True)
            self.md["collector"] = md
            self.write("collector.json", doc)
        self.add("collector", "fence", 15, "fence-probe and summary", 1, 1, finish)

    def plan_workloads(self):
        go_exe, why = gc_workloads.build_go(self.build)
        if why:
            self.failed.append(f"workloads: Go peer skipped: {why}")
        n, runs = reps(self.a, "workloads"), {}

        def one(w, impl, cmd):
            def fn():
                r = gc_workloads.run_workload(impl, w, cmd, 900)
                if "failed" in r:
                    self.failed.append(f"workloads: {w} under {impl}: {r['failed']}")
                runs.setdefault((w, impl), []).append(r)
            return fn
        for rep in range(n):
            for w, peers in gc_workloads.PEERS.items():
                for impl in peers[rep % len(peers):] + peers[:rep % len(peers)]:
                    cmd = gc_workloads.workload_cmd(impl, w, self.a.quick, self.build, go_exe)
                    if cmd:
                        self.add("workloads", f"wl:{w}:{impl}", gc_workloads.ARGS[self.a.quick][w][1],
                                 f"{w} under {impl}", rep + 1, n, one(w, impl, cmd))

        def finish():
            self.md["workloads"] = gc_workloads.render(runs, md=True)
            self.write("workloads.json", {f"{w} @ {i}": rs for (w, i), rs in runs.items()})
        self.add("workloads", "wl:summary", 0, "summary", n, n, finish)

    # ---- running and writing ----

    def write(self, name, obj):
        with open(os.path.join(self.out, name), "w") as f:
            if isinstance(obj, str):
                f.write(obj)
            else:
                json.dump(obj, f, indent=1)
                f.write("\n")

    def run(self):
        os.makedirs(self.out, exist_ok=True)
        print(f"bench-report: results go to {self.out}", file=sys.stderr, flush=True)
        for part in self.a.parts:
            try:
                getattr(self, "plan_" + part)()
            except (escape_bench.Failed, OSError) as e:
                self.failed.append(f"{part}: not planned: {e}")
        progress = benchlib.Progress([(p, k, e) for p, k, e, *_ in self.plan])
        print(f"bench-report: {len(self.plan)} runs planned, about {benchlib.mmss(progress.estimate())}",
              file=sys.stderr, flush=True)
        t0 = time.monotonic()
        skip = set()
        for part, kind, est, label, rep, n, fn in self.plan:
            if part in skip:
                continue
            t = time.monotonic()
            try:
                fn()
            except (escape_bench.Failed, OSError, KeyError, ValueError, ZeroDivisionError) as e:
                self.failed.append(f"{part}: {label}: {type(e).__name__}: {e}")
                skip.add(part)  # its summary cannot be made either
            progress.done(part, kind, rep, n, label, time.monotonic() - t)
        self.info["loadavg_end"] = benchlib.loadavg()
        self.info["seconds"] = round(time.monotonic() - t0)
        shown = sys.argv[1:]
        while "--build" in shown:  # scripts/bench-report's own, not the user's
            i = shown.index("--build")
            del shown[i:i + 2]
        self.info["options"] = " ".join(shown)
        self.plots()
        self.summary()
        return 1 if self.failed else 0

    def plots(self):
        try:
            import plots
            self.pictures = plots.draw(self.out)
        except ImportError as e:
            self.pictures = []
            self.failed.append(f"plots: not drawn: {e} (Debian package python3-matplotlib, for "
                               f"{sys.executable})")

    def head(self):
        return head(self.info)

    def summary(self):
        L = ["# tricolor benchmark report", "", self.head(), "",
             f"`scripts/bench-report {self.info['options']}`".replace(" `", "`"), ""]
        if self.failed:
            L += ["## Failures", ""] + [f"- {f}" for f in self.failed] + [""]
        for part in PARTS:
            if part in self.md:
                L += [f"## {part}", ""] + self.md[part] + [""]
        if self.pictures:
            L += ["## plots", ""] + [f"![{p}](plots/{p}.png)" for p in self.pictures] + [""]
        self.write("summary.md", "\n".join(L) + "\n")
        self.write("machine.json", self.info)
        block = readme_block.render(self.out, self.head(), self.pictures)
        self.write("readme-block.md", block)
        print("\n".join(L))
        if self.a.update_readme:
            err = update_readme(self.out)
            if err:
                self.failed.append("--update-readme: " + err)
        files = sorted(os.path.relpath(os.path.join(d, f), self.out)
                       for d, _, fs in os.walk(self.out) for f in fs)
        print(f"bench-report: wrote {self.out}: {', '.join(files)}", file=sys.stderr)
        for f in self.failed:
            print(f"bench-report: FAILED {f}", file=sys.stderr)


def head(i):
    """A run's date, commit, machine, load and length, from machine.json."""
    quick = "--quick" in i.get("options", "").split()
    return (f"{i['date']}, commit {i['describe']}, {i['cpu']} ({i['cores']} cores, "
            f"{i['memory_mib']} MiB), Linux {i['kernel']}; load average {i['loadavg_start']} "
            f"before, {i['loadavg_end']} after; {benchlib.mmss(i['seconds'])}"
            + (" (--quick: a smoke run, not a measurement)" if quick else ""))


def update_readme(out):
    """README.md's results section from a finished run's folder: its
    readme-block.md between the markers, its PNG plots and summary.md into
    docs/results/. Returns an error line, or None."""
    path = os.path.join(SRC, "README.md")
    text = open(path).read()
    if BEGIN not in text or END not in text or text.index(BEGIN) > text.index(END):
        return f"README.md has no {BEGIN} ... {END} markers"
    info = benchlib.load_json(out, "machine.json")
    try:
        pictures = sorted(f for f in os.listdir(os.path.join(out, "plots")) if f.endswith(".png"))
        open(os.path.join(out, "summary.md")).close()
    except OSError as e:
        return f"{out} is not a finished results folder ({e})"
    if not info:
        return f"{out} is not a finished results folder (no machine.json)"
    # Made again from the folder's JSON, so that an older run gets this
    # version's block.
    block = readme_block.render(out, head(info), [p[:-4] for p in pictures])
    docs = os.path.join(SRC, "docs", "results")
    shutil.rmtree(os.path.join(docs, "plots"), ignore_errors=True)  # no stale picture stays
    os.makedirs(os.path.join(docs, "plots"))
    for p in pictures:
        shutil.copy(os.path.join(out, "plots", p), os.path.join(docs, "plots"))
    shutil.copy(os.path.join(out, "summary.md"), docs)
    with open(path, "w") as f:
        f.write(text[:text.index(BEGIN) + len(BEGIN)] + "\n" + block + text[text.index(END):])
    print(f"bench-report: README.md's results section and docs/results/ now show {out}", file=sys.stderr)
    return None


def main():
    # SIGTERM unwinds like Ctrl-C, so the running child is killed too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    a = options(sys.argv[1:])
    if a.check:
        return 0
    if a.readme_from:
        err = update_readme(os.path.abspath(a.readme_from))
        if err:
            print(f"bench-report: --readme-from: {err}", file=sys.stderr)
        return 1 if err else 0
    return Report(a).run()


if __name__ == "__main__":
    sys.exit(main())
