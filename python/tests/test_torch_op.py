"""focal_kernels.torch against torchvision (where it is accurate) and the MPFR oracle (where it is
not); reductions; argument errors; the class-label variant."""

import math

import numpy as np
import pytest
import torch
from torchvision.ops import sigmoid_focal_loss as tv_focal_loss

from conftest import kernel_table, reference, ulp_error
from focal_kernels.torch import kernels, sigmoid_focal_loss, sigmoid_focal_loss_labels

KERNELS = kernel_table()


@pytest.mark.parametrize("alpha,gamma", [(0.25, 2.0), (-1.0, 0.0), (0.5, 1.0), (0.25, 3.5)])
@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_matches_torchvision_in_double(gen, alpha, gamma, soft, reduction):
    # torchvision's formula in float64 is accurate for |x| < 10 (1 - p_t >= 4.5e-5): rel 1e-6.
    x = (torch.rand(7, 3, 11, generator=gen) * 20 - 10).requires_grad_()
    t = torch.rand(7, 3, 11, generator=gen) if soft else (torch.rand(7, 3, 11, generator=gen) < 0.3).float()
    got = sigmoid_focal_loss(x, t, alpha, gamma, reduction)
    xd = x.detach().double().requires_grad_()
    want = tv_focal_loss(xd, t.double(), alpha, gamma, reduction)
    assert got.dtype == torch.float32 and got.shape == want.shape
    torch.testing.assert_close(got.double(), want.detach(), rtol=1e-6, atol=0)
    w = torch.rand(got.shape, generator=gen, dtype=torch.float64)  # a random grad_output
    (got * w.float()).sum().backward()
    (want * w).sum().backward()
    # Soft targets: the gradient crosses zero, so its error is relative to its terms' size.
    atol = 1e-6 * float(xd.grad.abs().max()) if soft else 0.0
    torch.testing.assert_close(x.grad.double(), xd.grad, rtol=1e-6, atol=atol)


