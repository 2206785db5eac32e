"""The kernel chooser: the fastest kernel that meets an accuracy bound at a size, from one
recorded run (bench.json for speed, verify.json for accuracy). Used by scripts/choose-kernel
and by the recommendation in summary.md."""

from __future__ import annotations

import math

from names import DTYPES, OP_GRAD, OP_SUM, PROBE_D2H, PROBE_H2D, layout_dtype, on_gpu
from results import ResultsError, fmt_g, fmt_n, fmt_ulp, layout_kind, measured_max_ulp, number

OPS = {"sum": OP_SUM, "grad": OP_GRAD}
LAYOUTS = ("dense", "labels", "soft")
DATA = ("device", "host")   # where the caller's tensors are: each kernel's own memory, or the host
DEFAULT_MAX_ULP = 4.0   # at least every full-accuracy kernel's declared bound; larger admits a fast tier


def log2_text(n):
    k = math.log2(n)
    return fmt_n(n) if k == int(k) else f"2^{k:.2f}"


def estimate(points, n):
    """Throughput at n from measured (n_i, items/s) points: exact, interpolated linearly in
    log2 n between the neighbours, or the nearest end of the measured range. Returns
    (items_per_second, how)."""
    points = sorted(points)
    for m_n, v in points:
        if m_n == n:
            return v, f"measured at {fmt_n(n)}"
    if n < points[0][0] or n > points[-1][0]:
        m_n, v = points[0] if n < points[0][0] else points[-1]
        return v, (f"nearest measured size {fmt_n(m_n)} (n is outside the measured range "
                   f"{fmt_n(points[0][0])}..{fmt_n(points[-1][0])})")
    for (n0, v0), (n1, v1) in zip(points, points[1:]):
        if n0 < n < n1:
            f = (math.log2(n) - math.log2(n0)) / (math.log2(n1) - math.log2(n0))
            return v0 + f * (v1 - v0), f"interpolated in log2 n between {fmt_n(n0)} and {fmt_n(n1)}"
    raise AssertionError("unreachable")


def _verify_entries(verify):
    return {k.get("name"): k for k in (verify or {}).get("kernels", []) if isinstance(k, dict)}


def accuracy_verdict(entry, layout, max_ulp, dtype="fp32"):
    """(ok, declared_ulp, measured_ulp, reason-if-not-ok) for one verify.json kernel entry."""
    if entry is None:
        return False, None, None, "no accuracy record in verify.json"
    bound = entry.get("bound") or {}
    declared = number(bound.get("ulp"))
    measured = measured_max_ulp(entry, layout, dtype)
    if entry.get("available") is False:
        return False, declared, measured, f"unavailable here ({entry.get('unavailable_reason') or entry.get('why') or 'no reason given'})"
    if entry.get("pass") is False:
        failed = sorted({f.get("family") for f in entry.get("families", []) if f.get("pass") is False})
        where = f" in {', '.join(failed)}" if failed else ""
        return False, declared, measured, f"failed focal-verify{where} (see verify.json)"
    if declared is None:
        return False, declared, measured, "no declared ULP bound"
    if declared > max_ulp:
        return False, declared, measured, f"declared bound {fmt_ulp(declared)} ULP > {fmt_ulp(max_ulp)}"
    if measured is None:
        what = f" with {dtype} logits (verify.json has no half_{dtype} family)" if dtype != "fp32" else ""
        return False, declared, measured, f"no measured ULP error for the {layout_kind(layout)} layout{what}"
    if not measured <= max_ulp:   # an unbounded (inf) error never meets a bound
        return False, declared, measured, f"measured {fmt_ulp(measured)} ULP > {fmt_ulp(max_ulp)}"
    return True, declared, measured, ""


def _bytes_per_logit(run, op, kernel, bench_layout):
    """Bytes one call moves per logit (the benchmark's bytes/s over its logits/s)."""
    for m in run.bench:
        if m.op == op and m.kernel == kernel and m.layout == bench_layout and m.gbps:
            return m.gbps * 1e9 / m.items_per_second
    return None


