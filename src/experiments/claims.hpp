// The paper's claims as measurable verdicts (experiments E2-E11 of PAPER.md). Each judge takes
// measured curves or accuracies and returns what was measured against the threshold fixed here,
// before any run; thresholds are never tuned after seeing a result.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace bnorm::experiments {

// One row of `bnorm paper`'s summary.json.
struct ClaimResult {
  std::string id;         // "E2"
  std::string claim;      // what the paper says
  std::string measured;   // the numbers, in words
  std::string threshold;  // what counts as reproduced
  bool reproduced = false;
  int seeds = 1;
  double wall_seconds = 0;
};

// Test accuracy of one model over training. Diverged runs (NaN loss) stop early.
struct Curve {
  std::string name;
  std::vector<int64_t> steps;
  std::vector<double> acc;
  int64_t diverged_at = -1;  // step at which the loss became NaN/Inf; -1: never
  double best() const;       // highest accuracy (0 if none)
  double final_acc() const;  // last accuracy (0 if none)
};

// First step at which the curve reaches `target`; -1 if never.
int64_t steps_to_reach(const Curve& curve, double target);

// A model "trains" at a setting when it did not diverge and its final accuracy is at least halfway
// from chance to `best` (its best accuracy over the sweep).
bool trains(const Curve& curve, double chance, double best);

// E1, Figure 1 over seeds (PAPER.md, rules fixed before any run): the seed-mean test-accuracy
// curves of the baseline and BN (same evaluation steps), the per-seed curves for the final
// accuracies, and each seed's median-input drift (median_drift). Step 0 counts in no measure.
struct Fig1SeedsVerdict {
  struct Level {
    double level = 0;
    int64_t baseline_steps = -1, bn_steps = -1;  // first step the mean curve reaches it; -1: never
    double speedup = 0;                          // baseline_steps / bn_steps (0: BN never)
    bool met = false;  // baseline reaches it: BN >= 2x sooner; only BN: met; neither: not tested
  };
  std::vector<Level> levels;                 // kLevels, in order
  double frac_evals_bn_at_or_above = 0;      // of the mean curves
  double final_bn = 0, final_baseline = 0;   // mean over seeds of each seed's final accuracy
  std::vector<double> final_diff_pp;         // per seed: BN - baseline, in pp
  double final_gain_pp = 0;                  // their mean
  double ci_low_pp = NAN, ci_high_pp = NAN;  // 95% t-interval of the mean (NaN with one seed)
  double drift_bn = 0, drift_baseline = 0;   // means over seeds
  double drift_ratio = 0;                    // drift_bn / drift_baseline

  static constexpr double kLevels[] = {0.90, 0.92, 0.93};
  static constexpr double kMinSpeedup = 2.0, kMinFracAtOrAbove = 0.90, kMinFinalGainPp = 0.3,
                          kMaxDriftRatio = 0.5;
  static constexpr int kFinalEvals = 10;  // "final accuracy": the mean of the last 10 evaluations

  bool levels_ok() const;
  bool ahead_ok() const { return frac_evals_bn_at_or_above >= kMinFracAtOrAbove; }
  bool final_ok() const { return final_gain_pp >= kMinFinalGainPp; }
  bool drift_ok() const { return drift_ratio <= kMaxDriftRatio; }
  bool reproduced() const { return levels_ok() && ahead_ok() && final_ok() && drift_ok(); }
};
// A curve's final accuracy for E1: the mean of its last kFinalEvals evaluations after step 0.
double fig1_final_accuracy(const Curve& curve);
// Two-sided 95% quantile of Student's t with df degrees of freedom (df >= 1).
double t_quantile_975(int df);
// baseline[k] and bn[k] ran with seed k + 1; every curve has the same steps. Throws bnorm::Error
// on mismatched sizes or steps.
Fig1SeedsVerdict judge_fig1_seeds(const std::vector<Curve>& baseline, const std::vector<Curve>& bn,
                                  const std::vector<double>& drift_baseline,
                                  const std::vector<double>& drift_bn);

// E2, learning-rate sweep of one architecture with and without BN: curves[i] ran at lrs[i].
struct LrSweepVerdict {
  double best_lr_baseline = 0, best_lr_bn = 0;                  // argmax of final accuracy
  double largest_good_lr_baseline = 0, largest_good_lr_bn = 0;  // within 2 pp of the best
  double good_lr_ratio = 0;                                     // bn / baseline
  double lr_at_30x = 0;  // the swept lr closest to 30x (log scale)
  bool bn_trains_at_30x = false;
  static constexpr double kWithinPp = 2.0;
  static constexpr double kMinGoodLrRatio = 5.0;
  static constexpr double kHighLrFactor = 30.0;
  bool reproduced() const { return good_lr_ratio >= kMinGoodLrRatio && bn_trains_at_30x; }
};
LrSweepVerdict judge_lr_sweep(const std::vector<double>& lrs, const std::vector<Curve>& baseline,
                              const std::vector<Curve>& bn, double chance);

