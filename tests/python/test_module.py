# bnorm.BatchNorm, the stateful module, on numpy arrays: its modes against torch.nn.BatchNorm,
# momentum None, Algorithm 2's population estimate, parameter views and gradient accumulation.
import numpy as np
import pytest
import torch

import bnorm
from conftest import assert_close


def torch_twin(bn, shape):
    cls = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d,
           5: torch.nn.BatchNorm3d}[len(shape)]
    t = cls(bn.num_features, eps=bn.eps, momentum=bn.momentum, affine=bn.affine,
            track_running_stats=bn.track_running_stats).double()
    if bn.affine:
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(bn.gamma.astype(np.float64)))
            t.bias.copy_(torch.from_numpy(bn.beta.astype(np.float64)))
    return t


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_train_then_inference_matches_torch(momentum, layout, dtype, rng):
    shape = (3, 4, 5, 3)
    bn = bnorm.BatchNorm(4, momentum=momentum, layout=layout, dtype=dtype)
    bn.gamma[:] = rng.uniform(0.5, 2, 4)  # the views are the module's own memory
    bn.beta[:] = rng.standard_normal(4)
    t = torch_twin(bn, shape)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    to_l = (lambda a: np.ascontiguousarray(np.moveaxis(a, 1, -1))) if layout == "channels_last" \
        else (lambda a: a)
    from_l = (lambda a: np.moveaxis(a, -1, 1)) if layout == "channels_last" else (lambda a: a)
    for step in range(3):
        x = rng.standard_normal(shape) * 2 + 5
        dy = rng.standard_normal(shape)
        x_l = to_l(x.astype(dtype))  # backward must be given the forward's own buffer
        y = bn(x_l, "train")
        xt = torch.from_numpy(x).requires_grad_()
        yt = t(xt)
        yt.backward(torch.from_numpy(dy))
        dx = bn.backward(x_l, to_l(dy.astype(dtype)))
        assert_close(from_l(y), yt.detach().numpy(), rtol, f"y step {step}")
        assert_close(from_l(dx), xt.grad.numpy(), 10 * rtol, f"dx step {step}")
        assert_close(bn.running_mean, t.running_mean.numpy(), rtol, "running_mean", atol=1e-7)
        assert_close(bn.running_var, t.running_var.numpy(), rtol, "running_var")
    assert bn.num_batches_tracked == 3
    # grad_gamma and grad_beta accumulate over the three backward calls, as torch's .grad.
    assert_close(bn.grad_gamma, t.weight.grad.numpy(), 10 * rtol, "grad_gamma")
    assert_close(bn.grad_beta, t.bias.grad.numpy(), 10 * rtol, "grad_beta")
    bn.zero_grad()
    assert not bn.grad_gamma.any()
    t.eval()
    x = rng.standard_normal(shape)
    assert_close(from_l(bn(to_l(x.astype(dtype)), "inference")),
                 t(torch.from_numpy(x)).detach().numpy(), rtol, "inference y")


def test_modes(rng):
    x = rng.standard_normal((6, 3))
    bn = bnorm.BatchNorm(3, layout="nc", dtype="float64")
    bn.forward(x, bnorm.Mode.batch_stats)
    assert bn.num_batches_tracked == 0 and (bn.running_mean == 0).all()
    bn.forward(x, "train")
    assert bn.num_batches_tracked == 1
    y = bn.forward(x, "frozen")
    affine = bn.inference_affine()
    assert_close(y, affine.scale * x + affine.shift, 1e-14, "frozen = inference affine map")
    bn.backward(x, np.ones_like(x))
    assert not bn.grad_gamma.any()  # frozen: gamma and beta are constants
    bn.forward(x, "inference")
    bn.backward(x, np.ones_like(x))
    assert_close(bn.grad_beta, np.full(3, 6.0), 0, "inference mode still trains beta")
    bn.reset_running_stats()
    assert bn.num_batches_tracked == 0 and (bn.running_var == 1).all()


def test_population_estimate_algorithm_2(rng):
    bn = bnorm.BatchNorm(2, layout="nc", dtype="float64")
    batches = [rng.standard_normal((8, 2)) * (k + 1) for k in range(4)]
    bn.begin_population_estimate()
    for x in batches:
        bn.forward(x, "batch_stats")
    assert bn.end_population_estimate() == 4
    assert_close(bn.running_mean, np.mean([x.mean(0) for x in batches], 0), 1e-14, "E[x]")
    assert_close(bn.running_var, np.mean([x.var(0, ddof=1) for x in batches], 0), 1e-14,
                 "m/(m-1) E[var]")
    moments = bn.batch_moments
    assert moments.dtype == bnorm.moments_dtype and (moments["count"] == 8).all()


def test_options_and_no_affine(rng):
    bn = bnorm.BatchNorm(5, eps=1e-3, momentum=None, affine=False, track_running_stats=False,
                         activation="relu", check_finite=True, gradient_through_stats=False,
                         backend="reference", dtype=np.float64)
    assert bn.gamma is None and bn.running_mean is None and bn.momentum is None
    assert bn.activation == bnorm.Activation.relu and bn.backend == bnorm.Backend.reference
    assert bn.check_finite and not bn.gradient_through_stats and bn.eps == 1e-3
    x = rng.standard_normal((4, 5, 3))
    y = bn(x, "batch_stats")
    assert (y >= 0).all()
    with pytest.raises(ValueError, match="running statistics"):
        bn(x, "train")
    x[1, 2, 0] = np.nan
    with pytest.raises(bnorm.Error, match="channel 2"):
        bn(x, "batch_stats")


def test_views_keep_module_alive():
    bn = bnorm.BatchNorm(3)
    gamma = bn.gamma
    del bn
    gamma[:] = 2.0  # the view holds the module
    assert gamma.dtype == np.float32 and (gamma == 2.0).all()
