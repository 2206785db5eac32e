"""The results reader (scripts/lib/results.py, names.py, jsonio.py) on fixtures made by a real
focal-bench run (make_fixtures.py), against focal-bench's own benchmark list, and on bad files:
every bad file is a ResultsError naming the problem, never a traceback or a silent value."""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

from common import CPU_RUN, GPU_RUN, LIB, ROOT, focal_bench

sys.path.insert(0, LIB)
import choose  # noqa: E402
import names  # noqa: E402
import results  # noqa: E402


def raw(path):
    with open(path) as f:
        return json.load(f)


class NamesMatchTheBench(unittest.TestCase):
    """names.py reads what bench/names.hpp defines: checked against the header and the program."""

    def test_header_words(self):
        with open(os.path.join(ROOT, "bench", "names.hpp")) as f:
            hpp = f.read()
        consts = dict(re.findall(r'inline constexpr const char\* (k\w+) = "([^"]+)"', hpp))
        self.assertEqual((consts["kOpSum"], consts["kOpGrad"]), names.OPS)
        self.assertEqual({v for k, v in consts.items() if k.startswith("kProbe")}, set(names.PROBES))
        self.assertEqual((consts["kArgN"], consts["kArgThreads"]), (names.ARG_N, names.ARG_THREADS))
        self.assertEqual((consts["kCounterFracRead"], consts["kCounterFracCopy"],
                          consts["kCounterBytesPerLogit"]),
                         (names.COUNTER_FRAC_READ, names.COUNTER_FRAC_COPY,
                          names.COUNTER_BYTES_PER_LOGIT))
        words = re.search(r"layout_word\(Layout l\) \{(.*?)\n\}", hpp, re.S).group(1)
        self.assertEqual(set(re.findall(r'case Layout::\w+: return "(\w+)"', words)), set(names.LAYOUTS))

    def test_layout_kind_and_dtype(self):
        for word in names.LAYOUTS:
            self.assertIn(names.layout_kind(word), ("dense", "soft", "labels"), word)
            self.assertIn(names.layout_dtype(word), names.DTYPES, word)
        self.assertEqual((names.layout_kind("labels_c80_bf16"), names.layout_dtype("labels_c80_bf16")),
                         ("labels", "bf16"))
        self.assertEqual((names.layout_kind("dense_fp16"), names.layout_dtype("dense_fp16")),
                         ("dense", "fp16"))
        self.assertEqual((names.layout_kind("labels_c80"), names.layout_dtype("labels_c80")),
                         ("labels", "fp32"))

    def test_every_benchmark_name_parses(self):
        bench = focal_bench()
        if bench is None:
            self.skipTest("focal-bench is not built (set FOCAL_BUILD_DIR)")
        p = subprocess.run([bench, "--benchmark_list_tests", "--focal_sizes=10,12",
                            "--focal_layouts=" + ",".join(names.LAYOUTS)], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        listed = p.stdout.split()
        self.assertGreater(len(listed), 10)
        seen_layouts = set()
        for name in listed:
            parsed = names.parse_bench_name(name)
            self.assertIsNotNone(parsed, name)
            op, kernel, layout, n, threads = parsed
            self.assertIn(n, (1024, 4096), name)
            if op.startswith("probe_"):
                self.assertIn(op, names.PROBES)
            else:
                self.assertIn(op, names.OPS)
                seen_layouts.add(layout)
        self.assertEqual(seen_layouts, set(names.LAYOUTS))


class FocalBenchCommandLine(unittest.TestCase):
    """focal-bench's own flags and exit status (bench/focal_bench.cpp)."""

    def bench(self, *args):
        bench = focal_bench()
        if bench is None:
            self.skipTest("focal-bench is not built (set FOCAL_BUILD_DIR)")
        return subprocess.run([bench, *args], capture_output=True, text=True, timeout=120)

    def test_help_lists_our_flags(self):
        p = self.bench("--help")
        self.assertEqual(p.returncode, 0)
        for flag in ("--focal_sizes", "--focal_kernels", "--focal_layouts", "--focal_threads",
                     "--focal_scalar_max", "--benchmark_filter", "Exit status"):
            self.assertIn(flag, p.stdout)

    def test_nothing_to_run_is_an_error(self):
        quick = ["--focal_sizes=10", "--benchmark_min_time=0.001"]
        for args, code, want in ((["--benchmark_filter=no-such-benchmark"], 1, "no benchmark matched"),
                                 (["--focal_kernels=no_such_kernel"], 2, "--focal_kernels"),
                                 (["--focal_layouts=sparse"], 2, "unknown layout 'sparse'"),
                                 (["--focal_sizes=40"], 2, "in [10, 28]"),
                                 (["--focal_bogus=1"], 2, "unknown flag"),
                                 (["--focal_threads=0"], 2, "--focal_threads: expected integers in [1, "),
                                 (["--focal_threads=99999"], 2, "this machine's cores), got '99999'"),
                                 (["--focal_threads=1,two"], 2, "got 'two'"),
                                 (["--focal_threads=,"], 2, "--focal_threads: empty item"),
                                 (["--focal_sizes=10,,12"], 2, "--focal_sizes: empty item in the list '10,,12'"),
                                 (["--focal_layouts=dense,"], 2, "--focal_layouts: empty item"),
                                 (["--benchmark_format=xml"], 2, "--benchmark_format: expected console or json"),
                                 (["--benchmark_out_format=csv", "--benchmark_out=/tmp/x.csv"], 2,
                                  "csv is not supported"),
                                 (["--benchmark_out=/dev/full"], 1, "cannot write to it"),
                                 (["--benchmark_out=/nonexistent-dir/x.json"], 1, "cannot write"),
                                 (["--benchmark_out=/tmp"], 1, "cannot write")):
            p = self.bench(*quick, "--focal_kernels=scalar", *args)
            self.assertEqual(p.returncode, code, (args, p.stderr[-300:]))
            self.assertIn(want, p.stderr, args)
        # a kernel that cannot run here (e.g. cuda_warp without a GPU) is an error, not a probe-only run
        unavailable = [line.split()[0] for line in subprocess.run(
            [os.path.join(os.path.dirname(focal_bench()), "focal-eval"), "--list"], capture_output=True,
            text=True, timeout=60).stdout.splitlines() if " unavailable " in f" {line} "]
        for k in unavailable[:1]:
            p = self.bench(*quick, f"--focal_kernels={k}")
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(f"kernel '{k}' is unavailable here", p.stderr)


    def test_stdout_not_writable_is_an_error(self):
        bench = focal_bench()
        if bench is None:
            self.skipTest("focal-bench is not built (set FOCAL_BUILD_DIR)")
        for args in (["--benchmark_list_tests", "--focal_sizes=10", "--focal_kernels=scalar"],
                     ["--focal_sizes=10", "--focal_kernels=scalar", "--focal_layouts=dense_bf16",
                      "--benchmark_min_time=0.001", "--benchmark_filter=focal_sum"],
                     ["--version"]):
            with open("/dev/full", "w") as full:
                p = subprocess.run([bench, *args], stdout=full, stderr=subprocess.PIPE, text=True,
                                   timeout=120)
            self.assertEqual(p.returncode, 1, (args, p.stderr[-300:]))
            self.assertIn("writing the results to stdout failed", p.stderr)

    def test_repeated_list_items_run_once(self):
        # a kernel, layout or size named twice is benchmarked once (no duplicate names in the JSON)
        p = self.bench("--benchmark_list_tests", "--focal_sizes=10,10", "--focal_kernels=scalar,scalar",
                       "--focal_layouts=dense_fp16,dense_fp16")
        self.assertEqual(p.returncode, 0, p.stderr)
        listed = p.stdout.split()
        self.assertIn("focal_sum/scalar/dense_fp16/n:1024/real_time", listed)
        self.assertEqual(len(listed), len(set(listed)), listed)

    def test_output_cut_short_is_an_error(self):
        import resource
        import signal

        def limit():   # a 2 KiB file size limit: the JSON is cut short, write() fails past it
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
        bench = focal_bench()
        if bench is None:
            self.skipTest("focal-bench is not built (set FOCAL_BUILD_DIR)")
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "o.json")
            p = subprocess.run([bench, "--focal_sizes=10,12", "--focal_kernels=scalar", "--focal_layouts=dense",
                                "--benchmark_min_time=0.001", f"--benchmark_out={out}"],
                               capture_output=True, text=True, timeout=120, preexec_fn=limit)
            self.assertEqual(p.returncode, 1, p.stderr[-300:])
            self.assertIn("the file is cut short", p.stderr)
            self.assertEqual(os.path.getsize(out), 2048)

    def test_openmp_thread_counts(self):
        p = self.bench("--benchmark_list_tests", "--focal_sizes=10", "--focal_kernels=openmp",
                       "--focal_layouts=dense", "--focal_threads=1,1")
        if p.returncode == 2 and "unavailable" in p.stderr:
            self.skipTest("no openmp kernel in this build")
        self.assertEqual(p.returncode, 0, p.stderr)
        kernels = [n for n in p.stdout.split() if n.startswith("focal_")]
        self.assertEqual(kernels, ["focal_sum/openmp/dense/n:1024/threads:1/real_time",
                                   "focal_grad/openmp/dense/n:1024/threads:1/real_time"])


