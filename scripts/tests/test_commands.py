"""The commands (choose-kernel, compare, summary, run/test/device-check, the peers, runinfo) on
the fixtures (a real focal-bench run, see make_fixtures.py): answers checked against the raw
JSON read here independently, and bad input: a clear error and an exit status, no traceback."""

import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from common import CPU, CPU_RUN, FIXTURES, OLD_RUN, ROOT, build_dir, lib, script, tool

HAVE_MPL = importlib.util.find_spec("matplotlib") is not None


def medians(path, op, layout, n):
    """{kernel: items/s} of the median aggregates (openmp: its largest thread count)."""
    with open(path) as f:
        d = json.load(f)
    out, threads = {}, {}
    for b in d["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        parts = b["run_name"].split("/")
        if parts[0] != op or parts[2] != layout or parts[3] != f"n:{n}":
            continue
        t = int(parts[4].split(":")[1]) if parts[4].startswith("threads:") else 0
        if t >= threads.get(parts[1], -1):
            threads[parts[1]] = t
            out[parts[1]] = b["items_per_second"]
    return out


def no_traceback(test, p):
    test.assertNotIn("Traceback", p.stderr + p.stdout)


class ChooseKernel(unittest.TestCase):
    def test_fastest_kernel_within_the_bound(self):
        ips = medians(os.path.join(CPU_RUN, "bench.json"), "focal_sum", "dense", 2 ** 14)
        accurate = {k: v for k, v in ips.items() if not k.endswith("_fast")}   # fixture bounds: *_fast 24 ULP
        want = max(accurate, key=accurate.get)
        p = script("choose-kernel", "--n", "2^14", "--results", CPU, "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        self.assertEqual(r["chosen"]["kernel"], want)
        self.assertEqual(r["chosen"]["items_per_second"], accurate[want])
        ranked = sorted(ips, key=ips.get, reverse=True)
        self.assertEqual(r["runner_up"]["kernel"], next(k for k in ranked if k != want))
        # a looser bound admits the fast tier
        fastest = ranked[0]
        p = script("choose-kernel", "--n", "2^14", "--max-ulp", "24", "--results", CPU_RUN, "--json")
        self.assertEqual(json.loads(p.stdout)["chosen"]["kernel"], fastest)

    def test_half_dtype_uses_the_half_benchmarks_and_accuracy_records(self):
        for dtype in ("fp16", "bf16"):
            ips = medians(os.path.join(CPU_RUN, "bench.json"), "focal_grad", f"dense_{dtype}", 2 ** 14)
            self.assertTrue(ips, dtype)
            # fixture: *_fast 24 ULP; avx512 has no half_bf16 record (when it was benchmarked)
            ok = {k: v for k, v in ips.items()
                  if not k.endswith("_fast") and not (dtype == "bf16" and k == "avx512")}
            p = script("choose-kernel", "--n", "2^14", "--op", "grad", "--dtype", dtype,
                       "--results", CPU, "--json")
            self.assertEqual(p.returncode, 0, p.stderr)
            r = json.loads(p.stdout)
            self.assertEqual((r["dtype"], r["chosen"]["kernel"]), (dtype, max(ok, key=ok.get)))
            self.assertEqual(r["chosen"]["items_per_second"], ok[r["chosen"]["kernel"]])
            self.assertEqual({c["layout"] for c in r["ranking"]}, {f"dense_{dtype}"})
            if dtype == "bf16" and "avx512" in ips:
                avx512 = next(c for c in r["ranking"] if c["kernel"] == "avx512")
                self.assertFalse(avx512["ok"])
                self.assertIn("no half_bf16 family", avx512["reason"])
        p = script("choose-kernel", "--n", "2^14", "--dtype", "fp16", "--results", CPU)
        self.assertIn("fp16 logits", p.stdout)
        # no half labels benchmarks in the fixture run: said, not guessed from fp32 rows
        p = script("choose-kernel", "--n", "2^14", "--layout", "labels", "--dtype", "bf16", "--results", CPU)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("no focal_sum benchmarks for the labels layout with bf16 logits", p.stderr)
        p = script("choose-kernel", "--n", "2^14", "--layout", "soft", "--dtype", "fp16", "--results", CPU)
        self.assertEqual(p.returncode, 2)   # a bad combination of arguments
        self.assertIn("the soft layout takes fp32 logits only", p.stderr)

    def test_text_answer_and_interpolation(self):
        p = script("choose-kernel", "--n", "4000", "--results", CPU)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("interpolated in log2 n between 2^10 and 2^14", p.stdout)
        self.assertIn("choose: ", p.stdout)

    def test_bad_arguments(self):
        for args, want in ((["--n", "0"], "positive integer"), (["--n", "12abc"], "positive integer"),
                           (["--n", "2^99"], "up to 2^40"), (["--n", "9" * 40], "up to 2^40"), ([], "--n"),
                           (["--n", "5", "--layout", "sparse"], "invalid choice"),
                           (["--n", "5", "--dtype", "fp8"], "invalid choice"),
                           (["--n", "5", "--max-ulp", "nan"], "ULPs >= 0"),
                           (["--n", "5", "--layout", "soft", "--dtype", "fp16"], "takes fp32 logits only")):
            p = script("choose-kernel", *args, "--results", CPU)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn(want, p.stderr, args)

    def test_missing_results_and_machine_id(self):
        p = script("choose-kernel", "--n", "5", "--results", os.path.join(FIXTURES, "nope"))
        self.assertEqual((p.returncode, "no such directory" in p.stderr), (1, True), p.stderr)
        if tool("focal-verify"):
            p = script("choose-kernel", "--n", "5", env={"FOCAL_MACHINE_ID": "no-such-machine-for-tests"})
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("no recorded results for this machine (no-such-machine-for-tests)", p.stderr)
        p = script("choose-kernel", "--n", "5", env={"FOCAL_BUILD_DIR": "/nonexistent-build"})
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot tell this machine's id", p.stderr)

    def test_no_kernel_meets_the_bound(self):
        p = script("choose-kernel", "--n", "5", "--max-ulp", "0.1", "--results", CPU)
        self.assertEqual(p.returncode, 3)
        self.assertIn("no kernel meets the bound", p.stdout)


class Compare(unittest.TestCase):
    def test_machines_and_ratios(self):
        with tempfile.TemporaryDirectory() as out:
            p = script("compare", "--out", out, FIXTURES)
            self.assertEqual(p.returncode, 0, p.stderr)
            header = p.stdout.splitlines()[0]
            cpu, gpu = "fixture-cpu-2c/2026-11-28-abc1234", "fixture-gpu-16c-h200/2026-11-28-def5678"
            self.assertIn(cpu, header)
            self.assertNotIn("2026-11-01", header)   # older run of the same machine
            self.assertIn(f"{gpu} / {cpu}", header)  # the ratio column
            row = next(l for l in p.stdout.splitlines() if "`cuda_warp` | 2^27 |" in l)
            self.assertIn("| — | 400 |", row)
            with open(os.path.join(out, "compare.json")) as f:
                doc = json.load(f)
            avx2 = next(r for r in doc["rows"] if r["kernel"] == "avx2" and r["op"] == "focal_sum"
                        and r["layout"] == "dense" and r["n"] == 2 ** 14)
            a, b = avx2["values"]
            self.assertAlmostEqual(avx2["ratios"][0], b / a)
            if HAVE_MPL:
                self.assertTrue(os.path.isfile(os.path.join(out, "compare_focal_sum_dense.png")))

    def test_json_and_peers(self):
        with tempfile.TemporaryDirectory() as out:
            p = script("compare", "--out", out, "--json", "--no-plots", "--op", "sum", OLD_RUN, CPU_RUN)
            self.assertEqual(p.returncode, 0, p.stderr)
            doc = json.loads(p.stdout)
            self.assertEqual(len(doc["runs"]), 2)
            self.assertTrue(any(r["kernel"] == "torch_eager" for r in doc["rows"]))

    def test_bad_out(self):
        with tempfile.TemporaryDirectory() as d:
            f = os.path.join(d, "file")
            open(f, "w").close()
            os.makedirs(os.path.join(d, "o", "compare.md"))
            for out, want in ((f, "not a directory"), ("/proc/focal-compare-test", "cannot create"),
                              (os.path.join(d, "o"), "is a directory")):
                p = script("compare", "--out", out, "--no-plots", CPU_RUN)
                self.assertEqual(p.returncode, 1, (out, p.stderr))
                self.assertIn(want, p.stderr)
                no_traceback(self, p)
        p = script("compare", "--out", "", "--no-plots", CPU_RUN)   # not the default folder
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--out: expected a directory", p.stderr)

    def test_errors(self):
        p = script("compare", os.path.join(FIXTURES, "nope"))
        self.assertEqual((p.returncode, "no such directory" in p.stderr), (1, True))
        p = script("compare", "--op", "backward", FIXTURES)
        self.assertEqual(p.returncode, 2)


class BadResultsThroughTheCommands(unittest.TestCase):
    """A damaged run directory: each command exits 1 naming the file, never a traceback."""

    def damaged(self, d, name, text):
        run = os.path.join(d, "m", "2026-11-28-x")
        shutil.copytree(CPU_RUN, run)
        with open(os.path.join(run, name), "wb" if isinstance(text, bytes) else "w") as f:
            f.write(text)
        return run

    def test_each_command(self):
        cases = (("bench.json", b"\xff\xfe\x00garbage", "not UTF-8"),
                 ("bench.json", "[" * 200000, "nested too deeply|not valid JSON"),
                 ("verify.json", '{"kernels": [{"name": 5}]}', "name: expected a string"),
                 ("verify.json", '{"kernels": [{"name": "avx2", "bound": {"ulp": "4"}}]}', "bound.ulp"),
                 ("verify.json", '{"kernels": [{"name": "avx2", "families": {}}]}', "families: expected a list"),
                 ("meta.json", "[]", "expected an object, got list"),
                 ("imbalance.json", '{"rows": [{"loss": 1}]}', "not an imbalance.py result"),
                 # an integer beyond float's range (JSON's are unbounded)
                 ("verify.json", '{"kernels": [{"name": "avx2", "bound": {"ulp": 1' + "0" * 400 + '}}]}',
                  "bound.ulp"))
        with open(os.path.join(CPU_RUN, "bench.json")) as f:
            huge = f.read().replace('"items_per_second": ', '"items_per_second": 9' + "9" * 400 + " + ", 1)
        huge = huge.replace(" + ", ", \"was\": ", 1)
        cases += (("bench.json", huge, "items_per_second .*expected a finite positive number"),)
        for name, text, want in cases:
            with tempfile.TemporaryDirectory() as d:
                run = self.damaged(d, name, text)
                runs = [script("choose-kernel", "--n", "1024", "--results", run),
                        script("compare", "--out", os.path.join(d, "cmp"), "--no-plots", run),
                        lib("summary.py", run, "--no-plots")]
                for p in runs[2:] if name == "imbalance.json" else runs:
                    self.assertEqual(p.returncode, 1, (name, text[:20], p.args, p.stderr))
                    self.assertRegex(p.stderr, want)
                    no_traceback(self, p)

    def test_huge_n_is_not_ours(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(CPU_RUN, "bench.json")) as f:
                data = json.load(f)
            data["benchmarks"].append(dict(data["benchmarks"][0], name=f"focal_sum/avx2/dense/n:{10 ** 40}",
                                           run_name=f"focal_sum/avx2/dense/n:{10 ** 40}"))
            run = self.damaged(d, "bench.json", json.dumps(data))
            p = lib("summary.py", run, "--no-plots")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertNotIn(str(10 ** 40), p.stdout)


class Summary(unittest.TestCase):
    def test_summary_of_a_run(self):
        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "fixture-cpu-2c", "2026-11-28-abc1234")
            shutil.copytree(CPU_RUN, run)
            p = lib("summary.py", run)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(os.path.join(run, "summary.md")) as f:
                text = f.read()
            self.assertIn("## Headline (n = 2^14", text)
            self.assertIn("vs PyTorch eager (torchvision) sum / grad", text)
            self.assertIn("| `cuda_warp` | unavailable |", text)
            # openmp on 2 threads is compared with the peer on 2 threads
            ips = medians(os.path.join(run, "bench.json"), "focal_sum", "dense", 2 ** 14)["openmp"]
            with open(os.path.join(run, "peer_torch_cpu.json")) as f:
                peer = next(b["items_per_second"] for b in json.load(f)["benchmarks"]
                            if b.get("aggregate_name") == "median" and
                            b["run_name"].startswith("focal_sum/torch_eager/dense/n:16384/threads:2/"))
            row = next(l for l in text.splitlines() if l.startswith("| `openmp` (2 threads) |"))
            r = ips / peer
            self.assertIn(f"| {r:.0f}x / " if r >= 10 else f"| {r:.2g}x / ", row)
            if HAVE_MPL:
                self.assertGreater(os.path.getsize(os.path.join(run, "throughput.png")), 10000)

    def test_half_peer_table_present_empty_or_absent(self):
        heading = "## Half-precision logits at extreme p_t: torchvision with half tensors (CPU)"
        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "fixture-cpu-2c", "2026-11-28-abc1234")
            shutil.copytree(CPU_RUN, run)
            for content, present in ((None, False), ("", False), ("\n \n", False),
                                     ("| dtype | x |\n|---|---|\n| fp16 | 4 |\n", True)):
                half = os.path.join(run, "half_peer_cpu.md")
                if content is None:
                    if os.path.exists(half):
                        os.remove(half)
                else:
                    with open(half, "w") as f:
                        f.write(content)
                p = lib("summary.py", run, "--no-plots")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(heading in p.stdout, present, repr(content))
                if present:
                    self.assertIn("| fp16 | 4 |", p.stdout)

    def test_unwritable_run_dir(self):
        p = lib("summary.py", "/proc/self", "--no-plots")
        self.assertEqual(p.returncode, 1)
        no_traceback(self, p)


