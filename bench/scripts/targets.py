#!/usr/bin/python3
"""Checks a `bnorm bench --json` file against the kernel targets and prints each one.

    bench/scripts/targets.py build/bench.json

Targets (medians of one run, float32 unless said):
- every case at least 0.95x the fastest same-layout anchor (5% is a tie at the bus), and the
  median over cases >= 1.3x it;
- every case >= 1.5x PyTorch, or >= 90% of the bus bound: bnorm's minimal passes
  (BNORM_PASS_BYTES per element) at the streaming-store STREAM rate (scale_nt) of the same run;
- NCHW training forward >= 4x PyTorch (median over NCHW cases); NCHW backward >= 2x PyTorch
  (median), or each case at >= 90% of the bus bound;
- every cold NHWC case at >= 85% of STREAM scale counting the passes the algorithm needs
  (training forward 12 B/element, inference 8 B, backward 20 B), at 1 and 2 threads;
- the 60x100 layer <= 1.5 us for training forward and backward at one thread, hot;
- when the run has bnorm-<isa> contenders (`bnorm bench --bnorm-isas avx2,avx512`: bnorm's calls
  with that ISA forced, interleaved with the default dispatch in the same run): the default
  dispatch (`bnorm`) no more than 5% slower than the fastest of them on any case, float32 and
  bfloat16 rows alike.

bfloat16 rows (`bnorm bench --dtype f32,bf16`) are checked apart: every cold case >= 1.6x bnorm's
own float32 time for the same case (it moves half the bytes) and >= 1.5x PyTorch's bfloat16.
"""
import json
import statistics
import sys

PASS_BYTES = {"fwd_train": 12.0, "fwd_infer": 8.0, "backward": 20.0}
# Bytes per element bnorm's kernels move when the tensor does not fit in cache: channels-first
# statistics and normalize (or gradient sums and dx) run per channel while it is in cache (for
# channels of at most 2^18 elements, kFuseChannelElems: every conv shape of the benchmark).
BNORM_PASS_BYTES = {
    "nchw": {"fwd_train": 8.0, "fwd_infer": 8.0, "backward": 12.0},
    "nc": PASS_BYTES,
    "nhwc": PASS_BYTES,
}


def ratio(a, b):
    return a / b if a is not None and b is not None and b > 0 else None


# The bfloat16 targets for cold cases: bnorm bf16 against bnorm's own float32 (half the bytes)
# and against PyTorch's bfloat16 (results.py shows them too).
BF16_TARGET_VS_F32 = 1.6
BF16_TARGET_VS_TORCH = 1.5


def bf16_targets(rows):
    """The bfloat16 targets: cold cases >= 1.6x bnorm float32 and >= 1.5x PyTorch bfloat16."""
    rows = [c for c in rows if c.get("dtype") == "bf16" and c.get("bnorm_us") is not None]
    if not rows:
        print("bf16: no rows (run bnorm bench --dtype f32,bf16)")
        return

    def name(c):
        return "%s/%s %s %dt %s" % (c["shape"], c["layout"], c["op"], c["threads"], c["cache"])

    for label, key, target in (("bnorm float32", "bnorm_f32_us", BF16_TARGET_VS_F32),
                               ("PyTorch bf16", "torch_us", BF16_TARGET_VS_TORCH)):
        for cache in ("cold", "hot"):
            rs = [(ratio(c.get(key), c["bnorm_us"]), c) for c in rows if c["cache"] == cache]
            rs = [(r, c) for r, c in rs if r is not None]
            if not rs:
                continue
            under = [(r, c) for r, c in rs if r < target]
            goal = "target %.1fx, %d under" % (target, len(under)) if cache == "cold" else "no target"
            print("bf16 %s vs %s: median %.2fx, min %.2fx over %d cases (%s)" %
                  (cache, label, statistics.median(r for r, _ in rs), min(r for r, _ in rs),
                   len(rs), goal))
            if cache == "cold":
                for r, c in sorted(under, key=lambda t: t[0]):
                    print("  %.2fx %s" % (r, name(c)))


def name(c):
    dtype = c.get("dtype", "f32")
    return "%s/%s %s%s %dt %s" % (c["shape"], c["layout"], c["op"],
                                  "" if dtype == "f32" else " " + dtype, c["threads"], c["cache"])


