"""PNG plots (matplotlib, Agg backend) for a run and for compare."""

from __future__ import annotations

import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter  # noqa: E402

from names import PEER_KERNELS, on_gpu  # noqa: E402
from results import fmt_n  # noqa: E402

OP_TITLES = {"focal_sum": "forward sum", "focal_grad": "fused loss + gradient"}
# The ceiling of each op, in distinct styles: a plain read of the input's bytes bounds the sum
# (dotted), a copy (read + write) bounds the fused gradient (dash-dot); CUDA probes in green.
CEILINGS = {"focal_sum": (("probe_read", ":", "black"), ("probe_cuda_read", ":", "darkgreen")),
            "focal_grad": (("probe_copy", "-.", "dimgray"), ("probe_cuda_copy", "-.", "olive"))}
PEER_STYLE = {"torch_eager": ("black", "x"), "torch_compile": ("tab:red", "+"),
              "jax_jit": ("tab:purple", "1")}
_MARKERS = ["o", "s", "^", "v", "D", "P", "*", "h", "<", ">"]


def _log2_axis(ax, sizes):
    ax.set_xscale("log", base=2)
    sizes = sorted(set(sizes))
    if len(sizes) > 10:
        sizes = sizes[::2]
    ax.xaxis.set_major_locator(FixedLocator(sizes))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_n(int(round(v)))))
    ax.xaxis.set_minor_locator(FixedLocator([]))


def _colors(names):
    cmap = plt.get_cmap("tab10")
    return {name: cmap(i % 10) for i, name in enumerate(names)}


def _bytes_per_logit(measurements):
    """Bytes the bench counts per logit for these kernel measurements (from GB/s / items/s)."""
    ratios = [m.gbps * 1e9 / m.items_per_second for m in measurements
              if m.gbps and m.items_per_second]
    return statistics.median(ratios) if ratios else None


def _ceilings(bench, op, kernels_in_panel):
    """[(sizes, items/s, label, linestyle, colour)]: each probe's GB/s divided by the bytes per
    logit the panel's kernels move (CPU probes for CPU kernels, CUDA probes for CUDA kernels)."""
    out = []
    for probe, ls, color in CEILINGS[op]:
        pts = sorted((m.n, m) for m in bench if m.op == probe)
        if not pts:
            continue
        ks = [m for m in kernels_in_panel if on_gpu(m.kernel) == on_gpu(probe)]
        bpl = _bytes_per_logit(ks)
        if not bpl or not all(m.gbps for _, m in pts):
            continue
        n_last, m_last = pts[-1]
        label = f"ceiling: {probe} ({m_last.gbps:.1f} GB/s at {fmt_n(n_last)}) ÷ {bpl:.3g} B/logit"
        out.append(([n for n, _ in pts], [m.gbps * 1e9 / bpl for _, m in pts], label, ls, color))
    return out


def _kernel_style(kernels):
    """(colour, linestyle, marker) per kernel: a colour per family (cuda_warp and cuda_warp_fast share one),
    dashed for the fast tiers, a marker of its own, so no two lines look alike."""
    bases = []
    for k in kernels:
        b = k.removesuffix("_fast")
        if b not in bases:
            bases.append(b)
    colors = _colors(bases)
    return {k: (colors[k.removesuffix("_fast")], "--" if k.endswith("_fast") else "-",
                _MARKERS[i % len(_MARKERS)]) for i, k in enumerate(kernels)}


def _peer_series(run, op, layout):
    """[(label, colour, marker, points)] for every peer and thread count measured."""
    out = []
    for device, ms in sorted(run.peers.items()):
        for peer in PEER_KERNELS:
            for t in sorted({m.threads for m in ms if m.kernel == peer}, key=lambda t: t or 0):
                pts = sorted((m.n, m.gitems) for m in ms if m.kernel == peer and m.op == op
                             and m.layout == layout and m.threads == t)
                if pts:
                    color, marker = PEER_STYLE.get(peer, ("gray", "x"))
                    where = " GPU" if device == "cuda" else f" {t or 1}t"
                    out.append((f"{PEER_KERNELS[peer]}{where}", color, marker, t, pts))
    return out


