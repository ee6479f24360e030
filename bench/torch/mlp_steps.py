#!/usr/bin/python3
"""Times SGD steps of the paper's MNIST network in PyTorch, the counterpart of bnorm_mlp_bench.

Usage: /usr/bin/python3 bench/torch/mlp_steps.py [--bn 0|1] [--threads T] [--steps N]
           [--warmup W] [--batch B] [--max-seconds S]
784 -> 100 -> 100 -> 100 -> 10 with sigmoid, BN (BatchNorm1d) before each sigmoid when --bn 1 and
then Linear without bias, softmax cross-entropy, torch.optim.SGD with momentum 0.9. The harness
(random batches, timing, the JSON line) is torch_steps.py, next to this file.
"""

import torch

import torch_steps  # next to this file, so on sys.path when run as a script


def build(bn):
    layers = []
    sizes = [784, 100, 100, 100, 10]
    for i in range(4):
        hidden = i < 3
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1], bias=not (hidden and bn)))
        if hidden:
            if bn:
                layers.append(torch.nn.BatchNorm1d(sizes[i + 1]))
            layers.append(torch.nn.Sigmoid())
    return torch.nn.Sequential(*layers)


if __name__ == "__main__":
    torch_steps.main(model="mlp784-100x3-10-sigmoid", build=build, example_shape=(784,),
                     steps=2000, warmup=200, pool=20, chunk=10, lr=0.05)
