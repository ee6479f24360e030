# bnorm.torch.SyncBatchNorm on two processes (gloo, 127.0.0.1) against torch.nn.BatchNorm in one
# process on the concatenated batch: outputs, dx, dgamma/dbeta summed over ranks, running
# statistics; uneven shards, a rank with no rows and one with one row; ranks that disagree fail
# alike; eval without communication. Plus SyncBatchNorm and convert_sync without a process group.
import pytest
import torch

import bnorm
import bnorm.torch as bt
from conftest import assert_close
from sync_workers import PARITY_CASES, launch, parity_worker, run_parity_case

WORLD = 2
RTOL = {torch.float64: 1e-12, torch.float32: 1e-5}


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return launch(parity_worker, WORLD, str(tmp_path_factory.mktemp("sync")), 120)


def _torch_module(shape):
    return torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d


@pytest.mark.parametrize("name", sorted(PARITY_CASES))
def test_two_ranks_equal_one_process_on_the_whole_batch(ranks, name):
    dtype, shape, _, rows, _ = PARITY_CASES[name]
    ref = run_parity_case(_torch_module(shape), name, None)
    got = [r[name] for r in ranks]
    rtol = RTOL[dtype]
    assert [g["y"].shape[0] for g in got] == list(rows)
    assert_close(torch.cat([g["y"] for g in got]), ref["y"], rtol, f"{name} y")
    assert_close(torch.cat([g["dx"] for g in got]), ref["dx"], rtol, f"{name} dx")
    for what in ("dweight", "dbias") if ref["dweight"] is not None else ():
        assert_close(sum(g[what] for g in got), ref[what], rtol, f"{name} {what}")
    for rank, g in enumerate(got):
        for what in ("running_mean", "running_var"):
            assert_close(g[what], ref[what], rtol, f"{name} {what} rank {rank}")
        assert g["num_batches_tracked"] == ref["num_batches_tracked"]


def test_ranks_that_disagree_raise_the_same_error(ranks):
    channels, dtypes = ranks[0]["mismatch"]
    assert ranks[1]["mismatch"] == [channels, dtypes]
    assert channels.startswith("[sync_batch_norm] expected the same channel count")
    assert "3 on rank 0, 4 on rank 1" in channels
    assert "float32 on rank 0, float64 on rank 1" in dtypes
    assert "\n" not in channels + dtypes


def test_eval_on_one_rank_alone_uses_the_running_statistics(ranks):
    mean = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64).reshape(1, 3, 1, 1)
    var = torch.tensor([4.0, 0.25, 1.0], dtype=torch.float64).reshape(1, 3, 1, 1)
    expected = (torch.ones(2, 3, 2, 2, dtype=torch.float64) - mean) / torch.sqrt(var + 1e-5)
    assert_close(ranks[0]["eval"], expected, 1e-15, "eval y")


def test_without_a_process_group_it_is_plain_batch_norm():
    assert not torch.distributed.is_initialized()
    x = torch.randn(6, 3, 4, 4, dtype=torch.float64) + 3.0
    sync, ref = bt.SyncBatchNorm(3, dtype=torch.float64), torch.nn.BatchNorm2d(3,
                                                                                dtype=torch.float64)
    xs, xr = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    r = torch.randn_like(x)
    (sync(xs) * r).sum().backward()
    (ref(xr) * r).sum().backward()
    assert_close(xs.grad, xr.grad, 1e-12, "dx")
    assert_close(sync.running_var, ref.running_var, 1e-12, "running_var")
    with pytest.raises(ValueError, match="expected at least 2D input"):
        sync(torch.randn(3, dtype=torch.float64))


def test_constructor_is_torch_sync_batch_norm():
    group = object()
    bn = bt.SyncBatchNorm(4, eps=1e-3, momentum=None, affine=False, track_running_stats=True,
                          process_group=group, dtype=torch.float64)
    # Not a torch.nn.SyncBatchNorm: DistributedDataParallel refuses those in CPU modules.
    assert isinstance(bn, torch.nn.modules.batchnorm._BatchNorm)
    assert not isinstance(bn, torch.nn.SyncBatchNorm)
    assert (bn.eps, bn.momentum, bn.affine, bn.process_group) == (1e-3, None, False, group)
    assert bn.running_mean.dtype == torch.float64


def test_convert_sync_keeps_modules_and_sets_the_group():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                                torch.nn.Sequential(torch.nn.Flatten(), torch.nn.BatchNorm1d(4)),
                                bt.BatchNorm1d(4), torch.nn.SyncBatchNorm(4))
    before = list(model.modules())
    group = object()
    assert bt.convert_sync(model, group) is model
    assert list(model.modules()) == before
    converted = [m for m in model.modules() if type(m) is bt.SyncBatchNorm]
    assert len(converted) == 4
    assert all(m.process_group is group for m in converted)
    lone = torch.nn.BatchNorm3d(2)
    assert bt.convert_sync(lone) is lone and type(lone) is bt.SyncBatchNorm


def test_the_error_type_is_bnorm_error():
    assert issubclass(bnorm.Error, ValueError)
