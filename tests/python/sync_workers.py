# Worker processes of the synchronized-BatchNorm tests (test_torch_sync*.py): launched by
# torch.multiprocessing on a gloo group over 127.0.0.1, they write their results to files that
# the test compares with one process on the whole batch. Also the shared problem definitions, so
# the test builds exactly the data the workers shard.
import datetime
import gc
import os
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as tmp

# name: (dtype, global shape, channels_last, rows per rank, momentum)
PARITY_CASES = {
    "nc_f64": (torch.float64, (10, 5), False, (6, 4), 0.1),
    "nc_f32_uneven": (torch.float32, (9, 5), False, (7, 2), 0.1),
    "nc_f64_empty_rank": (torch.float64, (7, 4), False, (0, 7), None),
    "nc_f64_one_row": (torch.float64, (5, 4), False, (1, 4), 0.1),
    "nchw_f64": (torch.float64, (6, 3, 4, 5), False, (3, 3), 0.1),
    "nchw_f32_empty_rank": (torch.float32, (4, 3, 4, 5), False, (4, 0), 0.1),
    "nhwc_f64_uneven": (torch.float64, (5, 3, 4, 5), True, (4, 1), None),
    "nhwc_f32": (torch.float32, (6, 3, 3, 3), True, (2, 4), 0.1),
    "nchw_f64_no_affine": (torch.float64, (4, 3, 2, 3), False, (1, 3), 0.1),
}
# The same kind of cases over three ranks (test_torch_sync_three.py).
THREE_RANK_CASES = {
    "nc_f64_k3": (torch.float64, (11, 5), False, (4, 4, 3), 0.1),
    "nc_f32_k3_empty_rank": (torch.float32, (9, 4), False, (5, 0, 4), 0.1),
    "nchw_f64_k3_one_row": (torch.float64, (6, 3, 4, 5), False, (1, 3, 2), None),
    "nhwc_f32_k3": (torch.float32, (7, 3, 3, 3), True, (2, 3, 2), 0.1),
    "nchw_f64_k3_no_affine": (torch.float64, (5, 3, 2, 3), False, (2, 2, 1), 0.1),
}
STEPS = 2


def case_data(name, step, cases=PARITY_CASES):
    """The global batch x (shifted by +3 to expose cancellation) and the loss weights r of one
    step, and the module's initial weight and bias."""
    dtype, shape, channels_last, _, _ = cases[name]
    g = torch.Generator().manual_seed(sum(map(ord, name)) * 10 + step)
    x = torch.randn(shape, generator=g, dtype=torch.float64) * 2.0 + 3.0
    r = torch.randn(shape, generator=g, dtype=torch.float64)
    c = shape[1]
    weight = torch.rand(c, generator=g, dtype=torch.float64) + 0.5
    bias = torch.randn(c, generator=g, dtype=torch.float64)
    x, r, weight, bias = (t.to(dtype) for t in (x, r, weight, bias))
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, r, weight, bias


def shard(t, rows, rank):
    start = sum(rows[:rank])
    return t[start:start + rows[rank]]


def run_parity_case(module_class, name, rank, cases=PARITY_CASES):
    """STEPS training steps of module_class on this rank's shard (rank None: the whole batch):
    y and the gradients of the last step, the running statistics after all of them."""
    dtype, shape, _, rows, momentum = cases[name]
    _, _, weight, bias = case_data(name, 0, cases)
    bn = module_class(shape[1], momentum=momentum, affine="no_affine" not in name, dtype=dtype)
    if bn.affine:
        with torch.no_grad():
            bn.weight.copy_(weight)
            bn.bias.copy_(bias)
    for step in range(STEPS):
        x, r, _, _ = case_data(name, step, cases)
        if rank is not None:
            x, r = shard(x, rows, rank), shard(r, rows, rank)
        x = x.detach().requires_grad_(True)
        bn.zero_grad(set_to_none=True)
        y = bn(x)
        (y * r).sum().backward()
    return {"y": y.detach(), "dx": x.grad,
            "dweight": bn.weight.grad if bn.affine else None,
            "dbias": bn.bias.grad if bn.affine else None,
            "running_mean": bn.running_mean.clone(), "running_var": bn.running_var.clone(),
            "num_batches_tracked": int(bn.num_batches_tracked)}


def _init(rank, world_size, port, timeout_s=30):
    torch.set_num_threads(1)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world_size, timeout=datetime.timedelta(seconds=timeout_s))


def _mismatch(rank, bnorm_torch):
    """The error every rank raises when the ranks disagree (channels, then dtype)."""
    import bnorm
    messages = []
    for channels, dtype in (((3, 4), (torch.float64,) * 2), ((3, 3), (torch.float32,
                                                                      torch.float64))):
        bn = bnorm_torch.SyncBatchNorm(channels[rank], dtype=dtype[rank])
        try:
            bn(torch.randn(4, channels[rank], dtype=dtype[rank]))
            messages.append("no error")
        except bnorm.Error as e:
            messages.append(str(e))
    return messages


