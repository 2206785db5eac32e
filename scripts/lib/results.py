"""Loading recorded runs: results/<machine-id>/<YYYY-MM-DD>-<rev>/ with bench.json (Google
Benchmark 1.7 JSON from focal-bench), verify.json (focal-verify), peer_cpu.json / peer_cuda.json
(scripts/peer_torch.py). Stdlib only, so choose-kernel and compare run without matplotlib.

Parsing is deliberately forgiving about what focal-bench adds (extra counters, /threads:k,
/manual_time, repetitions) and strict about what it needs (op, kernel, layout, n, items/s)."""

from __future__ import annotations

import json
import math
import os
import re
import statistics
from dataclasses import dataclass, field

RUN_DIR_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[-_T].*)?$")


class ResultsError(Exception):
    """A problem with recorded results the user can fix; the message says how."""


@dataclass
class Measurement:
    op: str                 # "focal_sum", "focal_grad", or a probe ("probe_read", ...)
    kernel: str             # kernel name; for probes the probe name
    layout: str             # "dense", "labels_c80", "soft"; "" for probes
    n: int                  # logits per call (probes: elements as the bench counts them)
    threads: int | None     # from "/threads:k" when present
    items_per_second: float
    gbps: float | None      # decimal GB/s, from whichever counter the bench reports
    seconds: float | None   # time per iteration
    name: str               # the benchmark's own name

    @property
    def label(self):
        """Kernel name, with the thread count when the bench swept several."""
        return self.kernel if self.threads is None else f"{self.kernel}@{self.threads}t"

    @property
    def gitems(self):
        return self.items_per_second / 1e9


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file")
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not valid JSON ({e})")


_MODIFIERS = {"manual_time", "real_time", "process_time"}
_TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def parse_bench_name(name):
    """'focal_sum/avx512/dense/16777216/threads:2/manual_time' ->
    (op, kernel, layout, n, threads); None for names we do not understand."""
    core, threads = [], None
    for part in name.split("/"):
        if part in _MODIFIERS:
            continue
        if ":" in part:
            key, _, value = part.partition(":")
            if key == "threads" and value.isdigit():
                threads = int(value)
            continue
        core.append(part)
    if not core:
        return None
    op = core[0]
    if op.startswith("probe_") and len(core) >= 2 and core[1].isdigit():
        return op, op, "", int(core[1]), threads
    if op in ("focal_sum", "focal_grad") and len(core) >= 4 and core[3].isdigit():
        return op, core[1], core[2], int(core[3]), threads
    return None


def _gbps(entry):
    """The decimal GB/s figure, whatever the bench named it."""
    for key, value in entry.items():
        if not isinstance(value, (int, float)) or key in ("bytes_per_second",):
            continue
        k = key.lower().replace(" ", "")
        if k in ("gb/s", "gbps", "gb_per_s", "gb_s", "gbytes_per_second", "bandwidth_gbps") or \
           (k.startswith("gb") and k.endswith("/s")):
            return float(value)
    if isinstance(entry.get("bytes_per_second"), (int, float)):
        return entry["bytes_per_second"] / 1e9
    return None


