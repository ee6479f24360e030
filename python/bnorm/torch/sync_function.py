"""Synchronized BatchNorm over a torch.distributed process group (gloo on CPU tensors): the
autograd Function behind bnorm.torch.SyncBatchNorm. Each rank computes its per-channel moments
(count, mean, M2) with bnorm's kernels; the ranks all_gather them and merge them exactly (Chan),
normalize with the global statistics, and in the backward all-reduce only sum(dy) and
sum(dy * xhat), 2 * C values.
"""

import numpy as np
import torch
import torch.distributed as dist
from torch.autograd.function import once_differentiable

import bnorm._bnorm as _C
from bnorm.torch.function import _empty, _physical, _vector

_OP = "sync_batch_norm"
_DTYPES = {torch.float32: 1.0, torch.float64: 2.0}
# What every rank must agree on before its moments are gathered: a fixed-size float64 vector, so
# the gather of it cannot itself mismatch. (field name, how a value prints)
_SIGNATURE = (
    ("input dims", lambda v: str(int(v))),
    ("channel count", lambda v: str(int(v))),
    ("dtype", lambda v: {1.0: "float32", 2.0: "float64"}.get(v, "another dtype")),
    ("eps", repr),
    ("momentum factor", repr),
    ("running statistics (1 tracked, 0 not)", lambda v: str(int(v))),
)


def check_same_problem(x, eps, factor, tracks_stats, group, world_size):
    """Raises bnorm.Error with the same one-line message on every rank of group when the ranks
    disagree on the signature; one small all_gather, before any collective that depends on it."""
    mine = torch.tensor([x.dim(), x.shape[1] if x.dim() >= 2 else -1,
                         _DTYPES.get(x.dtype, 0.0), eps, factor, float(tracks_stats)],
                        dtype=torch.float64)
    everyone = [torch.empty_like(mine) for _ in range(world_size)]
    dist.all_gather(everyone, mine, group=group)
    table = torch.stack(everyone).tolist()  # [world_size, fields]
    for field, (name, show) in enumerate(_SIGNATURE):
        values = [row[field] for row in table]
        if any(v != values[0] for v in values):
            got = ", ".join(f"{show(v)} on rank {r}" for r, v in enumerate(values))
            raise _C.Error(f"[{_OP}] expected the same {name} on every rank of the process "
                           f"group (each rank must run the same model on inputs of one dtype), "
                           f"got {got}")
    dims, channels, dtype = table[0][0], table[0][1], table[0][2]
    if dims < 2 or channels < 1:
        raise _C.Error(f"[{_OP}] expected input (N, C, ...) with C > 0, got shape "
                       f"{tuple(x.shape)}")
    if dtype == 0.0:
        raise _C.Error(f"[{_OP}] expected float32 or float64 CPU tensors, got {x.dtype}")


def _local_moments(xn, y, layout, eps):
    """This rank's per-channel (count, mean, M2) as a float64 tensor [C, 3]. y: scratch of x's
    shape that the kernel writes (the normalization with these local statistics is discarded)."""
    c = xn.shape[-1] if layout == "channels_last" else xn.shape[1]
    m = xn.size // c
    if m >= 2:
        _, moments, _ = _C.forward_train(xn, None, None, eps, layout=layout, out=y)
        return torch.from_numpy(np.stack([moments["count"].astype(np.float64), moments["mean"],
                                          moments["m2"]], axis=1))
    local = torch.zeros(c, 3, dtype=torch.float64)
    if m == 1:  # the kernel needs two values; one value is its own mean with M2 = 0
        local[:, 0] = 1.0
        local[:, 1] = torch.from_numpy(xn.astype(np.float64).reshape(c))
    return local


