"""summary.md for one run directory (and its plots):
  python3 scripts/lib/summary.py RUN_DIR [--no-plots]
Reads the run's files (names.py: meta, imbalance, bench, verify, peer_<tool>_<device>), whichever
exist, through results.py, and writes summary.md, throughput.png, error_vs_x.png into RUN_DIR.
Every peer ratio compares at the same thread count (a kernel on k threads vs the peer on k).
Exit status: 0 written, 1 unreadable results or RUN_DIR not writable, 2 bad argument."""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from choose import choose  # noqa: E402
from jsonio import print_stdout, read_json, write_text  # noqa: E402
from names import FILES, PEER_KERNELS, PROBE_H2D, on_gpu  # noqa: E402
from results import (ULP_GAMMAS, ResultsError, family_stats, fmt_g, fmt_n, fmt_ratio,  # noqa: E402
                     fmt_ulp, load_run, number)

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


def _peer_ips(run, device, peer, op, n, threads=None):
    m = run.peer(device, peer, op, n, threads)
    return m.items_per_second if m else None


def _peers(run, device):
    """Peer names measured on a device, in PEER_KERNELS order."""
    have = {m.kernel for m in run.peers.get(device, [])}
    return [p for p in PEER_KERNELS if p in have]


def _probe(bench, name, n):
    return next((m for m in bench if m.op == name and m.n == n), None)


def headline(run):
    """Per kernel at the headline size (2^24, else the largest dense size measured), with its
    ratio over each peer at the kernel's own thread count, and the peers as rows."""
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
    peers = {d: _peers(run, d) for d in ("cpu", "cuda")}
    cpu_peers = peers["cpu"]
    read = _probe(bench, "probe_read", n)
    verify = {k.get("name"): k for k in (run.verify or {}).get("kernels", [])}
    rows = []
    for k in kernels:
        s = _lookup(bench, "focal_sum", k, "dense", n)
        g = _lookup(bench, "focal_grad", k, "dense", n)
        lab = _lookup(bench, "focal_sum", k, "labels_c80", n)
        halves = [_lookup(bench, "focal_sum", k, f"dense_{d}", n) for d in ("fp16", "bf16")]
        probe = _probe(bench, "probe_cuda_read", n) if on_gpu(k) else read   # same device's ceiling
        bw = f"{100 * s.gbps / probe.gbps:.0f}%" if s and s.gbps and probe and probe.gbps else "—"
        ulp = _ulp_cell(verify.get(k))
        device = "cuda" if on_gpu(k) else "cpu"
        vs = []
        for p in cpu_peers:
            if device == "cuda":   # the GPU kernels against the same peer on the GPU
                vs.append(f"{_ratio(s, _peer_ips(run, 'cuda', p, 'focal_sum', n))} / "
                          f"{_ratio(g, _peer_ips(run, 'cuda', p, 'focal_grad', n))}")
                continue
            t = (s.threads if s else None) or 1
            vs.append(f"{_ratio(s, _peer_ips(run, 'cpu', p, 'focal_sum', n, t))} / "
                      f"{_ratio(g, _peer_ips(run, 'cpu', p, 'focal_grad', n, t))}")
        name = f"`{k}`" + (f" ({s.threads} threads)" if s and s.threads else "")
        rows.append([name, fmt_g(s.gitems) if s else "—", fmt_g(g.gitems) if g else "—",
                     fmt_g(lab.gitems) if lab else "—",
                     " / ".join(fmt_g(h.gitems) if h else "—" for h in halves),
                     fmt_ratio(s and s.items_per_second, scalar and scalar.items_per_second)]
                    + vs + [bw, ulp])
    for device in ("cpu", "cuda"):
        for p in peers[device]:
            for t in sorted({m.threads for m in run.peers[device] if m.kernel == p}, key=lambda t: t or 0):
                ps = run.peer(device, p, "focal_sum", n, t)
                pg = run.peer(device, p, "focal_grad", n, t)
                if not (ps or pg):
                    continue
                where = " on the GPU" if device == "cuda" else f" ({t or 1} thread{'s' if (t or 1) > 1 else ''})"
                rows.append([PEER_KERNELS[p] + where, fmt_g(ps.gitems) if ps else "—",
                             fmt_g(pg.gitems) if pg else "—", "—", "—",
                             fmt_ratio(ps and ps.items_per_second, scalar and scalar.items_per_second)
                             if device == "cpu" else "—"]
                            + ["—"] * len(cpu_peers) + ["—", _peer_ulp(run) if p == "torch_eager" else "—"])
    if read:
        rows.append(["`probe_read` (memory bound)"] + ["—"] * (5 + len(cpu_peers)) +
                     [f"{read.gbps:.1f} GB/s" if read.gbps else "—", "—"])
    header = (["kernel", "sum G/s", "grad G/s", "labels_c80 sum G/s", "dense fp16 / bf16 sum G/s",
               "sum vs scalar"] +
              [f"vs {PEER_KERNELS[p]} sum / grad" for p in cpu_peers] +
              ["sum: share of read bandwidth", "max ULP typical / extreme"])
    return n, _table(header, rows)