class Fixtures(unittest.TestCase):
    """The fixtures are a real run: Google Benchmark's shape and our conventions."""

    def test_real_run_shape(self):
        d = raw(os.path.join(CPU_RUN, "bench.json"))
        self.assertEqual(d["context"]["focal_build_type"], "Release")
        self.assertEqual(d["context"]["focal_machine_id"], "fixture-cpu-2c")
        kinds = {(b["run_type"], b.get("aggregate_name")) for b in d["benchmarks"]}
        self.assertIn(("iteration", None), kinds)     # raw repetitions kept (U test material)
        self.assertIn(("aggregate", "median"), kinds)
        for b in d["benchmarks"]:
            if b["run_type"] == "iteration":
                self.assertGreater(b["bytes_per_second"], 0, b["name"])
                self.assertIn("/n:", b["name"])

    def test_peers_are_benchmark_json(self):
        for f in ("peer_torch_cpu.json", "peer_jax_cpu.json"):
            path = os.path.join(CPU_RUN, f)
            if not os.path.isfile(path):
                continue
            ms, ctx = results.load_bench(path)
            self.assertTrue(ms, f)
            self.assertTrue(all(m.is_peer and m.threads in (1, 2) for m in ms), f)


class GoogleBenchmarkCompare(unittest.TestCase):
    """Google Benchmark's own tools/compare.py (Debian: libbenchmark-tools) reads a peer beside
    focal-bench, with the U test over the raw repetitions."""
    COMPARE = "/usr/share/benchmark/compare.py"

    def test_peer_against_kernel(self):
        if not os.path.isfile(self.COMPARE):
            self.skipTest(f"{self.COMPARE} not installed (apt-get install libbenchmark-tools)")
        p = subprocess.run(["/usr/bin/python3", self.COMPARE, "--no-color", "-a", "benchmarksfiltered",
                            os.path.join(CPU_RUN, "peer_torch_cpu.json"), "focal_sum/torch_eager/dense/n:16384/threads:1/",
                            os.path.join(CPU_RUN, "bench.json"), "focal_sum/avx2/dense/n:16384/"],
                           capture_output=True, text=True, timeout=120)
        if "No module named" in p.stderr:
            self.skipTest(f"compare.py's dependencies are missing: {p.stderr.strip().splitlines()[-1]}")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("U Test, Repetitions: 2 vs 2", p.stdout)
        self.assertIn("real_time_median", p.stdout)


