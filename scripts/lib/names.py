"""The names the scripts share: files in a run directory, benchmark names, layout words, peers.

Benchmark names and layout words are defined for the benchmarks in bench/names.hpp; this module
reads them (scripts/tests checks it against focal-bench --benchmark_list_tests). Every script
finds a run's files through FILES and peer_file() here, never by spelling a name itself."""

from __future__ import annotations

import re

# Files in results/<machine-id>/<YYYY-MM-DD>-<rev>/, written by scripts/run and scripts/device-check.
FILES = {
    "bench": "bench.json",          # focal-bench, Google Benchmark JSON
    "verify": "verify.json",        # focal-verify --json
    "meta": "meta.json",            # scripts/run: what ran, how long, what was skipped
    "kernels": "kernels.txt",       # focal-eval --list
    "imbalance": "imbalance.json",  # scripts/lib/imbalance.py
    "summary": "summary.md",
    "run_log": "run.log",
    "verify_log": "verify.log",     # focal-verify's output
    "bench_log": "bench.log",       # focal-bench's console output
    "throughput_png": "throughput.png",
    "error_png": "error_vs_x.png",
    "device_summary": "summary.txt",   # scripts/device-check's last table
    "build_log": "build.log",          # scripts/device-check: the build (or the carried stage)
    "tests_log": "tests.log",          # scripts/device-check: kernel list, tests, memcheck, determinism
    "python_op": "python_op_cpu.json",  # scripts/peer_op.py: the torch op vs torchvision, from Python
    "half_peer_cpu": "half_peer_cpu.md",   # verify/peer/torch_half_peer.py: half tensors at extreme p_t
    "half_peer_cuda": "half_peer_cuda.md",
}
# The line scripts/device-check writes into tests.log before its determinism step; the summary
# reads the sums after the last one (the staged tests before it print sums of other seeds).
DETERMINISM_MARKER = "== determinism: the sums below are this step's"
PEER_TOOLS = ("torch", "jax")
DEVICES = ("cpu", "cuda")


def peer_file(tool, device):
    """peer_<tool>_<device>.json: a peer's Google-Benchmark-shaped JSON (scripts/peer_*.py)."""
    if tool not in PEER_TOOLS or device not in DEVICES:
        raise ValueError(f"unknown peer {tool}/{device}")
    return f"peer_{tool}_{device}.json"


PEER_FILE_RE = re.compile(r"^peer_(torch|jax)_(cpu|cuda)\.json$")

# Ops and layouts (bench/names.hpp).
OP_SUM, OP_GRAD = "focal_sum", "focal_grad"
OPS = (OP_SUM, OP_GRAD)
LAYOUTS = ("dense", "soft", "labels_c80", "dense_fp16", "dense_bf16", "labels_c80_fp16",
           "labels_c80_bf16")
DTYPES = ("fp32", "fp16", "bf16")   # the logits' type: fp32, or a half layout's suffix
PROBES_CPU = ("probe_read", "probe_copy")
PROBES_CUDA = ("probe_cuda_read", "probe_cuda_copy")
# Host <-> device transfers (pinned): the dense input's 5n bytes up, an fp32 gradient's 4n down.
PROBE_H2D, PROBE_D2H = "probe_cuda_h2d", "probe_cuda_d2h"
PROBES = PROBES_CPU + PROBES_CUDA + (PROBE_H2D, PROBE_D2H)
ARG_N, ARG_THREADS = "n", "threads"
COUNTER_FRAC_READ, COUNTER_FRAC_COPY = "frac_read", "frac_copy"
COUNTER_BYTES_PER_LOGIT = "bytes_per_logit"

# The peers' "kernel" names in their benchmark names (focal_sum/torch_eager/dense/n:1024/threads:2).
PEER_KERNELS = {"torch_eager": "PyTorch eager (torchvision)",
                "torch_compile": "PyTorch torch.compile",
                "jax_jit": "JAX optax, jit"}

# Recorded runs before bench/names.hpp spelled the layouts per backend; read them as today's.
_OLD_LAYOUTS = {"dense_u8": "dense", "soft_f32": "soft"}
_MODIFIERS = {"manual_time", "real_time", "process_time"}
MAX_N = 2 ** 40   # larger is not a logit count any benchmark here runs


def on_gpu(name):
    """Whether a kernel or probe name is a CUDA one (bench/names.hpp: CUDA kernels are named
    cuda_*, their probes probe_cuda_*)."""
    return name.startswith("cuda") or name.startswith("probe_cuda")


def layout_kind(layout):
    """'labels_c80' -> 'labels', 'dense_fp16' -> 'dense' (what choose-kernel's --layout takes)."""
    if layout.startswith("labels"):
        return "labels"
    return layout.rsplit("_", 1)[0] if layout_dtype(layout) != "fp32" else layout


def layout_dtype(layout):
    """The logits' type of a layout word: 'dense_bf16' -> 'bf16', 'labels_c80' -> 'fp32'."""
    suffix = layout.rsplit("_", 1)[-1]
    return suffix if suffix in DTYPES[1:] else "fp32"


def bench_name(op, kernel, layout, n, threads=None):
    """The benchmark name focal-bench gives (without Google Benchmark's /real_time suffix)."""
    name = f"{op}/{kernel}/{layout}/{ARG_N}:{n}"
    return name if threads is None else f"{name}/{ARG_THREADS}:{threads}"


def _int(text):
    if not re.fullmatch(r"[0-9]{1,15}", text):
        return None
    v = int(text)
    return v if 0 < v <= MAX_N else None


def parse_bench_name(name):
    """'focal_sum/avx512/dense/n:16777216/threads:2/real_time' -> (op, kernel, layout, n, threads);
    probes give (probe, probe, '', n, None). None for a name that is not ours (or an n that is
    not a positive count up to 2^40)."""
    if not isinstance(name, str):
        return None
    core, args = [], {}
    for part in name.split("/"):
        if part in _MODIFIERS:
            continue
        key, sep, value = part.partition(":")
        if sep:
            args[key] = value
        else:
            core.append(part)
    # Older runs: n positional ("focal_sum/avx512/dense/1024").
    if ARG_N not in args and core and core[-1].isdigit():
        args[ARG_N] = core.pop()
    n = _int(args.get(ARG_N, ""))
    threads = _int(args[ARG_THREADS]) if ARG_THREADS in args else None
    if n is None or (ARG_THREADS in args and threads is None):
        return None
    if len(core) == 1 and core[0].startswith("probe_"):
        return core[0], core[0], "", n, threads
    if len(core) == 3 and core[0] in OPS:
        layout = _OLD_LAYOUTS.get(core[2], core[2])
        return core[0], core[1], layout, n, threads
    return None
