# bnorm's functional numpy API: each function against a float64 numpy reference, the C++
# reference backend, and PyTorch; layouts, dtypes, caller-given outputs and in-place use.
import numpy as np
import pytest
import torch

import bnorm
from conftest import assert_close, ref_backward, ref_forward_train

SHAPES = [(2, 3), (7, 1), (2, 3, 1, 1), (3, 5, 7, 2), (4, 33, 5), (2, 4, 3, 3, 3)]
DTYPES = [np.float32, np.float64]
RTOL = {np.float32: 2e-6, np.float64: 1e-12}


def to_layout(x, layout):
    """x (N, C, ...) in the array shape a layout takes: channels_last is (N, ..., C)."""
    if layout == "channels_last":
        return np.ascontiguousarray(np.moveaxis(x, 1, -1))
    return x


def from_layout(y, layout):
    return np.moveaxis(y, -1, 1) if layout == "channels_last" else y


def layouts(shape):
    return ["nc", "channels_first", "channels_last"] if len(shape) == 2 else \
        ["channels_first", "channels_last"]


def cases():
    for shape in SHAPES:
        for layout in layouts(shape):
            for dtype in DTYPES:
                yield shape, layout, dtype


@pytest.mark.parametrize("shape,layout,dtype", list(cases()))
def test_forward_train_backward_infer(shape, layout, dtype, rng):
    x = (rng.standard_normal(shape) * 3 + 10).astype(dtype)  # +10 exposes cancellation
    c = shape[1]
    gamma = rng.uniform(0.5, 2, c).astype(dtype)
    beta = rng.standard_normal(c).astype(dtype)
    eps = 1e-3
    xl = to_layout(x, layout)
    y, moments, invstd = bnorm.forward_train(xl, gamma, beta, eps, layout=layout)
    y_ref, mean_ref, var_ref = ref_forward_train(x, gamma, beta, eps)
    assert y.dtype == dtype and y.shape == xl.shape
    assert_close(from_layout(y, layout), y_ref, RTOL[dtype], "y")
    stats_rtol = 1e-5 if dtype == np.float32 else 1e-10  # float32 kernels sum in float32
    assert_close(moments["mean"], mean_ref, stats_rtol, "mean")
    assert_close(moments["m2"] / moments["count"], var_ref, stats_rtol, "var")
    assert (moments["count"] == x.size // c).all()
    assert_close(invstd, 1 / np.sqrt(var_ref + eps), stats_rtol, "invstd")
    # The C++ reference backend gives the same numbers.
    y_cpp, moments_cpp, _ = bnorm.forward_train(xl, gamma, beta, eps, layout=layout,
                                                backend="reference")
    assert_close(y, y_cpp, RTOL[dtype], "y vs reference backend")
    assert_close(moments["m2"], moments_cpp["m2"], stats_rtol, "m2 vs reference backend")

    dy = rng.standard_normal(shape).astype(dtype)
    mean = moments["mean"].copy()
    for stats in ["through_batch_stats", "stats_as_constants"]:
        dx, dgamma, dbeta = bnorm.backward(xl, to_layout(dy, layout), mean, invstd, gamma,
                                           stats_gradient=stats, layout=layout)
        rdx, rdg, rdb = ref_backward(x, dy, mean, invstd, gamma, stats == "through_batch_stats")
        assert_close(from_layout(dx, layout), rdx, 20 * RTOL[dtype], f"dx ({stats})")
        assert_close(dgamma, rdg, 20 * RTOL[dtype], f"dgamma ({stats})")
        assert_close(dbeta, rdb, 20 * RTOL[dtype], f"dbeta ({stats})")

    rm = rng.standard_normal(c).astype(dtype)
    rv = rng.uniform(0.5, 2, c).astype(dtype)
    y_inf = bnorm.forward_infer(xl, rm, rv, gamma, beta, eps, layout=layout)
    shape1 = (1, -1) + (1,) * (len(shape) - 2)
    y_inf_ref = (gamma.astype(np.float64).reshape(shape1) * (x - rm.reshape(shape1)) /
                 np.sqrt(rv.astype(np.float64).reshape(shape1) + eps) + beta.reshape(shape1))
    assert_close(from_layout(y_inf, layout), y_inf_ref, RTOL[dtype], "inference y")


@pytest.mark.parametrize("dtype", DTYPES)
def test_against_pytorch(dtype, rng):
    x = rng.standard_normal((4, 6, 5, 3)).astype(dtype)
    gamma, beta = rng.uniform(0.5, 2, 6).astype(dtype), rng.standard_normal(6).astype(dtype)
    rm, rv = np.zeros(6, dtype), np.ones(6, dtype)
    y, moments, invstd = bnorm.forward_train(x, gamma, beta)
    bnorm.update_running_stats(moments, 0.1, rm, rv)
    xt = torch.from_numpy(x).requires_grad_()
    trm, trv = torch.zeros(6, dtype=xt.dtype), torch.ones(6, dtype=xt.dtype)
    wt, bt = torch.from_numpy(gamma).requires_grad_(), torch.from_numpy(beta).requires_grad_()
    yt = torch.nn.functional.batch_norm(xt, trm, trv, wt, bt, True, 0.1, 1e-5)
    dy = rng.standard_normal(x.shape).astype(dtype)
    yt.backward(torch.from_numpy(dy))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert_close(y, yt.detach().numpy(), rtol, "y")
    assert_close(rm, trm.numpy(), rtol, "running_mean", atol=1e-7)
    assert_close(rv, trv.numpy(), rtol, "running_var")
    dx, dgamma, dbeta = bnorm.backward(x, dy, moments["mean"], invstd, gamma)
    assert_close(dx, xt.grad.numpy(), 10 * rtol, "dx")
    assert_close(dgamma, wt.grad.numpy(), 10 * rtol, "dgamma")
    assert_close(dbeta, bt.grad.numpy(), 10 * rtol, "dbeta")
    y_eval = bnorm.forward_infer(x, rm, rv, gamma, beta)
    yt_eval = torch.nn.functional.batch_norm(xt.detach(), trm, trv, wt.detach(), bt.detach())
    assert_close(y_eval, yt_eval.numpy(), rtol, "eval y")


def test_caller_outputs_are_written_and_returned(rng):
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    out = np.full_like(x, np.nan)
    moments = np.zeros(4, bnorm.moments_dtype)
    invstd = np.full(4, np.nan)
    y, m, s = bnorm.forward_train(x, out=out, moments=moments, invstd=invstd)
    assert y is out and m is moments and s is invstd
    assert np.isfinite(out).all() and (moments["count"] == 15).all()
    # Garbage in the gradient outputs is overwritten, not accumulated into.
    dx, dg, db = (np.full_like(x, 1e30), np.full(4, 1e30, np.float32),
                  np.full(4, 1e30, np.float32))
    r = bnorm.backward(x, x, m["mean"], s, dx=dx, dgamma=dg, dbeta=db)
    assert r[0] is dx and r[1] is dg and r[2] is db
    assert np.abs(dx).max() < 1e3 and np.abs(dg).max() < 1e3
    only_dx = bnorm.backward(x, x, m["mean"], s, compute_dgamma=False, compute_dbeta=False)
    assert only_dx[1] is None and only_dx[2] is None
    assert_close(only_dx[0], dx, 1e-6, "dx alone")


def test_forward_infer_in_place(rng):
    x = rng.standard_normal((5, 3, 4)).astype(np.float64)
    expected = bnorm.forward_infer(x, np.ones(3), np.full(3, 4.0), eps=1e-12)
    y = bnorm.forward_infer(x, np.ones(3), np.full(3, 4.0), eps=1e-12, out=x)
    assert y is x  # x was neither copied nor reallocated
    assert_close(x, expected, 1e-15, "in place")


def test_non_contiguous_input_is_copied_not_misread(rng):
    base = rng.standard_normal((4, 3, 6)).astype(np.float32)
    x = base[:, :, ::2]
    y, m, _ = bnorm.forward_train(x)
    y_ref, mean, _ = ref_forward_train(np.ascontiguousarray(x), None, None, 1e-5)
    assert_close(y, y_ref, 2e-6, "strided x")


def test_relu_activation(rng):
    x = rng.standard_normal((6, 3, 4)).astype(np.float64)
    beta = rng.standard_normal(3)
    y, m, s = bnorm.forward_train(x, None, beta, activation="relu")
    y_ref, _, _ = ref_forward_train(x, None, beta, 1e-5)
    assert_close(y, np.maximum(y_ref, 0), 1e-12, "relu y")
    dy = rng.standard_normal(x.shape)
    dx, _, _ = bnorm.backward(x, dy, m["mean"], s, activation=bnorm.Activation.relu, beta=beta)
    rdx, _, _ = ref_backward(x, dy * (y_ref > 0), m["mean"], s, None, True)
    assert_close(dx, rdx, 1e-11, "relu dx")


def test_inference_affine_and_fold_match_torch(rng):
    conv = torch.nn.Conv2d(3, 5, 3).double()
    bn = torch.nn.BatchNorm2d(5).double().eval()
    with torch.no_grad():
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 2)
        bn.bias.normal_()
    affine = bnorm.inference_affine(bn.running_mean.numpy(), bn.running_var.numpy(),
                                    bn.weight.detach().numpy(), bn.bias.detach().numpy(), bn.eps)
    x = torch.randn(2, 3, 7, 7, dtype=torch.float64)
    with torch.no_grad():
        z = conv(x)
        expected = bn(z)
    s = torch.from_numpy(affine.scale).view(1, -1, 1, 1)
    assert_close((s * z + torch.from_numpy(affine.shift).view(1, -1, 1, 1)).numpy(),
                 expected.numpy(), 1e-13, "scale * x + shift")
    weight = conv.weight.detach().numpy().copy()
    bias = conv.bias.detach().numpy().copy()
    bnorm.fold_into_preceding(affine, weight, bias)
    folded = torch.nn.functional.conv2d(x, torch.from_numpy(weight), torch.from_numpy(bias))
    assert_close(folded.numpy(), expected.numpy(), 1e-12, "folded conv")