def float_cases(report):
    """The float32 rows with a bnorm time; rows from files written before the dtype field are
    float32."""
    return [c for c in report["rows"]
            if c.get("bnorm_us") is not None and c.get("dtype", "f32") == "f32"]


class Tally:
    """Counts the targets met, for the last line."""

    def __init__(self):
        self.met, self.total = 0, 0

    def check(self, ok, line):
        self.total += 1
        self.met += bool(ok)
        print("%s %s" % ("MET   " if ok else "MISSED", line))


def anchor_targets(cases, tally):
    vs_best = [(ratio(c.get("best_anchor_us"), c["bnorm_us"]), c) for c in cases]
    vs_best = [(r, c) for r, c in vs_best if r is not None]
    if not vs_best:
        return
    median = statistics.median(r for r, _ in vs_best)
    tally.check(median >= 1.3, "median vs the best anchor %.2fx over %d cases (target 1.3x)" %
                (median, len(vs_best)))
    under = [(r, c) for r, c in vs_best if r < 0.95]
    tally.check(not under, "cases under 0.95x the best anchor: %d (target 0)" % len(under))
    for r, c in sorted(under, key=lambda t: t[0]):
        print("         %.2fx %s (best %s)" % (r, name(c), c.get("best_anchor")))
    for layout in ("nc", "nchw", "nhwc"):
        rs = [r for r, c in vs_best if c["layout"] == layout]
        if rs:
            print("         %s: median %.2fx, worst %.2fx, %d under 0.95x" %
                  (layout, statistics.median(rs), min(rs), sum(r < 0.95 for r in rs)))


def bus_pct(c, bus):
    """bnorm's minimal passes over its time, as % of the streaming-store bus rate."""
    gbs = BNORM_PASS_BYTES[c["layout"]][c["op"]] * c["numel"] / (c["bnorm_us"] * 1e-6) / 1e9
    return 100.0 * gbs / bus[c["threads"]]


def torch_targets(cases, bus, tally):
    rows = [(ratio(c.get("torch_us"), c["bnorm_us"]), bus_pct(c, bus), c) for c in cases]
    rows = [(r, p, c) for r, p, c in rows if r is not None]
    if not rows:
        return
    failing = [(r, p, c) for r, p, c in rows if r < 1.5 and p < 90.0]
    by_bus = sum(1 for r, p, _ in rows if r < 1.5 and p >= 90.0)
    tally.check(not failing, "cases under 1.5x PyTorch and under 90%% of the bus bound: %d of %d "
                "(target 0; %d more pass by the bus bound)" % (len(failing), len(rows), by_bus))
    for r, p, c in sorted(failing, key=lambda t: t[0]):
        print("         %.2fx PyTorch, %3.0f%% of the bus bound: %s" % (r, p, name(c)))
    fwd = [r for r, _, c in rows if c["layout"] == "nchw" and c["op"] == "fwd_train"]
    if fwd:
        tally.check(statistics.median(fwd) >= 4.0,
                    "NCHW training forward vs PyTorch: median %.2fx, min %.2fx (target 4x)" %
                    (statistics.median(fwd), min(fwd)))
    bwd = [(r, p) for r, p, c in rows if c["layout"] == "nchw" and c["op"] == "backward"]
    if bwd:
        median = statistics.median(r for r, _ in bwd)
        at_bus = all(r >= 2.0 or p >= 90.0 for r, p in bwd)
        tally.check(median >= 2.0 or at_bus,
                    "NCHW backward vs PyTorch: median %.2fx, min %.2fx; every case at 2x or 90%% "
                    "of the bus bound: %s (target: either)" %
                    (median, min(r for r, _ in bwd), "yes" if at_bus else "no"))


def stream_targets(cases, stream, tally):
    cold = [c for c in cases if c["layout"] == "nhwc" and c["cache"] == "cold"]
    if not cold:
        return
    pcts = []
    for c in cold:
        gbs = PASS_BYTES[c["op"]] * c["numel"] / (c["bnorm_us"] * 1e-6) / 1e9
        pcts.append((100.0 * gbs / stream[c["threads"]], c))
    under = [(p, c) for p, c in pcts if p < 85.0]
    tally.check(not under, "cold NHWC cases under 85%% of STREAM by the passes needed: %d of %d "
                "(target 0)" % (len(under), len(pcts)))
    for p, c in sorted(pcts, key=lambda t: t[0]):
        print("         %3.0f%% %s (%g B/element)" % (p, name(c), PASS_BYTES[c["op"]]))


