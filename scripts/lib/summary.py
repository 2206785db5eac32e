"""summary.md for one run directory (and its plots):
  python3 scripts/lib/summary.py RUN_DIR [--no-plots]
Reads meta.json, kernels.txt, imbalance.json, bench.json, verify.json, peer_cpu.json /
peer_cuda.json, whichever exist, and writes RUN_DIR/summary.md, throughput.png, error_vs_x.png."""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from choose import choose  # noqa: E402
from results import (ULP_GAMMAS, ResultsError, family_stats, fmt_g, fmt_n, fmt_ulp,  # noqa: E402
                     load_run)

HEADLINE_N = 2 ** 24
RECOMMEND_SIZES = (2 ** 12, 2 ** 16, 2 ** 20, 2 ** 24)


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _kernel_order(names):
    prefer = ["scalar", "avx2", "avx512", "openmp"]
    return sorted(set(names), key=lambda k: (prefer.index(k) if k in prefer else len(prefer), k))


def _lookup(bench, op, kernel, layout, n):
    for m in bench:
        if m.op == op and m.kernel == kernel and m.layout == layout and m.n == n:
            return m
    return None


def _peer_ips(peer, op, n):
    for r in (peer or {}).get("results", []):
        if r.get("impl") == "eager" and r.get("op") == op and r.get("n") == n:
            return r.get("items_per_second")
    return None


def _probe(bench, name, n):
    return next((m for m in bench if m.op == name and m.n == n), None)


def headline(run):
    """Per kernel at the headline size (2^24, else the largest dense size measured for all)."""
    bench = run.bench
    dense = [m for m in bench if m.op == "focal_sum" and m.layout == "dense"]
    if not dense:
        return None, None
    sizes = sorted({m.n for m in dense})
    n = HEADLINE_N if HEADLINE_N in sizes else sizes[-1]
    kernels = _kernel_order(m.kernel for m in dense)
    scalar = _lookup(bench, "focal_sum", "scalar", "dense", n)
    if scalar is None:   # scalar may stop at a smaller size (its throughput is flat in n)
        scalar = max((m for m in dense if m.kernel == "scalar" and m.n < n), key=lambda m: m.n, default=None)
    peer = run.peers.get("cpu")
    peer_sum, peer_grad = _peer_ips(peer, "sum", n), _peer_ips(peer, "grad", n)
    cuda_peer = run.peers.get("cuda")
    read = _probe(bench, "probe_read", n)
    verify = {k.get("name"): k for k in (run.verify or {}).get("kernels", [])}
    rows = []
    for k in kernels:
        s = _lookup(bench, "focal_sum", k, "dense", n)
        g = _lookup(bench, "focal_grad", k, "dense", n)
        lab = next((m for m in bench if m.op == "focal_sum" and m.kernel == k and
                    m.layout.startswith("labels") and m.n == n), None)
        bw = (f"{100 * s.gbps / read.gbps:.0f}%" if s and s.gbps and read and read.gbps
              and "cuda" not in k else "—")
        typ = _integer_gamma_stats(verify[k], "typical") if k in verify else None
        ext = _integer_gamma_stats(verify[k], "extreme") if k in verify else None
        ulp = "—"
        if typ or ext:
            ulp = (f"{fmt_ulp(_max(typ, 'loss_ulp', 'grad_ulp'))} / "
                   f"{fmt_ulp(_max(ext, 'loss_ulp', 'grad_ulp'))}")
        name = f"`{k}`" + (f" ({s.threads} threads)" if s and s.threads else "")
        rows.append([name,
                     fmt_g(s.gitems) if s else "—",
                     fmt_g(g.gitems) if g else "—",
                     fmt_g(lab.gitems) if lab else "—",
                     f"{s.items_per_second / scalar.items_per_second:.1f}x" if s and scalar else "—",
                     _ratio(s, _peer_ips(cuda_peer, "sum", n) if "cuda" in k else peer_sum),
                     _ratio(g, _peer_ips(cuda_peer, "grad", n) if "cuda" in k else peer_grad),
                     bw, ulp])
    if peer_sum or peer_grad:
        rows.append(["PyTorch (torchvision, eager)", fmt_g((peer_sum or 0) / 1e9) if peer_sum else "—",
                     fmt_g((peer_grad or 0) / 1e9) if peer_grad else "—", "—",
                     f"{peer_sum / scalar.items_per_second:.2f}x" if peer_sum and scalar else "—",
                     "1x", "1x", "—", _peer_ulp(run)])
    cs, cg = _peer_ips(cuda_peer, "sum", n), _peer_ips(cuda_peer, "grad", n)
    if cs or cg:
        rows.append(["PyTorch on the GPU (torchvision, eager)", fmt_g(cs / 1e9) if cs else "—",
                     fmt_g(cg / 1e9) if cg else "—", "—", "—", "1x", "1x", "—", "—"])
    if read:
        rows.append(["`probe_read` (memory bound)", "—", "—", "—", "—", "—", "—",
                     f"{read.gbps:.1f} GB/s" if read.gbps else "—", "—"])
    header = ["kernel", "sum G/s", "grad G/s", "labels_c80 sum G/s", "sum vs scalar",
              "sum vs PyTorch", "grad vs PyTorch", "sum: share of read bandwidth",
              "max ULP typical / extreme"]
    return n, _table(header, rows)


