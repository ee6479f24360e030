#!/usr/bin/python3
"""Times SGD steps of the paper's MNIST network in PyTorch, the counterpart of bnorm_mlp_bench.

Usage: /usr/bin/python3 bench/mlp/mlp_steps.py [--bn 0|1] [--threads T] [--steps N]
           [--warmup W] [--batch B] [--max-seconds S]
784 -> 100 -> 100 -> 100 -> 10 with sigmoid, BN (BatchNorm1d) before each sigmoid when --bn 1 and
then Linear without bias, softmax cross-entropy, torch.optim.SGD with momentum 0.9. A fixed pool
of random batches is cycled so data loading is not timed. Prints one JSON line.
"""

import argparse
import json
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bn", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--batch", type=int, default=60)
    p.add_argument("--max-seconds", type=float, default=0.0,
                   help="> 0: stop timing after this long (whole chunks of 10 steps)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)  # torch starts with 1 thread on this machine otherwise
    torch.manual_seed(1)
    pool = 20
    x = torch.rand(pool, a.batch, 784)
    y = torch.randint(0, 10, (pool, a.batch))
    layers = []
    sizes = [784, 100, 100, 100, 10]
    for i in range(4):
        hidden = i < 3
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1], bias=not (hidden and a.bn)))
        if hidden:
            if a.bn:
                layers.append(torch.nn.BatchNorm1d(sizes[i + 1]))
            layers.append(torch.nn.Sigmoid())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
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
    while timed < a.steps and (a.max_seconds <= 0 or time.perf_counter() - start < a.max_seconds):
        chunk = min(10, a.steps - timed)
        loss = run(chunk)
        timed += chunk
    seconds = time.perf_counter() - start
    print(json.dumps({"impl": "torch", "model": "mlp784-100x3-10-sigmoid", "bn": bool(a.bn),
                      "threads": a.threads, "batch": a.batch, "steps": timed,
                      "seconds": round(seconds, 6), "steps_per_s": round(timed / seconds, 2),
                      "last_loss": round(float(loss), 6)}))


if __name__ == "__main__":
    main()
