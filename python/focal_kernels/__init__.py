"""focal_kernels: sigmoid focal loss kernels (accurate at extreme p_t), verified against MPFR.

The PyTorch functions are in focal_kernels.torch:
    from focal_kernels.torch import sigmoid_focal_loss, sigmoid_focal_loss_labels
"""

__version__ = "0.1.0"