def load_bench(path):
    """Measurements from a focal-bench JSON file, plus its context. Repetitions: the median
    aggregate when present, else the median of the iterations."""
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ResultsError(f"{path}: not a Google Benchmark JSON file (no 'benchmarks' list)")
    groups = {}
    for e in data["benchmarks"]:
        if not isinstance(e, dict) or e.get("error_occurred"):
            continue
        run_type = e.get("run_type", "iteration")
        if run_type == "aggregate" and e.get("aggregate_name") != "median":
            continue
        name = e.get("run_name") or e.get("name", "")
        parsed = parse_bench_name(name)
        ips = e.get("items_per_second")
        if parsed is None or not isinstance(ips, (int, float)) or ips <= 0:
            continue
        unit = _TIME_UNITS.get(e.get("time_unit", "ns"), 1e-9)
        seconds = e.get("real_time")
        m = Measurement(*parsed, items_per_second=float(ips), gbps=_gbps(e),
                        seconds=seconds * unit if isinstance(seconds, (int, float)) else None,
                        name=name)
        groups.setdefault(name, {"median": [], "iteration": []})
        groups[name]["median" if run_type == "aggregate" else "iteration"].append(m)
    out = []
    for g in groups.values():
        if g["median"]:
            out.append(g["median"][0])
        else:
            runs = sorted(g["iteration"], key=lambda m: m.items_per_second)
            out.append(runs[len(runs) // 2])
    return out, data.get("context", {})


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


def load_verify(path):
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("kernels"), list):
        raise ResultsError(f"{path}: not a focal-verify JSON file (no 'kernels' list)")
    return data


def load_peer(path):
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: not a peer_torch JSON file")
    return data


# --- accuracy figures from verify.json ---------------------------------------------------------

ULP_GAMMAS = {0, 1, 2, 3, 4}   # where the kernels declare a ULP bound (elsewhere: relative)
LAYOUT_FAMILIES = {
    "dense": ("typical", "uniform", "extreme", "special"),
    "labels": ("labels", "typical", "extreme", "special"),
    "soft": ("soft",),
}


def layout_kind(layout):
    return "labels" if layout.startswith("labels") else layout


def _num(v):
    return float(v) if isinstance(v, (int, float)) else None


def measured_max_ulp(kernel_entry, layout="dense"):
    """Largest measured ULP error (loss and gradient) over the families that matter for a layout,
    at the gammas where a ULP bound is declared. None when nothing was measured. Soft targets:
    loss only (the soft gradient's bound is relative to its larger term, not ULP)."""
    families = LAYOUT_FAMILIES.get(layout_kind(layout), LAYOUT_FAMILIES["dense"])
    worst = None
    for fam in kernel_entry.get("families", []):
        if fam.get("family") not in families:
            continue
        gamma = fam.get("gamma")
        if isinstance(gamma, (int, float)) and gamma not in ULP_GAMMAS:
            continue
        parts = ("loss",) if fam.get("family") == "soft" else ("loss", "grad")
        for part in parts:
            v = _num((fam.get(part) or {}).get("max_ulp"))
            if v is not None:
                worst = v if worst is None else max(worst, v)
    return worst


def family_stats(kernel_entry, family, gamma=None):
    """Merged stats of one family over its gamma entries (or just `gamma`): max ULP of loss and
    gradient, max relative error, special-value failures, pass."""
    out = {"loss_ulp": None, "grad_ulp": None, "loss_rel": None, "special_failures": 0,
           "pass": None, "gammas": []}
    found = False
    for fam in kernel_entry.get("families", []):
        if fam.get("family") != family:
            continue
        if gamma is not None and fam.get("gamma") != gamma:
            continue
        found = True
        out["gammas"].append(fam.get("gamma"))
        for part, key in (("loss", "loss_ulp"), ("grad", "grad_ulp")):
            v = _num((fam.get(part) or {}).get("max_ulp"))
            if v is not None:
                out[key] = v if out[key] is None else max(out[key], v)
            out["special_failures"] += int((fam.get(part) or {}).get("special_failures") or 0)
        r = _num((fam.get("loss") or {}).get("max_rel"))
        if r is not None:
            out["loss_rel"] = r if out["loss_rel"] is None else max(out["loss_rel"], r)
        if "pass" in fam:
            out["pass"] = bool(fam["pass"]) and (out["pass"] is not False)
    return out if found else None


# --- finding runs ------------------------------------------------------------------------------

def repo_root():
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# File names in a run directory: scripts/run writes bench.json and peer_<device>.json;
# scripts/device-check (the GPU check) writes bench_cuda.json and peer_torch_cuda.json.
BENCH_FILES = ("bench.json", "bench_cuda.json")
PEER_FILES = {"cpu": ("peer_cpu.json", "peer_torch_cpu.json"),
              "cuda": ("peer_cuda.json", "peer_torch_cuda.json")}


def is_run_dir(path):
    return os.path.isdir(path) and any(
        os.path.isfile(os.path.join(path, f)) for f in BENCH_FILES + ("verify.json",))


def runs_of_machine(machine_dir):
    """Run directories of one machine, oldest first (names start with the date; ties by mtime)."""
    if not os.path.isdir(machine_dir):
        return []
    runs = [os.path.join(machine_dir, d) for d in os.listdir(machine_dir)
            if RUN_DIR_RE.match(d) and is_run_dir(os.path.join(machine_dir, d))]
    return sorted(runs, key=lambda p: (os.path.basename(p)[:10], _run_mtime(p), p))


def _run_mtime(path):
    meta = os.path.join(path, "meta.json")
    try:
        with open(meta) as f:
            return json.load(f).get("finished_unix", os.path.getmtime(path))
    except (OSError, ValueError):
        return os.path.getmtime(path)


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
    bench: list = field(default_factory=list)   # collapsed Measurements
    context: dict = field(default_factory=dict)
    verify: dict | None = None
    peers: dict = field(default_factory=dict)   # device -> peer JSON
    meta: dict = field(default_factory=dict)

    @property
    def label(self):
        return run_label(self.path)


def load_run(path, need_bench=False):
    if not os.path.isdir(path):
        raise ResultsError(f"{path}: no such directory")
    run = Run(path=path)
    measurements = []
    for name in BENCH_FILES:
        bench = os.path.join(path, name)
        if os.path.isfile(bench):
            ms, ctx = load_bench(bench)
            measurements += ms
            run.context = run.context or ctx
    run.bench = collapse_threads(measurements)
    if need_bench and not measurements:
        raise ResultsError(f"{path}: no focal-bench results ({' or '.join(BENCH_FILES)}) in this run")
    verify = os.path.join(path, "verify.json")
    if os.path.isfile(verify):
        run.verify = load_verify(verify)
    for device, names in PEER_FILES.items():
        for name in names:
            p = os.path.join(path, name)
            if os.path.isfile(p) and device not in run.peers:
                run.peers[device] = load_peer(p)
    meta = os.path.join(path, "meta.json")
    if os.path.isfile(meta):
        run.meta = _read_json(meta)
    return run


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
    if v == 0:
        return "0"
    if v >= 1e5 or math.isinf(v):
        return f"{v:.2g}"
    return f"{v:.3g}" if v < 10 else f"{v:.0f}"


def median(values):
    return statistics.median(values)
