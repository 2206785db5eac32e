"""What scripts/run and scripts/device-check ask of the results while they run (so that no shell
script parses JSON itself):

  runinfo.py files                           the run's file names as shell assignments
                                             (f_bench=bench.json ..., f_peer_torch_cpu=...) and
                                             device-check's determinism_marker
  runinfo.py peer-sizes RUN_DIR MAX_LOG2     log2 sizes of the run's dense focal_sum benchmarks
                                             up to MAX_LOG2, comma-separated (default 10,16,20,24)
  runinfo.py peer-skipped FILE               the reason a peer recorded for skipping, or nothing
  runinfo.py meta RUN_DIR --machine ID --date D --rev R --mode M [--dirty] --seconds-total S
                [--step NAME=SECONDS ...] [--skipped TEXT ...] [--failed TEXT ...]
                                             writes RUN_DIR/meta.json

  runinfo.py merge-bench OUT IN              appends IN's benchmarks to OUT's (focal-bench JSON of
                                             the same machine; OUT is written only when both read;
                                             exit 3: OUT unreadable, IN fine)
  runinfo.py import-device DIR RESULTS       files scripts/device-check left in DIR as a run of the
                                             device machine: RESULTS/<machine-id>/<date>-<rev>/
                                             (id, date and revision from DIR/bench.json's context)
  runinfo.py place PARTIAL FINAL [--failed]  moves a finished run into place: PARTIAL becomes
                                             FINAL (an older FINAL is removed only after); with
                                             --failed FINAL stays as it was and PARTIAL becomes
                                             .failed-<FINAL's name> beside it

Exit status: 0 ok, 1 unreadable input or unwritable output, 2 bad argument, 3 (merge-bench) OUT
is not readable focal-bench JSON while IN is."""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shlex
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jsonio import ResultsError, read_json, write_json  # noqa: E402
from names import DETERMINISM_MARKER, DEVICES, FILES, PEER_TOOLS, peer_file  # noqa: E402
from results import load_bench  # noqa: E402


def peer_sizes(run_dir, limit):
    path = os.path.join(run_dir, FILES["bench"])
    ks = []
    if os.path.isfile(path):
        ms, _ = load_bench(path)
        ks = sorted({m.n.bit_length() - 1 for m in ms
                     if m.op == "focal_sum" and m.layout == "dense" and m.n & (m.n - 1) == 0})
    ks = [k for k in ks if k <= limit] or [k for k in (10, 16, 20, 24) if k <= limit]
    return ",".join(map(str, ks))


def peer_skipped(path):
    data = read_json(path)
    ctx = data.get("context") if isinstance(data, dict) else None
    reason = ctx.get("peer_skipped") if isinstance(ctx, dict) else None
    return reason if isinstance(reason, str) else ""


def place(partial, final, failed):
    """Returns where the run's output now is. Never deletes FINAL unless PARTIAL replaced it."""
    if not os.path.isdir(partial):
        raise ResultsError(f"{partial}: no such directory")
    parent, name = os.path.split(os.path.abspath(final))
    target = os.path.join(parent, f".failed-{name}") if failed else final
    try:
        if failed:
            shutil.rmtree(target, ignore_errors=True)
            os.replace(partial, target)
            return target
        old = None
        if os.path.exists(final):
            old = os.path.join(parent, f".replaced-{name}-{os.getpid()}")
            os.replace(final, old)
        os.replace(partial, final)
        if old:
            shutil.rmtree(old, ignore_errors=True)
        return final
    except OSError as e:
        raise ResultsError(f"cannot move {partial} to {target}: {e.strerror or e}")


def _bench_doc(path):
    data = read_json(path)
    if not (isinstance(data, dict) and isinstance(data.get("context"), dict)
            and isinstance(data.get("benchmarks"), list)):
        raise ResultsError(f"{path}: not focal-bench JSON (expected 'context' and 'benchmarks')")
    return data


class UnreadableOut(ResultsError):
    """merge-bench's OUT is not readable focal-bench JSON (exit status 3)."""


def merge_bench(out, extra):
    b = _bench_doc(extra)
    try:
        a = _bench_doc(out)
    except ResultsError as e:
        raise UnreadableOut(str(e))
    ida, idb = a["context"].get("focal_machine_id"), b["context"].get("focal_machine_id")
    if ida != idb:
        raise ResultsError(f"{extra}: machine '{idb}', but {out} is of machine '{ida}'")
    names = {r.get("name") for r in a["benchmarks"] if isinstance(r, dict)}
    dup = sorted(r.get("name") for r in b["benchmarks"] if isinstance(r, dict) and r.get("name") in names)
    if dup:
        raise ResultsError(f"{extra}: {len(dup)} benchmark(s) already in {out}, e.g. {dup[0]}")
    a["benchmarks"] += b["benchmarks"]
    write_json(out, a, "merged bench.json")


# What scripts/device-check leaves in its OUTDIR and a run directory keeps.
DEVICE_FILES = ("bench", "verify", "device_summary", "run_log", "build_log", "tests_log",
                "half_peer_cuda")


