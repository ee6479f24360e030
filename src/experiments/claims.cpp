// Verdicts of the paper's claims from measured curves.
#include "experiments/claims.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>

#include "bnorm/error.hpp"
#include "io/atomic_file.hpp"

namespace bnorm::experiments {

double Curve::best() const { return acc.empty() ? 0.0 : *std::max_element(acc.begin(), acc.end()); }

double Curve::final_acc() const { return acc.empty() ? 0.0 : acc.back(); }

int64_t steps_to_reach(const Curve& curve, double target) {
  for (size_t i = 0; i < curve.acc.size(); ++i)
    if (curve.acc[i] >= target) return curve.steps[i];
  return -1;
}

bool trains(const Curve& curve, double chance, double best) {
  return curve.diverged_at < 0 && !curve.acc.empty() &&
         curve.final_acc() >= chance + 0.5 * (best - chance);
}

double fig1_final_accuracy(const Curve& curve) {
  size_t first = curve.acc.size() >= Fig1SeedsVerdict::kFinalEvals
                     ? curve.acc.size() - Fig1SeedsVerdict::kFinalEvals
                     : 0;
  while (first < curve.acc.size() && curve.steps[first] <= 0) ++first;  // step 0 is not training
  if (first == curve.acc.size()) return 0.0;
  double sum = 0;
  for (size_t i = first; i < curve.acc.size(); ++i) sum += curve.acc[i];
  return sum / static_cast<double>(curve.acc.size() - first);
}

double t_quantile_975(int df) {
  if (df < 1) throw Error("[t_quantile_975] expected df >= 1, got " + std::to_string(df));
  static constexpr double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                      2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                      2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                      2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (df <= 30) return kTable[df - 1];
  // Cornish-Fisher expansion around the normal quantile; within 1e-3 of the exact value here.
  const double z = 1.959964, d = df;
  return z + (z * z * z + z) / (4 * d) +
         (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d);
}

bool Fig1SeedsVerdict::levels_ok() const {
  return std::all_of(levels.begin(), levels.end(), [](const Level& l) { return l.met; });
}

namespace {

double speedup(int64_t baseline_steps, int64_t model_steps);  // with E3's helpers below

// Pointwise mean of curves with the same steps, step 0 left out.
Curve trained_mean(const std::vector<Curve>& runs) {
  Curve mean{.name = runs.front().name};
  for (size_t i = 0; i < runs.front().steps.size(); ++i) {
    if (runs.front().steps[i] <= 0) continue;
    double sum = 0;
    for (const Curve& r : runs) sum += r.acc[i];
    mean.steps.push_back(runs.front().steps[i]);
    mean.acc.push_back(sum / static_cast<double>(runs.size()));
  }
  return mean;
}

double mean_of(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

// 95% t-interval of the mean of paired differences; NaN, NaN with fewer than two.
std::pair<double, double> t_interval_95(const std::vector<double>& d) {
  const size_t n = d.size();
  if (n < 2) return {NAN, NAN};
  const double mean = mean_of(d);
  double ss = 0;
  for (double x : d) ss += (x - mean) * (x - mean);
  const double half = t_quantile_975(static_cast<int>(n) - 1) *
                      std::sqrt(ss / static_cast<double>(n - 1)) / std::sqrt(double(n));
  return {mean - half, mean + half};
}

void check_fig1_seeds(const std::vector<Curve>& baseline, const std::vector<Curve>& bn,
                      const std::vector<double>& drift_baseline,
                      const std::vector<double>& drift_bn) {
  const size_t n = baseline.size();
  if (n == 0 || bn.size() != n || drift_baseline.size() != n || drift_bn.size() != n)
    throw Error(
        "[judge_fig1_seeds] expected one curve and one drift per seed for both networks, "
        "got " +
        std::to_string(n) + " baseline and " + std::to_string(bn.size()) + " BN curves, " +
        std::to_string(drift_baseline.size()) + " and " + std::to_string(drift_bn.size()) +
        " drifts");
  for (const std::vector<Curve>* runs : {&baseline, &bn})
    for (const Curve& c : *runs)
      if (c.steps != baseline.front().steps || c.acc.size() != c.steps.size())
        throw Error(
            "[judge_fig1_seeds] expected every curve to have the same evaluation steps, "
            "got " +
            std::to_string(c.steps.size()) + " steps against " +
            std::to_string(baseline.front().steps.size()));
}

}  // namespace

Fig1SeedsVerdict judge_fig1_seeds(const std::vector<Curve>& baseline, const std::vector<Curve>& bn,
                                  const std::vector<double>& drift_baseline,
                                  const std::vector<double>& drift_bn) {
  check_fig1_seeds(baseline, bn, drift_baseline, drift_bn);
  const Curve mean_base = trained_mean(baseline), mean_bn = trained_mean(bn);
  if (mean_base.steps.empty())
    throw Error("[judge_fig1_seeds] expected evaluations after step 0, got none");
  Fig1SeedsVerdict v;
  for (double level : Fig1SeedsVerdict::kLevels) {
    Fig1SeedsVerdict::Level l{.level = level,
                              .baseline_steps = steps_to_reach(mean_base, level),
                              .bn_steps = steps_to_reach(mean_bn, level)};
    l.speedup = speedup(l.baseline_steps, l.bn_steps);
    l.met = l.baseline_steps < 0 || l.speedup >= Fig1SeedsVerdict::kMinSpeedup;
    v.levels.push_back(l);
  }
  size_t at_or_above = 0;
  for (size_t i = 0; i < mean_base.acc.size(); ++i)
    if (mean_bn.acc[i] >= mean_base.acc[i]) ++at_or_above;
  v.frac_evals_bn_at_or_above =
      static_cast<double>(at_or_above) / static_cast<double>(mean_base.acc.size());
  std::vector<double> final_base, final_bn;
  for (size_t k = 0; k < baseline.size(); ++k) {
    final_base.push_back(fig1_final_accuracy(baseline[k]));
    final_bn.push_back(fig1_final_accuracy(bn[k]));
    v.final_diff_pp.push_back(100.0 * (final_bn.back() - final_base.back()));
  }
  v.final_baseline = mean_of(final_base);
  v.final_bn = mean_of(final_bn);
  v.final_gain_pp = mean_of(v.final_diff_pp);
  std::tie(v.ci_low_pp, v.ci_high_pp) = t_interval_95(v.final_diff_pp);
  v.drift_baseline = mean_of(drift_baseline);
  v.drift_bn = mean_of(drift_bn);
  v.drift_ratio = v.drift_baseline > 0 ? v.drift_bn / v.drift_baseline : INFINITY;
  return v;
}

namespace {

size_t argmax_final(const std::vector<Curve>& curves) {
  size_t best = 0;
  for (size_t i = 1; i < curves.size(); ++i)
    if (curves[i].final_acc() > curves[best].final_acc()) best = i;
  return best;
}

double largest_good_lr(const std::vector<double>& lrs, const std::vector<Curve>& curves) {
  const double best = curves[argmax_final(curves)].final_acc();
  double largest = 0;
  for (size_t i = 0; i < lrs.size(); ++i) {
    const bool good = curves[i].diverged_at < 0 &&
                      100.0 * (best - curves[i].final_acc()) <= LrSweepVerdict::kWithinPp;
    if (good) largest = std::max(largest, lrs[i]);
  }
  return largest;
}

double speedup(int64_t baseline_steps, int64_t model_steps) {
  return baseline_steps > 0 && model_steps > 0
             ? static_cast<double>(baseline_steps) / static_cast<double>(model_steps)
             : 0.0;
}

}  // namespace

LrSweepVerdict judge_lr_sweep(const std::vector<double>& lrs, const std::vector<Curve>& baseline,
                              const std::vector<Curve>& bn, double chance) {
  if (lrs.empty() || lrs.size() != baseline.size() || lrs.size() != bn.size()) {
    throw Error("[judge_lr_sweep] expected one baseline and one BN curve per learning rate, got " +
                std::to_string(lrs.size()) + " rates, " + std::to_string(baseline.size()) +
                " and " + std::to_string(bn.size()) + " curves");
  }
  LrSweepVerdict v;
  v.best_lr_baseline = lrs[argmax_final(baseline)];
  v.best_lr_bn = lrs[argmax_final(bn)];
  v.largest_good_lr_baseline = largest_good_lr(lrs, baseline);
  v.largest_good_lr_bn = largest_good_lr(lrs, bn);
  v.good_lr_ratio =
      v.largest_good_lr_baseline > 0 ? v.largest_good_lr_bn / v.largest_good_lr_baseline : 0.0;
  const double target = std::log(LrSweepVerdict::kHighLrFactor * v.best_lr_baseline);
  size_t at = 0;
  for (size_t i = 1; i < lrs.size(); ++i)
    if (std::abs(std::log(lrs[i]) - target) < std::abs(std::log(lrs[at]) - target)) at = i;
  v.lr_at_30x = lrs[at];
  v.bn_trains_at_30x = trains(bn[at], chance, bn[argmax_final(bn)].final_acc());
  return v;
}

Fig3Verdict judge_fig3(const Curve& baseline, const Curve& baseline_x5, const Curve& bn_baseline,
                       const Curve& bn_x5, const Curve& /*bn_x30*/, const Curve& bn_x5_sigmoid,
                       const Curve& sigmoid_baseline) {
  Fig3Verdict v;
  v.baseline_best = baseline.best();
  v.baseline_steps = steps_to_reach(baseline, v.baseline_best);
  v.bn_baseline_steps = steps_to_reach(bn_baseline, v.baseline_best);
  v.bn_x5_steps = steps_to_reach(bn_x5, v.baseline_best);
  v.speedup_bn_baseline = speedup(v.baseline_steps, v.bn_baseline_steps);
  v.speedup_bn_x5 = speedup(v.baseline_steps, v.bn_x5_steps);
  v.baseline_x5_fails =
      baseline_x5.diverged_at >= 0 ||
      100.0 * (v.baseline_best - baseline_x5.best()) >= Fig3Verdict::kBaselineX5GapPp;
  v.sigmoid_bn_x5_gap_pp = 100.0 * (v.baseline_best - bn_x5_sigmoid.best());
  v.sigmoid_baseline_gap_pp = 100.0 * (v.baseline_best - sigmoid_baseline.best());
  return v;
}

double fit_slope(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size() || x.size() < 2) {
    throw Error("[fit_slope] expected two equal-length series of at least 2 points, got " +
                std::to_string(x.size()) + " and " + std::to_string(y.size()));
  }
  const auto n = static_cast<double>(x.size());
  double mx = 0, my = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  return sxy / sxx;
}

InitScaleVerdict judge_init_scale(const std::vector<double>& final_acc_bn,
                                  const std::vector<double>& final_acc_baseline,
                                  const std::vector<double>& scales,
                                  const std::vector<double>& grad_norms) {
  auto range_pp = [](const std::vector<double>& v) {
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return v.empty() ? 0.0 : 100.0 * (*hi - *lo);
  };
  InitScaleVerdict v;
  v.range_bn_pp = range_pp(final_acc_bn);
  v.range_baseline_pp = range_pp(final_acc_baseline);
  std::vector<double> lx, ly;
  for (size_t i = 0; i < scales.size() && i < grad_norms.size(); ++i) {
    lx.push_back(std::log(scales[i]));
    ly.push_back(std::log(grad_norms[i]));
  }
  v.grad_slope = fit_slope(lx, ly);
  return v;
}

JacobianSpreadVerdict judge_jacobian_spread(const std::vector<int64_t>& steps,
                                            const std::vector<double>& spread_bn,
                                            const std::vector<double>& spread_baseline) {
  if (steps.empty() || spread_bn.size() != steps.size() || spread_baseline.size() != steps.size()) {
    throw Error(
        "[judge_jacobian_spread] expected one BN and one baseline spread per measurement, "
        "got " +
        std::to_string(steps.size()) + " steps, " + std::to_string(spread_bn.size()) + " and " +
        std::to_string(spread_baseline.size()) + " spreads");
  }
  JacobianSpreadVerdict v{.steps = steps};
  for (size_t i = 0; i < steps.size(); ++i) {
    // A non-finite spread (NaN) must fail the claim, never pass it: NaN compares false.
    const double r = spread_baseline[i] > 0 && std::isfinite(spread_bn[i])
                         ? spread_bn[i] / spread_baseline[i]
                         : INFINITY;
    v.ratio.push_back(r);
    v.worst_ratio = std::max(v.worst_ratio, r);
  }
  return v;
}

namespace {

double mean_of_last(const Curve& c, int n) {
  const size_t k = std::min(c.acc.size(), static_cast<size_t>(n));
  double sum = 0;
  for (size_t i = c.acc.size() - k; i < c.acc.size(); ++i) sum += c.acc[i];
  return sum / static_cast<double>(k);
}

}  // namespace

NoisyBnVerdict judge_noisy_bn(const Curve& baseline, const Curve& bn, const Curve& noisy) {
  for (const Curve* c : {&baseline, &bn, &noisy}) {
    if (c->acc.empty()) {
      throw Error("[judge_noisy_bn] expected at least one evaluation per curve, got none for '" +
                  c->name + "'");
    }
  }
  NoisyBnVerdict v;
  v.final_baseline = mean_of_last(baseline, NoisyBnVerdict::kFinalEvals);
  v.final_bn = mean_of_last(bn, NoisyBnVerdict::kFinalEvals);
  v.final_noisy = mean_of_last(noisy, NoisyBnVerdict::kFinalEvals);
  // The mean of the last evaluations is reached by one of them; the margin keeps rounding in the
  // mean of equal values from putting it out of reach.
  const double target = v.final_baseline - 1e-12;
  v.baseline_steps = steps_to_reach(baseline, target);
  v.noisy_steps = steps_to_reach(noisy, target);
  v.speedup = speedup(v.baseline_steps, v.noisy_steps);
  return v;
}

void write_claims_summary(const std::string& path, const std::vector<ClaimResult>& claims) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const ClaimResult& c : claims) {
    j.push_back({{"id", c.id},
                 {"claim", c.claim},
                 {"measured", c.measured},
                 {"threshold", c.threshold},
                 {"reproduced", c.reproduced},
                 {"seeds", c.seeds},
                 {"wall_seconds", c.wall_seconds}});
  }
  io::write_file_atomically(path, j.dump(2) + '\n');
}

