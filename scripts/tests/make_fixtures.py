"""Writes the hand-made fixture results (scripts/tests/fixtures/results/...) that the script tests
read. The numbers are invented but shaped like the real files (Google Benchmark 1.7 JSON,
focal-verify JSON, peer_torch JSON). Rerun after changing it: python3 make_fixtures.py"""
import json, math, os

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.join(here, "fixtures", "results")

def bench_entry(name, ips, gbps, reps=None, agg=None, time_ns=1000.0):
    e = {"name": name if agg is None else f"{name}_{agg}", "run_name": name,
         "run_type": "iteration" if agg is None else "aggregate", "repetitions": reps or 1,
         "repetition_index": 0, "threads": 1, "iterations": 100, "real_time": time_ns,
         "cpu_time": time_ns, "time_unit": "ns", "items_per_second": ips, "GB/s": gbps}
    if agg: e["aggregate_name"] = agg
    return e

def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)

sizes = [2**10, 2**16, 2**20, 2**24]
# machine A: CPU only (scalar, avx2, avx512, avx512_fast, openmp at 1 and 2 threads)
speed_a = {"scalar": 0.15, "avx2": 0.9, "avx512": 1.6, "avx512_fast": 2.4}
bench = []
for n in sizes:
    small = 0.7 if n == 2**10 else 1.0
    for op, f in (("focal_sum", 1.0), ("focal_grad", 0.55)):
        for layout, g in (("dense", 1.0), ("labels_c80", 0.9)):
            for k, v in speed_a.items():
                ips = v * f * g * small * 1e9
                bench.append(bench_entry(f"{op}/{k}/{layout}/{n}", ips, ips * 5e-9))
            for t in (1, 2):
                ips = 1.6 * f * g * (t * 0.95 if n >= 2**20 else 0.5) * 1e9
                bench.append(bench_entry(f"{op}/openmp/{layout}/{n}/threads:{t}", ips, ips * 5e-9))
    bench.append(bench_entry(f"probe_read/{n}", 2.0e9, 10.0))
    bench.append(bench_entry(f"probe_copy/{n}", 1.0e9, 8.0))
# repetitions: the median aggregate must win over the raw iterations and the mean
bench = [b for b in bench if b["name"] != "focal_sum/avx512/dense/16777216"]
for i, v in enumerate((1.0e9, 1.7e9, 1.5e9)):
    e = bench_entry("focal_sum/avx512/dense/16777216", v, v * 5e-9, reps=3); e["repetition_index"] = i
    bench.append(e)
bench.append(bench_entry("focal_sum/avx512/dense/16777216", 1.4e9, 7.0, reps=3, agg="mean"))
bench.append(bench_entry("focal_sum/avx512/dense/16777216", 1.5e9, 7.5, reps=3, agg="median"))
bench.append({"name": "focal_sum/cuda_warp/dense/1024/manual_time", "run_name":
              "focal_sum/cuda_warp/dense/1024/manual_time", "run_type": "iteration",
              "error_occurred": True, "error_message": "no CUDA device"})
ctx = {"date": "2026-11-28T12:00:00+00:00", "host_name": "a", "num_cpus": 2, "mhz_per_cpu": 2100,
       "focal_git_revision": "abc1234", "focal_cpu": "Fixture Xeon", "focal_dispatch": "avx512"}
run_a = os.path.join(root, "fixture-cpu-2c", "2026-11-28-abc1234")
write(os.path.join(run_a, "bench.json"), {"context": ctx, "benchmarks": bench})

def fam(family, gamma, lu, gu, ok=True, rel=1e-7):
    return {"family": family, "gamma": gamma, "alpha": 0.25, "n": 1000,
            "loss": {"max_ulp": lu, "mean_ulp": lu / 4, "max_rel": rel, "special_failures": 0, "worst": {}},
            "grad": {"max_ulp": gu, "mean_ulp": gu / 4, "max_rel": rel, "special_failures": 0, "worst": {}},
            "pass": ok}

def kernel(name, backend, isa, bound, lu, gu, available=True, ok=True):
    k = {"name": name, "backend": backend, "isa": isa, "available": available,
         "bound": {"ulp": bound, "rel_other": 1.2e-7 if bound <= 2 else 1e-5}}
    if not available:
        k["why"] = "no CUDA device"; k["families"] = []; k["pass"] = True; return k
    k["families"] = [fam(f, g, lu * s, gu * s, ok) for f, s in
                     (("typical", 0.5), ("uniform", 1.0), ("extreme", 1.0), ("special", 0), ("labels", 0.5), ("soft", 1.0))
                     for g in (2,)] + [fam("typical", 0.5, 9999, 9999, True, 3e-6)]
    k["sum"] = {"max_rel": 1e-15, "pass": True}
    k["pass"] = ok
    return k

