"""The one reader of recorded runs: results/<machine-id>/<YYYY-MM-DD>-<rev>/ (file names in
names.py): bench.json (focal-bench, Google Benchmark JSON), peer_<tool>_<device>.json (the
peers, in the same shape), verify.json (focal-verify), meta.json (scripts/run). Stdlib only, so
choose-kernel and compare run without matplotlib.

Strict about types: a field of the wrong type, a non-finite or boolean number, a name that is
not a string is a ResultsError naming the file and the field (never a traceback, never a value
silently read as something else). Benchmarks that are not ours are ignored."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field

from jsonio import ResultsError, read_json
from names import (COUNTER_FRAC_COPY, COUNTER_FRAC_READ, FILES, PEER_FILE_RE, PEER_KERNELS,
                   layout_dtype, layout_kind, parse_bench_name)

__all__ = ["ResultsError", "layout_kind"]   # re-exported for the scripts

RUN_DIR_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[-_T].*)?$")
_TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def number(v):
    """v as a finite float, or None (bool, str, NaN, inf, an int beyond float's range and the rest
    are not numbers here)."""
    if type(v) is int:
        try:
            v = float(v)
        except OverflowError:   # JSON integers are unbounded
            return None
    if type(v) is float and math.isfinite(v):
        return v
    return None


def _expect(cond, path, where, what, value):
    if not cond:
        raise ResultsError(f"{path}: {where}: expected {what}, got {type(value).__name__} {value!r:.60}")


@dataclass
class Measurement:
    op: str                 # "focal_sum", "focal_grad", or a probe ("probe_read", ...)
    kernel: str             # kernel name (or peer: "torch_eager", ...); for probes the probe name
    layout: str             # "dense", "soft", "labels_c80"; "" for probes
    n: int                  # logits per call
    threads: int | None     # from "threads:k" when present
    items_per_second: float
    gbps: float | None      # decimal GB/s (bytes_per_second / 1e9)
    seconds: float | None   # time per iteration
    name: str               # the benchmark's own name (run_name)
    counters: dict = field(default_factory=dict)   # frac_read / frac_copy when present

    @property
    def label(self):
        """Kernel name, with the thread count when the bench swept several."""
        return self.kernel if self.threads is None else f"{self.kernel}@{self.threads}t"

    @property
    def gitems(self):
        return self.items_per_second / 1e9

    @property
    def is_peer(self):
        return self.kernel in PEER_KERNELS


def _entry(path, i, e, errors):
    """One Measurement from a benchmarks[] entry, or None when it is not ours / not a result
    (a benchmark that failed goes to `errors` as (name, message))."""
    where = f"benchmarks[{i}]"
    _expect(isinstance(e, dict), path, where, "an object", e)
    name = e.get("run_name", e.get("name"))
    _expect(isinstance(name, str), path, f"{where}.name", "a string", name)
    if e.get("error_occurred") is True:
        errors.append((name, str(e.get("error_message", "error"))))
        return None
    parsed = parse_bench_name(name)
    if parsed is None:
        return None
    ips = number(e.get("items_per_second"))
    _expect(ips is not None and ips > 0, path, f"{where}.items_per_second ({name})",
            "a finite positive number", e.get("items_per_second"))
    bps = e.get("bytes_per_second")
    if bps is not None:   # (checked before use: a string or null-like value is a clear error)
        _expect(number(bps) is not None and number(bps) > 0, path, f"{where}.bytes_per_second",
                "a finite positive number", bps)
    gbps = number(bps) / 1e9 if bps is not None else number(e.get("GB_per_s"))  # GB_per_s: old runs
    unit = e.get("time_unit", "ns")
    _expect(isinstance(unit, str) and unit in _TIME_UNITS, path, f"{where}.time_unit",
            "ns, us, ms or s", unit)
    t = number(e.get("real_time"))
    counters = {k: number(e[k]) for k in (COUNTER_FRAC_READ, COUNTER_FRAC_COPY) if number(e.get(k)) is not None}
    return Measurement(*parsed, items_per_second=ips, gbps=gbps,
                       seconds=t * _TIME_UNITS[unit] if t is not None else None, name=name,
                       counters=counters)


def load_bench(path, errors=None):
    """(measurements, context) from a Google Benchmark JSON file (focal-bench or a peer).
    Repetitions: the median aggregate when present, else the median of the repetitions.
    Benchmarks that reported an error are appended to `errors` (a list) as (name, message)."""
    errors = [] if errors is None else errors
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ResultsError(f"{path}: not a Google Benchmark JSON file (no 'benchmarks' list)")
    ctx = data.get("context", {})
    _expect(isinstance(ctx, dict), path, "context", "an object", ctx)
    groups = {}
    for i, e in enumerate(data["benchmarks"]):
        m = _entry(path, i, e, errors)
        if m is None:
            continue
        run_type = e.get("run_type", "iteration")
        if run_type == "aggregate" and e.get("aggregate_name") != "median":
            continue
        g = groups.setdefault(m.name, {"median": [], "iteration": []})
        g["median" if run_type == "aggregate" else "iteration"].append(m)
    out = []
    for g in groups.values():
        if g["median"]:
            out.append(g["median"][0])
        else:
            runs = sorted(g["iteration"], key=lambda m: m.items_per_second)
            out.append(runs[len(runs) // 2])
    return out, ctx


def collapse_threads(measurements):
    """One measurement per (op, kernel, layout, n): where the bench swept thread counts, keep the
    largest (what a user gets by default), remembering the count in .threads."""
    best = {}
    for m in measurements:
        key = (m.op, m.kernel, m.layout, m.n)
        old = best.get(key)
        if old is None or (m.threads or 0) > (old.threads or 0):
            best[key] = m
    return list(best.values())


def _legacy_peer(path, data):
    """Measurements from a peer_cpu.json of the old format (runs recorded before the peers wrote
    Google Benchmark JSON)."""
    out = []
    results = data.get("results", [])
    _expect(isinstance(results, list), path, "results", "a list", results)
    threads = data.get("threads") if type(data.get("threads")) is int else None
    for i, r in enumerate(results):
        _expect(isinstance(r, dict), path, f"results[{i}]", "an object", r)
        ips, n = number(r.get("items_per_second")), r.get("n")
        _expect(ips is not None and ips > 0, path, f"results[{i}].items_per_second",
                "a finite positive number", r.get("items_per_second"))
        _expect(type(n) is int and n > 0, path, f"results[{i}].n", "a positive integer", n)
        op = {"sum": "focal_sum", "grad": "focal_grad"}.get(r.get("op"))
        impl = f"torch_{r.get('impl')}"
        if op and impl in PEER_KERNELS:
            out.append(Measurement(op, impl, "dense", n, threads, ips, None, n / ips, impl))
    return out


# --- accuracy figures from verify.json ---------------------------------------------------------

ULP_GAMMAS = {0, 1, 2, 3, 4}   # where the kernels declare a ULP bound (elsewhere: relative)
LAYOUT_FAMILIES = {
    "dense": ("typical", "uniform", "extreme", "special"),
    "labels": ("labels", "typical", "extreme", "special"),
    "soft": ("soft",),
}


def _check_entry(path, where, k):
    """Types of one verify.json kernel (or peer) entry."""
    _expect(isinstance(k, dict), path, where, "an object", k)
    _expect(isinstance(k.get("name"), str), path, f"{where}.name", "a string", k.get("name"))
    bound = k.get("bound", {})
    _expect(isinstance(bound, dict), path, f"{where}.bound", "an object", bound)
    for key in ("ulp", "rel_other"):
        if key in bound:
            _expect(number(bound[key]) is not None, path, f"{where}.bound.{key}", "a finite number", bound[key])
    fams = k.get("families", [])
    _expect(isinstance(fams, list), path, f"{where}.families", "a list", fams)
    for j, f in enumerate(fams):
        fw = f"{where}.families[{j}]"
        _expect(isinstance(f, dict), path, fw, "an object", f)
        for part in ("loss", "grad"):
            p = f.get(part, {})
            _expect(isinstance(p, dict), path, f"{fw}.{part}", "an object", p)
            v = p.get("max_ulp")
            # null = unbounded (a 0/inf/NaN result for a finite truth): allowed, and never "meets"
            _expect(v is None or number(v) is not None, path, f"{fw}.{part}.max_ulp",
                    "a finite number or null", v)
        gh = f.get("grad_half")
        if gh is not None:   # half families: the gradient in the logits' dtype
            _expect(isinstance(gh, dict) and number(gh.get("max_half_ulp")) is not None, path,
                    f"{fw}.grad_half", "an object with a finite max_half_ulp", gh)
    for key in ("pass", "available"):
        if key in k:
            # focal-verify writes pass: null for a kernel it could not run (available: false)
            skipped = key == "pass" and k[key] is None and k.get("available") is False
            _expect(type(k[key]) is bool or skipped, path, f"{where}.{key}",
                    "true or false (null only where available is false)", k[key])


def load_verify(path):
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("kernels"), list):
        raise ResultsError(f"{path}: not a focal-verify JSON file (no 'kernels' list)")
    for i, k in enumerate(data["kernels"]):
        _check_entry(path, f"kernels[{i}]", k)
    if data.get("peer") is not None:
        _check_entry(path, "peer", data["peer"])
    return data


def half_family(dtype):
    """focal-verify's family of every half pattern of a dtype: 'fp16' -> 'half_fp16'."""
    return f"half_{dtype}"


