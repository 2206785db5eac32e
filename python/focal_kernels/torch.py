"""PyTorch functions backed by the focal_kernels op (torch.ops.focal_kernels.*).

sigmoid_focal_loss is a drop-in for torchvision.ops.sigmoid_focal_loss (same signature and
semantics), correct at extreme p_t where the textbook formula underflows to 0. Both functions are
TorchScript-compatible, run the fused loss+gradient in one pass when the input requires grad, and
take tensors on the CPU or (when built with CUDA) a GPU.
"""

import torch

from . import _library

_library.load()

__all__ = ["sigmoid_focal_loss", "sigmoid_focal_loss_labels", "kernels"]


# The functions are the registered ops themselves (torch.ops.focal_kernels.*): TorchScript and
# torch.compile then see one builtin op, with the schema's signature (keyword-only `kernel`).
#
# sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2., reduction="none", *, kernel=None)
#   torchvision.ops.sigmoid_focal_loss. inputs: float32 logits of any shape. targets: the same
#   shape; float32 in [0, 1] (soft), or bool/uint8 0/1 (the binary fast path). alpha < 0
#   disables balancing. reduction: 'none' (per-element), 'mean' or 'sum'. kernel: a registry
#   name (kernels()); default the best available one (FOCAL_KERNEL in the environment overrides).
sigmoid_focal_loss = torch.ops.focal_kernels.sigmoid_focal_loss

# sigmoid_focal_loss_labels(logits, labels, alpha=0.25, gamma=2., reduction="sum",
#                           normalizer=None, *, kernel=None)
#   The class-label layout (RetinaNet, mmcv, Detectron). logits: [N, C] float32. labels: [N]
#   int64/int32: 0..C-1 the positive class, C background (all negative), < 0 ignored (loss and
#   gradient 0, not counted). reduction: 'none' ([N, C]), 'sum', or 'mean' (over counted
#   elements); normalizer (a float, with 'sum'): sum / normalizer, e.g. the foreground count.
sigmoid_focal_loss_labels = torch.ops.focal_kernels.sigmoid_focal_loss_labels


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
