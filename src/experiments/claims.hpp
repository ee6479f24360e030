// The paper's claims as measurable verdicts (experiments E2-E11 of PAPER.md). Each judge takes
// measured curves or accuracies and returns what was measured against the threshold fixed here,
// before any run; thresholds are never tuned after seeing a result.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace bnorm::experiments {

// Differences of accuracies in percentage points, compared with a rule's threshold. Accuracies are
// multiples of 1 / test images, so a difference can be exactly a threshold in exact arithmetic and
// a rounding error past it in floating point (87.98 - 88.48 = -0.5000000000000004 pp): within
// kPpRounding of the threshold counts as on it.
inline constexpr double kPpRounding = 1e-9;
inline bool pp_at_least(double v, double threshold) { return v >= threshold - kPpRounding; }
inline bool pp_at_most(double v, double threshold) { return v <= threshold + kPpRounding; }

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
  bool final_ok() const { return pp_at_least(final_gain_pp, kMinFinalGainPp); }
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
           baseline_x5_fails && pp_at_most(sigmoid_bn_x5_gap_pp, kMaxSigmoidBnGapPp) &&
           pp_at_least(sigmoid_baseline_gap_pp, kMinSigmoidBaselineGapPp);
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
    return pp_at_most(range_bn_pp, kMaxRangeBnPp) &&
           pp_at_least(range_baseline_pp, kMinRangeBaselinePp) &&
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

// E9b, gradient not propagated through the batch statistics (paper, Section 2): the model "blows
// up". Weight growth = |W_end| / |W_start| of the layers before BN.
struct StatsGradientVerdict {
  double growth_true = 0, growth_constant_stats = 0;  // weight growth with / without
  double acc_true = 0, acc_constant_stats = 0;        // final accuracies
  double growth_ratio() const { return growth_true > 0 ? growth_constant_stats / growth_true : 0; }
  double acc_drop_pp() const { return 100.0 * (acc_true - acc_constant_stats); }
  static constexpr double kMinGrowthRatio = 10.0, kMinAccDropPp = 5.0;
  bool reproduced() const {
    return growth_ratio() >= kMinGrowthRatio || pp_at_least(acc_drop_pp(), kMinAccDropPp);
  }
};

// E11, Algorithm 2's population statistics against running averages, same trained network.
struct PopulationVerdict {
  double acc_running = 0, acc_population = 0;
  double delta_pp() const { return 100.0 * (acc_population - acc_running); }
  static constexpr double kMaxAbsDeltaPp = 0.2;
  bool reproduced() const { return pp_at_most(std::abs(delta_pp()), kMaxAbsDeltaPp); }
};

// Writes `bnorm paper`'s summary.json: an array of claims with the keys id, claim, measured,
// threshold, reproduced, seeds, wall_seconds.
void write_claims_summary(const std::string& path, const std::vector<ClaimResult>& claims);

// Least-squares slope of y on x.
double fit_slope(const std::vector<double>& x, const std::vector<double>& y);

// E9a, the paper's Section 2 example: x = u + b centered by its batch mean only. Ignoring E[x]'s
// dependence on b, b moves while the loss does not; with the exact gradient b stays put. Measured
// on the seed-mean curve of mean |b| (over the centering layers' units) of the dependence-ignoring
// run; the exact run's largest |b_end - b_start|; and the largest relative gap between the two
// runs' training-loss curves (same seeds, same batches).
struct MeanOnlyBiasVerdict {
  double bias_at_100 = 0, bias_end = 0;  // mean |b| at step 100 and at the end (ignoring)
  double late_slope = 0;                 // slope of mean |b| on step over the last half (ignoring)
  double full_bias_move = 0;             // max |b_end - b_start| with the exact gradient
  double max_loss_rel_gap = 0;           // max over evaluations of |L_ignore - L_exact| / L_exact
  static constexpr double kMinGrowth = 10.0;        // mean |b|: end / step 100
  static constexpr double kMaxFullBiasMove = 1e-5;  // float rounding; the other run moves b by O(1)
  static constexpr double kMaxLossRelGap = 1e-3;    // float tolerance on a mean training loss
  static constexpr int64_t kEarlyStep = 100;
  double growth() const { return bias_at_100 > 0 ? bias_end / bias_at_100 : 0.0; }
  bool reproduced() const {
    return growth() >= kMinGrowth && late_slope > 0 && full_bias_move <= kMaxFullBiasMove &&
           max_loss_rel_gap <= kMaxLossRelGap;
  }
};
// steps: evaluation steps (must include kEarlyStep); bias_ignoring: mean |b| at each; loss_exact
// and loss_ignoring: the mean training loss at each (NaN where none was taken yet, as at step 0; a
// NaN on one side only is an infinite gap). Throws bnorm::Error on mismatched lengths or without
// an evaluation at kEarlyStep.
MeanOnlyBiasVerdict judge_mean_only_bias(const std::vector<int64_t>& steps,
                                         const std::vector<double>& bias_ignoring,
                                         double full_bias_move,
                                         const std::vector<double>& loss_exact,
                                         const std::vector<double>& loss_ignoring);

