"""scripts/compare: throughput of recorded runs side by side (machines, or runs of one machine).
One markdown table (rows: op / layout / kernel / size; columns: runs, G logits/s, then each run
over the first as a ratio), the same as JSON with --json, and PNG plots of throughput vs size.
Peers (peer_*.json) are rows like kernels. Exit status: 0 written, 1 no results / an output
that cannot be written, 2 bad argument."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jsonio import check_writable, print_stdout, write_json, write_text  # noqa: E402
from results import (ResultsError, fmt_g, fmt_n, fmt_ratio, is_run_dir, layout_kind,  # noqa: E402
                     load_run, machine_dirs, newest_run, repo_root)


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


def _measurements(run):
    """Kernels, probes and peers of a run; peers at their largest thread count."""
    peers = {}
    for ms in run.peers.values():
        for m in ms:
            key = (m.op, m.kernel, m.layout, m.n)
            if key not in peers or (m.threads or 0) > (peers[key].threads or 0):
                peers[key] = m
    return run.bench + list(peers.values())


def rows(runs, ops, layout):
    """[{op, layout, kernel, n, values: [G/s or GB/s or None per run], unit}] in table order."""
    keys = set()
    lookup = []
    for run in runs:
        ms = _measurements(run)
        lookup.append({(m.op, m.layout, m.kernel, m.n): m for m in ms})
        for m in ms:
            if m.op in ops and (layout == "all" or layout_kind(m.layout) == layout):
                keys.add((m.op, m.layout, m.kernel, m.n))
            elif m.op.startswith("probe_"):
                keys.add((m.op, "", m.kernel, m.n))
    order = {"focal_sum": 0, "focal_grad": 1}
    out = []
    for op, lay, kernel, n in sorted(keys, key=lambda k: (order.get(k[0], 2), k[0], k[1] != "dense", k[1],
                                                          (k[2] != "scalar", k[2]), k[3])):
        probe = op.startswith("probe_")
        values = []
        for lk in lookup:
            m = lk.get((op, lay, kernel, n))
            values.append(None if m is None else (m.gbps if probe else m.gitems))
        out.append({"op": op, "layout": lay, "kernel": kernel, "n": n, "values": values,
                    "unit": "GB/s" if probe else "G logits/s"})
    return out


def markdown(runs, table):
    labels = [r.label for r in runs]
    ratio_heads = [f"{lab} / {labels[0]}" for lab in labels[1:]]
    out = ["| op | layout | kernel | n | " + " | ".join(labels + ratio_heads) + " |",
           "|---|---|---|---|" + "---|" * (len(labels) + len(ratio_heads))]
    for r in table:
        probe = r["unit"] == "GB/s"
        cells = [("—" if v is None else f"{v:.1f} GB/s" if probe else fmt_g(v)) for v in r["values"]]
        cells += [fmt_ratio(v, r["values"][0]) for v in r["values"][1:]]
        out.append(f"| {r['op']} | {r['layout'] or '—'} | `{r['kernel']}` | {fmt_n(r['n'])} | "
                   + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="compare",
        description="Compares recorded runs: one markdown table (cells: G logits/s, '—' where a run "
                    "lacks that kernel or size; probes in GB/s; then each run over the first) and "
                    "throughput-vs-size plots, into --out (compare.md, compare.json, PNGs).",
        epilog="Exit status: 0 written; 1 no results for the arguments, or --out (or stdout) "
               "cannot be written; 2 bad argument.")
    ap.add_argument("dirs", nargs="*", metavar="DIR",
                    help="run directories, results/<machine-id>/ folders (newest run) or results/ "
                         "folders (newest run of each machine); default: results/")
    ap.add_argument("--out", metavar="DIR",
                    help="where compare.md and the PNGs go (default: results/compare/)")
    ap.add_argument("--op", choices=("sum", "grad", "all"), default="all")
    ap.add_argument("--layout", choices=("dense", "labels", "soft", "all"), default="all")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--json", action="store_true",
                    help="print the table as JSON (and write compare.json) instead of markdown")
    args = ap.parse_args(argv)
    if args.out == "":
        ap.error("--out: expected a directory, got an empty string")
    default_root = os.path.join(repo_root(), "results")
    out = args.out or os.path.join(default_root, "compare")
    try:
        paths = args.dirs or [default_root]
        if not args.dirs and not os.path.isdir(default_root):
            raise ResultsError(f"{default_root}: no results yet; make them with ./scripts/run")
        runs = [load_run(p, need_bench=True) for p in resolve(paths)]
        ops = {"sum": ["focal_sum"], "grad": ["focal_grad"], "all": ["focal_sum", "focal_grad"]}[args.op]
        table = rows(runs, ops, args.layout)
        if not any(r["op"] in ops for r in table):
            raise ResultsError("the runs have no benchmarks for the chosen --op/--layout")
        if os.path.exists(out) and not os.path.isdir(out):
            raise ResultsError(f"--out {out}: exists and is not a directory")
        try:
            os.makedirs(out, exist_ok=True)
        except OSError as e:
            raise ResultsError(f"--out {out}: cannot create: {e.strerror or e}")
        for name in ("compare.md", "compare.json"):
            check_writable(os.path.join(out, name), "--out")
        md = markdown(runs, table)
        doc = {"runs": [r.label for r in runs], "ratios": "each run over the first",
               "rows": [dict(r, ratios=[(v / r["values"][0]) if v and r["values"][0] else None
                                        for v in r["values"][1:]]) for r in table]}
        write_json(os.path.join(out, "compare.json"), doc, "--out")
        header = "# Throughput across runs (G logits/s)\n\nRuns:\n" + "\n".join(
            f"- `{r.label}`" + (f" ({r.meta.get('mode')} mode)" if r.meta.get("mode") else "") for r in runs) + "\n\n"
        pngs = [] if args.no_plots else plots_for(runs, out, ops, args.layout)
        body = header + "".join(f"![{os.path.basename(p)}]({os.path.basename(p)})\n\n" for p in pngs) + md + "\n"
        write_text(os.path.join(out, "compare.md"), body, "--out")
    except ResultsError as e:
        print(f"compare: {e}", file=sys.stderr)
        return 1
    if not print_stdout(json.dumps(doc, indent=1) if args.json else md, "compare"):
        return 1
    print(f"\ncompare: wrote {os.path.join(out, 'compare.md')}, compare.json" +
          "".join(f", {os.path.basename(p)}" for p in pngs), file=sys.stderr)
    return 0


def plots_for(runs, out, ops, layout_arg):
    pngs = []
    try:
        import plots
    except ImportError as e:
        print(f"compare: plots skipped ({e}); install python3-matplotlib", file=sys.stderr)
        return pngs
    for op in ops:
        layout = "dense" if layout_arg in ("all", "dense") else next(
            (m.layout for r in runs for m in r.bench if m.op == op and layout_kind(m.layout) == layout_arg), None)
        png = os.path.join(out, f"compare_{op}_{layout}.png")
        try:
            if layout and plots.compare_plot(runs, png, op, layout):
                pngs.append(png)
        except OSError as e:
            raise ResultsError(f"--out {png}: cannot write: {e.strerror or e}")
    return pngs


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # quiet when piped into head
    sys.exit(main())