class Reading(unittest.TestCase):
    def test_median_aggregate_wins(self):
        d = raw(os.path.join(CPU_RUN, "bench.json"))
        medians = {b["run_name"]: b["items_per_second"] for b in d["benchmarks"]
                   if b.get("aggregate_name") == "median"}
        ms, _ = results.load_bench(os.path.join(CPU_RUN, "bench.json"))
        self.assertEqual(len(ms), len(medians))
        for m in ms:
            self.assertEqual(m.items_per_second, medians[m.name], m.name)

    def test_threads_collapse_to_the_largest_count(self):
        run = results.load_run(CPU_RUN)
        omp = [m for m in run.bench if m.kernel == "openmp" and m.op == "focal_sum"
               and m.layout == "dense" and m.n == 2 ** 14]
        self.assertEqual([m.threads for m in omp], [2])

    def test_peers_at_every_thread_count(self):
        run = results.load_run(CPU_RUN)
        self.assertEqual(run.peer("cpu", "torch_eager", "focal_sum", 2 ** 14, 2).threads, 2)
        self.assertEqual(run.peer("cpu", "torch_eager", "focal_sum", 2 ** 14).threads, 1)

    def test_cuda_rows(self):
        run = results.load_run(GPU_RUN)
        warp = [m for m in run.bench if m.kernel == "cuda_warp"]
        self.assertTrue(warp)
        self.assertEqual({m.layout for m in warp}, {"dense"})

    def test_old_recorded_run(self):
        old = os.path.join(ROOT, "results", "intel-xeon-processor-2c", "2026-11-28-b08f83a")
        if not os.path.isdir(old):
            self.skipTest("the recorded run is gone")
        run = results.load_run(old)
        self.assertTrue(any(m.kernel == "avx512" and m.layout == "labels_c80" for m in run.bench))
        self.assertTrue(run.peers["cpu"])
        # and the CUDA benchmarks' old layout words read as today's
        self.assertEqual(names.parse_bench_name("focal_sum/cuda_warp/dense_u8/1024/manual_time")[2], "dense")

    def test_names(self):
        P = names.parse_bench_name
        self.assertEqual(P("focal_grad/openmp/labels_c80/n:65536/threads:2/real_time"),
                         ("focal_grad", "openmp", "labels_c80", 65536, 2))
        self.assertEqual(P("probe_cuda_read/n:1024/manual_time"), ("probe_cuda_read", "probe_cuda_read", "", 1024, None))
        for bad in ("BM_x/3", "focal_sum/avx512/dense/n:abc", "focal_sum/avx512/dense/n:0",
                    f"focal_sum/avx512/dense/n:{10 ** 30}", "focal_sum/a/dense/n:4/threads:x", 7, None):
            self.assertIsNone(P(bad), bad)


