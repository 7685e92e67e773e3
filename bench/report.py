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
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

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
              Target("rss", "jemalloc", 1.2, False, "<= 1.2"),
          ],
          callgrind=True, bintree=True),
]


def die(msg):
    print(f"bench-report: {msg}", file=sys.stderr)
    sys.exit(2)


def find_shared_lib(soname):
    """Path of soname as the dynamic linker would find it (ldconfig cache)."""
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    except OSError:
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
    """Run argv in its own process group, output captured; return
    (status, out, err): status is the exit code, -signal, or None after a
    timeout (the whole group is then killed)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.posix_spawn(argv[0], argv, env, setpgroup=0, file_actions=[
            (os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)])
        deadline = time.monotonic() + timeout
        pause = 0.002
        while True:
            wpid, wstatus = os.waitpid(pid, os.WNOHANG)
            if wpid == pid:
                status = os.waitstatus_to_exitcode(wstatus)
                break
            if time.monotonic() > deadline:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                status = None
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.02)
        out.seek(0)
        err.seek(0)
        return status, out.read().decode(errors="replace"), err.read().decode(errors="replace")


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
    last = (err.strip().splitlines() or [""])[-1][:200]
    if status is None:
        return f"timed out; {last}".rstrip("; ")
    if status < 0:
        try:
            what = f"killed by {signal.Signals(-status).name}"
        except ValueError:
            what = f"killed by signal {-status}"
    else:
        what = f"exit status {status}"
    return f"{what}; {last}".rstrip("; ")


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
    out = subprocess.run([binary, "--benchmark_list_tests=true",
                          f"--benchmark_filter=^{re.escape(group.prefix)}"],
                         capture_output=True, text=True, env=child_env(Peer("glibc", {}, "")))
    if out.returncode != 0:
        die(f"{binary} --benchmark_list_tests failed: {out.stderr.strip()}")
    names = [n for n in out.stdout.split() if n]
    return [n for n in names if not regex or re.search(regex, n)]


def median(xs):
    return statistics.median(xs) if xs else None


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


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
                             "minflt": median([r["minflt"] for r in ok]),
                             "runs": len(ok)}
    ratios, geo = {}, {}
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
            geo[(p, metric)] = geomean(list(per.values()))
    return cells, ratios, geo


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}x"


def verdict(t, x):
    if x is None:
        return "n/a"
    return "met" if (x < t.limit if t.strict else x <= t.limit) else "MISSED"


def render(group, benches, peers, labels, cells, ratios, geo, md):
    """The group's report as plain text (md=False) or markdown (md=True)."""
    L = []
    subj = group.subject if group.subject in peers else None
    others = [p for p in peers if p != subj]
    hdr = ["allocator", "time ns/op", "best", "IQR", "peak RSS MiB"]
    if md:
        L.append(f"## {group.name}: {group.title}\n")
    else:
        L.append(f"== {group.name}: {group.title} ==")
    for b in benches:
        rows, notes = [], []
        for p in peers:
            c = cells[(b, p)]
            if "error" in c:
                rows.append([p, "FAILED", "", "", "FAILED"])
                notes.append(f"{p} FAILED ({c['failed_runs']} of {c['runs']} runs): {c['error']}")
            else:
                rows.append([p, f"{c['ns_op']:.1f}", f"{c['min_ns_op']:.1f}",
                             f"{c['spread_pct']:.0f}%", f"{c['rss_kib'] / 1024:.1f}"])
        if subj:
            for p in others:
                rows.append([f"{subj}/{p}", fmt_ratio(ratios[(p, 'time')].get(b)), "", "",
                             fmt_ratio(ratios[(p, 'rss')].get(b))])
        title = f"{b}  - op = {labels.get(b, '?')}"
        L += table(title, hdr, rows, md)
        if notes:
            L[-1:] = ([""] if md else []) + [("- " if md else "  ") + n for n in notes] + [""]
    if subj:
        rows = []
        for p in others:
            n = len(ratios[(p, "time")])
            trow = [f"{subj}/{p} ({n} of {len(benches)})", fmt_ratio(geo[(p, 'time')]), "",
                    fmt_ratio(geo[(p, 'rss')]), ""]
            for t in group.targets:
                if t.peer == p and not t.each:
                    col = 2 if t.metric == "time" else 4
                    trow[col] = f"{t.text}: {verdict(t, geo[(p, t.metric)])}"
            rows.append(trow)
        goals = "; ".join(f"{t.metric} {subj}/{t.peer} {t.text}" for t in group.targets
                          if t.peer in peers and not t.each)
        L.append(f"targets (geometric means): {goals}" + ("\n" if md else ""))
        L += table(f"geometric mean over the workloads (ratio < 1: {subj} faster / smaller)",
                   ["ratio", "time", "time target", "peak RSS", "RSS target"], rows, md)
        rows = []
        for t in group.targets:
            per = ratios.get((t.peer, t.metric), {}) if t.each and t.peer in peers else None
            if not per:
                continue
            worst = max(per, key=per.get)
            missed = [b for b, x in per.items() if verdict(t, x) != "met"]
            rows.append([f"{t.metric} {subj}/{t.peer} {t.text}", f"{per[worst]:.2f}x", worst,
                         f"{len(missed)} of {len(per)}",
                         "met" if not missed else "MISSED"])
        if rows:
            L += table("targets on every workload (worst ratio, workloads that miss)",
                       ["target", "worst", "workload", "missed", "verdict"], rows, md)
    return L


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
                                          args.timeout)
            if status == 3:
                die(f"{p}: {err.strip()}")
            m = re.search(r"seconds=([\d.]+)", out)
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
    return table(f"binary trees with explicit free, depth {args.bintree_depth} (tc-bintree, one "
                 f"process per run, {args.bintree_reps} runs; seconds)",
                 ["allocator", "median", "min", "max", f"{group.subject}/this"], rows, md)


