# bnorm.torch.BatchNorm{1,2,3}d against torch.nn's on a grid of random shapes (odd sizes, C = 1,
# N * spatial = 2), layouts, momentum 0.1 and None: forward, running statistics after several
# steps, dx/dgamma/dbeta, eval output. float64 within 1e-10 relative; float32 within twice
# PyTorch float32's own error against the float64 result on the same inputs, or within 2 float32
# ulps of the output's scale where that is larger (errors below an ulp cannot be compared).
import copy

import numpy as np
import pytest
import torch

import bnorm.torch as bt

SHAPES = [(2, 1), (7, 5), (31, 17), (1, 2, 2), (3, 4, 7), (2, 3, 1, 1), (1, 1, 1, 2),
          (3, 1, 5, 7), (5, 7, 3, 3), (2, 16, 9, 11), (4, 33, 6, 5), (2, 3, 1, 1, 1),
          (1, 2, 1, 2, 1), (2, 5, 3, 4, 5)]
FLOAT32_FLOOR_ULPS = 2
TORCH_CLASS = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d,
               5: torch.nn.BatchNorm3d}


def channels_last(x):
    d = x.dim()
    return x.permute(0, *range(2, d), 1).contiguous().permute(0, d - 1, *range(1, d - 1))


def run(module, xs, dys, eval_x):
    """Three training steps, then eval: (name, value) of every output, gradient and statistic,
    in float64."""
    out = []
    for step, (x, dy) in enumerate(zip(xs, dys)):
        x = x.detach().clone().requires_grad_()
        y = module(x)
        y.backward(dy)
        out += [(f"y{step}", y), (f"dx{step}", x.grad)]
        if module.affine:
            out += [(f"dgamma{step}", module.weight.grad.clone()),
                    (f"dbeta{step}", module.bias.grad.clone())]
            module.weight.grad = module.bias.grad = None
        if module.track_running_stats:
            out += [(f"running_mean{step}", module.running_mean.clone()),
                    (f"running_var{step}", module.running_var.clone())]
    module.eval()
    with torch.no_grad():
        out.append(("eval y", module(eval_x)))
    module.train()
    return [(name, t.detach().double()) for name, t in out]


def scales(ref, xs, dys, truth):
    """The magnitude each output's error is relative to: its own largest value, except dx, which
    cancels to nearly 0 when N * spatial is 2; its terms are of size |dy| * gamma * invstd."""
    out = {}
    for name, t in truth:
        out[name] = max(t.abs().max().item(), 1e-300)
    for step, (x, dy) in enumerate(zip(xs, dys)):
        dims = [0] + list(range(2, x.dim()))
        invstd = 1 / (x.var(dims, unbiased=False).min().item() + ref.eps) ** 0.5
        gamma = ref.weight.abs().max().item() if ref.affine else 1.0
        out[f"dx{step}"] = max(out[f"dx{step}"], dy.abs().max().item() * gamma * invstd)
    return out


def cases():
    for i, shape in enumerate(SHAPES):
        # Each shape gets a mix of the options rather than all combinations (test time).
        yield shape, i % 2 == 1 and len(shape) > 2, [0.1, None][i % 2], i % 3 != 2, i % 4 != 3