def _ratio(m, peer_ips):
    return f"{m.items_per_second / peer_ips:.0f}x" if m and peer_ips else "—"


def _max(stats, *keys):
    vals = [stats[k] for k in keys if stats and stats.get(k) is not None]
    return max(vals) if vals else None


def _peer_ulp(run):
    peer = (run.verify or {}).get("peer")
    if not peer:
        return "—"
    typ, ext = _integer_gamma_stats(peer, "typical"), _integer_gamma_stats(peer, "extreme")
    if not (typ or ext):
        return "—"
    return f"{fmt_ulp(_max(typ, 'loss_ulp', 'grad_ulp'))} / {fmt_ulp(_max(ext, 'loss_ulp', 'grad_ulp'))}"


def throughput_tables(run):
    parts = []
    for op in ("focal_sum", "focal_grad"):
        ms = [m for m in run.bench if m.op == op]
        if not ms:
            continue
        sizes = sorted({m.n for m in ms})
        rows = []
        layouts = sorted({m.layout for m in ms}, key=lambda l: (l != "dense", l))
        for layout in layouts:
            for k in _kernel_order(m.kernel for m in ms if m.layout == layout):
                cells = []
                for n in sizes:
                    m = _lookup(run.bench, op, k, layout, n)
                    cells.append(fmt_g(m.gitems) if m else "—")
                t = next((m.threads for m in ms if m.kernel == k and m.threads), None)
                rows.append([f"`{k}`" + (f" ({t}t)" if t else ""), layout] + cells)
        parts.append(f"**{op}** (G logits/s)\n\n" + _table(["kernel", "layout"] + [fmt_n(n) for n in sizes], rows))
    probes = sorted({m.op for m in run.bench if m.op.startswith("probe_")})
    if probes:
        sizes = sorted({m.n for m in run.bench if m.op in probes})
        rows = []
        for p in probes:
            cells = []
            for n in sizes:
                m = _probe(run.bench, p, n)
                cells.append((f"{m.gbps:.1f}" if m.gbps else f"{fmt_g(m.gitems)} G/s") if m else "—")
            rows.append([f"`{p}`"] + cells)
        parts.append("**Memory probes** (GB/s, decimal)\n\n" + _table(["probe"] + [fmt_n(n) for n in sizes], rows))
    return "\n\n".join(parts)


def accuracy_table(run):
    v = run.verify
    if not v:
        return None
    rows = []
    for k in v.get("kernels", []):
        if k.get("available") is False:
            rows.append([f"`{k.get('name')}`", "unavailable", "—", "—", "—", "—", "—", "—",
                         k.get("unavailable_reason") or k.get("why", "")])
            continue
        bound = k.get("bound") or {}
        typ = _integer_gamma_stats(k, "typical")
        ext = _integer_gamma_stats(k, "extreme")
        spec = family_stats(k, "special")
        rows.append([f"`{k.get('name')}`",
                     f"{fmt_ulp(bound.get('ulp'))} ULP, rel {bound.get('rel_other', '—'):.2g}"
                     if isinstance(bound.get("rel_other"), (int, float)) else f"{fmt_ulp(bound.get('ulp'))} ULP",
                     fmt_ulp(typ and typ["loss_ulp"]), fmt_ulp(typ and typ["grad_ulp"]),
                     fmt_ulp(ext and ext["loss_ulp"]), fmt_ulp(ext and ext["grad_ulp"]),
                     str(spec["special_failures"]) if spec else "—",
                     "pass" if k.get("pass") else "**FAIL**", ""])
    peer = v.get("peer")
    if peer:
        typ, ext = _integer_gamma_stats(peer, "typical"), _integer_gamma_stats(peer, "extreme")
        spec = family_stats(peer, "special")
        rows.append([f"PyTorch formula (`{peer.get('name', 'peer')}`)", "none",
                     fmt_ulp(typ and typ["loss_ulp"]), fmt_ulp(typ and typ["grad_ulp"]),
                     fmt_ulp(ext and ext["loss_ulp"]), fmt_ulp(ext and ext["grad_ulp"]),
                     str(spec["special_failures"]) if spec else "—", "(reference only)", ""])
    header = ["kernel", "declared bound", "typical loss ULP", "typical grad ULP", "extreme loss ULP",
              "extreme grad ULP", "special-value failures", "verdict", "note"]
    return _table(header, rows)


