"""Truth for the Python tests, never from the code under test:
  reference(): the project's MPFR oracle, the focal-reference tool (FOCAL_REFERENCE=path; built
               by CMake in <build>/bin), correctly rounded float32 loss and gradient;
  loss_mpfr(): the loss in MPFR (gmpy2, 300 bits) rounded to double, for finite differences."""

import os
import shutil
import subprocess

import numpy as np
import pytest
import torch


def _reference_tool():
    path = os.environ.get("FOCAL_REFERENCE") or shutil.which("focal-reference")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("set FOCAL_REFERENCE to the focal-reference binary (<build>/bin/focal-reference; "
                    "./scripts/test does): the MPFR truth for these tests", pytrace=False)
    return path


def reference(x, t, alpha=0.25, gamma=2.0):
    """Correctly rounded float32 (loss, grad) per element from the MPFR oracle."""
    x = np.asarray(x, dtype=np.float32).ravel()
    t = np.asarray(t, dtype=np.float32).ravel()
    lines = "".join(f"{float(a)!r} {float(b)!r}\n" for a, b in zip(x, t))
    out = subprocess.run([_reference_tool(), "--alpha", repr(float(alpha)), "--gamma", repr(float(gamma))],
                         input=lines, capture_output=True, text=True, check=True).stdout.split()
    vals = np.array([float(v) for v in out], dtype=np.float64).reshape(-1, 2)
    assert len(vals) == len(x), f"focal-reference answered {len(vals)} lines for {len(x)}"
    return vals[:, 0].astype(np.float32), vals[:, 1].astype(np.float32)


def loss_mpfr(x, t, alpha=0.25, gamma=2.0):
    """FL(x, t) evaluated in 300-bit MPFR, rounded to double (x, t: Python floats)."""
    import gmpy2
    from gmpy2 import mpfr
    saved = gmpy2.get_context()
    gmpy2.set_context(gmpy2.context(precision=300))
    try:
        return _loss_mpfr(gmpy2, mpfr(x), mpfr(t), alpha, gamma)
    finally:
        gmpy2.set_context(saved)


def _loss_mpfr(gmpy2, x, t, alpha, gamma):
    mpfr = gmpy2.mpfr
    softplus = lambda z: gmpy2.log1p(gmpy2.exp(z)) if z < 0 else z + gmpy2.log1p(gmpy2.exp(-z))
    ce = t * softplus(-x) + (1 - t) * softplus(x)          # -t log p - (1-t) log(1-p)
    p, q = 1 / (1 + gmpy2.exp(-x)), 1 / (1 + gmpy2.exp(x))   # p and 1 - p, no cancellation
    one_minus_pt = t * q + (1 - t) * p
    a_t = t * alpha + (1 - t) * (1 - alpha) if alpha >= 0 else mpfr(1)
    mod = mpfr(1) if gamma == 0 else one_minus_pt ** mpfr(gamma)
    return float(a_t * mod * ce)


def ulp_error(got, truth):
    """|got - truth| in units of float32 spacing at truth (0.5 = correctly rounded)."""
    got = np.asarray(got, dtype=np.float64)
    truth32 = np.asarray(truth, dtype=np.float32)
    return np.abs(got - truth32.astype(np.float64)) / np.spacing(np.abs(truth32)).astype(np.float64)


def kernel_table():
    """[(name, declared ulp bound)] of the kernels available here, from the op library."""
    import focal_kernels.torch  # noqa: F401  (loads the op)
    rows = [r.split() for r in torch.ops.focal_kernels.kernels()]
    return [(r[0], float(r[3])) for r in rows if r[1] == "available"]


@pytest.fixture
def gen():
    seed = int(os.environ.get("FOCAL_SEED", "0")) or int.from_bytes(os.urandom(4), "little")
    print(f"FOCAL_SEED={seed}")  # shown on failure: rerun with it
    g = torch.Generator()
    g.manual_seed(seed)
    return g
