"""bnorm's kernels behind torch's batch_norm: an autograd Function on CPU tensors, and
batch_norm(), F.batch_norm's signature, which runs it or falls back to torch's own
implementation (once-per-process warning) for what bnorm does not run.

Tensors reach the kernels as numpy views of their own memory: channels-first ("nc" for 2-D) or
channels-last, the layout x already has, so nothing is copied except a gradient that arrives in
another layout. A module's per-channel tensors are viewed once (ChannelViews) rather than on
every call: a small layer's step costs a few microseconds per view otherwise.
"""

import functools
import warnings

import numpy as np
import torch
from torch.autograd.function import once_differentiable

import bnorm._bnorm as _C
from bnorm.torch import buffers

_warned = set()
_NUMPY_DTYPE = {torch.float32: np.float32, torch.float64: np.float64}
_MEMORY_FORMAT = {4: torch.channels_last, 5: torch.channels_last_3d}


def layout_of(t):
    """The bnorm layout t is dense in: "nc", "channels_first", "channels_last", or None."""
    d = t.dim()
    if t.is_contiguous():
        return "nc" if d == 2 else "channels_first"
    if d == 2:
        return None
    fmt = _MEMORY_FORMAT.get(d)
    if fmt is not None:  # the flag torch keeps, cheaper than permuting
        return "channels_last" if t.is_contiguous(memory_format=fmt) else None
    return "channels_last" if t.permute(_channels_last_axes(d)).is_contiguous() else None


def _numpy(t):
    """A numpy view of t's memory with t's shape and strides."""
    return t.detach().numpy() if t.requires_grad else t.numpy()


@functools.cache
def _channels_last_axes(ndim):
    """(N, C, spatial...) -> (N, spatial..., C): the axes' order, made once per rank."""
    return (0, *range(2, ndim), 1)


def _in_memory_order(a, layout):
    """Array a of shape (N, C, ...) with its axes in memory order: (N, spatial..., C) for
    channels_last. Dense in that layout, the result is C-contiguous; a gradient that is not is
    copied by the binding."""
    if layout != "channels_last":
        return a
    return a.transpose(_channels_last_axes(a.ndim))


def _physical(t, layout):
    """(SyncBatchNormFunction's) A numpy view of t in memory order: (N, C, ...) or (N, spatial..., C) for channels_last.
    A tensor not already dense in that layout (a gradient) is copied into it first."""
    t = t.detach()
    if layout == "channels_last":
        t = t.permute(_channels_last_axes(t.dim()))
    return t.contiguous().numpy()


def _empty(like):
    """(SyncBatchNormFunction's) An uninitialized tensor of like's shape, dtype and strides, like
    dense in its layout, from the output cache (see _forward for why)."""
    return torch.from_numpy(buffers.empty_like(_numpy(like)))


def _vector(t):
    return None if t is None else t.detach().numpy()


def _forward(x, views, use_batch_stats, factor, eps, layout, need_stats, counter=None):
    """y = BN(x) into a new tensor of x's shape and strides; (y, (mean, invstd) or None).
    views: numpy views of weight, bias, running_mean, running_var (or None each); counter: a
    numpy view of num_batches_tracked, which the call increments, or None.
    y's memory comes from numpy through buffers.py's cache of outputs: numpy advises transparent
    huge pages for large arrays where torch 1.13 does not, and the cache saves the page faults
    of fresh memory (docs/python.md, Speed)."""
    xa = _numpy(x)
    ya = buffers.empty_like(xa)
    y = torch.from_numpy(ya)
    stats = _C._torch_forward(_in_memory_order(xa, layout), _in_memory_order(ya, layout),
                              views[0], views[1], views[2], views[3], use_batch_stats, factor,
                              eps, layout, need_stats, counter)
    return y, stats


