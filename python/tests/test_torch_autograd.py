"""The op as a torch op: fused gradient (one pass, checked by finite differences of the MPFR
loss), TorchScript, and on torch >= 2.4 torch.compile and torch.library.opcheck."""

import numpy as np
import pytest
import torch

from conftest import loss_mpfr
from focal_kernels.torch import sigmoid_focal_loss, sigmoid_focal_loss_labels


def version_at_least(major, minor):
    v = torch.__version__.split("+")[0].split(".")
    return (int(v[0]), int(v[1])) >= (major, minor)


NEW_TORCH = version_at_least(2, 4)
OLD_TORCH_REASON = f"needs torch >= 2.4 (this is torch {torch.__version__})"


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1.0, 1.5)])
def test_gradient_against_finite_differences_of_mpfr(gen, reduction, alpha, gamma):
    x = torch.cat([torch.randn(12, generator=gen) * 4, torch.tensor([-30.0, 25.0, 0.0, 9.5])])
    t = torch.cat([torch.rand(8, generator=gen), (torch.rand(8, generator=gen) < 0.5).float()])
    xr = x.clone().requires_grad_()
    loss = sigmoid_focal_loss(xr, t, alpha, gamma, reduction)
    w = torch.rand(loss.shape, generator=gen) + 0.5  # grad_output: the saved gradient is scaled by it
    loss.backward(w)
    scale = 1.0 / x.numel() if reduction == "mean" else 1.0
    wv = w.numpy().ravel() if reduction == "none" else np.full(x.numel(), float(w))
    for i in range(x.numel()):
        xi, ti = float(x[i]), float(t[i])
        h = 1e-5 * max(1.0, abs(xi))
        fd = (loss_mpfr(xi + h, ti, alpha, gamma) - loss_mpfr(xi - h, ti, alpha, gamma)) / (2 * h)
        want = fd * scale * wv[i]
        assert float(xr.grad[i]) == pytest.approx(want, rel=2e-5, abs=1e-30), f"x={xi}, t={ti}"


def test_one_pass_with_gradient():
    # Forward computes loss and gradient in one kernel call; backward evaluates nothing again.
    from torch.utils._python_dispatch import TorchDispatchMode

    calls = []

    class Record(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            calls.append((str(func), args[-1] if "focal_kernels.forward" in str(func) else None))
            return func(*args, **(kwargs or {}))

    x = torch.randn(100).requires_grad_()
    t = (torch.rand(100) < 0.5).float()
    with Record():
        loss = sigmoid_focal_loss(x, t, reduction="sum")
        forward_calls = [c for c in calls if "focal_kernels" in c[0]]
        loss.backward()
    focal_calls = [c for c in calls if "focal_kernels" in c[0]]
    assert forward_calls == [(forward_calls[0][0], True)], calls  # one call, with_grad=True
    assert focal_calls == forward_calls, "backward ran the kernel again"
    with Record():
        calls.clear()
        with torch.no_grad():
            sigmoid_focal_loss(x, t, reduction="sum")
    assert [c[1] for c in calls if "focal_kernels" in c[0]] == [False]  # no gradient when none is needed


def test_double_backward_is_refused():
    x = torch.randn(10).requires_grad_()
    loss = sigmoid_focal_loss(x, torch.zeros(10), reduction="sum")
    with pytest.raises(RuntimeError, match="second derivative"):
        torch.autograd.grad(loss, x, create_graph=True)


def test_torchscript():
    def step(x: torch.Tensor, t: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
        a = sigmoid_focal_loss(x, t, 0.25, 2.0, "mean")
        b = sigmoid_focal_loss_labels(x, lab, 0.25, 2.0, "sum", 3.0)
        return a + b

    scripted = torch.jit.script(step)
    x = torch.randn(8, 4).requires_grad_()
    t = (torch.rand(8, 4) < 0.3).float()
    lab = torch.randint(-1, 5, (8,))
    got = scripted(x, t, lab)
    got.backward()
    g = x.grad.clone()
    x.grad = None
    want = step(x, t, lab)
    want.backward()
    assert got.item() == want.item()
    assert torch.equal(g, x.grad)
    assert "focal_kernels::sigmoid_focal_loss" in str(scripted.graph)


@pytest.mark.skipif(not NEW_TORCH, reason=OLD_TORCH_REASON)
def test_torch_compile_one_op_no_graph_break():
    import torch._dynamo

    def step(x, t):
        return sigmoid_focal_loss(x, t, reduction="sum") * 2

    explain = torch._dynamo.explain(step)(torch.randn(16, 3), torch.zeros(16, 3))
    assert explain.graph_break_count == 0, explain.break_reasons
    compiled = torch.compile(step, backend="aot_eager", fullgraph=True)
    x = torch.randn(64, 3).requires_grad_()
    t = (torch.rand(64, 3) < 0.5).float()
    got = compiled(x, t)
    got.backward()
    g = x.grad.clone()
    x.grad = None
    want = step(x, t)
    want.backward()
    assert got.item() == pytest.approx(want.item(), rel=1e-6)
    torch.testing.assert_close(g, x.grad, rtol=1e-6, atol=0)


@pytest.mark.skipif(not NEW_TORCH, reason=OLD_TORCH_REASON)
def test_opcheck():
    x = torch.randn(5, 7).requires_grad_()
    t = (torch.rand(5, 7) < 0.5).float()
    lab = torch.randint(-1, 8, (5,))
    for reduction in ("none", "sum", "mean"):
        torch.library.opcheck(torch.ops.focal_kernels.sigmoid_focal_loss.default, (x, t, 0.25, 2.0, reduction))
    torch.library.opcheck(torch.ops.focal_kernels.sigmoid_focal_loss_labels.default,
                          (x, lab, 0.25, 2.0, "sum", 4.0))
    xh = x.detach().to(torch.bfloat16).requires_grad_()
    torch.library.opcheck(torch.ops.focal_kernels.sigmoid_focal_loss.default, (xh, t.bool(), 0.25, 2.0, "none"))