class Hygiene(unittest.TestCase):
    def test_help(self):
        for name, first in (("run", "The main job"), ("test", "Builds everything"),
                            ("device-check", "The GPU check"), ("compare", "usage: compare"),
                            ("choose-kernel", "usage: choose-kernel")):
            p = script(name, "--help", timeout=30)
            self.assertEqual(p.returncode, 0, (name, p.stderr))
            self.assertTrue(p.stdout.startswith(first), (name, p.stdout[:80]))
            self.assertIn("Exit status", p.stdout, name)
            self.assertNotIn("set -", p.stdout, name)
            self.assertNotIn("== configure", p.stdout, name)   # scripts/test must not build

    def test_bad_arguments(self):
        for name, args, want in (("run", ["--bogus"], "unknown argument '--bogus'"),
                                 ("run", ["--peers", "some"], "expected none, light or all"),
                                 ("device-check", ["--bogus"], "unknown option"),
                                 ("device-check", ["a", "b"], "expected one OUTDIR")):
            p = script(name, *args, timeout=30)
            self.assertEqual(p.returncode, 2, (name, args, p.stderr))
            self.assertIn(want, p.stderr)


class Peers(unittest.TestCase):
    def peer(self, *args):
        return subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "peer_torch.py"), *args],
                              capture_output=True, text=True, timeout=120)

    def test_bad_arguments_fail_before_the_work(self):
        with tempfile.TemporaryDirectory() as d:
            j = os.path.join(d, "p.json")
            for args, code, want in ((["--device", "tpu"], 2, "invalid choice"),
                                     (["--sizes", "ten"], 2, "log2 sizes"),
                                     (["--gamma", "inf"], 2, "finite gamma"),
                                     (["--gamma", "nan"], 2, "finite gamma"),
                                     (["--threads", "0"], 2, "thread counts"),
                                     (["--repeat", "0"], 2, "--repeat")):
                p = self.peer(*args, "--json", j)
                self.assertEqual(p.returncode, code, (args, p.stderr))
                self.assertIn(want, p.stderr)
            for out, want in ((d, "is a directory"), (os.path.join(d, "no", "p.json"), "does not exist")):
                p = self.peer("--sizes", "10", "--json", out)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn(want, p.stderr)
                self.assertNotIn("G logits/s", p.stderr)   # failed before timing anything
                no_traceback(self, p)


