"""Writes the fixture results the script tests read (scripts/tests/fixtures/results/...), from a
tiny real run of the programs, so the tests read the shapes the programs produce:

  python3 scripts/tests/make_fixtures.py BUILD_DIR [--jax-python PY]

- fixture-cpu-2c/<run>/bench.json: focal-bench itself (2^10 and 2^14, dense, soft, labels_c80,
  dense_fp16, dense_bf16, 2
  repetitions with the raw runs kept, as scripts/run records them);
- peer_torch_cpu.json / peer_jax_cpu.json: scripts/peer_torch.py (Debian's torch, eager) and
  scripts/peer_jax.py (with --jax-python, e.g. build/peer-venv/bin/python), same sizes, 1 and 2
  threads;
- meta.json: scripts/lib/runinfo.py meta, as scripts/run writes it;
- verify.json: focal-verify's format with invented errors (kernels from the bench's context;
  bounds: *_fast 24 ULP, the others 4), so the chooser's verdicts are known;
- an older run of the same machine (its scalar rows), for "newest run" selection;
- fixture-gpu-16c-h200/<run>/bench.json: some CPU rows of the real run (probes, scalar and avx2
  dense; avx2 is present on any x86-64 machine that makes the fixtures) plus CUDA rows named by
  names.bench_name (the Python side of bench/names.hpp) in the shape of a real entry
  (/manual_time, microseconds) with invented rates: there is no GPU here to run them. Its
  host<->device probes are deliberately slow (1.25 GB/s, a pageable, shared-link case) so that
  choose-kernel --data host turns to the CPU where --data device picks the GPU; verify.json:
  the CPU kernels as above, the CUDA kernels available.
"""

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts", "lib"))
from names import FILES, bench_name, peer_file  # noqa: E402

OUT = os.path.join(HERE, "fixtures", "results")
CPU_RUN = os.path.join(OUT, "fixture-cpu-2c", "2026-11-28-abc1234")
OLD_RUN = os.path.join(OUT, "fixture-cpu-2c", "2026-11-01-0000000")
GPU_RUN = os.path.join(OUT, "fixture-gpu-16c-h200", "2026-11-28-def5678")


def run(cmd, **kw):
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, **kw)


def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, allow_nan=False)
        f.write("\n")


def family(name, gamma, loss_ulp, grad_ulp):
    part = lambda u: {"max_ulp": u, "mean_ulp": u / 4, "max_rel": u * 6e-8, "special_failures": 0}
    return {"family": name, "gamma": gamma, "alpha": 0.25, "n": 1000, "loss": part(loss_ulp),
            "grad": part(grad_ulp), "pass": True}


def verify_for(kernels, gpu=False):
    entries = []
    for k in kernels:
        fast = k.endswith("_fast")
        bound, err = (24, 14.0) if fast else ((1, 0.5) if k == "scalar" else (4, 0.6))
        fams = [family(f, g, err, err * 1.1) for f in ("typical", "uniform", "extreme", "special", "labels", "soft")
                for g in (0, 2)]
        fams.append(family("typical", 0.5, 9999, 9999))   # relative bound at non-integer gamma
        # every fp16 / bf16 pattern (focal-verify's half families); avx512 has no bf16 record, so
        # the chooser's --dtype bf16 must turn it down for want of one
        fams += [family("half_fp16", g, err, err) for g in (0, 2)]
        if k != "avx512":
            fams += [family("half_bf16", g, err, err) for g in (0, 2)]
        entries.append({"name": k, "backend": "simd", "isa": "x86-64", "available": True,
                        "bound": {"ulp": bound, "rel_other": 1.2e-7}, "families": fams, "pass": True})
    if gpu:   # the CUDA kernels of the fixture's bench, measured like the CPU ones
        entries += [dict(e, name=k, backend="cuda", isa="sm_90") for k in ("cuda_warp", "cuda_cub")
                    for e in entries[:1]]
    else:
        entries.append({"name": "cuda_warp", "backend": "cuda", "isa": "sm_90", "available": False,
                        "unavailable_reason": "no CUDA device", "bound": {"ulp": 4}, "families": [],
                        "pass": True})
    xs = [10 ** (k / 4) for k in range(-8, 13)]
    series = [{"name": n, "t": t, "loss_ulp": [0.4 if x < 10 else (None if "torch" in n else 0.45) for x in xs]}
              for n in ("scalar", "torch_formula_fp32") for t in (0, 1)]
    return {"tool": "focal-verify", "mode": "quick", "machine": {"id": "fixture-cpu-2c", "cpu": "Fixture", "cores": 2},
            "dispatch": kernels[-1], "kernels": entries,
            "peer": {"name": "torch_formula_fp32", "families": [family("typical", 2, 3, 5), family("extreme", 2, 4e8, 1e9)]},
            "error_vs_x": {"gamma": 2, "alpha": 0.25, "abs_x": xs, "series": series}, "pass": True}


