# Data-parallel training under torch.nn.parallel.DistributedDataParallel with
# bnorm.torch.convert_sync on two processes (gloo, uneven shards 10 + 6) equals one process
# training with torch.nn.BatchNorm on the whole batch of 16: every step's loss and the final
# parameters and running statistics.
import pytest
import torch

from conftest import assert_close
from sync_workers import DDP_STEPS, ddp_worker, launch, make_net, train

WORLD = 2
# Float64 agrees to rounding after 100 steps (3e-15 of the largest parameter); float32 rounding
# differs between the two summation orders and grows with the steps (1e-6).
RTOL = {torch.float64: 1e-9, torch.float32: 1e-5}


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return launch(ddp_worker, WORLD, str(tmp_path_factory.mktemp("ddp")), 180)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_ddp_with_convert_sync_equals_one_process(ranks, dtype):
    ref = train(make_net(dtype), dtype)
    rtol = RTOL[dtype]
    assert len(ref["losses"]) == DDP_STEPS
    assert ref["losses"][-1] < 0.9 * ref["losses"][0], "the reference run does not learn"
    for rank, got in enumerate(r[str(dtype)] for r in ranks):
        assert_close(got["losses"], ref["losses"], rtol, f"{dtype} losses rank {rank}")
        assert got["state"].keys() == ref["state"].keys()
        for name, value in ref["state"].items():
            assert_close(got["state"][name], value, rtol, f"{dtype} {name} rank {rank}")
