// Summaries of repeated timings: the median and how far the middle half spreads around it.
#pragma once

#include <vector>

namespace bnorm::bench {

struct TimingSummary {
  int reps = 0;
  double median_us = 0.0;
  double min_us = 0.0;
  // Interquartile range as a percentage of the median: 10 means the middle half of the calls
  // lay within a 10% wide band.
  double spread_pct = 0.0;
};

// Quantiles by linear interpolation between order statistics. Throws bnorm::Error on no samples.
TimingSummary summarize(std::vector<double> samples_us);
double quantile(const std::vector<double>& sorted, double q);

// Bandwidth in GB/s (1e9 bytes per second) of `bytes` moved in `us` microseconds.
inline double gb_per_s(double bytes, double us) { return bytes / (us * 1e3); }

}  // namespace bnorm::bench
