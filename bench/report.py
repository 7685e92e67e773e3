#!/usr/bin/env python3
"""bench/report.py - run the allocator benchmarks and write the report.

Called by scripts/bench-report after it has built the tree; can be run by
hand as `python3 bench/report.py --build BUILD_DIR`.

What it does, and why:
1. Every benchmark runs in its own process, once per peer allocator, the
   peer injected with LD_PRELOAD into the one tc-bench binary. Peak RSS is
   that process's ru_maxrss from wait4(), taken by the small tc-runstat
   (see runstat.c for why not from Python), so it covers one workload.
2. Each child reports the object that really provides malloc; the driver
   sets TC_BENCH_EXPECT_MALLOC so the child refuses to run under the wrong
   allocator, and checks the JSON context again. A preload that did not
   take is an error, never a figure.
3. Runs are interleaved (for each repetition, for each workload: A B C D,
   the order rotated by one each repetition) so drift on a shared machine
   spreads over all peers; each figure is the median over repetitions.
4. Time per operation is 1e9 / items_per_second (wall clock, all threads'
   operations together), so threaded workloads report aggregate throughput.
5. Ratios subject/peer per workload, then the geometric mean over the
   workloads of a group, printed next to the targets. Targets are reported,
   not enforced: the exit status is non-zero only if a run failed.

A group is a set of benchmarks (a name prefix in one binary) with its own
peers and targets; adding the GC pause workloads means adding a Group to
GROUPS (and its peers to make_peers) - nothing else changes.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import benchlib

LIBDIR_FALLBACK = "/usr/lib/x86_64-linux-gnu"


@dataclass
class Peer:
    name: str
    env: dict          # added to the child's environment (LD_PRELOAD, ...)
    expect: str        # substring of the child's reported malloc object
    note: str = ""


@dataclass
class Target:
    metric: str        # "time" or "rss"
    peer: str          # ratio is subject / peer
    limit: float       # met when ratio < limit (strict) or <= limit
    strict: bool
    text: str          # the condition as printed, e.g. "<= 1.1"
    each: bool = False  # on every workload's ratio, not on the geometric mean


@dataclass
class Group:
    name: str
    title: str
    binary: str        # path relative to the build dir
    prefix: str        # benchmark names start with this
    peers: list        # peer names, in run order; subject included
    subject: str
    targets: list = field(default_factory=list)
    callgrind: bool = False  # also count instructions with tc-pairloop
    bintree: bool = False    # also time tc-bintree DEPTH, one process per run


GROUPS = [
    Group(name="malloc",
          title="malloc/free workloads (LD_PRELOAD per allocator)",
          binary="bench/tc-bench", prefix="malloc/",
          peers=["glibc", "jemalloc", "mimalloc", "tricolor"],
          subject="tricolor",
          targets=[
              Target("time", "glibc", 1.0, True, "< 1", each=True),
              Target("time", "jemalloc", 1.0, True, "< 1", each=True),
              Target("time", "mimalloc", 1.0, False, "<= 1.0"),
              Target("time", "mimalloc", 1.25, False, "<= 1.25", each=True),
              Target("rss", "mimalloc", 1.1, False, "<= 1.1"),
          ],
          callgrind=True, bintree=True),
]


def die(msg):
    print(f"bench-report: {msg}", file=sys.stderr)
    sys.exit(2)


def find_shared_lib(soname):
    """Path of soname as the dynamic linker would find it (ldconfig cache)."""
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    found = []
    for line in out.splitlines():
        parts = line.strip().split(" => ")
        if len(parts) == 2 and parts[0].split()[0] == soname:
            found.append((parts[0], parts[1]))
    if found:  # prefer the 64-bit object when a 32-bit one is installed too
        return min(found, key=lambda f: "x86-64" not in f[0])[1]
    path = os.path.join(LIBDIR_FALLBACK, soname)
    return path if os.path.exists(path) else None


def make_peers(build):
    """All known peers; None for one whose library is missing."""
    peers = {"glibc": Peer("glibc", {}, "libc.so", "system malloc, no preload")}
    for name, soname in (("jemalloc", "libjemalloc.so.2"), ("mimalloc", "libmimalloc.so.2")):
        path = find_shared_lib(soname)
        peers[name] = Peer(name, {"LD_PRELOAD": path}, soname.split(".so")[0] + ".so", path) if path else None
    tri = os.path.join(build, "libtricolor.so")
    peers["tricolor"] = (Peer("tricolor", {"LD_PRELOAD": os.path.abspath(tri)}, "libtricolor.so",
                              os.path.abspath(tri)) if os.path.exists(tri) else None)
    return peers


def child_env(peer):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.update(peer.env)
    env["TC_BENCH_EXPECT_MALLOC"] = peer.expect
    return env


def peer_assignments(peer):
    """The peer's environment as NAME=VALUE words for tc-runstat, which
    applies them to the benchmark only."""
    return [f"{k}={v}" for k, v in peer.env.items()] + [f"TC_BENCH_EXPECT_MALLOC={peer.expect}"]


def spawn_wait(argv, env, timeout):
    """(status, out, err) of argv run with a timeout (benchlib.run_child):
    status is the exit code, -signal, or None after a timeout."""
    r = benchlib.run_child(argv, env, timeout)
    return r["status"], r["out"], r["err"]


def spawn_measured(runstat, peer, argv, timeout):
    """spawn_wait through tc-runstat: (status, stats, out, err); stats holds
    maxrss_kib, minflt (page faults), utime_s, stime_s. The benchmark's own
    status comes from runstat's file, not its exit code."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    with tempfile.NamedTemporaryFile(mode="r") as st:
        status, out, err = spawn_wait([runstat, st.name] + peer_assignments(peer) + argv, env,
                                      timeout)
        fields = dict(kv.split("=", 1) for kv in st.read().split())
    if status is None or "status" not in fields:  # hung, or runstat failed
        return status, None, out, err
    stats = {k: float(v) if "." in v else int(v) for k, v in fields.items() if k != "status"}
    return int(fields["status"]), stats, out, err


