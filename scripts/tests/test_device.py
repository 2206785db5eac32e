"""The GPU machine's side of the scripts, on the fixtures (no GPU here): choose-kernel with the
data on the host (transfers counted, the CPU<->GPU crossover), device-check's last table, and
filing what device-check left (runinfo.py merge-bench / import-device). Bad input: a clear error
and an exit status, no traceback."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from common import CPU_RUN, GPU_RUN, LIB, ROOT, build_dir, lib, script, tool
from test_commands import no_traceback


def gpu_run_without(d, drop):
    """A copy of the GPU fixture run in d whose bench.json lacks the rows drop(name) is true of."""
    run = os.path.join(d, "2026-11-28-def5678")
    shutil.copytree(GPU_RUN, run)
    path = os.path.join(run, "bench.json")
    with open(path) as f:
        doc = json.load(f)
    doc["benchmarks"] = [b for b in doc["benchmarks"] if not drop(b["name"])]
    with open(path, "w") as f:
        json.dump(doc, f)
    return run


class ChooseKernelHostData(unittest.TestCase):
    """--data host on the GPU fixture (CPU and CUDA rows, invented slow transfer probes)."""

    def rows(self):
        with open(os.path.join(GPU_RUN, "bench.json")) as f:
            return {b["run_name"].rsplit("/", 1)[0]: b for b in json.load(f)["benchmarks"]
                    if b.get("run_type") == "iteration" and b["name"].endswith("/manual_time")}

    def test_transfers_are_counted_for_gpu_kernels_only(self):
        n = 2 ** 27
        rows = self.rows()
        kernel = rows[f"focal_sum/cuda_warp/dense/n:{n}"]["items_per_second"]
        h2d = rows[f"probe_cuda_h2d/n:{n}"]["bytes_per_second"]
        grad = rows[f"focal_grad/cuda_warp/dense/n:{n}"]
        d2h = rows[f"probe_cuda_d2h/n:{n}"]["bytes_per_second"]
        up = rows[f"focal_sum/cuda_warp/dense/n:{n}"]["bytes_per_second"] / kernel   # 5 B per logit
        down = grad["bytes_per_second"] / grad["items_per_second"] - up              # 4 B per logit
        for op, want in (("sum", n / (n / kernel + up * n / h2d)),
                         ("grad", n / (n / grad["items_per_second"] + up * n / h2d + down * n / d2h))):
            p = script("choose-kernel", "--n", "2^27", "--op", op, "--data", "host", "--results", GPU_RUN, "--json")
            self.assertIn(p.returncode, (0, 3), p.stderr)
            r = json.loads(p.stdout)
            got = {c["kernel"]: c for c in r["ranking"]}
            self.assertAlmostEqual(got["cuda_warp"]["items_per_second"] / want, 1.0, places=9)
            self.assertIn("transfer", got["cuda_warp"]["how"])
            self.assertNotIn("transfer", got["avx2"]["how"])
            p = script("choose-kernel", "--n", "2^27", "--op", op, "--results", GPU_RUN, "--json")
            got = {c["kernel"]: c for c in json.loads(p.stdout)["ranking"]}
            self.assertEqual(got["cuda_warp"]["items_per_second"],
                             rows[f"focal_{op}/cuda_warp/dense/n:{n}"]["items_per_second"])

    def test_the_crossover_moves_with_the_data(self):
        p = script("choose-kernel", "--n", "2^10", "--results", GPU_RUN)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("choose: cuda_warp", p.stdout)
        self.assertNotIn("crossover", p.stdout)   # the GPU wins at every size
        p = script("choose-kernel", "--n", "2^10", "--data", "host", "--results", GPU_RUN)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("choose: avx2", p.stdout)
        self.assertIn("CPU<->GPU crossover, transfers counted", p.stdout)
        self.assertIn("n = 2^10: avx2 (CPU)", p.stdout)
        self.assertIn("n = 2^11..2^27: cuda_warp (GPU)", p.stdout)
        r = json.loads(script("choose-kernel", "--n", "2^10", "--data", "host", "--results", GPU_RUN,
                              "--json").stdout)
        self.assertEqual(r["data"], "host")
        self.assertEqual(r["by_size"], [
            {"from": 2 ** 10, "to": 2 ** 10, "kernel": "avx2", "gpu": False, "extrapolated": False},
            {"from": 2 ** 11, "to": 2 ** 27, "kernel": "cuda_warp", "gpu": True, "extrapolated": False}])
        # sizes beyond what the winner measured are said: with the CUDA rows cut to 2^10, the
        # sizes run to the CPU's 2^14 and cuda_warp wins there on its 2^10 figure
        with tempfile.TemporaryDirectory() as d:
            run = gpu_run_without(d, lambda name: "/cuda_" in name and "n:1024/" not in name)
            r = json.loads(script("choose-kernel", "--n", "2^10", "--results", run, "--json").stdout)
            self.assertEqual([(x["from"], x["to"], x["kernel"], x["extrapolated"]) for x in r["by_size"]],
                             [(2 ** 10, 2 ** 10, "cuda_warp", False), (2 ** 11, 2 ** 14, "cuda_warp", True)])

    def test_without_transfer_probes_the_gpu_kernels_are_not_chosen(self):
        with tempfile.TemporaryDirectory() as d:
            run = gpu_run_without(d, lambda name: "probe_cuda_h2d" in name)
            p = script("choose-kernel", "--n", "2^27", "--data", "host", "--results", run)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("choose: avx2", p.stdout)
            self.assertIn("no probe_cuda_h2d benchmark", p.stdout)
        p = script("choose-kernel", "--n", "5", "--data", "elsewhere", "--results", GPU_RUN)
        self.assertEqual(p.returncode, 2)
        self.assertIn("invalid choice", p.stderr)
        # a CPU-only run: --data host changes nothing
        a = script("choose-kernel", "--n", "2^14", "--results", CPU_RUN, "--json")
        b = script("choose-kernel", "--n", "2^14", "--data", "host", "--results", CPU_RUN, "--json")
        self.assertEqual(json.loads(a.stdout)["ranking"], json.loads(b.stdout)["ranking"])


class DeviceSummary(unittest.TestCase):
    def test_table_of_a_gpu_run(self):
        with tempfile.TemporaryDirectory() as d:
            shutil.copy(os.path.join(GPU_RUN, "bench.json"), d)
            with open(os.path.join(d, "tests.log"), "w") as f:
                f.write("100% tests passed, 0 tests failed out of 12\n")
            p = lib("device_summary.py", d, "build=ok", "tests=ok")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("GPU: NVIDIA H200", p.stdout)
            self.assertIn("ctest: 100% tests passed", p.stdout)
            row = next(l for l in p.stdout.splitlines() if l.startswith("focal_sum/cuda_warp/dense/n:134217728"))
            self.assertIn("400.00", row)
            with open(os.path.join(d, "bench.json"), "w") as f:
                f.write('{"benchmarks": [{"name": 1}]}')
            p = lib("device_summary.py", d)
            self.assertEqual(p.returncode, 1)
            no_traceback(self, p)

    def test_cpu_rows_verify_and_the_determinism_step(self):
        sys.path.insert(0, LIB)
        from names import DETERMINISM_MARKER
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(GPU_RUN, "bench.json")) as f:
                doc = json.load(f)
            # the host's CPU rows at 2^24 (copies of the fixture's 2^14 rows), no CUDA context
            rows = [dict(b, name=b["name"].replace("n:16384", f"n:{2 ** 24}"),
                         run_name=b["run_name"].replace("n:16384", f"n:{2 ** 24}"))
                    for b in doc["benchmarks"] if "n:16384" in b["name"] and "cuda" not in b["name"]]
            ctx = {k: v for k, v in doc["context"].items() if not k.startswith("cuda")}
            with open(os.path.join(d, "bench.json"), "w") as f:
                json.dump(dict(doc, context=ctx, benchmarks=rows), f)
            shutil.copy(os.path.join(GPU_RUN, "verify.json"), d)
            # sums of the staged tests (another seed) before the marker, the step's after it
            with open(os.path.join(d, "tests.log"), "w") as f:
                f.write("[ sums ] cuda_warp n=1000 run 1: 0x1.9p+20\n" + DETERMINISM_MARKER +
                        "\n[ sums ] cuda_warp n=1000 run 1: 0x1.8p+20\n")
            p = lib("device_summary.py", d, "build=ok")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("GPU: none in bench.json's context", p.stdout)
            self.assertIn("focal-verify --quick: PASS", p.stdout)
            self.assertIn("determinism: cuda_warp n=1000 sum=0x1.8p+20", p.stdout)
            self.assertNotIn("0x1.9p+20", p.stdout)
            self.assertRegex(p.stdout, r"host CPU .*n = 2\^24")
            self.assertRegex(p.stdout, r"focal_sum +avx2 +[0-9.]+ Glogit/s")

    def test_summary_has_the_host_data_columns(self):
        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "2026-11-28-def5678")
            shutil.copytree(GPU_RUN, run)
            p = lib("summary.py", run, "--no-plots")
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(run, "summary.md")) as f:
                text = f.read()
            self.assertIn("sum, data on the host (transfers counted)", text)
            self.assertIn("sum: fastest at <= 4 ULP, data on each device", text)


class FilingADeviceRun(unittest.TestCase):
    def test_merge_bench_and_import_device(self):
        with tempfile.TemporaryDirectory() as d:
            out, results = os.path.join(d, "out"), os.path.join(d, "results")
            os.makedirs(out)
            with open(os.path.join(GPU_RUN, "bench.json")) as f:
                doc = json.load(f)
            gpu = dict(doc, benchmarks=[b for b in doc["benchmarks"] if "cuda" in b["name"]])
            cpu = dict(doc, benchmarks=[b for b in doc["benchmarks"] if "cuda" not in b["name"]])
            for name, part in (("bench.json", gpu), ("cpu.json", cpu)):
                with open(os.path.join(out, name), "w") as f:
                    json.dump(part, f)
            p = lib("runinfo.py", "merge-bench", os.path.join(out, "bench.json"), os.path.join(out, "cpu.json"))
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(out, "bench.json")) as f:
                self.assertEqual(json.load(f)["benchmarks"], gpu["benchmarks"] + cpu["benchmarks"])
            # twice: the same names again; another machine; not benchmark JSON: errors, OUT untouched
            other = dict(cpu, context=dict(cpu["context"], focal_machine_id="another-machine"))
            with open(os.path.join(out, "other.json"), "w") as f:
                json.dump(other, f)
            with open(os.path.join(out, "bad.json"), "w") as f:
                f.write('{"context": {}, "benchmarks": [')
            for extra, want in (("cpu.json", "already in"), ("other.json", "another-machine"),
                                ("bad.json", "bad.json"), ("missing.json", "missing.json")):
                with open(os.path.join(out, "bench.json")) as f:
                    before = f.read()
                p = lib("runinfo.py", "merge-bench", os.path.join(out, "bench.json"), os.path.join(out, extra))
                self.assertEqual(p.returncode, 1, (extra, p.stderr))
                self.assertIn(want, p.stderr)
                no_traceback(self, p)
                with open(os.path.join(out, "bench.json")) as f:
                    self.assertEqual(f.read(), before)
            for name in ("cpu.json", "other.json", "bad.json"):
                os.remove(os.path.join(out, name))
            shutil.copy(os.path.join(GPU_RUN, "verify.json"), out)
            open(os.path.join(out, "summary.txt"), "w").close()
            p = lib("runinfo.py", "import-device", out, results)
            self.assertEqual(p.returncode, 0, p.stderr)
            ctx = gpu["context"]
            run = os.path.join(results, ctx["focal_machine_id"], f"{ctx['date'][:10]}-{ctx['focal_git_revision'][:7]}")
            self.assertEqual(p.stdout.strip(), run)
            self.assertEqual(sorted(os.listdir(run)), ["bench.json", "meta.json", "summary.txt", "verify.json"])
            with open(os.path.join(run, "meta.json")) as f:
                self.assertEqual(json.load(f)["machine_id"], ctx["focal_machine_id"])
            p = lib("runinfo.py", "import-device", out, results)   # the run is there already
            self.assertEqual(p.returncode, 1)
            self.assertIn("exists already", p.stderr)
            os.remove(os.path.join(out, "bench.json"))
            p = lib("runinfo.py", "import-device", out, os.path.join(d, "r2"))
            self.assertEqual(p.returncode, 1)
            self.assertIn("bench.json", p.stderr)
            no_traceback(self, p)
        p = script("device-check", "--import")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--import takes one DIR", p.stderr)



class DeviceCheckRehearsal(unittest.TestCase):
    """scripts/device-check end to end on this machine's build carried as its stage (a GPU-less
    rehearsal of the device call: the GPU steps skip, the host's CPU steps and the filing run),
    in a copy of the repo's layout so that --import writes nowhere real."""

    def test_staged_call_then_import(self):
        if not (tool("focal-bench") and tool("focal-verify") and tool("focal-eval")):
            self.skipTest("the tools are not built (set FOCAL_BUILD_DIR)")
        with tempfile.TemporaryDirectory() as d:
            root = os.path.join(d, "repo")
            os.makedirs(root)
            os.symlink(os.path.join(ROOT, "scripts"), os.path.join(root, "scripts"))
            os.symlink(os.path.abspath(build_dir()), os.path.join(root, "build-stage"))
            out = os.path.join(d, "out")
            env = dict(os.environ, FOCAL_DEVICE_USE_STAGE="1", FOCAL_DEVICE_TESTS="^test_support$",
                       FOCAL_DEVICE_CPU_SIZES="10", FOCAL_BENCH_MIN_TIME="0.001", OMP_NUM_THREADS="1")
            p = subprocess.run([os.path.join(root, "scripts", "device-check"), out], capture_output=True,
                               text=True, env=env, timeout=600)
            self.assertEqual(p.returncode, 0, p.stdout[-2000:] + p.stderr[-2000:])
            files = sorted(os.listdir(out))
            self.assertLessEqual(len(files), 8)   # what a device call brings back
            self.assertEqual(files, ["bench.json", "build.log", "run.log", "summary.txt", "tests.log",
                                     "verify.json"])
            with open(os.path.join(out, "summary.txt")) as f:
                summary = f.read()
            self.assertIn("build=staged", summary)
            self.assertIn("tests=ok", summary)
            self.assertIn("cpu_bench=ok", summary)
            self.assertIn("verify=ok", summary)
            with open(os.path.join(out, "bench.json")) as f:
                names = [b["name"] for b in json.load(f)["benchmarks"]]
            self.assertIn("probe_read/n:1024/real_time", names)
            self.assertTrue(any(n.startswith("focal_sum/scalar/dense/n:1024") for n in names), names)
            self.assertFalse(any("cuda" in n for n in names))
            # OMP_NUM_THREADS does not shrink the thread list: the cores focal-bench sees do
            cores = len(os.sched_getaffinity(0))
            if cores > 1 and any("/openmp/" in n for n in names):
                self.assertTrue(any(n.endswith(f"/threads:{cores}/real_time") for n in names), names)
            p = subprocess.run([os.path.join(root, "scripts", "device-check"), "--import", out],
                               capture_output=True, text=True, env=env, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            run = p.stdout.split("imported: ", 1)[1].split(" (", 1)[0]
            self.assertTrue(run.startswith(os.path.join(root, "results") + os.sep), run)
            self.assertTrue(os.path.isfile(os.path.join(run, "summary.md")))
            p = script("choose-kernel", "--n", "1024", "--results", run, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIsNotNone(json.loads(p.stdout)["chosen"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