def measured_max_ulp(kernel_entry, layout="dense", dtype="fp32"):
    """Largest measured ULP error (loss and gradient) over the families that matter for a layout,
    at the gammas where a ULP bound is declared; inf when an error was unbounded (null); None when
    nothing was measured. Soft targets: loss only (the soft gradient's bound is relative). Half
    logits (dtype fp16/bf16, or a half layout word): the layout's families plus focal-verify's
    family of every half pattern, which must be there (None otherwise)."""
    if dtype == "fp32":
        dtype = layout_dtype(layout)
    families = LAYOUT_FAMILIES.get(layout_kind(layout), LAYOUT_FAMILIES["dense"])
    if dtype != "fp32":
        if not any(f.get("family") == half_family(dtype) for f in kernel_entry.get("families", [])):
            return None
        families = families + (half_family(dtype),)
    worst = None
    for fam in kernel_entry.get("families", []):
        if fam.get("family") not in families:
            continue
        gamma = fam.get("gamma")
        if number(gamma) is not None and gamma not in ULP_GAMMAS:
            continue
        parts = ("loss",) if fam.get("family") == "soft" else ("loss", "grad")
        for part in parts:
            p = fam.get(part) or {}
            if "max_ulp" not in p:
                continue
            v = number(p["max_ulp"])
            v = math.inf if v is None else v
            worst = v if worst is None else max(worst, v)
    return worst


