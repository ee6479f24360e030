// The small conv net of the paper suite (E3), for 28x28 grayscale inputs:
//   conv3x3(16, pad 1) - [BN] - act - maxpool2 - conv3x3(32, pad 1) - [BN] - act - maxpool2 -
//   flatten - FC(hidden) - [BN] - act - [dropout] - FC(classes)
// With BN, each BN sits right before the nonlinearity and the layer before it has no bias (the
// paper's placement, Section 3.2); conv BN normalizes per channel over N*H*W values.
// Weighted layer i draws from derive_seed(seed, i), so one seed gives the same initial weights
// with and without BN.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/conv/image_shape.hpp"
#include "nn/init.hpp"
#include "nn/mlp.hpp"
#include "nn/sequential.hpp"

namespace bnorm::nn {

struct CnnOptions {
  ImageShape input{.c = 1, .h = 28, .w = 28};
  std::vector<int64_t> channels{16, 32};  // one conv-pool stage per entry
  int64_t hidden = 100;                   // units of the hidden FC layer
  int64_t classes = 10;
  Nonlinearity activation = Nonlinearity::kReLU;
  bool batch_norm = false;
  double dropout = 0.0;  // > 0: Dropout after the hidden FC layer's activation
  InitOptions init{.scheme = InitScheme::kHe};
  uint64_t seed = 0;
  double bn_eps = 1e-5;
  double bn_momentum = 0.1;
  bool bn_gradient_through_stats = true;  // false only for the E9 ablation
  Normalization bn_normalization;         // plain BN, Batch Renorm or Ghost BN in training
};

// Throws bnorm::Error on non-positive sizes or an input too small for the conv-pool stages.
Sequential build_cnn(const CnnOptions& options);

}  // namespace bnorm::nn