def describe_failure(status, err):
    return benchlib.failure({"status": status, "err": err})


def run_one(runstat, binary, bench, peer, args):
    """One benchmark under one peer: dict with ns_op, rss_kib, or error."""
    argv = [binary, f"--benchmark_filter=^{re.escape(bench)}$", "--benchmark_format=json",
            f"--benchmark_min_time={args.min_time}"]
    status, stats, out, err = spawn_measured(runstat, peer, argv, args.timeout)
    if status == 3:  # the child's own allocator check refused to run
        die(f"{peer.name}: {err.strip()}")
    if status != 0:
        return {"error": describe_failure(status, err)}
    try:
        doc = json.loads(out)
        lib = doc["context"]["malloc_lib"]
        res = [b for b in doc["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    except (ValueError, KeyError) as e:
        return {"error": f"unreadable JSON output ({e})"}
    if peer.expect not in lib:
        die(f"{peer.name}: malloc comes from {lib}, expected {peer.expect}")
    if len(res) != 1:
        return {"error": f"expected one result, got {len(res)}"}
    r = res[0]
    if r.get("error_occurred"):
        return {"error": r.get("error_message", "benchmark reported an error")}
    ips = r.get("items_per_second", 0.0)
    if ips <= 0:
        return {"error": "no items_per_second in the result"}
    return {"ns_op": 1e9 / ips, "rss_kib": stats["maxrss_kib"], "minflt": stats["minflt"],
            "utime_s": stats["utime_s"], "stime_s": stats["stime_s"], "label": r.get("label", ""),
            "threads": r.get("threads", 1), "iterations": r.get("iterations"),
            "malloc_lib": lib, "context": doc["context"]}


def list_benchmarks(binary, group, regex):
    r = benchlib.run_child([binary, "--benchmark_list_tests=true",
                            f"--benchmark_filter=^{re.escape(group.prefix)}"],
                           child_env(Peer("glibc", {}, "")), 120)
    if r["status"] != 0:
        die(f"{binary} --benchmark_list_tests failed: {benchlib.failure(r)}")
    names = [n for n in r["out"].split() if n]
    return [n for n in names if not regex or re.search(regex, n)]


def median(xs):
    return statistics.median(xs) if xs else None


def summarize(group, benches, peers, runs):
    """Medians per (bench, peer), ratios, geomeans: the report's data."""
    cells = {}
    for b in benches:
        for p in peers:
            rs = runs[(b, p)]
            bad = [r["error"] for r in rs if "error" in r]
            ok = [r for r in rs if "error" not in r]
            if bad or not ok:
                cells[(b, p)] = {"error": bad[0] if bad else "no runs", "failed_runs": len(bad),
                                 "runs": len(rs)}
                continue
            ns = [r["ns_op"] for r in ok]
            med = median(ns)
            q = statistics.quantiles(ns, n=4, method="inclusive") if len(ns) > 1 else [med] * 3
            cells[(b, p)] = {"ns_op": med, "rss_kib": median([r["rss_kib"] for r in ok]),
                             "min_ns_op": min(ns), "spread_pct": 100.0 * (q[2] - q[0]) / med,
                             "ns_spread": benchlib.spread(ns),
                             "rss_spread": benchlib.spread([r["rss_kib"] for r in ok]),
                             "minflt": median([r["minflt"] for r in ok]),
                             "runs": len(ok)}
    ratios, geo, geo_reps = {}, {}, {}
    subj = group.subject if group.subject in peers else None
    for p in peers:
        if subj is None or p == subj:
            continue
        for metric, key in (("time", "ns_op"), ("rss", "rss_kib")):
            per = {}
            for b in benches:
                s, o = cells[(b, subj)], cells[(b, p)]
                if "error" not in s and "error" not in o and o[key] > 0:
                    per[b] = s[key] / o[key]
            ratios[(p, metric)] = per
            # The same geometric mean within each repetition: the targets
            # are MET only when every repetition meets them.
            reps = min((len(runs[(b, q)]) for b in benches for q in (subj, p)), default=0)
            geo_reps[(p, metric)] = [benchlib.geomean(
                [runs[(b, subj)][i][key] / runs[(b, p)][i][key] for b in benches
                 if "error" not in runs[(b, subj)][i] and "error" not in runs[(b, p)][i]])
                for i in range(reps)]
            geo[(p, metric)] = benchlib.geomean(list(per.values()))
    return cells, ratios, geo, geo_reps


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}x"


def fmt_geo(geo, reps):
    """The geometric mean of the medians, then the range of the
    repetitions' own geometric means."""
    xs = [x for x in reps if x is not None]
    if geo is None:
        return "-"
    return fmt_ratio(geo) + (f" ({min(xs):.2f}-{max(xs):.2f})" if len(xs) > 1 else "")


def verdict(t, xs):
    """MET only when every repetition's geometric mean meets the target."""
    return benchlib.verdict(xs, lambda x: x < t.limit if t.strict else x <= t.limit)


def render(group, benches, peers, labels, cells, ratios, geo, geo_reps, md):
    """The group's report as plain text (md=False) or markdown (md=True)."""
    L = []
    subj = group.subject if group.subject in peers else None
    others = [p for p in peers if p != subj]
    hdr = ["allocator", "time ns/op: median (min-max)", "peak RSS MiB: median (min-max)"]
    L.append(f"## {group.name}: {group.title}\n" if md else f"== {group.name}: {group.title} ==")
    for b in benches:
        rows, notes = [], []
        for p in peers:
            c = cells[(b, p)]
            if "error" in c:
                rows.append([p, "FAILED", "FAILED"])
                notes.append(f"{p} FAILED ({c['failed_runs']} of {c['runs']} runs): {c['error']}")
            else:
                rows.append([p, benchlib.fmt(c["ns_spread"]),
                             benchlib.fmt({k: v / 1024 if k != "n" else v
                                           for k, v in c["rss_spread"].items()})])
        if subj:
            for p in others:
                rows.append([f"{subj}/{p}", fmt_ratio(ratios[(p, 'time')].get(b)),
                             fmt_ratio(ratios[(p, 'rss')].get(b))])
        L += benchlib.table(hdr, rows, md, title=f"{b}  - op = {labels.get(b, '?')}")
        if notes:
            L[-1:] = ([""] if md else []) + [("- " if md else "  ") + n for n in notes] + [""]
    if subj:
        rows = []
        for p in others:
            n = len(ratios[(p, "time")])
            trow = [f"{subj}/{p} ({n} of {len(benches)})",
                    fmt_geo(geo[(p, 'time')], geo_reps[(p, 'time')]), "",
                    fmt_geo(geo[(p, 'rss')], geo_reps[(p, 'rss')]), ""]
            for t in group.targets:
                if t.peer == p and not t.each:
                    col = 2 if t.metric == "time" else 4
                    trow[col] = f"{t.text}: {verdict(t, geo_reps[(p, t.metric)])}"
            rows.append(trow)
        goals = "; ".join(f"{t.metric} {subj}/{t.peer} {t.text}" for t in group.targets
                          if t.peer in peers and not t.each)
        L.append(f"targets (geometric means; MET only if every repetition meets it): {goals}"
                 + ("\n" if md else ""))
        L += benchlib.table(["ratio", "time (reps' range)", "time target", "peak RSS (reps' range)",
                             "RSS target"], rows, md,
                            title=f"geometric mean over the workloads (ratio < 1: {subj} faster / smaller)")
        rows = []
        for t in group.targets:
            per = ratios.get((t.peer, t.metric), {}) if t.each and t.peer in peers else None
            if not per:
                continue
            worst = max(per, key=per.get)
            missed = [b for b, x in per.items() if verdict(t, [x]) != "MET"]
            rows.append([f"{t.metric} {subj}/{t.peer} {t.text}", f"{per[worst]:.2f}x", worst,
                         f"{len(missed)} of {len(per)}", "MET" if not missed else "MISSED"])
        if rows:
            L += benchlib.table(["target", "worst", "workload", "missed", "verdict"], rows, md,
                                title="targets on every workload (median ratios; worst, and "
                                "workloads that miss)")
    return L


def callgrind(build, peers, args):
    """Instructions per malloc(32)+free pair for each peer, or an error."""
    vg = shutil.which("valgrind")
    binary = os.path.join(build, "bench/tc-pairloop")
    if not vg:
        return {"error": "valgrind not installed"}
    res = {}
    for p in peers:
        with tempfile.TemporaryDirectory() as d:
            outf = os.path.join(d, "cg.out")
            argv = [vg, "--tool=callgrind", f"--callgrind-out-file={outf}",
                    "--toggle-collect=tcb_pair_loop", binary, str(args.pairs)]
            status, _, err = spawn_wait(argv, child_env(peers[p]), args.timeout * 4)
            if status == 3:
                die(f"{p}: {err.strip()}")
            if status != 0:
                res[p] = {"error": describe_failure(status, err)}
                continue
            m = re.search(r"^(?:totals|summary):\s*(\d+)", open(outf).read(), re.M)
            if not m:
                res[p] = {"error": "no totals in callgrind output"}
                continue
            res[p] = {"ir_per_pair": int(m.group(1)) / args.pairs}
            res[p].update(split_callgrind(outf, args.pairs))
    return res


def split_callgrind(outf, pairs):
    """Inclusive Ir of malloc and of free per call, from callgrind_annotate
    (absent if the tool is missing or the names are not found)."""
    try:
        ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", outf],
                             capture_output=True, text=True, timeout=120).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    split = {}
    for fn in ("malloc", "free"):
        m = re.search(rf"^\s*([\d,]+) \([^)]*\)\s+\S*:{fn} \[", ann, re.M)
        if m:
            split[fn] = int(m.group(1).replace(",", "")) / pairs
    return split


