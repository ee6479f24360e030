#!/usr/bin/python3
"""Writes PyTorch golden files for the engine's SGD parity test (tests/nn/mlp_golden_test.cpp).

Usage: /usr/bin/python3 scripts/make_mlp_golden.py OUT_DIR   (needs torch; fixed seeds)

Each case trains a small MLP, 6 -> 5 -> 4 -> 3, with torch.optim.SGD (momentum, weight decay) for
a few steps of softmax cross-entropy, then evaluates it in eval mode. Layers are numbered as in
bnorm's Sequential (Linear, [BatchNorm1d], Sigmoid, ...), and parameters are named as bnorm names
them: "<layer>.weight", "<layer>.bias", "<layer>.gamma", "<layer>.beta", "<layer>.running_mean",
"<layer>.running_var". The file format is tests/golden's (scripts/golden_format.py):
  option KEY VALUE
  array NAME DTYPE RANK D0 .. DR-1 V0 V1 ...
Arrays: init.<param> (initial values), x_k, labels_k, loss_k for steps k = 0.., final.<param>
and final.<buffer> after the last step, then x_eval and logits_eval (eval mode).
"""

import os
import sys

import torch

import golden_format

STEPS = 4
SIZES = [6, 5, 4, 3]
BATCH = 8

# name, BN placement ("none", "before", "after"), lr, momentum, weight decay
CASES = [
    ("mlp_sigmoid_bn_before", "before", 0.5, 0.9, 1e-3),
    ("mlp_sigmoid_no_bn", "none", 0.5, 0.9, 1e-3),
    ("mlp_sigmoid_bn_after", "after", 0.3, 0.5, 0.0),
]


def build(placement, gen):
    layers = []
    for i in range(len(SIZES) - 1):
        hidden = i + 1 < len(SIZES) - 1
        before = hidden and placement == "before"
        linear = torch.nn.Linear(SIZES[i], SIZES[i + 1], bias=not before)
        with torch.no_grad():
            linear.weight.copy_(torch.randn(linear.weight.shape, generator=gen) * 0.7)
            if linear.bias is not None:
                linear.bias.copy_(torch.randn(linear.bias.shape, generator=gen) * 0.1)
        layers.append(linear)
        if not hidden:
            break
        if before:
            layers.append(torch.nn.BatchNorm1d(SIZES[i + 1]))
        layers.append(torch.nn.Sigmoid())
        if placement == "after":
            layers.append(torch.nn.BatchNorm1d(SIZES[i + 1]))
    for m in layers:  # non-trivial gamma and beta
        if isinstance(m, torch.nn.BatchNorm1d):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)
    return torch.nn.Sequential(*layers)


def state(net):
    """(bnorm name, tensor) for every parameter and buffer, in bnorm's order."""
    params, buffers = [], []
    for i, m in enumerate(net):
        if isinstance(m, torch.nn.Linear):
            params.append((f"{i}.weight", m.weight))
            if m.bias is not None:
                params.append((f"{i}.bias", m.bias))
        elif isinstance(m, torch.nn.BatchNorm1d):
            params += [(f"{i}.gamma", m.weight), (f"{i}.beta", m.bias)]
            buffers += [(f"{i}.running_mean", m.running_mean), (f"{i}.running_var", m.running_var)]
    return params + buffers


def write_case(out_dir, index, case):
    name, placement, lr, momentum, weight_decay = case
    gen = torch.Generator().manual_seed(2000 + index)
    net = build(placement, gen)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    with golden_format.Writer(os.path.join(out_dir, f"{name}.golden")) as w:
        w.comment(f"{name}: torch {torch.__version__}, sizes {SIZES}, batch {BATCH}")
        w.option("bn", placement)
        w.option("lr", repr(lr))
        w.option("momentum", repr(momentum))
        w.option("weight_decay", repr(weight_decay))
        w.option("steps", STEPS)
        for pname, t in state(net):
            w.tensor(f"init.{pname}", t)
        net.train()
        for k in range(STEPS):
            x = torch.randn(BATCH, SIZES[0], generator=gen) * 2 + 1
            labels = torch.randint(0, SIZES[-1], (BATCH,), generator=gen)
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x), labels)
            loss.backward()
            opt.step()
            w.tensor(f"x_{k}", x)
            w.tensor(f"labels_{k}", labels)
            w.tensor(f"loss_{k}", loss)
        for pname, t in state(net):
            w.tensor(f"final.{pname}", t)
        net.eval()
        x = torch.randn(BATCH, SIZES[0], generator=gen) * 2 + 1
        w.tensor("x_eval", x)
        w.tensor("logits_eval", net(x))


if __name__ == "__main__":
    sys.exit(golden_format.main("make_mlp_golden.py", CASES, write_case))
