"""Paths and helpers the script tests share."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LIB = os.path.join(ROOT, "scripts", "lib")
FIXTURES = os.path.join(HERE, "fixtures", "results")
CPU = os.path.join(FIXTURES, "fixture-cpu-2c")
CPU_RUN = os.path.join(CPU, "2026-11-28-abc1234")
OLD_RUN = os.path.join(CPU, "2026-11-01-0000000")
GPU_RUN = os.path.join(FIXTURES, "fixture-gpu-16c-h200", "2026-11-28-def5678")


def build_dir():
    """FOCAL_BUILD_DIR, else the build CTest runs in (a parent of the working directory with a
    CMakeCache.txt), else build/."""
    if os.environ.get("FOCAL_BUILD_DIR"):
        return os.environ["FOCAL_BUILD_DIR"]
    d = os.getcwd()
    while d != os.path.dirname(d):
        if os.path.isfile(os.path.join(d, "CMakeCache.txt")):
            return d
        d = os.path.dirname(d)
    return os.path.join(ROOT, "build")


def tool(name):
    path = os.path.join(build_dir(), "bin", name)
    return path if os.access(path, os.X_OK) else None


def focal_bench():
    return tool("focal-bench")


def script(name, *args, env=None, timeout=120):
    e = dict(os.environ, FOCAL_PYTHON=sys.executable, FOCAL_BUILD_DIR=build_dir())
    e.update(env or {})
    return subprocess.run([os.path.join(ROOT, "scripts", name), *args], capture_output=True,
                          text=True, env=e, timeout=timeout)


def lib(name, *args, python=sys.executable, timeout=120):
    return subprocess.run([python, os.path.join(LIB, name), *args], capture_output=True, text=True,
                          timeout=timeout)
