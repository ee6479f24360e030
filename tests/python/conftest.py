# Shared setup of the Python tests: one thread for torch and bnorm (ctest runs two test files at
# once on two cores), float64 reference helpers and the tolerance checks used by every file.
import numpy as np
import pytest
import torch

torch.set_num_threads(1)


def assert_close(actual, expected, rtol, what, atol=0.0):
    """|a - r| <= atol + rtol * max|r| elementwise; the message names the worst index."""
    a = np.asarray(actual, dtype=np.float64)
    r = np.asarray(expected, dtype=np.float64)
    assert a.shape == r.shape, f"{what}: shape {a.shape} != {r.shape}"
    if a.size == 0:
        return
    err = np.abs(a - r)
    bound = atol + rtol * max(np.abs(r).max(), 1e-300)
    i = np.unravel_index(np.argmax(err), err.shape)
    assert err[i] <= bound, (f"{what}: |a - r| = {err[i]:.3g} > {bound:.3g} at {i}: "
                             f"a = {a[i]!r}, r = {r[i]!r}")


def ref_forward_train(x, gamma, beta, eps):
    """Float64 training forward of channels-first x (N, C, ...): y, mean, biased var."""
    x = x.astype(np.float64)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes)
    var = ((x - mean.reshape(shape)) ** 2).mean(axis=axes)
    xhat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    g = np.ones_like(mean) if gamma is None else gamma.astype(np.float64)
    b = np.zeros_like(mean) if beta is None else beta.astype(np.float64)
    return g.reshape(shape) * xhat + b.reshape(shape), mean, var


def ref_backward(x, dy, mean, invstd, gamma, through):
    """Float64 backward of channels-first x: dx, dgamma, dbeta."""
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m = x.size // x.shape[1]
    xhat = (x - mean.reshape(shape)) * invstd.reshape(shape)
    dbeta = dy.sum(axis=axes)
    dgamma = (dy * xhat).sum(axis=axes)
    g = np.ones_like(mean) if gamma is None else gamma.astype(np.float64)
    k = (g * invstd).reshape(shape)
    if through:
        dx = k * (dy - dbeta.reshape(shape) / m - xhat * dgamma.reshape(shape) / m)
    else:
        dx = k * dy
    return dx, dgamma, dbeta


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
