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
// E9b (formerly E9, still accepted): BN with the batch statistics treated as constants in the
// backward pass.
ExperimentResult run_e9_stats_gradient(const PaperSettings& s, const data::Dataset& train,
                                       const data::Dataset& test);
// E11: Algorithm 2's population statistics against the running averages.
ExperimentResult run_e11_population(const PaperSettings& s, const data::Dataset& train,
                                    const data::Dataset& test);
// E9a: the paper's Section 2 example, x = u + b centered by its batch mean, b's gradient with and
// without E[x]'s dependence on b. Needs at least 200 steps.
ExperimentResult run_e9a_mean_only_bias(const PaperSettings& s, const data::Dataset& train,
                                        const data::Dataset& test);
// E5b: the slope of log |dL/dW| on log a for a in {0.1 ... 10} (the exact 1/a identity).
ExperimentResult run_e5b_gradient_scale(const PaperSettings& s, const data::Dataset& train,
                                        const data::Dataset& test);
// E10: BN without Dropout against the baseline with Dropout, and Dropout's gain on top of BN.
ExperimentResult run_e10_dropout(const PaperSettings& s, const data::Dataset& train,
                                 const data::Dataset& test);
// E8: noisy BN (Santurkar et al. 2018) against BN and no BN, and the loss landscape along the
// gradient.
ExperimentResult run_e8_noisy_bn(const PaperSettings& s, const data::Dataset& train,
                                 const data::Dataset& test);
// E12: spread of the singular values of the Jacobians between consecutive layers, with/without BN.
ExperimentResult run_e12_jacobian(const PaperSettings& s, const data::Dataset& train,
                                  const data::Dataset& test);
// E6: Batch Renorm vs BN vs none with batches of 4, non-i.i.d. batches of 60 and i.i.d. batches
// of 60; E6-MLP the paper's MLP (MNIST), E6-CNN the small CNN (Fashion-MNIST).
ExperimentResult run_e6_renorm_mlp(const PaperSettings& s, const data::Dataset& train,
                                   const data::Dataset& test);
ExperimentResult run_e6_renorm_cnn(const PaperSettings& s, const data::Dataset& train,
                                   const data::Dataset& test);
// E7: Ghost BN (ghost batches of 32) against plain BN at batch 1024, the same epochs and learning
// rate, on the sigmoid MLP. Needs at least 1024 training images.
ExperimentResult run_e7_ghost(const PaperSettings& s, const data::Dataset& train,
                              const data::Dataset& test);

// The ids `bnorm paper` accepts, in suite order, and the dataset each trains on.
std::vector<std::string_view> paper_experiment_ids();  // E1, E2, E3, ... E12, in suite order
// Older ids still accepted, each run as its new id: E9 (now E9b).
std::vector<std::string_view> paper_experiment_aliases();
std::string_view paper_dataset(std::string_view id);  // "mnist" or "fashion"
// Whether the experiment trains data-parallel when PaperSettings::comm is set (E3, the CNN); the
// others throw bnorm::Error under a communicator of more than one rank.
bool paper_data_parallel(std::string_view id);
// Runs the experiment with that id (case-insensitive). Throws bnorm::Error on an unknown id,
// listing the valid ones.
ExperimentResult run_paper_experiment(std::string_view id, const PaperSettings& s,
                                      const data::Dataset& train, const data::Dataset& test);

}  // namespace bnorm::experiments