verify = {"tool": "focal-verify", "mode": "full", "git_rev": "abc1234",
          "machine": {"id": "fixture-cpu-2c", "cpu": "Fixture Xeon", "cores": 2}, "dispatch": "avx512",
          "kernels": [kernel("scalar", "scalar", "x86-64", 2, 1, 1),
                      kernel("avx2", "simd", "avx2+fma", 4, 3, 4),
                      kernel("avx512", "simd", "avx512f", 4, 2, 3),
                      kernel("avx512_fast", "simd", "avx512f", 64, 20, 40),
                      kernel("openmp", "openmp", "avx512f", 4, 2, 3),
                      kernel("cuda_warp", "cuda", "sm_90", 4, 0, 0, available=False)],
          "peer": {"name": "torch_formula_fp32", "families": [fam("typical", 2, 3, 5), fam("extreme", 2, 4.2e8, 1e9)]},
          "pass": True}
xs = [10 ** (k / 4) for k in range(-8, 17)]
def ulps(scale, blowup=None):
    return [0 if i % 3 == 0 else scale * (1 + (i % 2)) if blowup is None or x < blowup else 1e8 * (x / blowup)
            for i, x in enumerate(xs)]
verify["error_vs_x"] = {"gamma": 2, "alpha": 0.25, "abs_x": xs, "series": [
    {"name": "scalar", "t": 1, "loss_ulp": ulps(0.5), "loss_rel": [u * 6e-8 for u in ulps(0.5)]},
    {"name": "avx512", "t": 1, "loss_ulp": ulps(1.5), "loss_rel": [u * 6e-8 for u in ulps(1.5)]},
    {"name": "torch_formula_fp32", "t": 1, "loss_ulp": ulps(2, 10), "loss_rel": [min(1, u * 6e-8) for u in ulps(2, 10)]},
    {"name": "scalar", "t": 0, "loss_ulp": ulps(0.5), "loss_rel": [u * 6e-8 for u in ulps(0.5)]},
    {"name": "torch_formula_fp32", "t": 0, "loss_ulp": ulps(2, 10), "loss_rel": [min(1, u * 6e-8) for u in ulps(2, 10)]}]}
write(os.path.join(run_a, "verify.json"), verify)
write(os.path.join(run_a, "peer_cpu.json"), {"device": "cpu", "torch": "1.13.1", "torchvision": "0.14.1", "threads": 1,
      "compile": "unavailable: torch 1.13 has no torch.compile",
      "results": [{"impl": "eager", "op": op, "n": n, "seconds_median": n / v, "items_per_second": v}
                  for n in sizes for op, v in (("sum", 1.7e7), ("grad", 6e6))]})
write(os.path.join(run_a, "meta.json"), {"machine_id": "fixture-cpu-2c", "mode": "full", "git_rev": "abc1234",
      "date": "2026-11-28", "finished_unix": 1795000000})
# an older run of machine A (compare's default must skip it: newest run only)
old = os.path.join(root, "fixture-cpu-2c", "2026-11-01-0000000")
write(os.path.join(old, "bench.json"), {"context": ctx, "benchmarks": [bench_entry("focal_sum/scalar/dense/1024", 1e8, 0.5)]})

# machine B: a GPU machine with CUDA kernels (manual_time), fewer CPU kernels, other sizes
bench_b = []
for n in sizes + [2**28]:
    for op, f in (("focal_sum", 1.0), ("focal_grad", 0.6)):
        bench_b.append(bench_entry(f"{op}/scalar/dense/{n}", 0.2e9 * f, 1.0))
        bench_b.append(bench_entry(f"{op}/avx512/dense/{n}", 2.0e9 * f, 10.0))
        bench_b.append(bench_entry(f"{op}/cuda_warp/dense/{n}/manual_time", min(n / 2**20, 1) * 400e9 * f, 2000.0))
        bench_b.append(bench_entry(f"{op}/cuda_cub/dense/{n}/manual_time", min(n / 2**20, 1) * 380e9 * f, 1900.0))
    bench_b.append(bench_entry(f"probe_read/{n}", 3e9, 15.0))
    bench_b.append(bench_entry(f"probe_cuda_read/{n}/manual_time", 800e9, 4000.0))
write(os.path.join(root, "fixture-gpu-16c-h200", "2026-11-28-def5678", "bench.json"),
      {"context": dict(ctx, focal_gpu="NVIDIA H200"), "benchmarks": bench_b})
print("fixtures written under", root)
