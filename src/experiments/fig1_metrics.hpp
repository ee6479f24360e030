// What Figure 1 of the paper shows, as numbers: test accuracy over training with and without BN,
// and the drift of one hidden unit's sigmoid input distribution; and the verdict on the four
// criteria of experiment E1 in PAPER.md.
#pragma once

#include <cstdint>
#include <vector>

namespace bnorm::experiments {

struct Percentiles {
  double p15 = 0, p50 = 0, p85 = 0;
};

// 15th, 50th and 85th percentiles with linear interpolation between order statistics (numpy's
// default). values must not be empty.
Percentiles percentiles_15_50_85(std::vector<double> values);

// One evaluation of both networks after `step` training steps.
struct Fig1Point {
  int64_t step = 0;
  double acc_baseline = 0, acc_bn = 0;    // test accuracy in [0, 1]
  double loss_baseline = 0, loss_bn = 0;  // mean training loss since the previous evaluation
  Percentiles input_baseline, input_bn;   // the probed unit's sigmoid input over the probe set
};

// E1's criteria. Evaluations at step 0 (both at chance) are excluded from every measure.
struct Fig1Verdict {
  double frac_evals_bn_ahead = 0;  // fraction of evaluations with acc_bn > acc_baseline
  double baseline_best_acc = 0;
  int64_t baseline_best_step = 0;          // first step at which the baseline reached its best
  int64_t bn_steps_to_baseline_best = -1;  // first step at which BN reached it; -1: never
  double steps_ratio = 0;  // baseline_best_step / bn_steps_to_baseline_best (0 if never)
  double final_acc_bn = 0, final_acc_baseline = 0;
  // Drift of the median: (max - min of p50 over training) / mean of (p85 - p15).
  double drift_bn = 0, drift_baseline = 0;
  double drift_ratio = 0;  // drift_bn / drift_baseline

  // The thresholds of PAPER.md, E1 (fixed before any run).
  static constexpr double kMinFracAhead = 0.90;
  static constexpr double kMinStepsRatio = 2.0;
  static constexpr double kMinFinalGainPp = 0.3;
  static constexpr double kMaxDriftRatio = 0.5;

  bool ahead_ok() const { return frac_evals_bn_ahead >= kMinFracAhead; }
  bool steps_ok() const { return steps_ratio >= kMinStepsRatio; }
  bool final_ok() const { return 100.0 * (final_acc_bn - final_acc_baseline) >= kMinFinalGainPp; }
  bool drift_ok() const { return drift_ratio <= kMaxDriftRatio; }
  bool reproduced() const { return ahead_ok() && steps_ok() && final_ok() && drift_ok(); }
};

// Drift of a percentile track as defined above; needs at least one point.
double median_drift(const std::vector<Percentiles>& track);

// Judges a run. points must hold at least one evaluation after step 0.
Fig1Verdict judge_fig1(const std::vector<Fig1Point>& points);

}  // namespace bnorm::experiments
