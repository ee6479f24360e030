#!/usr/bin/python3
"""Writes the float32 accuracy grid for tests/kernels/accuracy_test.cpp: random BatchNorm problems
solved by PyTorch in float32 and in float64 on the same float32 inputs.

Usage: /usr/bin/python3 scripts/make_accuracy_golden.py OUT_DIR   (needs torch; fixed seeds)

The test holds every kernel's float32 outputs against the float64 result, allowing twice the
error of PyTorch's own float32 result (or 1e-5), elementwise relative with a floor of 1e-3 of the
field's largest value. One file per problem (format: scripts/golden_format.py): options layout,
eps, momentum; arrays x, dy [N, C, spatial...] in the layout's memory order, gamma, beta [C], and
for each of y, dx, dgamma, dbeta, running_mean, running_var (one training step from mean 0,
variance 1) the float32 result NAME_f32 and the float64 one NAME_f64.
"""

import math
import os
import random
import sys

import torch

import golden_format

CASE_COUNT = 72
MOMENTUM = 0.1

# Problems PyTorch's float32 was measured to be 3-30x more accurate on than float lanes summed in
# float: (shape, layout).
FIXED = [((3, 16, 5, 5, 5), "channels_last"), ((17, 16), "nc"), ((2, 16, 5, 5, 3),
                                                                  "channels_first")]


def random_problem(rng):
    """A shape [N, C, spatial...] and layout: N * spatial from 2 up, sizes log-uniform up to
    about 3e4 elements so that in-L1 tiles, row-order sums and channel groups all occur."""
    rank = rng.choice([2, 2, 3, 4, 4, 5])
    c = rng.choice([1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 48, 64, 100])
    per_channel = max(2, int(math.exp(rng.uniform(math.log(2), math.log(30000 / c)))))
    if rank == 2:
        return (per_channel, c), "nc"
    n = rng.randint(1, 4)
    spatial_total = max(1, per_channel // n)
    if n * spatial_total < 2:
        n = 2
    dims = [spatial_total]
    for _ in range(rank - 3):  # split the spatial size over the remaining dims
        d = dims.pop()
        f = max(1, int(round(d ** 0.5)))
        dims += [f, max(1, d // f)]
    # PyTorch has channels-last memory formats for 4 and 5 dims only.
    layout = rng.choice(["channels_first", "channels_last"]) if rank >= 4 else "channels_first"
    return (n, c, *dims), layout


def to_layout(t, layout):
    if layout != "channels_last":
        return t.contiguous()
    fmt = torch.channels_last if t.dim() == 4 else torch.channels_last_3d
    return t.contiguous(memory_format=fmt)


def solve(x, dy, gamma, beta, eps, layout):
    """Training forward and backward at the dtype of x; y, dx, dgamma, dbeta, running stats."""
    x = to_layout(x.clone(), layout).requires_grad_(True)
    w = gamma.clone().requires_grad_(True)
    b = beta.clone().requires_grad_(True)
    c = x.shape[1]
    running_mean = torch.zeros(c, dtype=x.dtype)
    running_var = torch.ones(c, dtype=x.dtype)
    y = torch.nn.functional.batch_norm(x, running_mean, running_var, w, b, training=True,
                                       momentum=MOMENTUM, eps=eps)
    y.backward(to_layout(dy, layout))
    return {"y": y, "dx": x.grad, "dgamma": w.grad, "dbeta": b.grad,
            "running_mean": running_mean, "running_var": running_var}


def write_case(out_dir, index, case):
    name, shape, layout = case
    rng = random.Random(2000 + index)
    gen = torch.Generator().manual_seed(2000 + index)
    c = shape[1]
    view = [1, c] + [1] * (len(shape) - 2)
    offset = (torch.rand(c, generator=gen, dtype=torch.float64) * 20 - 10).reshape(view)
    log_scale = torch.rand(c, generator=gen, dtype=torch.float64) * math.log(3000)
    scale = (1e-2 * torch.exp(log_scale)).reshape(view)  # 1e-2 to 30
    x = (torch.randn(shape, generator=gen, dtype=torch.float64) * scale + offset).float()
    dy = torch.randn(shape, generator=gen, dtype=torch.float64).float()
    gamma = (torch.rand(c, generator=gen, dtype=torch.float64) * 1.5 + 0.25).float()
    beta = torch.randn(c, generator=gen, dtype=torch.float64).float()
    eps = float(torch.tensor(10 ** rng.uniform(-5, -1), dtype=torch.float32))
    f32 = solve(x, dy, gamma, beta, eps, layout)
    f64 = solve(x.double(), dy.double(), gamma.double(), beta.double(), eps, layout)
    with golden_format.Writer(os.path.join(out_dir, f"{name}.golden")) as w:
        w.comment(f"{name}: torch {torch.__version__} batch_norm{tuple(shape)} {layout}")
        w.option("layout", layout)
        w.option("eps", repr(eps))
        w.option("momentum", repr(MOMENTUM))
        w.tensor("x", to_layout(x, layout), layout)
        w.tensor("dy", to_layout(dy, layout), layout)
        w.tensor("gamma", gamma)
        w.tensor("beta", beta)
        for field in f32:
            field_layout = layout if field in ("y", "dx") else "channels_first"
            w.tensor(f"{field}_f32", f32[field], field_layout)
            w.tensor(f"{field}_f64", f64[field], field_layout)


def cases():
    rng = random.Random(14)
    problems = FIXED + [random_problem(rng) for _ in range(CASE_COUNT - len(FIXED))]
    return [(f"accuracy_{i:02d}_{layout}_" + "x".join(str(d) for d in shape), shape, layout)
            for i, (shape, layout) in enumerate(problems)]


if __name__ == "__main__":
    sys.exit(golden_format.main("make_accuracy_golden.py", cases(), write_case))