def throughput_plot(run, path, layout="dense"):
    """Throughput vs size per kernel and peer (one panel per op) with both bandwidth ceilings."""
    bench = [m for m in run.bench if m.op in OP_TITLES and m.layout == layout]
    ops = [op for op in OP_TITLES if any(m.op == op for m in bench)]
    if not ops:
        return False
    kernels = sorted({m.kernel for m in bench},
                     key=lambda k: (k != "scalar", k.removesuffix("_fast"), k))
    style = _kernel_style(kernels)
    fig, axes = plt.subplots(1, len(ops), figsize=(6.4 * len(ops), 5.6), squeeze=False)
    handles = {}
    for ax, op in zip(axes[0], ops):
        sizes = []
        in_panel = [m for m in bench if m.op == op]
        for kernel in kernels:
            pts = sorted((m.n, m.gitems) for m in in_panel if m.kernel == kernel)
            if not pts:
                continue
            sizes += [n for n, _ in pts]
            threads = max((m.threads or 0) for m in in_panel if m.kernel == kernel)
            label = kernel + (f" ({threads} threads)" if threads else "")
            color, ls, marker = style[kernel]
            (h,) = ax.plot([n for n, _ in pts], [v for _, v in pts], ls, marker=marker, ms=4,
                           color=color, label=label)
            handles.setdefault(label, h)
        for label, color, marker, t, pts in _peer_series(run, op, layout):
            sizes += [n for n, _ in pts]
            (h,) = ax.plot([n for n, _ in pts], [v for _, v in pts], "-" if (t or 1) == 1 else "--",
                           marker=marker, ms=7, lw=1.6, color=color, label=label)
            handles.setdefault(label, h)
        for xs, ys, label, ls, color in _ceilings(run.bench, op, in_panel):
            (h,) = ax.plot(xs, [y / 1e9 for y in ys], ls, color=color, lw=2, label=label)
            handles.setdefault(label, h)
            sizes += xs
        ax.set_yscale("log")
        _log2_axis(ax, sizes)
        ax.set_xlabel("n (logits per call)")
        ax.set_ylabel("G logits / s")
        ax.set_title(f"{op}: {OP_TITLES[op]}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    ncol = 3
    rows = -(-len(handles) // ncol)
    fig.legend(list(handles.values()), list(handles.keys()), fontsize=7.5, loc="lower center",
               ncol=ncol, frameon=False)
    fig.suptitle(f"Throughput vs size, {layout} layout (median; dotted: read ceiling, dash-dot: "
                 f"copy ceiling): {run.label}", fontsize=10)
    fig.tight_layout(rect=(0, min(0.6, 0.04 * rows + 0.02), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _finite(v):
    return isinstance(v, (int, float)) and v == v and v not in (float("inf"), float("-inf"))


def error_plot(verify, path, floor=0.1):
    """Loss error in ULP vs |x| per kernel and the PyTorch formula, one panel per target.
    Errors below `floor` (0 included) are drawn at the floor; points where a series returned 0,
    inf or NaN for a nonzero finite truth (JSON null / inf: unbounded ULP error) are drawn on a
    band above the largest finite error."""
    e = (verify or {}).get("error_vs_x")
    if not e or not e.get("abs_x") or not e.get("series"):
        return False
    xs = e["abs_x"]
    targets = sorted({s.get("t") for s in e["series"]}, reverse=True)
    names = []
    for s in e["series"]:
        if s.get("name") not in names:
            names.append(s.get("name"))
    colors = _colors(names)
    finite = [float(v) for s in e["series"] for v in (s.get("loss_ulp") or []) if _finite(v)]
    band = max([1e3] + finite) * 10
    fig, axes = plt.subplots(1, len(targets), figsize=(6.5 * len(targets), 4.8), squeeze=False,
                             sharey=True)
    any_band = False
    for ax, t in zip(axes[0], targets):
        for s in e["series"]:
            if s.get("t") != t or not s.get("loss_ulp"):
                continue
            ys = [max(float(v), floor) if _finite(v) else band for v in s["loss_ulp"]]
            peer = "torch" in s["name"]
            ax.plot(xs[:len(ys)], ys, "-", marker="x" if peer else "o", ms=3.5 if peer else 3,
                    lw=2.2 if peer else 1.2, color="black" if peer else colors[s["name"]],
                    label=("PyTorch formula (fp32)" if peer else s["name"]), zorder=3 if peer else 2)
            any_band |= any(not _finite(v) for v in s["loss_ulp"])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.axhline(1, color="grey", lw=0.8, ls="--")
        if any_band:
            ax.axhspan(band / 2.5, band * 2.5, color="red", alpha=0.08)
            ax.text(xs[0], band * 1.6, "returned 0 / inf / NaN: unbounded error", fontsize=7,
                    color="darkred", va="bottom")
        ax.set_xlabel("|x| (logit magnitude; max over both signs near each |x|)")
        ax.set_title(f"t = {t}: loss error vs |x|")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7, loc="center left")
    axes[0][0].set_ylabel(f"loss error vs MPFR, ULP (< {floor:g} drawn at {floor:g})")
    for ax in axes[0]:
        ax.set_ylim(floor / 2, band * 8)
    fig.suptitle(f"Loss error vs |x|, gamma {e.get('gamma')}, alpha {e.get('alpha')}: the kernels stay "
                 "within their bound; the textbook fp32 formula degrades from |x| ~ 3", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def compare_plot(runs, path, op="focal_sum", layout="dense"):
    """Throughput vs size across runs: colour = run (machine), marker/style = kernel."""
    series = []
    for run in runs:
        for kernel in sorted({m.kernel for m in run.bench if m.op == op and m.layout == layout}):
            pts = sorted((m.n, m.gitems) for m in run.bench
                         if m.op == op and m.layout == layout and m.kernel == kernel)
            series.append((run.label, kernel, pts))
    if not series:
        return False
    colors = _colors([r.label for r in runs])
    kernels = sorted({k for _, k, _ in series})
    styles = ["-", "--", "-.", ":"]
    markers = ["o", "s", "^", "v", "D", "x", "+", "*"]
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    sizes = []
    for label, kernel, pts in series:
        i = kernels.index(kernel)
        sizes += [n for n, _ in pts]
        ax.plot([n for n, _ in pts], [v for _, v in pts], styles[i % len(styles)],
                marker=markers[i % len(markers)], ms=4, color=colors[label],
                label=f"{label}: {kernel}")
    ax.set_yscale("log")
    _log2_axis(ax, sizes)
    ax.set_xlabel("n (logits per call)")
    ax.set_ylabel("G logits / s")
    ax.set_title(f"{op} ({OP_TITLES.get(op, op)}), {layout} layout, across machines")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
