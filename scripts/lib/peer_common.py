"""What the peers (scripts/peer_torch.py, scripts/peer_jax.py) share: the command line, the
timing loop, and Google-Benchmark-shaped JSON output, so that our compare and Google Benchmark's
tools/compare.py read a peer exactly as they read focal-bench:

  focal_sum/<peer>/dense/n:<n>/threads:<t>/real_time    the loss sum (reduction "sum")
  focal_grad/<peer>/dense/n:<n>/threads:<t>/real_time   the loss and d loss / d x (backward)

with every repetition (run_type "iteration") and the mean / median / stddev aggregates, as
focal-bench writes them with --benchmark_repetitions. Each thread count runs in a process of its
own, pinned to that many CPUs and with the framework told the same count before it starts (a
runtime sizes its thread pool at start), so a peer is always compared at the thread count of the
kernel it is compared with."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from jsonio import ResultsError, check_writable, read_json, write_json
from names import OP_GRAD, OP_SUM, bench_name

EXIT_DOC = "Exit status: 0 written (or a skip recorded), 1 the output cannot be written, 2 bad argument."


def _sizes(text):
    try:
        ks = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated log2 sizes like 10,16,20,24, got '{text}'")
    if not ks or any(k < 0 or k > 31 for k in ks):
        raise argparse.ArgumentTypeError(f"expected log2 sizes in 0..31, got '{text}'")
    return ks


def _threads(text):
    try:
        ts = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        ts = []
    cpus = len(os.sched_getaffinity(0))
    if not ts or any(t < 1 or t > cpus for t in ts):
        raise argparse.ArgumentTypeError(f"expected thread counts in 1..{cpus} (the CPUs this process "
                                         f"may use), comma-separated, got '{text}'")
    return sorted(set(ts))


def _finite_float(lo, hi, what):
    def parse(text):
        try:
            v = float(text)
        except ValueError:
            v = float("nan")
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"expected {what}, got '{text}'")
        return v
    return parse


def parser(prog, description, devices=("cpu",)):
    ap = argparse.ArgumentParser(prog=prog, description=description, epilog=EXIT_DOC)
    ap.add_argument("--device", default="cpu", choices=devices)
    ap.add_argument("--sizes", type=_sizes, default=[10, 16, 20, 24],
                    help="log2 of the number of logits, comma-separated (default 10,16,20,24)")
    ap.add_argument("--threads", type=_threads, default=[1],
                    help="CPU thread counts, comma-separated (default 1); each is timed pinned to "
                         "that many CPUs")
    ap.add_argument("--gamma", type=_finite_float(0, 1e6, "a finite gamma >= 0"), default=2.0)
    ap.add_argument("--alpha", type=_finite_float(-1e6, 1, "a finite alpha <= 1 (< 0: no balancing)"),
                    default=0.25)
    ap.add_argument("--repeat", type=int, default=5, help="timed repetitions per point (default 5)")
    ap.add_argument("--min-seconds", type=_finite_float(1e-4, 60, "seconds in [1e-4, 60]"),
                    default=0.05, help="each repetition loops the op until it has run this long")
    ap.add_argument("--json", required=True, metavar="FILE", help="output (Google Benchmark JSON)")
    return ap


def parse_args(ap, argv=None):
    args = ap.parse_args(argv)
    if args.repeat < 1 or args.repeat > 1000:
        ap.error("--repeat: expected an integer in 1..1000")
    try:
        check_writable(args.json, "--json")   # before the work, not after
    except ResultsError as e:
        print(f"{ap.prog}: {e}", file=sys.stderr)
        sys.exit(1)
    if args.device == "cpu" and len(args.threads) == 1:
        # Before the framework is imported: its thread pool is sized at start.
        t = args.threads[0]
        pin(t)
        os.environ["OMP_NUM_THREADS"] = str(t)
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   f" --xla_cpu_multi_thread_eigen={str(t > 1).lower()}"
                                   f" intra_op_parallelism_threads={t}").strip()
    return args


def per_thread_count(prog, args, argv=None):
    """With several CPU thread counts: runs this script once per count and merges the outputs
    into --json. Returns the exit status, or None when there is one count (time it here)."""
    if args.device != "cpu" or len(args.threads) == 1:
        return None
    argv = list(sys.argv[1:] if argv is None else argv)
    benchmarks, ctx = [], None
    with tempfile.TemporaryDirectory() as d:
        for t in args.threads:
            out = os.path.join(d, f"{t}.json")
            child = [a for a in _without(argv, ("--threads", "--json"))] + ["--threads", str(t), "--json", out]
            rc = subprocess.run([sys.executable, sys.argv[0], *child]).returncode
            if rc != 0:
                print(f"{prog}: the run with {t} threads failed (exit {rc})", file=sys.stderr)
                return rc
            try:
                data = read_json(out)
            except ResultsError as e:
                print(f"{prog}: {e}", file=sys.stderr)
                return 1
            if ctx is None or data["context"].get("peer_skipped"):
                ctx = data["context"]
            benchmarks += data["benchmarks"]
    return write(args.json, prog, ctx, [] if ctx.get("peer_skipped") else benchmarks)


def _without(argv, flags):
    """argv less the given flags and their values (both --flag VALUE and --flag=VALUE)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a in flags:
            skip = True
        elif not any(a.startswith(f + "=") for f in flags):
            out.append(a)
    return out