def _integer_gamma_stats(entry, family):
    merged = None
    for g in sorted(ULP_GAMMAS):
        s = family_stats(entry, family, gamma=g)
        if s is None:
            continue
        if merged is None:
            merged = s
        else:
            for key in ("loss_ulp", "grad_ulp"):
                if s[key] is not None:
                    merged[key] = s[key] if merged[key] is None else max(merged[key], s[key])
    if merged is None:   # families without a gamma field
        merged = family_stats(entry, family)
    return merged


def speedup_table(run):
    """Kernel throughput over the PyTorch peer's at the same n: CPU kernels vs the CPU peer,
    CUDA kernels vs the CUDA peer."""
    rows, all_sizes = [], set()
    for device, peer in sorted(run.peers.items()):
        if not peer or not peer.get("results"):
            continue
        for op, peer_op in (("focal_sum", "sum"), ("focal_grad", "grad")):
            sizes = sorted({r["n"] for r in peer["results"] if r.get("op") == peer_op and r.get("impl") == "eager"})
            all_sizes.update(sizes)
            kernels = _kernel_order(m.kernel for m in run.bench if m.op == op and m.layout == "dense"
                                    and ("cuda" in m.kernel) == (device == "cuda"))
            for k in kernels:
                cells = {}
                for n in sizes:
                    cells[n] = _ratio(_lookup(run.bench, op, k, "dense", n), _peer_ips(peer, peer_op, n))
                rows.append((f"`{k}`", op, cells))
            rows.append((f"PyTorch {device} eager (G/s)", op,
                         {n: fmt_g(_peer_ips(peer, peer_op, n) / 1e9) for n in sizes}))
    if not rows:
        return None
    sizes = sorted(all_sizes)
    return _table(["kernel", "op"] + [fmt_n(n) for n in sizes],
                  [[k, op] + [cells.get(n, "—") for n in sizes] for k, op, cells in rows])


def recommendation(run):
    if not run.verify or not run.bench:
        return None
    rows = []
    for n in RECOMMEND_SIZES:
        row = [fmt_n(n)]
        for op in ("sum", "grad"):
            try:
                r = choose(run, n, op, "dense")
            except ResultsError:
                row.append("—")
                continue
            c = r["chosen"]
            row.append(f"`{c['kernel']}` ({fmt_g(c['items_per_second'] / 1e9)} G/s)" if c else "none")
        rows.append(row)
    return _table(["n", "sum: fastest at <= 4 ULP", "grad: fastest at <= 4 ULP"], rows)


def imbalance_table(path):
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        d = json.load(f)
    rows = []
    for r in d["rows"]:
        total = r["negatives_sum"] + r["positives_sum"]
        rows.append([r["loss"], f"{r['negatives_sum']:.6g}", f"{r['positives_sum']:.6g}",
                     f"{100 * r['negatives_sum'] / total:.2f}%", f"{100 * r['positives_sum'] / total:.2f}%"])
    return (f"{d['negatives']:,} easy negatives (p_t = 0.99) and {d['positives']} hard positives "
            f"(p_t = 0.01), kernel `{d.get('kernel', '?')}`:\n\n" +
            _table(["loss", "sum over negatives", "sum over positives", "negatives' share",
                    "positives' share"], rows))


