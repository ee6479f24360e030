#!/usr/bin/python3
"""Writes PyTorch golden files for bnorm's parity tests (tests/golden).

Usage: /usr/bin/python3 scripts/make_golden.py OUT_DIR   (needs torch; fixed seeds)

One file OUT_DIR/<case>.golden per case, plus OUT_DIR/cases.txt listing them. Each case drives an
nn.BatchNorm{1,2,3}d through several training steps (random batch and upstream gradient dy each
step) and then one eval step, recording inputs, outputs, gradients and running statistics.

File format (scripts/golden_format.py): "# comment", "option KEY VALUE" and
"array NAME DTYPE RANK D0 .. DR-1 V0 V1 ..." lines. Options: seed, layout, dtype, eps, momentum
("none" = cumulative), affine, track_running_stats, train_steps. Arrays hold logical dims
[N, C, spatial...]; values are in the memory order of the case's layout (N, spatial..., C for
channels_last), float32 or float64 written so that every value reads back bit-exact. Names:
gamma, beta (initial parameters), then per step k (0-based; "eval" for the eval step) x_k, dy_k,
y_k, dx_k, dgamma_k, dbeta_k, and after each training step running_mean_k, running_var_k,
num_batches_tracked_k.
"""

import os
import sys

import torch

import golden_format

TRAIN_STEPS = 3

# name, module class, input shape [N, C, spatial...], layout, dtype, options
CASES = [
    ("nc_f32", torch.nn.BatchNorm1d, (7, 5), "nc", torch.float32, {}),
    ("ncl_f32_cumulative", torch.nn.BatchNorm1d, (3, 4, 9), "channels_first", torch.float32,
     {"momentum": None}),
    ("nchw_f32", torch.nn.BatchNorm2d, (4, 3, 5, 7), "channels_first", torch.float32, {}),
    ("nchw_f32_cumulative", torch.nn.BatchNorm2d, (3, 5, 3, 3), "channels_first", torch.float32,
     {"momentum": None}),
    ("nhwc_f32", torch.nn.BatchNorm2d, (3, 6, 4, 5), "channels_last", torch.float32, {}),
    ("ncdhw_f32_cumulative", torch.nn.BatchNorm3d, (2, 3, 3, 4, 5), "channels_first",
     torch.float32, {"momentum": None}),
    ("ndhwc_f64", torch.nn.BatchNorm3d, (2, 4, 3, 2, 5), "channels_last", torch.float64, {}),
    ("nchw_f64", torch.nn.BatchNorm2d, (3, 5, 3, 7), "channels_first", torch.float64, {}),
    ("nc_f64_cumulative", torch.nn.BatchNorm1d, (9, 3), "nc", torch.float64, {"momentum": None}),
    ("nchw_f32_no_affine", torch.nn.BatchNorm2d, (5, 2, 3, 3), "channels_first", torch.float32,
     {"affine": False}),
    ("nchw_f32_no_running_stats", torch.nn.BatchNorm2d, (3, 4, 3, 5), "channels_first",
     torch.float32, {"track_running_stats": False}),
    # N * spatial = 2: the smallest batch training allows; xhat is exactly +-1 per channel.
    ("nc_f32_tiny", torch.nn.BatchNorm1d, (2, 3), "nc", torch.float32, {"eps": 1e-3}),
    ("nc_f64_tiny", torch.nn.BatchNorm1d, (2, 3), "nc", torch.float64, {"momentum": 0.3}),
]


def random_batch(gen, shape, dtype):
    """x with a different mean and spread per channel, so normalization has work to do."""
    c = shape[1]
    view = [1, c] + [1] * (len(shape) - 2)
    shift = (torch.rand(c, generator=gen, dtype=torch.float64) * 8 - 4).reshape(view)
    scale = (torch.rand(c, generator=gen, dtype=torch.float64) * 2.5 + 0.5).reshape(view)
    x = torch.randn(shape, generator=gen, dtype=torch.float64) * scale + shift
    return x.to(dtype)


def to_layout(t, layout):
    if layout != "channels_last":
        return t.contiguous()
    fmt = torch.channels_last if t.dim() == 4 else torch.channels_last_3d
    return t.contiguous(memory_format=fmt)


def step(module, w, gen, tag, shape, layout, dtype):
    """One forward + backward; records x, dy, y, dx and the parameter gradients."""
    x = to_layout(random_batch(gen, shape, dtype), layout).requires_grad_(True)
    dy = to_layout(torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype), layout)
    module.zero_grad(set_to_none=False)
    y = module(x)
    y.backward(dy)
    w.tensor(f"x_{tag}", x, layout)
    w.tensor(f"dy_{tag}", dy, layout)
    w.tensor(f"y_{tag}", y, layout)
    w.tensor(f"dx_{tag}", x.grad, layout)
    if module.affine:
        w.tensor(f"dgamma_{tag}", module.weight.grad)
        w.tensor(f"dbeta_{tag}", module.bias.grad)


def write_case(out_dir, index, case):
    name, cls, shape, layout, dtype, options = case
    seed = 1000 + index
    gen = torch.Generator().manual_seed(seed)
    module = cls(shape[1], **options).to(dtype)
    if module.affine:  # non-trivial parameters, so gamma and beta show up in y and dx
        with torch.no_grad():
            module.weight.copy_(torch.rand(shape[1], generator=gen, dtype=dtype) * 1.5 + 0.25)
            module.bias.copy_(torch.randn(shape[1], generator=gen, dtype=dtype))
    with golden_format.Writer(os.path.join(out_dir, f"{name}.golden")) as w:
        w.comment(f"{name}: torch {torch.__version__} {cls.__name__}{tuple(shape)}")
        w.option("seed", seed)
        w.option("layout", layout)
        w.option("dtype", "float32" if dtype == torch.float32 else "float64")
        w.option("eps", repr(module.eps))
        w.option("momentum", "none" if module.momentum is None else repr(module.momentum))
        w.option("affine", int(module.affine))
        w.option("track_running_stats", int(module.track_running_stats))
        w.option("train_steps", TRAIN_STEPS)
        if module.affine:
            w.tensor("gamma", module.weight)
            w.tensor("beta", module.bias)
        module.train()
        for k in range(TRAIN_STEPS):
            step(module, w, gen, str(k), shape, layout, dtype)
            if module.track_running_stats:
                w.tensor(f"running_mean_{k}", module.running_mean)
                w.tensor(f"running_var_{k}", module.running_var)
                w.tensor(f"num_batches_tracked_{k}", module.num_batches_tracked)
        module.eval()
        step(module, w, gen, "eval", shape, layout, dtype)


if __name__ == "__main__":
    sys.exit(golden_format.main("make_golden.py", CASES, write_case))
