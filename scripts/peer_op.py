#!/usr/bin/env python3
"""The PyTorch op from Python: focal_kernels.torch.sigmoid_focal_loss against torchvision's
sigmoid_focal_loss (eager, and torch.compile'd when this torch has it), written as Google
Benchmark JSON so the results reader takes it like focal-bench's output.

  peer_op.py --json FILE [--device cpu|cuda] [--sizes 12,24] [--repeat 3] [--min-seconds 0.05]
             [--threads T] [--no-compile]

Names: peer_<op>/<impl>/<layout>/<n>, op sum (reduction="sum") or grad (sum + backward to
d loss / d x), impl focal_op | torchvision_eager | torchvision_compile, layout soft (fp32 0/1
targets, as torchvision's users pass them) or dense (uint8 targets: the op's binary fast path;
focal_op only). 2^12 shows the binding's per-call overhead, 2^24 the throughput. Each
repetition loops the call for --min-seconds; per-repetition rows plus a _median aggregate, time
in ns per call, items_per_second = logits per second. Needs the package installed
(pip install .); without torch/torchvision/focal_kernels it writes {"skipped": reason} and
exits 0."""

import argparse
import datetime
import json
import math
import os
import socket
import statistics
import sys
import time


def parse_sizes(text):
    try:
        ks = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated log2 sizes like 12,24, got '{text}'")
    if not ks or any(k < 0 or k > 30 for k in ks):
        raise argparse.ArgumentTypeError(f"expected log2 sizes in 0..30, got '{text}'")
    return ks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", required=True, metavar="FILE")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--sizes", type=parse_sizes, default=[12, 24], help="log2 of the number of logits")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions per benchmark (median reported)")
    ap.add_argument("--min-seconds", type=float, default=0.05, help="each repetition loops this long")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads (CPU)")
    ap.add_argument("--no-compile", action="store_true", help="skip torch.compile of torchvision's function")
    args = ap.parse_args()
    if args.repeat < 1 or not args.min_seconds > 0:
        ap.error("--repeat must be >= 1 and --min-seconds > 0")

    def write(obj):
        with open(args.json, "w") as f:
            json.dump(obj, f, indent=1)

    try:
        import torch
        from torchvision.ops import sigmoid_focal_loss as tv_loss
        from focal_kernels.torch import sigmoid_focal_loss as focal_loss
    except Exception as e:  # ImportError, or a broken install raising something else
        reason = f"torch/torchvision/focal_kernels not importable with {sys.executable}: {e}"
        print(f"peer_op: skipped: {reason}", file=sys.stderr)
        write({"skipped": reason, "context": {}, "benchmarks": []})
        return 0
    if args.device == "cuda" and not torch.cuda.is_available():
        reason = f"torch {torch.__version__} sees no CUDA device"
        print(f"peer_op: skipped: {reason}", file=sys.stderr)
        write({"skipped": reason, "context": {}, "benchmarks": []})
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    seed = int(os.environ.get("FOCAL_SEED", "0")) or int(time.time())
    gen = torch.Generator().manual_seed(seed)

    impls = {"focal_op": focal_loss, "torchvision_eager": tv_loss}
    compile_status = "not requested" if args.no_compile else "ok"
    if not args.no_compile:
        if not hasattr(torch, "compile"):
            compile_status = f"unavailable: torch {torch.__version__} has no torch.compile"
        else:
            try:
                compiled = torch.compile(tv_loss)
                x = torch.randn(1024, device=device, requires_grad=True)
                compiled(x, torch.zeros(1024, device=device), reduction="sum").backward()
                impls["torchvision_compile"] = compiled
            except Exception as e:  # no C++ toolchain for inductor, etc.
                compile_status = f"unavailable: {type(e).__name__}: {str(e)[:200]}"
        print(f"peer_op: torch.compile: {compile_status}", file=sys.stderr)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def per_call(fn, x, t, op, loops):
        sync()
        t0 = time.perf_counter()
        for _ in range(loops):
            if op == "grad":
                x.grad = None
                fn(x, t, reduction="sum").backward()
            else:
                fn(x, t, reduction="sum")
        sync()
        return (time.perf_counter() - t0) / loops

    rows = []
    for k in args.sizes:
        n = 2 ** k
        # RetinaNet-like logits (prior bias -log(99)) and 1 positive per 1000.
        x0 = (torch.randn(n, generator=gen) - math.log(99.0)).to(device)
        t_soft = (torch.rand(n, generator=gen) < 0.001).float().to(device)
        layouts = {"soft": t_soft, "dense": t_soft.to(torch.uint8)}
        for impl, fn in impls.items():
            for layout, t in layouts.items():
                if layout == "dense" and impl != "focal_op":
                    continue  # torchvision needs float targets
                for op in ("sum", "grad"):
                    x = x0.clone().requires_grad_(op == "grad")
                    with torch.no_grad() if op == "sum" else torch.enable_grad():
                        one = per_call(fn, x, t, op, 1)  # warm-up
                        loops = max(1, min(100000, int(args.min_seconds / max(one, 1e-9))))
                        times = [per_call(fn, x, t, op, loops) for _ in range(args.repeat)]
                    name = f"peer_{op}/{impl}/{layout}/{n}"
                    for i, s in enumerate(times):
                        rows.append({"name": name, "run_name": name, "run_type": "iteration",
                                     "repetitions": args.repeat, "repetition_index": i, "threads": 1,
                                     "iterations": loops, "real_time": s * 1e9, "cpu_time": s * 1e9,
                                     "time_unit": "ns", "items_per_second": n / s})
                    med = statistics.median(times)
                    rows.append({"name": name + "_median", "run_name": name, "run_type": "aggregate",
                                 "repetitions": args.repeat, "threads": 1, "aggregate_name": "median",
                                 "aggregate_unit": "time", "iterations": loops, "real_time": med * 1e9,
                                 "cpu_time": med * 1e9, "time_unit": "ns", "items_per_second": n / med})
                    print(f"peer_op: {name:<44} {n / med / 1e9:8.4f} G logits/s  {med * 1e6:12.1f} us",
                          file=sys.stderr)

    context = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "host_name": socket.gethostname(), "executable": os.path.abspath(__file__),
               "num_cpus": os.cpu_count(), "library_build_type": "release", "device": args.device,
               "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
               "torchvision": __import__("torchvision").__version__, "focal_kernel":
               torch.ops.focal_kernels.best_kernel(), "compile": compile_status, "seed": seed}
    write({"context": context, "benchmarks": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