def bintree(build, peers, args):
    """Seconds of one tc-bintree DEPTH process per peer and repetition,
    interleaved like the workloads; the median per peer."""
    binary = os.path.join(build, "bench/tc-bintree")
    if not os.access(binary, os.X_OK):
        return {"error": f"{binary} not built"}
    runs = {p: [] for p in peers}
    names = list(peers)
    for rep in range(args.bintree_reps):
        for p in names[rep % len(names):] + names[:rep % len(names)]:
            status, out, err = spawn_wait([binary, str(args.bintree_depth)], child_env(peers[p]),
                                          max(args.timeout, 300))  # glibc: 70 s at depth 20
            m = re.search(r"seconds=([\d.]+)", out or "")
            runs[p].append(float(m.group(1)) if status == 0 and m else None)
    res = {}
    for p, xs in runs.items():
        ok = [x for x in xs if x is not None]
        res[p] = ({"median_s": median(ok), "min_s": min(ok), "max_s": max(ok), "runs": xs}
                  if len(ok) == len(xs) else {"error": f"{len(xs) - len(ok)} runs failed"})
    return res


def render_bintree(group, res, args, md):
    subj = res.get(group.subject, {}).get("median_s")
    rows = []
    for p, r in res.items():
        if "error" in r:
            rows.append([p, "FAILED", "", "", r["error"]])
            continue
        rel = f"{subj / r['median_s']:.2f}x" if subj and p != group.subject else ""
        rows.append([p, f"{r['median_s']:.2f}", f"{r['min_s']:.2f}", f"{r['max_s']:.2f}", rel])
    return benchlib.table(["allocator", "median", "min", "max", f"{group.subject}/this"], rows, md,
                          title=f"binary trees with explicit free, depth {args.bintree_depth} "
                          f"(tc-bintree, one process per run, {args.bintree_reps} runs; seconds)")