MeanOnlyBiasVerdict judge_mean_only_bias(const std::vector<int64_t>& steps,
                                         const std::vector<double>& bias_ignoring,
                                         double full_bias_move,
                                         const std::vector<double>& loss_exact,
                                         const std::vector<double>& loss_ignoring) {
  if (bias_ignoring.size() != steps.size() || loss_exact.size() != steps.size() ||
      loss_ignoring.size() != steps.size()) {
    throw Error("[judge_mean_only_bias] expected one bias and two losses per step, got " +
                std::to_string(steps.size()) + " steps, " + std::to_string(bias_ignoring.size()) +
                " biases, " + std::to_string(loss_exact.size()) + " and " +
                std::to_string(loss_ignoring.size()) + " losses");
  }
  const auto early = std::find(steps.begin(), steps.end(), MeanOnlyBiasVerdict::kEarlyStep);
  if (early == steps.end()) {
    throw Error("[judge_mean_only_bias] expected an evaluation at step " +
                std::to_string(MeanOnlyBiasVerdict::kEarlyStep) + ", got none among " +
                std::to_string(steps.size()) + " steps");
  }
  MeanOnlyBiasVerdict v;
  v.bias_at_100 = bias_ignoring[static_cast<size_t>(early - steps.begin())];
  v.bias_end = bias_ignoring.back();
  v.full_bias_move = full_bias_move;
  std::vector<double> late_x, late_y;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (2 * steps[i] < steps.back()) continue;
    late_x.push_back(static_cast<double>(steps[i]));
    late_y.push_back(bias_ignoring[i]);
  }
  v.late_slope = late_x.size() >= 2 ? fit_slope(late_x, late_y) : 0.0;
  for (size_t i = 0; i < steps.size(); ++i) {
    const double a = loss_exact[i], b = loss_ignoring[i];
    if (std::isnan(a) && std::isnan(b)) continue;
    const double gap =
        std::isfinite(a) && std::isfinite(b) && a > 0 ? std::abs(b - a) / a : INFINITY;
    v.max_loss_rel_gap = std::max(v.max_loss_rel_gap, gap);
  }
  return v;
}