def family_stats(kernel_entry, family, gamma=None):
    """Merged stats of one family over its gamma entries (or just `gamma`): max ULP of loss and
    gradient, max relative error, special-value failures, pass; for the half families also the
    half gradient's max error in ULPs of the dtype (grad_half_ulp)."""
    out = {"loss_ulp": None, "grad_ulp": None, "loss_rel": None, "special_failures": 0,
           "pass": None, "gammas": []}
    found = False
    for fam in kernel_entry.get("families", []):
        if fam.get("family") != family or (gamma is not None and fam.get("gamma") != gamma):
            continue
        found = True
        out["gammas"].append(fam.get("gamma"))
        for part, key in (("loss", "loss_ulp"), ("grad", "grad_ulp")):
            v = number((fam.get(part) or {}).get("max_ulp"))
            if v is not None:
                out[key] = v if out[key] is None else max(out[key], v)
            out["special_failures"] += int(number((fam.get(part) or {}).get("special_failures")) or 0)
        h = number((fam.get("grad_half") or {}).get("max_half_ulp"))
        if h is not None:   # half families: the gradient in the logits' dtype
            out["grad_half_ulp"] = max(out.get("grad_half_ulp") or 0.0, h)
        r = number((fam.get("loss") or {}).get("max_rel"))
        if r is not None:
            out["loss_rel"] = r if out["loss_rel"] is None else max(out["loss_rel"], r)
        if "pass" in fam:
            out["pass"] = fam["pass"] is True and (out["pass"] is not False)
    return out if found else None


# --- finding runs ------------------------------------------------------------------------------

def repo_root():
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def is_run_dir(path):
    return os.path.isdir(path) and any(
        os.path.isfile(os.path.join(path, FILES[k])) for k in ("bench", "verify"))


def _run_mtime(path):
    try:
        meta = read_json(os.path.join(path, FILES["meta"]))
        t = number(meta.get("finished_unix")) if isinstance(meta, dict) else None
        return t if t is not None else os.path.getmtime(path)
    except (ResultsError, OSError):
        return os.path.getmtime(path)