// E5b, the exact form of the scale identity: d BN((aW)u) / d(aW) = (1/a) d BN(Wu) / dW while the
// batch variance dominates eps. Slopes of log |dL/dW| on log a, one per seed.
struct GradientScaleVerdict {
  std::vector<double> slopes;  // per seed
  static constexpr double kTargetSlope = -1.0, kTolerance = 0.05;
  bool reproduced() const {
    if (slopes.empty()) return false;
    for (double s : slopes)
      if (!(std::abs(s - kTargetSlope) <= kTolerance)) return false;
    return true;
  }
};
// grad_norms[seed][k]: |dL/dW| at scales[k]. Throws bnorm::Error on a length mismatch, fewer than
// two scales, or a non-positive value.
GradientScaleVerdict judge_gradient_scale(const std::vector<double>& scales,
                                          const std::vector<std::vector<double>>& grad_norms);

// E10, Section 3.4: BN regularizes, so Dropout can be removed. Final accuracies are seed means;
// the Dropout models are given at each rate tried, and each side is judged at its best rate.
struct DropoutVerdict {
  double bn = 0;                // BN without Dropout
  double baseline_dropout = 0;  // baseline with Dropout, best rate
  double bn_dropout = 0;        // BN with Dropout, best rate
  double baseline_dropout_rate = 0, bn_dropout_rate = 0;
  static constexpr double kMaxDropoutGainPp = 0.3;
  double bn_minus_baseline_dropout_pp() const { return 100.0 * (bn - baseline_dropout); }
  double dropout_gain_pp() const { return 100.0 * (bn_dropout - bn); }
  bool reproduced() const {
    return pp_at_least(bn_minus_baseline_dropout_pp(), 0) &&
           pp_at_most(dropout_gain_pp(), kMaxDropoutGainPp);
  }
};
// rates[k]: the Dropout rate of baseline_dropout[k] and bn_dropout[k]. Throws bnorm::Error on
// mismatched lengths or no rate.
DropoutVerdict judge_dropout(double bn, const std::vector<double>& rates,
                             const std::vector<double>& baseline_dropout,
                             const std::vector<double>& bn_dropout);

// E12, Section 3.3's conjecture that BN keeps the singular values of the Jacobian between
// consecutive layers close together. spread = standard deviation of ln(sigma) of that Jacobian,
// averaged over probe examples and layer pairs (docs/paper.md), one value per measurement step.
// Reproduced when BN's spread is at most half the baseline's at every measurement.
struct JacobianSpreadVerdict {
  std::vector<int64_t> steps;
  std::vector<double> ratio;  // per measurement: spread with BN / spread without (inf if <= 0)
  double worst_ratio = 0;     // the largest of them
  static constexpr double kMaxRatio = 0.5;
  bool reproduced() const { return !steps.empty() && worst_ratio <= kMaxRatio; }
};
// Throws bnorm::Error unless the three series have one value per measurement (at least one).
JacobianSpreadVerdict judge_jacobian_spread(const std::vector<int64_t>& steps,
                                            const std::vector<double>& spread_bn,
                                            const std::vector<double>& spread_baseline);