// E3, the Figure 3 analogue: steps to the baseline's best accuracy.
struct Fig3Verdict {
  double baseline_best = 0;
  int64_t baseline_steps = -1, bn_baseline_steps = -1, bn_x5_steps = -1;
  double speedup_bn_baseline = 0, speedup_bn_x5 = 0;  // baseline_steps / model's steps (0: never)
  bool baseline_x5_fails = false;      // diverged, or best >= 2 pp below the baseline's best
  double sigmoid_bn_x5_gap_pp = 0;     // baseline best - BN-x5-Sigmoid best, in pp
  double sigmoid_baseline_gap_pp = 0;  // baseline best - sigmoid baseline best, in pp
  static constexpr double kMinSpeedupBn = 1.5, kMinSpeedupBnX5 = 3.0, kBaselineX5GapPp = 2.0,
                          kMaxSigmoidBnGapPp = 3.0, kMinSigmoidBaselineGapPp = 20.0;
  bool reproduced() const {
    return speedup_bn_baseline >= kMinSpeedupBn && speedup_bn_x5 >= kMinSpeedupBnX5 &&
           baseline_x5_fails && sigmoid_bn_x5_gap_pp <= kMaxSigmoidBnGapPp &&
           sigmoid_baseline_gap_pp >= kMinSigmoidBaselineGapPp;
  }
};
Fig3Verdict judge_fig3(const Curve& baseline, const Curve& baseline_x5, const Curve& bn_baseline,
                       const Curve& bn_x5, const Curve& bn_x30, const Curve& bn_x5_sigmoid,
                       const Curve& sigmoid_baseline);

// E5, initialization scale: final accuracies over the scales, and gradient norms |dL/dW| of one BN
// layer's weights measured at scale a, which should follow 1/a (log-log slope -1).
struct InitScaleVerdict {
  double range_bn_pp = 0, range_baseline_pp = 0;  // max - min of final accuracy
  double grad_slope = 0;                          // least-squares slope of log|g| on log a
  static constexpr double kMaxRangeBnPp = 1.5, kMinRangeBaselinePp = 10.0, kSlopeTolerance = 0.05;
  bool reproduced() const {
    return range_bn_pp <= kMaxRangeBnPp && range_baseline_pp >= kMinRangeBaselinePp &&
           grad_slope >= -1 - kSlopeTolerance && grad_slope <= -1 + kSlopeTolerance;
  }
};
InitScaleVerdict judge_init_scale(const std::vector<double>& final_acc_bn,
                                  const std::vector<double>& final_acc_baseline,
                                  const std::vector<double>& scales,
                                  const std::vector<double>& grad_norms);

// E4, a deep (10 x 100) sigmoid network with small initial weights.
struct DeepSigmoidVerdict {
  double final_acc_bn = 0, final_acc_baseline = 0;
  static constexpr double kMinBn = 0.80, kMaxBaseline = 0.30;
  bool reproduced() const { return final_acc_bn >= kMinBn && final_acc_baseline <= kMaxBaseline; }
};

// E9, gradient not propagated through the batch statistics (paper, Section 2): the model "blows
// up". Weight growth = |W_end| / |W_start| of the layers before BN.
struct StatsGradientVerdict {
  double growth_true = 0, growth_constant_stats = 0;  // weight growth with / without
  double acc_true = 0, acc_constant_stats = 0;        // final accuracies
  double growth_ratio() const { return growth_true > 0 ? growth_constant_stats / growth_true : 0; }
  double acc_drop_pp() const { return 100.0 * (acc_true - acc_constant_stats); }
  static constexpr double kMinGrowthRatio = 10.0, kMinAccDropPp = 5.0;
  bool reproduced() const {
    return growth_ratio() >= kMinGrowthRatio || acc_drop_pp() >= kMinAccDropPp;
  }
};

// E11, Algorithm 2's population statistics against running averages, same trained network.
struct PopulationVerdict {
  double acc_running = 0, acc_population = 0;
  double delta_pp() const { return 100.0 * (acc_population - acc_running); }
  static constexpr double kMaxAbsDeltaPp = 0.2;
  bool reproduced() const { return std::abs(delta_pp()) <= kMaxAbsDeltaPp; }
};

// Writes `bnorm paper`'s summary.json: an array of claims with the keys id, claim, measured,
// threshold, reproduced, seeds, wall_seconds.
void write_claims_summary(const std::string& path, const std::vector<ClaimResult>& claims);

// Least-squares slope of y on x.
double fit_slope(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace bnorm::experiments
