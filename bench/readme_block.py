"""bench/readme_block.py: the README's results section, made from one
results folder: the headline figure of every part with the run's date,
commit, machine and load, the targets (MET only when every repetition
met them) and the latest plots, which --update-readme copies into
docs/results/plots/ beside the full summary (docs/results/summary.md)."""
import os

import benchlib
import gc_report
from benchlib import fmt
from benchlib import load_json as load, ok_runs as ok


def allocator_rows(doc):
    g = (doc or {}).get("malloc") or doc or {}
    if "geomean_reps" not in g:
        return []
    rows = []
    targets = {f"tricolor/{t['peer']} {t['metric']}": t["text"] for t in g["targets"]
               if not t.get("each")}  # per-workload targets: summary.md has their table
    for key, reps in g["geomean_reps"].items():
        peer, metric = key.split(" ")
        if key not in targets and metric == "rss":
            continue
        goal = f"target {targets[key]}: **{g['verdicts'][key]}**" if key in targets else ""
        # As in the summary: the geometric mean of the medians, then the
        # range of the repetitions' own geometric means.
        xs = [x for x in reps if x is not None]
        value = {"median": g["geomean"][key], "min": min(xs), "max": max(xs), "n": len(xs)} if xs else None
        rows.append(["allocator", f"{'time' if metric == 'time' else 'peak RSS'} {peer}, geometric "
                     f"mean over {len(g['benchmarks'])} workloads", fmt(value, "{:.2f}", "x"), goal])
    return rows


def collector_rows(doc):
    if not doc:
        return []
    cfg, main = doc["config"], doc["main"]
    where = f"collector, {cfg['heap_mb']:g} MiB live, {cfg['threads']} threads"
    pick = lambda n, k: fmt([r["pause_us"][k] for r in ok(main.get(n))], "{:.0f}")
    worst, ratio = gc_report.target_values(main)
    rows = [[where, f"p99 pause, us ({' / '.join(main)})", " / ".join(pick(n, "p99") for n in main), ""],
            [where, f"worst pause, us ({' / '.join(main)})", " / ".join(pick(n, "max") for n in main),
             f"target every pause < 100 us: **{benchlib.verdict(worst, lambda w: w < 100)}**"],
            [where, "mark throughput, MB/s (" + " / ".join(main) + ")",
             " / ".join(fmt([r["mark_mb_s"] for r in ok(main[n])], "{:.0f}") for n in main),
             f"target tricolor >= Boehm: **{benchlib.verdict(ratio, lambda x: x >= 1)}**"]]
    return rows


def workload_rows(doc):
    if not doc:
        return []
    by = {}
    for key, runs in doc.items():
        w, impl = key.split(" @ ")
        by.setdefault(w, {})[impl] = ok(runs)
    specs = {"trees": ("binary trees", "time, s", lambda r: r["time_s"], "{:.2f}"),
             "window": ("message window", "worst push, us", lambda r: r["push_ns"]["max"] / 1e3, "{:.0f}"),
             "churn": ("graph churn", "M operations/s", lambda r: r["ops_per_s"] / 1e6, "{:.2f}")}
    rows = []
    for w, (title, what, f, spec) in specs.items():
        if w in by:
            rows.append([title, f"{what} ({' / '.join(by[w])})",
                         " / ".join(fmt([f(r) for r in rs], spec) for rs in by[w].values()), ""])
    return rows


def escape_rows(doc):
    if not doc:
        return []
    d, a = doc["summary"]["decisions"], doc["summary"]["all-heap"]
    saved = 1 - d["heap"]["median"] / max(a["heap"]["median"], 1)
    return [["escape analysis", "heap allocations avoided; time decisions/all-heap",
             f"{100 * saved:.0f}%; {d['wall']['median'] / a['wall']['median']:.2f}x", ""]]


def render(out, head, pictures):
    rows = (allocator_rows(load(out, "allocator.json")) + collector_rows(load(out, "collector.json"))
            + workload_rows(load(out, "workloads.json")) + escape_rows(load(out, "escape.json")))
    L = ["<!-- made by scripts/bench-report --update-readme: edits here are overwritten -->",
         f"Figures of `scripts/bench-report`: {head}. Each is the median over the run's "
         "repetitions with their range in brackets; a target is MET only when every repetition "
         "met it. Every table: [docs/results/summary.md](docs/results/summary.md).", ""]
    L += benchlib.table(["part", "figure", "result", "target"], rows, md=True)
    L += [f"![{p}](docs/results/plots/{p}.png)" for p in pictures]
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    import sys
    print(render(sys.argv[1], os.path.basename(sys.argv[1]), []))
