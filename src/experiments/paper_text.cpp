// Number formatting and the spread over seeds for the paper experiments' text.
#include "experiments/paper_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace bnorm::experiments {

std::string fmt(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

Spread spread_of(const std::vector<double>& v) {
  Spread s;
  if (v.empty()) return s;
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}

std::string format_accuracy(const Spread& s, int n) {
  if (n <= 1) return fmt("%.2f%%", 100 * s.mean);
  return fmt("%.2f%%", 100 * s.mean) + fmt(" +- %.2f", 100 * s.sd) + " (n=" + std::to_string(n) +
         ")";
}

std::string gap_text(double reference_minus_model_pp) {
  return fmt("%.2f", std::abs(reference_minus_model_pp)) +
         (reference_minus_model_pp < 0 ? " pp above" : " pp below");
}

}  // namespace bnorm::experiments
