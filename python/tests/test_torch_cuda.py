"""CUDA tensors: the CUDA kernels on torch's current stream (runs where torch sees a GPU and the
package was built with nvcc against a CUDA torch; skips with the reason elsewhere)."""

import pytest
import torch

from focal_kernels.torch import sigmoid_focal_loss, sigmoid_focal_loss_labels


def cuda_skip_reason():
    if not torch.cuda.is_available():
        return f"no CUDA device visible to torch {torch.__version__}"
    rows = [r.split() for r in torch.ops.focal_kernels.kernels()]
    if not any(r[2] == "cuda" for r in rows):
        return "focal_kernels was built without CUDA kernels"
    return None


pytestmark = pytest.mark.skipif(cuda_skip_reason() is not None, reason=str(cuda_skip_reason()))


@pytest.mark.parametrize("kernel", [None, "cuda_warp", "cuda_cub", "cuda_cub_device"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_cuda_matches_cpu(gen, kernel, reduction):
    x = torch.randn(3, 1000, generator=gen) * 20
    t = torch.rand(3, 1000, generator=gen)
    xc = x.cuda().requires_grad_()
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):  # a non-default current stream
        got = sigmoid_focal_loss(xc, t.cuda(), reduction=reduction, kernel=kernel)
        got.backward(torch.ones_like(got))
    torch.cuda.synchronize()
    xr = x.clone().requires_grad_()
    want = sigmoid_focal_loss(xr, t, reduction=reduction, kernel="scalar")
    want.backward(torch.ones_like(want))
    assert got.device.type == "cuda" and xc.grad.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), want, rtol=2e-6, atol=0)
    torch.testing.assert_close(xc.grad.cpu(), xr.grad, rtol=2e-6, atol=1e-30)


def test_cuda_labels_and_errors(gen):
    x = torch.randn(50, 7, generator=gen)
    lab = torch.randint(-1, 8, (50,), generator=gen)
    got = sigmoid_focal_loss_labels(x.cuda(), lab.cuda(), normalizer=5.0)
    want = sigmoid_focal_loss_labels(x, lab, normalizer=5.0, kernel="scalar")
    assert got.item() == pytest.approx(want.item(), rel=2e-6)
    with pytest.raises(ValueError, match=r"labels\[3\].*got 9"):
        sigmoid_focal_loss_labels(x.cuda(), lab.index_fill(0, torch.tensor([3]), 9).to(torch.int32).cuda())
    with pytest.raises(ValueError, match=r"targets\[2\]"):
        sigmoid_focal_loss(x[0].cuda(), torch.zeros(7).index_fill(0, torch.tensor([2]), 2.0).cuda())
    with pytest.raises(ValueError, match="argument 'targets'.*cuda"):
        sigmoid_focal_loss(x.cuda(), torch.zeros(50, 7))
    with pytest.raises(ValueError, match="argument 'kernel'.*CUDA"):
        sigmoid_focal_loss(x.cuda(), torch.zeros(50, 7).cuda(), kernel="avx2")