def test_moments_merge_and_moments_of(rng):
    v = rng.standard_normal(101) + 1e4
    a, b = bnorm.moments_of(v[:40]), bnorm.moments_of(v[40:])
    m = bnorm.merge(a, b)
    assert m.count == 101
    assert_close(m.mean, v.mean(), 1e-15, "mean")
    assert_close(m.variance(), v.var(), 1e-9, "variance")
    assert_close(m.unbiased_variance(), v.var(ddof=1), 1e-9, "unbiased variance")
    # Per-channel merge of two forward_train batches equals the moments of both together.
    x1, x2 = rng.standard_normal((3, 4, 5)), rng.standard_normal((6, 4, 5))
    _, m1, _ = bnorm.forward_train(x1)
    _, m2, _ = bnorm.forward_train(x2)
    _, m12, _ = bnorm.forward_train(np.concatenate([x1, x2]))
    merged = bnorm.merge(m1, m2)
    assert (merged["count"] == m12["count"]).all()
    assert_close(merged["mean"], m12["mean"], 1e-12, "merged mean", atol=1e-15)
    assert_close(merged["m2"], m12["m2"], 1e-12, "merged m2")


def test_update_running_stats_cumulative(rng):
    rm, rv = np.zeros(2), np.ones(2)
    batches = [rng.standard_normal((5, 2)) for _ in range(3)]
    for k, x in enumerate(batches, start=1):
        _, m, _ = bnorm.forward_train(x, layout="nc")
        bnorm.update_running_stats(m, 1.0 / k, rm, rv)
    assert_close(rm, np.mean([x.mean(axis=0) for x in batches], axis=0), 1e-14, "mean")
    assert_close(rv, np.mean([x.var(axis=0, ddof=1) for x in batches], axis=0), 1e-14, "var")


def test_helpers():
    assert bnorm.momentum_from_decay(0.9) == pytest.approx(0.1)
    name = bnorm.selected_kernel_name((32, 64, 56, 56), "float32")
    assert name and name != "reference"
    assert bnorm.selected_kernel_name((2, 3), "float64", "nc", "reference") == "reference"


def test_threads_share_nothing(rng):
    # Calls from several Python threads at once (the GIL is released inside) give each its own
    # result.
    from concurrent.futures import ThreadPoolExecutor
    xs = [rng.standard_normal((8, 16, 32)).astype(np.float32) + i for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda x: bnorm.forward_train(x)[0], xs))
    for x, y in zip(xs, results):
        assert_close(y, ref_forward_train(x, None, None, 1e-5)[0], 2e-6, "threaded y")
