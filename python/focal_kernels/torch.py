"""PyTorch functions backed by the focal_kernels op (torch.ops.focal_kernels.*).

sigmoid_focal_loss is a drop-in for torchvision.ops.sigmoid_focal_loss (same signature and
semantics), correct at extreme p_t where the textbook formula underflows to 0. Both functions are
TorchScript-compatible, run the fused loss+gradient in one pass when the input requires grad, and
take tensors on the CPU or (when built with CUDA) a GPU.
"""

from typing import Optional

import torch
from torch import Tensor

from . import _library

_library.load()

__all__ = ["sigmoid_focal_loss", "sigmoid_focal_loss_labels", "kernels"]


def sigmoid_focal_loss(inputs: Tensor, targets: Tensor, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "none", *, kernel: Optional[str] = None) -> Tensor:
    """Focal loss of Lin et al. (RetinaNet), as torchvision.ops.sigmoid_focal_loss.

    inputs: float32 logits of any shape. targets: same shape; float32 in [0, 1] (soft targets),
    or bool/uint8 0/1 (the binary fast path). alpha < 0 disables balancing. reduction: 'none'
    (per-element loss), 'mean' or 'sum'. kernel: a registry name (see kernels()); default the
    best available one (FOCAL_KERNEL in the environment overrides it)."""
    return torch.ops.focal_kernels.sigmoid_focal_loss(inputs, targets, float(alpha), float(gamma),
                                                      reduction, kernel=kernel)


def sigmoid_focal_loss_labels(logits: Tensor, labels: Tensor, alpha: float = 0.25, gamma: float = 2.0,
                              reduction: str = "sum", normalizer: Optional[float] = None,
                              *, kernel: Optional[str] = None) -> Tensor:
    """Focal loss over class labels (RetinaNet / mmcv / Detectron layout).

    logits: [N, C] float32. labels: [N] int64/int32: 0..C-1 the positive class, C background (all
    classes negative), < 0 ignored (loss and gradient 0, not counted). reduction: 'none' ([N, C]),
    'sum', or 'mean' (over counted elements); normalizer (with 'sum'): sum / normalizer, e.g. the
    number of foreground anchors."""
    return torch.ops.focal_kernels.sigmoid_focal_loss_labels(logits, labels, float(alpha), float(gamma),
                                                             reduction, normalizer, kernel=kernel)


def _register_fake():
    # torch >= 2.4: shapes without running the kernel, so torch.compile / FakeTensor treat the
    # op as one node. Argument errors are raised by the real kernel (same checks) at run time.
    @torch.library.register_fake("focal_kernels::forward")
    def _(logits, targets, num_classes, alpha, gamma, reduction, normalizer, kernel, with_grad):
        loss = torch.empty_like(logits) if reduction == "none" else logits.new_empty(())
        grad = torch.empty_like(logits) if with_grad else logits.new_empty((0,))
        return loss, grad


def _version_at_least(major: int, minor: int) -> bool:
    parts = torch.__version__.split("+")[0].split(".")
    return (int(parts[0]), int(parts[1])) >= (major, minor)


if _version_at_least(2, 4) and hasattr(torch.library, "register_fake"):
    _register_fake()


def kernels(available_only: bool = True):
    """The registry's kernel names, best first order as registered ('scalar', 'avx512', ...)."""
    rows = [r.split() for r in torch.ops.focal_kernels.kernels()]
    return [r[0] for r in rows if not available_only or r[1] == "available"]
