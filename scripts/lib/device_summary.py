"""The last table of scripts/device-check, from its output folder (through results.py):
  device_summary.py OUTDIR build=ok tests=ok memcheck=... determinism=... bench=... peer=...
                    cpu_bench=... verify=...
Statuses, the ctest and memcheck verdicts, the determinism sums, the GPU, every CUDA benchmark
at n = 2^27 (and every error), the PyTorch peers on the GPU against cuda_warp, and the host's
CPU kernels at n = 2^24.
Exit status: 0 printed (also when files are missing: it says so); 1 unreadable results."""

from __future__ import annotations

import os
import re
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jsonio import ResultsError, read_json  # noqa: E402
from names import DETERMINISM_MARKER, FILES, PEER_KERNELS, on_gpu, peer_file  # noqa: E402
from results import fmt_ratio, load_bench, number  # noqa: E402

N = 2 ** 27
CPU_N = 2 ** 24   # the host's CPU kernels


def _read(out, name):
    try:
        with open(os.path.join(out, name), encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def lines(out, statuses):
    yield "device-check: " + "  ".join(statuses)
    tests = _read(out, FILES["tests_log"])
    m = re.search(r"\d+% tests passed, \d+ tests? failed out of \d+", tests)
    if m:
        yield f"ctest: {m.group(0)}"
    m = re.search(r"ERROR SUMMARY: \d+ errors?", tests)
    if m:
        yield f"memcheck: {m.group(0)}"
    # The determinism step's sums: after its marker (the tests before it ran other seeds).
    det = tests.rsplit(DETERMINISM_MARKER, 1)[1] if DETERMINISM_MARKER in tests else ""
    for k, n, s in re.findall(r"\[ sums \] (\S+) n=(\d+) run 1: (\S+)", det):
        yield f"determinism: {k} n={n} sum={s}"
    ours = {}
    bench = os.path.join(out, FILES["bench"])
    if os.path.isfile(bench):
        errors = []
        ms, ctx = load_bench(bench, errors)
        peak = number(float(ctx.get("cuda_peak_dram_GBps", "nan"))) if "cuda_peak_dram_GBps" in ctx else None
        if "cuda_gpu" in ctx:
            yield (f"GPU: {ctx['cuda_gpu']}  SMs {ctx.get('cuda_sm_count', '?')}  L2 "
                   f"{ctx.get('cuda_l2_bytes', '?')} B  peak DRAM {peak or 0:.0f} GB/s")
        else:
            yield "GPU: none in bench.json's context (no CUDA benchmarks ran)"
        yield f"{'benchmark':48s} {'us':>9s} {'Glogit/s':>9s} {'GB/s':>8s} {'read':>6s} {'copy':>6s}"
        for m in sorted(ms, key=lambda m: m.name):
            if m.n != N or not on_gpu(m.kernel):
                continue
            ours[(m.op, m.kernel, m.layout)] = m.items_per_second
            frac = [m.counters.get(k) for k in ("frac_read", "frac_copy")]
            yield (f"{m.name:48s} {(m.seconds or 0) * 1e6:9.1f} {m.gitems:9.2f} {m.gbps or 0:8.0f} "
                   + " ".join(f"{v:6.2f}" if v is not None else f"{'—':>6s}" for v in frac))
        for name, msg in errors:
            yield f"{name:48s} ERROR {msg}"
        cpu = [m for m in ms if m.n == CPU_N and m.op in ("focal_sum", "focal_grad") and not on_gpu(m.kernel)]
        if cpu:
            yield f"host CPU ({ctx.get('focal_cpu', '?')}, {ctx.get('focal_cores', '?')} cores), dense, n = 2^24:"
            for m in sorted(cpu, key=lambda m: (m.op, m.kernel, m.threads or 0)):
                yield f"  {m.op:10s} {m.label:16s} {m.gitems:8.3f} Glogit/s"
    else:
        yield f"no {FILES['bench']}: benchmarks did not run"
    verify = os.path.join(out, FILES["verify"])
    if os.path.isfile(verify):
        v = read_json(verify)
        failed = [k.get("name") for k in v.get("kernels", []) if isinstance(k, dict) and k.get("pass") is False] \
            if isinstance(v, dict) else []
        yield f"focal-verify --quick: {'PASS' if isinstance(v, dict) and v.get('pass') is True else 'FAIL'}" + (
            f" (failed: {', '.join(map(str, failed))})" if failed else "")
    peer = os.path.join(out, peer_file("torch", "cuda"))
    if os.path.isfile(peer):
        ms, ctx = load_bench(peer)
        if ctx.get("peer_skipped"):
            yield f"peer: skipped: {ctx['peer_skipped']}"
        for m in sorted(ms, key=lambda m: (m.kernel, m.op)):
            if m.n != N:
                continue
            mine = ours.get((m.op, "cuda_warp", "dense"))
            ratio = f"  cuda_warp is {fmt_ratio(mine, m.items_per_second)}" if mine else ""
            yield f"peer {PEER_KERNELS.get(m.kernel, m.kernel):30s} {m.op:10s} n=2^27 {m.gitems:8.3f} Glogit/s{ratio}"
        yield f"peer torch.compile: {ctx.get('peer_torch_compile', '?')}"


def main(argv):
    if len(argv) < 1 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    try:
        for line in lines(argv[0], argv[1:]):
            print(line)
    except ResultsError as e:
        print(f"device-check: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # quiet when piped into head
    sys.exit(main(sys.argv[1:]))