def table(title, hdr, rows, md):
    if md:
        out = [f"**{title}**\n", "| " + " | ".join(hdr) + " |",
               "|" + "|".join("---" for _ in hdr) + "|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return out + [""]
    w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
    line = lambda r: "  " + "  ".join(str(c).ljust(w[i]) if i == 0 else str(c).rjust(w[i])
                                      for i, c in enumerate(r)).rstrip()
    return [title, line(hdr)] + [line(r) for r in rows] + [""]


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
                             capture_output=True, text=True).stdout
    except OSError:
        return {}
    split = {}
    for fn in ("malloc", "free"):
        m = re.search(rf"^\s*([\d,]+) \([^)]*\)\s+\S*:{fn} \[", ann, re.M)
        if m:
            split[fn] = int(m.group(1).replace(",", "")) / pairs
    return split


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
    return table("callgrind: instructions per malloc(32)+free pair (tc-pairloop; Ir/pair "
                 "includes the loop's own instructions)",
                 ["allocator", "Ir/pair", "malloc", "free", f"{group.subject}/this"], rows, md)


def machine_info():
    info = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "uname": " ".join(os.uname()),
            "cpus": os.cpu_count()}
    try:
        info["loadavg"] = open("/proc/loadavg").read().split()[:3]
        info["packages"] = subprocess.run(
            ["dpkg-query", "-W", "libjemalloc2", "libmimalloc2.0", "libbenchmark1debian"],
            capture_output=True, text=True).stdout.strip().replace("\t", " ").splitlines()
        src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        info["tricolor_commit"] = subprocess.run(["git", "-C", src, "describe", "--always", "--dirty"],
                                                 capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return info


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
    if args.reps < 1 or args.min_time <= 0 or args.pairs < 1:
        die("--reps, --min-time and --pairs must be positive")
    build = os.path.abspath(args.build)
    outdir = args.out or os.path.join(build, "bench-results")
    known = make_peers(build)
    want = args.peers.split(",") if args.peers else None
    groups = [g for g in GROUPS if not args.groups or g.name in args.groups.split(",")]
    if not groups:
        die(f"no group named {args.groups}; groups: {', '.join(g.name for g in GROUPS)}")

    failed, text, mdown, doc = False, [], [], {}
    info = machine_info()
    doc["machine"], doc["settings"], doc["groups"] = info, vars(args), {}
    for g in groups:
        names = [p for p in g.peers if want is None or p in want]
        for p in names:
            if known.get(p) is None:
                die(f"peer {p} unavailable (library not found; for tricolor: {build}/libtricolor.so)")
        if want:
            for p in want:
                if p not in known:
                    die(f"unknown peer {p}; known: {', '.join(known)}")
        binary, runstat = os.path.join(build, g.binary), os.path.join(build, "bench/tc-runstat")
        for b in (binary, runstat):
            if not os.access(b, os.X_OK):
                die(f"{b} not built (is libbenchmark-dev installed and -Dbench not disabled?)")
        benches = list_benchmarks(binary, g, args.filter)
        if not benches:
            die(f"group {g.name}: no benchmark matches")
        runs = {(b, p): [] for b in benches for p in names}
        labels, total, done, t0 = {}, args.reps * len(benches) * len(names), 0, time.monotonic()
        for rep in range(args.reps):
            order = names[rep % len(names):] + names[:rep % len(names)]
            for b in benches:
                for p in order:
                    r = run_one(runstat, binary, b, known[p], args)
                    runs[(b, p)].append(r)
                    labels.setdefault(b, r.get("label"))
                    done += 1
                    if "error" in r:
                        failed = True
                        print(f"bench-report: {b} under {p}: {r['error']}", file=sys.stderr)
                    if sys.stderr.isatty():
                        print(f"\r[{g.name}] {done}/{total} runs, {time.monotonic() - t0:.0f}s",
                              end="", file=sys.stderr, flush=True)
            if not sys.stderr.isatty():
                print(f"[{g.name}] repetition {rep + 1}/{args.reps} done, "
                      f"{time.monotonic() - t0:.0f}s", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        cells, ratios, geo = summarize(g, benches, names, runs)
        text += render(g, benches, names, labels, cells, ratios, geo, md=False)
        mdown += render(g, benches, names, labels, cells, ratios, geo, md=True)
        gdoc = {"peers": {p: vars(known[p]) for p in names}, "benchmarks": benches,
                "labels": labels, "targets": [vars(t) for t in g.targets],
                "cells": {f"{b} @ {p}": c for (b, p), c in cells.items()},
                "geomean": {f"{g.subject}/{p} {m}": v for (p, m), v in geo.items()},
                "ratios": {f"{g.subject}/{p} {m}": v for (p, m), v in ratios.items()},
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
            gdoc[name] = res
        doc["groups"][g.name] = gdoc

    load_end = open("/proc/loadavg").read().split()[:3]
    head = (f"{info['date']}  {info.get('tricolor_commit', '')}  cpus={info['cpus']}  "
            f"reps={args.reps}  min_time={args.min_time}s  "
            f"load avg start {' '.join(info.get('loadavg', []))}, end {' '.join(load_end)}")
    doc["machine"]["loadavg_end"] = load_end
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
