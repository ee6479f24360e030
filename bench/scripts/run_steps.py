#!/usr/bin/python3
"""Steps per second of one training network, bnorm against PyTorch, with and without BN, at 1 and
2 threads: --model mlp, the paper's MLP (784-100-100-100-10 sigmoid, batch 60, SGD momentum;
bnorm_mlp_bench against bench/torch/mlp_steps.py), or --model cnn, the paper suite's small CNN
(E3: conv3x3(16)-pool-conv3x3(32)-pool-FC(100)-FC(10), ReLU; bnorm_cnn_bench against
bench/torch/cnn_steps.py). `make bench-mlp` and `make bench-cnn` run it for one model each.

Usage: bench/scripts/run_steps.py --model mlp|cnn [--build build/release] [--repeats 3]
           [--seconds 3] [--threads 1,2] [--out FILE]

Runs are interleaved (bnorm, torch, bnorm, torch, ...) over `repeats` rounds so a noisy machine
hurts both alike, and the best round of each configuration is kept. Prints a table and writes one
JSON row per (bn, threads) to --out (default BUILD/bench-<model>.json):
  {"model", "bn", "threads", "bnorm_steps_per_s", "torch_steps_per_s"}
followed by a summary of each side at its best thread count.
"""

import argparse
import json
import os
import subprocess
import sys

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/
ROOT = os.path.dirname(BENCH)
# model: (JSON model name, untimed steps before each run)
MODELS = {
    "mlp": ("mlp784-100x3-10-sigmoid", 50),
    "cnn": ("cnn28-c16-c32-fc100-relu", 10),
}


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["steps_per_s"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=sorted(MODELS), required=True)
    p.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seconds", type=float, default=3.0, help="timed seconds per run")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--python", default="/usr/bin/python3")
    p.add_argument("--out")
    a = p.parse_args()
    model, warmup = MODELS[a.model]
    bench = os.path.join(a.build, "bench", "steps", "bnorm_%s_bench" % a.model)
    if not os.access(bench, os.X_OK):
        print(f"error: {bench} not found: build it first (make build, or cmake --build --preset "
              "release)", file=sys.stderr)
        return 1
    torch_script = os.path.join(BENCH, "torch", "%s_steps.py" % a.model)
    out_path = a.out or os.path.join(a.build, "bench-%s.json" % a.model)
    threads = [int(t) for t in a.threads.split(",")]
    common = ["--steps", "1000000", "--warmup", str(warmup), "--max-seconds", str(a.seconds)]
    best = {}
    for r in range(a.repeats):
        for bn in (0, 1):
            for t in threads:
                args = ["--bn", str(bn), "--threads", str(t)] + common
                b = run([bench] + args)
                tt = run([a.python, torch_script] + args)
                key = (bn, t)
                old = best.get(key, (0.0, 0.0))
                best[key] = (max(old[0], b), max(old[1], tt))
                print(f"round {r + 1}/{a.repeats} bn={bn} threads={t}: bnorm {b:.1f}, "
                      f"torch {tt:.1f} steps/s", file=sys.stderr)
    rows = []
    print(f"{'bn':>3} {'threads':>7} {'bnorm steps/s':>14} {'torch steps/s':>14} {'ratio':>6}")
    for (bn, t), (b, tt) in sorted(best.items()):
        rows.append({"model": model, "bn": bool(bn), "threads": t, "bnorm_steps_per_s": b,
                     "torch_steps_per_s": tt})
        print(f"{bn:>3} {t:>7} {b:>14.1f} {tt:>14.1f} {b / tt:>6.2f}")
    print("each at its best thread count:")
    for bn in (0, 1):
        b = max(best[(bn, t)][0] for t in threads)
        tt = max(best[(bn, t)][1] for t in threads)
        print(f"  bn={bn}: bnorm {b:.1f} vs torch {tt:.1f} steps/s = {b / tt:.2f}x")
    with open(out_path, "w", encoding="ascii") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
