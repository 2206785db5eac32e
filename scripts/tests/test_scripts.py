"""Tests for scripts/compare, scripts/choose-kernel, the results/summary libraries and the
argument checks of scripts/run and scripts/peer_torch.py, on the hand-made fixture results in
scripts/tests/fixtures/results (see make_fixtures.py). Run: scripts/tests/run_tests.sh"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LIB = os.path.join(ROOT, "scripts", "lib")
sys.path.insert(0, LIB)

import choose  # noqa: E402
import results  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures", "results")
CPU = os.path.join(FIXTURES, "fixture-cpu-2c")
CPU_RUN = os.path.join(CPU, "2026-11-28-abc1234")
GPU_RUN = os.path.join(FIXTURES, "fixture-gpu-16c-h200", "2026-11-28-def5678")
HAVE_MPL = importlib.util.find_spec("matplotlib") is not None


def script(name, *args, env=None):
    e = dict(os.environ, FOCAL_PYTHON=sys.executable)
    e.update(env or {})
    return subprocess.run([os.path.join(ROOT, "scripts", name), *args], capture_output=True,
                          text=True, env=e, timeout=120)


class BenchParsing(unittest.TestCase):
    def test_names(self):
        P = results.parse_bench_name
        self.assertEqual(P("focal_sum/avx512/dense/1024"), ("focal_sum", "avx512", "dense", 1024, None))
        self.assertEqual(P("focal_grad/openmp/labels_c80/65536/threads:2"),
                         ("focal_grad", "openmp", "labels_c80", 65536, 2))
        self.assertEqual(P("focal_sum/cuda_warp/dense/1024/manual_time"),
                         ("focal_sum", "cuda_warp", "dense", 1024, None))
        self.assertEqual(P("probe_read/16777216"), ("probe_read", "probe_read", "", 16777216, None))
        self.assertIsNone(P("BM_something_else/3"))
        self.assertIsNone(P("focal_sum/avx512/dense/notanumber"))

    def test_median_aggregate_wins_and_errors_are_dropped(self):
        ms, ctx = results.load_bench(os.path.join(CPU_RUN, "bench.json"))
        self.assertEqual(ctx["focal_dispatch"], "avx512")
        hits = [m for m in ms if m.name == "focal_sum/avx512/dense/16777216"]
        self.assertEqual(len(hits), 1)
        self.assertEqual(hits[0].items_per_second, 1.5e9)   # the median aggregate, not the mean
        self.assertFalse(any(m.kernel == "cuda_warp" for m in ms))   # error_occurred

    def test_threads_collapse_to_the_largest_count(self):
        run = results.load_run(CPU_RUN)
        omp = [m for m in run.bench if m.kernel == "openmp" and m.op == "focal_sum"
               and m.layout == "dense" and m.n == 2 ** 24]
        self.assertEqual(len(omp), 1)
        self.assertEqual(omp[0].threads, 2)

    def test_bad_files(self):
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bench.json")
            with open(bad, "w") as f:
                f.write("{not json")
            with self.assertRaisesRegex(results.ResultsError, "not valid JSON"):
                results.load_bench(bad)
            with open(bad, "w") as f:
                json.dump({"x": 1}, f)
            with self.assertRaisesRegex(results.ResultsError, "not a Google Benchmark"):
                results.load_bench(bad)

    def test_device_check_file_names(self):
        # scripts/device-check writes bench_cuda.json and peer_torch_cuda.json
        with tempfile.TemporaryDirectory() as d:
            shutil.copy(os.path.join(GPU_RUN, "bench.json"), os.path.join(d, "bench_cuda.json"))
            with open(os.path.join(d, "peer_torch_cuda.json"), "w") as f:
                json.dump({"device": "cuda", "results": []}, f)
            self.assertTrue(results.is_run_dir(d))
            run = results.load_run(d, need_bench=True)
            self.assertTrue(any(m.kernel == "cuda_warp" for m in run.bench))
            self.assertIn("cuda", run.peers)

    def test_newest_run_by_date(self):
        self.assertEqual(results.newest_run(CPU), CPU_RUN)


class Accuracy(unittest.TestCase):
    def setUp(self):
        self.verify = results.load_verify(os.path.join(CPU_RUN, "verify.json"))
        self.k = {k["name"]: k for k in self.verify["kernels"]}

    def test_max_ulp_ignores_non_integer_gamma(self):
        # the fixture has a typical-family entry at gamma 0.5 with 9999 ULP (relative bound there)
        self.assertEqual(results.measured_max_ulp(self.k["avx512"], "dense"), 3)
        self.assertEqual(results.measured_max_ulp(self.k["avx512_fast"], "labels"), 40)

    def test_unavailable_kernel(self):
        ok, _, _, why = choose.accuracy_verdict(self.k["cuda_warp"], "dense", 4)
        self.assertFalse(ok)
        self.assertIn("unavailable", why)


class Choose(unittest.TestCase):
    rec = results.load_run(CPU_RUN)

    def test_fastest_accurate_kernel(self):
        r = choose.choose(self.rec, 2 ** 24)
        self.assertEqual(r["chosen"]["kernel"], "openmp")
        self.assertEqual(r["chosen"]["how"], "measured at 2^24")
        self.assertEqual(r["runner_up"]["kernel"], "avx512_fast")
        self.assertIn("declared bound 64 ULP > 4", r["runner_up"]["lost"])

    def test_looser_bound_admits_the_fast_tier(self):
        r = choose.choose(self.rec, 2 ** 16, max_ulp=64)
        self.assertEqual(r["chosen"]["kernel"], "avx512_fast")
        r = choose.choose(self.rec, 2 ** 16, max_ulp=39)   # declared 64 > 39
        self.assertEqual(r["chosen"]["kernel"], "avx512")

    def test_measured_error_counts_too(self):
        r = choose.choose(self.rec, 2 ** 16, max_ulp=3.5)   # avx2 measured 4 ULP: out
        avx2 = next(c for c in r["ranking"] if c["kernel"] == "avx2")
        self.assertFalse(avx2["ok"])
        self.assertIn("declared bound 4 ULP > 3.5", avx2["reason"])
        r = choose.choose(self.rec, 2 ** 16, max_ulp=0.5)
        self.assertIsNone(r["chosen"])

    def test_interpolation_and_nearest(self):
        ips, how = choose.estimate([(2 ** 10, 1.0), (2 ** 20, 2.0)], 2 ** 15)
        self.assertAlmostEqual(ips, 1.5)
        self.assertIn("interpolated in log2 n between 2^10 and 2^20", how)
        ips, how = choose.estimate([(2 ** 10, 1.0), (2 ** 20, 2.0)], 2 ** 30)
        self.assertEqual(ips, 2.0)
        self.assertIn("nearest measured size 2^20", how)

    def test_errors(self):
        with self.assertRaisesRegex(results.ResultsError, "unknown op"):
            choose.choose(self.rec, 100, op="backward")
        with self.assertRaisesRegex(results.ResultsError, "unknown layout"):
            choose.choose(self.rec, 100, layout="sparse")
        with self.assertRaisesRegex(results.ResultsError, "no verify.json"):
            choose.choose(results.load_run(GPU_RUN), 100)


class ChooseKernelCommand(unittest.TestCase):
    def test_answers(self):
        p = script("choose-kernel", "--n", "1000000", "--results", CPU)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("choose: openmp", p.stdout)
        self.assertIn("interpolated in log2 n between 2^16 and 2^20", p.stdout)
        self.assertIn("runner-up: avx512_fast", p.stdout)
        p = script("choose-kernel", "--n", "2^10", "--op", "grad", "--layout", "labels",
                   "--results", CPU_RUN, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["chosen"]["kernel"], "avx512")

    def test_bad_arguments(self):
        for args, want in ((["--n", "0"], "positive integer"), (["--n", "12abc"], "positive integer"),
                           (["--n", "-5"], "positive integer"), ([], "--n"),
                           (["--n", "5", "--layout", "sparse"], "invalid choice"),
                           (["--n", "5", "--op", "fwd"], "invalid choice"),
                           (["--n", "5", "--max-ulp", "-1"], "ULPs >= 0")):
            p = script("choose-kernel", *args, "--results", CPU)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(want, p.stderr, args)

    def test_missing_results(self):
        p = script("choose-kernel", "--n", "5", "--results", os.path.join(FIXTURES, "nope"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("no such directory", p.stderr)
        p = script("choose-kernel", "--n", "5", env={"FOCAL_MACHINE_ID": "no-such-machine-for-tests"})
        self.assertEqual(p.returncode, 1)
        self.assertIn("no recorded results for this machine (no-such-machine-for-tests)", p.stderr)
        self.assertIn("./scripts/run", p.stderr)
        with tempfile.TemporaryDirectory() as d:
            p = script("choose-kernel", "--n", "5", "--results", d)
            self.assertEqual(p.returncode, 1)
            self.assertIn("no recorded run there", p.stderr)

    def test_no_kernel_meets_the_bound(self):
        p = script("choose-kernel", "--n", "5", "--max-ulp", "0.1", "--results", CPU)
        self.assertEqual(p.returncode, 3)
        self.assertIn("no kernel meets the bound", p.stdout)


class CompareCommand(unittest.TestCase):
    def test_newest_run_of_each_machine(self):
        with tempfile.TemporaryDirectory() as out:
            p = script("compare", "--out", out, FIXTURES)
            self.assertEqual(p.returncode, 0, p.stderr)
            header = p.stdout.splitlines()[0]
            self.assertIn("fixture-cpu-2c/2026-11-28-abc1234", header)
            self.assertIn("fixture-gpu-16c-h200/2026-11-28-def5678", header)
            self.assertNotIn("2026-11-01", header)   # older run of the same machine
            row = next(l for l in p.stdout.splitlines() if "| focal_sum | dense | `avx2` | 2^16 |" in l)
            self.assertTrue(row.rstrip().endswith("| 0.900 | — |"), row)   # no avx2 on the GPU machine
            row = next(l for l in p.stdout.splitlines() if "`cuda_warp` | 2^28 |" in l)
            self.assertIn("| — | 400 |", row)
            self.assertTrue(os.path.isfile(os.path.join(out, "compare.md")))
            if HAVE_MPL:
                self.assertTrue(os.path.isfile(os.path.join(out, "compare_focal_sum_dense.png")))

    def test_two_runs_of_one_machine(self):
        with tempfile.TemporaryDirectory() as out:
            old = os.path.join(CPU, "2026-11-01-0000000")
            p = script("compare", "--out", out, "--op", "sum", "--no-plots", old, CPU_RUN)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("2026-11-01-0000000", p.stdout.splitlines()[0])

    def test_errors(self):
        p = script("compare", os.path.join(FIXTURES, "nope"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("no such directory", p.stderr)
        with tempfile.TemporaryDirectory() as d:
            p = script("compare", d)
            self.assertEqual(p.returncode, 1)
            self.assertIn("no recorded runs here", p.stderr)
        p = script("compare", "--op", "backward", FIXTURES)
        self.assertEqual(p.returncode, 2)
        self.assertIn("invalid choice", p.stderr)


class Summary(unittest.TestCase):
    def test_summary_of_a_run(self):
        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "fixture-cpu-2c", "2026-11-28-abc1234")
            shutil.copytree(CPU_RUN, run)
            p = subprocess.run([sys.executable, os.path.join(LIB, "summary.py"), run],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(run, "summary.md")) as f:
                text = f.read()
            self.assertIn("## Headline (n = 2^24", text)
            self.assertIn("| `avx512` | 1.50 | 0.880 | 1.44 | 10.0x | 88x | 147x | 75% | 1.5 / 3 |", text)
            self.assertIn("| 2^24 | `openmp` (3.04 G/s) | `openmp` (1.67 G/s) |", text)
            self.assertIn("| `cuda_warp` | unavailable |", text)
            if HAVE_MPL:
                for png in ("throughput.png", "error_vs_x.png"):
                    self.assertGreater(os.path.getsize(os.path.join(run, png)), 10000, png)


class ArgumentChecks(unittest.TestCase):
    def test_run(self):
        p = script("run", "--bogus")
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown argument '--bogus'", p.stderr)

    def test_peer_torch(self):
        peer = os.path.join(ROOT, "scripts", "peer_torch.py")
        with tempfile.TemporaryDirectory() as d:
            for args, want in ((["--device", "tpu"], "invalid choice"),
                               (["--device", "cpu", "--sizes", "ten"], "log2 sizes"),
                               (["--device", "cpu", "--sizes", "40"], "0..31"),
                               (["--device", "cpu", "--repeat", "0"], "--repeat")):
                p = subprocess.run([sys.executable, peer, *args, "--json", os.path.join(d, "p.json")],
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 2, (args, p.stderr))
                self.assertIn(want, p.stderr, args)


if __name__ == "__main__":
    unittest.main(verbosity=2)