def runs_of_machine(machine_dir):
    """Run directories of one machine, oldest first (names start with the date; ties by mtime)."""
    if not os.path.isdir(machine_dir):
        return []
    runs = [os.path.join(machine_dir, d) for d in os.listdir(machine_dir)
            if RUN_DIR_RE.match(d) and is_run_dir(os.path.join(machine_dir, d))]
    return sorted(runs, key=lambda p: (os.path.basename(p)[:10], _run_mtime(p), p))


def newest_run(machine_dir):
    runs = runs_of_machine(machine_dir)
    return runs[-1] if runs else None


def machine_dirs(results_root):
    if not os.path.isdir(results_root):
        return []
    return sorted(os.path.join(results_root, d) for d in os.listdir(results_root)
                  if os.path.isdir(os.path.join(results_root, d)) and
                  runs_of_machine(os.path.join(results_root, d)))


def run_label(run_dir):
    """'machine/run' for tables."""
    run_dir = os.path.normpath(run_dir)
    return f"{os.path.basename(os.path.dirname(run_dir))}/{os.path.basename(run_dir)}"


@dataclass
class Run:
    path: str
    bench: list = field(default_factory=list)   # kernels and probes, threads collapsed
    context: dict = field(default_factory=dict)
    verify: dict | None = None
    peers: dict = field(default_factory=dict)   # device -> [Measurement] (every thread count)
    peer_context: dict = field(default_factory=dict)   # device -> {tool: context}
    meta: dict = field(default_factory=dict)

    @property
    def label(self):
        return run_label(self.path)

    def peer(self, device, kernel, op, n, threads=None):
        """The peer's measurement at (op, n) and the thread count (None: the fewest measured)."""
        hits = [m for m in self.peers.get(device, [])
                if m.kernel == kernel and m.op == op and m.n == n and m.layout == "dense"]
        if threads is not None:
            hits = [m for m in hits if (m.threads or 1) == threads]
        return min(hits, key=lambda m: m.threads or 1, default=None)


def load_run(path, need_bench=False):
    if not os.path.isdir(path):
        raise ResultsError(f"{path}: no such directory")
    run = Run(path=path)
    bench = os.path.join(path, FILES["bench"])
    if os.path.isfile(bench):
        ms, run.context = load_bench(bench)
        run.bench = collapse_threads([m for m in ms if not m.is_peer])
    if need_bench and not run.bench:
        raise ResultsError(f"{path}: no focal-bench results ({FILES['bench']}) in this run")
    verify = os.path.join(path, FILES["verify"])
    if os.path.isfile(verify):
        run.verify = load_verify(verify)
    for f in sorted(os.listdir(path)):
        m = PEER_FILE_RE.match(f)
        if m:
            ms, ctx = load_bench(os.path.join(path, f))
            run.peers.setdefault(m.group(2), []).extend(x for x in ms if x.is_peer)
            run.peer_context.setdefault(m.group(2), {})[m.group(1)] = ctx
    legacy = os.path.join(path, "peer_cpu.json")   # runs recorded before the peers wrote GB JSON
    if os.path.isfile(legacy) and "cpu" not in run.peers:
        data = read_json(legacy)
        _expect(isinstance(data, dict), legacy, "top level", "an object", data)
        run.peers["cpu"] = _legacy_peer(legacy, data)
        run.peer_context["cpu"] = {"torch": {k: v for k, v in data.items() if k != "results"}}
    meta = os.path.join(path, FILES["meta"])
    if os.path.isfile(meta):
        run.meta = read_json(meta)
        _expect(isinstance(run.meta, dict), meta, "top level", "an object", run.meta)
    return run


# --- formatting --------------------------------------------------------------------------------

def fmt_n(n):
    """2^k for powers of two, else the number."""
    if n > 0 and n & (n - 1) == 0:
        return f"2^{n.bit_length() - 1}"
    return str(n)


def fmt_g(v):
    """G items/s with 3 significant digits."""
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:#.3g}"


def fmt_ulp(v):
    if v is None:
        return "—"
    if math.isinf(v):
        return "unbounded"
    if v == 0:
        return "0"
    if v >= 1e5:
        return f"{v:.2g}"
    return f"{v:.3g}" if v < 10 else f"{v:.0f}"


def fmt_ratio(a, b):
    """'12x' / '0.36x' for a / b, '—' when either is missing."""
    if not a or not b:
        return "—"
    r = a / b
    return f"{r:.0f}x" if r >= 10 else f"{r:.2g}x"
