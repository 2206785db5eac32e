"""The class-imbalance example that motivates focal loss, computed by the library through
focal-eval --sum: 1,000,000 easy negatives (p_t = 0.99) and 10 hard positives (p_t = 0.01).
  python3 imbalance.py FOCAL_EVAL [--json FILE]
Cross-entropy (alpha -1, gamma 0) lets the negatives carry 99.54% of the loss; focal loss
(alpha 0.25, gamma 2) gives the positives 93.74%."""

from __future__ import annotations

import argparse
import math
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jsonio import ResultsError, write_json  # noqa: E402

NEGATIVES, POSITIVES = 1_000_000, 10
LOSSES = (("cross-entropy (alpha -1, gamma 0)", -1.0, 0.0),
          ("focal loss (alpha 0.25, gamma 2)", 0.25, 2.0))


def logit():
    """x = -ln(99) rounded to float32 (sigmoid(x) = 0.01), as an exact hex float."""
    f32 = struct.unpack("f", struct.pack("f", -math.log(99.0)))[0]
    return f32.hex()


def focal_sum(focal_eval, alpha, gamma, target, count):
    line = f"{logit()} {target}\n"
    proc = subprocess.run([focal_eval, "--sum", "--alpha", str(alpha), "--gamma", str(gamma)],
                          input=line * count, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"focal-eval failed: {proc.stderr.strip()}")
    total, counted = proc.stdout.split()
    if int(counted) != count:
        raise RuntimeError(f"focal-eval counted {counted} elements, expected {count}")
    kernel = proc.stderr.split("kernel ", 1)[1].split(",", 1)[0] if "kernel " in proc.stderr else "?"
    return float(total), kernel


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("focal_eval")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    rows, kernel = [], "?"
    for name, alpha, gamma in LOSSES:
        neg, kernel = focal_sum(args.focal_eval, alpha, gamma, 0, NEGATIVES)
        pos, _ = focal_sum(args.focal_eval, alpha, gamma, 1, POSITIVES)
        rows.append({"loss": name, "alpha": alpha, "gamma": gamma,
                     "negatives_sum": neg, "positives_sum": pos})
    print(f"{NEGATIVES:,} negatives with p_t = 0.99, {POSITIVES} positives with p_t = 0.01 "
          f"(x = -ln 99 = {float.fromhex(logit()):.7g}; kernel {kernel}):")
    print(f"  {'loss':<34} {'negatives':>12} {'positives':>12} {'neg. share':>10} {'pos. share':>10}")
    for r in rows:
        total = r["negatives_sum"] + r["positives_sum"]
        print(f"  {r['loss']:<34} {r['negatives_sum']:>12.6g} {r['positives_sum']:>12.6g} "
              f"{100 * r['negatives_sum'] / total:>9.2f}% {100 * r['positives_sum'] / total:>9.2f}%")
    if args.json:
        write_json(args.json, {"negatives": NEGATIVES, "positives": POSITIVES,
                               "x": float.fromhex(logit()), "kernel": kernel, "rows": rows}, "--json")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, ResultsError) as e:
        print(f"imbalance: {e}", file=sys.stderr)
        sys.exit(1)
