// Algorithm 2 of the paper, step 2, on a trained network: with the weights frozen, run training
// mini-batches through the net, each BN layer normalizing with its batch statistics, and set every
// BN's inference statistics to E[x] = mean of the batch means, Var[x] = m/(m-1) mean of the batch
// variances (bnorm::BatchNorm's begin/end_population_estimate). Afterwards Phase::kEval uses the
// population statistics instead of the running averages.
#pragma once

#include <cstdint>

#include "data/dataset.hpp"
#include "nn/sequential.hpp"

namespace bnorm::experiments {

// Uses `batches` mini-batches of `batch` training images drawn in a seeded order (dropout, if
// any, is off). Handles nn::BatchNormLayer and nn::ChannelBatchNormLayer. Returns the number of BN
// layers updated. Throws bnorm::Error when batches < 1 or batch is out of [2, train.count].
int64_t estimate_population_statistics(nn::Sequential& net, const data::Dataset& train,
                                       int64_t batch, int64_t batches, uint64_t seed);

}  // namespace bnorm::experiments
