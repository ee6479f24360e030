#!/usr/bin/python3
"""Writes PyTorch golden files for the engine's SGD parity test (tests/nn/mlp_golden_test.cpp).

Usage: /usr/bin/python3 scripts/make_mlp_golden.py OUT_DIR   (needs torch; fixed seeds)

Each case trains a small MLP, 6 -> 5 -> 4 -> 3, with torch.optim.SGD (momentum, weight decay) for
a few steps of softmax cross-entropy, then evaluates it in eval mode. Layers are numbered as in
bnorm's Sequential (Linear, [BatchNorm1d], Sigmoid, ...), and parameters are named as bnorm names
them: "<layer>.weight", "<layer>.bias", "<layer>.gamma", "<layer>.beta", "<layer>.running_mean",
"<layer>.running_var". The file format is tests/golden's (see scripts/make_golden.py):
  option KEY VALUE
  array NAME DTYPE RANK D0 .. DR-1 V0 V1 ...
Arrays: init.<param> (initial values), x_k, labels_k, loss_k for steps k = 0.., final.<param>
and final.<buffer> after the last step, then x_eval and logits_eval (eval mode).
"""

import os
import sys

import torch

STEPS = 4
SIZES = [6, 5, 4, 3]
BATCH = 8

# name, BN placement ("none", "before", "after"), lr, momentum, weight decay
CASES = [
    ("mlp_sigmoid_bn_before", "before", 0.5, 0.9, 1e-3),
    ("mlp_sigmoid_no_bn", "none", 0.5, 0.9, 1e-3),
    ("mlp_sigmoid_bn_after", "after", 0.3, 0.5, 0.0),
]


def fmt(values, dtype):
    if dtype == "int64":
        return " ".join(str(int(v)) for v in values)
    return " ".join("%.9g" % float(v) for v in values)


def array(out, name, t):
    dtype = "int64" if t.dtype == torch.int64 else "float32"
    flat = t.detach().reshape(-1).tolist()
    dims = list(t.shape) if t.dim() > 0 else [1]
    out.write(f"array {name} {dtype} {len(dims)} {' '.join(map(str, dims))} {fmt(flat, dtype)}\n")


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
    with open(os.path.join(out_dir, f"{name}.golden"), "w", encoding="ascii") as out:
        out.write(f"# {name}: torch {torch.__version__}, sizes {SIZES}, batch {BATCH}\n")
        out.write(f"option bn {placement}\noption lr {lr!r}\noption momentum {momentum!r}\n")
        out.write(f"option weight_decay {weight_decay!r}\noption steps {STEPS}\n")
        for pname, t in state(net):
            array(out, f"init.{pname}", t)
        net.train()
        for k in range(STEPS):
            x = torch.randn(BATCH, SIZES[0], generator=gen) * 2 + 1
            labels = torch.randint(0, SIZES[-1], (BATCH,), generator=gen)
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x), labels)
            loss.backward()
            opt.step()
            array(out, f"x_{k}", x)
            array(out, f"labels_{k}", labels)
            array(out, f"loss_{k}", loss)
        for pname, t in state(net):
            array(out, f"final.{pname}", t)
        net.eval()
        x = torch.randn(BATCH, SIZES[0], generator=gen) * 2 + 1
        array(out, "x_eval", x)
        array(out, "logits_eval", net(x))


def main():
    if len(sys.argv) != 2:
        print("usage: make_mlp_golden.py OUT_DIR", file=sys.stderr)
        return 2
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for index, case in enumerate(CASES):
        write_case(out_dir, index, case)
    # Written last: the build uses it as the stamp that every case file is there.
    with open(os.path.join(out_dir, "cases.txt"), "w", encoding="ascii") as f:
        f.write("".join(case[0] + "\n" for case in CASES))
    print(f"make_mlp_golden.py: wrote {len(CASES)} cases to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