def cuda_rows(template, sizes):
    rows = []
    for n in sizes:
        # bytes per logit as bench/names.hpp counts them: probes 5 (read) and 10 (copy: read +
        # write of the dense input's 5 B); dense sum 5, dense grad 9
        # h2d: the dense input's 5 B up; d2h: an fp32 gradient's 4 B down
        for probe, gbs, bpl in (("probe_cuda_read", 4000.0, 5), ("probe_cuda_copy", 3500.0, 10),
                                ("probe_cuda_h2d", 1.25, 5), ("probe_cuda_d2h", 1.25, 4)):
            rows.append((f"{probe}/n:{n}", n, gbs * 1e9 / bpl, bpl))
        for op, f, bpl in (("focal_sum", 1.0, 5), ("focal_grad", 0.6, 9)):
            for kernel, v in (("cuda_warp", 400e9), ("cuda_cub", 380e9)):
                rows.append((bench_name(op, kernel, "dense", n), n, min(n / 2 ** 20, 1) * v * f, bpl))
    out = []
    for name, n, ips, bpl in rows:
        e = copy.deepcopy(template)
        e.update(name=name + "/manual_time", run_name=name + "/manual_time", run_type="iteration",
                 repetitions=1, repetition_index=0, time_unit="us", items_per_second=ips,
                 real_time=n / ips * 1e6, cpu_time=n / ips * 1e6, bytes_per_second=ips * bpl)
        e.pop("aggregate_name", None)
        e.pop("aggregate_unit", None)
        e.pop("frac_read", None)
        e.pop("frac_copy", None)
        out.append(e)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("--jax-python")
    args = ap.parse_args()
    bench = os.path.join(args.build_dir, "bin", "focal-bench")
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(CPU_RUN)
    env = dict(os.environ, FOCAL_MACHINE_ID="fixture-cpu-2c", OMP_NUM_THREADS="2")
    run([bench, "--focal_sizes=10,14", "--focal_layouts=dense,soft,labels_c80,dense_fp16,dense_bf16",
         "--benchmark_min_time=0.01", "--benchmark_repetitions=2",
         "--benchmark_display_aggregates_only=true",
         f"--benchmark_out={os.path.join(CPU_RUN, FILES['bench'])}", "--benchmark_out_format=json"],
        env=env, stdout=subprocess.DEVNULL)
    peer_args = ["--sizes", "10,14", "--threads", "1,2", "--repeat", "2", "--min-seconds", "0.005"]
    run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "peer_torch.py"), *peer_args,
         "--json", os.path.join(CPU_RUN, peer_file("torch", "cpu"))])
    if args.jax_python:
        run([args.jax_python, os.path.join(ROOT, "scripts", "peer_jax.py"), *peer_args,
             "--json", os.path.join(CPU_RUN, peer_file("jax", "cpu"))])
    run([sys.executable, os.path.join(ROOT, "scripts", "lib", "runinfo.py"), "meta", CPU_RUN,
         "--machine", "fixture-cpu-2c", "--date", "2026-11-28", "--rev", "abc1234", "--mode", "quick",
         "--seconds-total", "60", "--step", "bench=30"])
    with open(os.path.join(CPU_RUN, FILES["bench"])) as f:
        data = json.load(f)
    kernels = data["context"]["focal_kernels_benchmarked"].split(",")
    dump(os.path.join(CPU_RUN, FILES["verify"]), verify_for(kernels))
    old = dict(data, benchmarks=[b for b in data["benchmarks"] if "/scalar/" in b["name"]])
    dump(os.path.join(OLD_RUN, FILES["bench"]), old)
    template = next(b for b in data["benchmarks"] if b["name"].startswith("focal_sum/"))
    ctx = dict(data["context"], focal_machine_id="fixture-gpu-16c-h200", focal_gpu="NVIDIA H200",
               cuda_gpu="NVIDIA H200", cuda_sm_count="132", cuda_l2_bytes="52428800",
               cuda_peak_dram_GBps="4800.0")
    cpu_rows = [b for b in data["benchmarks"] if b["name"].startswith("probe_") or
                ("/dense/" in b["name"] and any(f"/{k}/" in b["name"] for k in ("scalar", "avx2")))]
    gpu = {"context": ctx, "benchmarks": cpu_rows + cuda_rows(template, (2 ** 10, 2 ** 14, 2 ** 27))}
    dump(os.path.join(GPU_RUN, FILES["bench"]), gpu)
    dump(os.path.join(GPU_RUN, FILES["verify"]), dict(
        verify_for(["scalar", "avx2"], gpu=True),
        machine={"id": "fixture-gpu-16c-h200", "cpu": "Fixture", "cores": 16, "gpu": "NVIDIA H200"}))
    print("fixtures written under", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
