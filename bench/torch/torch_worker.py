#!/usr/bin/python3
"""PyTorch contender of `bnorm bench`: a persistent worker driven over stdin/stdout.

One process per PyTorch kernel set (the parent sets ATEN_CPU_CAPABILITY before starting it). The
parent writes the problem's float32 arrays to files; the worker loads them once, then times single
calls on request so the parent can interleave it with the other contenders. With dtype bf16, x and
dy (which hold bfloat16 values) become bfloat16 tensors in the same memory format, while gamma,
beta and the statistics stay float32: PyTorch's mixed-precision batch norm; outputs go back as
float32. Protocol, one line per
request and one line per answer ("ok ..." or "error <message>"):
  hello                                    -> ok <torch version> <cpu capability> | missing <why>
  setup <op> <layout> <dims,> <eps> <dir> [f32|bf16]  -> ok   (op: fwd_train|fwd_infer|backward)
  threads <n>                              -> ok
  check <out_dir>                          -> ok          (one untimed call; outputs written)
  run <hot|cold>                           -> ok <microseconds of one call>
  quit
"""
import os
import sys
import time


def answer(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except Exception as e:  # noqa: BLE001 - any import failure means the contender is missing
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        answer("missing cannot import torch/numpy with %s: %s" % (sys.executable, str(e).splitlines()[0]))
    sys.exit(0)


class Problem:
    """The tensors of one case, laid out in memory exactly as bnorm's."""

    def __init__(self, op, layout, dims, eps, directory, dtype="f32"):
        self.op, self.eps = op, eps
        # .to keeps the strides (channels_last stays channels_last).
        narrow = (lambda t: t.to(torch.bfloat16)) if dtype == "bf16" else (lambda t: t)  # noqa: E731

        def load(name, shape):
            return torch.from_numpy(np.fromfile(os.path.join(directory, name), dtype=np.float32).reshape(shape))

        c = dims[1]
        if layout == "nhwc":  # stored [N, H, W, C]; a channels_last view in logical NCHW order
            stored = [dims[0]] + dims[2:] + [c]
            to_logical = lambda t: t.permute(0, 3, 1, 2)  # noqa: E731
        else:
            stored = dims
            to_logical = lambda t: t  # noqa: E731
        self.x = narrow(to_logical(load("x.bin", stored)))
        self.gamma, self.beta = load("gamma.bin", [c]), load("beta.bin", [c])
        self.running_mean, self.running_var = load("mean.bin", [c]), load("var.bin", [c])
        if op == "backward":
            self.dy = narrow(to_logical(load("dy.bin", stored)))
            self.save_mean, self.save_invstd = load("save_mean.bin", [c]), load("save_invstd.bin", [c])
        self.flush_buffer = None

    def call(self):
        if self.op == "fwd_train":  # batch statistics, running-statistics update included
            return (F.batch_norm(self.x, self.running_mean, self.running_var, self.gamma, self.beta,
                                 training=True, momentum=0.1, eps=self.eps),)
        if self.op == "fwd_infer":
            return (F.batch_norm(self.x, self.running_mean, self.running_var, self.gamma, self.beta,
                                 training=False, eps=self.eps),)
        # dx, dgamma, dbeta from the statistics the training forward saved.
        return torch.ops.aten.native_batch_norm_backward(
            self.dy, self.x, self.gamma, self.running_mean, self.running_var, self.save_mean,
            self.save_invstd, True, self.eps, [True, True, True])

    def flush(self, mib):
        # Reading a buffer larger than every cache evicts this process's view of the problem.
        if self.flush_buffer is None:
            self.flush_buffer = np.ones(mib * 1024 * 1024 // 4, dtype=np.float32)
        return float(self.flush_buffer.sum())


def cpu_capability():
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":")[1].strip()
    return "unknown"


def write_outputs(outputs, directory, layout):
    names = ["y.bin"] if len(outputs) == 1 else ["dx.bin", "dgamma.bin", "dbeta.bin"]
    for name, t in zip(names, outputs):
        if t.dim() == 4 and layout == "nhwc":
            t = t.permute(0, 2, 3, 1)  # back to the stored [N, H, W, C] order
        t.float().contiguous().numpy().tofile(os.path.join(directory, name))


def main():
    problem, layout, cold_mib = None, "nchw", int(os.environ.get("BNORM_BENCH_COLD_MIB", "128"))
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] == "quit":
                break
            elif words[0] == "hello":
                answer("ok %s %s" % (torch.__version__, cpu_capability()))
            elif words[0] == "setup":
                problem = None
                layout = words[2]
                problem = Problem(words[1], layout, [int(d) for d in words[3].split(",")],
                                  float(words[4]), words[5], words[6] if len(words) > 6 else "f32")
                answer("ok")
            elif words[0] == "threads":
                torch.set_num_threads(int(words[1]))
                answer("ok")
            elif words[0] == "check":
                write_outputs(problem.call(), words[1], layout)
                answer("ok")
            elif words[0] == "run":
                if words[1] == "cold":
                    problem.flush(cold_mib)
                start = time.perf_counter_ns()
                outputs = problem.call()
                elapsed = time.perf_counter_ns() - start
                del outputs
                answer("ok %.3f" % (elapsed / 1000.0))
            else:
                answer("error unknown request '%s'" % words[0])
        except Exception as e:  # noqa: BLE001 - reported to the parent, which names the case
            answer("error " + " ".join(str(e).split()))


if __name__ == "__main__":
    with torch.no_grad():
        main()
