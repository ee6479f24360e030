#!/usr/bin/python3
"""bench/scripts/results.py's sections: the bfloat16 one from the bench JSON's bf16 rows (the
float32 tables keep the float32 rows only), and each optional file given becomes a section whose
numbers are computed from it (ratios, medians, differences in pp, verdicts); a malformed one is an
error."""
import json
import os
import subprocess
import sys
import tempfile

SCRIPT = sys.argv[1]


def write(path, obj, lines=False):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(json.dumps(o) for o in obj) if lines else json.dumps(obj))
    return path


def main():
    d = tempfile.mkdtemp()
    bench = write(os.path.join(d, "bench.json"), {
        "reps": 1, "cold_mib": 1, "build": "Release",
        "stream": [{"threads": 1, "copy_gbs": 10, "scale_gbs": 10, "triad_gbs": 11,
                    "scale_nt_gbs": 14}],
        "contenders": [{"name": "bnorm", "available": True, "details": "", "missing": ""}],
        "rows": [{"shape": "fc_6x5", "layout": "nc", "op": "backward", "threads": 1,
                  "cache": "hot", "bnorm_us": 2.0, "torch_us": 4.0, "best_anchor_us": 4.0,
                  "best_anchor": "torch", "pct_of_stream": 50.0},
                 {"shape": "fc_6x5", "layout": "nc", "op": "backward", "dtype": "f32",
                  "threads": 1, "cache": "cold", "bnorm_us": 4.0, "torch_us": 6.0,
                  "best_anchor_us": 6.0, "best_anchor": "torch", "pct_of_stream": 20.0},
                 {"shape": "fc_6x5", "layout": "nc", "op": "backward", "dtype": "bf16",
                  "threads": 1, "cache": "cold", "bnorm_us": 2.0, "bnorm_f32_us": 4.0,
                  "torch_us": 5.0, "best_anchor_us": 5.0, "best_anchor": "torch",
                  "bnorm_kernel": "cpu-avx512-bf16"},
                 {"shape": "conv_4x3x5x5", "layout": "nchw", "op": "fwd_train", "dtype": "bf16",
                  "threads": 2, "cache": "cold", "bnorm_us": 1.0, "bnorm_f32_us": 1.2,
                  "torch_us": 1.2, "best_anchor_us": 1.2, "best_anchor": "torch",
                  "bnorm_kernel": "cpu-avx2"},
                 {"shape": "fc_6x5", "layout": "nc", "op": "fwd_train", "dtype": "bf16",
                  "threads": 1, "cache": "hot", "bnorm_us": 9.0, "bnorm_f32_us": 1.0,
                  "torch_us": 1.0, "best_anchor_us": 1.0, "best_anchor": "torch"}]})
    fig1 = write(os.path.join(d, "fig1.json"), {
        "frac_evals_bn_ahead": 0.93, "steps_ratio": 8.5, "final_acc_bn": 0.9435,
        "final_acc_baseline": 0.9365, "drift_ratio": 0.11,
        "reproduced": {"bn_ahead": True, "steps_ratio": True, "final_gain": True, "drift": True},
        "settings": {"dataset": "mnist", "steps": 500, "batch": 60, "lr": 0.5, "momentum": 0.0,
                     "seed": 3}})
    paper = write(os.path.join(d, "paper.json"), [
        {"id": "E1", "claim": "fig1", "measured": "gain +0.41 pp", "reproduced": True, "seeds": 5,
         "wall_seconds": 300.0},
        {"id": "E1-B", "claim": "fig1 momentum", "measured": "gain +0.2 pp", "reproduced": False,
         "seeds": 5, "wall_seconds": 300.0},
        {"id": "E4", "claim": "deep sigmoid", "measured": "BN 88% | baseline 11%;",
         "reproduced": True, "seeds": 3, "wall_seconds": 60.0}])
    e1_avx2 = write(os.path.join(d, "e1_avx2.json"), [
        {"id": "E1", "claim": "fig1", "measured": "gain +0.25 pp", "reproduced": False, "seeds": 5},
        {"id": "E1-B", "claim": "fig1 momentum", "measured": "gain +0.3 pp", "reproduced": True,
         "seeds": 5}])
    steps = write(os.path.join(d, "steps.json"), [
        {"model": "mlp", "bn": True, "threads": 2, "bnorm_steps_per_s": 1500.0,
         "torch_steps_per_s": 600.0}], lines=True)
    torch = write(os.path.join(d, "torch.json"), [
        {"bench": "bn2d", "shape": "2x3x4x5", "layout": "nchw", "threads": 1,
         "mode": "eval fwd", "native_ms": 3.0, "bnorm_ms": 1.5, "speedup": 2.0},
        {"bench": "python_layer", "shape": "2x3x4x5", "threads": 1, "overhead": 0.042},
        {"bench": "python_layer", "shape": "2x8x4x4", "threads": 2, "overhead": 2.0,
         "fixed_us": 8.25},
        {"bench": "resnet18_step", "input": "16x3x112x112", "threads": 1, "native_ms": 500.0,
         "bnorm_ms": 340.0, "no_bn_ms": 320.0, "speedup": 500.0 / 340.0,
         "bn_share_native": 0.36, "bn_share_bnorm": 0.05, "native_faults": 10944,
         "bnorm_faults": 0, "no_bn_faults": 3},
        {"bench": "resnet18_step", "input": "16x3x112x112", "threads": 2, "allocator": "steady",
         "native_ms": 330.0, "bnorm_ms": 300.0, "no_bn_ms": 290.0, "speedup": 1.1,
         "bn_share_native": 0.12, "bn_share_bnorm": 0.033, "native_faults": 0.0,
         "bnorm_faults": 0.0, "no_bn_faults": 0.0}])
    out = os.path.join(d, "page.md")
    subprocess.run([sys.executable, SCRIPT, bench, "--out", out, "--fig1", fig1, "--paper",
                    paper, "--e1-isa", "avx2=" + e1_avx2, "--steps", steps, "--torch", torch],
                   check=True)
    page = open(out, encoding="utf-8").read()
    failures = [s for s in (
        # The float32 summary counts the two float32 rows only.
        "| PyTorch (faster kernel set) | 1.75x | 1.50x | 2.00x | 0 of 2 |",
        "--dtype f32,bf16",
        # Medians over the two cold bf16 cases; one of them is under each target.
        "| bnorm float32 (target 1.6x) | 1.60x | 1.20x | 2.00x | 1 of 2 |",
        "| PyTorch bfloat16 (target 1.5x) | 1.85x | 1.20x | 2.50x | 1 of 2 |",
        "| fc_6x5 | nc | backward | 1 | 2.00 | 4.00 | 2.00x | 5.00 | 2.50x | cpu-avx512-bf16 |",
        "| conv_4x3x5x5 | nchw | fwd_train | 2 | 1.00 | 1.20 | 1.20x | 1.20 | 1.20x | cpu-avx2 |",
        "| evaluations where BN is ahead | 93% | >= 90% | yes |",
        "| final accuracy, BN - baseline | +0.70 pp |",
        "lr 0.5, momentum 0, seed 3",
        "| E4 | deep sigmoid | yes | 3 | BN 88% / baseline 11% |",
        "| default dispatch | yes | no | gain +0.41 pp |",
        "Wall time of the run: 6.0 min",
        "| avx2 | no | yes | gain +0.25 pp | `%s` |" % e1_avx2,
        "| mlp | yes | 2 | 1500.0 | 600.0 | 2.50x |",
        "| 2x3x4x5 | nchw | eval fwd | 1 | default | 3.00 | 1.50 | 2.00x |",
        "2x3x4x5, 1 thread(s): +4.2%.",
        "2x8x4x4, 2 thread(s): +200.0% (8.2 us per call).",
        "| resnet18 step 16x3x112x112 | nchw | train step | 1 | default | 500.0 | 340.0 | 1.47x (BN's "
        "share: 36% native, 5% bnorm; page faults per step: 10944 native, 0 bnorm, 3 without "
        "BN) |",
        "| resnet18 step 16x3x112x112 | nchw | train step | 2 | steady | 330.0 | 300.0 | 1.10x (BN's share: 12% native, 3% bnorm; page faults per step: 0 "
        "native, 0 bnorm, 0 without BN) |") if s not in page]
    for absent in ("| 9.00 |", "| conv_4x3x5x5 | nchw | fwd_train | 2 | cold |"):
        if absent in page:  # a hot bf16 row anywhere, or a bf16 row in the float32 table
            failures.append("not %r" % absent)
    f32_only = write(os.path.join(d, "f32.json"), dict(json.load(open(bench)), rows=[
        r for r in json.load(open(bench))["rows"] if r.get("dtype", "f32") == "f32"]))
    subprocess.run([sys.executable, SCRIPT, f32_only, "--out", out], check=True)
    if "Not measured: the run had no cold bf16 rows" not in open(out, encoding="utf-8").read():
        failures.append("a run without bf16 rows says that the bf16 section was not measured")
    bad = write(os.path.join(d, "bad.json"), {"no": "settings"})
    r = subprocess.run([sys.executable, SCRIPT, bench, "--out", out, "--fig1", bad],
                       capture_output=True, text=True)
    if r.returncode != 1 or "error:" not in r.stderr:
        failures.append("a malformed --fig1 file: exit %d, stderr %r" % (r.returncode, r.stderr))
    r = subprocess.run([sys.executable, SCRIPT, bench, "--out", out, "--e1-isa", e1_avx2],
                       capture_output=True, text=True)
    if r.returncode != 1 or "ISA=PATH" not in r.stderr:
        failures.append("--e1-isa without ISA=: exit %d, stderr %r" % (r.returncode, r.stderr))
    for f in failures:
        print("FAIL: expected in the page: %s" % f)
    if failures:
        print(page)
        return 1
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