class StdoutNotWritable(unittest.TestCase):
    """Results that cannot reach stdout (a full disk: /dev/full) are an error with a message and
    exit 1, not a traceback (as the C++ tools, verify/tests/cli_test.sh)."""

    def test_compare_choose_kernel_summary_on_dev_full(self):
        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "2026-11-28-abc1234")
            shutil.copytree(CPU_RUN, run)
            env = dict(os.environ, FOCAL_PYTHON=sys.executable, FOCAL_BUILD_DIR=build_dir())
            for prog, cmd in (
                    ("choose-kernel", [os.path.join(ROOT, "scripts", "choose-kernel"), "--n", "2^14",
                                       "--dtype", "fp16", "--results", run]),
                    ("choose-kernel", [os.path.join(ROOT, "scripts", "choose-kernel"), "--n", "2^14",
                                       "--json", "--results", run]),
                    ("compare", [os.path.join(ROOT, "scripts", "compare"), "--no-plots", "--out",
                                 os.path.join(d, "cmp"), run]),
                    ("summary", [sys.executable, os.path.join(ROOT, "scripts", "lib", "summary.py"),
                                 "--no-plots", run])):
                with open("/dev/full", "w") as full:
                    p = subprocess.run(cmd, stdout=full, stderr=subprocess.PIPE, text=True, env=env,
                                       timeout=120)
                self.assertEqual(p.returncode, 1, (cmd, p.stderr))
                self.assertIn(f"{prog}: writing the results to stdout failed", p.stderr)
                self.assertNotIn("Traceback", p.stderr)
                self.assertNotIn("Exception ignored", p.stderr)