def transfer_seconds(run, kernel, bench_layout, bench_op, n):
    """(seconds, text) a call with the data on the host adds to a GPU kernel: its inputs up and,
    for the gradient, the gradient down, at the rates of probe_cuda_h2d / probe_cuda_d2h measured
    in the same run (pinned host memory) for copies of the same size, so a small copy's fixed
    cost is in. Not counted: reading back a sum's scalar (one small copy). (None, reason) when
    the run cannot tell."""
    up = _bytes_per_logit(run, OP_SUM, kernel, bench_layout)   # a sum reads its inputs only
    if up is None:
        return None, f"no {OP_SUM} benchmark of {kernel} for {bench_layout} to size its transfer"
    down = 0.0
    if bench_op == OP_GRAD:
        moved = _bytes_per_logit(run, OP_GRAD, kernel, bench_layout)
        if moved is None:
            return None, f"no {OP_GRAD} benchmark of {kernel} for {bench_layout} to size its transfer"
        down = moved - up
    secs = 0.0
    for probe, nbytes in ((PROBE_H2D, up * n), (PROBE_D2H, down * n)):
        if nbytes <= 0:
            continue
        # (bytes copied, bytes/s) of each probe size: rates looked up by copy size
        pts = [(round(m.gbps * 1e9 / m.items_per_second * m.n), m.gbps * 1e9)
               for m in run.bench if m.op == probe and m.gbps]
        if not pts:
            return None, f"this run has no {probe} benchmark, so the host<->device transfer is unknown"
        secs += nbytes / estimate(pts, max(1, round(nbytes)))[0]
    return secs, f"host<->device transfer {secs * 1e3:.3g} ms counted ({up:.3g} B/logit up" + (
        f", {down:.3g} down)" if down > 0 else ")")


def choose(run, n, op="sum", layout="dense", max_ulp=DEFAULT_MAX_ULP, dtype="fp32", data="device"):
    """Ranks every benchmarked kernel at n for logits of `dtype` (fp32, fp16, bf16). data="host":
    the caller's tensors are on the host, so a GPU kernel's time includes the transfers. Returns a
    dict with 'chosen', 'runner_up' and 'ranking' (list of candidate dicts, fastest first)."""
    if op not in OPS:
        raise ResultsError(f"unknown op '{op}': expected one of {', '.join(OPS)}")
    if layout not in LAYOUTS:
        raise ResultsError(f"unknown layout '{layout}': expected one of {', '.join(LAYOUTS)}")
    if dtype not in DTYPES:
        raise ResultsError(f"unknown dtype '{dtype}': expected one of {', '.join(DTYPES)}")
    if data not in DATA:
        raise ResultsError(f"unknown data location '{data}': expected one of {', '.join(DATA)}")
    if layout == "soft" and dtype != "fp32":
        raise ResultsError(f"soft targets take fp32 logits only (got dtype {dtype})")
    if run.verify is None:
        raise ResultsError(f"{run.path}: no verify.json, so the accuracy of its kernels is unknown; "
                           "record a full run with ./scripts/run")
    bench_op = OPS[op]
    per_kernel = {}
    for m in run.bench:
        if m.op != bench_op or layout_kind(m.layout) != layout or layout_dtype(m.layout) != dtype:
            continue
        per_kernel.setdefault((m.kernel, m.layout), []).append(m)
    if not per_kernel:
        have = sorted({f"{m.op}/{m.layout}" for m in run.bench if not m.op.startswith("probe")})
        of = f" with {dtype} logits" if dtype != "fp32" else ""
        raise ResultsError(f"{run.path}: no {bench_op} benchmarks for the {layout} layout{of} "
                           f"(this run has: {', '.join(have) or 'no kernel benchmarks'})")
    entries = _verify_entries(run.verify)
    ranking = []
    for (kernel, bench_layout), ms in per_kernel.items():
        ips, how = estimate([(m.n, m.items_per_second) for m in ms], n)
        ok, declared, measured, reason = accuracy_verdict(entries.get(kernel), layout, max_ulp, dtype)
        gpu = on_gpu(kernel)
        if gpu and data == "host":
            secs, text = transfer_seconds(run, kernel, bench_layout, bench_op, n)
            if secs is None:
                ok, reason = False, text
            else:
                ips, how = n / (n / ips + secs), f"{how}; {text}"
        threads = max((m.threads or 0) for m in ms) or None
        bound = (entries.get(kernel) or {}).get("bound") or {}
        ranking.append({"kernel": kernel, "layout": bench_layout, "items_per_second": ips,
                        "how": how, "ok": ok, "reason": reason, "declared_ulp": declared,
                        "rel_other": bound.get("rel_other"), "measured_ulp": measured,
                        "threads": threads, "gpu": gpu,
                        "backend": (entries.get(kernel) or {}).get("backend")})
    ranking.sort(key=lambda c: -c["items_per_second"])
    eligible = [c for c in ranking if c["ok"]]
    chosen = eligible[0] if eligible else None
    runner_up = None
    if chosen is not None:
        others = [c for c in ranking if c is not chosen]
        runner_up = others[0] if others else None
        if runner_up is not None:
            if runner_up["ok"]:
                runner_up["lost"] = (f"{chosen['items_per_second'] / runner_up['items_per_second']:.2f}x "
                                     f"slower than {chosen['kernel']}")
            else:
                runner_up["lost"] = f"it does not meet the bound: {runner_up['reason']}"
    return {"run": run.path, "n": n, "op": op, "bench_op": bench_op, "layout": layout,
            "dtype": dtype, "max_ulp": max_ulp, "data": data, "chosen": chosen,
            "runner_up": runner_up, "ranking": ranking}


