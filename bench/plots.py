"""bench/plots.py: the report's pictures, drawn with matplotlib from the
JSON files of one results folder into its plots/ folder, each as PNG and
SVG. A picture whose data is missing (a part not run, or failed) is left
out. Bars are medians over the repetitions, their whiskers the range.

  pause_cdf          every pause of the main collector run, per collector
  pause_vs_heap      worst and p99 pause against live heap size
  pause_vs_threads   worst and p99 pause against mutator threads
  mark_throughput    MB traced per second of marking, per collector
  allocator_ratios   tricolor's time and peak RSS over each peer's, per workload
  workload_trees     binary trees: time, peak RSS, cycles
  workload_window    message window: p99.9 and worst push latency
  workload_churn     graph churn: throughput and longest pause
"""
import os
import statistics

import matplotlib

import gc_report
from benchlib import load_json as load, ok_runs as ok

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

COLORS = {"tricolor": "#d62728", "boehm": "#1f77b4", "boehm-incremental": "#17becf", "go": "#2ca02c",
          "malloc": "#7f7f7f", "glibc": "#7f7f7f", "jemalloc": "#9467bd", "mimalloc": "#ff7f0e"}


def save(fig, out, name, drawn):
    os.makedirs(os.path.join(out, "plots"), exist_ok=True)
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(os.path.join(out, "plots", f"{name}.{ext}"), dpi=110)
    plt.close(fig)
    drawn.append(name)


def bars(ax, labels, values, title, ylabel, log=False):
    """One bar per label at the median of its values, whiskers at the range."""
    med = [statistics.median(v) if v else 0 for v in values]
    lo = [m - min(v) if v else 0 for m, v in zip(med, values)]
    hi = [max(v) - m if v else 0 for m, v in zip(med, values)]
    ax.bar(range(len(labels)), med, yerr=[lo, hi], capsize=4,
           color=[COLORS.get(x, "#888888") for x in labels])
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)


def collector(out, drawn):
    doc = load(out, "collector.json")
    if not doc:
        return
    cfg, main = doc["config"], doc["main"]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, runs in main.items():
        ps = sorted(p / 1e3 for r in ok(runs) for p in r["pauses_ns"])
        if ps:
            ax.step([ps[0]] + ps, [0] + [(i + 1) / len(ps) for i in range(len(ps))], where="post",
                    label=f"{name} ({len(ps)} pauses)", color=COLORS.get(name))
    ax.axvline(100, color="k", ls=":", lw=1, label="100 us target")
    ax.set_xscale("log")
    ax.set_xlabel("stop-the-world pause, us (log scale)")
    ax.set_ylabel("fraction of pauses <= x")
    ax.set_title(f"pause distribution: {cfg['heap_mb']:g} MiB live, {cfg['threads']} mutator threads, "
                 f"every pause of {cfg['reps']} run{'s' if cfg['reps'] > 1 else ''}", fontsize=10)
    ax.legend()
    ax.grid(alpha=0.3)
    save(fig, out, "pause_cdf", drawn)

    for kind, axis, label in (("heap", "heap_mb", "live heap, MiB"), ("threads", "threads", "mutator threads")):
        points = {}
        for (name, v), runs in gc_report.sweep_points(doc, kind).items():
            points.setdefault(name, {})[v] = ok(runs)
        if not any(len(p) > 1 for p in points.values()):
            continue
        fig, ax = plt.subplots(figsize=(7, 4.2))
        for name, by_v in points.items():
            xs = sorted(v for v, rs in by_v.items() if rs)
            med = lambda v, k: statistics.median(r["pause_us"][k] for r in by_v[v])
            ax.plot(xs, [med(v, "max") for v in xs], "o-", color=COLORS.get(name), label=f"{name} worst")
            ax.plot(xs, [med(v, "p99") for v in xs], "x--", color=COLORS.get(name), label=f"{name} p99")
        ax.axhline(100, color="k", ls=":", lw=1)
        ax.set_xscale("log", base=2)
        ticks = sorted({v for by_v in points.values() for v in by_v})
        ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
        ax.minorticks_off()
        ax.set_yscale("log")
        ax.set_xlabel(label + " (log scale)")
        ax.set_ylabel("pause, us (log scale)")
        ax.set_title(f"worst and p99 pause against {label} ({gc_report.sweep_fixed(doc, kind)}; "
                     "one run per point)", fontsize=10)
        ax.legend(fontsize=8, ncol=3)
        ax.grid(alpha=0.3, which="both")
        save(fig, out, "pause_vs_heap" if axis == "heap_mb" else "pause_vs_threads", drawn)

    names = [n for n in main if ok(main[n])]
    if names:
        fig, ax = plt.subplots(figsize=(5, 3.8))
        bars(ax, names, [[r["mark_mb_s"] for r in ok(main[n])] for n in names],
             f"mark throughput, {cfg['heap_mb']:g} MiB live heap", "MB traced per second of marking")
        save(fig, out, "mark_throughput", drawn)