class HalfPeer(unittest.TestCase):
    """verify/peer/torch_half_peer.py: a table with or without torch; bad flags are errors."""

    def peer(self, *args):
        return subprocess.run([sys.executable, os.path.join(ROOT, "verify", "peer", "torch_half_peer.py"),
                               *args], capture_output=True, text=True, timeout=300)

    def test_bad_bin_is_a_usage_error(self):
        with tempfile.TemporaryDirectory() as d:
            p = self.peer("--bin", d)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("no executable focal-reference", p.stderr)
            no_traceback(self, p)

    def test_table_with_or_without_torch(self):
        bindir = os.path.join(build_dir(), "bin")
        if not os.access(os.path.join(bindir, "focal-eval"), os.X_OK):
            self.skipTest("focal-eval is not built (set FOCAL_BUILD_DIR)")
        p = self.peer("--bin", bindir)
        self.assertEqual(p.returncode, 0, p.stderr)
        no_traceback(self, p)
        rows = [line for line in p.stdout.splitlines() if line.startswith("| fp16 ") or line.startswith("| bf16 ")]
        self.assertEqual(len(rows), 32, p.stdout)
        self.assertTrue(all("(= exact in" in r.split("|")[8] for r in rows), p.stdout)
        with open("/dev/full", "w") as full:
            p = subprocess.run([sys.executable, os.path.join(ROOT, "verify", "peer", "torch_half_peer.py"),
                                "--bin", bindir], stdout=full, stderr=subprocess.PIPE, text=True, timeout=300)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("writing the table to stdout failed", p.stderr)
        self.assertNotIn("Traceback", p.stderr)

    def test_rounding_to_the_dtype_without_torch(self):
        sys.path.insert(0, os.path.join(ROOT, "verify", "peer"))
        try:
            import torch_half_peer as thp
        finally:
            sys.path.pop(0)
        import struct
        for v in (1.0, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504.0, 65520.0, -65519.0, 2 ** -25,
                  3 * 2 ** -26, 1e-9, -4.34e-06):
            try:
                want = struct.unpack("<e", struct.pack("<e", v))[0]
            except OverflowError:
                want = math.copysign(math.inf, v)
            self.assertEqual(thp.in_dtype(v, "fp16"), want, v)
        self.assertEqual(thp.in_dtype(1 + 2 ** -8, "bf16"), 1.0)              # tie to even
        self.assertEqual(thp.in_dtype(1 + 3 * 2 ** -8, "bf16"), 1 + 2 ** -6)  # tie to even, up
        self.assertEqual(thp.in_dtype(2.0 ** -133 * 0.75, "bf16"), 2.0 ** -133)
        self.assertEqual(thp.in_dtype(3.5e38, "bf16"), math.inf)