def _ulp_cell(entry):
    if entry is None:
        return "—"
    typ, ext = _integer_gamma_stats(entry, "typical"), _integer_gamma_stats(entry, "extreme")
    if not (typ or ext):
        return "—"
    return f"{fmt_ulp(_max(typ, 'loss_ulp', 'grad_ulp'))} / {fmt_ulp(_max(ext, 'loss_ulp', 'grad_ulp'))}"


def _ratio(m, peer_ips):
    return fmt_ratio(m.items_per_second if m else None, peer_ips)


def _max(stats, *keys):
    vals = [stats[k] for k in keys if stats and stats.get(k) is not None]
    return max(vals) if vals else None


def _peer_ulp(run):
    return _ulp_cell((run.verify or {}).get("peer"))


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
            rows.append([f"`{k.get('name')}`", "unavailable", "—", "—", "—", "—", "—", "—", "—",
                         k.get("unavailable_reason") or k.get("why", "")])
            continue
        bound = k.get("bound") or {}
        typ = _integer_gamma_stats(k, "typical")
        ext = _integer_gamma_stats(k, "extreme")
        spec = family_stats(k, "special")
        halves = [_integer_gamma_stats(k, f"half_{d}") for d in ("fp16", "bf16")]
        half_cell = " / ".join(f"{fmt_ulp(h['loss_ulp'])}, {fmt_ulp(h.get('grad_half_ulp'))}" if h else "—"
                               for h in halves)
        rows.append([f"`{k.get('name')}`",
                     f"{fmt_ulp(bound.get('ulp'))} ULP, rel {bound.get('rel_other', '—'):.2g}"
                     if isinstance(bound.get("rel_other"), (int, float)) else f"{fmt_ulp(bound.get('ulp'))} ULP",
                     fmt_ulp(typ and typ["loss_ulp"]), fmt_ulp(typ and typ["grad_ulp"]),
                     fmt_ulp(ext and ext["loss_ulp"]), fmt_ulp(ext and ext["grad_ulp"]),
                     str(spec["special_failures"]) if spec else "—", half_cell,
                     "pass" if k.get("pass") else "**FAIL**", ""])
    peer = v.get("peer")
    if peer:
        typ, ext = _integer_gamma_stats(peer, "typical"), _integer_gamma_stats(peer, "extreme")
        spec = family_stats(peer, "special")
        rows.append([f"PyTorch formula (`{peer.get('name', 'peer')}`)", "none",
                     fmt_ulp(typ and typ["loss_ulp"]), fmt_ulp(typ and typ["grad_ulp"]),
                     fmt_ulp(ext and ext["loss_ulp"]), fmt_ulp(ext and ext["grad_ulp"]),
                     str(spec["special_failures"]) if spec else "—", "—", "(reference only)", ""])
    header = ["kernel", "declared bound", "typical loss ULP", "typical grad ULP", "extreme loss ULP",
              "extreme grad ULP", "special-value failures",
              "every fp16 / bf16 pattern: loss ULP, half grad in half-ULP", "verdict", "note"]
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
            for key in ("loss_ulp", "grad_ulp", "grad_half_ulp"):
                if s.get(key) is not None:
                    merged.setdefault(key, None)
                    merged[key] = s[key] if merged[key] is None else max(merged[key], s[key])
    if merged is None:   # families without a gamma field
        merged = family_stats(entry, family)
    return merged


def speedup_table(run):
    """Kernel throughput over each peer's at the same n and thread count: CPU kernels vs the
    CPU peers, CUDA kernels vs the CUDA peers."""
    rows, all_sizes = [], set()
    for device in ("cpu", "cuda"):
        for p in _peers(run, device):
            for op in ("focal_sum", "focal_grad"):
                sizes = sorted({m.n for m in run.peers[device] if m.kernel == p and m.op == op})
                all_sizes.update(sizes)
                kernels = _kernel_order(m.kernel for m in run.bench if m.op == op and m.layout == "dense"
                                        and on_gpu(m.kernel) == (device == "cuda"))
                for k in kernels:
                    cells = {}
                    for n in sizes:
                        m = _lookup(run.bench, op, k, "dense", n)
                        t = None if device == "cuda" else ((m.threads if m else None) or 1)
                        cells[n] = _ratio(m, _peer_ips(run, device, p, op, n, t))
                    rows.append((f"`{k}` / {PEER_KERNELS[p]} ({device})", op, cells))
                rows.append((f"{PEER_KERNELS[p]} ({device}, fewest threads), G/s", op,
                             {n: fmt_g((_peer_ips(run, device, p, op, n) or 0) / 1e9) for n in sizes}))
    if not rows:
        return None
    sizes = sorted(all_sizes)
    return _table(["kernel / peer", "op"] + [fmt_n(n) for n in sizes],
                  [[k, op] + [cells.get(n, "—") for n in sizes] for k, op, cells in rows])


