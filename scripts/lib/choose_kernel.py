"""scripts/choose-kernel: the fastest kernel that meets an accuracy bound at a size, from the
recorded results of this machine (newest run under results/<machine-id>/) or of --results DIR."""

from __future__ import annotations

import argparse
import os
import signal
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from choose import DATA, DEFAULT_MAX_ULP, LAYOUTS, OPS, by_size, choose, format_choice  # noqa: E402
from jsonio import json_text, print_stdout  # noqa: E402
from names import DTYPES, MAX_N  # noqa: E402
from results import ResultsError, is_run_dir, load_run, newest_run, repo_root  # noqa: E402


def machine_id():
    """This machine's id, from the one implementation: focal-verify --machine-id of the build
    (FOCAL_BUILD_DIR, default build/)."""
    build = os.environ.get("FOCAL_BUILD_DIR") or os.path.join(repo_root(), "build")
    tool = os.path.join(build, "bin", "focal-verify")
    if not os.access(tool, os.X_OK):
        raise ResultsError(f"cannot tell this machine's id: {tool} is not built (./scripts/run builds "
                           "it; FOCAL_BUILD_DIR names another build), or pass --results DIR")
    try:
        return subprocess.run([tool, "--machine-id"], check=True, capture_output=True,
                              text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        raise ResultsError(f"could not determine this machine's id ({tool} --machine-id: {e})")


def resolve_run(results_arg):
    """A run directory from --results (a run, a machine's folder, or a results/ root), or this
    machine's newest run."""
    if results_arg is None:
        mid = machine_id()
        machine_dir = os.path.join(repo_root(), "results", mid)
        run = newest_run(machine_dir)
        if run is None:
            raise ResultsError(
                f"no recorded results for this machine ({mid}) under {os.path.join(repo_root(), 'results')}/.\n"
                "  Make them with ./scripts/run (about 10 minutes; ./scripts/run --quick takes 2),\n"
                "  or point at recorded ones with --results DIR (e.g. results/<machine-id>).")
        return run
    path = results_arg
    if not os.path.isdir(path):
        raise ResultsError(f"--results {path}: no such directory")
    if is_run_dir(path):
        return path
    run = newest_run(path)
    if run is not None:
        return run
    mid_dir = os.path.join(path, machine_id())
    run = newest_run(mid_dir)
    if run is not None:
        return run
    raise ResultsError(f"--results {path}: no recorded run there (expected a run directory with "
                       "bench.json and verify.json, a results/<machine-id>/ folder holding such runs, "
                       "or a results/ folder with one for this machine); make one with ./scripts/run")


def parse_n(text):
    """A positive integer up to 2^40; '2^k' is accepted as a convenience."""
    m = re.fullmatch(r"\s*2\^(\d{1,2})\s*", text)
    n = 2 ** int(m.group(1)) if m else int(text) if re.fullmatch(r"\s*\+?\d{1,15}\s*", text) else 0
    if not 0 < n <= MAX_N:
        raise argparse.ArgumentTypeError(f"expected a positive integer number of logits up to 2^40 "
                                         f"(e.g. 1000000 or 2^20), got '{text}'")
    return n


def parse_max_ulp(text):
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of ULPs >= 0, got '{text}'")
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="choose-kernel",
        description="Names the fastest kernel that meets the accuracy bound at a size, from recorded "
                    "results (bench.json for speed, verify.json for accuracy).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="A kernel qualifies when it is available, passed focal-verify, and both its declared "
               "ULP bound and its measured max ULP error (loss and gradient, integer gamma, the "
               "layout's case families) are <= K. Throughput at N: the measured size if N was "
               "benchmarked, else interpolated linearly in log2 n between the neighbouring sizes, "
               "else the nearest measured size (the output says which).\n\nExit status: 0 a kernel was "
               "chosen; 1 no usable results (or stdout not writable); 2 bad argument; 3 no kernel meets "
               "the bound.\n\nWith --data host a GPU kernel's time also holds copying its inputs to the device and, for "
               "the gradient, the gradient back, at the rates probe_cuda_h2d / probe_cuda_d2h measured "
               "in the same run for copies of that size (a run without them leaves the GPU kernels "
               "out, saying why). On a run with CPU and GPU kernels the answer ends with the best "
               "kernel for each size (the CPU<->GPU crossover).")
    ap.add_argument("--n", required=True, type=parse_n, metavar="N",
                    help="number of logits per call (N*C for the labels layout)")
    ap.add_argument("--layout", default="dense", choices=LAYOUTS, help="default: dense")
    ap.add_argument("--dtype", default="fp32", choices=DTYPES,
                    help="the logits' type: fp32, or fp16/bf16 (half inputs, gradient written in "
                         "that dtype; dense and labels layouts); default: fp32")
    ap.add_argument("--op", default="sum", choices=list(OPS),
                    help="sum (forward loss sum) or grad (fused loss + gradient); default: sum")
    ap.add_argument("--max-ulp", default=DEFAULT_MAX_ULP, type=parse_max_ulp, metavar="K",
                    help=f"accuracy required, in ULP (default {DEFAULT_MAX_ULP:g}: full accuracy; "
                         "a larger K admits a faster, less accurate tier)")
    ap.add_argument("--data", default="device", choices=DATA,
                    help="where the caller's tensors are: device (default: each kernel's own memory) "
                         "or host (a GPU kernel's time then includes the host<->device transfers "
                         "measured by probe_cuda_h2d / probe_cuda_d2h in the same run)")
    ap.add_argument("--results", metavar="DIR",
                    help="a run directory, a results/<machine-id>/ folder (its newest run) or a "
                         "results/ folder; default: this machine's newest run")
    ap.add_argument("--json", action="store_true", help="print the ranking as JSON")
    args = ap.parse_args(argv)
    if args.layout == "soft" and args.dtype != "fp32":   # choose() says so too, for other callers
        ap.error(f"--dtype {args.dtype}: the soft layout takes fp32 logits only")
    try:
        run = load_run(resolve_run(args.results), need_bench=True)
        result = choose(run, args.n, args.op, args.layout, args.max_ulp, args.dtype, args.data)
        result["by_size"] = by_size(run, args.op, args.layout, args.max_ulp, args.dtype, args.data)
    except ResultsError as e:
        print(f"choose-kernel: {e}", file=sys.stderr)
        return 1
    if not print_stdout(json_text(result) if args.json else format_choice(result), "choose-kernel"):
        return 1
    return 0 if result["chosen"] is not None else 3


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # quiet when piped into head
    sys.exit(main())
