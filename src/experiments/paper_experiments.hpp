// The experiments of `bnorm paper`, one file each (paper_e<id>_*.cpp). Each trains on the given
// datasets (real ones from the command, tiny synthetic ones in tests), judges the claim with the
// thresholds fixed in claims.hpp and returns the rows, CSV, plots and notes of its report section.
// Each throws bnorm::Error on invalid settings (an invalid learning-rate list, say).
#pragma once

#include <string_view>
#include <vector>

#include "data/dataset.hpp"
#include "experiments/experiment_result.hpp"
#include "experiments/paper_settings.hpp"

namespace bnorm::experiments {

// E1: Figure 1 over seeds: plain SGD (the verdict) and momentum 0.9, each at the baseline's best
// rate, seeds 1-5 (paper_e1_seeds.cpp).
ExperimentResult run_e1_seeds(const PaperSettings& s, const data::Dataset& train,
                              const data::Dataset& test);
// E2: learning-rate sweep of the 784-100-100-100-10 MLP, sigmoid and ReLU, with and without BN.
ExperimentResult run_e2_lr_sweep(const PaperSettings& s, const data::Dataset& train,
                                 const data::Dataset& test);
// E3: the Figure 3 analogue on the small CNN (Inception / BN-Baseline / BN-x5 / BN-x30 /
// BN-x5-Sigmoid, plus the baseline at 5x and with sigmoid). Images must be square, one channel.
ExperimentResult run_e3_fig3(const PaperSettings& s, const data::Dataset& train,
                             const data::Dataset& test);
// E4: ten sigmoid layers of 100 units from a small initialization, with and without BN.
ExperimentResult run_e4_deep_sigmoid(const PaperSettings& s, const data::Dataset& train,
                                     const data::Dataset& test);
// E5: initial weight scale x{0.01 ... 1}: final accuracies and |dL/dW| against the scale.
ExperimentResult run_e5_init_scale(const PaperSettings& s, const data::Dataset& train,
                                   const data::Dataset& test);
// E9: BN with the batch statistics treated as constants in the backward pass.
ExperimentResult run_e9_stats_gradient(const PaperSettings& s, const data::Dataset& train,
                                       const data::Dataset& test);
// E11: Algorithm 2's population statistics against the running averages.
ExperimentResult run_e11_population(const PaperSettings& s, const data::Dataset& train,
                                    const data::Dataset& test);

// The ids `bnorm paper` accepts, in suite order, and the dataset each trains on.
std::vector<std::string_view> paper_experiment_ids();  // E1, E2, E3, E4, E5, E9, E11
std::string_view paper_dataset(std::string_view id);   // "mnist" or "fashion"
// Runs the experiment with that id (case-insensitive). Throws bnorm::Error on an unknown id,
// listing the valid ones.
ExperimentResult run_paper_experiment(std::string_view id, const PaperSettings& s,
                                      const data::Dataset& train, const data::Dataset& test);

}  // namespace bnorm::experiments
