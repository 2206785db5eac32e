#!/usr/bin/env python3
"""The PyTorch peers: torchvision.ops.sigmoid_focal_loss eager ("torch_eager") and, with
--compile, under torch.compile ("torch_compile"), timed on the same sizes and thread counts as
focal-bench, written as Google Benchmark JSON (scripts/lib/peer_common.py has the names).

  peer_torch.py [--device cpu|cuda] [--sizes 10,16,20,24] [--threads 1,2] [--compile]
                [--gamma 2] [--alpha 0.25] [--repeat 5] --json FILE

sum = sigmoid_focal_loss(x, t, alpha, gamma, reduction="sum"); grad = the same plus backward()
to d loss / d x (what a training step pays). Inputs: fresh random fp32 logits shaped like
RetinaNet's (prior bias -log(99) plus unit noise), float targets with 1 positive per 1000. CUDA:
timed with synchronisation after each repetition. torch.compile needs PyTorch 2 (Debian's 1.13
has none: recorded as unavailable in the context). Without torch/torchvision it records the skip
and exits 0."""

from __future__ import annotations

import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import peer_common as pc  # noqa: E402
from names import OP_GRAD, OP_SUM  # noqa: E402

PROG = "peer_torch"


def main(argv=None):
    ap = pc.parser(PROG, __doc__.split("\n\n")[0], devices=("cpu", "cuda"))
    ap.add_argument("--compile", action="store_true", help="also time torch.compile of the op")
    args = pc.parse_args(ap, argv)
    rc = pc.per_thread_count(PROG, args, argv)
    if rc is not None:
        return rc
    try:
        import torch
        import torchvision
        from torchvision.ops import sigmoid_focal_loss
    except Exception as e:  # ImportError, or a broken install raising something else
        return pc.skip(args.json, PROG, f"torch/torchvision not importable with {sys.executable}: {e}")
    if args.device == "cuda" and not torch.cuda.is_available():
        return pc.skip(args.json, PROG, f"torch {torch.__version__} sees no CUDA device")
    device = torch.device(args.device)
    gen = torch.Generator(device="cpu")
    seed = int(os.environ.get("FOCAL_SEED", "0")) or int(time.time())
    gen.manual_seed(seed)

    def inputs(n):
        # Generated on the CPU (same generator on both devices), then moved.
        x = torch.randn(n, generator=gen) - math.log(99.0)
        t = (torch.rand(n, generator=gen) < 0.001).float()
        return x.to(device), t.to(device)

    def loss(x, t):
        return sigmoid_focal_loss(x, t, alpha=args.alpha, gamma=args.gamma, reduction="sum")

    def ops_for(loss_fn):
        def op_sum(x, t):
            with torch.no_grad():
                return loss_fn(x, t)

        def op_grad(x, t):
            xg = x.detach().requires_grad_(True)
            out = loss_fn(xg, t)
            out.backward()
            return xg.grad
        return {OP_SUM: op_sum, OP_GRAD: op_grad}

    impls = {"torch_eager": ops_for(loss)}
    compile_status = "not requested"
    if args.compile:
        if not hasattr(torch, "compile"):
            compile_status = f"unavailable: torch {torch.__version__} has no torch.compile"
        else:
            try:
                ops = ops_for(torch.compile(loss))
                x, t = inputs(1024)
                ops[OP_SUM](x, t)
                ops[OP_GRAD](x, t)
                impls["torch_compile"] = ops
                compile_status = "ok"
            except Exception as e:  # a compiler backend missing on this machine, etc.
                compile_status = f"unavailable: torch.compile failed: {type(e).__name__}: {str(e)[:200]}"
        print(f"{PROG}: torch.compile: {compile_status}", file=sys.stderr)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    benchmarks = pc.run_points(PROG, args, impls, inputs, torch.set_num_threads, sync, args.device)
    extra = {"peer_torch": torch.__version__, "peer_torchvision": torchvision.__version__,
             "peer_device": args.device, "peer_gamma": args.gamma, "peer_alpha": args.alpha,
             "peer_seed": seed, "peer_torch_compile": compile_status}
    if device.type == "cuda":
        extra["peer_gpu"] = torch.cuda.get_device_name(0)
    return pc.write(args.json, PROG, pc.context(extra), benchmarks)


if __name__ == "__main__":
    sys.exit(main())