def render_callgrind(group, res, args, md):
    rows = []
    subj = res.get(group.subject, {}).get("ir_per_pair")
    for p, r in res.items():
        if "error" in r:
            rows.append([p, "FAILED", "", "", r["error"]])
        else:
            rel = f"{subj / r['ir_per_pair']:.2f}x" if subj and p != group.subject else ""
            part = [f"{r[f]:.1f}" if f in r else "?" for f in ("malloc", "free")]
            rows.append([p, f"{r['ir_per_pair']:.1f}"] + part + [rel])
    return benchlib.table(["allocator", "Ir/pair", "malloc", "free", f"{group.subject}/this"], rows, md,
                          title="callgrind: instructions per malloc(32)+free pair (tc-pairloop; "
                          "Ir/pair includes the loop's own instructions)")


def prepare(args):
    """Check the options and the build; return (build, known peers, and per
    group (group, peer names, benchmarks, binary, runstat)). Errors: die()."""
    if args.reps < 1 or args.min_time <= 0 or args.pairs < 1:
        die("--reps, --min-time and --pairs must be positive")
    build = os.path.abspath(args.build)
    known = make_peers(build)
    want = args.peers.split(",") if args.peers else None
    for p in want or []:
        if p not in known:
            die(f"unknown peer {p}; known: {', '.join(known)}")
    groups = [g for g in GROUPS if not args.groups or g.name in args.groups.split(",")]
    if not groups:
        die(f"no group named {args.groups}; groups: {', '.join(g.name for g in GROUPS)}")
    plan = []
    for g in groups:
        names = [p for p in g.peers if want is None or p in want]
        for p in names:
            if known.get(p) is None:
                die(f"peer {p} unavailable (library not found; for tricolor: {build}/libtricolor.so)")
        binary, runstat = os.path.join(build, g.binary), os.path.join(build, "bench/tc-runstat")
        for b in (binary, runstat):
            if not os.access(b, os.X_OK):
                die(f"{b} not built (is libbenchmark-dev installed and -Dbench not disabled?)")
        benches = list_benchmarks(binary, g, args.filter)
        if not benches:
            die(f"group {g.name}: no benchmark matches")
        plan.append((g, names, benches, binary, runstat))
    return build, known, plan


