"""scripts/peer_op.py writes Google Benchmark JSON for the op and torchvision (tiny run)."""

import json
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "peer_op.py")


def test_peer_op_json(tmp_path):
    out = tmp_path / "peer.json"
    subprocess.run([sys.executable, SCRIPT, "--json", str(out), "--sizes", "4,6", "--repeat", "2",
                    "--min-seconds", "0.001", "--no-compile"], check=True, capture_output=True)
    data = json.loads(out.read_text())
    assert "skipped" not in data and data["context"]["focal_kernel"]
    medians = {b["run_name"]: b for b in data["benchmarks"] if b.get("aggregate_name") == "median"}
    for op in ("sum", "grad"):
        for n in (16, 64):
            for impl, layout in (("focal_op", "soft"), ("focal_op", "dense"), ("torchvision_eager", "soft")):
                b = medians[f"peer_{op}/{impl}/{layout}/{n}"]
                assert b["time_unit"] == "ns" and b["real_time"] > 0 and b["items_per_second"] > 0
    reps = [b for b in data["benchmarks"] if b["run_type"] == "iteration"]
    assert len(reps) == 2 * len(medians)


def test_peer_op_bad_arguments(tmp_path):
    r = subprocess.run([sys.executable, SCRIPT, "--json", str(tmp_path / "x.json"), "--sizes", "ten"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "log2 sizes" in r.stderr
