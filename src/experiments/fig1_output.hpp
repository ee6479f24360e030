// Writes a Figure 1 run to disk: metrics.csv (every evaluation), summary.json (the E1 measures
// under stable keys) and report.html (Figure 1 (a), (b), (c) redrawn, the verdict and settings).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/fig1_metrics.hpp"

namespace bnorm::experiments {

struct LrTrial {
  double lr = 0;
  double final_acc_baseline = 0;
  int64_t diverged_at = -1;  // first step with a non-finite training loss; -1: never
  double final_acc_bn = -1;  // BN's final accuracy at this lr; -1: not trained at it
};

struct Fig1Settings {
  std::string dataset;
  int64_t train_size = 0, test_size = 0;
  int64_t steps = 0, batch = 0, eval_every = 0;
  double lr = 0, momentum = 0, init_sigma = 0;
  uint64_t seed = 0;
  int threads = 1;
  bool binarize = false;
  int64_t probe_unit = 0, probe_size = 0;
  // How lr was chosen: the baseline's final test accuracy at each candidate (PAPER.md, E1: the
  // baseline's best of {0.1, 0.3, 1}). A single entry means lr was given, not searched.
  std::vector<LrTrial> lr_sweep;
};

// One run's record: the settings as run, every evaluation, the verdict.
struct Fig1Run {
  Fig1Settings settings;
  std::vector<Fig1Point> points;
  Fig1Verdict verdict;
  int64_t bn_diverged_at = -1;  // first step with a non-finite training loss; -1: never
  double wall_seconds = 0;
};

void write_fig1_csv(const std::filesystem::path& path, const std::vector<Fig1Point>& points);
void write_fig1_summary(const std::filesystem::path& path, const Fig1Run& run);
void write_fig1_report(const std::filesystem::path& path, const Fig1Run& run);

}  // namespace bnorm::experiments
