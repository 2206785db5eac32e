"""The kernel chooser: the fastest kernel that meets an accuracy bound at a size, from one
recorded run (bench.json for speed, verify.json for accuracy). Used by scripts/choose-kernel
and by the recommendation in summary.md."""

from __future__ import annotations

import math

from names import DTYPES, layout_dtype
from results import ResultsError, fmt_g, fmt_n, fmt_ulp, layout_kind, measured_max_ulp, number

OPS = {"sum": "focal_sum", "grad": "focal_grad"}
LAYOUTS = ("dense", "labels", "soft")
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


def choose(run, n, op="sum", layout="dense", max_ulp=DEFAULT_MAX_ULP, dtype="fp32"):
    """Ranks every benchmarked kernel at n for logits of `dtype` (fp32, fp16, bf16). Returns a
    dict with 'chosen', 'runner_up' and 'ranking' (list of candidate dicts, fastest first)."""
    if op not in OPS:
        raise ResultsError(f"unknown op '{op}': expected one of {', '.join(OPS)}")
    if layout not in LAYOUTS:
        raise ResultsError(f"unknown layout '{layout}': expected one of {', '.join(LAYOUTS)}")
    if dtype not in DTYPES:
        raise ResultsError(f"unknown dtype '{dtype}': expected one of {', '.join(DTYPES)}")
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
        threads = max((m.threads or 0) for m in ms) or None
        bound = (entries.get(kernel) or {}).get("bound") or {}
        ranking.append({"kernel": kernel, "layout": bench_layout, "items_per_second": ips,
                        "how": how, "ok": ok, "reason": reason, "declared_ulp": declared,
                        "rel_other": bound.get("rel_other"), "measured_ulp": measured,
                        "threads": threads,
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
            "dtype": dtype, "max_ulp": max_ulp, "chosen": chosen, "runner_up": runner_up, "ranking": ranking}


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
    return "\n".join(lines)
