"""Strict JSON in and out for the scripts: every problem becomes a ResultsError naming the file
and what is wrong (never a traceback), and nothing non-standard is written (NaN / Infinity are
not JSON) or half-written (write to a temporary file, then rename)."""

from __future__ import annotations

import json
import math
import os
import tempfile


class ResultsError(Exception):
    """A problem with recorded results or an output path the user can fix; the message says how."""


def _reject_constant(token):
    raise ValueError(f"{token} is not valid JSON")


def print_stdout(text, prog):
    """Prints text (and a newline) to stdout and flushes it. Returns False, having said so on
    stderr, when stdout cannot take it (a full disk, /dev/full): the results would be lost, so the
    caller exits non-zero. (Python reports such a failure only as a traceback otherwise.)"""
    import sys
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return True
    except OSError as e:
        print(f"{prog}: writing the results to stdout failed: {e.strerror or e}", file=sys.stderr)
        try:   # nothing more for stdout: the interpreter's own flush at exit would fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return False


def read_json(path):
    """The parsed file. Rejects non-UTF-8 text, NaN/Infinity tokens and absurd nesting."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file")
    except IsADirectoryError:
        raise ResultsError(f"{path}: is a directory, expected a JSON file")
    except OSError as e:
        raise ResultsError(f"{path}: cannot read: {e.strerror or e}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ResultsError(f"{path}: not UTF-8 text (byte {e.start}); expected JSON")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ResultsError(f"{path}: JSON nested too deeply to be a results file")
    except ValueError as e:   # json.JSONDecodeError is a ValueError
        raise ResultsError(f"{path}: not valid JSON ({e})")


def _finite(obj, where="$"):
    """Raises ValueError naming the first NaN/Infinity in obj (json.dumps would write them)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError(f"{where} is {obj}, which JSON cannot hold")
    if isinstance(obj, dict):
        for k, v in obj.items():
            _finite(v, f"{where}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _finite(v, f"{where}[{i}]")


def check_writable(path, what="--out"):
    """Raises ResultsError unless `path` (a file to be written) can be created or replaced:
    called before a long computation, so a bad path fails at once, not after the work."""
    path = os.path.abspath(path)
    if os.path.isdir(path):
        raise ResultsError(f"{what} {path}: is a directory, expected a file name")
    d = os.path.dirname(path)
    if not os.path.isdir(d):
        raise ResultsError(f"{what} {path}: the directory {d} does not exist")
    if not os.access(d, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise ResultsError(f"{what} {path}: not writable")


def write_text(path, text, what="output"):
    """Writes text atomically (temporary file in the same directory, then rename)."""
    d = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # as open() would have made it (mkstemp makes 0600)
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise ResultsError(f"{what} {path}: cannot write: {e.strerror or e}")
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _nulls(obj):
    """obj with every NaN/inf float replaced by None (null: unbounded, as focal-verify writes it)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nulls(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_nulls(v) for v in obj]
    return obj


def json_text(obj):
    """Standard JSON text for printing (non-finite numbers as null)."""
    return json.dumps(_nulls(obj), indent=1, allow_nan=False)


def write_json(path, obj, what="output"):
    try:
        _finite(obj)
    except ValueError as e:
        raise ResultsError(f"{what} {path}: {e}")
    write_text(path, json.dumps(obj, indent=1, allow_nan=False) + "\n", what)
