#!/usr/bin/python3
"""Times SGD steps of the paper suite's small CNN in PyTorch, the counterpart of bnorm_cnn_bench.

Usage: /usr/bin/python3 bench/torch/cnn_steps.py [--bn 0|1] [--threads T] [--steps N]
           [--warmup W] [--batch B] [--max-seconds S]
conv3x3(16, pad 1) - [BN] - ReLU - maxpool2 - conv3x3(32, pad 1) - [BN] - ReLU - maxpool2 -
flatten - Linear(1568, 100) - [BN] - ReLU - Linear(100, 10); conv and Linear without bias before a
BN. Softmax cross-entropy, torch.optim.SGD with momentum 0.9. The harness (random batches,
timing, the JSON line) is torch_steps.py, next to this file.
"""

from torch import nn

import torch_steps  # next to this file, so on sys.path when run as a script


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


if __name__ == "__main__":
    torch_steps.main(model="cnn28-c16-c32-fc100-relu", build=build, example_shape=(1, 28, 28),
                     steps=500, warmup=20, pool=10, chunk=5, lr=0.01)