def write(d, name, text, binary=False):
    path = os.path.join(d, name)
    with open(path, "wb" if binary else "w") as f:
        f.write(text)
    return path


class BadFiles(unittest.TestCase):
    def bench_with(self, d, entry):
        base = {"name": "focal_sum/avx512/dense/n:1024/real_time", "run_type": "iteration",
                "time_unit": "ns", "real_time": 10.0, "items_per_second": 1e9}
        base.update(entry)
        return write(d, "bench.json", json.dumps({"context": {}, "benchmarks": [base]}))

    def assertRejects(self, path, pattern, loader=results.load_bench):
        with self.assertRaisesRegex(results.ResultsError, pattern):
            loader(path)

    def test_not_json(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertRejects(write(d, "b.json", b"\xff\xfe{", True), "not UTF-8")
            self.assertRejects(write(d, "b.json", "[" * 100000 + "]" * 100000), "nested too deeply|not valid JSON")
            self.assertRejects(write(d, "b.json", "{not json"), "not valid JSON")
            self.assertRejects(write(d, "b.json", '{"x": 1}'), "not a Google Benchmark")
            self.assertRejects(d, "is a directory")
            self.assertRejects(os.path.join(d, "none.json"), "no such file")

    def test_wrong_types_and_non_finite_numbers(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertRejects(self.bench_with(d, {"name": 7, "run_name": 7}), r"name: expected a string, got int")
            self.assertRejects(write(d, "b.json", '{"benchmarks": [{"name": "focal_sum/a/dense/n:4", '
                                                  '"items_per_second": NaN}]}'), "NaN is not valid JSON")
            self.assertRejects(write(d, "b.json", '{"benchmarks": [{"name": "focal_sum/a/dense/n:4", '
                                                  '"items_per_second": Infinity}]}'), "Infinity is not valid JSON")
            self.assertRejects(self.bench_with(d, {"items_per_second": True}), "items_per_second.*finite positive number")
            self.assertRejects(self.bench_with(d, {"items_per_second": "1e9"}), "items_per_second")
            self.assertRejects(write(d, "b.json", '{"benchmarks": [{"name": "focal_sum/a/dense/n:4", '
                                                  '"items_per_second": 1e400}]}'), "items_per_second")
            self.assertRejects(self.bench_with(d, {"time_unit": "fortnights"}), "time_unit")
            # adversarial pass: these raised TypeError (a traceback) instead of the file's error
            self.assertRejects(self.bench_with(d, {"bytes_per_second": "x"}), "bytes_per_second.*finite positive")
            self.assertRejects(self.bench_with(d, {"bytes_per_second": [1]}), "bytes_per_second.*finite positive")
            self.assertRejects(self.bench_with(d, {"time_unit": []}), "time_unit.*ns, us, ms or s")
            self.assertRejects(self.bench_with(d, {"time_unit": {"a": 1}}), "time_unit.*ns, us, ms or s")
            self.assertRejects(write(d, "b.json", '{"benchmarks": [], "context": []}'), "context: expected an object")

    def test_verify_types(self):
        good = raw(os.path.join(CPU_RUN, "verify.json"))
        cases = (("bound", "4", r"bound: expected an object, got str"),
                 ("bound", {"ulp": "4"}, r"bound.ulp: expected a finite number"),
                 ("families", {"family": "typical"}, r"families: expected a list, got dict"),
                 ("name", 3, r"name: expected a string, got int"),
                 ("pass", 1, r"pass: expected true or false"),
                 ("pass", None, r"pass: expected true or false \(null only where available is false\)"))
        with tempfile.TemporaryDirectory() as d:
            for key, value, pattern in cases:
                bad = json.loads(json.dumps(good))
                bad["kernels"][0][key] = value
                self.assertRejects(write(d, "verify.json", json.dumps(bad)), pattern, results.load_verify)
            # what focal-verify writes for a kernel it could not run (a CUDA build without a GPU)
            skipped = json.loads(json.dumps(good))
            skipped["kernels"][0].update({"available": False, "pass": None, "families": []})
            results.load_verify(write(d, "verify.json", json.dumps(skipped)))

    def test_meta_as_list(self):
        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "2026-01-01-x")
            os.makedirs(run)
            write(run, "bench.json", json.dumps(raw(os.path.join(CPU_RUN, "bench.json"))))
            write(run, "meta.json", "[1, 2]")
            with self.assertRaisesRegex(results.ResultsError, r"meta.json: top level: expected an object, got list"):
                results.load_run(run)

    def test_unbounded_error_never_meets_a_bound(self):
        entry = {"name": "k", "bound": {"ulp": 4}, "available": True, "pass": True,
                 "families": [{"family": "typical", "gamma": 2, "loss": {"max_ulp": None}, "grad": {"max_ulp": 1}}]}
        ok, _, measured, why = choose.accuracy_verdict(entry, "dense", 4)
        self.assertFalse(ok)
        self.assertEqual(measured, float("inf"))
        self.assertIn("unbounded", why)


if __name__ == "__main__":
    unittest.main(verbosity=2)
