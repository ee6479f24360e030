"""bnorm's kernels behind torch's batch_norm: an autograd Function on CPU tensors, and
batch_norm(), F.batch_norm's signature, which runs it or falls back to torch's own
implementation (once-per-process warning) for what bnorm does not run.

Tensors reach the kernels as numpy views of their own memory: channels-first ("nc" for 2-D) or
channels-last, the layout x already has, so nothing is copied except a gradient that arrives in
another layout.
"""

import warnings

import numpy as np
import torch
from torch.autograd.function import once_differentiable

import bnorm._bnorm as _C

_warned = set()


def layout_of(t):
    """The bnorm layout t is dense in: "nc", "channels_first", "channels_last", or None."""
    d = t.dim()
    if d == 2:
        return "nc" if t.is_contiguous() else None
    if t.is_contiguous():
        return "channels_first"
    if t.permute(0, *range(2, d), 1).is_contiguous():
        return "channels_last"
    return None


def _physical(t, layout):
    """A numpy view of t in memory order: (N, C, ...) or (N, spatial..., C) for channels_last.
    A tensor not already dense in that layout (a gradient) is copied into it first."""
    t = t.detach()
    if layout == "channels_last":
        t = t.permute(0, *range(2, t.dim()), 1)
    return t.contiguous().numpy()


def _empty(like, layout):
    """An uninitialized tensor of like's shape, dtype and layout in memory that numpy allocates.
    numpy advises transparent huge pages for large arrays, torch 1.13 does not: first-touching a
    large output page by page cost more than the BatchNorm itself (docs/python.md, Speed)."""
    t = like.detach()
    if layout == "channels_last":
        t = t.permute(0, *range(2, t.dim()), 1)
    out = torch.from_numpy(np.empty(tuple(t.shape), dtype=_NUMPY_DTYPE[like.dtype]))
    if layout == "channels_last":
        out = out.permute(0, out.dim() - 1, *range(1, out.dim() - 1))
    return out


_NUMPY_DTYPE = {torch.float32: np.float32, torch.float64: np.float64}


def _vector(t):
    return None if t is None else t.detach().numpy()


class BatchNormFunction(torch.autograd.Function):
    """y = BN(x) with bnorm's kernels. With use_batch_stats, normalizes with the batch moments
    and, when running_mean/running_var are given, updates them in place by `factor`; otherwise
    normalizes with the running statistics (which are then constants in the backward)."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, use_batch_stats, factor, eps,
                layout):
        xn = _physical(x, layout)
        y = _empty(x, layout)
        yn = _physical(y, layout)
        w, b = _vector(weight), _vector(bias)
        if use_batch_stats:
            _, moments, invstd = _C.forward_train(xn, w, b, eps, layout=layout, out=yn)
            if running_mean is not None:
                _C.update_running_stats(moments, factor, running_mean.numpy(),
                                        running_var.numpy())
            mean = np.ascontiguousarray(moments["mean"])
        else:
            mean_t, var_t = running_mean.numpy(), running_var.numpy()
            _C.forward_infer(xn, mean_t, var_t, w, b, eps, layout=layout, out=yn)
            mean = mean_t.astype(np.float64)
            invstd = 1.0 / np.sqrt(var_t.astype(np.float64) + eps)
        ctx.save_for_backward(x, weight)
        ctx.bnorm = (mean, invstd, layout, use_batch_stats)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        x, weight = ctx.saved_tensors
        mean, invstd, layout, use_batch_stats = ctx.bnorm
        need_dx, need_dw, need_db = ctx.needs_input_grad[:3]
        dx = _empty(x, layout) if need_dx else None
        dw = torch.empty_like(weight) if need_dw else None
        db = torch.empty_like(weight) if need_db else None
        _C.backward(
            _physical(x, layout), _physical(dy, layout), mean, invstd, _vector(weight),
            stats_gradient="through_batch_stats" if use_batch_stats else "stats_as_constants",
            layout=layout,
            dx=_physical(dx, layout) if need_dx else None, dgamma=_vector(dw), dbeta=_vector(db),
            compute_dx=need_dx, compute_dgamma=need_dw, compute_dbeta=need_db)
        return dx, dw, db, None, None, None, None, None, None

    @staticmethod
    def symbolic(g, x, weight, bias, running_mean, running_var, use_batch_stats, factor, eps,
                 layout):
        # ONNX BatchNormalization, as torch exports its own batch_norm (which takes None for
        # absent weight, bias or running statistics).
        from torch.onnx import symbolic_opset9
        return symbolic_opset9.batch_norm(g, x, weight, bias, running_mean, running_var,
                                          int(use_batch_stats), float(factor), float(eps), 0)


def _unsupported(x, tensors):
    """Why bnorm cannot run this call (None when it can)."""
    if x.device.type != "cpu":
        return f"tensors on {x.device.type}"
    if x.dtype not in (torch.float32, torch.float64):
        return f"dtype {x.dtype}"
    if x.dim() < 2 or x.numel() == 0:
        return f"input of shape {tuple(x.shape)}"
    if layout_of(x) is None:
        return "input strides that are neither contiguous nor channels_last"
    for t in tensors:
        if t is not None and (t.device != x.device or t.dtype != x.dtype or t.dim() != 1 or
                              not t.is_contiguous()):
            return "per-channel tensors of another dtype, device or layout than the input"
    return None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """torch.nn.functional.batch_norm with bnorm's kernels where bnorm runs the problem."""
    reason = _unsupported(input, (running_mean, running_var, weight, bias))
    if reason is None and running_mean is None and torch.onnx.is_in_onnx_export():
        # Exported as torch's own batch_norm, which writes the batch statistics' ONNX ops: the
        # same function, and nothing runs bnorm's kernels in an exported graph.
        return torch.nn.functional.batch_norm(input, None, None, weight, bias, training,
                                              momentum, eps)
    if reason is not None:
        if reason not in _warned:
            _warned.add(reason)
            warnings.warn(f"bnorm.torch: {reason} are not run by bnorm; using torch's own "
                          "batch_norm (this warning is shown once per process)",
                          RuntimeWarning, stacklevel=3)
        return torch.nn.functional.batch_norm(input, running_mean, running_var, weight, bias,
                                              training, momentum, eps)
    return BatchNormFunction.apply(input, weight, bias, running_mean, running_var,
                                   bool(training), float(momentum), float(eps), layout_of(input))
