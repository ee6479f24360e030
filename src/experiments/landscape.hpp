// E8's loss-landscape measurement (Santurkar et al. 2018): from the current parameters, steps of
// several sizes along the negative gradient of one batch, recording how much the loss and the
// gradient change. Everything the probing touches is restored, so training goes on unchanged.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "nn/sequential.hpp"

namespace bnorm::experiments {

struct LandscapePoint {
  double loss = 0;         // at the current parameters theta
  double grad_norm = 0;    // |g|, g the gradient at theta
  double loss_range = 0;   // max - min over eta of the loss at theta - eta g
  double grad_change = 0;  // max over eta of |g(theta - eta g) - g|
};

// On the batch x [batch, in_features], labels [batch], in the training phase (batch statistics)
// with every NoisyScaleShift layer's current draw held. Afterwards the parameter values and
// gradients, buffers (running statistics), counters and the noise layers' held flags are as they
// were, bit for bit. Throws bnorm::Error on empty etas or mismatched sizes.
LandscapePoint measure_along_gradient(nn::Sequential& net, std::span<const float> x,
                                      std::span<const int32_t> labels,
                                      const std::vector<double>& etas);

}  // namespace bnorm::experiments