def recommendation(run):
    if not run.verify or not run.bench:
        return None
    # A run with GPU kernels and the transfer probes: also the answer for data on the host.
    datas = ["device"]
    if any(m.op == PROBE_H2D for m in run.bench) and any(on_gpu(m.kernel) for m in run.bench if m.layout):
        datas.append("host")
    rows = []
    for n in RECOMMEND_SIZES:
        row = [fmt_n(n)]
        for data in datas:
            for op in ("sum", "grad"):
                try:
                    r = choose(run, n, op, "dense", data=data)
                except ResultsError:
                    row.append("—")
                    continue
                c = r["chosen"]
                row.append(f"`{c['kernel']}` ({fmt_g(c['items_per_second'] / 1e9)} G/s)" if c else "none")
        rows.append(row)
    on = ", data on each device" if len(datas) > 1 else ""
    head = ["n", f"sum: fastest at <= 4 ULP{on}", f"grad: fastest at <= 4 ULP{on}"]
    if len(datas) > 1:
        head += ["sum, data on the host (transfers counted)", "grad, data on the host"]
    return _table(head, rows)


def imbalance_table(path):
    if not os.path.isfile(path):
        return None
    d = read_json(path)
    try:
        rows = []
        for r in d["rows"]:
            neg, pos = number(r["negatives_sum"]), number(r["positives_sum"])
            total = neg + pos
            rows.append([str(r["loss"]), f"{neg:.6g}", f"{pos:.6g}",
                         f"{100 * neg / total:.2f}%", f"{100 * pos / total:.2f}%"])
        return (f"{int(d['negatives']):,} easy negatives (p_t = 0.99) and {int(d['positives'])} hard "
                f"positives (p_t = 0.01), kernel `{d.get('kernel', '?')}`:\n\n" +
                _table(["loss", "sum over negatives", "sum over positives", "negatives' share",
                        "positives' share"], rows))
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as e:
        raise ResultsError(f"{path}: not an imbalance.py result ({type(e).__name__}: {e})")


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
             ("peers (CPU)", _peer_desc(run, "cpu")),
             ("peers (GPU)", _peer_desc(run, "cuda")),
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
            if plotting.throughput_plot(run, os.path.join(run_dir, FILES["throughput_png"])):
                made.append(f"![throughput vs size]({FILES['throughput_png']})")
            if plotting.error_plot(run.verify, os.path.join(run_dir, FILES["error_png"])):
                made.append(f"![loss error vs |x|]({FILES['error_png']})")
        except ImportError as e:
            lines += ["", f"(plots skipped: {e}; install python3-matplotlib)"]
        except OSError as e:
            raise ResultsError(f"{run_dir}: cannot write the plots: {e.strerror or e}")
        if made:
            lines += ["", "## Plots", ""] + made
    else:
        for png, alt in ((FILES["throughput_png"], "throughput vs size"), (FILES["error_png"], "loss error vs |x|")):
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
        lines += ["", "## Speed-up over the peers (same machine, sizes and thread counts)", "", sp]
    for device, where in (("cpu", "CPU"), ("cuda", "GPU")):
        half = os.path.join(run_dir, FILES[f"half_peer_{device}"])
        if os.path.isfile(half):   # verify/peer/torch_half_peer.py's table, as written
            with open(half, encoding="utf-8", errors="replace") as f:
                table = f.read().strip()
            if table:   # (an empty file is no table: no heading over nothing)
                lines += ["", f"## Half-precision logits at extreme p_t: torchvision with half tensors ({where})",
                          "", table]
    imb = imbalance_table(os.path.join(run_dir, FILES["imbalance"]))
    if imb:
        lines += ["", "## Why focal loss: the class-imbalance example", "", imb]
    lines += ["", "Files: " + ", ".join(sorted(f for f in os.listdir(run_dir) if not f.startswith("."))), ""]
    text = "\n".join(lines)
    write_text(os.path.join(run_dir, FILES["summary"]), text, "summary")
    return text


def _peer_desc(run, device):
    parts = []
    for tool, ctx in sorted(run.peer_context.get(device, {}).items()):
        if ctx.get("peer_skipped") or ctx.get("skipped"):
            parts.append(f"{tool} skipped ({ctx.get('peer_skipped') or ctx.get('skipped')})")
            continue
        versions = ", ".join(f"{k.removeprefix('peer_')} {v}" for k, v in sorted(ctx.items())
                             if k in ("peer_torch", "peer_torchvision", "peer_jax", "peer_optax", "torch",
                                      "torchvision"))
        comp = ctx.get("peer_torch_compile") or ctx.get("compile")
        parts.append(versions + (f", torch.compile: {comp}" if comp else ""))
    threads = sorted({m.threads or 1 for m in run.peers.get(device, [])})
    if parts and threads:
        parts.append("threads " + ", ".join(map(str, threads)))
    return "; ".join(parts) or None


def main():
    ap = argparse.ArgumentParser(prog="summary", description="Writes summary.md and the plots for a run directory.",
                                 epilog="Exit status: 0 written; 1 unreadable results or RUN_DIR not writable; 2 bad argument.")
    ap.add_argument("run_dir")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    try:
        text = build(args.run_dir, plots=not args.no_plots)
    except ResultsError as e:
        print(f"summary: {e}", file=sys.stderr)
        return 1
    return 0 if print_stdout(text, "summary") else 1


if __name__ == "__main__":
    sys.exit(main())