@pytest.mark.parametrize("shape,cl,momentum,affine,track", list(cases()))
def test_parity(shape, cl, momentum, affine, track):
    torch.manual_seed(sum(shape))
    c = shape[1]
    ref = TORCH_CLASS[len(shape)](c, eps=1e-5, momentum=momentum, affine=affine,
                                  track_running_stats=track).double()
    if affine:
        with torch.no_grad():
            ref.weight.uniform_(0.5, 2)
            ref.bias.normal_()
    xs = [torch.randn(shape, dtype=torch.float64) * 3 + 5 for _ in range(3)]
    dys = [torch.randn(shape, dtype=torch.float64) for _ in range(3)]
    eval_x = torch.randn(shape, dtype=torch.float64)
    if cl:
        xs, dys, eval_x = [channels_last(x) for x in xs], [channels_last(d) for d in dys], \
            channels_last(eval_x)
    mine = bt.convert(copy.deepcopy(ref))
    assert type(mine).__module__ == "bnorm.torch.modules"

    truth = run(copy.deepcopy(ref), xs, dys, eval_x)  # torch, float64
    scale = scales(ref, xs, dys, truth)
    got64 = run(copy.deepcopy(mine), xs, dys, eval_x)
    for (name, g), (_, t) in zip(got64, truth):
        err = (g - t).abs().max().item()
        assert err <= 1e-10 * scale[name], f"float64 {name}: error {err:.3g}"

    f32 = lambda ts: [t.float() for t in ts]
    torch32 = run(copy.deepcopy(ref).float(), f32(xs), f32(dys), eval_x.float())
    got32 = run(copy.deepcopy(mine).float(), f32(xs), f32(dys), eval_x.float())
    for (name, g), (_, p), (_, t) in zip(got32, torch32, truth):
        torch_err = (p - t).abs().max().item()
        err = (g - t).abs().max().item()
        # The floor: where torch's error is a fraction of an ulp, twice it is no bound; bnorm's
        # float32 kernels accumulate in float64 as torch's do, so both round the same sums.
        floor = FLOAT32_FLOOR_ULPS * np.finfo(np.float32).eps * scale[name]
        assert err <= max(2 * torch_err, floor), \
            f"float32 {name}: bnorm error {err:.3g}, torch's {torch_err:.3g}, " \
            f"scale {scale[name]:.3g}"


def test_momentum_none_is_cumulative_average():
    m = bt.BatchNorm1d(3, momentum=None).double()
    xs = [torch.randn(6, 3, dtype=torch.float64) for _ in range(4)]
    for x in xs:
        m(x)
    assert m.num_batches_tracked.item() == 4
    expected = torch.stack([x.mean(0) for x in xs]).mean(0)
    torch.testing.assert_close(m.running_mean, expected, rtol=1e-13, atol=1e-15)


def test_track_running_stats_false_uses_batch_stats_in_eval():
    m = bt.BatchNorm2d(2, track_running_stats=False).double().eval()
    x = torch.randn(3, 2, 4, 4, dtype=torch.float64)
    ref = torch.nn.BatchNorm2d(2, track_running_stats=False).double().eval()
    torch.testing.assert_close(m(x), ref(x), rtol=1e-12, atol=1e-12)
    assert m.running_mean is None and m.num_batches_tracked is None


def test_two_threads_match_one(rng=None):
    # bnorm's kernels follow torch.set_num_threads; results agree across thread counts.
    x = torch.randn(8, 16, 20, 20)
    m = bt.BatchNorm2d(16)
    outs = []
    for n in (1, 2):
        torch.set_num_threads(n)
        outs.append(m(x))
    torch.set_num_threads(1)
    torch.testing.assert_close(outs[0], outs[1], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4, 5), (2, 3, 2, 4, 5), (8, 64, 48, 48)])
@pytest.mark.parametrize("cl", [False, True])
def test_outputs_have_the_layout_and_strides_of_torchs(shape, cl):
    # y and dx are allocated by bnorm.torch (in numpy memory): they must come out with the same
    # shape, strides and dtype as torch's, in both layouts; the last shape is over 4 MiB.
    if cl and len(shape) == 2:
        pytest.skip("a 2-D tensor has no channels_last layout")
    x = torch.randn(shape)
    if cl:
        x = channels_last(x)
    dy = torch.randn_like(x)
    outs = []
    for module in (TORCH_CLASS[len(shape)](shape[1]), bt.convert(
            TORCH_CLASS[len(shape)](shape[1]))):
        xi = x.detach().clone().requires_grad_()
        y = module(xi)
        y.backward(dy)
        outs.append((y, xi.grad))
    for mine, ref in zip(outs[1], outs[0]):
        assert (mine.shape, mine.stride(), mine.dtype) == (ref.shape, ref.stride(), ref.dtype)
        torch.testing.assert_close(mine, ref, rtol=1e-4, atol=1e-4)
