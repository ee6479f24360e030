"""bnorm: exact, fast BatchNorm for the CPU, on numpy arrays.

The functional API (forward_train, forward_infer, backward, update_running_stats,
inference_affine, fold_into_preceding), the stateful BatchNorm module and the mergeable Moments
come from the C++ library through the extension bnorm._bnorm. bnorm.torch holds the drop-in
replacements for torch.nn.BatchNorm{1,2,3}d. See docs/python.md.
"""

from bnorm._bnorm import (  # noqa: F401
    Activation,
    AffineMap,
    Backend,
    BatchNorm,
    Error,
    Layout,
    Mode,
    Moments,
    StatsGradient,
    backward,
    fold_into_preceding,
    forward_infer,
    forward_train,
    inference_affine,
    merge,
    moments_dtype,
    moments_of,
    momentum_from_decay,
    selected_kernel_name,
    update_running_stats,
)

__all__ = [
    "Activation", "AffineMap", "Backend", "BatchNorm", "Error", "Layout", "Mode", "Moments",
    "StatsGradient", "backward", "fold_into_preceding", "forward_infer", "forward_train",
    "inference_affine", "merge", "moments_dtype", "moments_of", "momentum_from_decay",
    "selected_kernel_name", "update_running_stats",
]
