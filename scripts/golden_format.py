"""The golden-file format shared by scripts/make_golden.py and scripts/make_mlp_golden.py, and
their common command line (one OUT_DIR argument; cases.txt written last as the build's stamp).

One record per line, whitespace-separated, parseable without libraries:
  # comment
  option KEY VALUE
  array NAME DTYPE RANK D0 .. DR-1 V0 V1 ...
DTYPE is float32 (%.9g), float64 (%.17g) or int64, so every value reads back bit-exact.
"""

import os
import sys

import torch

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}


def memory_order(t, layout):
    """t's values flattened in the memory order of `layout` (N, spatial..., C for channels_last)."""
    t = t.detach()
    if layout == "channels_last":
        t = t.permute(0, *range(2, t.dim()), 1)
    return t.contiguous().reshape(-1).tolist()


def format_values(values, dtype):
    if dtype == "int64":
        return " ".join(str(int(v)) for v in values)
    fmt = "%.9g" if dtype == "float32" else "%.17g"
    return " ".join(fmt % float(v) for v in values)


class Writer:
    """One golden file; use as a context manager."""

    def __init__(self, path):
        self.out = open(path, "w", encoding="ascii")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.out.close()

    def comment(self, text):
        self.out.write(f"# {text}\n")

    def option(self, key, value):
        self.out.write(f"option {key} {value}\n")

    def array(self, name, values, dims, dtype):
        dims_text = " ".join(str(d) for d in dims)
        self.out.write(f"array {name} {dtype} {len(dims)} {dims_text} "
                       f"{format_values(values, dtype)}\n")

    def tensor(self, name, t, layout="channels_first"):
        """t with its logical dims, values in `layout`'s memory order; a scalar as dims [1]."""
        self.array(name, memory_order(t, layout) if t.dim() > 0 else [t.item()],
                   list(t.shape) if t.dim() > 0 else [1], DTYPE_NAMES[t.dtype])


def main(script, cases, write_case):
    """`script OUT_DIR`: write_case(out_dir, index, case) for every case, then cases.txt."""
    if len(sys.argv) != 2:
        print(f"usage: {script} OUT_DIR", file=sys.stderr)
        return 2
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for index, case in enumerate(cases):
        write_case(out_dir, index, case)
    # Written last: the build uses it as the stamp that every case file is there.
    with open(os.path.join(out_dir, "cases.txt"), "w", encoding="ascii") as f:
        f.write("".join(case[0] + "\n" for case in cases))
    print(f"{script}: wrote {len(cases)} cases to {out_dir}")
    return 0
