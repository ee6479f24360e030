# torch.autograd.gradcheck of bnorm.torch's Function in float64: training and eval, affine on and
# off, channels-first and channels-last, 1d/2d/3d shapes, and requires_grad on each input alone.
import itertools

import pytest
import torch

import bnorm.torch as bt
from bnorm.torch.function import layout_of

SHAPES = {"1d_nc": (5, 3), "1d_ncl": (3, 2, 4), "2d": (3, 2, 3, 2), "3d": (2, 2, 2, 3, 2)}


def make_input(shape, channels_last):
    x = torch.randn(shape, dtype=torch.float64) * 2 + 3
    if channels_last and len(shape) > 2:
        d = len(shape)
        x = x.permute(0, *range(2, d), 1).contiguous().permute(0, d - 1, *range(1, d - 1))
    return x.requires_grad_()


@pytest.mark.parametrize("name,channels_last,training,affine", [
    (n, cl, tr, af) for n, cl, tr, af in itertools.product(SHAPES, [False, True], [True, False],
                                                           [True, False])
    if not (cl and n == "1d_nc")])
def test_gradcheck(name, channels_last, training, affine):
    torch.manual_seed(hash((name, channels_last, training, affine)) % 1000)
    shape = SHAPES[name]
    c = shape[1]
    x = make_input(shape, channels_last)
    assert layout_of(x) == ("channels_last" if channels_last and len(shape) > 2 else
                            "nc" if len(shape) == 2 else "channels_first")
    w = torch.rand(c, dtype=torch.float64).add_(0.5).requires_grad_(affine)
    b = torch.randn(c, dtype=torch.float64).requires_grad_(affine)
    rm, rv = torch.randn(c, dtype=torch.float64), torch.rand(c, dtype=torch.float64) + 0.5
    calls = []

    def f(x, w, b):
        calls.append(1)
        return bt.batch_norm(x, rm.clone(), rv.clone(), w if affine else None,
                             b if affine else None, training, 0.1, 1e-3)

    inputs = (x, w, b)
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-8, rtol=1e-6)
    assert calls


@pytest.mark.parametrize("which", range(3))
def test_requires_grad_per_input(which):
    # Only the input that requires grad gets one, and it equals torch's.
    x = torch.randn(4, 3, 5, dtype=torch.float64)
    w, b = torch.rand(3, dtype=torch.float64) + 0.5, torch.randn(3, dtype=torch.float64)
    grads = []
    for fn in (bt.batch_norm, torch.nn.functional.batch_norm):
        inputs = [t.clone().requires_grad_(i == which) for i, t in enumerate((x, w, b))]
        y = fn(inputs[0], None, None, inputs[1], inputs[2], True, 0.1, 1e-5)
        y.backward(torch.arange(y.numel(), dtype=torch.float64).view_as(y).sin())
        assert [t.grad is None for t in inputs] == [i != which for i in range(3)]
        grads.append(inputs[which].grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-12)
