"""scripts/compare: throughput of recorded runs side by side (machines, or runs of one machine).
One markdown table (rows: op / layout / kernel / size; columns: runs; cells: G logits/s) and
PNG plots of throughput vs size across the runs."""

from __future__ import annotations

import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import (ResultsError, fmt_g, fmt_n, is_run_dir, layout_kind, load_run,  # noqa: E402
                     machine_dirs, newest_run, repo_root)


def resolve(paths):
    """Run directories from the arguments: a run directory is itself; a machine folder gives its
    newest run; a results/ folder gives the newest run of each machine in it."""
    runs = []
    for p in paths:
        if not os.path.isdir(p):
            raise ResultsError(f"{p}: no such directory")
        if is_run_dir(p):
            runs.append(p)
            continue
        newest = newest_run(p)
        if newest is not None:
            runs.append(newest)
            continue
        machines = machine_dirs(p)
        if machines:
            runs += [newest_run(m) for m in machines]
            continue
        raise ResultsError(f"{p}: no recorded runs here (expected a run directory with bench.json, "
                           "a results/<machine-id>/ folder, or a results/ folder); make one with ./scripts/run")
    seen, unique = set(), []
    for r in runs:
        key = os.path.realpath(r)
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return unique


def table(runs, ops, layout):
    keys = set()
    for run in runs:
        for m in run.bench:
            if m.op in ops and (layout == "all" or layout_kind(m.layout) == layout):
                keys.add((m.op, m.layout, m.kernel, m.n))
            elif m.op.startswith("probe_"):
                keys.add((m.op, "", m.kernel, m.n))
    if not keys:
        return None
    order = {"focal_sum": 0, "focal_grad": 1}
    rows = sorted(keys, key=lambda k: (order.get(k[0], 2), k[0], k[1] != "dense", k[1],
                                        (k[2] != "scalar", k[2]), k[3]))
    labels = [r.label for r in runs]
    out = ["| op | layout | kernel | n | " + " | ".join(labels) + " |",
           "|---|---|---|---|" + "---|" * len(labels)]
    lookup = [{(m.op, m.layout, m.kernel, m.n): m for m in r.bench} for r in runs]
    for op, lay, kernel, n in rows:
        cells = []
        for lk in lookup:
            m = lk.get((op, lay, kernel, n))
            if m is None:
                cells.append("—")
            elif op.startswith("probe_") and m.gbps:
                cells.append(f"{m.gbps:.1f} GB/s")
            else:
                cells.append(fmt_g(m.gitems))
        out.append(f"| {op} | {lay or '—'} | `{kernel}` | {fmt_n(n)} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="compare",
        description="Compares recorded runs: one markdown table (cells: G logits/s, '—' where a run "
                    "lacks that kernel or size; probes in GB/s) and throughput-vs-size plots.")
    ap.add_argument("dirs", nargs="*", metavar="DIR",
                    help="run directories, results/<machine-id>/ folders (newest run) or results/ "
                         "folders (newest run of each machine); default: results/")
    ap.add_argument("--out", metavar="DIR",
                    help="where compare.md and the PNGs go (default: results/compare/)")
    ap.add_argument("--op", choices=("sum", "grad", "all"), default="all")
    ap.add_argument("--layout", choices=("dense", "labels", "soft", "all"), default="all")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args(argv)
    default_root = os.path.join(repo_root(), "results")
    try:
        paths = args.dirs or [default_root]
        if not args.dirs and not os.path.isdir(default_root):
            raise ResultsError(f"{default_root}: no results yet; make them with ./scripts/run")
        runs = [load_run(p, need_bench=True) for p in resolve(paths)]
    except ResultsError as e:
        print(f"compare: {e}", file=sys.stderr)
        return 1
    ops = {"sum": ["focal_sum"], "grad": ["focal_grad"], "all": ["focal_sum", "focal_grad"]}[args.op]
    md = table(runs, ops, args.layout)
    if md is None:
        print("compare: the runs have no benchmarks for the chosen --op/--layout", file=sys.stderr)
        return 1
    out = args.out or os.path.join(default_root, "compare")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        print(f"compare: --out {out}: {e}", file=sys.stderr)
        return 1
    header = "# Throughput across runs (G logits/s)\n\nRuns:\n" + "\n".join(
        f"- `{r.label}`" + (f" ({r.meta.get('mode')} mode)" if r.meta.get("mode") else "") for r in runs) + "\n\n"
    pngs = []
    if not args.no_plots:
        try:
            import plots
            for op in ops:
                layout = "dense" if args.layout in ("all", "dense") else None
                if layout is None:
                    layout = next((m.layout for r in runs for m in r.bench
                                   if m.op == op and layout_kind(m.layout) == args.layout), None)
                png = os.path.join(out, f"compare_{op}_{layout}.png")
                if layout and plots.compare_plot(runs, png, op, layout):
                    pngs.append(png)
        except ImportError as e:
            print(f"compare: plots skipped ({e}); install python3-matplotlib", file=sys.stderr)
    body = header + "".join(f"![{os.path.basename(p)}]({os.path.basename(p)})\n\n" for p in pngs) + md + "\n"
    with open(os.path.join(out, "compare.md"), "w") as f:
        f.write(body)
    print(md)
    print(f"\ncompare: wrote {os.path.join(out, 'compare.md')}" +
          "".join(f", {p}" for p in pngs), file=sys.stderr)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # quiet when piped into head
    sys.exit(main())
