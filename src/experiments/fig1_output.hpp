// Writes a Figure 1 run to disk: metrics.csv (every evaluation), summary.json (the E1 measures
// under stable keys) and report.html (Figure 1 (a), (b), (c) redrawn, the verdict and settings).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/fig1_metrics.hpp"

namespace bnorm::experiments {

struct Fig1Settings {
  std::string dataset;
  int64_t train_size = 0, test_size = 0;
  int64_t steps = 0, batch = 0, eval_every = 0;
  double lr = 0, momentum = 0, init_sigma = 0;
  uint64_t seed = 0;
  int threads = 1;
  bool binarize = false;
  int64_t probe_unit = 0, probe_size = 0;
};

void write_fig1_csv(const std::filesystem::path& path, const std::vector<Fig1Point>& points);
void write_fig1_summary(const std::filesystem::path& path, const Fig1Settings& settings,
                        const Fig1Verdict& verdict, double wall_seconds);
void write_fig1_report(const std::filesystem::path& path, const Fig1Settings& settings,
                       const std::vector<Fig1Point>& points, const Fig1Verdict& verdict,
                       double wall_seconds);

}  // namespace bnorm::experiments
