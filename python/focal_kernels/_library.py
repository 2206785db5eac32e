"""Loads the compiled op library (libfocal_torch.so, next to this file) into torch once."""

import os

import torch

_HERE = os.path.dirname(os.path.abspath(__file__))
_NAME = "libfocal_torch.so"
_loaded = False


def load():
    global _loaded
    if _loaded:
        return
    path = os.path.join(_HERE, _NAME)
    if not os.path.exists(path):
        raise ImportError(
            f"focal_kernels: {path} is missing: install the package with `pip install .` from the "
            "focal-kernels checkout (the op is compiled against the torch you have)")
    try:
        torch.ops.load_library(path)
    except OSError as e:
        raise ImportError(
            f"focal_kernels: cannot load {path} into torch {torch.__version__}: {e}. It was built "
            "against another torch: reinstall with `pip install --force-reinstall .`") from e
    _loaded = True
