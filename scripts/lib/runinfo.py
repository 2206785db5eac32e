"""What scripts/run and scripts/device-check ask of the results while they run (so that no shell
script parses JSON itself):

  runinfo.py files                           the run's file names as shell assignments
                                             (f_bench=bench.json ..., f_peer_torch_cpu=...)
  runinfo.py peer-sizes RUN_DIR MAX_LOG2     log2 sizes of the run's dense focal_sum benchmarks
                                             up to MAX_LOG2, comma-separated (default 10,16,20,24)
  runinfo.py peer-skipped FILE               the reason a peer recorded for skipping, or nothing
  runinfo.py meta RUN_DIR --machine ID --date D --rev R --mode M [--dirty] --seconds-total S
                [--step NAME=SECONDS ...] [--skipped TEXT ...] [--failed TEXT ...]
                                             writes RUN_DIR/meta.json

  runinfo.py place PARTIAL FINAL [--failed]  moves a finished run into place: PARTIAL becomes
                                             FINAL (an older FINAL is removed only after); with
                                             --failed FINAL stays as it was and PARTIAL becomes
                                             .failed-<FINAL's name> beside it

Exit status: 0 ok, 1 unreadable input or unwritable output, 2 bad argument."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jsonio import ResultsError, read_json, write_json  # noqa: E402
from names import DEVICES, FILES, PEER_TOOLS, peer_file  # noqa: E402
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
        elif args.cmd == "peer-sizes":
            print(peer_sizes(args.run_dir, args.max_log2))
        elif args.cmd == "place":
            print(place(args.partial, args.final, args.failed))
        elif args.cmd == "peer-skipped":
            print(peer_skipped(args.file))
        else:
            write_json(os.path.join(args.run_dir, FILES["meta"]), {
                "machine_id": args.machine, "date": args.date, "git_rev": args.rev,
                "sources_dirty": args.dirty, "mode": args.mode,
                "seconds_total": args.seconds_total, "finished_unix": int(time.time()),
                "seconds": dict(args.step),
                "skipped": args.skipped + [f"FAILED: {f}" for f in args.failed]}, "meta")
    except ResultsError as e:
        print(f"runinfo: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
