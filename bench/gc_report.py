#!/usr/bin/env python3
"""gc_report.py: the collector benchmark's report (bench/gc_pause.c).

Runs gc-pause-tricolor and gc-pause-boehm (built by meson from gc_pause.c)
and Go's peer (gc_pause.go, built here with `go build` into the output
directory, never committed), each in its own process, on the same heap:
--heap-mb MiB of 24-byte tree nodes, --threads mutators churning at
--churn-mbps, --cycles forced collections. Prints, per collector, the
stop-the-world pause distribution (p50/p90/p99/max over every pause in the
window), mark throughput (MB of heap traced per second of marking), cycle
count, wall time per forced cycle, the mutators' allocation rate reached
in the window (mut MB/s, against --churn-mbps: how much the collector held
them back) and peak RSS; then the ratio
tricolor/Boehm of mark throughput and the targets:
  every STW pause < 100 us (in the window and over the whole run, the
  heap's build included);  mark throughput >= Boehm's.
Targets are reported, not enforced. Exit status: 0 when every run
completed, 1 if one failed, 2 for usage or set-up errors.

Then the machine's floor under a pause: fence-probe (fence_probe.c), with
a thread spinning on every other CPU, counts the stalls of a thread that
never gives up its CPU (time taken by interrupts, the kernel or the
hypervisor: a pause meets them whatever the collector does), and times
membarrier(2), the cross-CPU fence the collector makes before a pause.

Go's figures come from GODEBUG=gctrace=1 lines between its GCPAUSE-MEASURE
and GCPAUSE-END markers: the two STW clock times of each cycle, the
concurrent mark clock time, and the live heap after mark (MB, rounded by
Go to whole MB).

Use from scripts/bench-report (or by hand):
  python3 bench/gc_report.py --build BUILD [--quick] [--json FILE]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PAUSE_TARGET_US = 100.0

TRACE = re.compile(
    r"^gc \d+ @[\d.]+s \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock.*?"
    r"(\d+)->(\d+)->(\d+) MB")


def run(cmd, env):
    """Run cmd; return (status, stdout, stderr, peak RSS in KiB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        try:
            # wait4 gives the child's own peak RSS (ru_maxrss, KiB).
            _, status, ru = os.wait4(p.pid, 0)
        except KeyboardInterrupt:
            p.kill()
            raise
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (p.returncode, out.read().decode(errors="replace"),
                err.read().decode(errors="replace"), ru.ru_maxrss)


def parse_result(stdout, tag="GCPAUSE"):
    for line in stdout.splitlines():
        if line.startswith(tag + " "):
            return json.loads(line[len(tag) + 1:])
    return None


def go_trace(stderr):
    """Pauses (ns), mark seconds and marked bytes from the gctrace lines of
    the window; and the longest pause of the whole run (ns)."""
    pauses, mark_s, marked, inside, run_max = [], 0.0, 0.0, False, 0.0
    for line in stderr.splitlines():
        if line.startswith("GCPAUSE-MEASURE"):
            inside = True
        elif line.startswith("GCPAUSE-END"):
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


def pct(sorted_ns, p):
    if not sorted_ns:
        return float("nan")
    k = max(0, min(len(sorted_ns) - 1, int(round(p / 100.0 * len(sorted_ns) + 0.5)) - 1))
    return sorted_ns[k] / 1e3


def summarize(r):
    ps = sorted(r.get("pauses_ns", []))
    r["pause_us"] = {k: pct(ps, p) for k, p in
                     (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))}
    r["npauses"] = len(ps)
    r["mark_mb_s"] = (r["marked_bytes"] / 1e6 / r["mark_s"]) if r.get("mark_s") else float("nan")
    r["cycle_ms"] = r["wall_s"] * 1e3 / r["forced_cycles"]
    r["mutator_mb_s"] = r["mutator_ops"] * r["op_bytes"] / 1e6 / r["wall_s"]
    return r


