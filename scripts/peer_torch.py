#!/usr/bin/env python3
"""The PyTorch peer: times torchvision.ops.sigmoid_focal_loss on the same sizes as focal-bench.

  peer_torch.py --device cpu|cuda [--sizes 10,16,20,24] [--gamma 2] [--alpha 0.25]
                [--compile] [--repeat K] [--threads T] --json FILE

Ops: "sum" = sigmoid_focal_loss(x, t, alpha, gamma, reduction="sum"); "grad" = the same plus
backward() to d loss / d x (what a training step pays). Inputs: fresh random fp32 logits shaped
like RetinaNet's (prior bias -log(99) plus unit noise) and float targets with 1 positive per 1000.
--sizes are log2 of the number of logits. Each (impl, op, n) is timed --repeat times after a
warm-up; the median is reported. CUDA: synchronized, timed with CUDA events. torch.compile is
tried with --compile when this torch has it (torch 1.13 has not: reported "unavailable").
Without torch/torchvision it writes {"skipped": reason} and exits 0."""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time


def parse_sizes(text):
    try:
        ks = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated log2 sizes like 10,16,20,24, got '{text}'")
    if not ks or any(k < 0 or k > 31 for k in ks):
        raise argparse.ArgumentTypeError(f"expected log2 sizes in 0..31, got '{text}'")
    return ks


def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", required=True, choices=("cpu", "cuda"))
    ap.add_argument("--sizes", type=parse_sizes, default=[10, 16, 20, 24],
                    help="log2 of the number of logits, comma-separated (default 10,16,20,24)")
    ap.add_argument("--gamma", type=float, default=2.0)
    ap.add_argument("--alpha", type=float, default=0.25)
    ap.add_argument("--compile", action="store_true", help="also time torch.compile of the op")
    ap.add_argument("--repeat", type=int, default=5, help="timed repetitions per point (median)")
    ap.add_argument("--min-seconds", type=float, default=0.05,
                    help="each repetition loops the op until it has run this long (small n)")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads (CPU); default: torch's own")
    ap.add_argument("--json", required=True, metavar="FILE")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat: expected a positive integer")
    if not (args.gamma >= 0) or not (args.alpha <= 1):
        ap.error("--gamma must be >= 0 and --alpha <= 1 (alpha < 0 disables balancing)")

    try:
        import torch
        import torchvision
        from torchvision.ops import sigmoid_focal_loss
    except Exception as e:  # ImportError, or a broken install raising something else
        reason = f"torch/torchvision not importable with {sys.executable}: {e}"
        print(f"peer_torch: skipped: {reason}", file=sys.stderr)
        write(args.json, {"device": args.device, "skipped": reason, "results": []})
        return 0

    if args.device == "cuda" and not torch.cuda.is_available():
        reason = f"torch {torch.__version__} sees no CUDA device"
        print(f"peer_torch: skipped: {reason}", file=sys.stderr)
        write(args.json, {"device": "cuda", "skipped": reason, "results": []})
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    gen = torch.Generator(device="cpu")
    seed = int(os.environ.get("FOCAL_SEED", "0")) or int(time.time())
    gen.manual_seed(seed)

    def inputs(n):
        # Generated on the CPU (same generator on both devices), then moved.
        x = torch.randn(n, generator=gen) - math.log(99.0)
        t = (torch.rand(n, generator=gen) < 0.001).float()
        return x.to(device), t.to(device)

    def op_sum(x, t):
        return sigmoid_focal_loss(x, t, alpha=args.alpha, gamma=args.gamma, reduction="sum")

    def op_grad(x, t):
        x.grad = None
        loss = sigmoid_focal_loss(x, t, alpha=args.alpha, gamma=args.gamma, reduction="sum")
        loss.backward()
        return loss

    impls = {"eager": {"sum": op_sum, "grad": op_grad}}
    compile_status = "not requested"
    if args.compile:
        if not hasattr(torch, "compile"):
            compile_status = f"unavailable: torch {torch.__version__} has no torch.compile"
        else:
            try:
                c_sum = torch.compile(op_sum)
                c_loss = torch.compile(
                    lambda x, t: sigmoid_focal_loss(x, t, alpha=args.alpha, gamma=args.gamma, reduction="sum"))

                def c_grad(x, t):
                    x.grad = None
                    loss = c_loss(x, t)
                    loss.backward()
                    return loss

                x, t = inputs(1024)
                c_sum(x, t)
                c_grad(x.requires_grad_(True), t)
                impls["compile"] = {"sum": c_sum, "grad": c_grad}
                compile_status = "ok"
            except Exception as e:  # a compiler backend missing on this machine, etc.
                compile_status = f"unavailable: torch.compile failed: {type(e).__name__}: {str(e)[:200]}"
    if args.compile:
        print(f"peer_torch: torch.compile: {compile_status}", file=sys.stderr)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def time_once(fn, x, t, loops):
        """Seconds per call, over `loops` calls."""
        if device.type == "cuda":
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(loops):
                fn(x, t)
            stop.record()
            stop.synchronize()
            return start.elapsed_time(stop) / 1e3 / loops
        t0 = time.perf_counter()
        for _ in range(loops):
            fn(x, t)
        return (time.perf_counter() - t0) / loops

    results = []
    for k in args.sizes:
        n = 2 ** k
        x, t = inputs(n)
        for impl, fns in impls.items():
            for op, fn in fns.items():
                xi = x.detach().clone().requires_grad_(op == "grad")
                with torch.no_grad() if op == "sum" else torch.enable_grad():
                    fn(xi, t)          # warm-up (allocator, kernels, lazy init)
                    sync()
                    one = time_once(fn, xi, t, 1)
                    loops = max(1, min(10000, int(args.min_seconds / max(one, 1e-9))))
                    times = [time_once(fn, xi, t, loops) for _ in range(args.repeat)]
                med = statistics.median(times)
                results.append({"impl": impl, "op": op, "n": n, "seconds_median": med,
                                "items_per_second": n / med, "repeat": args.repeat, "loops": loops})
                print(f"peer_torch: {args.device} {impl:<7} {op:<4} n=2^{k:<2} "
                      f"{n / med / 1e9:.4f} G logits/s ({med * 1e3:.3f} ms)", file=sys.stderr)
        del x, t
        if device.type == "cuda":
            torch.cuda.empty_cache()

    out = {"device": args.device, "torch": torch.__version__, "torchvision": torchvision.__version__,
           "threads": torch.get_num_threads(), "gamma": args.gamma, "alpha": args.alpha, "seed": seed,
           "compile": compile_status, "results": results}
    if device.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(0)
    write(args.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
