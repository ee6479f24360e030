// E1's measures computed from the evaluation points of a Figure 1 run.
#include "experiments/fig1_metrics.hpp"

#include <algorithm>
#include <cmath>

#include "bnorm/error.hpp"

namespace bnorm::experiments {
namespace {

double quantile_sorted(const std::vector<double>& v, double q) {
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

Percentiles percentiles_15_50_85(std::vector<double> values) {
  if (values.empty()) throw Error("[percentiles] expected at least one value, got none");
  std::sort(values.begin(), values.end());
  return {quantile_sorted(values, 0.15), quantile_sorted(values, 0.50),
          quantile_sorted(values, 0.85)};
}

double median_drift(const std::vector<Percentiles>& track) {
  if (track.empty()) throw Error("[median_drift] expected at least one point, got none");
  double lo = track[0].p50, hi = track[0].p50, spread = 0;
  for (const Percentiles& p : track) {
    lo = std::min(lo, p.p50);
    hi = std::max(hi, p.p50);
    spread += p.p85 - p.p15;
  }
  spread /= static_cast<double>(track.size());
  return spread > 0 ? (hi - lo) / spread : INFINITY;
}

Fig1Verdict judge_fig1(const std::vector<Fig1Point>& all) {
  std::vector<Fig1Point> points;
  for (const Fig1Point& p : all)
    if (p.step > 0) points.push_back(p);
  if (points.empty()) throw Error("[judge_fig1] expected evaluations after step 0, got none");

  Fig1Verdict v;
  int64_t ahead = 0;
  for (const Fig1Point& p : points) {
    if (p.acc_bn > p.acc_baseline) ++ahead;
    if (p.acc_baseline > v.baseline_best_acc) {
      v.baseline_best_acc = p.acc_baseline;
      v.baseline_best_step = p.step;
    }
  }
  v.frac_evals_bn_ahead = static_cast<double>(ahead) / static_cast<double>(points.size());
  for (const Fig1Point& p : points) {
    if (p.acc_bn >= v.baseline_best_acc) {
      v.bn_steps_to_baseline_best = p.step;
      break;
    }
  }
  v.steps_ratio = v.bn_steps_to_baseline_best > 0
                      ? static_cast<double>(v.baseline_best_step) /
                            static_cast<double>(v.bn_steps_to_baseline_best)
                      : 0.0;
  v.final_acc_bn = points.back().acc_bn;
  v.final_acc_baseline = points.back().acc_baseline;
  std::vector<Percentiles> bn, base;
  for (const Fig1Point& p : points) {
    bn.push_back(p.input_bn);
    base.push_back(p.input_baseline);
  }
  v.drift_bn = median_drift(bn);
  v.drift_baseline = median_drift(base);
  v.drift_ratio = v.drift_baseline > 0 ? v.drift_bn / v.drift_baseline : INFINITY;
  return v;
}

}  // namespace bnorm::experiments