def small_layer_targets(cases, tally):
    for c in cases:
        if c["shape"] == "fc_60x100" and c["threads"] == 1 and c["cache"] == "hot" and \
                c["op"] in ("fwd_train", "backward"):
            bn = c["contenders"]["bnorm"]
            tally.check(bn["median_us"] <= 1.5, "60x100 %s 1t hot: median %.2f us, min %.2f us "
                        "(target 1.5)" % (c["op"], bn["median_us"], bn["min_us"]))


def forced_isa_times(c):
    """(median us, contender, kernel) of each bnorm-<isa> contender timed in case c."""
    return [(v["median_us"], n, v.get("kernel") or "?") for n, v in c.get("contenders", {}).items()
            if n.startswith("bnorm-") and v.get("median_us") is not None]


def dispatch_targets(report, tally):
    """The default dispatch against bnorm with each ISA forced, timed in the same run (the
    bnorm-<isa> contenders of `bnorm bench --bnorm-isas`): bnorm's median at most 1.05x the
    fastest of theirs, in every case of every dtype."""
    forced = [c for c in report["contenders"] if c["name"].startswith("bnorm-")]
    if not forced:
        print("dispatch: not checked, the run has no bnorm-<isa> contender "
              "(bnorm bench --bnorm-isas avx2,avx512)")
        return
    for c in forced:
        if not c["available"]:
            print("dispatch: %s missing (%s)" % (c["name"], c["missing"]))
    rows = []
    for c in report["rows"]:
        timed = forced_isa_times(c)
        if c.get("bnorm_us") is not None and timed:
            best = min(timed)
            rows.append((c["bnorm_us"] / best[0], best, c))
    untimed = sorted({"%s (%s)" % (n, v["status"].split(":")[0]) for c in report["rows"]
                      for n, v in c.get("contenders", {}).items()
                      if n.startswith("bnorm-") and v["status"] not in ("ok", "missing", "n/a")})
    if untimed:
        print("dispatch: not timed in some cases: %s" % ", ".join(untimed))
    if not rows:
        print("dispatch: no case has both bnorm and a bnorm-<isa> time")
        return
    # Cases where a forced ISA ran the very kernel bnorm ran: their ratio is the check's noise.
    same = [c["bnorm_us"] / us for c in report["rows"] if c.get("bnorm_us") is not None
            for us, _, kernel in forced_isa_times(c) if kernel == c.get("bnorm_kernel")]
    if same:
        print("dispatch: %d times a forced ISA ran bnorm's own kernel; bnorm / it: median %.2fx, "
              "from %.2fx to %.2fx (the noise of this check)" %
              (len(same), statistics.median(same), min(same), max(same)))
    slow = [(r, best, c) for r, best, c in rows if r > 1.05]
    tally.check(not slow, "default dispatch more than 5%% slower than the best forced ISA (%s): "
                "%d of %d cases (target 0)" % (", ".join(c["name"] for c in forced), len(slow),
                                               len(rows)))
    for r, (_, contender, kernel), c in sorted(slow, key=lambda t: -t[0]):
        print("         %.2fx the time of %s (ran %s): %s (default ran %s)" %
              (r, contender, kernel, name(c), c.get("bnorm_kernel") or "?"))


def main(path):
    report = json.load(open(path))
    bf16_targets(report["rows"])
    cases = float_cases(report)
    stream = {s["threads"]: s["scale_gbs"] for s in report["stream"]}
    # The bus with streaming stores (older JSON files lack it: scale's 24 moved bytes per 16).
    bus = {s["threads"]: s.get("scale_nt_gbs", 1.5 * s["scale_gbs"]) for s in report["stream"]}
    tally = Tally()
    anchor_targets(cases, tally)
    torch_targets(cases, bus, tally)
    stream_targets(cases, stream, tally)
    small_layer_targets(cases, tally)
    dispatch_targets(report, tally)
    print("targets met: %d of %d" % (tally.met, tally.total))


if __name__ == "__main__":
    if "--forced" in sys.argv[1:]:
        sys.exit("targets.py: expected one JSON, got --forced: the forced ISAs are contenders of "
                 "the same run (bnorm bench --bnorm-isas avx2,avx512)")
    if len(sys.argv) != 2:
        sys.exit("usage: bench/scripts/targets.py BENCH.json")
    main(sys.argv[1])
