#!/usr/bin/env python3
"""The half-precision peer row: torchvision.ops.sigmoid_focal_loss on fp16 / bf16 tensors (CPU
by default) at extreme p_t, beside this library (focal-eval --dtype) and the MPFR truth
(focal-reference), as one markdown table on stdout.

    verify/peer/torch_half_peer.py --bin BUILD/bin [--device cpu|cuda] [--kernel NAME]

Every logit used is exactly representable in both dtypes, so all three see the same input.
Loss: ours is fp32 (the library's per-element loss), torchvision's is in the tensor's dtype;
"exact" is the MPFR truth correctly rounded to fp32 (0 where even that underflows).
Gradient: both in the tensor's dtype (torch autograd; ours Outputs::grad_half). A peer error
(e.g. an op without a Half kernel on CPU) is recorded as such.
"""
import argparse
import math
import os
import signal
import subprocess
import sys

# (x, t): p_t -> 1 as |x| grows (easy examples: x > 0 with t = 1, x < 0 with t = 0).
CASES = [(x, 1) for x in (4, 8, 10, 12, 15, 16, 17, 20, 30, 50, 100, 1000)] + [
    (x, 0) for x in (-10, -17, -30, -100)
]
ALPHA, GAMMA = 0.25, 2.0


def run(cmd, lines):
    try:
        out = subprocess.run(cmd, input="".join(f"{x} {t}\n" for x, t in lines), text=True,
                             capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as e:
        sys.exit(f"torch_half_peer: {' '.join(cmd)} could not run: {e}")
    if out.returncode != 0:
        sys.exit(f"torch_half_peer: {' '.join(cmd)} failed: {out.stderr.strip()}")
    try:
        rows = [tuple(float(v) for v in line.split()) for line in out.stdout.splitlines()]
    except ValueError:
        rows = []
    if len(rows) != len(lines) or any(len(r) != 2 for r in rows):
        sys.exit(f"torch_half_peer: {' '.join(cmd)}: expected {len(lines)} lines 'loss grad', "
                 f"got: {out.stdout[:200]!r}")
    return rows


def torch_rows(dtype_name, device):
    try:
        import torch
        from torchvision.ops import sigmoid_focal_loss
    except ImportError as e:
        return None, f"not installed ({e})"
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[dtype_name]
    try:  # (a device this machine lacks, e.g. cuda without a GPU, is the peer's failure too)
        x = torch.tensor([c[0] for c in CASES], dtype=dtype, device=device, requires_grad=True)
        t = torch.tensor([c[1] for c in CASES], dtype=dtype, device=device)
        loss = sigmoid_focal_loss(x, t, alpha=ALPHA, gamma=GAMMA, reduction="none")
        loss.sum().backward()
    except Exception as e:  # noqa: BLE001 -- the peer's failure is the result
        return None, f"error: {str(e).splitlines()[0]}"
    return list(zip(loss.detach().float().tolist(), x.grad.float().tolist())), None


def verdict(got, exact):
    if got is None:
        return "—"
    if math.isnan(got):
        return "**NaN**"
    if exact != 0 and got == 0:
        return "**0**"
    rel = abs(got - exact) / abs(exact) if exact else abs(got)
    return f"{got:.3g}" + (f" (**{rel:.0%} off**)" if rel > 0.01 else "")


# (fraction bits, least normal exponent, largest finite) of each half dtype.
HALF_FORMATS = {"fp16": (10, -14, 65504.0), "bf16": (7, -126, (2 - 2 ** -7) * 2.0 ** 127)}


def in_dtype(v, dtype_name):
    """v rounded to nearest even in the dtype (overflow to inf), without torch (ours is
    checked whether or not torch is installed)."""
    frac, emin, largest = HALF_FORMATS[dtype_name]
    if v == 0 or not math.isfinite(v):
        return v
    q = 2.0 ** (max(math.frexp(v)[1] - 1, emin) - frac)   # the spacing of the dtype at v
    r = round(v / q) * q                                  # exact quotient; round() ties to even
    return math.copysign(math.inf, v) if abs(r) > largest else r


def grad_verdict(got, exact, d):
    """A gradient in dtype d against the exact one rounded to d (0 is right where it underflows)."""
    if got is None:
        return "—"
    want = in_dtype(exact, d)  # (got is read back from %.9g: equal to 1e-7)
    if got == want or abs(got - want) <= 1e-7 * abs(want):
        return f"{got:.3g} (= exact in {d})"
    return verdict(got, exact)


def kernel_arg(kernel):
    return f"--kernel {kernel}" if kernel else "(its best kernel)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="the build's bin/ (focal-eval, focal-reference)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--kernel", default="",
                    help="the focal kernel for our column (default: the one focal-eval dispatches to)")
    a = ap.parse_args()
    for tool in ("focal-reference", "focal-eval"):
        if not os.access(os.path.join(a.bin, tool), os.X_OK):
            ap.error(f"--bin {a.bin}: no executable {tool} there (expected the build's bin/)")
    try:
        import torch
        import torchvision
        peer = f"torchvision {torchvision.__version__} (torch {torch.__version__}, {a.device})"
    except ImportError as e:
        torch, peer = None, f"torchvision not installed ({e})"
    if torch is not None:
        try:
            torch.device(a.device)
        except (RuntimeError, ValueError) as e:
            ap.error(f"--device {a.device}: not a torch device ({str(e).splitlines()[0]})")
    truth = run([f"{a.bin}/focal-reference", "--alpha", str(ALPHA), "--gamma", str(GAMMA)], CASES)
    print(f"{peer}, alpha {ALPHA}, gamma {GAMMA}; ours: focal-eval {kernel_arg(a.kernel)} --dtype D\n")
    print("| dtype | x | t | exact loss | ours loss (fp32) | torchvision loss | exact grad "
          "| ours grad (dtype) | torchvision grad (dtype) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for d in ("fp16", "bf16"):
        ours = run([f"{a.bin}/focal-eval", *(["--kernel", a.kernel] if a.kernel else []), "--alpha",
                    str(ALPHA), "--gamma", str(GAMMA), "--dtype", d], CASES)
        peer, why = torch_rows(d, a.device)
        for i, (x, t) in enumerate(CASES):
            (tl, tg), (ol, og) = truth[i], ours[i]
            pl, pg = peer[i] if peer else (None, None)
            print(f"| {d} | {x} | {t} | {tl:.3g} | {verdict(ol, tl)} | "
                  f"{verdict(pl, tl) if peer else why} | {tg:.3g} | {grad_verdict(og, tg, d)} | "
                  f"{grad_verdict(pg, tg, d) if peer else '—'} |")


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # quiet when piped into head
    try:
        main()
        sys.stdout.flush()
    except OSError as e:   # the table cannot be written (a full disk): say so, exit 1
        print(f"torch_half_peer: writing the table to stdout failed: {e.strerror or e}", file=sys.stderr)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
