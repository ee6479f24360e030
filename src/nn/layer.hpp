// The Layer interface of the training engine: a forward/backward pair on 2-D [N, features]
// tensors, plus views of the layer's parameters, their gradients and its non-trained state
// (BatchNorm running statistics). Sequential chains layers; the optimizer sees parameters().
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nn/tensor.hpp"

namespace bnorm::nn {

// kTrain: batch statistics for BatchNorm (running statistics updated), dropout active.
// kEval: BatchNorm normalizes with its running statistics, dropout is the identity.
enum class Phase { kTrain, kEval };

// A trained tensor and its gradient, same size. The gradient is accumulated into by backward().
struct Parameter {
  std::string name;  // "weight", "bias", "gamma", "beta"
  std::span<float> value;
  std::span<float> grad;
  // When not empty: grad's unrounded sum in double (grad is its rounding), for layers whose
  // gradient sums over the batch's rows. The data-parallel all-reduce sums these, so K ranks round
  // the gradient once, as one process does. Zeroed with grad.
  std::span<double> grad_sum = {};
};

// Sets p's gradient (and its unrounded sum) to zero.
inline void zero_grad(Parameter& p) {
  std::fill(p.grad.begin(), p.grad.end(), 0.0f);
  std::fill(p.grad_sum.begin(), p.grad_sum.end(), 0.0);
}

// State that is saved in checkpoints but not trained ("running_mean", "running_var").
struct Buffer {
  std::string name;
  std::span<float> value;
};

// Integer state saved in checkpoints ("num_batches_tracked", a trainer's step count), read and
// written through its owner's accessors.
struct Counter {
  std::string name;
  std::function<int64_t()> get;
  std::function<void(int64_t)> set;
};

class Layer {
 public:
  virtual ~Layer() = default;

  virtual std::string_view kind() const = 0;  // "linear", "sigmoid", ...
  // Output features for an input with `in_features` per row; throws bnorm::Error when the layer
  // cannot take that input.
  virtual int64_t out_features(int64_t in_features) const = 0;

  // out [N, out_features] = layer(in [N, in_features]). out is resized by the caller.
  virtual void forward(const Tensor& in, Tensor& out, Phase phase) = 0;

  // Backward of the last forward(): in and out are that call's tensors, dout [N, out_features] the
  // gradient of the loss w.r.t. out. din [N, in_features] is overwritten; nullptr skips it (the
  // first layer). Parameter gradients are accumulated into (+=), like PyTorch's .grad.
  virtual void backward(const Tensor& in, const Tensor& out, const Tensor& dout, Tensor* din) = 0;

  virtual std::vector<Parameter> parameters() { return {}; }
  virtual std::vector<Buffer> buffers() { return {}; }
  virtual std::vector<Counter> counters() { return {}; }
  void zero_grad() {
    for (Parameter& p : parameters()) nn::zero_grad(p);
  }
};

}  // namespace bnorm::nn