def measure(g, names, benches, known, binary, runstat, args, on_run):
    """Every (repetition, workload, allocator) run, interleaved: for each
    repetition, each workload, every allocator, the first one rotated.
    on_run(rep, bench, peer, result, seconds) after each. Returns runs
    and labels."""
    runs = {(b, p): [] for b in benches for p in names}
    labels = {}
    for rep in range(args.reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for b in benches:
            for p in order:
                t0 = time.monotonic()
                r = run_one(runstat, binary, b, known[p], args)
                runs[(b, p)].append(r)
                labels.setdefault(b, r.get("label"))
                if "error" in r:
                    print(f"bench-report: {b} under {p}: {r['error']}", file=sys.stderr)
                on_run(rep, b, p, r, time.monotonic() - t0)
    return runs, labels


def finish(g, names, benches, known, runs, labels, build, args):
    """Summary, text and Markdown, the JSON document and callgrind's
    counts of one group: (text, md, doc, failed)."""
    failed = any("error" in r for rs in runs.values() for r in rs)
    cells, ratios, geo, geo_reps = summarize(g, benches, names, runs)
    text = render(g, benches, names, labels, cells, ratios, geo, geo_reps, md=False)
    mdown = render(g, benches, names, labels, cells, ratios, geo, geo_reps, md=True)
    key = lambda p, m: f"{g.subject}/{p} {m}"
    doc = {"peers": {p: vars(known[p]) for p in names}, "benchmarks": benches,
           "labels": labels, "targets": [vars(t) for t in g.targets],
           "cells": {f"{b} @ {p}": c for (b, p), c in cells.items()},
           "geomean": {key(p, m): v for (p, m), v in geo.items()},
           "geomean_reps": {key(p, m): v for (p, m), v in geo_reps.items()},
           "verdicts": {key(t.peer, t.metric): verdict(t, geo_reps[(t.peer, t.metric)])
                        for t in g.targets if (t.peer, t.metric) in geo_reps and not t.each},
           "ratios": {key(p, m): v for (p, m), v in ratios.items()},
           "runs": {f"{b} @ {p}": [{k: v for k, v in r.items() if k != "context"} for r in rs]
                    for (b, p), rs in runs.items()}}
    extras = [("callgrind", g.callgrind and not args.no_callgrind, callgrind, render_callgrind),
              ("bintree", g.bintree and not args.no_bintree, bintree, render_bintree)]
    for name, wanted, run, show in extras:
        if not wanted:
            continue
        res = run(build, {p: known[p] for p in names}, args)
        if "error" in res:
            text.append(f"{name} skipped: {res['error']}")
        else:
            failed |= any("error" in r for r in res.values())
            text += show(g, res, args, md=False)
            mdown += show(g, res, args, md=True)
        doc[name] = res
    return text, mdown, doc, failed


def main():
    ap = argparse.ArgumentParser(description="allocator benchmark report")
    ap.add_argument("--build", default="build-bench", help="meson build dir (default build-bench)")
    ap.add_argument("--out", help="results dir (default BUILD/bench-results)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per (workload, allocator)")
    ap.add_argument("--min-time", type=float, default=0.5, help="Google Benchmark min time, seconds")
    ap.add_argument("--quick", action="store_true", help="3 repetitions of 0.1 s (a smoke run)")
    ap.add_argument("--filter", help="regex on benchmark names")
    ap.add_argument("--peers", help="comma-separated allocators (default: all of the group)")
    ap.add_argument("--groups", help="comma-separated groups (default: all)")
    ap.add_argument("--no-callgrind", action="store_true", help="skip instruction counts")
    ap.add_argument("--pairs", type=int, default=1000000, help="malloc/free pairs under callgrind")
    ap.add_argument("--no-bintree", action="store_true", help="skip the tc-bintree runs")
    ap.add_argument("--bintree-depth", type=int, default=20, help="tc-bintree depth (default 20)")
    ap.add_argument("--bintree-reps", type=int, default=3, help="tc-bintree runs per allocator")
    ap.add_argument("--timeout", type=float, default=120, help="seconds before a run counts as hung")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.min_time = 3, 0.1
        args.bintree_depth, args.bintree_reps = min(args.bintree_depth, 16), 1
    info = benchlib.machine()
    build, known, plan = prepare(args)
    outdir = args.out or os.path.join(build, "bench-results")
    failed, text, mdown, doc = False, [], [], {"machine": info, "settings": vars(args), "groups": {}}
    for g, names, benches, binary, runstat in plan:
        t0, count = time.monotonic(), [0]

        def on_run(rep, b, p, r, secs):
            count[0] += 1
            if count[0] % (len(benches) * len(names)) == 0:
                print(f"[{g.name}] repetition {rep + 1}/{args.reps} done, "
                      f"{time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)

        runs, labels = measure(g, names, benches, known, binary, runstat, args, on_run)
        t, m, gdoc, f = finish(g, names, benches, known, runs, labels, build, args)
        text, mdown, failed = text + t, mdown + m, failed or f
        doc["groups"][g.name] = gdoc

    info["loadavg_end"] = benchlib.loadavg()
    head = (f"{info['date']}  {info['describe']}  {info['cpu']}, {info['cores']} cores  "
            f"reps={args.reps}  min_time={args.min_time}s  "
            f"load avg start {info['loadavg_start']}, end {info['loadavg_end']}")
    text.insert(0, head)
    mdown[:0] = ["# tricolor allocator benchmark report\n", head + "\n"]
    print("\n".join(text))
    os.makedirs(outdir, exist_ok=True)
    for name, body in (("report.txt", "\n".join(text) + "\n"), ("report.md", "\n".join(mdown) + "\n"),
                       ("report.json", json.dumps(doc, indent=1) + "\n")):
        with open(os.path.join(outdir, name), "w") as f:
            f.write(body)
    print(f"\nwritten: {outdir}/report.{{txt,md,json}}", file=sys.stderr)
    if failed:
        print("bench-report: some runs failed (see FAILED above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
