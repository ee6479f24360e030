"""BatchNorm1d/2d/3d that run bnorm's kernels, as subclasses of torch.nn's own classes (same
constructor, parameters, buffers and state_dict; isinstance checks still hold), and convert(),
which turns torch.nn's BatchNorm modules of a model into them in place."""

import torch

from bnorm.torch.function import ChannelViews, module_batch_norm


class _BnormForward:
    """torch.nn's _BatchNorm.forward with the computation replaced by bnorm's batch_norm."""

    def forward(self, input):
        self._check_input_dim(input)
        counted = self.training and self.track_running_stats
        registered = _registered_tensors(self, counted)
        if registered is None:  # attribute access as torch.nn's own forward does it
            registered = (self.weight, self.bias, self.running_mean, self.running_var,
                          self.num_batches_tracked if counted else None)
        weight, bias, running_mean, running_var, counter = registered
        # As torch: momentum None is the cumulative average, 1 / num_batches_tracked.
        factor = 0.0 if self.momentum is None else self.momentum
        if counter is not None and self.momentum is None:
            counter.add_(1)
            factor = 1.0 / float(counter)
            counter = None  # counted
        use_batch_stats = self.training or (running_mean is None and running_var is None)
        keep_stats = not self.training or self.track_running_stats
        views = self.__dict__.get("_bnorm_views")
        if views is None:  # a new module, or one convert() or unpickling made
            views = self._bnorm_views = ChannelViews()
        return module_batch_norm(input, running_mean if keep_stats else None,
                                 running_var if keep_stats else None, weight, bias,
                                 use_batch_stats, factor, self.eps, views, counter)


def _registered_tensors(module, counted):
    """(weight, bias, running_mean, running_var, num_batches_tracked or None) from the module's
    parameter and buffer dicts, or None where attribute access may differ from them. Attribute
    access costs a call of nn.Module.__getattr__ per name, which after a large kernel runs from
    memory (docs/python.md, Speed); but a class that torch.nn.utils made (functional_call
    overrides attribute access; a parametrization moves the weight) or a tensor missing from the
    dicts (pruning moves the weight) must take the ordinary path."""
    if type(module) not in _CLASSES:
        return None
    params, buffers = module._parameters, module._buffers
    try:
        return (params["weight"], params["bias"], buffers["running_mean"],
                buffers["running_var"], buffers["num_batches_tracked"] if counted else None)
    except KeyError:
        return None


class BatchNorm1d(_BnormForward, torch.nn.BatchNorm1d):
    """torch.nn.BatchNorm1d on bnorm's kernels: (N, C) or (N, C, L) inputs."""


class BatchNorm2d(_BnormForward, torch.nn.BatchNorm2d):
    """torch.nn.BatchNorm2d on bnorm's kernels: (N, C, H, W), contiguous or channels_last."""


class BatchNorm3d(_BnormForward, torch.nn.BatchNorm3d):
    """torch.nn.BatchNorm3d on bnorm's kernels: (N, C, D, H, W), contiguous or
    channels_last_3d."""


_CLASSES = (BatchNorm1d, BatchNorm2d, BatchNorm3d)
_REPLACEMENTS = {
    torch.nn.BatchNorm1d: BatchNorm1d,
    torch.nn.BatchNorm2d: BatchNorm2d,
    torch.nn.BatchNorm3d: BatchNorm3d,
}


def convert(model):
    """Makes every torch.nn.BatchNorm{1,2,3}d in model (model itself included) run on bnorm, in
    place, and returns model. Each module keeps its identity and state (parameters an optimizer
    holds, buffers, training flag, hooks): only its class changes, to the bnorm subclass.
    Subclasses of torch.nn's classes (SyncBatchNorm, user classes) are left alone."""
    for module in model.modules():
        replacement = _REPLACEMENTS.get(type(module))
        if replacement is not None:
            module.__class__ = replacement
    return model
