// Elementwise nonlinearities. Both backward passes use only the forward output y, so the input
// buffer is free to be anything (BatchNorm's output, for instance).
#pragma once

#include "nn/layer.hpp"

namespace bnorm::nn {

// y = 1 / (1 + exp(-x));  dx = dy * y * (1 - y).
class Sigmoid final : public Layer {
 public:
  std::string_view kind() const override { return "sigmoid"; }
  int64_t out_features(int64_t in_features) const override { return in_features; }
  void forward(const Tensor& in, Tensor& out, Phase phase) override;
  void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) override;
};

// y = max(x, 0);  dx = dy where y > 0, else 0 (the subgradient 0 at x = 0, as PyTorch).
class ReLU final : public Layer {
 public:
  std::string_view kind() const override { return "relu"; }
  int64_t out_features(int64_t in_features) const override { return in_features; }
  void forward(const Tensor& in, Tensor& out, Phase phase) override;
  void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) override;
};

}  // namespace bnorm::nn