def _merge_all(gathered):
    """Chan's merge of the ranks' [C, 3] moments in rank order, so every rank gets the same
    bits: a moments_dtype array [C]."""
    total = None
    for t in gathered:
        a = t.numpy()
        part = np.zeros(a.shape[0], dtype=_C.moments_dtype)
        part["count"] = a[:, 0].astype(np.int64)  # counts < 2^53 are exact in float64
        part["mean"], part["m2"] = a[:, 1], a[:, 2]
        total = part if total is None else _C.merge(total, part)
    return total


class SyncBatchNormFunction(torch.autograd.Function):
    """y = BN(x) with the statistics of the batch of every rank of `group` together; updates
    running_mean/running_var (when given) in place by `factor` with the global statistics."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, factor, eps, layout, group,
                world_size):
        xn = _physical(x, layout)
        y = _empty(x)
        yn = _physical(y, layout)
        local = _local_moments(xn, yn, layout, eps)
        gathered = [torch.empty_like(local) for _ in range(world_size)]
        dist.all_gather(gathered, local, group=group)
        moments = _merge_all(gathered)
        count = int(moments["count"][0])
        if count <= 1:  # every rank sees the same global count, so every rank raises
            raise _C.Error(f"[{_OP}] expected more than 1 value per channel over all ranks when "
                           f"training, got {count}")
        mean = np.ascontiguousarray(moments["mean"])
        var = moments["m2"] / count  # biased: what the batch is normalized with
        invstd = 1.0 / np.sqrt(var + eps)
        if x.numel() > 0:
            np_dtype = xn.dtype
            _C.forward_infer(xn, mean.astype(np_dtype), var.astype(np_dtype), _vector(weight),
                             _vector(bias), eps, layout=layout, out=yn)
        if running_mean is not None:
            _C.update_running_stats(moments, factor, running_mean.numpy(), running_var.numpy())
        ctx.save_for_backward(x, weight)
        ctx.bnorm = (mean, invstd, count, layout, group)
        return y

    # With xhat = (x - mean) * invstd over the global batch of M = `count` values per channel:
    #   dbeta_r = sum_r dy, dgamma_r = sum_r dy * xhat (this rank's own contribution, as torch)
    #   dx = gamma * invstd * (dy - sum_g dy / M - xhat * sum_g dy * xhat / M)
    # where sum_g is over every rank: the only values all-reduced, 2 * C of them.
    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        x, weight = ctx.saved_tensors
        mean, invstd, count, layout, group = ctx.bnorm
        need_dx, need_dw, need_db = ctx.needs_input_grad[:3]
        c = x.shape[1]
        sums = torch.zeros(2, c, dtype=torch.float64)  # [sum dy; sum dy * xhat]
        if x.numel() > 0:
            _, dgamma, dbeta = _C.backward(
                _physical(x, layout), _physical(dy, layout), mean, invstd, _vector(weight),
                layout=layout, compute_dx=False, compute_dgamma=True, compute_dbeta=True)
            sums[0], sums[1] = torch.from_numpy(dbeta), torch.from_numpy(dgamma)
        # Copies: the all-reduce below overwrites sums in place.
        dw = sums[1].to(x.dtype, copy=True) if need_dw else None
        db = sums[0].to(x.dtype, copy=True) if need_db else None
        dx = None
        if need_dx:
            dist.all_reduce(sums, group=group)
            dx = _dx_from_global_sums(x, dy, weight, mean, invstd, sums, count)
        return dx, dw, db, None, None, None, None, None, None, None


def _dx_from_global_sums(x, dy, weight, mean, invstd, sums, count):
    """dx in x's dtype by torch ops with per-channel coefficients made in float64."""
    shape = (1, -1) + (1,) * (x.dim() - 2)
    invstd_t = torch.from_numpy(invstd)
    k = invstd_t if weight is None else weight.detach().to(torch.float64) * invstd_t

    def per_channel(v):
        return v.to(x.dtype).reshape(shape)

    xhat = (x.detach() - per_channel(torch.from_numpy(mean))) * per_channel(invstd_t)
    return (dy - per_channel(sums[0] / count) - xhat * per_channel(sums[1] / count)) * \
        per_channel(k)