class PeerOutput(unittest.TestCase):
    def test_each_thread_count_in_its_own_process(self):
        """Google Benchmark JSON, strict (no NaN/Infinity), one entry set per thread count; or,
        without torch, a recorded skip."""
        with tempfile.TemporaryDirectory() as d:
            j = os.path.join(d, "p.json")
            p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "peer_torch.py"), "--sizes", "10",
                                "--threads", "1,2", "--repeat", "2", "--min-seconds", "0.001", "--json", j],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stderr)
            with open(j) as f:
                doc = json.loads(f.read(), parse_constant=lambda c: self.fail(f"{c} in the output"))
            if doc["context"].get("peer_skipped"):
                self.assertEqual(doc["benchmarks"], [])
                return
            names = {b["run_name"] for b in doc["benchmarks"]}
            self.assertEqual(names, {f"{op}/torch_eager/dense/n:1024/threads:{t}/real_time"
                                     for op in ("focal_sum", "focal_grad") for t in (1, 2)})
            reps = [b for b in doc["benchmarks"] if b["run_type"] == "iteration"]
            self.assertEqual(len(reps), 8)


class RunInfo(unittest.TestCase):
    def test_place_keeps_the_previous_run_on_failure(self):
        with tempfile.TemporaryDirectory() as d:
            final, partial = os.path.join(d, "2026-11-28-abc"), os.path.join(d, ".partial")
            for p in (final, partial):
                os.makedirs(p)
            open(os.path.join(final, "old"), "w").close()
            open(os.path.join(partial, "new"), "w").close()
            p = lib("runinfo.py", "place", partial, final, "--failed")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(os.listdir(final), ["old"])
            self.assertEqual(os.listdir(os.path.join(d, ".failed-2026-11-28-abc")), ["new"])
            os.makedirs(partial)
            open(os.path.join(partial, "new"), "w").close()
            p = lib("runinfo.py", "place", partial, final)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(os.listdir(final), ["new"])
            self.assertFalse(os.path.exists(partial))

    def test_run_does_not_delete_before_it_succeeds(self):
        with open(os.path.join(ROOT, "scripts", "run")) as f:
            self.assertNotIn('rm -rf "$out"', f.read())

    def test_files_and_sizes(self):
        p = lib("runinfo.py", "files")
        self.assertIn("f_bench=bench.json", p.stdout.splitlines())
        p = lib("runinfo.py", "peer-sizes", CPU_RUN, "20")
        self.assertEqual(p.stdout.strip(), "10,14")


if __name__ == "__main__":
    unittest.main(verbosity=2)
