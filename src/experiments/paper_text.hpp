// Numbers as the paper experiments print them in their notes and claim rows: printf-style values,
// accuracies over seeds as mean +- sd, and gaps between two models in percentage points.
#pragma once

#include <string>
#include <vector>

namespace bnorm::experiments {

// A printf-style number: fmt("%.2f", x).
std::string fmt(const char* format, double value);

// Mean, sample standard deviation (0 for one value), min and max.
struct Spread {
  double mean = 0, sd = 0, min = 0, max = 0;
};
Spread spread_of(const std::vector<double>& values);

// "83.10% +- 0.40 (n=3)"; for accuracies in [0, 1], shown in percent.
std::string format_accuracy(const Spread& s, int n);

// How far a model's accuracy is from a reference's, given reference - model in percentage
// points: "2.42 pp below" for 2.42, "2.42 pp above" for -2.42.
std::string gap_text(double reference_minus_model_pp);

}  // namespace bnorm::experiments
