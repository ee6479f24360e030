"""The PyTorch side of the SGD-step benchmarks (mlp_steps.py, cnn_steps.py next to it), the
counterpart of bench/harness/step_bench.cpp: options, a fixed pool of random batches cycled so
data loading is not timed, the warm-up, the timed loop and one JSON line.

    [--bn 0|1] [--threads T] [--steps N] [--warmup W] [--batch B] [--max-seconds S]
"""

import argparse
import json
import time

import torch


def main(model, build, example_shape, steps, warmup, pool, chunk, lr):
    """Trains build(bn) with torch.optim.SGD (momentum 0.9, constant lr) on random inputs of
    example_shape per example and labels 0..9; prints impl, model, bn, threads, batch, steps,
    seconds, steps_per_s, last_loss."""
    p = argparse.ArgumentParser()
    p.add_argument("--bn", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=steps)
    p.add_argument("--warmup", type=int, default=warmup)
    p.add_argument("--batch", type=int, default=60)
    p.add_argument("--max-seconds", type=float, default=0.0,
                   help="> 0: stop timing after this long (whole chunks of %d steps)" % chunk)
    a = p.parse_args()
    torch.set_num_threads(a.threads)  # torch starts with 1 thread on this machine otherwise
    torch.manual_seed(1)
    x = torch.rand(pool, a.batch, *example_shape)
    y = torch.randint(0, 10, (pool, a.batch))
    net = build(bool(a.bn))
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    net.train()
    step = [0]

    def run(steps):
        loss = None
        for _ in range(steps):
            b = step[0] % pool
            step[0] += 1
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(x[b]), y[b])
            loss.backward()
            opt.step()
        return loss

    run(a.warmup)
    start = time.perf_counter()
    timed = 0
    loss = torch.tensor(0.0)
    while timed < a.steps and (a.max_seconds <= 0 or time.perf_counter() - start < a.max_seconds):
        n = min(chunk, a.steps - timed)
        loss = run(n)
        timed += n
    seconds = time.perf_counter() - start
    print(json.dumps({"impl": "torch", "model": model, "bn": bool(a.bn), "threads": a.threads,
                      "batch": a.batch, "steps": timed, "seconds": round(seconds, 6),
                      "steps_per_s": round(timed / seconds, 2),
                      "last_loss": round(float(loss), 6)}))
