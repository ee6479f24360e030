"""Native torch.nn.BatchNorm2d against bnorm.torch.BatchNorm2d, interleaved in one process: the
conv shapes of `bnorm bench`, NCHW and channels_last, 1 and 2 threads, training forward+backward
and eval forward; the Python layer's cost over the bare binding call; and a resnet18 training
step (forward, backward, SGD) at 112x112, batch 16, native vs converted, with BN's share of the
step (the step minus the same step with every BatchNorm an identity). Prints a table and writes
one JSON row per measurement (--json), with the process CPU time next to the wall time and the
load average. Run with make bench-torch (see docs/python.md)."""

import argparse
import copy
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

import torch

import bnorm
import bnorm.torch as bt
from bnorm.torch import buffers

SHAPES = [(32, 64, 56, 56), (64, 256, 14, 14), (64, 128, 56, 56)]
TINY = (2, 8, 4, 4)  # the Python layer's fixed cost per call, the kernel's time next to nothing


def timed(fn):
    """(wall, process CPU) seconds and minor page faults of one call. On a shared machine the CPU
    time is the steadier of the two times: it leaves out the time other processes held the
    cores. Page faults (memory fresh from the system) can be most of a call's time: how many
    a call takes depends on the allocator's state, which the process's history sets."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - start, time.process_time() - cpu,
            resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)


def interleaved(fns, reps, warmup=1, cpu=None, faults=None):
    """Median wall seconds of each function, functions alternating A B A B (order flipped each
    rep) so that both see the same machine state; the median CPU seconds go into `cpu` (a list),
    the median page faults per call into `faults`.
    Each timed call follows an untimed call of the same function, as in a loop: a call that ends
    with dirty lines in the caches (plain stores) leaves their write-back to whatever runs next,
    and right after the other implementation that would bill one for the other's writes."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for r in range(reps):
        order = range(len(fns)) if r % 2 == 0 else reversed(range(len(fns)))
        for i in order:
            fns[i]()
            times[i].append(timed(fns[i]))
    if cpu is not None:
        cpu[:] = [statistics.median(c for _, c, _ in t) for t in times]
    if faults is not None:
        faults[:] = [statistics.median(f for _, _, f in t) for t in times]
    return [statistics.median(w for w, _, _ in t) for t in times]


def bn_case(shape, channels_last, train):
    """A zero-argument function per implementation running one BN call (and its backward)."""
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(shape).to(memory_format=fmt).requires_grad_(train)
    dy = torch.randn(shape).to(memory_format=fmt)
    fns = []
    for cls in (torch.nn.BatchNorm2d, bt.BatchNorm2d):
        m = cls(shape[1]).train(train)
        if train:
            def fn(m=m):
                x.grad = None
                m.weight.grad = m.bias.grad = None
                m(x).backward(dy)
        else:
            def fn(m=m):
                with torch.no_grad():
                    m(x)
        fns.append(fn)
    return fns


def python_layer_case(shape):
    """bnorm.torch's training forward against the binding's forward_train on the same input.
    Outputs of 1 MiB and more: the binding writes into the array of bnorm.torch's output cache
    that the module's output takes (each call drops its output, so both are handed the same free
    array), so the difference is the Python layer, not page faults or which pages the output has
    (a second array of the cache can be a few percent faster or slower than another). Smaller
    ones come from numpy's allocator on both sides. The lookup in the cache (or the allocation)
    is billed to both."""
    x = torch.randn(shape)
    m = bt.BatchNorm2d(shape[1])
    xn, w, b = x.numpy(), m.weight.detach().numpy(), m.bias.detach().numpy()

    def module():
        with torch.no_grad():
            m(x)

    def binding():
        bnorm.forward_train(xn, w, b, 1e-5, out=buffers.empty_like(xn))
    return [binding, module]


