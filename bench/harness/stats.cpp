// summarize: median, minimum and interquartile spread of a set of timings.
#include "stats.hpp"

#include <algorithm>
#include <cmath>

#include "bnorm/error.hpp"

namespace bnorm::bench {

double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

TimingSummary summarize(std::vector<double> samples_us) {
  if (samples_us.empty()) throw Error("[bench] expected at least one timing, got none");
  std::sort(samples_us.begin(), samples_us.end());
  const double median = quantile(samples_us, 0.5);
  const double iqr = quantile(samples_us, 0.75) - quantile(samples_us, 0.25);
  return {.reps = static_cast<int>(samples_us.size()),
          .median_us = median,
          .min_us = samples_us.front(),
          .spread_pct = median > 0 ? 100.0 * iqr / median : 0.0};
}

}  // namespace bnorm::bench
