"""bnorm.torch: drop-in replacements for torch.nn.BatchNorm{1,2,3}d running bnorm's kernels on
CPU tensors (float32/float64, contiguous or channels_last), falling back to torch's own
implementation for anything else; SyncBatchNorm and convert_sync() synchronize the batch
statistics over a torch.distributed process group (gloo, CPU). See docs/python.md."""

from bnorm.torch.buffers import output_cache_bytes, set_output_cache_limit
from bnorm.torch.function import BatchNormFunction, batch_norm
from bnorm.torch.modules import BatchNorm1d, BatchNorm2d, BatchNorm3d, convert
from bnorm.torch.sync import SyncBatchNorm, convert_sync
from bnorm.torch.sync_function import SyncBatchNormFunction

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "BatchNormFunction", "SyncBatchNorm",
           "SyncBatchNormFunction", "batch_norm", "convert", "convert_sync", "output_cache_bytes",
           "set_output_cache_limit"]