def parity_worker(rank, world_size, port, out_dir):
    _init(rank, world_size, port)
    import bnorm.torch as bt
    results = {name: run_parity_case(bt.SyncBatchNorm, name, rank) for name in PARITY_CASES}
    results["mismatch"] = _mismatch(rank, bt)
    # Eval needs no communication: rank 0 alone runs it (a collective would wait forever).
    bn = bt.SyncBatchNorm(3, dtype=torch.float64)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([1.0, -2.0, 0.5]))
        bn.running_var.copy_(torch.tensor([4.0, 0.25, 1.0]))
    bn.eval()
    if rank == 0:
        results["eval"] = bn(torch.ones(2, 3, 2, 2, dtype=torch.float64)).detach()
    dist.barrier()
    torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


def three_rank_worker(rank, world_size, port, out_dir):
    _init(rank, world_size, port)
    import bnorm.torch as bt
    results = {name: run_parity_case(bt.SyncBatchNorm, name, rank, THREE_RANK_CASES)
               for name in THREE_RANK_CASES}
    torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    dist.barrier()
    dist.destroy_process_group()


KILLED_RANK = 1
KILL_AT_STEP = 5


def kill_worker(rank, world_size, port, out_dir):
    """Trains a SyncBatchNorm until rank KILLED_RANK sends itself SIGKILL at step KILL_AT_STEP
    (after writing the time to killed_at); the others must then fail (the group's timeout is
    10 s) and exit non-zero instead of waiting forever."""
    _init(rank, world_size, port, timeout_s=10)
    import signal
    import bnorm.torch as bt
    bn = bt.SyncBatchNorm(4, dtype=torch.float64)
    for step in range(1_000_000):
        if rank == KILLED_RANK and step == KILL_AT_STEP:
            with open(os.path.join(out_dir, "killed_at"), "w") as f:
                f.write(repr(time.time()))
            os.kill(os.getpid(), signal.SIGKILL)
        x = torch.randn(6, 4, 3, dtype=torch.float64, requires_grad=True)
        bn(x).square().sum().backward()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(worker, world_size, out_dir, timeout_s, *args):
    """Runs worker(rank, world_size, port, out_dir, *args) in world_size spawned processes;
    kills them and fails after timeout_s (a hang is a failure, not a stuck test)."""
    ctx = tmp.spawn(worker, args=(world_size, free_port(), out_dir) + args, nprocs=world_size,
                    join=False)
    deadline = time.monotonic() + timeout_s
    while not ctx.join(timeout=max(deadline - time.monotonic(), 0.1)):
        if time.monotonic() >= deadline:
            for p in ctx.processes:
                if p.is_alive():
                    p.kill()
            raise AssertionError(f"workers still running after {timeout_s} s")
    return [torch.load(os.path.join(out_dir, f"rank{r}.pt")) for r in range(world_size)]


# The data-parallel training test: global batch 16 split unevenly, plain SGD.
DDP_ROWS = (10, 6)
DDP_STEPS = 100
DDP_LR = 0.1


def make_net(dtype):
    torch.manual_seed(7)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.BatchNorm2d(6), torch.nn.ReLU(),
        torch.nn.Conv2d(6, 8, 3, stride=2, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, 4),
        torch.nn.BatchNorm1d(4)).to(dtype)


def ddp_batch(step, dtype):
    g = torch.Generator().manual_seed(1000 + step)
    x = torch.randn(sum(DDP_ROWS), 3, 8, 8, generator=g, dtype=torch.float64)
    # Learnable labels: the signs of the means of channels 0 and 1.
    labels = (x[:, 0].mean((1, 2)) > 0).long() + 2 * (x[:, 1].mean((1, 2)) > 0).long()
    return (x + 1.0).to(dtype), labels


def train(model, dtype, rank=None, world_size=1):
    """DDP_STEPS SGD steps on the mean cross-entropy of the global batch; rank None: the whole
    batch in this process. Returns the global loss of every step and the final state."""
    n = sum(DDP_ROWS)
    opt = torch.optim.SGD(model.parameters(), lr=DDP_LR)
    losses = []
    for step in range(DDP_STEPS):
        x, labels = ddp_batch(step, dtype)
        if rank is not None:
            x, labels = shard(x, DDP_ROWS, rank), shard(labels, DDP_ROWS, rank)
        loss_sum = torch.nn.functional.cross_entropy(model(x), labels, reduction="sum")
        opt.zero_grad()
        # DDP averages the ranks' gradients: scale so the average is the global mean's gradient.
        (loss_sum * (world_size / n)).backward()
        opt.step()
        total = loss_sum.detach().to(torch.float64)
        if rank is not None:
            dist.all_reduce(total)
        losses.append(float(total) / n)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return {"losses": losses, "state": {k.removeprefix("module."): v for k, v in state.items()}}


def ddp_worker(rank, world_size, port, out_dir):
    _init(rank, world_size, port)
    import bnorm.torch as bt
    from torch.nn.parallel import DistributedDataParallel
    results = {}
    for dtype in (torch.float64, torch.float32):
        model = DistributedDataParallel(bt.convert_sync(make_net(dtype)))
        results[str(dtype)] = train(model, dtype, rank, world_size)
        # The DDP model goes while the group still holds its gloo process group: dropped after
        # destroy_process_group, its Reducer would free the group with the GIL held while a gloo
        # thread waits for the GIL to free a tensor (torch 1.13, pytorch/pytorch#56297): a hang.
        del model
        gc.collect()
    torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    dist.barrier()
    dist.destroy_process_group()