class BatchNormFunction(torch.autograd.Function):
    """y = BN(x) with bnorm's kernels. With use_batch_stats, normalizes with the batch moments
    and, when running_mean/running_var are given, updates them in place by `factor`; otherwise
    normalizes with the running statistics (which are then constants in the backward).
    `views`: numpy views of (weight, bias, running_mean, running_var), when the caller has them;
    `counter`: a numpy view of num_batches_tracked to increment, or None."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, use_batch_stats, factor, eps,
                layout, views=None, counter=None):
        if views is None:
            views = [_vector(t) for t in (weight, bias, running_mean, running_var)]
        y, stats = _forward(x, views, use_batch_stats, factor, eps, layout, True, counter)
        ctx.save_for_backward(x, weight)
        ctx.bnorm = (views[0], stats, layout, use_batch_stats)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        # Unpacking checks that x and weight were not modified in place since the forward.
        x, _ = ctx.saved_tensors
        w, (mean, invstd), layout, use_batch_stats = ctx.bnorm
        need_dx, need_dw, need_db = ctx.needs_input_grad[:3]
        xa = _numpy(x)
        dx = dxa = None
        if need_dx:
            dxa = buffers.empty_like(xa)  # x's strides: dense in x's layout (see _forward)
            dx = torch.from_numpy(dxa)
            dxa = _in_memory_order(dxa, layout)
        dw, db = _C._torch_backward(_in_memory_order(xa, layout),
                                    _in_memory_order(_numpy(dy), layout), mean, invstd, w,
                                    use_batch_stats, layout, dxa, need_dw, need_db)
        return (dx, None if dw is None else torch.from_numpy(dw),
                None if db is None else torch.from_numpy(db), None, None, None, None, None, None,
                None, None)

    @staticmethod
    def symbolic(g, x, weight, bias, running_mean, running_var, use_batch_stats, factor, eps,
                 layout, views=None, counter=None):
        # ONNX BatchNormalization, as torch exports its own batch_norm (which takes None for
        # absent weight, bias or running statistics).
        from torch.onnx import symbolic_opset9
        return symbolic_opset9.batch_norm(g, x, weight, bias, running_mean, running_var,
                                          int(use_batch_stats), float(factor), float(eps), 0)



class ChannelViews:
    """numpy views of a module's weight, bias, running_mean and running_var, kept between calls.
    A view is reused while its tensor is the same object with the same data pointer and shape:
    replacing a parameter or buffer (module.weight = ..., .to(), .double()) or its storage
    (weight.data = ...) makes a new view; in-place writes (copy_, load_state_dict, optimizer
    steps) reach the memory the view shows. A view holds its storage alive, so a new storage
    never reuses the old address. Copies and pickles of a module start empty."""

    __slots__ = ("entries", "counter_entry")

    def __init__(self):
        self.entries = [None, None, None, None]  # (tensor, data_ptr, shape, dtype, view)
        self.counter_entry = None  # (tensor, data_ptr, view)

    def __reduce__(self):
        return (ChannelViews, ())

    def __deepcopy__(self, memo):
        return ChannelViews()

    def get(self, x, tensors):
        """The views of tensors (None for None), or None when one cannot run with x."""
        out = []
        entries = self.entries
        dtype = x.dtype
        for i, t in enumerate(tensors):
            if t is None:
                out.append(None)
                continue
            e = entries[i]
            if (e is not None and e[0] is t and e[1] == t.data_ptr() and e[2] == t.shape and
                    e[3] is dtype and t.is_contiguous()):
                out.append(e[4])
                continue
            if not _channel_tensor_ok(x, t):
                return None
            view = _numpy(t)
            entries[i] = (t, t.data_ptr(), t.shape, dtype, view)
            out.append(view)
        return out

    def counter(self, t):
        """A numpy view of num_batches_tracked t (for the kernels' call to increment), or None
        when t is not one CPU int64 element or is an inference tensor (torch's add_ then
        increments it, or refuses as torch.nn would)."""
        e = self.counter_entry
        if e is not None and e[0] is t and e[1] == t.data_ptr():
            return e[2]
        if not (t.is_cpu and t.dtype is torch.int64 and t.numel() == 1) or t.is_inference():
            return None
        view = t.numpy()
        self.counter_entry = (t, t.data_ptr(), view)
        return view


def _channel_tensor_ok(x, t):
    return t.is_cpu and t.dtype is x.dtype and t.dim() == 1 and t.is_contiguous()


def _supported_layout(x):
    """x's layout when bnorm runs x (CPU, float32/float64, dense, not empty), else None."""
    if not x.is_cpu or x.dtype not in _NUMPY_DTYPE or x.dim() < 2 or x.numel() == 0:
        return None
    return layout_of(x)


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
               momentum=0.1, eps=1e-5, views=None):
    """torch.nn.functional.batch_norm with bnorm's kernels where bnorm runs the problem.
    views: a ChannelViews that keeps the per-channel tensors' numpy views between calls (what
    bnorm.torch's modules pass), or None."""
    return module_batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                             eps, views, None)


def module_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps,
                      views, counter):
    """batch_norm() that also increments counter (a module's num_batches_tracked, or None) by
    one, as torch.nn's modules do before they call it: in the kernels' call when bnorm runs the
    problem (views, a ChannelViews, then keeps counter's numpy view too)."""
    tensors = (weight, bias, running_mean, running_var)
    layout = _supported_layout(input)
    arrays = None
    if layout is not None:
        if views is None:
            if all(t is None or _channel_tensor_ok(input, t) for t in tensors):
                arrays = [None if t is None else _numpy(t) for t in tensors]
        else:
            arrays = views.get(input, tensors)
    exported = arrays is not None and running_mean is None and torch.onnx.is_in_onnx_export()
    if counter is not None:
        # The kernels' call increments it where bnorm runs the problem; torch's add_ where torch's
        # batch_norm runs, where a traced graph must record it, and where no view can be had.
        view = None
        if (arrays is not None and not exported and views is not None and
                torch._C._get_tracing_state() is None):
            view = views.counter(counter)
        if view is None:
            counter.add_(1)
        counter = view
    if arrays is None:
        reason = (_unsupported(input, (running_mean, running_var, weight, bias)) or
                  "per-channel tensors of another dtype, device or layout than the input")
        if reason not in _warned:
            _warned.add(reason)
            warnings.warn(f"bnorm.torch: {reason} are not run by bnorm; using torch's own "
                          "batch_norm (this warning is shown once per process)",
                          RuntimeWarning, stacklevel=3)
        return torch.nn.functional.batch_norm(input, running_mean, running_var, weight, bias,
                                              training, momentum, eps)
    if exported:
        # Exported as torch's own batch_norm, which writes the batch statistics' ONNX ops: the
        # same function, and nothing runs bnorm's kernels in an exported graph.
        return torch.nn.functional.batch_norm(input, None, None, weight, bias, training,
                                              momentum, eps)
    if (torch.is_grad_enabled() and (input.requires_grad or
                                     (weight is not None and weight.requires_grad) or
                                     (bias is not None and bias.requires_grad))
            or torch._C._get_tracing_state() is not None):
        return BatchNormFunction.apply(input, weight, bias, running_mean, running_var,
                                       bool(training), float(momentum), float(eps), layout,
                                       arrays, counter)
    # Nothing to differentiate (and no graph being traced): the kernels without autograd.
    return _forward(input, arrays, bool(training), float(momentum), float(eps), layout, False,
                    counter)[0]