def build_go(outdir):
    go = shutil.which("go")
    if not go:
        return None, "go not found"
    env = dict(os.environ)
    outdir = os.path.abspath(outdir)  # go rejects a relative GOPATH
    env.setdefault("GOCACHE", os.path.join(outdir, "go-cache"))
    env.setdefault("GOPATH", os.path.join(outdir, "go-path"))
    exe = os.path.join(outdir, "gc-pause-go")
    p = subprocess.run([go, "build", "-o", exe, os.path.join(HERE, "gc_pause.go")],
                       env=env, capture_output=True, text=True)
    if p.returncode != 0:
        return None, "go build failed: " + p.stderr.strip().splitlines()[-1]
    return exe, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="meson build directory")
    ap.add_argument("--heap-mb", type=float, default=1024)
    ap.add_argument("--cycles", type=int, default=10)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--churn-mbps", type=float, default=50)
    ap.add_argument("--collectors", default="tricolor,boehm,go",
                    help="comma list of tricolor, boehm, go (default: all)")
    ap.add_argument("--quick", action="store_true", help="256 MiB, 5 cycles")
    ap.add_argument("--json", help="write all results here")
    ap.add_argument("--out-dir", help="for the Go binary (default BUILD/bench-results/gc)")
    a = ap.parse_args()
    if a.quick:
        a.heap_mb, a.cycles = min(a.heap_mb, 256), min(a.cycles, 5)
    chosen = [p for p in a.collectors.split(",") if p]
    for p in chosen:
        if p not in ("tricolor", "boehm", "go"):
            print(f"gc_report: unknown collector {p!r} (tricolor, boehm, go)", file=sys.stderr)
            return 2
    bindir = os.path.join(a.build, "bench")
    outdir = a.out_dir or os.path.join(a.build, "bench-results", "gc")
    os.makedirs(outdir, exist_ok=True)
    args = [f"--heap-mb={a.heap_mb:g}", f"--cycles={a.cycles}", f"--threads={a.threads}",
            f"--churn-mbps={a.churn_mbps:g}"]

    runs = []
    for name in ("tricolor", "boehm"):
        if name in chosen:
            runs.append((name, [os.path.join(bindir, "gc-pause-" + name)] + args, None))
    if "go" in chosen:
        exe, why = build_go(outdir)
        if exe:
            env = dict(os.environ, GODEBUG="gctrace=1")
            runs.append(("go", [exe] + [x.replace("--", "-", 1) for x in args], env))
        else:
            print(f"gc_report: Go peer skipped: {why}", file=sys.stderr)

    results, failed = {}, False
    for name, cmd, env in runs:
        if not os.path.exists(cmd[0]):
            print(f"gc_report: {cmd[0]} not built (meson compile -C {a.build})", file=sys.stderr)
            return 2
        if env is None:  # tricolor's and Boehm's own settings, not the caller's
            env = {k: v for k, v in os.environ.items() if k not in ("GOGC", "GODEBUG", "GC_MARKERS")}
        print(f"gc_report: running {name} ...", file=sys.stderr, flush=True)
        status, out, err, rss = run(cmd, env)
        r = parse_result(out)
        if status != 0 or r is None:
            tail = err.strip().splitlines()[-1:] or ["no output"]
            results[name] = {"impl": name, "failed": f"exit {status}: {tail[0]}"}
            failed = True
            continue
        if name == "go":
            r["pauses_ns"], r["mark_s"], r["marked_bytes"], r["pause_max_run_ns"] = go_trace(err)
        r["max_rss_mb"] = rss / 1024.0
        results[name] = summarize(r)

    fence = None
    probe = os.path.join(bindir, "fence-probe")
    if os.path.exists(probe):
        print("gc_report: measuring this machine's stalls and cross-CPU fence ...", file=sys.stderr,
              flush=True)
        status, out, err, _ = run([probe], None)
        fence = parse_result(out, "FENCEPROBE")
        if status != 0 or fence is None:
            fence = {"failed": (err.strip().splitlines()[-1:] or [f"exit {status}"])[0]}
    print_report(results, a, fence)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"config": vars(a), "results": results, "fence": fence}, f, indent=1)
    return 1 if failed else 0


def print_report(results, a, fence=None):
    print(f"GC pauses and mark throughput: {a.heap_mb:g} MiB live heap of 24-byte tree nodes, "
          f"{a.threads} mutator threads churning {a.churn_mbps:g} MB/s, {a.cycles} forced cycles "
          f"(each collector in its own process; Boehm's nodes take 32 bytes)")
    hdr = (f"{'collector':<10} {'cycles':>6} {'pauses':>6} {'p50 us':>9} {'p90 us':>9} "
           f"{'p99 us':>9} {'max us':>9} {'run max':>9} {'mark MB/s':>10} {'ms/cycle':>9} "
           f"{'mut MB/s':>9} {'RSS MiB':>8}")
    print(hdr)
    print("-" * len(hdr))
    for name, r in results.items():
        if "failed" in r:
            print(f"{name:<10} FAILED ({r['failed']})")
            continue
        p = r["pause_us"]
        print(f"{name:<10} {r['cycles']:>6} {r['npauses']:>6} {p['p50']:>9.1f} {p['p90']:>9.1f} "
              f"{p['p99']:>9.1f} {p['max']:>9.1f} {r.get('pause_max_run_ns', 0) / 1e3:>9.1f} "
              f"{r['mark_mb_s']:>10.0f} {r['cycle_ms']:>9.1f} "
              f"{r['mutator_mb_s']:>9.1f} {r['max_rss_mb']:>8.0f}")
    print("(p50..max: the pauses of the measured window; run max: the longest pause of the whole "
          "run, the heap's build by one thread included)")
    t = results.get("tricolor", {})
    if "pause_us" in t:
        mx = t["pause_us"]["max"]
        run = t.get("pause_max_run_ns", 0) / 1e3
        ok = mx < PAUSE_TARGET_US and run < PAUSE_TARGET_US
        print(f"target: every STW pause < {PAUSE_TARGET_US:g} us: tricolor max {mx:.1f} us in the "
              f"window, {run:.1f} us over the whole run -> {'MET' if ok else 'MISSED'}")
        b = results.get("boehm", {})
        if "mark_mb_s" in b:
            ratio = t["mark_mb_s"] / b["mark_mb_s"]
            print(f"target: mark throughput >= Boehm's: tricolor/Boehm = {ratio:.2f} "
                  f"-> {'MET' if ratio >= 1 else 'MISSED'}")
    if fence and "failed" in fence:
        print(f"platform: stalls and cross-CPU fence not measured ({fence['failed']})")
    elif fence:
        per_s = fence["stalls_over_100us"] * 1000.0 / fence["stall_ms"]
        print(f"platform: a thread that never gives up its CPU (as the collector's in a pause) lost "
              f"over 100 us {per_s:.1f} times a second, over 50 us "
              f"{fence['stalls_over_50us'] * 1000.0 / fence['stall_ms']:.1f} times, at most "
              f"{fence['stall_max_ns'] / 1e3:.0f} us, on this machine; a cross-CPU fence "
              f"(membarrier, made before a pause) took p50 {fence['p50_ns'] / 1e3:.1f}, p99.9 "
              f"{fence['p999_ns'] / 1e3:.1f}, max {fence['max_ns'] / 1e3:.1f} us")
    for name, r in results.items():
        if r.get("trees_bad"):
            print(f"{name}: {r['trees_bad']} trees damaged (live nodes freed)")


if __name__ == "__main__":
    sys.exit(main())
