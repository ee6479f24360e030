// E1 over seeds, after the trainings: each configuration's runs judged by judge_fig1_seeds, and the
// report section (claim rows, CSV of every evaluation of every run, the seed-mean plots, notes).
// paper_e1_seeds.cpp trains; this file only reads what it trained.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "experiments/claims.hpp"
#include "experiments/experiment_result.hpp"
#include "experiments/fig1_run.hpp"

namespace bnorm::experiments {

struct E1Config {
  std::string key;   // "A"
  std::string name;  // "plain SGD"
  double momentum = 0;
};

// A selection run of the baseline at a rate that was not chosen (kept for the CSV).
struct E1SelectionRun {
  double lr = 0;
  int seed = 1;
  Fig1Track track;
};

// One configuration's trainings at its chosen rate, seeds 1..n, and how the rate was chosen.
struct E1ConfigRuns {
  E1Config config;
  std::vector<double> lrs;              // the candidates
  std::vector<double> selection_final;  // per candidate: baseline's mean final accuracy
  double chosen_lr = 0;
  std::vector<Fig1Track> baseline, bn;  // [seed - 1], at chosen_lr
  std::vector<E1SelectionRun> other_baselines;
  Fig1SeedsVerdict verdict;
};

struct E1Setup {
  int64_t steps = 0, batch = 0;
  int seeds = 0, selection_seeds = 0;
  int64_t train_size = 0, test_size = 0;
  std::string dataset;
  double wall_seconds = 0;
};

// A track's test accuracy as a Curve (step 0 included).
Curve track_curve(const Fig1Track& track, const std::string& name);
// judge_fig1_seeds on the runs at the chosen rate; each seed's drift from its evaluations after
// step 0 (median_drift).
Fig1SeedsVerdict judge_e1_config(const E1ConfigRuns& runs);
// The report section: claim "E1" is configuration A (the verdict), "E1-B" the one beside it.
ExperimentResult e1_result(const std::vector<E1ConfigRuns>& configs, const E1Setup& setup);

}  // namespace bnorm::experiments