_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")   # whole value (fullmatch: no trailing newline)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_STEP_RE = re.compile(r"^== (\S+): rc=\d+ in (\d+) s$", re.M)   # device-check's step lines


def write_meta(run_dir, machine, date, rev, mode, seconds_total, steps, dirty=False, skipped=()):
    """run_dir/meta.json, one shape for scripts/run and device-check imports."""
    write_json(os.path.join(run_dir, FILES["meta"]), {
        "machine_id": machine, "date": date, "git_rev": rev, "sources_dirty": dirty, "mode": mode,
        "seconds_total": seconds_total, "finished_unix": int(time.time()), "seconds": dict(steps),
        "skipped": list(skipped)}, "meta")


def import_device(src, results):
    """Returns the run directory made from a device-check OUTDIR."""
    bench = os.path.join(src, FILES["bench"])
    ctx = _bench_doc(bench)["context"]
    mid, rev, date = (ctx.get(k) for k in ("focal_machine_id", "focal_git_revision", "date"))
    for key, v, ok in (("focal_machine_id", mid, _NAME_RE.fullmatch),
                       ("focal_git_revision", rev, _NAME_RE.fullmatch), ("date", date, _DATE_RE.match)):
        if not isinstance(v, str) or not ok(v):
            raise ResultsError(f"{bench}: context '{key}' missing or not usable in a folder name: {v!r:.80}")
    try:   # Google Benchmark writes local time with its offset; runs are named by the UTC date
        day = datetime.datetime.fromisoformat(date).astimezone(datetime.timezone.utc).date().isoformat()
    except ValueError:
        day = date[:10]
    run = os.path.join(results, mid, f"{day}-{rev[:7]}")
    if os.path.exists(run):
        raise ResultsError(f"{run} exists already: move it away first")
    names = [FILES[k] for k in DEVICE_FILES] + [peer_file("torch", "cuda")]
    present = [f for f in names if os.path.isfile(os.path.join(src, f))]
    steps = {}
    try:
        with open(os.path.join(src, FILES["run_log"]), encoding="utf-8", errors="replace") as f:
            for name, secs in _STEP_RE.findall(f.read()):
                steps[name] = steps.get(name, 0) + int(secs)
    except OSError:
        pass
    partial = run + ".partial"
    try:
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        for f in present:
            shutil.copyfile(os.path.join(src, f), os.path.join(partial, f))
    except OSError as e:
        raise ResultsError(f"cannot write {partial}: {e.strerror or e}")
    write_meta(partial, mid, day, rev, "device-check", sum(steps.values()), steps)
    return place(partial, run, False)


def _step(text):
    name, sep, secs = text.partition("=")
    if not sep or not name or not secs.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=SECONDS, got '{text}'")
    return name, int(secs)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="runinfo", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("files")
    p = sub.add_parser("peer-sizes")
    p.add_argument("run_dir")
    p.add_argument("max_log2", type=int)
    p = sub.add_parser("peer-skipped")
    p.add_argument("file")
    p = sub.add_parser("merge-bench")
    p.add_argument("out")
    p.add_argument("extra")
    p = sub.add_parser("import-device")
    p.add_argument("src")
    p.add_argument("results")
    p = sub.add_parser("place")
    p.add_argument("partial")
    p.add_argument("final")
    p.add_argument("--failed", action="store_true")
    p = sub.add_parser("meta")
    p.add_argument("run_dir")
    for flag in ("--machine", "--date", "--rev", "--mode"):
        p.add_argument(flag, required=True)
    p.add_argument("--dirty", action="store_true")
    p.add_argument("--seconds-total", type=int, required=True)
    p.add_argument("--step", type=_step, action="append", default=[])
    p.add_argument("--skipped", action="append", default=[])
    p.add_argument("--failed", action="append", default=[])
    args = ap.parse_args(argv)
    try:
        if args.cmd == "files":
            for key, name in FILES.items():
                print(f"f_{key}={name}")
            for tool in PEER_TOOLS:
                for device in DEVICES:
                    print(f"f_peer_{tool}_{device}={peer_file(tool, device)}")
            print(f"determinism_marker={shlex.quote(DETERMINISM_MARKER)}")
        elif args.cmd == "peer-sizes":
            print(peer_sizes(args.run_dir, args.max_log2))
        elif args.cmd == "merge-bench":
            merge_bench(args.out, args.extra)
        elif args.cmd == "import-device":
            print(import_device(args.src, args.results))
        elif args.cmd == "place":
            print(place(args.partial, args.final, args.failed))
        elif args.cmd == "peer-skipped":
            print(peer_skipped(args.file))
        else:
            write_meta(args.run_dir, args.machine, args.date, args.rev, args.mode, args.seconds_total,
                       args.step, args.dirty, args.skipped + [f"FAILED: {f}" for f in args.failed])
    except ResultsError as e:
        print(f"runinfo: {e}", file=sys.stderr)
        return 3 if isinstance(e, UnreadableOut) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
