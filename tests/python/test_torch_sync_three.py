# bnorm.torch.SyncBatchNorm on three processes (gloo, 127.0.0.1) against torch.nn.BatchNorm in one
# process on the concatenated batch (uneven shards, an empty rank, a one-row rank), and a rank
# killed with SIGKILL mid-run: the others exit non-zero within 30 s instead of hanging.
import time

import pytest
import torch
import torch.multiprocessing as tmp

from conftest import assert_close
from sync_workers import (KILLED_RANK, THREE_RANK_CASES, free_port, kill_worker, launch,
                          run_parity_case, three_rank_worker)

WORLD = 3
RTOL = {torch.float64: 1e-12, torch.float32: 1e-5}


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return launch(three_rank_worker, WORLD, str(tmp_path_factory.mktemp("sync3")), 120)


@pytest.mark.parametrize("name", sorted(THREE_RANK_CASES))
def test_three_ranks_equal_one_process_on_the_whole_batch(ranks, name):
    dtype, shape, _, rows, _ = THREE_RANK_CASES[name]
    module = torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d
    ref = run_parity_case(module, name, None, THREE_RANK_CASES)
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


def test_a_killed_rank_makes_the_others_exit_non_zero_within_30_s(tmp_path):
    # Not ProcessContext.join: it would terminate the survivors itself on the first failure.
    ctx = tmp.spawn(kill_worker, args=(WORLD, free_port(), str(tmp_path)), nprocs=WORLD,
                    join=False)
    deadline = time.monotonic() + 90  # start-up, then at most 30 s after the kill
    while any(p.is_alive() for p in ctx.processes) and time.monotonic() < deadline:
        time.sleep(0.2)
    ended = time.time()
    alive = [r for r, p in enumerate(ctx.processes) if p.is_alive()]
    for p in ctx.processes:
        if p.is_alive():
            p.kill()
    assert not alive, f"ranks {alive} still running 90 s after start"
    killed_at = float((tmp_path / "killed_at").read_text())
    codes = [p.exitcode for p in ctx.processes]
    assert codes[KILLED_RANK] == -9, f"exit codes {codes}"
    assert all(c != 0 for c in codes), f"a rank exited 0 after rank {KILLED_RANK} died: {codes}"
    assert ended - killed_at <= 30, f"the others took {ended - killed_at:.1f} s to end"
