#!/usr/bin/python3
"""Times SGD steps of the paper suite's small CNN in PyTorch, the counterpart of bnorm_cnn_bench.

Usage: /usr/bin/python3 bench/cnn/cnn_steps.py [--bn 0|1] [--threads T] [--steps N]
           [--warmup W] [--batch B] [--max-seconds S]
conv3x3(16, pad 1) - [BN] - ReLU - maxpool2 - conv3x3(32, pad 1) - [BN] - ReLU - maxpool2 -
flatten - Linear(1568, 100) - [BN] - ReLU - Linear(100, 10); conv and Linear without bias before a
BN. Softmax cross-entropy, torch.optim.SGD with momentum 0.9. A fixed pool of random batches is
cycled so data loading is not timed. Prints one JSON line.
"""

import argparse
import json
import time

import torch
from torch import nn


def build(bn):
    layers = []
    c = 1
    for k in (16, 32):
        layers.append(nn.Conv2d(c, k, 3, padding=1, bias=not bn))
        if bn:
            layers.append(nn.BatchNorm2d(k))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        c = k
    layers += [nn.Flatten(), nn.Linear(32 * 7 * 7, 100, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm1d(100))
    layers += [nn.ReLU(), nn.Linear(100, 10)]
    return nn.Sequential(*layers)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bn", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--batch", type=int, default=60)
    p.add_argument("--max-seconds", type=float, default=0.0,
                   help="> 0: stop timing after this long (whole chunks of 5 steps)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)  # torch starts with 1 thread on this machine otherwise
    torch.manual_seed(1)
    pool = 10
    x = torch.rand(pool, a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (pool, a.batch))
    net = build(bool(a.bn))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
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
        chunk = min(5, a.steps - timed)
        loss = run(chunk)
        timed += chunk
    seconds = time.perf_counter() - start
    print(json.dumps({"impl": "torch", "model": "cnn28-c16-c32-fc100-relu", "bn": bool(a.bn),
                      "threads": a.threads, "batch": a.batch, "steps": timed,
                      "seconds": round(seconds, 6), "steps_per_s": round(timed / seconds, 2),
                      "last_loss": round(float(loss), 6)}))


if __name__ == "__main__":
    main()