def repeated(fns, calls):
    """Each function made to run `calls` times per call: a run of calls, as in a loop (and a
    tiny problem's time above the timer's resolution)."""
    def run(fn):
        for _ in range(calls):
            fn()  # the result dropped at once, as the output cache's reuse needs
    return [lambda fn=fn: run(fn) for fn in fns]


def resnet_case():
    import torchvision
    torch.manual_seed(0)
    native = torchvision.models.resnet18(num_classes=10)
    converted = bt.convert(copy.deepcopy(native))
    identity = copy.deepcopy(native)
    for name, mod in list(identity.named_modules()):
        for child_name, child in list(mod.named_children()):
            if isinstance(child, torch.nn.BatchNorm2d):
                setattr(mod, child_name, torch.nn.Identity())
    x, target = torch.randn(16, 3, 112, 112), torch.randint(0, 10, (16,))
    fns = []
    for model in (native, converted, identity):
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)

        def step(model=model, opt=opt):
            loss = torch.nn.functional.cross_entropy(model(x), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
        fns.append(step)
    return fns


# glibc settings under which the step's memory comes from the heap and stays there: no block of
# its own per large allocation (each mapped afresh and faulted in page by page), no trimming of
# the heap's top back to the system. Without them the faults of the step's allocations come and
# go with the allocator's state (docs/python.md, Speed) and swing the step by more than BN takes.
STEADY_MALLOC = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(1 << 40)}


def allocator_name():
    """"steady" under exactly STEADY_MALLOC, "default" without malloc settings, else "custom"."""
    settings = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}
    if settings == STEADY_MALLOC and "GLIBC_TUNABLES" not in os.environ:
        return "steady"
    return "default" if not settings and "glibc.malloc" not in os.environ.get(
        "GLIBC_TUNABLES", "") else "custom"


def resnet_row(threads, reps):
    cpu, faults = [], []
    native, mine, identity = interleaved(resnet_case(), reps, cpu=cpu, faults=faults)
    return {"bench": "resnet18_step", "input": "16x3x112x112", "threads": threads,
            "allocator": allocator_name(), "native_ms": native * 1e3, "bnorm_ms": mine * 1e3,
            "no_bn_ms": identity * 1e3, "speedup": native / mine,
            "bn_share_native": (native - identity) / native,
            "bn_share_bnorm": (mine - identity) / mine, "native_cpu_ms": cpu[0] * 1e3,
            "bnorm_cpu_ms": cpu[1] * 1e3, "no_bn_cpu_ms": cpu[2] * 1e3,
            "speedup_cpu": cpu[0] / cpu[1], "native_faults": faults[0],
            "bnorm_faults": faults[1], "no_bn_faults": faults[2], "load": os.getloadavg()[0]}


# A bn2d sample runs calls for at least this long (at most MAX_CALLS of them): a sub-millisecond
# call timed alone measures the machine's hiccups as much as the call.
SAMPLE_SECONDS = 0.02
MAX_CALLS = 100


def calls_per_sample(fns):
    """Calls per timed sample for SAMPLE_SECONDS of the slower function, both warmed up."""
    for fn in fns:
        fn()
    slowest = max(timed(fn)[0] for fn in fns)
    return max(1, min(MAX_CALLS, math.ceil(SAMPLE_SECONDS / slowest)))


def bn2d_row(shape, channels_last, train, threads, reps):
    cpu, faults = [], []
    fns = bn_case(shape, channels_last, train)
    calls = calls_per_sample(fns)
    native, mine = interleaved(repeated(fns, calls), reps, cpu=cpu, faults=faults)
    return {"bench": "bn2d", "shape": "x".join(map(str, shape)),
            "layout": "channels_last" if channels_last else "nchw", "threads": threads,
            "allocator": allocator_name(), "mode": "train fwd+bwd" if train else "eval fwd",
            "calls": calls, "native_ms": native / calls * 1e3, "bnorm_ms": mine / calls * 1e3,
            "speedup": native / mine, "native_cpu_ms": cpu[0] / calls * 1e3,
            "bnorm_cpu_ms": cpu[1] / calls * 1e3, "speedup_cpu": cpu[0] / cpu[1],
            "native_faults": faults[0] / calls, "bnorm_faults": faults[1] / calls,
            "load": os.getloadavg()[0]}


