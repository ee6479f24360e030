"""bnorm.torch.SyncBatchNorm: torch.nn.SyncBatchNorm (same constructor, process_group included)
for CPU tensors, synchronizing the batch statistics over a torch.distributed process group (gloo)
with bnorm's kernels; and convert_sync(), which turns a model's BatchNorm modules into it."""

import torch
import torch.distributed as dist
from torch.nn.modules.batchnorm import _BatchNorm

from bnorm.torch.function import batch_norm, layout_of
from bnorm.torch.modules import BatchNorm1d, BatchNorm2d, BatchNorm3d
from bnorm.torch.sync_function import SyncBatchNormFunction, check_same_problem


def _world_size(group):
    """Ranks in group, or 1 without an initialized default process group."""
    if not (dist.is_available() and dist.is_initialized()):
        return 1
    return dist.get_world_size(group)


class SyncBatchNorm(_BatchNorm):
    """torch.nn.SyncBatchNorm (same constructor, parameters, buffers and state_dict) whose CPU
    forward runs on bnorm: in training, every rank of process_group (the default group when
    None) normalizes with the statistics of all ranks' batches together. Eval, world size 1 or
    no process group: plain bnorm BatchNorm, no communication. Tensors on other devices go to
    torch's own SyncBatchNorm. Not a subclass of torch.nn.SyncBatchNorm: DistributedDataParallel
    refuses those on CPU modules."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device,
                         dtype=dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    # torch.nn.SyncBatchNorm.forward, which runs tensors on other devices, calls it.
    _check_non_zero_input_channels = torch.nn.SyncBatchNorm._check_non_zero_input_channels

    def forward(self, input):
        if input.device.type != "cpu":
            return torch.nn.SyncBatchNorm.forward(self, input)
        # As torch: momentum None is the cumulative average, 1 / num_batches_tracked.
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        bn_training = self.training or (self.running_mean is None and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        running_mean = self.running_mean if keep_stats else None
        running_var = self.running_var if keep_stats else None
        group = self.process_group if self.process_group is not None else _default_group()
        world_size = _world_size(group) if bn_training and self.training else 1
        if world_size == 1:
            self._check_input_dim(input)
            return batch_norm(input, running_mean, running_var, self.weight, self.bias,
                              bn_training, factor, self.eps)
        # Checked by every rank together (a local raise would leave the others waiting).
        check_same_problem(input, self.eps, factor, running_mean is not None, group, world_size)
        if layout_of(input) is None:
            input = input.contiguous()
        return SyncBatchNormFunction.apply(input, self.weight, self.bias, running_mean,
                                           running_var, float(factor), float(self.eps),
                                           layout_of(input), group, world_size)


def _default_group():
    return dist.group.WORLD if dist.is_available() else None


_CONVERTIBLE = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d,
                torch.nn.SyncBatchNorm, BatchNorm1d, BatchNorm2d, BatchNorm3d)


def convert_sync(model, process_group=None):
    """Makes every BatchNorm module of model (model itself included; torch.nn's
    BatchNorm{1,2,3}d and SyncBatchNorm, and bnorm.torch's BatchNorm{1,2,3}d) a
    bnorm.torch.SyncBatchNorm over process_group (None: the default group), in place, and
    returns model. Modules keep their identity and state (parameters an optimizer holds,
    buffers, training flag, hooks), unlike torch.nn.SyncBatchNorm.convert_sync_batchnorm, which
    builds new ones. Subclasses defined elsewhere are left alone."""
    for module in model.modules():
        if type(module) in _CONVERTIBLE:
            module.__class__ = SyncBatchNorm
            module.process_group = process_group
    return model
