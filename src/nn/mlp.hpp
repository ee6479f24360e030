// The multilayer perceptron builder: Linear layers with an activation after each hidden one, and
// BatchNorm before the activation (the paper's placement, Linear then without bias), after it, or
// not at all. The output layer is a plain Linear with bias producing logits.
//
// Linear layer i draws its weights from derive_seed(seed, i) whatever the BN placement, so two
// networks built with the same seed start from identical Linear weights with and without BN.
#pragma once

#include <cstdint>
#include <vector>

#include "bnorm/batch_norm.hpp"
#include "nn/batch_norm_module.hpp"
#include "nn/init.hpp"
#include "nn/sequential.hpp"

namespace bnorm::nn {

// The hidden layers' nonlinearity. Named apart from bnorm::Activation (kNone, kRelu), which is
// what BatchNorm itself fuses after its output.
enum class Nonlinearity { kSigmoid, kReLU };
enum class BnPlacement {
  kNone,
  kBefore,  // Linear (no bias) -> BN -> activation: the paper's x = Wu, BN(x), g(BN(x))
  kAfter,   // Linear -> activation -> BN
};

struct MlpOptions {
  std::vector<int64_t> sizes;  // input, hidden..., output: {784, 100, 100, 100, 10}
  Nonlinearity activation = Nonlinearity::kSigmoid;
  BnPlacement bn = BnPlacement::kNone;
  InitOptions init;
  uint64_t seed = 0;
  double dropout = 0.0;  // > 0: Dropout after each hidden layer's activation (and BN, if after)
  double bn_eps = 1e-5;
  double bn_momentum = 0.1;        // PyTorch convention, see BatchNormOptions
  Normalization bn_normalization;  // plain BN, Batch Renorm or Ghost BN in training
  int64_t linear_row_chunk = 0;    // LinearOptions::row_chunk of every Linear layer
};

class Mlp {
 public:
  // Throws bnorm::Error on fewer than two sizes or a non-positive size.
  explicit Mlp(const MlpOptions& options);

  Sequential& net() { return net_; }
  const Sequential& net() const { return net_; }
  const MlpOptions& options() const { return options_; }
  size_t hidden_layers() const { return pre_activation_.size(); }

  // Index (in net()) of hidden layer i's Linear, and of the layer whose output is the input of
  // hidden layer i's activation: the BN layer with BnPlacement::kBefore, else the Linear.
  size_t linear_index(size_t hidden) const { return linear_.at(hidden); }
  size_t pre_activation_index(size_t hidden) const { return pre_activation_.at(hidden); }
  // Hidden layer i's pre-activation [batch, sizes[i + 1]] from the last forward.
  const Tensor& pre_activation(size_t hidden) const {
    return net_.output_of(pre_activation_.at(hidden));
  }

 private:
  MlpOptions options_;
  Sequential net_;
  std::vector<size_t> linear_;          // per hidden layer, then the output layer
  std::vector<size_t> pre_activation_;  // per hidden layer
};

// The short form: build_mlp({784, 100, 100, 100, 10}, Nonlinearity::kSigmoid, BnPlacement::kBefore,
// seed) with the default Gaussian initializer (sigma 0.01) unless init says otherwise.
Mlp build_mlp(std::vector<int64_t> sizes, Nonlinearity activation, BnPlacement bn, uint64_t seed,
              InitOptions init = {});

}  // namespace bnorm::nn