def python_layer_row(shape, calls, threads, reps):
    cpu = []
    binding, module = interleaved(repeated(python_layer_case(shape), calls), reps, cpu=cpu)
    return {"bench": "python_layer", "shape": "x".join(map(str, shape)), "threads": threads,
            "allocator": allocator_name(), "binding_ms": binding / calls * 1e3,
            "module_ms": module / calls * 1e3, "overhead": module / binding - 1,
            "fixed_us": (module - binding) / calls * 1e6,
            "binding_cpu_ms": cpu[0] / calls * 1e3, "module_cpu_ms": cpu[1] / calls * 1e3,
            "overhead_cpu": cpu[1] / cpu[0] - 1, "load": os.getloadavg()[0]}


def steady_rows(argv):
    """The bn2d and resnet18 rows again, from a new process of this script under STEADY_MALLOC
    (glibc reads it at start): each row as the child prints it (its errors go to stderr)."""
    child = subprocess.Popen([sys.executable, __file__, "--steady-part", *argv],
                             env={**os.environ, **STEADY_MALLOC}, stdout=subprocess.PIPE,
                             text=True)
    with child:
        for line in child.stdout:
            if line.startswith("{"):
                yield json.loads(line)
    if child.returncode != 0:
        raise RuntimeError(f"the steady-allocator part exited with {child.returncode}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=11, help="timed calls per implementation")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--shapes", default=",".join("x".join(map(str, s)) for s in SHAPES),
                   help="comma-separated NxCxHxW shapes of the bn2d rows")
    p.add_argument("--resnet-reps", type=int, default=5,
                   help="timed steps per model (twice as many under the steady allocator)")
    p.add_argument("--no-resnet", action="store_true")
    p.add_argument("--no-steady", action="store_true",
                   help="leave out the rows under the steady allocator")
    p.add_argument("--steady-part", action="store_true",
                   help="(internal) only the bn2d and resnet18 rows, under this process's "
                        "allocator: what the steady rows run")
    p.add_argument("--json", help="write the rows to this file")
    args = p.parse_args()
    shapes = [tuple(int(d) for d in s.split("x")) for s in args.shapes.split(",")]
    rows = []

    def emit(row):
        rows.append(row)
        print(json.dumps(row), flush=True)

    try:
        run(args, shapes, emit)
    finally:  # what was measured, even when a later part fails
        if args.json:
            with open(args.json, "w") as f:
                json.dump(rows, f, indent=1)


def run(args, shapes, emit):
    """Every row in the order the table shows them, each to emit as soon as it is measured."""
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)  # bnorm's OpenMP kernels follow it (same libgomp)
        for shape in shapes:
            for cl in (False, True):
                for train in (True, False):
                    emit(bn2d_row(shape, cl, train, threads, args.reps))
        if not args.steady_part:
            # Runs of calls, as a training loop makes them. The tiny shape's difference is the
            # layer's cost per call (fixed_us) with next to no kernel time beside it.
            for shape, calls in ((TINY, 1000), (SHAPES[0], 20)):
                emit(python_layer_row(shape, calls, threads, args.reps))
        if not args.no_resnet:
            emit(resnet_row(threads, args.resnet_reps))
    # A process already under STEADY_MALLOC has just measured what the child would.
    if not args.steady_part and not args.no_steady and allocator_name() != "steady":
        argv = ["--reps", str(args.reps), "--threads", args.threads, "--shapes", args.shapes,
                "--resnet-reps", str(2 * args.resnet_reps)] + (["--no-resnet"] if args.no_resnet
                                                               else [])
        for row in steady_rows(argv):
            emit(row)


if __name__ == "__main__":
    main()