GradientScaleVerdict judge_gradient_scale(const std::vector<double>& scales,
                                          const std::vector<std::vector<double>>& grad_norms) {
  if (scales.size() < 2)
    throw Error("[judge_gradient_scale] expected at least 2 scales, got " +
                std::to_string(scales.size()));
  GradientScaleVerdict v;
  std::vector<double> lx;
  for (double a : scales) {
    if (!(a > 0))
      throw Error("[judge_gradient_scale] expected positive scales, got " + std::to_string(a));
    lx.push_back(std::log(a));
  }
  for (const std::vector<double>& norms : grad_norms) {
    if (norms.size() != scales.size())
      throw Error("[judge_gradient_scale] expected one norm per scale (" +
                  std::to_string(scales.size()) + "), got " + std::to_string(norms.size()));
    std::vector<double> ly;
    for (double g : norms) {
      if (!(g > 0))
        throw Error("[judge_gradient_scale] expected positive gradient norms, got " +
                    std::to_string(g));
      ly.push_back(std::log(g));
    }
    v.slopes.push_back(fit_slope(lx, ly));
  }
  return v;
}

DropoutVerdict judge_dropout(double bn, const std::vector<double>& rates,
                             const std::vector<double>& baseline_dropout,
                             const std::vector<double>& bn_dropout) {
  if (rates.empty() || baseline_dropout.size() != rates.size() ||
      bn_dropout.size() != rates.size()) {
    throw Error("[judge_dropout] expected one baseline and one BN accuracy per Dropout rate, got " +
                std::to_string(rates.size()) + " rates, " +
                std::to_string(baseline_dropout.size()) + " and " +
                std::to_string(bn_dropout.size()) + " accuracies");
  }
  DropoutVerdict v{.bn = bn};
  const auto best_base = std::max_element(baseline_dropout.begin(), baseline_dropout.end());
  const auto best_bn = std::max_element(bn_dropout.begin(), bn_dropout.end());
  v.baseline_dropout = *best_base;
  v.baseline_dropout_rate = rates[static_cast<size_t>(best_base - baseline_dropout.begin())];
  v.bn_dropout = *best_bn;
  v.bn_dropout_rate = rates[static_cast<size_t>(best_bn - bn_dropout.begin())];
  return v;
}

GhostVerdict judge_ghost(const std::vector<double>& plain, const std::vector<double>& ghost) {
  if (plain.empty() || plain.size() != ghost.size()) {
    throw Error("[judge_ghost] expected one plain-BN and one ghost-BN accuracy per seed, got " +
                std::to_string(plain.size()) + " and " + std::to_string(ghost.size()));
  }
  GhostVerdict v{.final_plain = mean_of(plain), .final_ghost = mean_of(ghost)};
  for (size_t k = 0; k < plain.size(); ++k) v.diff_pp.push_back(100.0 * (ghost[k] - plain[k]));
  v.gain_pp = mean_of(v.diff_pp);
  std::tie(v.ci_low_pp, v.ci_high_pp) = t_interval_95(v.diff_pp);
  return v;
}

}  // namespace bnorm::experiments