@pytest.mark.parametrize("name,bound", KERNELS)
@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_extreme_logits_against_mpfr(gen, name, bound, gamma):
    # |x| from 15 to 100 and beyond: where torchvision's formula loses everything.
    mag = torch.cat([torch.tensor([15.0, 16.7, 17.0, 30.0, 88.0, 100.0, 104.0, 200.0]),
                     15 + torch.rand(40, generator=gen) * 85])
    x = torch.cat([mag, -mag])
    n = x.numel()
    t = torch.cat([torch.ones(n // 2), torch.zeros(n - n // 2)])[torch.randperm(n, generator=gen)]
    xr = x.clone().requires_grad_()
    loss = sigmoid_focal_loss(xr, t, 0.25, gamma, "none", kernel=name)
    loss.backward(torch.ones_like(loss))
    want_loss, want_grad = reference(x.numpy(), t.numpy(), 0.25, gamma)
    err_l = ulp_error(loss.detach().numpy(), want_loss)
    err_g = ulp_error(xr.grad.numpy(), want_grad)
    worst = int(np.argmax(err_l))
    assert err_l.max() <= bound, f"{name}: loss {err_l.max():.3g} ULP at x={x[worst]}, t={t[worst]}"
    assert err_g.max() <= bound, f"{name}: grad {err_g.max():.3g} ULP"


def test_torchvision_is_wrong_where_we_are_not():
    # The motivating case (README): x = 17, t = 1. Truth 1.77e-23; torchvision fp32 returns 0.
    x, t = torch.tensor([17.0]), torch.tensor([1.0])
    want, _ = reference([17.0], [1.0])
    assert tv_focal_loss(x, t).item() == 0.0
    assert sigmoid_focal_loss(x, t).item() == pytest.approx(float(want[0]), rel=1e-6)
    assert float(want[0]) == pytest.approx(1.77e-23, rel=1e-2)


@pytest.mark.parametrize("targets", ["float", "bool", "uint8"])
def test_reductions_against_mpfr(gen, targets):
    x = torch.randn(5, 40, generator=gen) * 6
    t01 = torch.rand(5, 40, generator=gen) < 0.2
    t = {"float": t01.float(), "bool": t01, "uint8": t01.to(torch.uint8)}[targets]
    want_l, _ = reference(x.numpy(), t01.float().numpy())
    total = float(np.sum(want_l.astype(np.float64)))
    none = sigmoid_focal_loss(x, t, reduction="none")
    assert none.shape == x.shape
    assert np.max(ulp_error(none.numpy().ravel(), want_l)) <= max(b for _, b in KERNELS)
    assert sigmoid_focal_loss(x, t, reduction="sum").item() == pytest.approx(total, rel=1e-6)
    assert sigmoid_focal_loss(x, t, reduction="mean").item() == pytest.approx(total / x.numel(), rel=1e-6)
    assert sigmoid_focal_loss(x, t).shape == x.shape  # torchvision's default: 'none'


def test_empty_input_follows_torch():
    x, t = torch.zeros(0, 3), torch.zeros(0, 3)
    assert sigmoid_focal_loss(x, t).shape == (0, 3)
    assert sigmoid_focal_loss(x, t, reduction="sum").item() == 0.0
    assert math.isnan(sigmoid_focal_loss(x, t, reduction="mean").item())  # as torchvision's mean()


def test_non_contiguous_inputs(gen):
    base = torch.randn(6, 8, generator=gen)
    x = base.t()[:, ::2]  # transposed and strided
    t = (torch.rand(8, 6, generator=gen) < 0.5).float()[:, ::2]
    assert not x.is_contiguous() and not t.is_contiguous()
    torch.testing.assert_close(sigmoid_focal_loss(x, t), sigmoid_focal_loss(x.contiguous(), t.contiguous()),
                               rtol=0, atol=0)


def test_every_kernel_by_name(gen):
    assert "scalar" in kernels()
    x, t = torch.randn(300, generator=gen), (torch.rand(300, generator=gen) < 0.5).float()
    want = sigmoid_focal_loss(x, t, reduction="sum", kernel="scalar").item()
    for name, bound in KERNELS:
        got = sigmoid_focal_loss(x, t, reduction="sum", kernel=name).item()
        assert got == pytest.approx(want, rel=4 * bound * 2.0 ** -23), name


def err(cls, match, fn):
    with pytest.raises(cls, match=match):
        fn()


def test_argument_errors():
    x, t = torch.randn(4, 5), torch.zeros(4, 5)
    err(TypeError, "argument 'inputs'.*float32.*float64", lambda: sigmoid_focal_loss(x.double(), t))
    err(TypeError, "argument 'targets'.*int64", lambda: sigmoid_focal_loss(x, t.long()))
    err(ValueError, r"argument 'targets'.*shape of inputs \[4, 5\], got \[5\]", lambda: sigmoid_focal_loss(x, t[0]))
    err(ValueError, r"argument 'targets'.*\[1, 5\]", lambda: sigmoid_focal_loss(x, t[:1]))  # no broadcasting
    err(ValueError, "argument 'reduction'.*'avg'", lambda: sigmoid_focal_loss(x, t, reduction="avg"))
    err(ValueError, "argument 'targets\\[3\\]'.*\\[0, 1\\].*got 2", lambda: sigmoid_focal_loss(x, t.flatten().index_fill(0, torch.tensor([3]), 2.0).view(4, 5)))
    err(ValueError, "targets\\[0\\].*nan", lambda: sigmoid_focal_loss(x, torch.full((4, 5), float("nan"))))
    err(ValueError, "argument 'targets\\[7\\]'.*0 or 1", lambda: sigmoid_focal_loss(x, torch.zeros(4, 5, dtype=torch.uint8).flatten().index_fill(0, torch.tensor([7]), 3).view(4, 5)))
    err(ValueError, "argument 'gamma'", lambda: sigmoid_focal_loss(x, t, gamma=-1.0))
    err(ValueError, "argument 'gamma'", lambda: sigmoid_focal_loss(x, t, gamma=float("inf")))
    err(ValueError, "argument 'alpha'", lambda: sigmoid_focal_loss(x, t, alpha=1.5))
    err(ValueError, "argument 'kernel'.*'nope'", lambda: sigmoid_focal_loss(x, t, kernel="nope"))
    err(ValueError, "argument 'targets'.*detach", lambda: sigmoid_focal_loss(x, t.clone().requires_grad_()))
    if not torch.cuda.is_available():
        pass  # CUDA tensors cannot be made here; the CUDA path is checked on a GPU machine


def test_label_errors():
    x = torch.randn(3, 4)
    lab = torch.tensor([0, 4, -1])
    err(TypeError, "argument 'labels'.*float32", lambda: sigmoid_focal_loss_labels(x, lab.float()))
    err(TypeError, "argument 'logits'.*float64", lambda: sigmoid_focal_loss_labels(x.double(), lab))
    err(ValueError, r"argument 'logits'.*\[N, C\].*\[12\]", lambda: sigmoid_focal_loss_labels(x.flatten(), lab))
    err(ValueError, r"argument 'labels'.*\[3\].*\[2\]", lambda: sigmoid_focal_loss_labels(x, lab[:2]))
    err(ValueError, r"argument 'labels\[1\]'.*got 5", lambda: sigmoid_focal_loss_labels(x, torch.tensor([0, 5, 1])))
    err(ValueError, r"argument 'labels\[2\]'.*got 9", lambda: sigmoid_focal_loss_labels(x, torch.tensor([0, 1, 9], dtype=torch.int32)))
    err(ValueError, r"argument 'labels\[0\]'.*got 4294967297", lambda: sigmoid_focal_loss_labels(x, torch.tensor([2**32 + 1, 0, 0])))
    err(ValueError, "argument 'normalizer'.*reduction='sum'", lambda: sigmoid_focal_loss_labels(x, lab, reduction="mean", normalizer=2.0))
    err(ValueError, "argument 'normalizer'", lambda: sigmoid_focal_loss_labels(x, lab, normalizer=0.0))


@pytest.mark.parametrize("label_dtype", [torch.int64, torch.int32])
def test_labels_against_mpfr_and_one_hot(gen, label_dtype):
    n, c = 64, 5
    x = (torch.randn(n, c, generator=gen) * 8).requires_grad_()
    labels = torch.randint(-2, c + 1, (n,), generator=gen)  # negative: ignored; c: background
    huge = -(2**40) if label_dtype == torch.int64 else -(2**31)
    labels[:3] = torch.tensor([huge, c, 0])                 # a huge negative stays ignored
    labels = labels.to(label_dtype)
    keep = labels >= 0
    one_hot = torch.zeros(n, c)
    fg = keep & (labels < c)
    one_hot[fg, labels[fg].long()] = 1.0
    want_l, want_g = reference(x.detach().numpy(), one_hot.numpy())
    want_l = want_l.reshape(n, c) * keep[:, None].numpy()
    want_g = want_g.reshape(n, c) * keep[:, None].numpy()

    none = sigmoid_focal_loss_labels(x, labels, reduction="none")
    assert none.shape == (n, c)
    assert np.max(ulp_error(none.detach().numpy(), want_l)) <= max(b for _, b in KERNELS)
    total = float(want_l.astype(np.float64).sum())
    nfg = float(fg.sum())
    assert sigmoid_focal_loss_labels(x, labels).item() == pytest.approx(total, rel=1e-6)
    assert sigmoid_focal_loss_labels(x, labels, reduction="mean").item() == pytest.approx(
        total / (float(keep.sum()) * c), rel=1e-6)
    norm = sigmoid_focal_loss_labels(x, labels, normalizer=nfg)
    assert norm.item() == pytest.approx(total / nfg, rel=1e-6)
    norm.backward()
    np.testing.assert_allclose(x.grad.numpy(), want_g / nfg, rtol=2e-6, atol=0)
    # The same elements through the dense layout (one-hot targets; ignored rows dropped).
    dense = sigmoid_focal_loss(x.detach()[keep], one_hot[keep], reduction="sum")
    assert dense.item() == pytest.approx(total, rel=1e-6)


def half_ulp(v, dtype):
    """Spacing of `dtype` (float16 / bfloat16) at |v| (subnormal spacing below the normal range)."""
    mant, emin = (10, -14) if dtype == torch.float16 else (7, -126)
    e = np.maximum(np.floor(np.log2(np.maximum(np.abs(v), 1e-300))), emin)
    return np.exp2(e - mant)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_logits_against_mpfr(gen, dtype):
    # Half logits, 0/1 targets: loss and gradient in the logits' dtype, within 1 ULP of that
    # dtype of the truth at the half value (the library's bound: 0.5 + 2^-13 B).
    x = torch.cat([torch.randn(200, generator=gen) * 6, torch.tensor([-16.0, 17.0, 30.0, -60.0])]).to(dtype)
    t = torch.rand(x.shape, generator=gen) < 0.3
    t[-4:] = torch.tensor([False, True, True, False])
    xr = x.clone().requires_grad_()
    loss = sigmoid_focal_loss(xr, t, reduction="none")
    loss.backward(torch.ones_like(loss))
    assert loss.dtype == dtype and xr.grad.dtype == dtype
    want_l, want_g = reference(x.float().numpy(), t.float().numpy())
    for got, want in ((loss.detach().float().numpy(), want_l), (xr.grad.float().numpy(), want_g)):
        err = np.abs(got.astype(np.float64) - want) / half_ulp(want.astype(np.float64), dtype)
        assert err.max() <= 1.0, f"{dtype}: {err.max():.3g} ULP at x={x[int(np.argmax(err))]}"
    total = float(want_l.astype(np.float64).sum())
    s = sigmoid_focal_loss(x, t.to(torch.uint8), reduction="sum")
    assert s.dtype == dtype and float(s) == pytest.approx(total, rel=2.0 ** -7)
    lab = torch.randint(-1, 4, (20,), generator=gen)
    xl = (torch.randn(20, 3, generator=gen) * 4).to(dtype)
    want32 = sigmoid_focal_loss_labels(xl.float(), lab, kernel="scalar")
    assert float(sigmoid_focal_loss_labels(xl, lab)) == pytest.approx(float(want32), rel=2.0 ** -7)
    with pytest.raises(TypeError, match="argument 'targets'.*bool or torch.uint8"):
        sigmoid_focal_loss(x, t.float())