// E8, Santurkar et al. (2018), training: BN with a random per-unit scale and shift after it,
// resampled every step ("noisy BN"), trains as well as BN and far better than no BN. Final accuracy
// = mean of the last kFinalEvals evaluations of a seed-mean curve. Reproduced when noisy BN's final
// accuracy is within 1 pp of BN's, and noisy BN reaches the baseline's final accuracy >= 2x sooner
// (baseline's steps to it / noisy BN's; 0 when noisy BN never does).
struct NoisyBnVerdict {
  double final_baseline = 0, final_bn = 0, final_noisy = 0;
  int64_t baseline_steps = -1, noisy_steps = -1;  // first step at the baseline's final accuracy
  double speedup = 0;
  double gap_pp() const { return 100.0 * std::abs(final_noisy - final_bn); }
  static constexpr int kFinalEvals = 5;
  static constexpr double kMaxGapPp = 1.0, kMinSpeedup = 2.0;
  bool reproduced() const { return gap_pp() <= kMaxGapPp && speedup >= kMinSpeedup; }
};
// Throws bnorm::Error on a curve with no evaluation.
NoisyBnVerdict judge_noisy_bn(const Curve& baseline, const Curve& bn, const Curve& noisy);

// E8, the loss landscape along the gradient, each quantity averaged over the measurements of a run
// and then over seeds: the range of the loss over step sizes in [0.05, 0.4] x lr, and the largest
// change of the gradient over them (docs/paper.md). Reproduced when both are at most half the
// baseline's with BN.
struct SmoothnessVerdict {
  double loss_range_bn = 0, loss_range_baseline = 0;
  double grad_change_bn = 0, grad_change_baseline = 0;
  static double ratio(double bn, double baseline) {
    return baseline > 0 ? bn / baseline : INFINITY;
  }
  double loss_range_ratio() const { return ratio(loss_range_bn, loss_range_baseline); }
  double grad_change_ratio() const { return ratio(grad_change_bn, grad_change_baseline); }
  static constexpr double kMaxRatio = 0.5;
  bool reproduced() const {
    return loss_range_ratio() <= kMaxRatio && grad_change_ratio() <= kMaxRatio;
  }
};

// E6, Batch Renormalization (Ioffe 2017) against BN on one network: the seed-mean final test
// accuracy of Batch Renorm minus BN's, in pp, under three batch conditions.
struct RenormVerdict {
  double gain_batch4_pp = 0;  // i.i.d. batches of 4
  double gain_noniid_pp = 0;  // batches of 60 drawn from 2 classes each
  double gain_iid60_pp = 0;   // i.i.d. batches of 60
  static constexpr double kMinGainBatch4Pp = 1.0, kMinGainNonIidPp = 2.0, kMaxIid60GapPp = 0.5;
  bool reproduced() const {
    return pp_at_least(gain_batch4_pp, kMinGainBatch4Pp) &&
           pp_at_least(gain_noniid_pp, kMinGainNonIidPp) &&
           pp_at_most(std::abs(gain_iid60_pp), kMaxIid60GapPp);
  }
};

// E7, Ghost BatchNorm (Hoffer et al. 2017) against plain BN at a large batch (1024), same epochs
// and learning rate: per seed, each arm's final test accuracy (the mean of its last kFinalEvals
// evaluations; 0 for a diverged run). Reproduced when the seed mean of ghost - plain is at least
// kMinGainPp; the paired per-seed differences and their 95% t-interval are reported beside it.
struct GhostVerdict {
  double final_plain = 0, final_ghost = 0;   // means over seeds
  std::vector<double> diff_pp;               // per seed: ghost - plain, in pp
  double gain_pp = 0;                        // their mean
  double ci_low_pp = NAN, ci_high_pp = NAN;  // 95% t-interval of the mean (NaN with one seed)
  static constexpr int kFinalEvals = 5;
  static constexpr double kMinGainPp = 0.3;
  bool reproduced() const { return pp_at_least(gain_pp, kMinGainPp); }
};
// plain[k] and ghost[k]: the final accuracies in [0, 1] of seed k + 1. Throws bnorm::Error on
// mismatched sizes or no seed.
GhostVerdict judge_ghost(const std::vector<double>& plain, const std::vector<double>& ghost);

}  // namespace bnorm::experiments