def by_size(run, op="sum", layout="dense", max_ulp=DEFAULT_MAX_ULP, dtype="fp32", data="device"):
    """The chosen kernel at every power of two across the sizes measured for this op, layout and
    dtype, merged into ranges: [{"from", "to", "kernel", "gpu", "extrapolated"}] (extrapolated: the
    winner was not measured that far, its nearest size stands in). Shows the CPU<->GPU crossover
    when the run has both."""
    sizes = sorted({m.n for m in run.bench if m.op == OPS.get(op) and layout_kind(m.layout) == layout
                    and layout_dtype(m.layout) == dtype})
    ranges = []
    k = math.ceil(math.log2(sizes[0])) if sizes else 1
    while sizes and 2 ** k <= sizes[-1]:
        c = choose(run, 2 ** k, op, layout, max_ulp, dtype, data)["chosen"]
        row = {"kernel": c["kernel"] if c else None, "gpu": bool(c and c["gpu"]),
               "extrapolated": bool(c and c["how"].startswith("nearest"))}
        if ranges and all(ranges[-1][key] == v for key, v in row.items()):
            ranges[-1]["to"] = 2 ** k
        else:
            ranges.append({"from": 2 ** k, "to": 2 ** k, **row})
        k += 1
    return ranges


def describe_bound(c):
    parts = []
    if c["declared_ulp"] is not None:
        parts.append(f"declared {fmt_ulp(c['declared_ulp'])} ULP")
    if c.get("rel_other") is not None:
        parts.append(f"rel {c['rel_other']:.2g} at other gamma")
    if c["measured_ulp"] is not None:
        parts.append(f"measured max {fmt_ulp(c['measured_ulp'])} ULP")
    return ", ".join(parts) or "unknown"


def format_choice(result):
    """Human-readable text for one choose() result."""
    n, chosen, lines = result["n"], result["chosen"], []
    lines.append(f"{result['bench_op']}, {result['layout']} layout, {result.get('dtype', 'fp32')} logits, "
                 f"n = {n} ({log2_text(n)}), "
                 f"accuracy required: <= {fmt_ulp(result['max_ulp'])} ULP (loss and gradient)")
    lines.append(f"results: {result['run']}")
    if result.get("data") == "host":
        lines.append("data on the host: each GPU kernel's time includes the host<->device transfers")
    if chosen is None:
        lines.append("no kernel meets the bound; candidates:")
    else:
        t = f" with {chosen['threads']} threads" if chosen["threads"] else ""
        lines.append(f"choose: {chosen['kernel']}")
        lines.append(f"  throughput: {fmt_g(chosen['items_per_second'] / 1e9)} G logits/s{t}; "
                     f"{chosen['how']}")
        lines.append(f"  error bound: {describe_bound(chosen)}")
        ru = result["runner_up"]
        if ru is None:
            lines.append("runner-up: none (only one kernel was benchmarked)")
        else:
            lines.append(f"runner-up: {ru['kernel']}: {fmt_g(ru['items_per_second'] / 1e9)} G logits/s, "
                         f"{describe_bound(ru)}; lost because {ru['lost']}")
        lines.append("all kernels at this size:")
    for c in result["ranking"]:
        verdict = "meets the bound" if c["ok"] else c["reason"]
        lines.append(f"  {c['kernel']:<14} {fmt_g(c['items_per_second'] / 1e9):>7} G/s  {verdict}")
    sizes = result.get("by_size")
    if sizes and any(r["gpu"] for r in sizes) and not all(r["gpu"] for r in sizes):
        lines.append("best kernel by size (CPU<->GPU crossover" +
                     (", transfers counted):" if result.get("data") == "host" else ", data already on each device):"))
        for r in sizes:
            where = ("no kernel meets the bound" if r["kernel"] is None else
                     f"{r['kernel']} ({'GPU' if r['gpu'] else 'CPU'})" +
                     (", beyond its measured sizes" if r["extrapolated"] else ""))
            span = fmt_n(r["from"]) if r["from"] == r["to"] else f"{fmt_n(r['from'])}..{fmt_n(r['to'])}"
            lines.append(f"  n = {span}: {where}")
    return "\n".join(lines)