def pin(threads):
    """Pins this process to the first `threads` CPUs it may use."""
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, cpus[:threads])


def time_point(fn, min_seconds, repeat, now=time.perf_counter, sync=lambda: None):
    """(loops, [seconds per call] * repeat) after a warm-up call."""
    fn()
    sync()
    t0 = now()
    fn()
    sync()
    one = now() - t0
    loops = max(1, min(100000, int(min_seconds / max(one, 1e-9))))
    times = []
    for _ in range(repeat):
        t0 = now()
        for _ in range(loops):
            fn()
        sync()
        times.append((now() - t0) / loops)
    return loops, times


def entries(op, peer, n, threads, loops, times, family_index):
    """Google Benchmark JSON entries for one point: the repetitions and the aggregates."""
    run_name = bench_name(op, peer, "dense", n, threads) + "/real_time"
    base = {"family_index": family_index, "per_family_instance_index": 0, "run_name": run_name,
            "repetitions": len(times), "threads": 1, "time_unit": "ns"}
    out = []
    for i, t in enumerate(times):
        out.append(dict(base, name=run_name, run_type="iteration", repetition_index=i,
                        iterations=loops, real_time=t * 1e9, cpu_time=t * 1e9,
                        items_per_second=n / t))
    aggs = {"mean": statistics.mean(times), "median": statistics.median(times),
            "stddev": statistics.stdev(times) if len(times) > 1 else 0.0}
    for name, t in aggs.items():
        ips = n / t if name != "stddev" else (statistics.stdev([n / x for x in times]) if len(times) > 1 else 0.0)
        out.append(dict(base, name=f"{run_name}_{name}", run_type="aggregate", aggregate_name=name,
                        aggregate_unit="time", iterations=len(times), real_time=t * 1e9,
                        cpu_time=t * 1e9, items_per_second=ips))
    return out


def context(extra):
    ctx = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
           "host_name": platform.node(), "executable": sys.argv[0],
           "num_cpus": os.cpu_count(), "mhz_per_cpu": 0, "cpu_scaling_enabled": False,
           "caches": [], "library_build_type": "release", "python": platform.python_version()}
    ctx.update({k: str(v) for k, v in extra.items()})
    return ctx


def write(path, prog, ctx, benchmarks):
    try:
        write_json(path, {"context": ctx, "benchmarks": benchmarks}, "--json")
    except ResultsError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    return 0


def skip(path, prog, reason, extra=None):
    """Records a peer that cannot run here (a context key 'peer_skipped', no benchmarks); exit 0."""
    print(f"{prog}: skipped: {reason}", file=sys.stderr)
    return write(path, prog, context(dict(extra or {}, peer_skipped=reason)), [])


def run_points(prog, args, impls, make_inputs, set_threads, sync=lambda: None, device="cpu"):
    """Times every impl ({peer name: {op: fn(x, t)}}) at every size and thread count."""
    benchmarks = []
    for threads in (args.threads if device == "cpu" else [None]):
        if threads is not None:
            set_threads(threads)   # pinned by parse_args, one count per process
        for k in args.sizes:
            n = 2 ** k
            inputs = make_inputs(n)
            for fam, (peer, ops) in enumerate(impls.items()):
                for op in (OP_SUM, OP_GRAD):
                    fn = ops[op]
                    loops, times = time_point(lambda: fn(*inputs), args.min_seconds, args.repeat,
                                              sync=sync)
                    benchmarks += entries(op, peer, n, threads, loops, times, fam)
                    med = statistics.median(times)
                    t = f" threads:{threads}" if threads else ""
                    print(f"{prog}: {device} {peer:<13} {op:<10} n=2^{k:<2}{t} "
                          f"{n / med / 1e9:.4f} G logits/s ({med * 1e3:.3f} ms)", file=sys.stderr)
            inputs = None   # free this size before the next
    return benchmarks