def allocator(out, drawn):
    doc = load(out, "allocator.json")
    g = (doc or {}).get("malloc") or (doc or {})
    if "runs" not in g:
        return
    subj, benches = "tricolor", g["benchmarks"]
    peers = [p for p in g["peers"] if p != subj]
    fig, axes = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    width = 0.8 / max(len(peers), 1)
    for ax, key, title in ((axes[0], "ns_op", "time"), (axes[1], "rss_kib", "peak RSS")):
        for k, p in enumerate(peers):
            per = []
            for b in benches:
                s, o = g["runs"][f"{b} @ {subj}"], g["runs"][f"{b} @ {p}"]
                per.append([x[key] / y[key] for x, y in zip(s, o)
                            if "error" not in x and "error" not in y and y[key] > 0])
            med = [statistics.median(v) if v else 0 for v in per]
            err = [[m - min(v) if v else 0 for m, v in zip(med, per)],
                   [max(v) - m if v else 0 for m, v in zip(med, per)]]
            ax.bar([i + (k - (len(peers) - 1) / 2) * width for i in range(len(benches))], med, width,
                   yerr=err, capsize=2, color=COLORS.get(p), label=f"tricolor/{p}")
        ax.axhline(1, color="k", lw=1)
        ax.set_ylabel(f"{title} ratio (< 1: tricolor better)")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    short = [b.replace("malloc/", "").replace("/real_time", "").replace("/threads:", " t") for b in benches]
    axes[1].set_xticks(range(len(benches)), short, rotation=25, ha="right")
    axes[0].set_title("allocator: tricolor over each peer, per workload (median of the repetitions' "
                      "ratios, whiskers: range)", fontsize=10)
    save(fig, out, "allocator_ratios", drawn)


def workloads(out, drawn):
    doc = load(out, "workloads.json")
    if not doc:
        return
    by = {}
    for key, runs in doc.items():
        w, impl = key.split(" @ ")
        if ok(runs):
            by.setdefault(w, {})[impl] = ok(runs)
    charts = {"trees": [("time_s", 1, "time, s", False), ("peak_rss_kib", 1 / 1024, "peak RSS, MiB", False),
                        ("cycles", 1, "collections", False)],
              "window": [("p999", 1e-3, "p99.9 push latency, us", True), ("max", 1e-3, "worst push, us", True)],
              "churn": [("ops_per_s", 1e-6, "throughput, M operations/s", False),
                        ("pause_max", 1, "longest pause, us", True)]}
    titles = {"trees": "binary trees", "window": "message window", "churn": "graph churn"}
    for w, impls in by.items():
        if w not in charts:  # the memory workloads: their tables and targets say it all
            continue
        specs = charts[w]
        fig, axes = plt.subplots(1, len(specs), figsize=(3.6 * len(specs), 3.8))
        names = list(impls)
        for ax, (field, scale, label, log) in zip(axes, specs):
            get = {"p999": lambda r: r["push_ns"]["p999"], "max": lambda r: r["push_ns"]["max"],
                   "pause_max": lambda r: r["pause_us"]["max"]}.get(field, lambda r: r[field])
            bars(ax, names, [[get(r) * scale for r in impls[n]] for n in names], label, "", log)
        r = next(iter(impls.values()))[0]
        shape = {"trees": lambda: f"depths 4..{r['depth']}, 16-byte nodes",
                 "window": lambda: f"{r['window']} live messages of {r['msg_bytes']} B, {r['pushes']} pushes",
                 "churn": lambda: f"{r['threads']} threads, {r['nodes']} nodes, {r['time_s']:.0f} s"}[w]()
        fig.suptitle(f"{titles[w]}: {shape} (median of the repetitions, whiskers: range)", fontsize=10)
        save(fig, out, "workload_" + w, drawn)


def draw(out):
    """Draw every picture the folder has data for; return their names."""
    drawn = []
    for part in (collector, allocator, workloads):
        part(out, drawn)
    return drawn