def build(run_dir, plots=True):
    run = load_run(run_dir)
    meta = run.meta
    ctx = run.context
    vm = (run.verify or {}).get("machine", {})
    lines = [f"# focal-kernels results: {meta.get('machine_id', os.path.basename(os.path.dirname(os.path.abspath(run_dir))))}",
             ""]
    facts = [("date", meta.get("date")), ("git revision", meta.get("git_rev")),
             ("mode", meta.get("mode")), ("CPU", vm.get("cpu") or ctx.get("focal_cpu") or ctx.get("cpu_model")),
             ("cores", vm.get("cores") or ctx.get("num_cpus")),
             ("dispatch picks", (run.verify or {}).get("dispatch") or ctx.get("focal_dispatch") or ctx.get("dispatch")),
             ("GPU", ctx.get("focal_gpu") or ctx.get("gpu") or ctx.get("gpu_name")),
             ("PyTorch peer (CPU)", _peer_desc(run.peers.get("cpu"))),
             ("PyTorch peer (GPU)", _peer_desc(run.peers.get("cuda"))),
             ("run time", f"{meta['seconds_total']:.0f} s" if meta.get("seconds_total") else None)]
    lines += [f"- {k}: {v}" for k, v in facts if v not in (None, "")]
    if meta.get("skipped"):
        lines += ["", "**Skipped steps:** " + "; ".join(meta["skipped"])]
    n, head = headline(run)
    if head:
        lines += ["", f"## Headline (n = {fmt_n(n)} logits, dense fp32 logits + uint8 targets, gamma 2)", "", head,
                  "", "G/s = 10^9 logits per second (median). \"vs\" columns are throughput ratios measured "
                  "in the same run; share of read bandwidth = the kernel's bytes/s over "
                  "probe_read's (a plain read of the same bytes; 100% = memory bound). Max ULP = worst error of loss and gradient vs "
                  "MPFR over focal-verify's typical and extreme families."]
    rec = recommendation(run)
    if rec:
        lines += ["", "## Recommendation (`./scripts/choose-kernel --n N`)", "", rec]
    if plots:
        made = []
        try:
            import plots as plotting
            if plotting.throughput_plot(run, os.path.join(run_dir, "throughput.png")):
                made.append("![throughput vs size](throughput.png)")
            if plotting.error_plot(run.verify, os.path.join(run_dir, "error_vs_x.png")):
                made.append("![loss error vs |x|](error_vs_x.png)")
        except ImportError as e:
            lines += ["", f"(plots skipped: {e}; install python3-matplotlib)"]
        if made:
            lines += ["", "## Plots", ""] + made
    else:
        for png, alt in (("throughput.png", "throughput vs size"), ("error_vs_x.png", "loss error vs |x|")):
            if os.path.isfile(os.path.join(run_dir, png)):
                lines += ["", f"![{alt}]({png})"]
    tables = throughput_tables(run)
    if tables:
        lines += ["", "## Throughput per kernel and size", "", tables]
    acc = accuracy_table(run)
    if acc:
        lines += ["", "## Accuracy (focal-verify vs MPFR, max error at gamma in {0..4})", "", acc,
                  "", "typical = RetinaNet-like logits (p_t mostly near 0.99); extreme = |x| from 8 to 1e4 "
                  "(p_t within 1e-4 of 0 or 1); details per family and gamma in verify.json."]
    sp = speedup_table(run)
    if sp:
        lines += ["", "## Speed-up over the PyTorch peer (same machine, same sizes)", "", sp]
    imb = imbalance_table(os.path.join(run_dir, "imbalance.json"))
    if imb:
        lines += ["", "## Why focal loss: the class-imbalance example", "", imb]
    lines += ["", "Files: " + ", ".join(sorted(f for f in os.listdir(run_dir) if not f.startswith("."))), ""]
    text = "\n".join(lines)
    with open(os.path.join(run_dir, "summary.md"), "w") as f:
        f.write(text)
    return text


def _peer_desc(peer):
    if not peer:
        return None
    if peer.get("skipped"):
        return f"skipped ({peer['skipped']})"
    return (f"torch {peer.get('torch')}, torchvision {peer.get('torchvision')}, "
            f"{peer.get('threads')} threads, torch.compile: {peer.get('compile', 'not tried')}")


def main():
    ap = argparse.ArgumentParser(description="Writes summary.md and the plots for a run directory.")
    ap.add_argument("run_dir")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    try:
        print(build(args.run_dir, plots=not args.no_plots))
    except ResultsError as e:
        print(f"summary: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
